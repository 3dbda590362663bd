"""Aider's writer: YAML comments survive, the metadata entry silences the warning."""

from __future__ import annotations

import json

import json5
import pytest
import yaml  # PyYAML: configargparse, which aider uses, loads the file with it

from byecore_cli.clients.aider import Aider
from byecore_cli.clients.base import Unparsable
from byecore_cli.errors import UsageError
from tests.clients.factory import FIXTURES, KEY, make_target, proxy_target, without

CONF = (FIXTURES / "aider.conf.yml").read_bytes()
META = (FIXTURES / "aider.model.metadata.json").read_bytes()
OWNED = ("openai-api-base", "openai-api-key", "model:")


def plan(target=None, conf=CONF, meta=META):
    return Aider().plan(target or make_target(), {"config": conf, "metadata": meta})


def test_owned_keys_are_set_and_everything_else_survives_byte_for_byte():
    p = plan()
    conf = p.files["config"].decode()
    assert without(conf, *OWNED) == without(CONF.decode(), *OWNED)
    assert "model: openai/gpt-5.4   # the old default\n" in conf  # comment kept in place
    data = yaml.safe_load(conf)
    assert data["openai-api-base"] == "https://api.example.com/v1"
    assert data["openai-api-key"] == KEY
    assert data["model"] == "openai/gpt-5.4"
    assert data["read"] == ["CONVENTIONS.md", "docs/style.md"]
    assert p.secret == frozenset({"config"})


def test_metadata_entry_has_the_limits_and_keeps_the_users_entries():
    out = plan().files["metadata"].decode()
    assert out.startswith(META.decode().rsplit("}", 2)[0])  # the user's entry, untouched
    meta = json5.loads(out)  # aider reads this file with json5
    assert meta["ollama/qwen3-coder"]["max_input_tokens"] == 32768
    assert meta["openai/gpt-5.4"] == {"max_input_tokens": 400_000, "max_output_tokens": 128_000,
                                      "litellm_provider": "openai", "mode": "chat"}
    assert meta["openai/gpt-5.4-mini"]["max_input_tokens"] == 128_000  # default limits


def test_second_plan_returns_identical_bytes():
    first = plan()
    again = plan(conf=first.files["config"], meta=first.files["metadata"])
    assert again.files == first.files


def test_a_fresh_home_gets_both_files():
    p = plan(conf=None, meta=None)
    assert yaml.safe_load(p.files["config"]) == {
        "openai-api-base": "https://api.example.com/v1", "openai-api-key": KEY,
        "model": "openai/gpt-5.4"}
    meta = json.loads(p.files["metadata"])
    assert set(meta) == {"openai/gpt-5.4", "openai/gpt-5.4-mini"}


def test_a_key_kept_in_openai_api_key_is_not_written():
    p = plan(make_target(key_env="OPENAI_API_KEY"))
    data = yaml.safe_load(p.files["config"])
    assert "openai-api-key" not in data and p.secret == frozenset()


def test_other_key_variable_needs_its_value_now():
    with pytest.raises(UsageError, match="BYECORE_API_KEY"):
        plan(make_target(key=None, key_env="BYECORE_API_KEY"))
    p = plan(make_target(key_env="BYECORE_API_KEY"))
    assert yaml.safe_load(p.files["config"])["openai-api-key"] == KEY
    assert any("BYECORE_API_KEY" in n for n in p.notes)


def test_via_proxy_uses_the_proxy_url_and_prefixed_model():
    data = yaml.safe_load(plan(proxy_target()).files["config"])
    assert data["openai-api-base"] == "http://127.0.0.1:4000/v1"
    assert data["model"] == "openai/byecore/gpt-5.4"


@pytest.mark.parametrize("role,bad", [
    ("config", b"model: [unclosed\n"),
    ("config", b"- a\n- list at the top\n"),
    ("metadata", b'{"openai/x": {,}}'),
])
def test_broken_files_raise_unparsable(role, bad):
    current = {"config": CONF, "metadata": META, role: bad}
    with pytest.raises(Unparsable) as caught:
        Aider().plan(make_target(), current)
    assert caught.value.role == role


