"""Kilo CLI's writer: OpenCode's, with Kilo's folder, files, schema and variables."""

from __future__ import annotations

import json5

from byecore_cli.clients.kilo import Kilo
from byecore_cli.clients.opencode import OpenCode
from tests.clients.factory import FIXTURES, make_target

JSONC = (FIXTURES / "opencode.jsonc").read_bytes()  # the same schema, the same edits


def test_a_fresh_home_gets_kilo_jsonc_with_kilos_schema():
    p = Kilo().plan(make_target(), {"json": None, "jsonc": None})
    assert set(p.files) == {"jsonc"}
    config = json5.loads(p.files["jsonc"])
    assert config["$schema"] == "https://app.kilo.ai/config.json"
    assert config["provider"]["byecore"]["npm"] == "@ai-sdk/openai-compatible"
    assert config["model"] == "byecore/gpt-5.4"
    # OpenCode still creates opencode.json
    assert set(OpenCode().plan(make_target(), {"json": None, "jsonc": None}).files) == {
        "json"}


def test_an_existing_file_is_edited_exactly_as_opencode_edits_it():
    kilo = Kilo().plan(make_target(), {"json": None, "jsonc": JSONC})
    opencode = OpenCode().plan(make_target(), {"json": None, "jsonc": JSONC})
    assert kilo.files == opencode.files and kilo.secret == opencode.secret
    only_json = Kilo().plan(make_target(), {"json": b"{}\n", "jsonc": None})
    assert set(only_json.files) == {"json"}


def test_files_live_in_the_kilo_config_folder():
    files = Kilo().files({"XDG_CONFIG_HOME": "/x"}, FIXTURES)
    assert {str(f.path) for f in files.values()} == {"/x/kilo/kilo.json",
                                                     "/x/kilo/kilo.jsonc"}


def test_check_env_names_kilo_variables_and_a_later_opencode_file(tmp_path):
    (tmp_path / ".config" / "kilo").mkdir(parents=True)
    env = {"HOME": str(tmp_path), "KILO_CONFIG_CONTENT": "{}", "OPENCODE_CONFIG": "x"}
    assert len(Kilo().check_env(env)) == 1
    (tmp_path / ".config" / "kilo" / "opencode.json").write_text("{}")
    [shell, later] = Kilo().check_env(env)
    assert "KILO_CONFIG_CONTENT" in shell and "Kilo CLI" in shell
    assert "opencode.json exists: Kilo CLI reads it after kilo.jsonc" in later


def test_setup_and_restore_through_the_cli(run, gateway, home):
    assert run("setup", "kilo-cli")[0] == 0
    path = home / ".config" / "kilo" / "kilo.jsonc"
    assert json5.loads(path.read_text())["model"] == "byecore/gpt-5.4"
    assert run("setup", "kilo-cli")[1]["data"]["up_to_date"]
    assert run("restore", "kilo-cli")[0] == 0
    assert not path.exists()
