"""byecore setup codex: real-shaped files survive, the ChatGPT login is never touched."""

from __future__ import annotations

import json
import re
import stat

from tests.clients.conftest import FIXTURES, KEY, place, snapshot, toml_loads


def _outside_byecore(text: str) -> str:
    """The file minus byecore's keys: top-level model/model_provider, its provider table."""
    text = re.sub(r"(?ms)^\[model_providers\.byecore\]\n.*?(?=^\[|\Z)", "", text)
    return re.sub(r"(?m)^model(_provider)? = .*\n", "", text).rstrip("\n")


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_chatgpt_login_kept_and_key_goes_to_the_provider_table(run, gateway, home):
    codex = home / ".codex"
    original = place("codex-config.toml", codex / "config.toml")
    login = place("codex-auth-chatgpt.json", codex / "auth.json", 0o600)

    code, body = run("setup", "codex")
    assert code == 0, body
    assert (codex / "auth.json").read_bytes() == login  # the login, byte for byte
    text = (codex / "config.toml").read_text()
    assert _outside_byecore(text) == _outside_byecore(original.decode())
    assert 'model = "gpt-5.4"  # what I use with my ChatGPT plan' in text  # comment kept

    config = toml_loads(text)  # what Codex (a Rust TOML parser) would read
    assert config["model_provider"] == "byecore" and config["model"] == "gpt-5.4"
    table = config["model_providers"]["byecore"]
    assert table["base_url"] == "https://gw.example.com/v1"
    assert table["wire_api"] == "responses"
    assert table["experimental_bearer_token"] == KEY
    assert table["name"] and table["name"] != "OpenAI"
    assert "requires_openai_auth" not in table and "env_key" not in table
    for kept in ("projects", "mcp_servers", "profiles", "features", "desktop",
                 "sandbox_workspace_write"):
        assert config[kept] == toml_loads(original.decode())[kept]
    for never in ("disable_response_storage", "network_access"):
        assert never not in config
    assert _mode(codex / "config.toml") == 0o600  # it holds a key now
    assert any("ChatGPT login" in n for n in body["data"]["notes"])


def test_no_auth_file_the_key_goes_to_the_provider_table_not_auth_json(run, gateway, home):
    code, body = run("setup", "codex")
    assert code == 0, body
    codex = home / ".codex"
    assert not (codex / "auth.json").exists()  # the built-in openai provider never gets it
    table = toml_loads((codex / "config.toml").read_text())["model_providers"]["byecore"]
    assert table["experimental_bearer_token"] == KEY
    assert "requires_openai_auth" not in table and "env_key" not in table
    assert _mode(codex / "config.toml") == 0o600


def test_auth_json_an_earlier_byecore_wrote_is_removed_and_restore_brings_it_back(
        run, gateway, home):
    auth = home / ".codex" / "auth.json"
    auth.parent.mkdir()
    earlier = json.dumps({"OPENAI_API_KEY": KEY}, indent=2) + "\n"  # only the gateway key
    auth.write_text(earlier)
    code, body = run("setup", "codex")
    assert code == 0, body
    assert not auth.exists()
    assert any("earlier byecore" in n for n in body["data"]["notes"])
    assert run("restore", "codex")[0] == 0
    assert auth.read_text() == earlier


def test_key_kept_in_an_env_var_becomes_env_key(run, cli, home, monkeypatch):
    monkeypatch.setenv("GW_KEY", "sk-from-env-0000000000")
    assert cli("provider", "add", "envgw", "--preset", "none", "--base-url",
               "https://e.example.com", "--protocol", "responses", "--model", "m1",
               "--key-env", "GW_KEY").exit_code == 0
    assert run("setup", "codex")[0] == 0
    table = toml_loads((home / ".codex" / "config.toml").read_text())
    assert table["model_providers"]["byecore"]["env_key"] == "GW_KEY"
    assert not (home / ".codex" / "auth.json").exists()
    assert "sk-from-env" not in (home / ".codex" / "config.toml").read_text()


def test_second_setup_is_byte_identical_and_says_up_to_date(run, gateway, home, byecore_home):
    place("codex-config.toml", home / ".codex" / "config.toml")
    place("codex-auth-chatgpt.json", home / ".codex" / "auth.json", 0o600)
    assert run("setup", "codex")[0] == 0
    before = snapshot(home)
    backups = sorted((byecore_home / "backups" / "codex").iterdir())
    code, body = run("setup", "codex")
    assert code == 0 and body["data"]["up_to_date"] and body["data"]["files"] == []
    assert snapshot(home) == before
    assert sorted((byecore_home / "backups" / "codex").iterdir()) == backups


