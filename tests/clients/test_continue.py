"""Continue's writer: byecore's model items first, the user's config byte for byte."""

from __future__ import annotations

import pytest
import yaml

from byecore_cli.clients.base import Unparsable
from byecore_cli.clients.continue_ import Continue
from tests.clients.factory import FIXTURES, KEY, make_target, proxy_target

CONFIG = (FIXTURES / "continue-config.yaml").read_bytes()


def plan(target=None, config=CONFIG, env=None):
    return Continue().plan(target or make_target(), {"config": config, "env": env})


def ours(data) -> list[dict]:
    return [m for m in data["models"] if m["name"].endswith(" (byecore)")]


def test_user_text_survives_and_byecore_items_come_first():
    out = plan().files["config"].decode()
    src = CONFIG.decode()
    head, user_items = src.split("models:\n")
    assert out.startswith(head + "models:\n")
    assert out.endswith(user_items)  # comment, the user's models, context, rules: intact
    data = yaml.safe_load(out)
    assert [m["name"] for m in data["models"]] == [
        "gpt-5.4 (byecore)", "gpt-5.4-mini (byecore)", "Qwen Coder (local)", "Claude at work"]
    assert data["name"] == "My Config" and data["rules"] == ["Give concise responses"]


def test_items_have_what_continue_needs():
    first = ours(yaml.safe_load(plan().files["config"]))[0]
    assert first == {
        "name": "gpt-5.4 (byecore)", "provider": "openai", "model": "gpt-5.4",
        "apiBase": "https://api.example.com/v1", "apiKey": KEY,
        "roles": ["chat", "edit", "apply", "summarize"],
        "defaultCompletionOptions": {"contextLength": 400_000, "maxTokens": 128_000},
        "useResponsesApi": False}


def test_gpt5_ids_get_use_responses_api_false_and_a_note():
    p = plan(make_target(model="qwen3-coder", models=("qwen3-coder", "gpt-5.4")))
    items = ours(yaml.safe_load(p.files["config"]))
    assert "useResponsesApi" not in items[0] and items[1]["useResponsesApi"] is False
    assert any("/responses" in n and "cn" in n for n in p.notes)
    assert not any("/responses" in n for n in plan(make_target(
        model="qwen3-coder", models=("qwen3-coder",))).notes)


def test_idempotent_and_switching_replaces_byecore_items_only():
    first = plan().files["config"]
    assert plan(config=first).files["config"] == first
    switched = plan(make_target(model="deepseek-chat", models=("deepseek-chat",)),
                    config=first).files["config"]
    data = yaml.safe_load(switched)
    assert [m["name"] for m in data["models"]] == [
        "deepseek-chat (byecore)", "Qwen Coder (local)", "Claude at work"]
    assert switched.decode().endswith(CONFIG.decode().split("models:\n")[1])


def test_env_key_is_a_secret_reference_and_goes_to_dot_env():
    p = plan(make_target(key_env="BYECORE_API_KEY"), env=b"OTHER=1\nBYECORE_API_KEY=old\n")
    assert ours(yaml.safe_load(p.files["config"]))[0]["apiKey"] == (
        "${{ secrets.BYECORE_API_KEY }}")
    assert p.files["env"] == f"OTHER=1\nBYECORE_API_KEY={KEY}\n".encode()
    assert p.secret == frozenset({"env"})
    unset = plan(make_target(key=None, key_env="BYECORE_API_KEY"))
    assert "env" not in unset.files and any(".env" in n for n in unset.notes)


def test_fresh_file_has_the_required_top_level_keys():
    p = plan(proxy_target(), config=None)
    data = yaml.safe_load(p.files["config"])
    assert {"name", "version", "schema"} <= set(data) and data["schema"] == "v1"
    assert data["models"][0]["apiBase"] == "http://127.0.0.1:4000/v1"
    assert data["models"][0]["model"] == "byecore/gpt-5.4"


def test_empty_flow_list_and_missing_header_are_handled():
    src = b"models: []\nrules:\n  - be brief\n"
    data = yaml.safe_load(plan(config=src).files["config"])
    assert [m["model"] for m in data["models"]] == ["gpt-5.4", "gpt-5.4-mini"]
    assert data["rules"] == ["be brief"] and data["version"] == "1.0.0"


@pytest.mark.parametrize("bad", [b"models: [unclosed\n", b"models: 3\n", b"- a\n"])
def test_broken_config_raises_unparsable(bad):
    with pytest.raises(Unparsable):
        plan(config=bad)


def test_read():
    reading = Continue().read({"config": plan().files["config"], "env": None})
    assert reading.configured and reading.model == "gpt-5.4"
    assert reading.owned["models.gpt-5.4 (byecore).api_key"] == KEY
    assert reading.problems == []
    assert len(Continue().read({"config": b"models: []\n", "env": None}).problems) == 2
    assert Continue().read({"config": None, "env": None}).problems == []  # no file yet


def test_inline_models_list_keeps_its_comment_and_byecore_comes_first():
    config = (b"name: Mine\nversion: 1.0.0\nschema: v1\n"
              b"models: [{name: Local, provider: ollama, model: qwen3}]  # my models\n"
              b"rules: [Be brief]\n")
    out = plan(config=config).files["config"]
    text = out.decode()
    assert text.startswith("name: Mine\nversion: 1.0.0\nschema: v1\nmodels:  # my models\n")
    assert text.endswith("rules: [Be brief]\n")
    data = yaml.safe_load(out)
    assert [m["name"] for m in data["models"]] == [
        "gpt-5.4 (byecore)", "gpt-5.4-mini (byecore)", "Local"]  # byecore's is the default
    assert data["models"][2] == {"name": "Local", "provider": "ollama", "model": "qwen3"}
    assert plan(config=out).files["config"] == out
    switched = plan(make_target(model="deepseek-chat", models=("deepseek-chat",)),
                    config=out).files["config"].decode()
    assert "models:  # my models\n" in switched
    assert [m["name"] for m in yaml.safe_load(switched)["models"]] == [
        "deepseek-chat (byecore)", "Local"]


def test_empty_inline_models_list_keeps_its_comment():
    out = plan(config=b"name: Mine\nversion: 1.0.0\nmodels: []  # none yet\n").files["config"]
    assert out.decode().startswith("name: Mine\nversion: 1.0.0\nmodels:  # none yet\n  - ")
    assert yaml.safe_load(out)["models"][0]["name"] == "gpt-5.4 (byecore)"


def test_comments_inside_a_multi_line_flow_list_are_not_dropped_silently():
    config = (b"name: Mine\nversion: 1.0.0\nmodels: [\n"
              b"  {name: Local, provider: ollama, model: qwen3},  # the fast one\n]\n")
    with pytest.raises(Unparsable, match="comments inside"):
        plan(config=config)


def test_models_that_is_not_a_list_is_a_problem_not_a_crash():
    for odd in (b"models: 1\n", b"models: true\n", b"models: {a: 1}\n"):
        reading = Continue().read({"config": odd, "env": None})
        assert not reading.configured
        assert any("models" in p and "not a list" in p for p in reading.problems)
        with pytest.raises(Unparsable, match="models is not a list"):
            plan(config=odd)
