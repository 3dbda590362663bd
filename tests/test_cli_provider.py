"""``byecore provider …`` through the real CLI, checking what lands on disk."""

from __future__ import annotations

import json
import stat

import pytest
import tomlkit


def _json(result) -> dict:
    assert result.stdout.strip(), result.stderr
    body = json.loads(result.stdout)
    assert body["schema"] == "byecore.v1"
    return body


def _settings(home):
    return tomlkit.parse((home / "settings.toml").read_text()).unwrap()


def test_key_from_stdin_is_trimmed_stored_private_and_masked(cli, byecore_home):
    result = cli("provider", "add", "byecore", "--key-stdin", input="  sk-abc  \n")
    assert result.exit_code == 0, result.stderr

    settings_file = byecore_home / "settings.toml"
    assert stat.S_IMODE(settings_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(byecore_home.stat().st_mode) == 0o700
    stored = _settings(byecore_home)
    assert stored["providers"]["byecore"]["key"] == "sk-abc"
    assert stored["providers"]["byecore"]["base_url"] == "https://api.byecore.com"
    assert stored["default_provider"] == "byecore"

    listed = _json(cli("provider", "list", "--json"))
    (row,) = listed["data"]["providers"]
    assert row["name"] == "byecore" and row["default"] is True
    assert row["key"] == "sk-…" and row["key_source"] == "stored"
    assert row["protocols"] == ["chat", "responses", "messages"]
    assert row["models"] == ["gpt-5.4", "gpt-5.5", "gpt-5.3-codex"]
    assert "sk-abc" not in cli("provider", "list").stdout


def test_pasted_endpoint_is_stored_as_root(cli, byecore_home):
    result = cli("provider", "add", "acme", "--base-url",
                 "https://api.acme.test/v1/chat/completions", "--key", "k")
    assert result.exit_code == 0, result.stderr
    assert "/v1/chat/completions" not in _settings(byecore_home)["providers"]["acme"]["base_url"]
    assert "removed the endpoint path" in result.stdout

    shown = _json(cli("provider", "show", "acme", "--json"))["data"]
    assert shown["base_url"] == "https://api.acme.test"
    assert shown["openai_base_url"] == "https://api.acme.test/v1"
    assert shown["anthropic_base_url"] == "https://api.acme.test"
    assert shown["protocols"] == ["chat"]


def test_add_json_reports_what_was_normalised(cli):
    body = _json(cli("provider", "add", "gw", "--base-url", "https://gw.test/v1/", "--key",
                     " k-123456789 ", "--protocol", "messages", "--model", "m1", "--json"))
    notes = " ".join(body["data"]["notes"])
    assert "removed '/v1'" in notes and "around the key" in notes
    assert body["data"]["protocols"] == ["messages"] and body["data"]["default_model"] == "m1"


def test_show_key_only_on_request(cli):
    cli("provider", "add", "acme", "--base-url", "https://a.test", "--key-stdin",
        input="sk-0123456789abcdefWXYZ")
    masked = _json(cli("provider", "show", "acme", "--json"))["data"]["key"]
    assert masked == "sk-…WXYZ"
    full = _json(cli("provider", "show", "acme", "--show-key", "--json"))["data"]["key"]
    assert full == "sk-0123456789abcdefWXYZ"


def test_key_env_keeps_the_key_out_of_the_file(cli, byecore_home, monkeypatch):
    monkeypatch.setenv("MY_GW_KEY", "sk-from-env-1234567890")
    assert cli("provider", "add", "gw", "--base-url", "https://gw.test",
               "--key-env", "MY_GW_KEY").exit_code == 0
    text = (byecore_home / "settings.toml").read_text()
    assert "sk-from-env" not in text
    row = _settings(byecore_home)["providers"]["gw"]
    assert row["key_env"] == "MY_GW_KEY" and "key" not in row
    shown = _json(cli("provider", "show", "gw", "--json"))["data"]
    assert shown["key_source"] == "env:MY_GW_KEY" and shown["key"] == "sk-…7890"


def test_preset_env_var_is_used_when_no_key_is_given_off_a_terminal(cli, byecore_home):
    result = cli("provider", "add", "openai")
    assert result.exit_code == 0, result.stderr
    assert _settings(byecore_home)["providers"]["openai"]["key_env"] == "OPENAI_API_KEY"
    assert "$OPENAI_API_KEY" in result.stderr


def test_local_preset_needs_no_key(cli, byecore_home):
    assert cli("provider", "add", "ollama").exit_code == 0
    row = _settings(byecore_home)["providers"]["ollama"]
    assert row["base_url"] == "http://localhost:11434" and "key" not in row


def test_bad_keys_and_conflicting_options_are_usage_errors(cli, byecore_home):
    assert cli("provider", "add", "byecore", "--key-stdin", input="  \n").exit_code == 2
    inner = cli("provider", "add", "byecore", "--key-stdin", input="sk-ab cd")
    assert inner.exit_code == 2 and "inside" in inner.stderr
    both = cli("provider", "add", "byecore", "--key", "a", "--key-env", "B")
    assert both.exit_code == 2
    nourl = cli("provider", "add", "mystery", "--key", "k")
    assert nourl.exit_code == 2 and "--base-url" in nourl.stderr
    badproto = cli("provider", "add", "x", "--base-url", "https://x.test", "--key", "k",
                   "--protocol", "grpc")
    assert badproto.exit_code == 2
    assert not (byecore_home / "settings.toml").exists()


def test_existing_name_needs_replace(cli, byecore_home):
    cli("provider", "add", "acme", "--base-url", "https://a.test", "--key", "k1")
    again = cli("provider", "add", "acme", "--base-url", "https://b.test", "--key", "k2")
    assert again.exit_code == 2 and "--replace" in again.stderr
    assert _settings(byecore_home)["providers"]["acme"]["key"] == "k1"
    replaced = cli("provider", "add", "acme", "--base-url", "https://b.test", "--key", "k2",
                   "--replace")
    assert replaced.exit_code == 0
    assert _settings(byecore_home)["providers"]["acme"]["base_url"] == "https://b.test"


def test_default_and_remove(cli, byecore_home):
    cli("provider", "add", "a", "--base-url", "https://a.test", "--key", "k")
    cli("provider", "add", "b", "--base-url", "https://b.test", "--key", "k")
    assert _settings(byecore_home)["default_provider"] == "a"
    assert cli("provider", "default", "b").exit_code == 0
    assert _settings(byecore_home)["default_provider"] == "b"
    assert cli("provider", "default", "zzz").exit_code == 1

    removed = _json(cli("provider", "remove", "b", "--json"))
    assert removed["data"] == {"removed": "b", "was_default": True, "clients": []}
    stored = _settings(byecore_home)
    assert list(stored["providers"]) == ["a"] and "default_provider" not in stored
    missing = _json(cli("provider", "remove", "b", "--json"))
    assert missing["ok"] is False and missing["error"]["code"] == "not_found"


def test_hand_edits_and_comments_survive_writes(cli, byecore_home):
    cli("provider", "add", "a", "--base-url", "https://a.test", "--key", "k")
    path = byecore_home / "settings.toml"
    text = path.read_text().replace(
        'base_url = "https://a.test"',
        '# my work gateway\nbase_url = "https://a.test"  # keep this',
    )
    path.write_text(text)
    cli("provider", "add", "b", "--base-url", "https://b.test", "--key", "k")
    cli("provider", "default", "b")
    after = path.read_text()
    assert "# my work gateway\nbase_url = \"https://a.test\"  # keep this" in after
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_presets_command_lists_every_row(cli):
    from byecore_cli.providers.presets import PRESETS

    body = _json(cli("provider", "presets", "--json"))
    assert [row["name"] for row in body["data"]["presets"]] == [p.name for p in PRESETS]


def test_empty_list_says_how_to_start(cli):
    result = cli("provider", "list")
    assert result.exit_code == 0 and "byecore provider add" in result.stdout


def test_quirks_from_the_preset_and_the_command_line(cli, byecore_home):
    result = cli("provider", "add", "local", "--preset", "lmstudio",
                 "--quirk", "no_stream_options", "--quirk", "system_first")
    assert result.exit_code == 0, result.stderr
    assert _settings(byecore_home)["providers"]["local"]["quirks"] == [
        "system_first", "no_stream_options"]
    shown = _json(cli("provider", "show", "local", "--json"))["data"]
    assert shown["quirks"] == ["system_first", "no_stream_options"]

    plain = cli("provider", "add", "acme", "--base-url", "https://api.acme.test", "--key", "k")
    assert plain.exit_code == 0, plain.stderr
    assert "quirks" not in _settings(byecore_home)["providers"]["acme"]


def test_unknown_quirk_is_refused_with_the_choices(cli, byecore_home):
    result = cli("provider", "add", "acme", "--base-url", "https://api.acme.test", "--key", "k",
                 "--quirk", "system_last")
    assert result.exit_code == 2
    assert "unknown quirk 'system_last'" in result.stderr
    assert "system_first" in result.stderr
    assert not (byecore_home / "settings.toml").exists()


def test_presets_list_the_quirks(cli):
    data = _json(cli("provider", "presets", "--json"))["data"]
    assert set(data["quirks"]) == {"system_first", "no_stream_options", "max_completion_tokens"}
    lmstudio = next(p for p in data["presets"] if p["name"] == "lmstudio")
    assert lmstudio["quirks"] == ["system_first"]
    assert "system_first" in cli("provider", "presets").stdout


def test_remove_refuses_a_provider_clients_still_use_unless_forced(cli, byecore_home):
    cli("provider", "add", "gw", "--base-url", "https://gw.test", "--protocol", "chat",
        "--model", "m1", "--key", "k-0123456789")
    assert cli("setup", "aider", "--yes").exit_code == 0
    assert cli("setup", "opencode", "--yes").exit_code == 0
    refused = cli("provider", "remove", "gw", "--json")
    assert refused.exit_code == 2
    error = _json(refused)["error"]
    assert error["code"] == "provider_in_use" and error["clients"] == ["aider", "opencode"]
    assert "--force" in error["hint"]
    assert "gw" in _settings(byecore_home)["providers"]
    plain = cli("provider", "remove", "gw")
    assert plain.exit_code == 2 and "aider, opencode are set up with provider 'gw'" in (
        plain.stderr)

    forced = _json(cli("provider", "remove", "gw", "--force", "--json"))
    assert forced["data"]["clients"] == ["aider", "opencode"]
    assert "gw" not in _settings(byecore_home).get("providers", {})


def test_remove_asks_on_a_terminal_and_no_keeps_it(cli, byecore_home):
    import os

    from tests.terminal import run_in_pty

    cli("provider", "add", "gw", "--base-url", "https://gw.test", "--protocol", "chat",
        "--model", "m1", "--key", "k-0123456789")
    assert cli("setup", "aider", "--yes").exit_code == 0
    env = {**os.environ, "BYECORE_HOME": str(byecore_home), "NO_COLOR": "1"}
    code, screen = run_in_pty(["provider", "remove", "gw"], [(b"anyway?", b"n\r")], env)
    assert code == 1 and b"aider is set up with provider 'gw'" in screen
    assert "gw" in _settings(byecore_home)["providers"]
    code, screen = run_in_pty(["provider", "remove", "gw"], [(b"anyway?", b"y\r")], env)
    assert code == 0, screen.decode(errors="replace")
    assert "gw" not in _settings(byecore_home).get("providers", {})


def test_add_key_dash_reads_standard_input(cli, byecore_home):
    result = cli("provider", "add", "byecore", "--key", "-", input="sk-dash-0123456789\n")
    assert result.exit_code == 0, result.output
    assert "sk-dash-0123456789" not in result.output and "shell history" not in result.output
    assert _settings(byecore_home)["providers"]["byecore"]["key"] == "sk-dash-0123456789"


@pytest.mark.parametrize(("base_url", "refusal"), [
    ("https://user:secret@gw.test", b"user name or password"),
    ("ftp://gw.test", b"http"),
])
def test_a_refused_base_url_is_said_before_the_key_prompt(byecore_home, base_url, refusal):
    import os

    from tests.terminal import run_in_pty

    env = {**os.environ, "BYECORE_HOME": str(byecore_home), "NO_COLOR": "1"}
    code, screen = run_in_pty(["provider", "add", "gw", "--base-url", base_url],
                              [(b"API key", b"sk-typed-0123456789\r")], env)
    assert code == 2, screen.decode(errors="replace")
    assert b"API key" not in screen, "the key must not be asked for a provider refused anyway"
    assert refusal in screen.lower()
    assert not (byecore_home / "settings.toml").exists()


def test_an_unknown_preset_is_said_before_the_key_prompt(byecore_home):
    import os

    from tests.terminal import run_in_pty

    env = {**os.environ, "BYECORE_HOME": str(byecore_home), "NO_COLOR": "1"}
    code, screen = run_in_pty(["provider", "add", "gw", "--preset", "nope"],
                              [(b"API key", b"sk-typed-0123456789\r")], env)
    assert code != 0 and b"API key" not in screen
    assert b"no preset named 'nope'" in screen
