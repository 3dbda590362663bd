"""byecore setup claude: only six env members change; the rest of settings.json stays."""

from __future__ import annotations

import json
import stat

from tests.clients.conftest import KEY, place, snapshot

OWNED = ("ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_MODEL",
         "ANTHROPIC_DEFAULT_OPUS_MODEL", "ANTHROPIC_DEFAULT_SONNET_MODEL",
         "ANTHROPIC_DEFAULT_HAIKU_MODEL")


def test_settings_keep_everything_and_gain_the_env_members(run, gateway, home):
    settings = home / ".claude" / "settings.json"
    original = place("claude-settings.json", settings).decode()
    code, body = run("setup", "claude", "--model", "claude-haiku-5-5")
    assert code == 0, body
    text = settings.read_text()
    # every original line is still there, in order (the env's last member gains the
    # comma JSON needs); the only new lines are byecore's env members
    old_lines = [ln.rstrip(",") for ln in original.splitlines()]
    new_lines = [ln.rstrip(",") for ln in text.splitlines()]
    added = [ln for ln in new_lines if ln not in old_lines]
    assert len(added) == len(OWNED)
    assert all(ln.strip().startswith(tuple(f'"{k}"' for k in OWNED)) for ln in added), added
    assert [ln for ln in new_lines if ln in old_lines] == old_lines

    data = json.loads(text)  # Claude Code reads it as JSON
    env = data["env"]
    assert env["ANTHROPIC_BASE_URL"] == "https://gw.example.com"  # root: no /v1
    assert env["ANTHROPIC_AUTH_TOKEN"] == KEY and "ANTHROPIC_API_KEY" not in env
    assert env["ANTHROPIC_MODEL"] == "claude-haiku-5-5"
    assert env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "claude-haiku-5-5"
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    before = json.loads(original)
    for kept in ("permissions", "hooks", "statusLine", "enabledPlugins", "model", "$schema"):
        assert data[kept] == before[kept]
    assert list(data) == list(before)  # key order kept
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600


def test_new_file_restore_removes_it_and_the_folder_made_for_it(run, gateway, home):
    before = snapshot(home)
    assert not (home / ".claude").exists()
    assert run("setup", "claude")[0] == 0
    assert (home / ".claude" / "settings.json").exists()
    code, body = run("restore", "claude")
    assert code == 0
    assert snapshot(home) == before
    assert not (home / ".claude").exists()
    assert body["data"]["removed_folders"] == [str(home / ".claude")]


def test_restore_keeps_a_made_folder_that_something_else_moved_into(run, gateway, home):
    assert run("setup", "claude")[0] == 0
    (home / ".claude" / "projects.json").write_text("{}")
    code, body = run("restore", "claude")
    assert code == 0 and body["data"]["removed_folders"] == []
    assert not (home / ".claude" / "settings.json").exists()
    assert (home / ".claude" / "projects.json").read_text() == "{}"


def test_restore_is_byte_identical_with_mode(run, gateway, home):
    place("claude-settings.json", home / ".claude" / "settings.json", 0o644)
    before = snapshot(home)
    assert run("setup", "claude")[0] == 0
    assert run("setup", "claude")[1]["data"]["up_to_date"]
    assert run("restore", "claude")[0] == 0
    assert snapshot(home) == before


def test_broken_json_is_refused_with_line(run, gateway, home):
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{\n  "model": "opus",\n  "env": {\n}\n')
    code, body = run("setup", "claude")
    assert code == 1 and body["error"]["path"] == str(settings)
    assert body["error"]["line"] == 5 and "not valid JSON" in body["error"]["message"]
    assert settings.read_text() == '{\n  "model": "opus",\n  "env": {\n}\n'


def test_claude_config_dir_and_shell_conflicts(run, gateway, tmp_path, monkeypatch):
    folder = tmp_path / "claude-dir"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(folder))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-shell-000000000000")
    code, body = run("setup", "claude")
    assert code == 0
    assert (folder / "settings.json").exists()
    assert any("ANTHROPIC_API_KEY" in w for w in body["data"]["warnings"])
    assert "sk-ant-shell" not in json.dumps(body)


def test_messages_less_provider_goes_via_proxy_with_root_url(run, cli, home):
    assert cli("provider", "add", "oa", "--preset", "none", "--base-url",
               "https://oa.example.com", "--protocol", "responses", "--model", "gpt-5.4",
               "--key-stdin", input="sk-oa-000000000000000").exit_code == 0
    code, body = run("setup", "claude")
    assert code == 0 and body["data"]["via_proxy"]
    env = json.loads((home / ".claude" / "settings.json").read_text())["env"]
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:4000"
    assert env["ANTHROPIC_AUTH_TOKEN"].startswith("bc-local-")
    assert env["ANTHROPIC_MODEL"] == "oa/gpt-5.4"


