"""OpenClaw's writer: ~/.openclaw/openclaw.json (JSON5) keeps every other byte."""

from __future__ import annotations

import json

import json5
import pytest

from byecore_cli.clients.base import Unparsable
from byecore_cli.clients.openclaw import OpenClaw
from tests.clients.conftest import place, setup_then_hand_edit
from tests.clients.factory import FIXTURES, KEY, make_target, proxy_target

CONFIG = (FIXTURES / "openclaw.json5").read_bytes()


def plan(target=None, config=CONFIG):
    return OpenClaw().plan(target or make_target(), {"config": config})


def parsed(data: bytes) -> dict:
    return json5.loads(data.decode())  # the reference parser, not byecore's own


def test_byecore_owns_its_provider_and_the_primary_and_keeps_every_other_line():
    out = plan().files["config"].decode()
    data = parsed(out.encode())
    assert data["models"]["providers"]["byecore"] == {
        "baseUrl": "https://api.example.com/v1", "api": "openai-completions",
        "apiKey": KEY,
        "models": [{"id": "gpt-5.4", "name": "gpt-5.4", "contextWindow": 400_000,
                    "maxTokens": 128_000},
                   {"id": "gpt-5.4-mini", "name": "gpt-5.4-mini", "contextWindow": 128_000,
                    "maxTokens": 32_000}]}
    assert data["agents"]["defaults"]["model"] == {
        "primary": "byecore/gpt-5.4", "fallbacks": ["ollama-local/llama3.3:70b"]}
    old = parsed(CONFIG)
    assert data["models"]["providers"]["ollama-local"] == old["models"]["providers"][
        "ollama-local"]
    assert data["tools"] == old["tools"] and data["agents"]["defaults"]["timeoutSeconds"] == 600
    # every original line but the primary is still there, byte for byte
    kept = [line for line in CONFIG.decode().splitlines() if "primary:" not in line]
    assert all(line in out.splitlines() for line in kept)
    assert "byecore: {" in out  # an unquoted name, like its neighbours'


def test_a_stored_key_makes_the_file_secret_and_an_env_key_is_a_reference():
    assert plan().secret == frozenset({"config"})
    p = plan(make_target(key="sk-env-value", key_env="GW_KEY"))
    entry = parsed(p.files["config"])["models"]["providers"]["byecore"]
    assert entry["apiKey"] == "${GW_KEY}" and b"sk-env-value" not in p.files["config"]
    assert p.secret == frozenset() and "$GW_KEY" in p.notes[0]


def test_a_variable_openclaw_cannot_substitute_is_stored_and_a_literal_dollar_escaped():
    p = plan(make_target(key="sk-lower", key_env="gw_key"))  # ${gw_key} is not replaced
    assert parsed(p.files["config"])["models"]["providers"]["byecore"]["apiKey"] == "sk-lower"
    assert p.secret == frozenset({"config"})
    p = plan(make_target(key="sk-${HOME}-x"))
    assert parsed(p.files["config"])["models"]["providers"]["byecore"]["apiKey"] == (
        "sk-$${HOME}-x")


def test_a_keyless_provider_gets_no_api_key():
    p = plan(make_target(key=None), config=None)
    assert "apiKey" not in parsed(p.files["config"])["models"]["providers"]["byecore"]
    assert p.secret == frozenset()


def test_via_the_proxy_the_model_keeps_its_provider_prefix():
    p = plan(proxy_target(key_env="GW_KEY"), config=None)
    data = parsed(p.files["config"])
    assert data["models"]["providers"]["byecore"]["baseUrl"] == "http://127.0.0.1:4000/v1"
    assert data["models"]["providers"]["byecore"]["apiKey"].startswith("bc-local-")
    assert data["agents"]["defaults"]["model"]["primary"] == "byecore/byecore/gpt-5.4"
    assert OpenClaw().read({"config": p.files["config"]}).model == "byecore/gpt-5.4"


def test_a_string_model_stays_a_string():
    p = plan(config=b'{agents: {defaults: {model: "anthropic/claude-opus-4-6"}}}')
    assert parsed(p.files["config"])["agents"]["defaults"]["model"] == "byecore/gpt-5.4"


def test_a_second_plan_is_byte_identical_also_after_openclaw_rewrote_the_file():
    first = plan().files["config"]
    assert plan(config=first).files["config"] == first
    # OpenClaw's own writes: JSON.stringify(config, null, 2), names quoted, a meta stamp
    rewritten = json.dumps({**parsed(first), "meta": {"lastTouchedVersion": "2026.9.6"}},
                           indent=2).encode() + b"\n"
    assert plan(config=rewritten).files["config"] == rewritten
    reading = OpenClaw().read({"config": rewritten})
    assert reading.owned == OpenClaw().read({"config": first}).owned


