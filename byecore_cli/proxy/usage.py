"""The usage log: one SQLite row per proxied request, written off the hot path.

``UsageLog.record`` only puts a dict on a queue; a background thread parses what still
needs parsing (a pass-through body's usage) and writes rows in batches, in WAL mode so
``byecore usage`` can read while the proxy writes. Tokens follow the hub's convention:
``input_tokens`` includes cached tokens (Anthropic's counts are added up to match).

A pass-through row carries the answer's raw body; its usage is read here, off the hot
path, by ``sniff.usage_from_body``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import re
import sqlite3
import threading
import time
from pathlib import Path

from byecore_cli.files import SECRET_MODE, ensure_private_dir
from byecore_cli.hub import Usage
from byecore_cli.proxy.sniff import usage_from_body

COLUMNS = (
    "ts", "client", "inbound", "provider", "model", "requested_model", "upstream_protocol",
    "stream", "status", "latency_ms", "ttfb_ms", "input_tokens", "output_tokens",
    "cached_tokens", "reasoning_tokens",
    # Images API requests: images received, and what they cost by the provider's table
    # (US dollars; NULL when it has no price)
    "images", "cost_usd",
)
_REAL = frozenset(("ts", "latency_ms", "ttfb_ms", "cost_usd"))
_INTEGER = frozenset(c for c in COLUMNS if c in ("stream", "status", "images")
                     or c.endswith("tokens"))


def _column_type(column: str) -> str:
    return "REAL" if column in _REAL else "INTEGER" if column in _INTEGER else "TEXT"


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    {", ".join(f"{c} {_column_type(c)}" for c in COLUMNS)}
);
CREATE INDEX IF NOT EXISTS requests_ts ON requests (ts);
"""
_INSERT = (f"INSERT INTO requests ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(COLUMNS))})")
log = logging.getLogger("byecore.proxy")
BATCH_SECONDS = 0.25


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if need be) the usage log: private to the user, as it says who asked
    what of which model when; its -wal and -shm files too, which SQLite creates with the
    database file's mode."""
    ensure_private_dir(path.parent)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, SECRET_MODE))
    _make_private(path)  # an older byecore left these 0644
    db = sqlite3.connect(path, timeout=10, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent; no fsync per commit
    db.executescript(_SCHEMA)
    _add_missing_columns(db)
    _make_private(path)
    return db


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """A usage log made by an older byecore lacks the newer columns: add them (their old
    rows read NULL), so ``CREATE TABLE IF NOT EXISTS`` is not left to skip them."""
    have = {row[1] for row in db.execute("PRAGMA table_info(requests)")}
    for column in COLUMNS:
        if column not in have:
            # another process (a second proxy, byecore usage) may have been first
            with contextlib.suppress(sqlite3.OperationalError), db:
                db.execute(f"ALTER TABLE requests ADD COLUMN {column} "
                           f"{_column_type(column)}")


def _make_private(path: Path) -> None:
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        with contextlib.suppress(OSError):  # absent, or a platform without modes
            os.chmod(path.with_name(name), SECRET_MODE)


class UsageLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="byecore-usage", daemon=True)
        self._thread.start()

    def record(self, row: dict) -> None:
        self._queue.put(row)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every row recorded so far is written (tests, shutdown)."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            db = connect(self.path)
        except Exception as exc:  # the proxy serves on; flush() and close() still answer
            log.error("cannot open the usage log %s (%s): requests are not logged",
                      self.path, exc)
            db = None
        try:
            while True:
                row = self._queue.get()
                if isinstance(row, dict):
                    time.sleep(BATCH_SECONDS)  # let a burst gather: one commit for all
                batch = [row]
                while True:  # take whatever else is waiting: one transaction for all
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                rows = [_finish(r) for r in batch if isinstance(r, dict)]
                if rows and db is not None:
                    _write(db, rows)
                for marker in batch:
                    if isinstance(marker, threading.Event):
                        marker.set()
                if None in batch:
                    return
        finally:
            if db is not None:
                db.close()


def _finish(row: dict) -> dict:
    raw = row.pop("raw_body", None)
    usage = row.pop("usage", None)
    try:
        if raw is not None and usage is None:
            usage = usage_from_body(row.get("upstream_protocol", ""), raw)
        usage = usage or Usage()
        row.update(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                   cached_tokens=usage.cache_read_tokens,
                   reasoning_tokens=usage.reasoning_tokens)
    except Exception:  # the row is still worth keeping, without its tokens
        log.warning("could not read the usage of a %s answer", row.get("provider"),
                    exc_info=True)
    return row


def _write(db: sqlite3.Connection, rows: list[dict]) -> None:
    """One transaction for the batch; if that fails, row by row, so that one row that
    SQLite refuses never costs the others. A full disk must not stop the proxy."""
    values = [tuple(_column_value(c, r.get(c)) for c in COLUMNS) for r in rows]
    try:
        with db:
            db.executemany(_INSERT, values)
        return
    except Exception as exc:
        problem = exc
    lost = 0
    for one in values:
        try:
            with db:
                db.execute(_INSERT, one)
        except Exception as exc:
            lost, problem = lost + 1, exc
    if lost:
        log.warning("could not write %d of %d usage-log rows (%s: %s)", lost, len(values),
                    type(problem).__name__, problem)


MAX_TEXT = 256  # model names, client names: anything longer is not one
_SURROGATES = re.compile("[\ud800-\udfff]")


def _column_value(column: str, value):
    """``value`` as its column stores it, or None: rows come from requests, and a client
    can put anything in a model name (a lone surrogate cannot even be encoded)."""
    if value is None:
        return None
    if column in _REAL:
        return float(value) if isinstance(value, (int, float)) else None
    if column in _INTEGER:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and -(2 ** 63) <= value < 2 ** 63:
            return int(value)
        return None
    if not isinstance(value, str):
        return None
    return _SURROGATES.sub("\ufffd", value[:MAX_TEXT])


def now() -> float:
    return time.time()


# A request refused before routing has no provider or model: shown as "-".
_GROUPS = {
    "client": "COALESCE(client, '-')",
    "model": "CASE WHEN provider IS NULL AND model IS NULL THEN '-' "
             "ELSE COALESCE(provider, '-') || '/' || COALESCE(model, '-') END",
    "provider": "COALESCE(provider, '-')",
    "day": "COALESCE(date(ts, 'unixepoch', 'localtime'), '-')",
}


def summary(path: Path, *, since: float | None = None, by: str = "model") -> list[dict]:
    """Totals per group, busiest first; empty when nothing was logged yet."""
    if not path.exists():
        return []
    db = connect(path)
    try:
        group = _GROUPS[by]
        where, args = ("WHERE ts >= ?", (since,)) if since is not None else ("", ())
        order = "key" if by == "day" else "requests DESC, key"
        rows = db.execute(
            f"SELECT {group} AS key, COUNT(*) AS requests, "
            "SUM(status >= 400) AS errors, SUM(input_tokens), SUM(output_tokens), "
            "SUM(cached_tokens), SUM(reasoning_tokens), AVG(latency_ms), "
            "SUM(images), SUM(cost_usd) "
            f"FROM requests {where} GROUP BY key ORDER BY {order}", args).fetchall()
    finally:
        db.close()
    names = (by, "requests", "errors", "input_tokens", "output_tokens", "cached_tokens",
             "reasoning_tokens", "avg_latency_ms", "images", "cost_usd")
    return [dict(zip(names, (r[0], *(int(v or 0) for v in r[1:7]),
                             round(r[7] or 0.0, 1), int(r[8] or 0),
                             None if r[9] is None else round(r[9], 6)), strict=False))
            for r in rows]
