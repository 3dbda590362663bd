"""A real OpenAI API key in Codex's auth.json stays there, and never reaches the gateway.

Codex's built-in ``openai`` provider (a profile may still use it) reads auth.json, so
byecore must not put the gateway key there; and a provider with
``requires_openai_auth`` would send the user's OpenAI key to the gateway. byecore's
provider gets its own ``experimental_bearer_token`` instead, checked with the real
Codex binary (0.171.0) against a fake gateway on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest

from byecore_cli.clients.codex import Codex
from tests.clients import factory
from tests.clients.conftest import KEY, place, snapshot, toml_loads
from tests.clients.fake_gateway import REPLY, FakeGateway

REAL = "sk-proj-TheUsersRealOpenAIKey0000000000"
AUTH = ('{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "' + REAL + '",\n'
        '  "tokens": null,\n  "last_refresh": null\n}\n')


def _codex() -> str | None:
    extra = os.environ.get("BYECORE_CLIENT_BIN", "")
    return shutil.which("codex", path=os.pathsep.join(
        p for p in (extra, os.environ.get("PATH", "")) if p))


def _put_auth(home) -> bytes:
    auth = home / ".codex" / "auth.json"
    auth.parent.mkdir(parents=True, exist_ok=True)
    auth.write_text(AUTH)
    auth.chmod(0o600)
    return auth.read_bytes()


def test_writer_leaves_an_api_key_auth_json_out_of_its_plan():
    plan = Codex().plan(factory.make_target(), {"config": None, "auth": AUTH.encode()})
    assert "auth" not in plan.files
    table = toml_loads(plan.files["config"].decode())["model_providers"]["byecore"]
    assert table["experimental_bearer_token"] == factory.KEY
    assert "requires_openai_auth" not in table
    assert plan.secret == frozenset({"config"})
    assert any("OpenAI API key" in n and "untouched" in n for n in plan.notes)
    assert not any(REAL in n for n in plan.notes)


def test_setup_keeps_the_real_key_and_restore_still_works(run, gateway, home):
    place("codex-config.toml", home / ".codex" / "config.toml")
    auth = _put_auth(home)
    before = snapshot(home)
    code, body = run("setup", "codex")
    assert code == 0, body
    assert (home / ".codex" / "auth.json").read_bytes() == auth  # byte for byte
    config = (home / ".codex" / "config.toml").read_text()
    assert REAL not in config
    assert toml_loads(config)["model_providers"]["byecore"]["experimental_bearer_token"] == KEY
    assert stat.S_IMODE((home / ".codex" / "config.toml").stat().st_mode) == 0o600
    code, body = run("restore", "codex", "--force")
    assert code == 0, body
    assert snapshot(home) == before


def test_status_warns_when_a_provider_would_send_the_openai_key_to_a_gateway(run, home):
    _put_auth(home)
    (home / ".codex" / "config.toml").write_text(
        'model_provider = "relay"\n\n[model_providers.relay]\nname = "Relay"\n'
        'base_url = "https://relay.example.com/v1"\nrequires_openai_auth = true\n')
    code, body = run("status")
    row = next(r for r in body["data"]["clients"] if r["client"] == "codex")
    assert any("OpenAI API key" in p and "relay.example.com" in p for p in row["problems"])


@pytest.mark.skipif(_codex() is None, reason=(
    "the codex binary is not installed (npm i -g @openai/codex, or set BYECORE_CLIENT_BIN)"))
def test_real_codex_sends_the_gateway_key_and_never_the_openai_key(cli, home):
    auth = _put_auth(home)
    with FakeGateway() as fake:
        assert cli("provider", "add", "local", "--preset", "none", "--base-url", fake.url,
                   "--protocol", "responses", "--model", "gpt-5.4", "--key-stdin",
                   input=KEY).exit_code == 0
        assert cli("setup", "codex").exit_code == 0
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TMPDIR")}
        env.update(HOME=str(home), NO_COLOR="1", NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
        run = subprocess.run([_codex(), "exec", "--skip-git-repo-check", "say PONG"],
                             cwd=home, env=env, capture_output=True, text=True, timeout=120,
                             stdin=subprocess.DEVNULL)
    assert REPLY in run.stdout, run.stderr[-2000:]
    posts = [r for r in fake.requests if r["method"] == "POST"]
    assert posts and {r["authorization"] for r in posts} == {f"Bearer {KEY}"}
    assert (home / ".codex" / "auth.json").read_bytes() == auth


def test_a_broken_auth_json_does_not_block_setup_and_is_left_as_it_is(run, gateway, home):
    auth = home / ".codex" / "auth.json"
    auth.parent.mkdir()
    auth.write_text('{"OPENAI_API_KEY": "sk-proj-half')
    code, body = run("setup", "codex")
    assert code == 0, body  # byecore does not write auth.json, so it need not parse it
    assert auth.read_text() == '{"OPENAI_API_KEY": "sk-proj-half'
    code, body = run("status")
    row = next(r for r in body["data"]["clients"] if r["client"] == "codex")
    assert row["set_up_by_byecore"]
    assert any("auth.json is not valid JSON" in p for p in row["problems"])
