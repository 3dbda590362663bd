"""OpenCode's writer: JSONC comments and other providers survive; {env:} keys."""

from __future__ import annotations

import json5
import pytest

from byecore_cli.clients.base import Unparsable
from byecore_cli.clients.opencode import OpenCode
from tests.clients.factory import FIXTURES, KEY, make_target, proxy_target

JSONC = (FIXTURES / "opencode.jsonc").read_bytes()


def plan(target=None, **current):
    current = current or {"json": None, "jsonc": JSONC}
    return OpenCode().plan(target or make_target(), current)


def test_jsonc_comments_and_other_settings_survive():
    p = plan()
    assert set(p.files) == {"jsonc"}
    out = p.files["jsonc"].decode()
    # the user's text before our provider entry and after the replaced model, intact
    head = JSONC.decode().split('    },\n  },\n  /* MCP')[0]
    assert out.startswith(head)
    for line in ("// my local models", '"options": { "baseURL": "http://localhost:11434/v1" }, '
                 "// no key needed", "/* MCP servers I use every day */",
                 '"context7": { "type": "remote", "url": "https://mcp.context7.com/mcp" },',
                 '"theme": "tokyonight",'):
        assert line in out
    config = json5.loads(out)  # JSONC with trailing commas, as OpenCode accepts it
    assert config["provider"]["ollama"]["models"] == {"qwen3-coder": {}}
    assert list(config["provider"]) == ["ollama", "byecore"]
    assert config["model"] == "byecore/gpt-5.4"


def test_provider_entry_has_what_opencode_needs():
    config = json5.loads(plan().files["jsonc"])
    entry = config["provider"]["byecore"]
    assert entry["npm"] == "@ai-sdk/openai-compatible"
    assert entry["options"] == {"baseURL": "https://api.example.com/v1", "apiKey": KEY}
    assert entry["models"]["gpt-5.4"]["limit"] == {"context": 400_000, "output": 128_000}
    assert entry["models"]["gpt-5.4-mini"]["limit"] == {"context": 128_000, "output": 32_000}


def test_key_in_an_env_var_is_referenced_not_written():
    p = plan(make_target(key_env="BYECORE_API_KEY"))
    entry = json5.loads(p.files["jsonc"])["provider"]["byecore"]
    assert entry["options"]["apiKey"] == "{env:BYECORE_API_KEY}"
    assert KEY not in p.files["jsonc"].decode() and p.secret == frozenset()


def test_literal_key_makes_the_file_secret():
    assert plan().secret == frozenset({"jsonc"})


def test_second_plan_is_identical():
    first = plan()
    assert plan(json=None, jsonc=first.files["jsonc"]).files == first.files


def test_new_file_is_opencode_json_with_schema():
    p = plan(proxy_target(), json=None, jsonc=None)
    config = json5.loads(p.files["json"])
    assert config["$schema"] == "https://opencode.ai/config.json"
    assert config["model"] == "byecore/byecore/gpt-5.4"
    assert config["provider"]["byecore"]["options"]["baseURL"] == "http://127.0.0.1:4000/v1"


def test_plain_json_stays_valid_json():
    import json
    src = b'{\n  "theme": "opencode",\n  "provider": {}\n}\n'
    out = plan(json=src, jsonc=None).files["json"]
    assert json.loads(out)["theme"] == "opencode"
    assert out.startswith(b'{\n  "theme": "opencode",\n  "provider": {')


def test_broken_file_raises_unparsable():
    with pytest.raises(Unparsable) as caught:
        plan(json=None, jsonc=b'{ "provider": { "x": } }')
    assert caught.value.role == "jsonc" and caught.value.line == 1
    with pytest.raises(Unparsable):
        plan(json=None, jsonc=b'{ "provider": [] }')


def test_read_reports_the_active_provider():
    reading = OpenCode().read({"json": None, "jsonc": plan().files["jsonc"]})
    assert reading.configured and reading.model == "byecore/gpt-5.4"
    assert reading.base_url == "https://api.example.com/v1"
    assert reading.owned["provider.byecore.api_key"] == KEY
    before = OpenCode().read({"json": None, "jsonc": JSONC})
    assert not before.configured and before.base_url == "http://localhost:11434/v1"


def test_check_env():
    assert OpenCode().check_env({"OPENCODE_CONFIG": "/x.json"})
    assert OpenCode().check_env({}) == []


def test_a_small_model_on_the_vendor_moves_to_the_main_model():
    text = b'{\n  // mine\n  "model": "anthropic/claude-sonnet-4-5",\n' \
           b'  "small_model": "anthropic/claude-haiku-4-5"\n}\n'
    p = plan(json=None, jsonc=text)
    out = p.files["jsonc"].decode()
    data = json5.loads(out)
    assert data["small_model"] == "byecore/gpt-5.4" and "// mine" in out
    assert any("small_model was 'anthropic/claude-haiku-4-5'" in n for n in p.notes)
    # one byecore's provider offers stays, and none at all stays none
    kept = plan(json=None, jsonc=b'{"small_model": "byecore/gpt-5.4-mini"}')
    assert json5.loads(kept.files["jsonc"])["small_model"] == "byecore/gpt-5.4-mini"
    assert "small_model" not in json5.loads(plan(json=None, jsonc=b"{}").files["jsonc"])


def test_a_small_model_in_the_other_file_is_overridden_in_the_edited_one():
    p = plan(json=b'{"small_model": "openai/gpt-4o-mini"}', jsonc=b"{}")
    assert json5.loads(p.files["jsonc"])["small_model"] == "byecore/gpt-5.4"
    assert "json" not in p.files  # the other file is not touched


def test_check_env_names_every_variable_that_loads_config_over_the_global_file():
    found = OpenCode().check_env({"OPENCODE_CONFIG_DIR": "/x", "OPENCODE_CONFIG_CONTENT": "{}"})
    assert [p.split(":")[0] for p in found] == ["your shell sets OPENCODE_CONFIG_DIR",
                                                "your shell sets OPENCODE_CONFIG_CONTENT"]


def test_restore_brings_back_the_vendor_small_model(run, gateway, home):
    from tests.clients.conftest import snapshot

    path = home / ".config" / "opencode" / "opencode.json"
    path.parent.mkdir(parents=True)
    path.write_text('{\n  "small_model": "anthropic/claude-haiku-4-5"\n}\n')
    before = snapshot(home)
    code, body = run("setup", "opencode", "--model", "gpt-5.4")
    assert code == 0, body
    assert json5.loads(path.read_text())["small_model"] == "byecore/gpt-5.4"
    assert run("restore", "opencode")[0] == 0
    assert snapshot(home) == before