def test_read_reports_what_aider_points_at():
    p = plan()
    reading = Aider().read(p.files)
    assert reading.configured and reading.base_url == "https://api.example.com/v1"
    assert reading.model == "openai/gpt-5.4"
    assert reading.owned["openai_api_key"] == KEY  # named so byecore's history masks it
    assert reading.problems == []
    bad = Aider().read({"config": b"openai-api-base: https://x.example.com\nmodel: m\n",
                        "metadata": None})
    assert any("/v1" in p for p in bad.problems)
    assert any("openai/" in p for p in bad.problems)


def test_check_env_names_aider_variables_that_win():
    assert Aider().check_env({"AIDER_MODEL": "x"}) == [
        "your shell sets AIDER_MODEL, which wins over model in .aider.conf.yml"]
    assert Aider().check_env({}) == []


def test_openai_base_url_in_the_shell_wins_over_the_file():
    # litellm 1.81.10 (aider 0.86.2's pin) picks api_base as OPENAI_BASE_URL or
    # OPENAI_API_BASE, and aider puts openai-api-base into OPENAI_API_BASE
    found = Aider().check_env({"OPENAI_BASE_URL": "https://api.openai.com/v1",
                               "OPENAI_API_BASE": "https://loses.example.com/v1",
                               "OPENAI_API_KEY": "sk-loses-to-the-file-000"})
    assert found == ["your shell sets OPENAI_BASE_URL, which wins over openai-api-base "
                     "(litellm reads OPENAI_BASE_URL first) in .aider.conf.yml"]


def test_a_dotenv_in_home_counts_as_the_environment(tmp_path):
    (tmp_path / ".env").write_text("# keys\nOPENAI_API_KEY=sk-x\n"
                                   "export AIDER_WEAK_MODEL=gpt-4o-mini\nOPENAI_BASE_URL=\n")
    assert Aider().check_env({"HOME": str(tmp_path)}) == [
        "~/.env sets AIDER_WEAK_MODEL (line 3): aider loads that file into its environment, "
        "where it wins over weak-model in .aider.conf.yml"]


def test_secondary_models_on_the_vendor_move_to_the_main_model():
    conf = CONF + b"weak-model: gpt-4o-mini  # cheap\neditor-model: anthropic/claude-sonnet-4-5\n"
    p = plan(conf=conf)
    data = yaml.safe_load(p.files["config"])
    assert data["weak-model"] == "openai/gpt-5.4" and data["editor-model"] == "openai/gpt-5.4"
    assert "weak-model: openai/gpt-5.4  # cheap\n" in p.files["config"].decode()
    assert [n.split(" was ")[0] for n in p.notes if "does not offer" in n] == [
        "weak-model", "editor-model"]
    # one the provider offers stays; none at all stays none
    kept = plan(conf=CONF + b"weak-model: openai/gpt-5.4-mini\n")
    assert yaml.safe_load(kept.files["config"])["weak-model"] == "openai/gpt-5.4-mini"
    assert "weak-model" not in yaml.safe_load(plan().files["config"])


def test_set_env_openai_base_url_is_a_problem():
    reading = Aider().read({"config": b"openai-api-base: https://gw/v1\nmodel: openai/m\n"
                                      b"set-env:\n  - OPENAI_BASE_URL=https://api.openai.com/v1\n",
                            "metadata": None})
    assert any("set-env sets OPENAI_BASE_URL" in p for p in reading.problems)


def test_restore_brings_back_the_vendor_weak_model(run, gateway, home):
    from tests.clients.conftest import snapshot

    conf = home / ".aider.conf.yml"
    conf.write_bytes(CONF + b"weak-model: gpt-4o-mini\n")
    before = snapshot(home)
    code, body = run("setup", "aider", "--model", "gpt-5.4")
    assert code == 0, body
    assert yaml.safe_load(conf.read_text())["weak-model"] == "openai/gpt-5.4"
    assert any(n.startswith("weak-model was 'gpt-4o-mini'") for n in body["data"]["notes"])
    assert run("restore", "aider")[0] == 0
    assert snapshot(home) == before
