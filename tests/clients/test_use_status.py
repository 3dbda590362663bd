"""byecore use re-points every client byecore set up; status reads them back."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.clients.conftest import place, toml_loads


def test_use_repoints_all_configured_clients(run, cli, gateway, home):
    place("codex-config.toml", home / ".codex" / "config.toml")
    place("codex-auth-chatgpt.json", home / ".codex" / "auth.json", 0o600)
    place("claude-settings.json", home / ".claude" / "settings.json")
    assert run("setup", "codex")[0] == 0
    assert run("setup", "claude")[0] == 0
    assert cli("provider", "add", "other", "--preset", "none", "--base-url",
               "https://other.example.com/v1", "--protocol", "responses", "--protocol",
               "messages", "--model", "o-model", "--key-stdin",
               input="sk-other-0000000000000").exit_code == 0

    code, body = run("use", "other")
    assert code == 0, body
    assert [(r["client"], r["result"]) for r in body["data"]["clients"]] == [
        ("codex", "updated"), ("claude", "updated")]
    config = toml_loads((home / ".codex" / "config.toml").read_text())
    assert config["model_providers"]["byecore"]["base_url"] == "https://other.example.com/v1"
    assert config["model"] == "o-model" and config["model_provider"] == "byecore"
    env = json.loads((home / ".claude" / "settings.json").read_text())["env"]
    assert env["ANTHROPIC_BASE_URL"] == "https://other.example.com"
    assert env["ANTHROPIC_MODEL"] == "o-model"

    code, body = run("status")
    rows = {r["client"]: r for r in body["data"]["clients"]}
    assert rows["codex"]["provider"] == "other" and rows["claude"]["provider"] == "other"
    assert rows["codex"]["base_url"] == "https://other.example.com/v1"
    assert rows["claude"]["model"] == "o-model"
    assert rows["codex"]["hand_edited"] == [] and rows["codex"]["problems"] == []
    assert "sk-other" not in json.dumps(body)

    code, body = run("use", "other")
    assert [r["result"] for r in body["data"]["clients"]] == ["up to date", "up to date"]


def test_use_with_nothing_set_up_says_how_to_start(run, gateway):
    code, body = run("use", "gw")
    assert code == 1 and "setup" in body["error"]["hint"]


def test_use_reports_a_hand_edited_client_and_updates_the_rest(run, cli, gateway, home):
    assert run("setup", "codex")[0] == 0
    assert run("setup", "claude")[0] == 0
    settings = home / ".claude" / "settings.json"
    settings.write_text(settings.read_text().replace('"gpt-5.4"', '"mine"', 1))
    code, body = run("use", "gw", "--model", "claude-haiku-5-5")
    assert code == 1
    rows = {r["client"]: r for r in body["data"]["clients"]}
    assert rows["codex"]["result"] == "updated"
    assert rows["claude"]["result"] == "error"
    assert rows["claude"]["error"]["code"] == "hand_edited"


def test_unknown_client_is_a_usage_error(run):
    code, body = run("setup", "notepad")
    assert code == 2 and "codex" in body["error"]["hint"]


def test_status_without_anything(run):
    code, body = run("status")
    assert code == 0
    assert {r["client"] for r in body["data"]["clients"]} >= {"codex", "claude"}
    assert all(not r["set_up_by_byecore"] for r in body["data"]["clients"])


# ---- --via-proxy: the port of the proxy that runs -----------------------------------------


def _proxy_runtime(byecore_home, pid: int, port: int = 4123) -> None:
    """What ``byecore proxy`` leaves in its home while it serves."""
    byecore_home.mkdir(parents=True, exist_ok=True)
    (byecore_home / "proxy.json").write_text(json.dumps(
        {"host": "127.0.0.1", "port": port, "pid": pid, "url": f"http://127.0.0.1:{port}"}))


def _codex_base_url(home) -> str:
    config = toml_loads((home / ".codex" / "config.toml").read_text())
    return config["model_providers"]["byecore"]["base_url"]


def test_via_proxy_uses_the_running_proxys_port_and_says_so(run, gateway, home, byecore_home):
    proxy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        _proxy_runtime(byecore_home, proxy.pid)
        code, body = run("setup", "codex", "--via-proxy")
        assert code == 0, body
        assert _codex_base_url(home) == "http://127.0.0.1:4123/v1"
        assert any("running" in n and "4123" in n for n in body["data"]["notes"])
    finally:
        proxy.kill()
        proxy.wait()


def test_via_proxy_without_a_running_proxy_uses_the_setting(run, gateway, home, byecore_home):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # its pid is free now: a proxy that died without removing its file
    _proxy_runtime(byecore_home, gone.pid)
    code, body = run("setup", "codex", "--via-proxy")
    assert code == 0, body
    assert _codex_base_url(home) == "http://127.0.0.1:4000/v1"
    assert any("no byecore proxy is running" in n and "4000" in n
               for n in body["data"]["notes"])
