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