def test_read_reports_the_setup_and_agents_that_override_it():
    reading = OpenClaw().read({"config": plan().files["config"]})
    assert reading.configured and reading.model == "gpt-5.4" and not reading.problems
    assert reading.base_url == "https://api.example.com/v1"
    mine = OpenClaw().read({"config": CONFIG})
    assert not mine.configured and mine.model == "ollama-local/qwen3-coder:30b"
    pinned = plan(config=b'{agents: {entries: {ops: {model: "openai/gpt-5.4"}}}}')
    assert any("agents.entries.ops.model" in n for n in pinned.notes)
    wrong = plan().files["config"].replace(b'api: "openai-completions",\n        apiKey',
                                           b'api: "openai-responses",\n        apiKey')
    [problem] = OpenClaw().read({"config": wrong}).problems
    assert "'openai-responses'" in problem


@pytest.mark.parametrize("allow,admitted", [
    ('["ollama-local/*"]', False), ('["byecore/*"]', True), ('["byecore/gpt-5.4"]', True),
    ('["fast"]', True), ("[]", True),
])
def test_a_model_policy_that_refuses_byecores_model_is_said(allow, admitted):
    aliases = '{"byecore/gpt-5.4": {alias: "fast"}}'
    config = f"{{agents: {{defaults: {{modelPolicy: {{allow: {allow}}}, models: {aliases}}}}}}}"
    config = config.encode()
    p = plan(config=config)
    said = [n for n in p.notes if "modelPolicy.allow" in n]
    assert bool(said) is (not admitted)
    assert parsed(p.files["config"])["agents"]["defaults"]["modelPolicy"] == parsed(
        config)["agents"]["defaults"]["modelPolicy"]  # the user's list is theirs


@pytest.mark.parametrize("text,where", [
    (b"{\n  models: {\n    mode: merge,\n  },\n}\n", "line 3"),
    (b"{ models: [1, 2] }", '"models" is not an object'),
    (b"{ agents: { defaults: { model: 7 } } }", "agents.defaults.model"),
])
def test_a_file_byecore_cannot_read_is_refused_with_where(text, where):
    with pytest.raises(Unparsable) as err:
        plan(config=text)
    assert where in f"{err.value.problem} line {err.value.line}"


def test_include_beside_byecores_keys_is_said():
    p = plan(config=b'{ models: { $include: "./models.json5" } }')
    assert any("models" in n and "$include" in n for n in p.notes)


def test_openclaw_config_path_state_dir_and_home_move_the_file(tmp_path):
    def path(env):
        return str(OpenClaw().files(env, tmp_path)["config"].path)

    assert path({"OPENCLAW_CONFIG_PATH": "/c/oc.json"}) == "/c/oc.json"
    assert path({"OPENCLAW_STATE_DIR": "/s"}) == "/s/openclaw.json"
    assert path({"OPENCLAW_HOME": "/h"}) == "/h/.openclaw/openclaw.json"
    # ~ in OpenClaw's variables is OPENCLAW_HOME, as OpenClaw expands it
    assert path({"OPENCLAW_HOME": "/h", "OPENCLAW_CONFIG_PATH": "~/a.json"}) == "/h/a.json"
    assert path({}) == f"{tmp_path}/.openclaw/openclaw.json"
    (tmp_path / ".clawdbot").mkdir()  # the old names, read while they are all there is
    assert path({}) == f"{tmp_path}/.clawdbot/openclaw.json"
    (tmp_path / ".clawdbot" / "clawdbot.json").write_text("{}")
    (tmp_path / ".openclaw").mkdir()
    assert path({}) == f"{tmp_path}/.clawdbot/clawdbot.json"
    assert path({"OPENCLAW_STATE_DIR": "/s"}) == "/s/openclaw.json"
    (tmp_path / ".openclaw" / "openclaw.json").write_text("{}")
    assert path({}) == f"{tmp_path}/.openclaw/openclaw.json"


def test_setup_restore_and_hand_edits_through_the_cli(run, gateway, home):
    config = home / ".openclaw" / "openclaw.json"
    place("openclaw.json5", config)
    setup_then_hand_edit(run, home, "openclaw", config, '"byecore/gpt-5.4"',
                         '"ollama-local/qwen3-coder:30b"')
    code, body = run("status")
    [row] = [r for r in body["data"]["clients"] if r["client"] == "openclaw"]
    assert row["hand_edited"] and not row["configured"]
    assert run("setup", "openclaw", "--force")[0] == 0
    assert parsed(config.read_bytes())["agents"]["defaults"]["model"]["primary"] == (
        "byecore/gpt-5.4")
