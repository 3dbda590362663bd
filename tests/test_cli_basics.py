"""The command itself: version, paths, start-up imports, completions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from byecore_cli import __version__

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
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
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
