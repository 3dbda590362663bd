"""The usage log: one SQLite row per proxied request, written off the hot path.

``UsageLog.record`` only puts a dict on a queue; a background thread parses what still
needs parsing (a pass-through body's usage) and writes rows in batches, in WAL mode so
``byecore usage`` can read while the proxy writes. Tokens follow the hub's convention:
``input_tokens`` includes cached tokens (Anthropic's counts are added up to match).

The pass-through does not run a codec, so ``usage_from_body``/``UsageSniffer`` read just
the usage fields of each protocol's final answer or stream events.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import sqlite3
import threading
import time
from pathlib import Path

from byecore_cli.codecs.sse import SSEDecoder, SSEEvent
from byecore_cli.hub import Usage

COLUMNS = (
    "ts", "client", "inbound", "provider", "model", "requested_model", "upstream_protocol",
    "stream", "status", "latency_ms", "ttfb_ms", "input_tokens", "output_tokens",
    "cached_tokens", "reasoning_tokens",
)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    {", ".join(c + (" REAL" if c in ("ts", "latency_ms", "ttfb_ms") else
                    " INTEGER" if c in ("stream", "status") or c.endswith("tokens")
                    else " TEXT") for c in COLUMNS)}
);
CREATE INDEX IF NOT EXISTS requests_ts ON requests (ts);
"""
_INSERT = (f"INSERT INTO requests ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(COLUMNS))})")
log = logging.getLogger("byecore.proxy")
BATCH_SECONDS = 0.25


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=10, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent; no fsync per commit
    db.executescript(_SCHEMA)
    return db


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
        db = connect(self.path)
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
                try:
                    rows = [_finish(r) for r in batch if isinstance(r, dict)]
                    if rows:
                        with db:
                            db.executemany(_INSERT, [tuple(r.get(c) for c in COLUMNS)
                                                     for r in rows])
                except Exception:  # a full disk must not stop the proxy
                    log.exception("could not write the usage log")
                for marker in batch:
                    if isinstance(marker, threading.Event):
                        marker.set()
                if None in batch:
                    return
        finally:
            db.close()


def _finish(row: dict) -> dict:
    raw = row.pop("raw_body", None)
    usage = row.pop("usage", None)
    if raw is not None and usage is None:
        usage = usage_from_body(row.get("upstream_protocol", ""), raw)
    usage = usage or Usage()
    row.update(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
               cached_tokens=usage.cache_read_tokens, reasoning_tokens=usage.reasoning_tokens)
    return row


_DECODER = json.JSONDecoder()


def usage_from_body(protocol: str, raw: bytes) -> Usage | None:
    """The usage of a whole (non-streamed) answer, without parsing the whole answer.

    An answer can be hundreds of KB of text and tool calls; its usage is one small object
    at the top level, which every protocol puts after the content. So: the last
    ``"usage": {`` in the bytes, decoded alone (a JSON string cannot hold a bare quote,
    so the key cannot come from model text); the whole body only if that fails.
    """
    end = len(raw)
    while (at := raw.rfind(b'"usage"', 0, end)) >= 0:
        colon = _OBJECT_AFTER_KEY.match(raw, at + 7)
        if colon:
            try:
                value, _ = _DECODER.raw_decode(raw[colon.end() - 1:].decode("utf-8", "replace"))
            except ValueError:
                break
            return _read(protocol, value)
        end = at
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    return _read(protocol, body.get("usage"))


def _int(src, key: str) -> int:
    value = src.get(key) if isinstance(src, dict) else None
    return value if isinstance(value, int) else 0


def _read(protocol: str, u) -> Usage | None:
    if not isinstance(u, dict):
        return None
    if protocol == "messages":
        read, write = _int(u, "cache_read_input_tokens"), _int(u, "cache_creation_input_tokens")
        return Usage(input_tokens=_int(u, "input_tokens") + read + write,
                     output_tokens=_int(u, "output_tokens"), cache_read_tokens=read,
                     cache_write_tokens=write)
    if protocol == "chat":
        return Usage(
            input_tokens=_int(u, "prompt_tokens"), output_tokens=_int(u, "completion_tokens"),
            cache_read_tokens=_int(u.get("prompt_tokens_details"), "cached_tokens"),
            reasoning_tokens=_int(u.get("completion_tokens_details"), "reasoning_tokens"))
    return Usage(
        input_tokens=_int(u, "input_tokens"), output_tokens=_int(u, "output_tokens"),
        cache_read_tokens=_int(u.get("input_tokens_details"), "cached_tokens"),
        reasoning_tokens=_int(u.get("output_tokens_details"), "reasoning_tokens"))


