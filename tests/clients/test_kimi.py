"""Kimi Code's writer: [providers.byecore], its [models."byecore/…"] and default_model.

Checked against the config shape Kimi Code 2.1.0's bundle reads (see clients/kimi.py),
parsed with a strict TOML 1.0 reader; the real client runs in test_real_more_clients.py.
"""

from __future__ import annotations

import pytest

from byecore_cli.clients.base import Unparsable
from byecore_cli.clients.kimi import Kimi
from tests.clients.conftest import toml_loads
from tests.clients.factory import FIXTURES, KEY, make_target, proxy_target

CONF = (FIXTURES / "kimi-config.toml").read_bytes()


def plan(target=None, conf=CONF):
    return Kimi().plan(target or make_target(), {"config": conf})


def test_owned_tables_are_added_and_the_rest_survives_byte_for_byte():
    p = plan()
    out = p.files["config"].decode()
    before = CONF.decode().replace('default_model = "kimi-code/kimi-for-coding"',
                                   'default_model = "byecore/gpt-5.4"')
    assert out.startswith(before)  # every comment and table of the user's, in place
    data = toml_loads(out)
    assert data["default_model"] == "byecore/gpt-5.4"
    assert data["providers"]["byecore"] == {"type": "openai",
                                            "base_url": "https://api.example.com/v1",
                                            "api_key": KEY}
    assert data["models"]["byecore/gpt-5.4"] == {"provider": "byecore", "model": "gpt-5.4",
                                                 "max_context_size": 400_000}
    assert set(data["models"]) == {"kimi-code/kimi-for-coding", "byecore/gpt-5.4",
                                   "byecore/gpt-5.4-mini"}
    assert p.secret == frozenset({"config"})


def test_second_plan_is_identical_and_a_switch_back_restores_the_bytes():
    first = plan()
    assert plan(conf=first.files["config"]).files == first.files
    other = plan(make_target(models=("gpt-5.4",), key_env="GW_KEY"),
                 conf=first.files["config"])
    data = toml_loads(other.files["config"].decode())
    assert set(data["models"]) == {"kimi-code/kimi-for-coding", "byecore/gpt-5.4"}
    assert data["providers"]["byecore"]["api_key_env"] == "GW_KEY"
    assert "api_key" not in data["providers"]["byecore"]  # never both: Kimi refuses that
    assert other.secret == frozenset()
    assert plan(conf=other.files["config"]).files == first.files


def test_users_own_keys_in_the_byecore_table_survive():
    conf = CONF + b'\n[providers.byecore]\ntype = "kimi"\ncustom_headers = { X = "1" }\n'
    data = toml_loads(plan(conf=conf).files["config"].decode())
    assert data["providers"]["byecore"]["custom_headers"] == {"X": "1"}
    assert data["providers"]["byecore"]["type"] == "openai"


def test_a_fresh_home_gets_a_whole_file():
    data = toml_loads(plan(conf=None).files["config"].decode())
    assert data["default_model"] == "byecore/gpt-5.4" and "byecore" in data["providers"]


def test_via_proxy_points_at_the_local_proxy():
    data = toml_loads(plan(proxy_target()).files["config"].decode())
    assert data["providers"]["byecore"]["base_url"] == "http://127.0.0.1:4000/v1"
    assert data["models"]["byecore/byecore/gpt-5.4"]["model"] == "byecore/gpt-5.4"


@pytest.mark.parametrize("bad", [b"default_model = [\n", b'providers = { byecore = {} }\n',
                                 b'[providers]\nbyecore.type = "openai"\n'])
def test_shapes_byecore_will_not_guess_at_are_refused(bad):
    with pytest.raises(Unparsable):
        plan(conf=bad)


def test_read_and_problems():
    reading = Kimi().read(plan().files)
    assert reading.configured and reading.model == "gpt-5.4"
    assert reading.base_url == "https://api.example.com/v1" and reading.problems == []
    assert "api_key" not in reading.owned["providers.byecore"]
    user = Kimi().read({"config": CONF})
    assert not user.configured and user.base_url == "https://api.kimi.com/coding/v1"
    both = Kimi().read({"config": b'default_model = "a"\n[providers.p]\napi_key = "k"\n'
                                  b'api_key_env = "V"\n[models.a]\nprovider = "p"\n'
                                  b'model = "m"\n'})
    assert any("both api_key and api_key_env" in p for p in both.problems)


def test_files_and_env(tmp_path):
    assert Kimi().files({"KIMI_CODE_HOME": str(tmp_path / "k")}, tmp_path)[
        "config"].path == tmp_path / "k" / "config.toml"
    assert Kimi().files({}, tmp_path)["config"].path == tmp_path / ".kimi-code" / "config.toml"
    assert Kimi().check_env({"KIMI_MODEL_NAME": "x"}) and Kimi().check_env({}) == []


def test_setup_then_restore_gives_back_the_users_file(run, gateway, home):
    from tests.clients.conftest import place, snapshot

    place("kimi-config.toml", home / ".kimi-code" / "config.toml")
    before = snapshot(home)
    code, body = run("setup", "kimi", "--model", "gpt-5.4")
    assert code == 0, body
    path = home / ".kimi-code" / "config.toml"
    assert path.stat().st_mode & 0o777 == 0o600
    assert toml_loads(path.read_text())["default_model"] == "byecore/gpt-5.4"
    assert run("setup", "kimi", "--model", "gpt-5.4")[1]["data"]["up_to_date"]
    assert run("restore", "kimi")[0] == 0
    assert snapshot(home) == before
