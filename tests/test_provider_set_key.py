"""``byecore provider set-key``: only the key changes, it is never echoed, the file stays 0600."""

from __future__ import annotations

import json
import os
import stat

import tomlkit

from tests.terminal import run_in_pty

OLD = "sk-old-0123456789abcdefOLD"
NEW = "sk-new-0123456789abcdefNEW"


def _stored(home) -> dict:
    return tomlkit.parse((home / "settings.toml").read_text()).unwrap()["providers"]["gw"]


def _add(cli, home):
    assert cli("provider", "add", "gw", "--base-url", "https://gw.test", "--protocol", "chat",
               "--model", "m1", "--quirk", "no_stream_options", "--key-stdin",
               input=OLD).exit_code == 0
    path = home / "settings.toml"
    path.write_text(path.read_text().replace("[providers.gw]", "# my gateway\n[providers.gw]"))
    return _stored(home)


def test_key_dash_reads_stdin_and_changes_nothing_else(cli, byecore_home):
    before = _add(cli, byecore_home)
    result = cli("provider", "set-key", "gw", "--key", "-", "--json", input=f"  {NEW}\n")
    assert result.exit_code == 0, result.output
    assert NEW not in result.output and OLD not in result.output
    body = json.loads(result.stdout)
    assert body["command"] == "provider set-key" and body["data"]["key"] == "sk-…fNEW"
    assert "key: removed spaces or line breaks around the key" in body["data"]["notes"]
    after = _stored(byecore_home)
    assert after == {**before, "key": NEW}
    settings = byecore_home / "settings.toml"
    assert "# my gateway" in settings.read_text()
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600


def test_key_stdin_and_human_output_mask_it(cli, byecore_home):
    _add(cli, byecore_home)
    result = cli("provider", "set-key", "gw", "--key-stdin", input=NEW)
    assert result.exit_code == 0 and NEW not in result.output
    assert "new key for provider gw: sk-…fNEW" in result.stdout
    assert _stored(byecore_home)["key"] == NEW


def test_key_env_moves_the_key_out_of_the_file(cli, byecore_home, monkeypatch):
    _add(cli, byecore_home)
    monkeypatch.setenv("GW_KEY", NEW)
    body = json.loads(cli("provider", "set-key", "gw", "--key-env", "GW_KEY", "--json").stdout)
    assert body["ok"] and body["data"]["key_source"] == "env:GW_KEY"
    stored = _stored(byecore_home)
    assert "key" not in stored and stored["key_env"] == "GW_KEY"
    assert OLD not in (byecore_home / "settings.toml").read_text()


def test_refusals_leave_the_settings_as_they_were(cli, byecore_home):
    before = _add(cli, byecore_home)
    spaced = cli("provider", "set-key", "gw", "--key", "-", "--json", input="sk-a b-c")
    assert spaced.exit_code == 2 and "sk-a b-c" not in spaced.output
    both = json.loads(cli("provider", "set-key", "gw", "--key", "-", "--key-env", "X",
                          "--json", input=NEW).stdout)
    assert both["error"]["code"] == "usage"
    missing = json.loads(cli("provider", "set-key", "nope", "--key", "-", "--json",
                             input=NEW).stdout)
    assert missing["error"]["code"] == "not_found"
    bad_name = json.loads(cli("provider", "set-key", "gw", "--key-env", "not a name",
                              "--json").stdout)
    assert bad_name["error"]["code"] == "usage" and "not a usable" in bad_name["error"]["message"]
    off_terminal = json.loads(cli("provider", "set-key", "gw", "--json").stdout)
    assert "--key -" in off_terminal["error"]["hint"]
    assert _stored(byecore_home) == before


def test_clients_set_up_with_it_are_told_to_run_setup(cli, byecore_home):
    _add(cli, byecore_home)
    assert cli("setup", "aider", "--yes").exit_code == 0
    body = json.loads(cli("provider", "set-key", "gw", "--key", "-", "--json",
                          input=NEW).stdout)
    assert body["data"]["clients"] == ["aider"]
    assert any("byecore setup aider" in n for n in body["data"]["notes"])


def test_the_hidden_prompt_is_not_echoed(cli, byecore_home):
    _add(cli, byecore_home)
    env = {**os.environ, "BYECORE_HOME": str(byecore_home), "NO_COLOR": "1"}
    code, screen = run_in_pty(["provider", "set-key", "gw"],
                              [(b"API key", NEW.encode() + b"\r")], env)
    assert code == 0, screen.decode(errors="replace")
    assert NEW.encode() not in screen
    assert _stored(byecore_home)["key"] == NEW