# A "usage" key with a value other than null. Inside JSON strings a quote is escaped, so
# model text that mentions "usage" does not match; a false match only costs a parse.
_USAGE_KEY = re.compile(rb'"usage"\s*:\s*(?!null)')
_OBJECT_AFTER_KEY = re.compile(rb'\s*:\s*\{')


_EVENT_END = re.compile(rb"\r\n\r\n|\n\n")  # the blank lines the relay cuts at


def _event_spans(block: bytes) -> list[tuple[int, int]]:
    """(start, end) of each event in ``block``, its blank line included."""
    spans, start = [], 0
    for match in _EVENT_END.finditer(block):
        spans.append((start, match.end()))
        start = match.end()
    if start < len(block):
        spans.append((start, len(block)))
    return spans


class UsageSniffer:
    """Reads usage out of a relayed stream, parsing only the events that can carry it.

    The relay hands over whole events as bytes: ``may_carry`` is a byte search, and only
    the blocks it matches (a stream's first and last events or so) are decoded.
    ``hide_usage_chunk``: byecore asked a Chat upstream for usage that the client did not
    ask for, so the usage-only chunk (``choices: []``) is read and then left out.
    """

    def __init__(self, protocol: str, *, hide_usage_chunk: bool = False) -> None:
        self.protocol = protocol
        self.hide_usage_chunk = hide_usage_chunk
        self.usage: Usage | None = None
        self._messages_input: Usage | None = None
        self.may_carry = _USAGE_KEY.search

    def feed_bytes(self, block: bytes) -> bytes:
        """Whole SSE events (the relay cuts at blank lines), as they came from upstream;
        returns what to send the client: ``block`` itself, or without a hidden chunk (the
        other events' bytes untouched)."""
        kept, hidden = [], False
        for start, end in _event_spans(block):
            decoder = SSEDecoder()
            usage_only = False
            for event in (*decoder.feed(block[start:end]), *decoder.flush()):
                usage_only = self.feed(event) or usage_only
            if usage_only and self.hide_usage_chunk:
                hidden = True
            else:
                kept.append(block[start:end])
        return b"".join(kept) if hidden else block

    def feed(self, event: SSEEvent) -> bool:
        """Read ``event``'s usage; True when it is a Chat chunk with usage and no choice."""
        data = event.data
        if '"usage"' not in data:
            return False
        if self.protocol == "chat" and ('"usage":null' in data or '"usage": null' in data):
            return False
        if self.protocol == "responses" and event.event not in (
                None, "response.completed", "response.incomplete", "response.failed"):
            return False
        try:
            body = json.loads(data)
        except ValueError:
            return False
        if not isinstance(body, dict):
            return False
        if self.protocol == "messages":
            self._messages(body)
        elif self.protocol == "chat":
            from byecore_cli.codecs.chat.response import chunk_usage

            usage = chunk_usage(body)
            self.usage = _read("chat", usage) or self.usage
            return not body.get("choices") and isinstance(usage, dict)
        else:
            response = body.get("response")
            if isinstance(response, dict):
                self.usage = _read("responses", response.get("usage")) or self.usage
        return False

    def _messages(self, body: dict) -> None:
        # message_start carries the input counts, message_delta the cumulative output.
        if body.get("type") == "message_start" and isinstance(body.get("message"), dict):
            self._messages_input = _read("messages", body["message"].get("usage"))
            self.usage = self._messages_input
        elif body.get("type") == "message_delta":
            delta = body.get("usage") or {}
            start = self._messages_input or Usage()
            final = _read("messages", delta) or Usage()
            has_input = any(k in delta for k in ("input_tokens", "cache_read_input_tokens",
                                                  "cache_creation_input_tokens"))
            self.usage = Usage(
                input_tokens=final.input_tokens if has_input else start.input_tokens,
                output_tokens=final.output_tokens,
                cache_read_tokens=final.cache_read_tokens if has_input
                else start.cache_read_tokens,
                cache_write_tokens=final.cache_write_tokens if has_input
                else start.cache_write_tokens)


def now() -> float:
    return time.time()


_GROUPS = {
    "client": "client",
    "model": "provider || '/' || model",
    "provider": "provider",
    "day": "date(ts, 'unixepoch', 'localtime')",
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
            "SUM(cached_tokens), SUM(reasoning_tokens), AVG(latency_ms) "
            f"FROM requests {where} GROUP BY key ORDER BY {order}", args).fetchall()
    finally:
        db.close()
    names = (by, "requests", "errors", "input_tokens", "output_tokens", "cached_tokens",
             "reasoning_tokens", "avg_latency_ms")
    return [dict(zip(names, (r[0], *(int(v or 0) for v in r[1:7]),
                             round(r[7] or 0.0, 1)), strict=False)) for r in rows]