def test_dry_run_prints_a_masked_diff_and_changes_nothing(cli, gateway, home, byecore_home):
    place("codex-config.toml", home / ".codex" / "config.toml")
    before = snapshot(home)
    result = cli("setup", "codex", "--dry-run")
    assert result.exit_code == 0
    assert "+model_provider = \"byecore\"" in result.stdout
    assert '-model = "gpt-5.5"' in result.stdout
    assert KEY not in result.stdout and "sk-…CRET" in result.stdout
    assert snapshot(home) == before
    assert not (byecore_home / "backups").exists() and not (byecore_home / "state.json").exists()


def test_restore_puts_back_exact_bytes_and_modes(run, gateway, home):
    codex = home / ".codex"
    place("codex-config.toml", codex / "config.toml", 0o640)
    before = snapshot(home)
    assert run("setup", "codex")[0] == 0
    assert _mode(codex / "config.toml") == 0o600  # it holds the key now
    assert not (codex / "auth.json").exists()  # never created
    code, body = run("restore", "codex")
    assert code == 0, body
    assert snapshot(home) == before  # config bytes and 0640 back, auth.json gone
    code, body = run("status")
    codex_row = next(r for r in body["data"]["clients"] if r["client"] == "codex")
    assert not codex_row["set_up_by_byecore"]


def test_restore_list_and_to_an_earlier_backup(run, cli, gateway, home):
    place("codex-config.toml", home / ".codex" / "config.toml")
    original = snapshot(home)
    assert run("setup", "codex")[0] == 0
    assert run("setup", "codex", "--model", "claude-haiku-5-5")[0] == 0
    code, body = run("restore", "codex", "--list")
    backups = body["data"]["backups"]
    assert len(backups) == 2 and backups[-1]["reason"] == "setup"
    first = backups[-1]["id"]  # newest first: the last one is the oldest
    assert run("restore", "codex", "--to", first)[0] == 0
    assert snapshot(home) == original
    assert run("restore", "codex", "--to", "nope")[0] == 1


def test_broken_toml_is_refused_with_file_and_line_then_forced(run, gateway, home):
    config = home / ".codex" / "config.toml"
    config.parent.mkdir()
    broken = b'model = "gpt-5"\n[projects\ntrust_level = "trusted"\n'
    config.write_bytes(broken)
    code, body = run("setup", "codex")
    assert code == 1 and body["error"]["code"] == "config"
    assert body["error"]["path"] == str(config) and body["error"]["line"] == 2
    assert config.read_bytes() == broken
    code, body = run("setup", "codex", "--force")
    assert code == 0, body
    assert toml_loads(config.read_text())["model_provider"] == "byecore"
    assert run("restore", "codex")[0] == 0
    assert config.read_bytes() == broken  # the broken file was backed up first


def test_hand_edit_of_byecore_keys_needs_force(run, gateway, home):
    assert run("setup", "codex")[0] == 0
    config = home / ".codex" / "config.toml"
    config.write_text(config.read_text().replace('model = "gpt-5.4"', 'model = "my-own"'))
    code, body = run("setup", "codex", "--model", "claude-haiku-5-5")
    assert code == 1 and body["error"]["code"] == "hand_edited"
    assert body["error"]["edits"] == [{"key": "model", "wrote": "gpt-5.4", "now": "my-own"}]
    assert 'model = "my-own"' in config.read_text()
    code, body = run("status")
    row = next(r for r in body["data"]["clients"] if r["client"] == "codex")
    assert [e["key"] for e in row["hand_edited"]] == ["model"]
    assert run("setup", "codex", "--model", "claude-haiku-5-5", "--force")[0] == 0
    assert toml_loads(config.read_text())["model"] == "claude-haiku-5-5"


def test_edits_outside_byecore_keys_do_not_block(run, gateway, home):
    assert run("setup", "codex")[0] == 0
    config = home / ".codex" / "config.toml"
    config.write_text(config.read_text() + '\n[projects."/tmp/x"]\ntrust_level = "trusted"\n')
    code, body = run("setup", "codex", "--model", "claude-haiku-5-5")
    assert code == 0, body
    assert toml_loads(config.read_text())["projects"]["/tmp/x"]["trust_level"] == "trusted"


