"""Pi's writer: models.json (JSONC) and settings.json (strict JSON) keep everything else."""

from __future__ import annotations

import json

import pytest

from byecore_cli.clients import jsonedit
from byecore_cli.clients.base import Unparsable
from byecore_cli.clients.pi import Pi
from tests.clients.conftest import place, setup_then_hand_edit
from tests.clients.factory import FIXTURES, KEY, make_target, proxy_target

MODELS = (FIXTURES / "pi-models.json").read_bytes()
SETTINGS = (FIXTURES / "pi-settings.json").read_bytes()


def plan(target=None, models=MODELS, settings=SETTINGS):
    return Pi().plan(target or make_target(), {"models": models, "settings": settings})


def test_the_byecore_provider_is_added_and_the_users_stays_with_its_comment():
    p = plan()
    out = p.files["models"]
    data = jsonedit.loads(out.decode(), comments=True)
    assert data["providers"]["ollama"] == jsonedit.loads(MODELS.decode(),
                                                         comments=True)["providers"]["ollama"]
    assert data["providers"]["byecore"] == {
        "baseUrl": "https://api.example.com/v1", "api": "openai-completions", "apiKey": KEY,
        "models": [{"id": "gpt-5.4", "name": "gpt-5.4", "contextWindow": 400_000,
                    "maxTokens": 128_000},
                   {"id": "gpt-5.4-mini", "name": "gpt-5.4-mini", "contextWindow": 128_000,
                    "maxTokens": 32_000}]}
    assert b"// local models, kept by hand" in out
    assert p.secret == frozenset({"models"})
    settings = json.loads(p.files["settings"])  # strict JSON, as Pi parses it
    assert settings == {"defaultProvider": "byecore", "defaultModel": "gpt-5.4",
                        "defaultThinkingLevel": "medium", "theme": "dark"}
    assert list(settings) == list(json.loads(SETTINGS))


def test_an_env_key_is_written_as_its_name_and_the_proxy_key_as_itself():
    p = plan(make_target(key="sk-env-value", key_env="GW_KEY"))
    entry = jsonedit.loads(p.files["models"].decode(), comments=True)["providers"]["byecore"]
    assert entry["apiKey"] == "GW_KEY" and b"sk-env-value" not in p.files["models"]
    assert p.secret == frozenset()
    p = plan(proxy_target(key_env="GW_KEY"), models=None, settings=None)
    entry = json.loads(p.files["models"])["providers"]["byecore"]
    assert entry["apiKey"].startswith("bc-local-")
    assert entry["baseUrl"] == "http://127.0.0.1:4000/v1"
    assert json.loads(p.files["settings"])["defaultModel"] == "byecore/gpt-5.4"


def test_a_second_plan_is_byte_identical_and_read_reports_the_setup():
    first = plan()
    again = plan(models=first.files["models"], settings=first.files["settings"])
    assert again.files == first.files
    reading = Pi().read(first.files)
    assert reading.configured and reading.model == "gpt-5.4"
    assert reading.base_url == "https://api.example.com/v1"
    assert not Pi().read({"models": MODELS, "settings": SETTINGS}).configured


def test_settings_with_a_comment_are_refused_because_pi_parses_strict_json():
    with pytest.raises(Unparsable) as err:
        plan(settings=b'{\n  // no\n  "theme": "dark"\n}\n')
    assert err.value.role == "settings"


def test_pi_coding_agent_dir_moves_both_files():
    files = Pi().files({"PI_CODING_AGENT_DIR": "/p"}, FIXTURES)
    assert {str(f.path) for f in files.values()} == {"/p/models.json", "/p/settings.json"}


def test_setup_restore_and_hand_edits_through_the_cli(run, gateway, home):
    folder = home / ".pi" / "agent"
    place("pi-models.json", folder / "models.json")
    place("pi-settings.json", folder / "settings.json")
    settings = folder / "settings.json"
    body = setup_then_hand_edit(run, home, "pi", folder / "models.json",
                                '"defaultModel": "gpt-5.4"', '"defaultModel": "other"',
                                edited=settings)
    assert [e["key"] for e in body["error"]["edits"]] == ["settings:defaultModel"]
    assert run("setup", "pi", "--force")[0] == 0
    assert json.loads(settings.read_text())["defaultModel"] == "gpt-5.4"
