"""The command itself: version, paths, start-up imports, completions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from byecore_cli import __version__
from byecore_cli.codecs import PROTOCOLS

ROOT = Path(__file__).resolve().parent.parent


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"byecore {__version__}"


def test_python_dash_m_runs_the_same_cli():
    out = subprocess.run([sys.executable, "-m", "byecore_cli", "--version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"byecore {__version__}"


def test_paths_all_live_under_byecore_home(cli, byecore_home):
    body = json.loads(cli("paths", "--json").stdout)
    assert body["ok"] and body["data"]["home"] == str(byecore_home)
    for name, where in body["data"].items():
        assert Path(where).is_relative_to(byecore_home), name
    assert not byecore_home.exists(), "showing paths must not create anything"


def test_unknown_command_is_a_usage_error(cli):
    assert cli("frobnicate").exit_code == 2


# pydantic is absent on purpose: typer itself uses it to coerce option values.
HEAVY = ("aiohttp", "tomlkit", "byecore_cli.providers.live", "byecore_cli.proxy",
         "byecore_cli.codecs", "byecore_cli.hub", "rich.markdown")
# The protocol registry and its wire descriptors are light by design (--help lists the
# protocols from them); the codecs themselves are not.
LIGHT = (r"byecore_cli\.codecs(\.(descriptor|sse|(" + "|".join(PROTOCOLS)
         + r")(\.wire)?))?$")


def test_help_and_version_do_not_import_heavy_modules():
    probe = (
        "import sys\n"
        "from byecore_cli.cli.main import app\n"
        "for argv in (['--help'], ['--version'], ['provider', '--help']):\n"
        "    try:\n"
        "        app(argv, prog_name='byecore')\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"heavy = {HEAVY!r}\n"
        "import re\n"
        f"light = re.compile({LIGHT!r})\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy) and not light.match(m)))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_shell_completions_are_current():
    from scripts.gen_completions import SHELLS, render

    for shell, filename in SHELLS.items():
        committed = (ROOT / "completions" / filename).read_text()
        assert committed == render(shell), (
            f"completions/{filename} is stale: run python scripts/gen_completions.py")


@pytest.mark.parametrize("argv, command, words", [
    (["setup", "codex", "--frobnicate", "--json"], "setup", "No such option: --frobnicate"),
    (["setup", "--json"], "setup", "Missing argument 'client'"),
    (["provider", "add", "--json"], "provider add", "Missing argument 'name'"),
    (["check", "--timeout", "soon", "--json"], "check", "Invalid value for '--timeout'"),
    (["frobnicate", "--json"], "byecore", "No such command 'frobnicate'"),
    (["--json", "paths"], "byecore", "No such option: --json"),  # the root has no --json
])
def test_json_parse_errors_are_json(cli, argv, command, words):
    result = cli(*argv)
    assert result.exit_code == 2
    body = json.loads(result.stdout)  # nothing but the envelope on stdout
    assert body["schema"] == "byecore.v1" and body["ok"] is False
    assert body["command"] == command
    assert body["error"]["code"] == "usage" and words in body["error"]["message"]
    assert body["error"]["hint"].startswith("see: byecore") and "--help" in body["error"]["hint"]


def test_without_json_parse_errors_stay_text(cli):
    result = cli("setup", "codex", "--frobnicate")
    assert result.exit_code == 2 and result.stdout == ""
    assert "No such option: --frobnicate" in result.stderr and "schema" not in result.stderr


def test_json_after_a_double_dash_is_an_argument_not_the_flag(cli):
    result = cli("setup", "--", "--json")
    assert result.exit_code == 2 and result.stdout == ""


def test_json_commands_keep_their_exit_codes(cli):
    ok = cli("paths", "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"] is True
    failed = cli("check", "--json")  # parses, then finds no provider
    assert failed.exit_code == 1 and json.loads(failed.stdout)["error"]["code"] == "not_found"
    helped = cli("setup", "--help", "--json")
    assert helped.exit_code == 0 and "Usage:" in helped.stdout


def test_the_installed_command_prints_json_parse_errors():
    out = subprocess.run([sys.executable, "-m", "byecore_cli", "check", "--nope", "--json"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and json.loads(out.stdout)["error"]["code"] == "usage"
    assert "Traceback" not in out.stderr
