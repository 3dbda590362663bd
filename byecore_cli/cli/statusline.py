"""``byecore statusline``: one short line for Claude Code's ``statusLine`` command.

Claude Code runs the command after each assistant message (at most every 300 ms), pipes
it a JSON object on stdin (``session_id``, ``model.id`` and ``model.display_name``,
``workspace``, its own ``cost`` estimate…) and shows the first line of stdout; a failing
command or an empty line blanks the bar. So this prints, always, one line:

    gpt-5.4 · today $1.23 · cache 82%

the model byecore last sent Claude Code's requests to today (else Claude Code's own name
for it), what everything through byecore cost today (from the usage log's costs; a ``+``
when some of today's requests had no known price), and the share of today's input tokens
read from a prompt cache. A missing, old or broken usage log gives a short line too, and
the exit status is 0 whatever happens.

It must be quick: only the standard library and ``byecore_cli.paths`` are imported, and
the log is opened read-only (``summary`` in proxy/usage.py would create it); the files
SQLite adds beside it for a reader are private.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from datetime import datetime

CLIENT = "claude"  # the name Claude Code's requests carry in the usage log (its writer's)
STDIN_WAIT = 0.5  # seconds: Claude Code writes its JSON at once, a terminal never does


def read_stdin(stream=None) -> dict:
    """Claude Code's JSON, or {} (nothing piped, a terminal, not JSON)."""
    stream = stream or sys.stdin
    try:
        if stream.isatty():
            return {}
        try:
            import select

            ready, _, _ = select.select([stream], [], [], STDIN_WAIT)
            if not ready:
                return {}
        except (OSError, ValueError, TypeError):  # Windows pipes, test streams: just read
            pass
        value = json.loads(stream.read() or "{}")
    except Exception:
        return {}
    return value if isinstance(value, dict) else {}


def today_start(now: datetime | None = None) -> float:
    return (now or datetime.now()).replace(hour=0, minute=0, second=0,
                                           microsecond=0).timestamp()


def today(path, since: float) -> dict | None:
    """Today's totals from the usage log, or None when there is no log yet."""
    if not path.exists():
        return None
    # A reader of a WAL database makes its -shm (and -wal) file if the proxy is not
    # running: private, like the log itself, whatever the user's umask.
    umask = os.umask(0o077)
    try:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=0.2)
    finally:
        os.umask(umask)
    try:
        requests, cost, cached, inputs, unpriced = db.execute(
            "SELECT COUNT(*), SUM(cost_usd), SUM(cached_tokens), SUM(input_tokens), "
            "SUM(cost_usd IS NULL AND COALESCE(input_tokens, 0) + "
            "COALESCE(output_tokens, 0) > 0) FROM requests WHERE ts >= ?", (since,)).fetchone()
        last = db.execute(
            "SELECT model FROM requests WHERE ts >= ? AND client = ? AND model IS NOT NULL "
            "ORDER BY ts DESC LIMIT 1", (since, CLIENT)).fetchone()
    finally:
        db.close()
    return {"requests": requests or 0, "cost": cost, "cached": cached or 0,
            "input": inputs or 0, "unpriced": unpriced or 0,
            "model": last[0] if last else None}


def _model(claude: dict) -> str | None:
    model = claude.get("model")
    if isinstance(model, dict):
        model = model.get("display_name") or model.get("id")
    return model if isinstance(model, str) and model else None


def line(claude: dict, totals: dict | None) -> str:
    model = (totals or {}).get("model") or _model(claude) or "byecore"
    if not totals or not totals["requests"]:
        return f"{model} · no requests through byecore today"
    cost = totals["cost"]
    spent = "—" if cost is None else f"${cost:,.2f}" if cost >= 0.01 or not cost \
        else f"${cost:.4f}"
    if totals["unpriced"] and cost is not None:
        spent += "+"  # some of today's requests had no known price
    cache = f"{totals['cached'] / totals['input']:.0%}" if totals["input"] else "—"
    return f"{model} · today {spent} · cache {cache}"


def statusline() -> None:
    """One line for Claude Code's statusLine: model, today's cost, cache-hit rate."""
    try:
        claude = read_stdin()
        from byecore_cli.paths import Paths

        text = line(claude, today(Paths.current().usage_db, today_start()))
    except Exception as exc:  # never a traceback in the status bar, never a failure
        text = f"byecore: usage log unreadable ({type(exc).__name__})"
    try:
        sys.stdout.write(text.replace("\n", " ") + "\n")
        sys.stdout.flush()
    except Exception:
        pass


def main() -> None:
    statusline()
    sys.exit(0)


if __name__ == "__main__":
    main()
