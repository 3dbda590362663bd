"""``byecore doctor`` over real client files, a fake gateway and fake client binaries."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.check.fake_gateway import KEY, Behaviour, build
from tests.fakes import ThreadedServer


@pytest.fixture
def fake_bin(tmp_path, monkeypatch):
    """A PATH holding only fake client executables that print a version."""
    folder = tmp_path / "bin"
    folder.mkdir()

    def install(name: str, version: str) -> None:
        exe = folder / name
        exe.write_text(f"#!/bin/sh\necho '{version}'\n")
        exe.chmod(exe.stat().st_mode | stat.S_IEXEC)

    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}/usr/bin{os.pathsep}/bin")
    return install


def _doctor(cli, *args):
    result = cli("doctor", "--timeout", "3", "--json", *args)
    return result.exit_code, json.loads(result.stdout)["data"]


def _client(data, name):
    return next(r for r in data["clients"] if r["client"] == name)


def test_nothing_saved_and_nothing_installed(cli, fake_bin):
    code, data = _doctor(cli)
    assert code == 1
    assert data["general"][0]["fix"] == "byecore provider add byecore"
    assert all(not r["findings"] for r in data["clients"])


def test_a_healthy_setup_passes_and_shows_versions(cli, fake_bin):
    fake_bin("codex", "codex-cli 0.171.0")
    with ThreadedServer(build(Behaviour())) as gw:
        cli("provider", "add", "gw", "--base-url", gw.url, "--key", KEY, "--protocol",
            "responses", "--model", "gpt-5.4")
        assert cli("setup", "codex", "--yes").exit_code == 0
        code, data = _doctor(cli)
    codex = _client(data, "codex")
    assert codex["version"] == "codex-cli 0.171.0"
    assert codex["base_url"] == f"{gw.url}/v1" and codex["model"] == "gpt-5.4"
    assert codex["findings"] == [] and code == 0, data


def test_model_not_served_installed_without_config_and_hand_edits(cli, fake_bin, tmp_path):
    fake_bin("codex", "codex-cli 0.171.0")
    fake_bin("claude", "2.1.332 (Claude Code)")
    with ThreadedServer(build(Behaviour())) as gw:
        cli("provider", "add", "gw", "--base-url", gw.url, "--key", KEY, "--protocol",
            "responses", "--model", "gpt-9-imaginary")
        assert cli("setup", "codex", "--yes").exit_code == 0
        config = tmp_path / "user-home" / ".codex" / "config.toml"
        config.write_text(config.read_text().replace('model = "gpt-9-imaginary"',
                                                      'model = "gpt-9-other"'))
        code, data = _doctor(cli)
    assert code == 1
    codex = " | ".join(f["problem"] + " => " + f["fix"] for f in _client(data, "codex")
                       ["findings"])
    assert "'gpt-9-other' is not served by gw" in codex
    assert "changed by hand" in codex and "byecore setup codex --force" in codex
    claude = _client(data, "claude")["findings"]
    assert claude and "installed but has no config" in claude[0]["problem"]


def test_client_behind_a_proxy_that_is_not_running(cli, fake_bin):
    cli("provider", "add", "gw", "--base-url", "https://gw.test", "--key", KEY,
        "--protocol", "chat", "--model", "m1")
    # Claude Code speaks only Messages, so setup routes it through the local proxy.
    assert cli("setup", "claude", "--yes").exit_code == 0
    code, data = _doctor(cli, "--offline")
    assert code == 1
    problems = [f["problem"] for f in _client(data, "claude")["findings"]]
    assert any("local proxy, which is not running" in p for p in problems)


def test_human_output(cli, fake_bin):
    result = cli("doctor", "--offline")
    assert result.exit_code == 1
    assert "Codex" in result.stdout and "fix: byecore provider add byecore" in result.stdout


def _findings(data, name):
    return _client(data, name)["findings"]


def test_a_shell_openai_base_url_over_aider_is_reported_with_its_profile_line(
        cli, fake_bin, tmp_path, monkeypatch):
    fake_bin("aider", "aider 0.86.2")
    cli("provider", "add", "gw", "--base-url", "https://gw.test", "--key", KEY,
        "--protocol", "chat", "--model", "m1")
    assert cli("setup", "aider", "--yes").exit_code == 0
    code, data = _doctor(cli, "--offline")
    assert code == 0 and _findings(data, "aider") == [], data  # clean before

    home = tmp_path / "user-home"
    (home / ".bashrc").write_text("# mine\nalias ll='ls -l'\n"
                                  "export OPENAI_BASE_URL=https://api.openai.com/v1\n")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")
    code, data = _doctor(cli, "--offline")
    assert code == 1
    [found] = _findings(data, "aider")
    assert "OPENAI_BASE_URL" in found["problem"]
    assert "now OPENAI_BASE_URL=https://api.openai.com/v1" in found["problem"]
    assert found["fix"] == ("unset OPENAI_BASE_URL, and delete line 3 of ~/.bashrc so new "
                            "shells do not set it again")


def test_a_shell_key_is_shown_masked_and_the_fix_is_unset(cli, fake_bin, monkeypatch):
    fake_bin("claude", "2.1.332 (Claude Code)")
    real = "sk-ant-api03-REALKEY0123456789abcdef"
    monkeypatch.setenv("ANTHROPIC_API_KEY", real)
    result = cli("doctor", "--offline", "--json")
    assert real not in result.stdout
    data = json.loads(result.stdout)["data"]
    [found] = [f for f in _findings(data, "claude") if "ANTHROPIC_API_KEY" in f["problem"]]
    assert "now ANTHROPIC_API_KEY=sk-…cdef" in found["problem"]
    assert found["fix"].startswith("unset ANTHROPIC_API_KEY")
    assert "byecore setup" not in found["fix"]


def test_a_folder_where_the_file_belongs_is_moved_not_set_up(cli, fake_bin, tmp_path):
    folder = tmp_path / "user-home" / ".claude" / "settings.json"
    folder.mkdir(parents=True)
    code, data = _doctor(cli, "--offline")
    [found] = _findings(data, "claude")
    assert code == 1 and "is a folder" in found["problem"]
    assert found["fix"].startswith(f"move the folder away (mv {folder} {folder}.old)")


def test_a_file_that_does_not_parse_is_edited_at_its_line(cli, fake_bin, tmp_path):
    conf = tmp_path / "user-home" / ".aider.conf.yml"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text("dark-mode: true\nmodel: [unclosed\n")
    code, data = _doctor(cli, "--offline")
    [found] = _findings(data, "aider")
    assert code == 1 and str(conf) in found["problem"]
    assert found["fix"].startswith(f"edit {conf} at line ")
    assert not found["fix"].startswith("byecore setup")


def test_shell_variables_of_a_client_not_in_use_are_not_findings(cli, fake_bin, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-REALKEY0123456789abcdef")
    code, data = _doctor(cli, "--offline")
    assert all(not r["findings"] for r in data["clients"]), data


def test_an_openclaw_policy_that_refuses_byecores_model_is_a_finding_setup_cannot_fix(
        cli, fake_bin, tmp_path):
    with ThreadedServer(build(Behaviour())) as gw:
        cli("provider", "add", "gw", "--base-url", gw.url, "--key", KEY, "--protocol",
            "chat", "--model", "gpt-5.4")
        config = tmp_path / "user-home" / ".openclaw" / "openclaw.json"
        config.parent.mkdir(parents=True)
        config.write_text("{agents: {defaults: {modelPolicy: {allow: ['ollama/*']}},\n"
                          "  entries: {ops: {model: 'ollama/qwen3'}}}}\n")
        assert cli("setup", "openclaw", "--yes").exit_code == 0
        code, data = _doctor(cli, "--offline")
    found = _findings(data, "openclaw")
    assert code == 1 and [f["problem"].split(":")[0] for f in found] == [
        "agents.defaults.modelPolicy.allow does not admit byecore/gpt-5.4",
        "agents.entries.ops.model is set"]
    assert found[0]["fix"] == 'add "byecore/*" to that list'
    assert not any(f["fix"].startswith("byecore setup") for f in found)
    config.write_text(config.read_text().replace("'ollama/*'", "'byecore/*'")
                      .replace("model: 'ollama/qwen3'", "tools: {}"))
    code, data = _doctor(cli, "--offline")
    assert _findings(data, "openclaw") == [] and code == 0, data
