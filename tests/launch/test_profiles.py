"""Each client's launch profile, as data: what ``run`` and ``env`` hand the client.

The real clients read these in ``test_real_run.py``; here the details a run alone would
not show: Codex's ``-c`` values are the TOML Codex parses, a user's own settings survive
in the copies Gemini CLI and Crush get, and the files are private.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from byecore_cli.launch import homes, profiles
from tests.clients.conftest import toml_loads
from tests.clients.factory import proxy_target

KEY = "bc-local-abc123def456ghi789"


def _ctx(tmp_path: Path, env: dict | None = None, **kw) -> profiles.Context:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return profiles.Context(env={"HOME": str(home), **(env or {})}, home=home,
                            folder=tmp_path / "profile", **kw)


def _target():
    return proxy_target(gemini_base="http://127.0.0.1:4000/v1beta")


def test_codex_settings_are_the_toml_codex_reads(tmp_path):
    profile = profiles.codex(_target(), _ctx(tmp_path))
    assert profile.args[0::2] == ["-c"] * (len(profile.args) // 2)
    parsed = {}
    for setting in profile.args[1::2]:
        key, _, value = setting.partition("=")
        parsed[key] = toml_loads(f"v = {value}")["v"]
    assert parsed == {
        "model_provider": "byecore", "model": "byecore/gpt-5.4",
        "model_providers.byecore.name": "byecore: byecore",
        "model_providers.byecore.base_url": "http://127.0.0.1:4000/v1",
        "model_providers.byecore.wire_api": "responses",
        "model_providers.byecore.env_key": profiles.CODEX_KEY_VAR,
        "model_providers.byecore.requires_openai_auth": False}
    assert profile.env == {profiles.CODEX_KEY_VAR: KEY} and not profile.files


def test_claude_gets_a_settings_layer_that_beats_the_users(tmp_path):
    ctx = _ctx(tmp_path)
    profile = profiles.claude(_target(), ctx)
    assert profile.args == ["--settings", str(ctx.folder / "claude-settings.json")]
    layer = json.loads(profile.files["claude-settings.json"])["env"]
    assert layer["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:4000"  # no /v1: Claude adds it
    assert layer["ANTHROPIC_AUTH_TOKEN"] == KEY
    assert {layer[name] for name in profiles.CLAUDE_SWITCHES} == {"0"}
    assert "ANTHROPIC_API_KEY" in profile.unset


def test_opencode_keeps_the_users_inline_config_under_its_own(tmp_path):
    theirs = json.dumps({"mcp": {"docs": {"type": "remote", "url": "https://x"}},
                         "model": "anthropic/claude", "provider": {"byecore": {
                             "options": {"timeout": 5, "baseURL": "http://old"}}}})
    profile = profiles.opencode(_target(), _ctx(tmp_path, {"OPENCODE_CONFIG_CONTENT": theirs}))
    config = json.loads(profile.env["OPENCODE_CONFIG_CONTENT"])
    assert config["mcp"] == {"docs": {"type": "remote", "url": "https://x"}}
    assert config["model"] == config["small_model"] == "byecore/byecore/gpt-5.4"
    assert config["provider"]["byecore"]["options"] == {
        "timeout": 5, "baseURL": "http://127.0.0.1:4000/v1", "apiKey": KEY}


def test_gemini_gets_a_temporary_home_only_when_its_settings_need_it(tmp_path):
    ctx = _ctx(tmp_path)
    gemini_dir = ctx.home / ".gemini"
    (gemini_dir / "history").mkdir(parents=True)
    (gemini_dir / "oauth_creds.json").write_text("{}")
    (gemini_dir / "settings.json").write_text('{\n  // mine\n  "ui": {"theme": "x"}\n}\n')
    profile = profiles.gemini(_target(), ctx)
    assert profile.env["GEMINI_CLI_HOME"] == str(ctx.folder / "gemini-home")
    assert profile.env["GOOGLE_GEMINI_BASE_URL"] == "http://127.0.0.1:4000"  # SDK adds v1beta
    copy = profile.files["gemini-home/.gemini/settings.json"].decode()
    assert "// mine" in copy and '"selectedType": "gemini-api-key"' in copy
    assert profile.links == {"gemini-home/.gemini/history": gemini_dir / "history",
                             "gemini-home/.gemini/oauth_creds.json":
                                 gemini_dir / "oauth_creds.json"}
    (gemini_dir / "settings.json").write_text(copy)  # selected already: no home needed
    again = profiles.gemini(_target(), ctx)
    assert "GEMINI_CLI_HOME" not in again.env and not again.files and not again.links


def test_crush_reads_copies_of_the_users_files_with_byecores_provider(tmp_path):
    ctx = _ctx(tmp_path)
    config_dir = ctx.home / ".config" / "crush"
    config_dir.mkdir(parents=True)
    (config_dir / "crush.json").write_text(json.dumps({"providers": {"mine": {
        "type": "openai-compat", "base_url": "https://mine/v1", "api_key": "$MINE"}},
        "lsp": {"go": {"command": "gopls"}}}))
    (config_dir / "crushrc").write_text("# my crushrc\n")
    profile = profiles.crush(_target(), ctx)
    config = json.loads(profile.files["crush-config/crush.json"])
    assert config["providers"]["mine"]["base_url"] == "https://mine/v1"
    assert config["lsp"] == {"go": {"command": "gopls"}}
    assert config["providers"]["byecore"]["base_url"] == "http://127.0.0.1:4000/v1"
    data = json.loads(profile.files["crush-data/crush.json"])
    assert data["models"]["large"] == {"provider": "byecore", "model": "byecore/gpt-5.4"}
    assert profile.links == {"crush-config/crushrc": config_dir / "crushrc"}
    assert profile.env == {"CRUSH_GLOBAL_CONFIG": str(ctx.folder / "crush-config"),
                           "CRUSH_GLOBAL_DATA": str(ctx.folder / "crush-data")}
    # what Crush creates in the two folders during a run goes to the user's afterwards
    profiles.write_files(profile, ctx.folder)
    (ctx.folder / "crush-data" / "crush.db").write_bytes(b"rows")
    (ctx.folder / "crush-config" / "crush.json.bak").write_bytes(b"a copy")
    homes.keep_new(profile, ctx.folder, [KEY])
    assert (ctx.home / ".local" / "share" / "crush" / "crush.db").read_bytes() == b"rows"
    assert not (config_dir / "crush.json.bak").exists()


def test_what_gemini_cli_creates_in_its_temporary_home_is_the_users(tmp_path):
    ctx = _ctx(tmp_path)
    gemini_dir = ctx.home / ".gemini"
    gemini_dir.mkdir()
    (gemini_dir / "settings.json").write_text("{}\n")
    profile = profiles.gemini(_target(), ctx)
    profiles.write_files(profile, ctx.folder)
    chat = ctx.folder / "gemini-home" / ".gemini" / "tmp" / "chats" / "c1.json"
    chat.parent.mkdir(parents=True)
    chat.write_text("{}")
    homes.keep_new(profile, ctx.folder, [KEY])
    assert (gemini_dir / "tmp" / "chats" / "c1.json").is_file()
    assert (gemini_dir / "settings.json").read_text() == "{}\n"


def test_droid_runtime_settings_select_byecores_model(tmp_path):
    ctx = _ctx(tmp_path)
    profile = profiles.droid(_target(), ctx)
    layer = json.loads(profile.files["droid-settings.json"])
    assert layer["sessionDefaultSettings"] == {"model": "custom:byecore-byecore-gpt-5.4"}
    assert [m["id"] for m in layer["customModels"]] == ["custom:byecore-byecore-gpt-5.4"]
    assert profile.env == {"FACTORY_RUNTIME_SETTINGS_PATH": str(ctx.folder /
                                                                "droid-settings.json")}


def test_files_are_private_and_links_point_at_the_users_entries(tmp_path):
    ctx = _ctx(tmp_path)
    (ctx.home / "entry").mkdir()
    profile = profiles.Profile(files={"a/b.json": b"{}"}, links={"a/link": ctx.home / "entry"})
    profiles.write_files(profile, ctx.folder)
    assert stat.S_IMODE(os.stat(ctx.folder / "a" / "b.json").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(ctx.folder / "a").st_mode) == 0o700
    assert os.readlink(ctx.folder / "a" / "link") == str(ctx.home / "entry")


def test_a_broken_settings_file_is_named_not_guessed(tmp_path):
    ctx = _ctx(tmp_path)
    (ctx.home / ".gemini").mkdir()
    (ctx.home / ".gemini" / "settings.json").write_text("{ nope")
    with pytest.raises(profiles.ConfigError) as caught:
        profiles.gemini(_target(), ctx)
    assert str(ctx.home / ".gemini" / "settings.json") in caught.value.message


def test_a_users_own_settings_option_is_pointed_out():
    assert profiles.clashes("claude", ["-p", "--settings", "mine.json"])
    assert profiles.clashes("droid", ["exec", "--settings=mine.json"])
    assert profiles.clashes("claude", ["-p", "hi"]) == []
    assert profiles.clashes("codex", ["--settings", "x"]) == []


def test_goose_uses_its_openai_provider_from_the_environment(tmp_path):
    profile = profiles.PROFILES["goose"](_target(), _ctx(tmp_path))
    assert profile.env == {"GOOSE_PROVIDER": "openai", "GOOSE_MODEL": "byecore/gpt-5.4",
                           "OPENAI_HOST": "http://127.0.0.1:4000",
                           "OPENAI_BASE_PATH": "v1/chat/completions", "OPENAI_API_KEY": KEY}
    assert not profile.files and "OPENAI_CUSTOM_HEADERS" in profile.unset


def test_kimi_gets_a_model_of_the_environment_and_no_folder(tmp_path):
    """Kimi Code 2.1.0 defines a model from KIMI_MODEL_NAME and its siblings, over
    config.toml's default_model: its own folder, where it replaces workspaces.json by a
    rename, stays the user's."""
    target = _target()
    limits = target.limits_for(target.model)
    profile = profiles.PROFILES["kimi"](target, _ctx(tmp_path))
    assert profile.env == {
        "KIMI_MODEL_NAME": "byecore/gpt-5.4", "KIMI_MODEL_API_KEY": KEY,
        "KIMI_MODEL_BASE_URL": "http://127.0.0.1:4000/v1",
        "KIMI_MODEL_PROVIDER_TYPE": "openai",
        "KIMI_MODEL_MAX_CONTEXT_SIZE": str(limits.context_window),
        "KIMI_MODEL_MAX_OUTPUT_SIZE": str(limits.max_output)}
    assert (profile.files, profile.links, profile.args) == ({}, {}, [])
    assert {"KIMI_MODEL_CAPABILITIES", "KIMI_SECONDARY_MODEL"} <= set(profile.unset)
    assert not set(profile.unset) & set(profile.env)
    assert profiles.clashes("kimi", ["-m", "mine/old", "-p", "hi"])
    assert profiles.clashes("kimi", ["--continue"]) and profiles.clashes("kimi", ["-S"])
    assert profiles.clashes("kimi", ["-p", "hi"]) == []
