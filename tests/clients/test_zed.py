"""Zed's writer: an openai_compatible provider, never the user's openai one, no key."""

from __future__ import annotations

import json5
import pytest

from byecore_cli.clients.base import Unparsable
from byecore_cli.clients.zed import Zed
from tests.clients.factory import FIXTURES, KEY, make_target, proxy_target

SETTINGS = (FIXTURES / "zed-settings.json").read_bytes()


def plan(target=None, settings=SETTINGS):
    return Zed().plan(target or make_target(), {"settings": settings})


def test_comments_and_other_providers_survive():
    out = plan().files["settings"].decode()
    src = SETTINGS.decode()
    # everything up to the end of the user's ollama entry, and the theme line, untouched
    cut = src.index('"ollama": { "api_url": "http://localhost:11434" },')
    assert out.startswith(src[:cut])
    assert '"theme": { "mode": "system", "light": "One Light", "dark": "One Dark" },\n}' in out
    assert '"always_allow_tool_actions": false,' in out
    data = json5.loads(out)  # Zed's JSONC: comments and trailing commas
    assert data["language_models"]["openai"] == {
        "api_url": "https://api.openai.com/v1",
        "available_models": [{"name": "gpt-4.1", "max_tokens": 1047576}]}


def test_entry_has_what_zed_needs_and_no_key():
    p = plan()
    data = json5.loads(p.files["settings"])
    entry = data["language_models"]["openai_compatible"]["byecore"]
    assert entry["api_url"] == "https://api.example.com/v1"
    assert entry["available_models"][0] == {
        "name": "gpt-5.4", "display_name": "gpt-5.4 (byecore: byecore)",
        "max_tokens": 400_000, "max_output_tokens": 128_000}
    assert data["agent"]["default_model"] == {"provider": "byecore", "model": "gpt-5.4"}
    assert KEY not in p.files["settings"].decode() and p.secret == frozenset()
    assert any("BYECORE_API_KEY" in n and "keychain" in n for n in p.notes)


def test_env_key_note_names_both_variables():
    note = plan(make_target(key_env="GW_KEY")).notes[0]
    assert "$BYECORE_API_KEY" in note and "$GW_KEY" in note


def test_idempotent_and_fresh_file():
    first = plan()
    assert plan(settings=first.files["settings"]).files == first.files
    fresh = json5.loads(plan(proxy_target(), None).files["settings"])
    assert fresh["language_models"]["openai_compatible"]["byecore"]["api_url"] == (
        "http://127.0.0.1:4000/v1")
    assert "bc-local" not in plan(proxy_target(), None).notes[0]  # never print a key


@pytest.mark.parametrize("bad", [b'{"agent": }', b'{"language_models": []}', b"[1]"])
def test_broken_settings_raise_unparsable(bad):
    with pytest.raises(Unparsable):
        plan(settings=bad)


def test_read():
    reading = Zed().read(plan().files)
    assert reading.configured and reading.model == "gpt-5.4"
    assert reading.base_url == "https://api.example.com/v1"
    assert not Zed().read({"settings": SETTINGS}).configured
