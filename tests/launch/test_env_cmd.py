"""``byecore env CLIENT``: lines a shell evaluates, checked by evaluating them in bash.

The lines carry the client's local key (never the provider's), point at the proxy's
address (the running one's, else the ``[proxy] port``) and say whether it runs; a
client with command-line settings gets a function that adds them before the user's
arguments. fish and PowerShell are not installed here: their quoting is checked against
each shell's documented rules.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from byecore_cli.clients import local_keys
from byecore_cli.launch import shells
from byecore_cli.launch.profiles import PROFILES
from byecore_cli.proxy import runtime
from tests.launch.fakes import install, record_of
from tests.launch.harness import add_vendor
from tests.proxy.test_real_clients_proxy import UPSTREAM_KEY

BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed")


@pytest.fixture
def port(cli):
    return add_vendor(cli, "http://127.0.0.1:9", "chat")


def _script(cli, *args: str) -> str:
    result = cli("env", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def _bash(script: str, command: str, env: dict | None = None) -> str:
    run = subprocess.run([BASH, "--norc", "--noprofile", "-c", f'eval "$1"\n{command}',
                          "bash", script], capture_output=True, text=True, timeout=30,
                         env=env or dict(os.environ))
    assert run.returncode == 0, run.stderr
    return run.stdout


@needs_bash
def test_codex_lines_define_a_function_that_adds_its_settings(cli, port, tmp_path):
    script = _script(cli, "codex", "--shell", "bash")
    install(tmp_path / "bin", "codex")
    record = tmp_path / "rec.json"
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "FAKE_RECORD": str(record)}
    _bash(script, 'codex exec "say hi"', env)
    rec = record_of(record)
    assert set(rec["argv"][0:-2:2]) == {"-c"}  # every setting is a -c pair, first
    settings = rec["argv"][1:-2:2]
    assert f'model_providers.byecore.base_url="http://127.0.0.1:{port}/v1"' in settings
    assert 'model_providers.byecore.env_key="BYECORE_CODEX_KEY"' in settings
    assert rec["argv"][-2:] == ["exec", "say hi"]
    assert rec["env"]["BYECORE_CODEX_KEY"] == local_keys.all_keys()["codex"]
    assert "it must be running for these to work: byecore proxy" in script


@needs_bash
def test_claude_lines_unset_a_real_key_and_use_a_private_settings_file(cli, port):
    script = _script(cli, "claude", "--shell", "bash")
    env = {**os.environ, "ANTHROPIC_API_KEY": "sk-ant-real", "CLAUDE_CODE_USE_BEDROCK": "1"}
    out = _bash(script, 'echo "${ANTHROPIC_API_KEY-unset} ${CLAUDE_CODE_USE_BEDROCK-unset} '
                        '$ANTHROPIC_BASE_URL"; declare -f claude', env)
    assert out.startswith(f"unset unset http://127.0.0.1:{port}\n")
    settings_file = out.split("--settings ", 1)[1].split()[0]
    assert os.stat(settings_file).st_mode & 0o777 == 0o600
    layer = json.loads(Path(settings_file).read_text())
    assert layer["env"]["ANTHROPIC_AUTH_TOKEN"] == local_keys.all_keys()["claude"]
    assert layer["env"]["CLAUDE_CODE_USE_BEDROCK"] == "0"


@pytest.mark.parametrize("client", sorted(PROFILES))
def test_no_provider_key_in_any_clients_lines_or_files(cli, port, client):
    for shell in shells.SHELLS:
        result = cli("env", client, "--shell", shell, "--json")
        assert result.exit_code == 0, result.output
        assert UPSTREAM_KEY not in result.stdout
        data = json.loads(result.stdout)["data"]
        files = [Path(path).read_text() for path in data["files"]]
        assert all(UPSTREAM_KEY not in text for text in files)
        key = local_keys.all_keys()[client]
        assert key in data["script"] or any(key in text for text in files)


def test_json_says_where_the_proxy_is_and_whether_it_runs(cli, port):
    data = json.loads(_script(cli, "gemini", "--json"))["data"]
    assert data["proxy"] == f"http://127.0.0.1:{port}" and data["proxy_running"] is False
    assert data["env"]["GEMINI_API_KEY"] == local_keys.all_keys()["gemini"]
    assert data["env"]["GOOGLE_GEMINI_BASE_URL"] == f"http://127.0.0.1:{port}"
    assert any("selectedType" in note for note in data["notes"])
    runtime.announce("127.0.0.1", port + 1)  # a proxy "running" as this very process
    try:
        data = json.loads(_script(cli, "gemini", "--json"))["data"]
    finally:
        runtime.withdraw()
    assert data["proxy"] == f"http://127.0.0.1:{port + 1}" and data["proxy_running"]
    assert f"it runs now (pid {os.getpid()})" in data["script"]


def test_the_shell_comes_from_SHELL(cli, port, monkeypatch):
    monkeypatch.setenv("SHELL", "/usr/bin/fish")
    script = _script(cli, "aider")
    assert "set -gx AIDER_MODEL 'openai/vendor/vendor-model-1'" in script
    assert "byecore env aider --shell fish | source" in script
    monkeypatch.setenv("SHELL", "/bin/zsh")
    assert "export AIDER_MODEL=openai/vendor/vendor-model-1" in _script(cli, "aider")


def test_an_unknown_shell_is_a_usage_error(cli, port):
    result = cli("env", "aider", "--shell", "tcsh")
    assert result.exit_code == 2 and "no export lines for the shell 'tcsh'" in result.output


NASTY = "it's \"quoted\" $HOME `date` \\ back\\slash ; & | *"


@needs_bash
def test_bash_reads_back_exactly_what_was_quoted():
    lines = shells.lines("bash", env={"NASTY": NASTY}, unset=["HOME_NOT"])
    assert _bash("\n".join(lines), 'printf %s "$NASTY"') == NASTY


def test_fish_and_powershell_quoting_follow_their_rules():
    # fish: inside '…' only \\ and \' are escapes; PowerShell: inside '…' '' is one '
    assert shells.quote("fish", NASTY) == (
        "'it\\'s \"quoted\" $HOME `date` \\\\ back\\\\slash ; & | *'")
    assert shells.quote("powershell", NASTY) == (
        "'it''s \"quoted\" $HOME `date` \\ back\\slash ; & | *'")
    assert shells.lines("powershell", env={}, unset=["X"]) == [
        "Remove-Item Env:X -ErrorAction SilentlyContinue"]
    assert shells.lines("fish", env={}, function=("codex", ["-c", "a=b"])) == [
        "function codex; command codex '-c' 'a=b' $argv; end"]