def test_chat_only_provider_goes_through_the_local_proxy(run, cli, home, byecore_home):
    assert cli("provider", "add", "chatty", "--preset", "none", "--base-url",
               "https://chat.example.com", "--protocol", "chat", "--model", "m1",
               "--key-stdin", input="sk-chat-000000000000").exit_code == 0
    code, body = run("setup", "codex")
    assert code == 0 and body["data"]["via_proxy"]
    assert any("local proxy" in n for n in body["data"]["notes"])
    table = toml_loads((home / ".codex" / "config.toml").read_text())
    assert table["model"] == "chatty/m1"
    provider = table["model_providers"]["byecore"]
    assert provider["base_url"] == "http://127.0.0.1:4000/v1"
    keys = toml_loads((byecore_home / "local-keys.toml").read_text())["keys"]
    assert keys["codex"].startswith("bc-local-")
    assert provider["experimental_bearer_token"] == keys["codex"]
    assert not (home / ".codex" / "auth.json").exists()
    assert stat.S_IMODE((byecore_home / "local-keys.toml").stat().st_mode) == 0o600


def test_codex_home_is_honoured(run, gateway, tmp_path, monkeypatch):
    elsewhere = tmp_path / "codex-home"
    elsewhere.mkdir()
    monkeypatch.setenv("CODEX_HOME", str(elsewhere))
    assert run("setup", "codex")[0] == 0
    assert (elsewhere / "config.toml").exists()


def test_status_reports_problems_current_codex_would_reject(run, home):
    config = home / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_text('model_provider = "relay"\ndisable_response_storage = true\n\n'
                      '[model_providers.relay]\nname = "OpenAI"\n'
                      'base_url = "https://r.example.com/v1/responses"\nwire_api = "chat"\n')
    code, body = run("status")
    row = next(r for r in body["data"]["clients"] if r["client"] == "codex")
    text = " ".join(row["problems"])
    for needle in ('wire_api = "chat"', "disable_response_storage", '"OpenAI"',
                   "not a base URL"):
        assert needle in text, needle
    assert row["base_url"] == "https://r.example.com/v1/responses"


def test_fixture_is_what_it_claims():
    assert "tokens" in json.loads((FIXTURES / "codex-auth-chatgpt.json").read_text())


def test_proxy_port_setting_is_where_setup_points(run, cli, home, byecore_home):
    # `byecore proxy` listens on [proxy] port; a client set up via the proxy must go there
    # too, not to the default 4000 where nothing listens.
    assert cli("provider", "add", "chatty", "--preset", "none", "--base-url",
               "https://chat.example.com", "--protocol", "chat", "--model", "m1",
               "--key-stdin", input="sk-chat-000000000000").exit_code == 0
    settings = byecore_home / "settings.toml"
    settings.write_text(settings.read_text() + "\n[proxy]\nport = 4123\n")
    code, body = run("setup", "codex")
    assert code == 0 and body["data"]["via_proxy"]
    table = toml_loads((home / ".codex" / "config.toml").read_text())
    assert table["model_providers"]["byecore"]["base_url"] == "http://127.0.0.1:4123/v1"


# ---- odd shapes of config.toml ---------------------------------------------------------

def _plan(config: str, target=None):
    from byecore_cli.clients.codex import Codex
    from tests.clients.factory import make_target

    return Codex().plan(target or make_target(), {"config": config.encode(), "auth": None})


def test_inline_model_providers_table_is_edited_in_place_and_stays_inline():
    config = ('model = "o3"\nmodel_providers = { relay = { name = "Relay", base_url = '
              '"https://r.example.com/v1" } }  # my relay\n\n[projects."/src"]\n'
              'trust_level = "trusted"\n')
    out = _plan(config).files["config"].decode()
    line = next(x for x in out.splitlines() if x.startswith("model_providers = {"))
    assert line.startswith('model_providers = { relay = { name = "Relay", base_url = '
                           '"https://r.example.com/v1" }, byecore = {')
    assert line.endswith("}  # my relay")
    assert out.endswith('\n\n[projects."/src"]\ntrust_level = "trusted"\n')
    data = toml_loads(out)
    assert data["model_provider"] == "byecore"
    assert data["model_providers"]["relay"]["name"] == "Relay"
    assert data["model_providers"]["byecore"]["base_url"] == "https://api.example.com/v1"


