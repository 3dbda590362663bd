"""Hermes Agent's writer: its custom_providers item and model selection, nothing else."""

from __future__ import annotations

import pytest
import yaml  # Hermes loads config.yaml with PyYAML

from byecore_cli.clients.base import Unparsable
from byecore_cli.clients.hermes import Hermes
from tests.clients.factory import FIXTURES, KEY, make_target, proxy_target, without

CONF = (FIXTURES / "hermes-config.yaml").read_bytes()


def plan(target=None, conf=CONF):
    return Hermes().plan(target or make_target(), {"config": conf})


def test_owned_keys_are_set_and_the_rest_survives_byte_for_byte():
    p = plan()
    out = p.files["config"].decode()
    before = CONF.decode()
    assert "  default: gpt-5.4   # what I use most\n" in out  # comment kept in place
    mine = out[out.index("  - name: byecore"):out.index("toolsets:")]
    assert without(out.replace(mine, ""), "default:", "provider: ") == without(
        before, "default:", "provider: ")
    data = yaml.safe_load(out)
    assert data["model"] == {"default": "gpt-5.4", "provider": "custom:byecore",
                             "base_url": "https://openrouter.ai/api/v1"}
    assert data["custom_providers"][0]["name"] == "local-llama"
    assert data["custom_providers"][1] == {
        "name": "byecore", "base_url": "https://api.example.com/v1", "api_key": KEY,
        "api_mode": "chat_completions", "model": "gpt-5.4",
        "models": {"gpt-5.4": {"context_length": 400_000},
                   "gpt-5.4-mini": {"context_length": 128_000}}}
    assert p.secret == frozenset({"config"})


def test_second_plan_returns_identical_bytes():
    first = plan()
    assert plan(conf=first.files["config"]).files == first.files


def test_a_key_kept_in_a_variable_is_referenced_not_written():
    p = plan(make_target(key_env="GW_KEY"), conf=None)
    data = yaml.safe_load(p.files["config"])
    assert data["custom_providers"][0]["key_env"] == "GW_KEY"
    assert "api_key" not in data["custom_providers"][0] and p.secret == frozenset()
    assert data["model"] == {"provider": "custom:byecore", "default": "gpt-5.4"}


def test_a_model_string_becomes_the_mapping_hermes_reads():
    p = plan(conf=b'model: ""\nagent:\n  max_turns: 90\n')
    data = yaml.safe_load(p.files["config"])
    assert data["model"] == {"provider": "custom:byecore", "default": "gpt-5.4"}
    assert data["agent"] == {"max_turns": 90}


def test_via_proxy_writes_the_local_key_and_proxy_url():
    data = yaml.safe_load(plan(proxy_target()).files["config"])
    entry = data["custom_providers"][1]
    assert entry["base_url"] == "http://127.0.0.1:4000/v1"
    assert entry["api_key"] == "bc-local-abc123def456ghi789"
    assert data["model"]["default"] == "byecore/gpt-5.4"


@pytest.mark.parametrize("bad", [b"model: [unclosed\n", b"custom_providers:\n  a: 1\n",
                                 b"model: {provider: x, default: y}\n"])
def test_files_byecore_cannot_edit_safely_are_refused(bad):
    with pytest.raises(Unparsable):
        plan(conf=bad)


def test_read_reports_the_selection_and_masks_nothing_it_owns():
    reading = Hermes().read(plan().files)
    assert reading.configured and reading.base_url == "https://api.example.com/v1"
    assert reading.model == "gpt-5.4" and reading.problems == []
    assert reading.owned["custom_providers.byecore.api_key"] == KEY
    assert "api_key" not in reading.owned["custom_providers.byecore"]
    user = Hermes().read({"config": CONF})
    assert not user.configured and user.label == "openrouter"
    dangling = Hermes().read({"config": b"model:\n  provider: custom:gone\n"})
    assert any("custom:gone" in p for p in dangling.problems)


def test_files_honour_hermes_home(tmp_path):
    files = Hermes().files({"HERMES_HOME": str(tmp_path / "h")}, tmp_path)
    assert files["config"].path == tmp_path / "h" / "config.yaml"
    assert Hermes().files({}, tmp_path)["config"].path == tmp_path / ".hermes" / "config.yaml"


def test_check_env_names_the_variables_that_win():
    assert Hermes().check_env({"HERMES_INFERENCE_MODEL": "x"}) == [
        "your shell sets HERMES_INFERENCE_MODEL, which wins over model.default in "
        "config.yaml for hermes -z and --tui runs"]
    assert Hermes().check_env({}) == []
    # config.yaml's model.provider is read before this one, in every Hermes entry point
    assert Hermes().check_env({"HERMES_INFERENCE_PROVIDER": "openrouter"}) == []


def test_setup_then_restore_gives_back_the_users_file(run, gateway, home):
    from tests.clients.conftest import place, snapshot

    place("hermes-config.yaml", home / ".hermes" / "config.yaml")
    before = snapshot(home)
    code, body = run("setup", "hermes", "--model", "gpt-5.4")
    assert code == 0, body
    path = home / ".hermes" / "config.yaml"
    assert path.stat().st_mode & 0o777 == 0o600
    assert yaml.safe_load(path.read_text())["model"]["provider"] == "custom:byecore"
    assert run("restore", "hermes")[0] == 0
    assert snapshot(home) == before
