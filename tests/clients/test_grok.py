"""Grok Build's writer: [models] default and one [model."byecore/…"] per model.

Grok Build installs as a downloaded binary, so it is checked against the fields its
source reads (see clients/grok.py), parsed with a strict TOML 1.0 reader.
"""

from __future__ import annotations

import pytest

from byecore_cli.clients.base import Unparsable
from byecore_cli.clients.grok import Grok
from tests.clients.conftest import toml_loads
from tests.clients.factory import FIXTURES, KEY, make_target, proxy_target

CONF = (FIXTURES / "grok-config.toml").read_bytes()


def plan(target=None, conf=CONF):
    return Grok().plan(target or make_target(), {"config": conf})


def test_owned_keys_change_and_the_rest_survives_byte_for_byte():
    p = plan()
    out = p.files["config"].decode()
    assert out.startswith(CONF.decode().replace('default = "grok-build"',
                                                'default = "byecore/gpt-5.4"'))
    data = toml_loads(out)
    assert data["models"] == {"default": "byecore/gpt-5.4",
                              "extra_headers": {"X-Request-Tags": "team=me"}}
    assert data["model"]["byecore/gpt-5.4"] == {
        "model": "gpt-5.4", "base_url": "https://api.example.com/v1",
        "name": "gpt-5.4 (byecore: byecore)", "api_key": KEY, "api_backend": "responses",
        "context_window": 400_000, "max_completion_tokens": 128_000}
    assert data["model"]["gpt-4o"]["env_key"] == "OPENAI_API_KEY"
    assert p.secret == frozenset({"config"})


def test_second_plan_is_identical_and_switching_back_restores_the_bytes():
    first = plan()
    assert plan(conf=first.files["config"]).files == first.files
    other = plan(make_target(models=("gpt-5.4",), key_env="GW_KEY"),
                 conf=first.files["config"])
    data = toml_loads(other.files["config"].decode())
    assert set(data["model"]) == {"gpt-4o", "byecore/gpt-5.4"}
    assert data["model"]["byecore/gpt-5.4"]["env_key"] == "GW_KEY"
    assert "api_key" not in data["model"]["byecore/gpt-5.4"] and other.secret == frozenset()
    assert plan(conf=other.files["config"]).files == first.files


def test_fresh_home_and_proxy():
    data = toml_loads(plan(proxy_target(), conf=None).files["config"].decode())
    assert data["models"]["default"] == "byecore/byecore/gpt-5.4"
    table = data["model"]["byecore/byecore/gpt-5.4"]
    assert table["base_url"] == "http://127.0.0.1:4000/v1"
    assert table["api_key"] == "bc-local-abc123def456ghi789"


@pytest.mark.parametrize("bad", [b"[models\n", b'models = { default = "x" }\n',
                                 b'model = { "byecore/x" = { model = "x" } }\n'])
def test_shapes_byecore_will_not_guess_at_are_refused(bad):
    with pytest.raises(Unparsable):
        plan(conf=bad)


def test_read_reports_and_finds_problems():
    reading = Grok().read(plan().files)
    assert reading.configured and reading.model == "gpt-5.4" and reading.problems == []
    assert reading.owned["model.byecore.api_key"] == KEY
    assert not Grok().read({"config": CONF}).configured
    bad = Grok().read({"config": b'[models]\ndefault = "byecore/m"\n[model."byecore/m"]\n'
                                 b'model = "m"\nbase_url = "https://g/v1/responses"\n'})
    assert len(bad.problems) == 2


def test_files_and_env(tmp_path):
    assert Grok().files({"GROK_HOME": str(tmp_path / "g")}, tmp_path)[
        "config"].path == tmp_path / "g" / "config.toml"
    assert Grok().files({}, tmp_path)["config"].path == tmp_path / ".grok" / "config.toml"
    assert Grok().check_env({"GROK_DEFAULT_MODEL": "grok-build"}) == [
        "your shell sets GROK_DEFAULT_MODEL, which wins over [models] default"]
    assert Grok().check_env({}) == []


def test_setup_then_restore_gives_back_the_users_file(run, gateway, home):
    from tests.clients.conftest import place, snapshot

    place("grok-config.toml", home / ".grok" / "config.toml")
    before = snapshot(home)
    code, body = run("setup", "grok", "--model", "gpt-5.4")
    assert code == 0, body
    assert not body["data"]["via_proxy"]  # gw speaks Responses: no proxy needed
    path = home / ".grok" / "config.toml"
    assert path.stat().st_mode & 0o777 == 0o600
    table = toml_loads(path.read_text())["model"]["byecore/gpt-5.4"]
    assert table["base_url"] == "https://gw.example.com/v1"
    assert run("restore", "grok")[0] == 0
    assert snapshot(home) == before
