"""byecore statusline (Claude Code's statusLine command) and setup claude --statusline."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from byecore_cli.cli import statusline as sl
from byecore_cli.hub import Usage
from byecore_cli.paths import Paths
from byecore_cli.proxy.usage import UsageLog
from tests.clients.conftest import FIXTURES, KEY, place

CLAUDE_JSON = {"session_id": "1e61bca9", "model": {"id": "claude-sonnet-5-5",
                                                   "display_name": "Sonnet 5.5"},
               "workspace": {"current_dir": "/work"}, "cost": {"total_cost_usd": 9.99}}
TURN = Usage(input_tokens=100_000, cache_read_tokens=80_000, cache_write_tokens=15_000,
             output_tokens=2_000)  # $0.151 on Opus 5.5


def log_rows(rows: list[dict]) -> None:
    log = UsageLog(Paths.current().usage_db)
    for row in rows:
        log.record({"inbound": "messages", "upstream_protocol": "messages", "status": 200,
                    "latency_ms": 1.0, **row})
    assert log.flush()
    log.close()


def run_statusline(stdin: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The command as Claude Code runs it: a new process, JSON on stdin. It also reports
    which heavy packages it imported."""
    probe = ("import sys; from byecore_cli.cli import statusline as s; s.statusline(); "
             "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
             "{'aiohttp', 'rich', 'typer', 'pydantic', 'tomlkit'}); "
             "sys.stderr.write(repr(heavy))")
    return subprocess.run([sys.executable, "-c", probe], input=stdin, capture_output=True,
                          text=True, timeout=30, env={**os.environ, **(env or {})})


def test_the_line_has_the_model_todays_cost_and_the_cache_hit_rate():
    now = time.time()
    log_rows([
        {"ts": now - 3 * 86400, "client": "claude", "provider": "anthropic",
         "model": "claude-opus-5-5", "usage": TURN},  # another day: not counted
        {"ts": now - 60, "client": "codex", "provider": "anthropic", "model": "claude-opus-5-5",
         "usage": TURN},
        {"ts": now - 30, "client": "claude", "provider": "gw", "model": "gpt-5.4",
         "usage": Usage(input_tokens=100_000, cache_read_tokens=20_000, output_tokens=0)},
    ])
    started = time.monotonic()
    done = run_statusline(json.dumps(CLAUDE_JSON))
    assert done.returncode == 0, done.stderr
    # the model Claude Code's requests went to last; everything through byecore today
    cost = 0.151 + (80_000 * 2.5 + 20_000 * 0.25) / 1e6
    assert done.stdout == f"gpt-5.4 · today ${cost:.2f} · cache 50%\n"
    assert done.stderr == "[]"  # no aiohttp, rich, typer or pydantic
    assert time.monotonic() - started < 5


def test_requests_without_a_price_make_the_cost_a_lower_bound():
    log_rows([{"ts": time.time(), "client": "claude", "provider": "anthropic",
               "model": "claude-opus-5-5", "usage": TURN},
              {"ts": time.time(), "client": "claude", "provider": "box",
               "model": "my-own-model", "usage": Usage(input_tokens=10, output_tokens=1)}])
    assert run_statusline(json.dumps(CLAUDE_JSON)).stdout == \
        "my-own-model · today $0.15+ · cache 80%\n"


def test_no_log_yet_says_so_with_claude_codes_model_and_creates_nothing():
    done = run_statusline(json.dumps(CLAUDE_JSON))
    assert (done.returncode, done.stdout) == (0, "Sonnet 5.5 · no requests through byecore "
                                                 "today\n")
    assert not Paths.current().usage_db.exists()


@pytest.mark.parametrize("stdin", ["", "not json", "[1, 2]", '{"model": 7}'])
def test_whatever_claude_code_pipes_in_the_line_still_comes(stdin):
    done = run_statusline(stdin)
    assert (done.returncode, done.stdout) == (0, "byecore · no requests through byecore "
                                                 "today\n")


