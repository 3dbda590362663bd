"""``byecore export litellm``: what the config says, where keys go, and what the user is told.

The real LiteLLM proxy runs on an export in test_litellm_proxy.py; these check the
mapping itself, fast, including the cases that one setup does not cover.
"""

from __future__ import annotations

import json
import stat

import pytest
import yaml

from byecore_cli.config.models import Settings
from byecore_cli.export.litellm import KEYLESS, build, upstream

STORED = "sk-stored-secret-0123456789"


def _settings(**proxy) -> Settings:
    return Settings.model_validate({
        "default_provider": "main",
        "providers": {
            "main": {"base_url": "https://gw.example", "protocols": ["chat", "responses"],
                     "key": STORED, "models": ["gpt-x", "claude-haiku-9"]},
            "ant": {"base_url": "https://ant.example", "protocols": ["messages", "chat"],
                    "key_env": "ANT_KEY", "models": ["c-1"], "anthropic_path": "/anthropic"},
            "gem": {"base_url": "https://gem.example", "protocols": ["gemini"],
                    "key_env": "GEM_KEY", "models": ["g-1"]},
            "local": {"base_url": "http://localhost:11434", "protocols": ["chat"],
                      "models": ["qwen"], "quirks": ["system_first"]},
        },
        "proxy": proxy,
    })


def _entries(config: dict) -> dict[str, dict]:
    return {e["model_name"]: e["litellm_params"] for e in config["model_list"]}


def test_one_group_per_provider_model_with_each_protocols_prefix_and_base():
    entries = _entries(build(_settings()).config)
    assert entries["main/gpt-x"] == {"model": "openai/gpt-x", "api_base": "https://gw.example/v1",
                                     "api_key": "os.environ/BYECORE_MAIN_API_KEY"}
    assert entries["ant/c-1"] == {"model": "anthropic/c-1",
                                  "api_base": "https://ant.example/anthropic",
                                  "api_key": "os.environ/ANT_KEY"}
    assert entries["gem/g-1"] == {"model": "gemini/g-1", "api_base": "https://gem.example/v1beta",
                                  "api_key": "os.environ/GEM_KEY"}
    assert entries["local/qwen"] == {"model": "openai/qwen",
                                     "api_base": "http://localhost:11434/v1",
                                     "api_key": KEYLESS, "use_chat_completions_api": True}
    # wildcards pass the name through; '*' is the default provider's
    assert entries["gem/*"]["model"] == "gemini/*"
    assert entries["*"]["model"] == "openai/*" and entries["*"]["api_base"].startswith(
        "https://gw.example")


def test_responses_only_provider_uses_the_responses_prefix():
    settings = Settings.model_validate({"providers": {"r": {
        "base_url": "https://r.example", "protocols": ["responses"], "key_env": "R"}}})
    assert upstream(settings.providers["r"]).prefix == "openai/responses"
    assert _entries(build(settings).config)["r/*"]["model"] == "openai/responses/*"


def test_names_land_where_byecore_routes_them_and_fallbacks_follow_every_name():
    settings = _settings(aliases={"claude-*haiku*": "ant/c-1", "fast": "gem/g-1"},
                         fallbacks={"main/*": ["ant/c-1", "gem/g-1"], "ant/c-1": ["gem/g-1"]})
    router = build(settings).config["router_settings"]
    aliases = router["model_group_alias"]
    assert aliases["fast"] == "gem/g-1"
    assert aliases["gpt-x"] == "main/gpt-x"
    # byecore tries aliases before model lists: main lists claude-haiku-9, the glob wins
    assert aliases["claude-haiku-9"] == "ant/c-1"
    chains = {k: v for item in router["fallbacks"] for k, v in item.items()}
    assert chains["main/gpt-x"] == ["ant/c-1", "gem/g-1"]
    # LiteLLM looks a chain up by the name asked for, so an alias carries its target's
    assert chains["gpt-x"] == ["ant/c-1", "gem/g-1"]
    assert chains["claude-haiku-9"] == chains["ant/c-1"] == ["gem/g-1"]
    assert "gem/g-1" not in chains
    assert router["num_retries"] == 0


def test_fallback_chains_are_cut_at_max_attempts_and_generic_star_is_kept():
    settings = _settings(fallbacks={"*": ["ant/c-1", "gem/g-1", "local/qwen"]},
                         max_attempts=2)
    chains = {k: v for item in build(settings).config["router_settings"]["fallbacks"]
              for k, v in item.items()}
    assert chains["*"] == ["ant/c-1"]
    assert chains["main/gpt-x"] == ["ant/c-1"]


def test_a_fallback_to_an_unlisted_model_makes_its_group():
    settings = _settings(fallbacks={"main/gpt-x": ["ant/c-unlisted"]})
    export = build(settings)
    assert _entries(export.config)["ant/c-unlisted"]["model"] == "anthropic/c-unlisted"