def test_inline_byecore_entry_under_model_providers_is_updated_in_place(run, gateway, home):
    config = home / ".codex" / "config.toml"
    config.parent.mkdir()
    original = ('[model_providers]\nbyecore = { name = "old", base_url = "http://old/v1", '
                'requires_openai_auth = true, stream_max_retries = 3 }\n'
                'other = { name = "Other" }\n')
    config.write_text(original)
    code, body = run("setup", "codex")
    assert code == 0, body
    text = config.read_text()
    assert "[model_providers.byecore]" not in text  # still the inline entry
    assert text.count("byecore = {") == 1 and 'other = { name = "Other" }\n' in text
    table = toml_loads(text)["model_providers"]["byecore"]
    assert table["stream_max_retries"] == 3 and table["base_url"] == "https://gw.example.com/v1"
    assert "requires_openai_auth" not in table
    assert run("restore", "codex", "--force")[0] == 0
    assert config.read_text() == original


def test_odd_existing_contents_get_a_clear_error_not_an_internal_one(run, gateway, home):
    config = home / ".codex" / "config.toml"
    config.parent.mkdir()
    for text, needle in (('model_providers = 3\n', "model_providers is not a table"),
                         ('[[model_providers]]\nname = "x"\n', "model_providers is not a table"),
                         ('[model_providers]\nbyecore = "x"\n', "byecore is not a table"),
                         ('[model]\nname = "x"\n', "model is not a plain"),
                         ('model_providers.byecore.name = "x"\n', "dotted keys")):
        config.write_text(text)
        code, body = run("setup", "codex")
        assert code == 1 and body["error"]["code"] == "config", body
        assert needle in body["error"]["message"], body
        assert "internal" not in body["error"]["message"]
        assert config.read_text() == text
        code, body = run("status")
        assert code == 0, body


def test_non_string_values_in_byecore_keys_are_replaced(run, gateway, home):
    config = home / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_text('model = 1979-05-27\nmodel_provider = [1, 2]  # odd\n\n'
                      '[model_providers.byecore]\nname = 5\nbase_url = ["x"]\n'
                      'wire_api = { a = 1 }\n')
    code, body = run("status")
    assert code == 0, body
    code, body = run("setup", "codex")
    assert code == 0, body
    data = toml_loads(config.read_text())
    assert data["model"] == "gpt-5.4" and data["model_provider"] == "byecore"
    assert data["model_providers"]["byecore"]["base_url"] == "https://gw.example.com/v1"
    assert 'model_provider = "byecore"  # odd\n' in config.read_text()


def test_profiles_on_their_own_provider_are_named_in_the_notes():
    config = ('[profiles.work]\nmodel_provider = "openai"\nmodel = "o3"\n\n'
              '[profiles.mine]\nmodel_provider = "byecore"\n\n[profiles.plain]\nmodel = "x"\n')
    notes = " ".join(_plan(config).notes)
    assert "work (openai)" in notes and "mine" not in notes and "plain" not in notes
    assert 'model_provider = "byecore"' in notes and "--profile" in notes
    assert not any("profile" in n for n in _plan('model = "x"\n').notes)


def test_legacy_profile_selector_is_a_problem(run, home):
    config = home / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_text('profile = "work"\n\n[profiles.work]\nmodel = "o3"\n')
    code, body = run("status")
    row = next(r for r in body["data"]["clients"] if r["client"] == "codex")
    assert any("work.config.toml" in p and "--profile work" in p for p in row["problems"])


def test_a_large_config_comes_back_whole():
    blocks = [f'# project {i}: keep this note\n[projects."/home/me/src/p{i}"]\n'
              f'trust_level = "trusted"  # ok\n\n[[skills]]\npath = "s{i}"\n\n'
              f'[mcp_servers.s{i}]\ncommand = "npx"\nargs = ["-y", "srv-{i}"]\n\n'
              for i in range(6000)]  # about 1 MB, tables split by arrays of tables
    body = "".join(blocks)
    config = '# Codex config\nmodel = "gpt-5"\n\n' + body
    out = _plan(config).files["config"].decode()
    table = ('[model_providers.byecore]\nname = "byecore: byecore"\n'
             'base_url = "https://api.example.com/v1"\nwire_api = "responses"\n'
             'experimental_bearer_token = "sk-test-0123456789abcdefXYZ"\n')
    assert out == ('# Codex config\nmodel = "gpt-5.4"\nmodel_provider = "byecore"\n\n'
                   + body + table)