def test_proxy_port_setting_is_the_anthropic_root(run, cli, home, byecore_home):
    assert cli("provider", "add", "oa", "--preset", "none", "--base-url",
               "https://oa.example.com", "--protocol", "responses", "--model", "gpt-5.4",
               "--key-stdin", input="sk-oa-000000000000000").exit_code == 0
    settings = byecore_home / "settings.toml"
    settings.write_text(settings.read_text() + "\n[proxy]\nport = 4123\n")
    code, body = run("setup", "claude")
    assert code == 0 and body["data"]["via_proxy"]
    env = json.loads((home / ".claude" / "settings.json").read_text())["env"]
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:4123"


REAL_ANTHROPIC_KEY = "sk-ant-api03-REALKEY0123456789abcdef"


def test_a_duplicated_env_is_edited_in_the_copy_claude_code_reads(run, gateway, home):
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{\n  "env": {"OLD": "1"},\n  "model": "opus",\n'
                        '  "env": {"KEEP": "2"}\n}\n')
    code, body = run("setup", "claude")
    assert code == 0, body
    env = json.loads(settings.read_text())["env"]  # the last copy, as JSON.parse keeps
    assert env["ANTHROPIC_BASE_URL"] == "https://gw.example.com" and env["KEEP"] == "2"
    assert env["ANTHROPIC_AUTH_TOKEN"] == KEY
    assert any('"env" more than once' in n and "line 2" in n for n in body["data"]["notes"])


def test_a_real_anthropic_key_in_env_is_removed_noted_and_restored(run, gateway, home):
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    original = json.dumps({"env": {"ANTHROPIC_API_KEY": REAL_ANTHROPIC_KEY,
                                   "CLAUDE_CODE_USE_BEDROCK": "1", "KEEP": "x"},
                           "model": "opus"}, indent=2) + "\n"
    settings.write_text(original)
    code, body = run("setup", "claude")
    assert code == 0, body
    env = json.loads(settings.read_text())["env"]
    assert "ANTHROPIC_API_KEY" not in env and "CLAUDE_CODE_USE_BEDROCK" not in env
    assert env["KEEP"] == "x" and env["ANTHROPIC_AUTH_TOKEN"] == KEY
    notes = " ".join(body["data"]["notes"])
    assert "removed ANTHROPIC_API_KEY (sk-…cdef)" in notes and "CLAUDE_CODE_USE_BEDROCK" in notes
    assert REAL_ANTHROPIC_KEY not in json.dumps(body)
    assert run("setup", "claude")[1]["data"]["up_to_date"]
    assert run("restore", "claude")[0] == 0
    assert settings.read_text() == original


def test_a_key_put_back_later_is_a_problem_and_the_next_setup_removes_it(run, gateway,
                                                                         home):
    from byecore_cli.clients.claude import Claude

    assert run("setup", "claude")[0] == 0
    settings = home / ".claude" / "settings.json"
    data = json.loads(settings.read_text())
    data["env"]["ANTHROPIC_API_KEY"] = REAL_ANTHROPIC_KEY
    settings.write_text(json.dumps(data, indent=2))
    reading = Claude().read({"settings": settings.read_bytes()})
    assert any("sends that key to ANTHROPIC_BASE_URL" in p for p in reading.problems)
    # not one of byecore's keys changed by hand (a file set up by an older byecore,
    # which left the key in place, must not need --force): setup just removes it again
    code, body = run("setup", "claude", "--model", "gpt-5.4")
    assert code == 0, body
    assert "ANTHROPIC_API_KEY" not in json.loads(settings.read_text())["env"]
    assert REAL_ANTHROPIC_KEY not in json.dumps(body)


def test_secondary_models_on_the_vendor_are_re_pointed(run, gateway, home):
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps({"env": {
        "ANTHROPIC_SMALL_FAST_MODEL": "claude-3-5-haiku-20241022",
        "CLAUDE_CODE_SUBAGENT_MODEL": "claude-opus-4-1"}}))
    code, body = run("setup", "claude", "--model", "gpt-5.4")
    assert code == 0, body
    env = json.loads(settings.read_text())["env"]
    assert env["ANTHROPIC_SMALL_FAST_MODEL"] == "claude-haiku-5-5"  # the haiku tier
    assert env["CLAUDE_CODE_SUBAGENT_MODEL"] == "gpt-5.4"
    assert sum("does not offer" in n for n in body["data"]["notes"]) == 2


def test_shell_variables_that_settings_json_does_not_override():
    from byecore_cli.clients.claude import Claude

    assert Claude().check_env({"ANTHROPIC_BASE_URL": "https://x", "ANTHROPIC_MODEL": "m",
                               "CLAUDE_CODE_USE_VERTEX": "0"}) == []
    found = Claude().check_env({"ANTHROPIC_API_KEY": REAL_ANTHROPIC_KEY,
                                "CLAUDE_CODE_USE_FOUNDRY": "1",
                                "CLAUDE_CODE_SUBAGENT_MODEL": "claude-opus-4-1"})
    assert [p.split(":")[0] for p in found] == [
        "your shell sets ANTHROPIC_API_KEY", "your shell sets CLAUDE_CODE_USE_FOUNDRY",
        "your shell sets CLAUDE_CODE_SUBAGENT_MODEL"]
    assert "reaches the gateway" in found[0] and REAL_ANTHROPIC_KEY not in " ".join(found)
