"""Qwen Code's writer: ~/.qwen/settings.json keeps every other key, entry and comment."""

from __future__ import annotations

from byecore_cli.clients import jsonedit
from byecore_cli.clients.qwen import KEY_VAR, Qwen
from tests.clients.conftest import place, setup_then_hand_edit
from tests.clients.factory import FIXTURES, KEY, make_target, proxy_target

SETTINGS = (FIXTURES / "qwen-settings.json").read_bytes()


def plan(target=None, settings=SETTINGS):
    return Qwen().plan(target or make_target(), {"settings": settings})


def parsed(data: bytes) -> dict:
    return jsonedit.loads(data.decode(), comments=True)


def test_byecore_entries_come_first_and_the_users_stay():
    out = plan().files["settings"]
    data = parsed(out)
    ours, mine = data["modelProviders"]["openai"][:2], data["modelProviders"]["openai"][2:]
    assert [e["id"] for e in ours] == ["gpt-5.4", "gpt-5.4-mini"]
    assert ours[0] == {"id": "gpt-5.4", "name": "byecore: byecore",
                       "baseUrl": "https://api.example.com/v1", "envKey": KEY_VAR,
                       "generationConfig": {"contextWindowSize": 400_000}}
    assert mine == [parsed(SETTINGS)["modelProviders"]["openai"][0]]
    assert data["security"] == {"auth": {"selectedType": "openai"},
                                "folderTrust": {"enabled": True}}
    assert data["model"] == {"name": "gpt-5.4", "maxSessionTurns": 40}
    assert data["env"] == {KEY_VAR: KEY}
    old = parsed(SETTINGS)
    for key in ("ui", "privacy"):
        assert data[key] == old[key]
    assert data["modelProviders"]["anthropic"] == old["modelProviders"]["anthropic"]
    assert b"// Qwen Code settings" in out


def test_a_stored_key_makes_the_file_secret_and_an_env_key_is_only_named():
    assert plan().secret == frozenset({"settings"})
    p = plan(make_target(key="sk-env-value", key_env="GW_KEY"))
    data = parsed(p.files["settings"])
    assert {e["envKey"] for e in data["modelProviders"]["openai"][:2]} == {"GW_KEY"}
    assert "env" not in data and b"sk-env-value" not in p.files["settings"]
    assert p.secret == frozenset()


def test_via_the_proxy_the_local_key_is_stored_even_with_an_env_key():
    p = plan(proxy_target(key_env="GW_KEY"), settings=None)
    data = parsed(p.files["settings"])
    assert data["modelProviders"]["openai"][0]["baseUrl"] == "http://127.0.0.1:4000/v1"
    assert data["env"][KEY_VAR].startswith("bc-local-")
    assert data["model"]["name"] == "byecore/gpt-5.4"


def test_a_second_plan_is_byte_identical_and_a_switch_replaces_byecores_entries():
    first = plan()
    assert plan(settings=first.files["settings"]).files == first.files
    switched = parsed(plan(make_target(provider="other", models=("m1",), model="m1"),
                           settings=first.files["settings"]).files["settings"])
    assert [e["id"] for e in switched["modelProviders"]["openai"]] == ["m1",
                                                                       "qwen3-coder-plus"]


def test_read_reports_the_setup_and_a_foreign_auth_type():
    reading = Qwen().read({"settings": plan().files["settings"]})
    assert reading.configured and reading.model == "gpt-5.4"
    assert reading.base_url == "https://api.example.com/v1" and not reading.problems
    assert not Qwen().read({"settings": SETTINGS}).configured
    edited = plan().files["settings"].replace(b'"selectedType": "openai"',
                                               b'"selectedType": "gemini"')
    reading = Qwen().read({"settings": edited})
    assert not reading.configured and "selectedType is 'gemini'" in reading.problems[0]


def test_qwen_home_moves_the_file():
    files = Qwen().files({"QWEN_HOME": "/q"}, FIXTURES)
    assert str(files["settings"].path) == "/q/settings.json"


def test_setup_restore_and_hand_edits_through_the_cli(run, gateway, home):
    settings = home / ".qwen" / "settings.json"
    place("qwen-settings.json", settings)
    setup_then_hand_edit(run, home, "qwen", settings, '"name": "gpt-5.4"',
                         '"name": "qwen3-coder-plus"')
    code, body = run("status")
    [row] = [r for r in body["data"]["clients"] if r["client"] == "qwen"]
    assert row["hand_edited"] and row["model"] == "qwen3-coder-plus"
    assert run("setup", "qwen", "--force")[0] == 0
    assert parsed(settings.read_bytes())["model"]["name"] == "gpt-5.4"