def test_a_broken_log_gives_a_short_line_and_exit_0():
    path = Paths.current().usage_db
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    done = run_statusline(json.dumps(CLAUDE_JSON))
    assert done.returncode == 0
    assert done.stdout.startswith("byecore: usage log unreadable") and \
        done.stdout.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_the_log_is_only_read_and_what_sqlite_adds_for_a_reader_is_private():
    log_rows([{"ts": time.time(), "client": "claude", "provider": "gw", "model": "gpt-5.4",
               "usage": TURN}])
    path = Paths.current().usage_db
    before = path.read_bytes()
    old = os.umask(0o022)
    try:
        assert run_statusline("{}").stdout.startswith("gpt-5.4 · today $0.10")
    finally:
        os.umask(old)
    assert path.read_bytes() == before
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        if path.with_name(name).exists():
            assert stat.S_IMODE(path.with_name(name).stat().st_mode) == 0o600, name


def test_a_terminal_on_stdin_is_not_waited_for():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert sl.read_stdin(Terminal('{"model": "x"}')) == {}
    assert sl.read_stdin(io.StringIO(json.dumps(CLAUDE_JSON))) == CLAUDE_JSON


# --- setup claude --statusline ---------------------------------------------------------

@pytest.fixture
def home() -> Path:
    path = Path(os.environ["HOME"])
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def run(cli):
    """``byecore ARGS… --json`` with a saved provider: (exit code, envelope)."""
    added = cli("provider", "add", "gw", "--preset", "none", "--base-url",
                "https://gw.example.com", "--protocol", "messages", "--model",
                "claude-haiku-5-5", "--key-stdin", input=KEY)
    assert added.exit_code == 0, added.output

    def invoke(*args: str):
        result = cli(*args, "--json")
        return result.exit_code, json.loads(result.stdout)

    return invoke

def settings_json(home_dir) -> dict:
    return json.loads((home_dir / ".claude" / "settings.json").read_text())


def test_setup_adds_the_status_line_and_restore_takes_it_away(run, home):
    code, body = run("setup", "claude", "--statusline")
    assert code == 0, body
    assert settings_json(home)["statusLine"] == {"type": "command",
                                                 "command": "byecore statusline"}
    assert any("status line" in n for n in body["data"]["notes"])
    code, body = run("setup", "claude", "--statusline")
    assert code == 0 and body["data"]["up_to_date"]
    assert run("setup", "claude")[1]["data"]["up_to_date"]  # a plain setup leaves it be
    assert run("restore", "claude")[0] == 0
    assert not (home / ".claude").exists()


def test_a_status_line_of_the_users_own_is_kept_unless_forced(run, home):
    place("claude-settings.json", home / ".claude" / "settings.json")
    theirs = settings_json(home)["statusLine"]
    code, body = run("setup", "claude", "--statusline")
    assert code == 0, body
    assert settings_json(home)["statusLine"] == theirs
    assert any("already has a statusLine" in n and "--force" in n
               for n in body["data"]["notes"])
    code, body = run("setup", "claude", "--statusline", "--force")
    assert code == 0, body
    text = (home / ".claude" / "settings.json").read_text()
    assert json.loads(text)["statusLine"] == {"type": "command",
                                              "command": "byecore statusline"}
    assert any("replaced the statusLine" in n for n in body["data"]["notes"])
    assert list(json.loads(text)) == list(json.loads(
        (FIXTURES / "claude-settings.json").read_text()))  # key order kept
    assert run("restore", "claude")[0] == 0  # the newest backup: before --force
    assert settings_json(home)["statusLine"] == theirs


def test_a_status_line_pointing_at_byecore_by_path_counts_as_byecores(run, home):
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    ours = {"type": "command", "command": "/opt/pipx/bin/byecore statusline", "padding": 1}
    settings.write_text(json.dumps({"statusLine": ours}, indent=2))
    code, body = run("setup", "claude", "--statusline")
    assert code == 0 and settings_json(home)["statusLine"] == ours
    assert not any("statusLine" in n for n in body["data"]["notes"])


def test_statusline_is_for_claude_code_only(run):
    code, body = run("setup", "codex", "--statusline")
    assert code != 0 and "Claude Code" in body["error"]["message"]
