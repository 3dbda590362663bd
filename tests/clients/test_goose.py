"""Goose's writer: custom_providers/custom_byecore.json, GOOSE_PROVIDER/GOOSE_MODEL, and
the key in secrets.yaml when it is not in a variable.

Goose installs as a downloaded binary, so this checks the shapes its source parses
(see clients/goose.py): strict JSON for the provider, YAML for config and secrets.
"""

from __future__ import annotations

import json

import pytest
import yaml

from byecore_cli.clients.base import Unparsable
from byecore_cli.clients.goose import Goose
from tests.clients.factory import FIXTURES, KEY, make_target, proxy_target, without

CONF = (FIXTURES / "goose-config.yaml").read_bytes()


def plan(target=None, **current):
    files = {"config": CONF, "provider": None, "secrets": None}
    files.update(current)
    return Goose().plan(target or make_target(), files)


def test_the_provider_file_has_every_field_goose_requires():
    p = plan()
    provider = json.loads(p.files["provider"])  # strict JSON: serde_json reads it
    assert provider["name"] == "custom_byecore" and provider["engine"] == "openai"
    assert provider["base_url"] == "https://api.example.com/v1/chat/completions"
    assert provider["api_key_env"] == "CUSTOM_BYECORE_API_KEY"
    assert provider["models"] == [{"name": "gpt-5.4", "context_limit": 400_000},
                                  {"name": "gpt-5.4-mini", "context_limit": 128_000}]
    assert {"display_name", "description", "supports_streaming"} <= set(provider)
    assert yaml.safe_load(p.files["secrets"]) == {"CUSTOM_BYECORE_API_KEY": KEY}
    assert p.secret == frozenset({"secrets"})  # the key is only in secrets.yaml
    assert KEY not in p.files["provider"].decode() + p.files["config"].decode()


def test_config_keys_change_in_place_and_the_rest_survives():
    out = plan().files["config"].decode()
    assert "GOOSE_MODEL: gpt-5.4   # daily driver\n" in out
    assert without(out, "GOOSE_PROVIDER", "GOOSE_MODEL:") == without(
        CONF.decode(), "GOOSE_PROVIDER", "GOOSE_MODEL:")
    assert yaml.safe_load(out)["GOOSE_PROVIDER"] == "custom_byecore"


def test_second_plan_is_identical_and_users_extra_provider_keys_stay():
    first = plan()
    assert Goose().plan(make_target(), first.files).files == first.files
    edited = first.files["provider"].decode().replace(
        '"requires_auth": true', '"requires_auth": true,\n  "timeout_seconds": 900')
    again = Goose().plan(make_target(), {**first.files, "provider": edited.encode()})
    assert json.loads(again.files["provider"])["timeout_seconds"] == 900


def test_a_key_in_a_variable_is_named_not_written():
    p = plan(make_target(key_env="GW_KEY"))
    assert json.loads(p.files["provider"])["api_key_env"] == "GW_KEY"
    assert "secrets" not in p.files and p.secret == frozenset()


def test_keyless_local_provider_needs_no_auth():
    p = plan(make_target(key=None))
    provider = json.loads(p.files["provider"])
    assert provider["requires_auth"] is False and provider["api_key_env"] == ""


def test_responses_family_ids_get_a_warning_unless_through_the_proxy():
    assert any("/v1/responses" in n for n in plan().notes)
    assert not any("/v1/responses" in n for n in plan(make_target(model="qwen3-coder"))
                   .notes)
    proxied = plan(proxy_target())
    assert json.loads(proxied.files["provider"])["base_url"] == (
        "http://127.0.0.1:4000/v1/chat/completions")
    assert not any("/v1/responses" in n for n in proxied.notes)


@pytest.mark.parametrize("role,bad", [("provider", b"{,}"), ("provider", b"[1]"),
                                      ("config", b"GOOSE_MODEL: [x\n")])
def test_broken_files_are_refused(role, bad):
    with pytest.raises(Unparsable) as caught:
        plan(**{role: bad})
    assert caught.value.role == role


def test_read_and_paths(tmp_path):
    reading = Goose().read(plan().files)
    assert reading.configured and reading.model == "gpt-5.4" and reading.problems == []
    assert reading.owned["secrets.custom_byecore_api_key"] == KEY
    assert not Goose().read({"config": CONF, "provider": None, "secrets": None}).configured
    files = Goose().files({"GOOSE_PATH_ROOT": str(tmp_path / "r")}, tmp_path)
    assert files["provider"].path == tmp_path / "r" / "config" / "custom_providers" / (
        "custom_byecore.json")
    assert Goose().files({}, tmp_path)["config"].path == (
        tmp_path / ".config" / "goose" / "config.yaml")
    assert Goose().check_env({"GOOSE_MODEL": "x"}) and Goose().check_env({}) == []


def test_setup_then_restore_gives_back_the_users_files(run, gateway, home):
    from tests.clients.conftest import place, snapshot

    place("goose-config.yaml", home / ".config" / "goose" / "config.yaml")
    before = snapshot(home)
    code, body = run("setup", "goose", "--model", "gpt-5.4")
    assert code == 0, body
    folder = home / ".config" / "goose"
    assert (folder / "secrets.yaml").stat().st_mode & 0o777 == 0o600
    assert (folder / "custom_providers" / "custom_byecore.json").is_file()
    assert run("restore", "goose")[0] == 0
    assert snapshot(home) == before
