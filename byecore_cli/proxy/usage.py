"""The usage log: one SQLite row per proxied request, written off the hot path.

``UsageLog.record`` only puts a dict on a queue; a background thread parses what still
needs parsing (a pass-through body's usage) and writes rows in batches, in WAL mode so
``byecore usage`` can read while the proxy writes. Tokens follow the hub's convention:
``input_tokens`` includes cached tokens (Anthropic's counts are added up to match).

A pass-through row carries the answer's raw body; its usage is read here, off the hot
path, by ``sniff.usage_from_body``. Here too a row gets its cost: the tokens' (by the
price book, ``byecore_cli.pricing``) added to the images' the row came with; NULL when
neither has a price.
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

from byecore_cli import pricing
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
    # prompt-cache writes (the hub's count; Anthropic's 1-hour part of it apart)
    "cache_write_tokens", "cache_write_1h_tokens",
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
    """``prices``: the price book for each batch's costs, or a function returning the
    current one (the proxy's follows its settings); byecore's shipped prices otherwise."""

    def __init__(self, path: Path, prices=None) -> None:
        self.path = path
        self._prices = prices
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
                book = self._book() if any(isinstance(r, dict) for r in batch) else None
                rows = [_finish(r, book) for r in batch if isinstance(r, dict)]
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


    def _book(self) -> pricing.PriceBook:
        prices = self._prices
        try:
            book = prices() if callable(prices) else prices
        except Exception:  # a settings problem must not lose the rows: shipped prices
            log.warning("could not read the price overrides; using byecore's prices",
                        exc_info=True)
            book = None
        return book if book is not None else _SHIPPED


_SHIPPED = pricing.PriceBook()


def _finish(row: dict, book: pricing.PriceBook | None = None) -> dict:
    raw = row.pop("raw_body", None)
    usage = row.pop("usage", None)
    try:
        if raw is not None and usage is None:
            usage = usage_from_body(row.get("upstream_protocol", ""), raw)
        usage = usage or Usage()
        row.update(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                   cached_tokens=usage.cache_read_tokens,
                   reasoning_tokens=usage.reasoning_tokens,
                   cache_write_tokens=usage.cache_write_tokens,
                   cache_write_1h_tokens=usage.cache_write_1h_tokens)
    except Exception:  # the row is still worth keeping, without its tokens
        log.warning("could not read the usage of a %s answer", row.get("provider"),
                    exc_info=True)
        return row
    if row.get("inbound") == "images" and row.get("cost_usd") is not None:
        return row  # priced per image already: that price covers the whole request
    try:
        cost = (book or _SHIPPED).cost(row.get("provider"), row.get("model"), usage,
                                       row.get("ts") or time.time())
        if cost is not None:  # the images' cost (if any) plus the tokens'
            images = row.get("cost_usd")
            row["cost_usd"] = (images if isinstance(images, (int, float)) else 0.0) + cost
    except Exception:  # likewise, without its cost
        log.warning("could not price a %s answer", row.get("provider"), exc_info=True)
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
    """Totals per group, busiest first (by day: oldest first); empty when nothing was
    logged yet. ``cache_hit_rate``: the share of input tokens read from a prompt cache
    (None without input); ``cost_usd``: what the priced rows cost (None if none is),
    ``unpriced``: the rows with tokens but no price, left out of it."""
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
            "SUM(images), SUM(cost_usd), SUM(cache_write_tokens), "
            "SUM(cost_usd IS NULL AND COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0)"
            " > 0) "
            f"FROM requests {where} GROUP BY key ORDER BY {order}", args).fetchall()
    finally:
        db.close()
    names = (by, "requests", "errors", "input_tokens", "output_tokens", "cached_tokens",
             "reasoning_tokens", "avg_latency_ms", "images", "cost_usd")
    out = []
    for r in rows:
        row = dict(zip(names, (r[0], *(int(v or 0) for v in r[1:7]),
                               round(r[7] or 0.0, 1), int(r[8] or 0),
                               None if r[9] is None else round(r[9], 6)), strict=False))
        row["cache_write_tokens"] = int(r[10] or 0)
        row["cache_hit_rate"] = (round(row["cached_tokens"] / row["input_tokens"], 4)
                                 if row["input_tokens"] else None)
        row["unpriced"] = int(r[11] or 0)
        out.append(row)
    return out
