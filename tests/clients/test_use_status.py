"""byecore use re-points every client byecore set up; status reads them back."""

from __future__ import annotations

import json

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
