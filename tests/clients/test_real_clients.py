"""The real Codex CLI and Claude Code reach a local gateway using only byecore's config.

Each test runs the client from npm (`npm i -g @openai/codex @anthropic-ai/claude-code`)
in a throwaway HOME against ``fake_gateway.FakeGateway`` on 127.0.0.1. Set
``BYECORE_CLIENT_BIN`` to a folder holding the binaries if they are not on PATH.
Verified with Codex CLI 0.171.0 and Claude Code 2.1.332.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.clients.conftest import KEY, place
from tests.clients.fake_gateway import REPLY, FakeGateway


def _binary(name: str) -> str | None:
    extra = os.environ.get("BYECORE_CLIENT_BIN", "")
    return shutil.which(name, path=os.pathsep.join(p for p in (extra, os.environ.get(
        "PATH", "")) if p))


def _needs(name: str):
    return pytest.mark.skipif(_binary(name) is None, reason=(
        f"the {name} binary is not installed (npm i -g …, or set BYECORE_CLIENT_BIN)"))


def _client_env(home: Path) -> dict[str, str]:
    keep = ("PATH", "LANG", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(home), NO_COLOR="1", DISABLE_AUTOUPDATER="1",
               CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_TELEMETRY="1",
               NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    return env


def _add_gateway(cli, url: str) -> None:
    result = cli("provider", "add", "local", "--preset", "none", "--base-url", url,
                 "--protocol", "responses", "--protocol", "messages", "--model",
                 "gpt-5.4", "--key-stdin", input=KEY)
    assert result.exit_code == 0, result.output


@_needs("codex")
def test_codex_exec_reaches_the_gateway_and_keeps_the_chatgpt_login_home(cli, home):
    place("codex-auth-chatgpt.json", home / ".codex" / "auth.json", 0o600)
    place("codex-config.toml", home / ".codex" / "config.toml")
    with FakeGateway() as gateway:
        _add_gateway(cli, gateway.url)
        assert cli("setup", "codex").exit_code == 0
        work = home / "work"
        work.mkdir()
        run = subprocess.run(
            [_binary("codex"), "exec", "--skip-git-repo-check", "say PONG"],
            cwd=work, env=_client_env(home), capture_output=True, text=True, timeout=120,
            stdin=subprocess.DEVNULL)
    assert REPLY in run.stdout, run.stderr[-2000:]
    posts = [r for r in gateway.requests if r["method"] == "POST"]
    assert posts and all(r["path"] == "/v1/responses" for r in posts)
    assert {r["authorization"] for r in posts} == {f"Bearer {KEY}"}  # never the login
    assert posts[0]["model"] == "gpt-5.4"


@_needs("codex")
def test_codex_exec_on_a_fresh_home_sends_the_key_byecore_put_in_config_toml(cli, home):
    """No Codex files beforehand, no login: byecore's provider carries its own token
    (experimental_bearer_token in config.toml), so Codex needs no auth.json to send
    the gateway's key, and byecore writes none."""
    with FakeGateway() as gateway:
        _add_gateway(cli, gateway.url)
        assert cli("setup", "codex").exit_code == 0
        assert not (home / ".codex" / "auth.json").exists()
        run = subprocess.run(
            [_binary("codex"), "exec", "--skip-git-repo-check", "say PONG"],
            cwd=home, env=_client_env(home), capture_output=True, text=True, timeout=120,
            stdin=subprocess.DEVNULL)
    assert REPLY in run.stdout, run.stderr[-2000:]
    posts = [r for r in gateway.requests if r["method"] == "POST"]
    assert posts and {r["authorization"] for r in posts} == {f"Bearer {KEY}"}


@_needs("claude")
def test_claude_print_reaches_the_gateway(cli, home):
    place("claude-settings.json", home / ".claude" / "settings.json")
    with FakeGateway() as gateway:
        _add_gateway(cli, gateway.url)
        assert cli("setup", "claude").exit_code == 0
        run = subprocess.run(
            [_binary("claude"), "-p", "say PONG"], cwd=home, env=_client_env(home),
            capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert REPLY in run.stdout, (run.stdout[-1000:], run.stderr[-2000:])
    posts = [r for r in gateway.requests if r["method"] == "POST"]
    assert posts and all(r["path"].startswith("/v1/messages") for r in posts)
    assert {r["authorization"] for r in posts} == {f"Bearer {KEY}"}
    assert posts[-1]["model"] == "gpt-5.4"
