"""``byecore export ccswitch|ccr``: links in the formats those tools parse, keys only on ask.

Each link is read back the way its tool reads it: CC Switch takes the host as the version,
requires the path /import and reads the query as form pairs (deeplink/parser.rs); Claude
Code Router takes host ``provider`` and only its documented parameter names.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest
import tomlkit

KEY = "sk-provider-secret-987654321"
# the provider parameters CC Switch's parser reads, and the apps it accepts
CCSWITCH_PARAMS = {"resource", "app", "name", "endpoint", "apiKey", "homepage", "model",
                   "haikuModel", "sonnetModel", "opusModel", "notes", "icon", "config",
                   "configFormat", "configUrl", "enabled"}
CCSWITCH_APPS = {"claude", "codex", "gemini", "grokbuild", "opencode", "openclaw", "hermes"}
CCR_PARAMS = {"name", "base_url", "api_key", "protocol", "models", "icon", "source"}
CCR_PROTOCOLS = {"openai_chat_completions", "openai_responses", "anthropic_messages",
                 "gemini_generate_content", "gemini_interactions"}


@pytest.fixture
def saved(byecore_home):
    byecore_home.mkdir()
    providers = {
        "ds": {"base_url": "https://api.ds.example", "protocols": ["chat", "responses",
                                                                    "messages"],
               "key": KEY, "models": ["ds-pro", "ds-flash"], "default_model": "ds-flash",
               "openai_path": "", "anthropic_path": "/anthropic"},
        "gem": {"base_url": "https://gem.example", "protocols": ["gemini", "chat"],
                "key_env": "GEM_TEST_KEY", "models": ["g-1"], "openai_path": "/v1beta/openai"},
        "chatty": {"base_url": "https://chat.example", "protocols": ["chat"],
                   "key_env": "CHATTY_KEY", "models": ["c"]},
        "ollama": {"base_url": "http://localhost:11434", "protocols": ["chat"],
                   "models": ["qwen3-coder"]},
    }
    (byecore_home / "settings.toml").write_text(tomlkit.dumps({"providers": providers}))


def _ccswitch(link: str) -> dict[str, str]:
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("ccswitch", "v1", "/import")
    params = dict(parse_qsl(parts.query, strict_parsing=True))
    assert set(params) <= CCSWITCH_PARAMS
    assert params["resource"] == "provider" and params["app"] in CCSWITCH_APPS
    assert params["name"] and urlsplit(params["endpoint"]).scheme in ("http", "https")
    return params


def _ccr(link: str) -> dict[str, str]:
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("ccr", "provider", "")
    params = dict(parse_qsl(parts.query, strict_parsing=True))
    assert set(params) <= CCR_PARAMS and params["protocol"] in CCR_PROTOCOLS
    return params


def test_ccswitch_claude_link_without_the_key_says_it_will_not_import(cli, saved):
    result = cli("export", "ccswitch", "ds")
    assert result.exit_code == 0
    link = result.stdout.strip()
    params = _ccswitch(link)
    assert params["app"] == "claude"  # it speaks Messages: Claude Code's protocol
    assert params["endpoint"] == "https://api.ds.example/anthropic"  # ANTHROPIC_BASE_URL
    assert params["model"] == "ds-flash"
    assert "apiKey" not in params and KEY not in result.output
    assert "--with-key" in result.stderr and "refuses" in result.stderr


def test_ccswitch_with_key_carries_it_and_warns(cli, saved):
    result = cli("export", "ccswitch", "ds", "--app", "codex", "--with-key")
    params = _ccswitch(result.stdout.strip())
    assert params["app"] == "codex" and params["apiKey"] == KEY
    assert params["endpoint"] == "https://api.ds.example"  # Codex's base_url, Responses
    assert "private channel" in result.stderr


def test_ccswitch_gemini_endpoint_is_the_root_gemini_cli_adds_the_version_to(cli, saved):
    params = _ccswitch(cli("export", "ccswitch", "gem").stdout.strip())
    assert params["app"] == "gemini" and params["endpoint"] == "https://gem.example"


def test_ccswitch_refuses_an_app_the_provider_cannot_serve(cli, saved):
    result = cli("export", "ccswitch", "chatty", "--app", "claude")
    assert result.exit_code == 2
    assert "speaks messages" in result.stderr and "--app opencode" in result.stderr
    assert cli("export", "ccswitch", "chatty", "--app", "vim").exit_code == 2
    params = _ccswitch(cli("export", "ccswitch", "chatty").stdout.strip())
    assert params["app"] == "opencode" and params["endpoint"] == "https://chat.example/v1"


def test_with_key_from_an_unset_variable_is_an_error(cli, saved, monkeypatch):
    result = cli("export", "ccswitch", "gem", "--with-key")
    assert result.exit_code == 2 and "$GEM_TEST_KEY" in result.stderr
    monkeypatch.setenv("GEM_TEST_KEY", "gem-env-key-1")
    params = _ccswitch(cli("export", "ccswitch", "gem", "--with-key").stdout.strip())
    assert params["apiKey"] == "gem-env-key-1"


def test_a_keyless_local_provider_gets_a_placeholder_ccswitch_accepts(cli, saved):
    result = cli("export", "ccswitch", "ollama")
    params = _ccswitch(result.stdout.strip())
    assert params["apiKey"] == "no-key-needed" and "needs no key" in result.stderr


def test_ccr_prefers_messages_and_lists_models_default_first(cli, saved):
    result = cli("export", "ccr", "ds")
    params = _ccr(result.stdout.strip())
    assert params == {"name": "ds", "base_url": "https://api.ds.example/anthropic",
                      "protocol": "anthropic_messages", "models": "ds-flash,ds-pro"}
    assert KEY not in result.output and "--with-key" in result.stderr


@pytest.mark.parametrize(("protocol", "base", "wire"), [
    ("chat", "https://gem.example/v1beta/openai", "openai_chat_completions"),
    ("gemini", "https://gem.example/v1beta", "gemini_generate_content"),
])
def test_ccr_base_url_follows_the_protocol(cli, saved, protocol, base, wire):
    params = _ccr(cli("export", "ccr", "gem", "--protocol", protocol).stdout.strip())
    assert (params["base_url"], params["protocol"]) == (base, wire)


def test_ccr_json_and_errors(cli, saved):
    envelope = json.loads(cli("export", "ccr", "ds", "--with-key", "--json").stdout)
    data = envelope["data"]
    assert envelope["ok"] and data["with_key"] and _ccr(data["link"])["api_key"] == KEY
    result = cli("export", "ccr", "chatty", "--protocol", "messages")
    assert result.exit_code == 2 and "does not speak messages" in result.stderr
    missing = json.loads(cli("export", "ccr", "nope", "--json").stdout)
    assert not missing["ok"] and missing["error"]["code"] == "not_found"