def test_what_litellm_cannot_express_is_said():
    settings = _settings(aliases={"claude-?": "ant/c-1", "c*-latest": "gem/g-1",
                                  "ma*": "gem/g-1"},
                         scenarios={"subagent": "gem/g-1"},
                         fallbacks={"main/*": ["ant/c-1"]})
    export = build(settings)
    said = "\n".join(export.not_carried)
    assert "subagent → gem/g-1" in said and "scenario" in said
    assert "local keys" in said
    assert "'claude-?'" in said and "claude-?" not in _entries(export.config)
    assert "'c*-latest'" in said and "start of a name" in said
    assert "local's quirks (system_first)" in said
    assert "ant speaks messages, chat" in said and "chat are translated" in said
    # byecore tries main/* (a provider) before the alias ma*; LiteLLM the longer first
    assert "LiteLLM tries 'main/*' before" not in said
    assert "fallbacks for 'main/*'" in said


def test_order_note_when_litellm_would_try_a_longer_pattern_first():
    settings = _settings(aliases={"gpt*": "gem/g-1", "gpt-x*-long": "ant/c-1"})
    said = "\n".join(build(settings).not_carried)
    assert "LiteLLM tries 'gpt-x*-long' before 'gpt*'" in said


def test_keys_go_by_reference_and_stored_keys_get_their_own_variable(cli, byecore_home,
                                                                      monkeypatch):
    _save(byecore_home, _settings())
    result = cli("export", "litellm")
    assert result.exit_code == 0
    config = yaml.safe_load(result.stdout)  # stdout is the YAML alone
    assert _entries(config)["main/gpt-x"]["api_key"] == "os.environ/BYECORE_MAIN_API_KEY"
    assert STORED not in result.stdout + result.stderr
    assert "export BYECORE_MAIN_API_KEY=" in result.stderr
    assert "byecore provider show main --show-key" in result.stderr
    assert "export ANT_KEY=" in result.stderr and "LITELLM_MASTER_KEY" in result.stderr
    assert config["general_settings"]["master_key"] == "os.environ/LITELLM_MASTER_KEY"
    assert "Does not carry over" in result.stderr


def test_with_keys_writes_them_into_a_private_file(cli, byecore_home, tmp_path, monkeypatch):
    monkeypatch.setenv("ANT_KEY", "sk-ant-env-value-42")
    _save(byecore_home, _settings())
    out = tmp_path / "gw" / "config.yaml"
    result = cli("export", "litellm", "--out", str(out), "--with-keys")
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "holds API keys" in result.stdout
    entries = _entries(yaml.safe_load(out.read_text()))
    assert entries["main/gpt-x"]["api_key"] == STORED
    assert entries["ant/c-1"]["api_key"] == "sk-ant-env-value-42"
    assert entries["gem/g-1"]["api_key"] == "os.environ/GEM_KEY"  # unset: stays a reference
    assert STORED not in result.stdout  # the key is in the file, not on the screen


def test_out_refuses_to_overwrite_and_a_plain_file_is_not_private(cli, byecore_home, tmp_path):
    _save(byecore_home, _settings())
    out = tmp_path / "config.yaml"
    out.write_text("mine\n")
    result = cli("export", "litellm", "--out", str(out))
    assert result.exit_code == 2 and "--force" in result.stderr
    assert out.read_text() == "mine\n"
    out.unlink()
    assert cli("export", "litellm", "--out", str(out)).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert STORED not in out.read_text()
    assert cli("export", "litellm", "--out", str(tmp_path)).exit_code == 2  # a folder


def test_json_envelope_holds_the_config_and_the_yaml(cli, byecore_home):
    _save(byecore_home, _settings(aliases={"fast": "gem/g-1"}))
    result = cli("export", "litellm", "--json", "--gateway-url", "https://llm.team.example/")
    envelope = json.loads(result.stdout)
    assert envelope["ok"] and envelope["command"] == "export litellm"
    data = envelope["data"]
    assert yaml.safe_load(data["yaml"]) == data["config"]
    assert data["gateway_url"] == "https://llm.team.example"
    claude = next(c for c in data["clients"] if c["client"] == "Claude Code")
    assert claude["settings"]["ANTHROPIC_BASE_URL"] == "https://llm.team.example"
    assert any("--base-url https://llm.team.example" in c for c in data["commands"])
    keys = {k["provider"]: k for k in data["keys"]}
    assert keys["main"]["source"] == "stored" and keys["local"]["variable"] is None
    assert STORED not in result.stdout


def test_nothing_saved_is_a_clear_error(cli):
    result = cli("export", "litellm")
    assert result.exit_code == 1 and "no provider saved" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("names", [("a-b", "a_b"), ("work", "x")])
def test_stored_key_variables_never_collide(names):
    providers = {n: {"base_url": "https://x.example", "protocols": ["chat"], "key": "sk-1234567"}
                 for n in names}
    if "x" in names:  # another provider already reads the name byecore would pick
        providers["x"] = {"base_url": "https://x.example", "protocols": ["chat"],
                          "key_env": "BYECORE_WORK_API_KEY"}
    variables = [k.variable for k in build(Settings.model_validate(
        {"providers": providers})).keys]
    assert len(set(variables)) == len(variables)


def _save(home, settings: Settings) -> None:
    import tomlkit

    home.mkdir(exist_ok=True)
    data = settings.model_dump(exclude_defaults=True)
    (home / "settings.toml").write_text(tomlkit.dumps(data))


def test_a_gateway_url_must_be_a_url(cli, byecore_home):
    _save(byecore_home, _settings())
    result = cli("export", "litellm", "--gateway-url", "localhost:4000")
    assert result.exit_code == 2 and "http://" in result.stderr
