"""Droid's writer: byecore's customModels items only; the user's items survive."""

from __future__ import annotations

import contextlib
import json

import json5
import pytest

from byecore_cli.clients.base import Unparsable
from byecore_cli.clients.droid import Droid, model_id
from tests.clients.factory import FIXTURES, KEY, make_target, proxy_target

SETTINGS = (FIXTURES / "droid-settings.json").read_bytes()


def plan(target=None, settings=SETTINGS):
    return Droid().plan(target or make_target(), {"settings": settings})


def ours(data) -> list[dict]:
    return [m for m in data["customModels"] if m.get("id", "").startswith("custom:byecore-")]


def test_user_items_and_settings_survive_byte_for_byte():
    out = plan().files["settings"].decode()
    # byecore only appended after the user's last item: the rest is the same text
    cut = SETTINGS.decode().index('"maxOutputTokens": 32000 }') + len('"maxOutputTokens": 32000 }')
    assert out.startswith(SETTINGS.decode()[:cut])
    assert out.endswith(SETTINGS.decode()[cut:])
    data = json5.loads(out)  # Droid reads settings.json as JSONC
    assert [m["displayName"] for m in data["customModels"][:2]] == ["My Ollama", "Work Sonnet"]
    assert data["model"] == "custom:my-ollama-0" and data["enableCustomDroids"] is True


def test_items_have_what_droid_needs():
    data = json5.loads(plan().files["settings"])
    first, second = ours(data)
    assert first == {
        "id": "custom:byecore-gpt-5.4", "model": "gpt-5.4",
        "displayName": "gpt-5.4 (byecore: byecore)", "baseUrl": "https://api.example.com/v1",
        "apiKey": KEY, "provider": "generic-chat-completion-api",
        "maxContextLimit": 400_000, "maxOutputTokens": 128_000}
    assert second["id"] == "custom:byecore-gpt-5.4-mini"


def test_switching_provider_replaces_byecore_items_in_place_and_keeps_ids():
    first = plan().files["settings"]
    other = make_target(provider="deepseek", model="gpt-5.4", models=("gpt-5.4",),
                        openai_base="https://api.deepseek.example/v1")
    out = plan(other, first).files["settings"]
    data = json5.loads(out)
    assert [m["id"] for m in ours(data)] == ["custom:byecore-gpt-5.4"]
    assert ours(data)[0]["baseUrl"] == "https://api.deepseek.example/v1"
    assert len(data["customModels"]) == 3
    cut = SETTINGS.decode().index('"maxOutputTokens": 32000 }') + len('"maxOutputTokens": 32000 }')
    assert out.decode().startswith(SETTINGS.decode()[:cut])
    assert out.decode().endswith(SETTINGS.decode()[cut:])


def test_idempotent():
    first = plan()
    assert plan(settings=first.files["settings"]).files == first.files


def test_env_key_is_a_reference():
    p = plan(make_target(key_env="BYECORE_API_KEY"))
    assert {m["apiKey"] for m in ours(json5.loads(p.files["settings"]))} == {
        "${BYECORE_API_KEY}"}
    assert p.secret == frozenset()


def test_new_file_and_proxy_target():
    p = plan(proxy_target(), None)
    data = json5.loads(p.files["settings"])
    assert [m["id"] for m in data["customModels"]] == ["custom:byecore-byecore-gpt-5.4"]
    assert data["customModels"][0]["baseUrl"] == "http://127.0.0.1:4000/v1"
    assert p.secret == frozenset({"settings"})


def test_only_byecore_items_in_array_then_removed_cleanly():
    src = b'{\n  "customModels": [\n    {"id": "custom:byecore-old", "model": "old"}\n  ]\n}\n'
    data = json5.loads(plan(settings=src).files["settings"])
    assert [m["id"] for m in data["customModels"]] == [model_id("gpt-5.4"),
                                                        model_id("gpt-5.4-mini")]


@pytest.mark.parametrize("bad", [b'{"customModels": [,]}', b'{"customModels": {}}', b"[]"])
def test_broken_settings_raise_unparsable(bad):
    with pytest.raises(Unparsable):
        plan(settings=bad)


def test_read():
    reading = Droid().read(plan().files)
    assert reading.configured and reading.base_url == "https://api.example.com/v1"
    assert reading.owned["customModels.custom:byecore-gpt-5.4.api_key"] == KEY
    assert reading.problems == []


ODD = [None, 1, "x", [], [1], {}, True, {"byecore": 5}, {"byecore": None}, [{"name": 5}]]


@pytest.mark.parametrize("writer_name", ["droid", "crush", "zed"])
def test_json_writers_refuse_odd_shapes_clearly_never_crash(writer_name):
    # every writer byecore has for a JSON file: odd values where objects are expected
    # must give Unparsable (a clear error naming the file), never another exception
    from byecore_cli.clients.crush import Crush
    from byecore_cli.clients.zed import Zed

    writer = {"droid": Droid(), "crush": Crush(), "zed": Zed()}[writer_name]
    keys = {"droid": ["customModels", "model", "sessionDefaultSettings"],
            "crush": ["providers", "models", "options"],
            "zed": ["language_models", "agent"]}[writer_name]
    roles = list(writer.files({}, FIXTURES))
    for role in roles:
        for key in keys:
            for value in ODD:
                current = dict.fromkeys(roles)
                current[role] = json.dumps({key: value}).encode()
                for target in (make_target(), proxy_target()):
                    with contextlib.suppress(Unparsable):
                        writer.plan(target, current)
                with contextlib.suppress(Unparsable):
                    writer.read(current)
