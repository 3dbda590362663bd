"""The usage log's image columns, added to a log made by an older byecore."""

from __future__ import annotations

import sqlite3
import time

from byecore_cli.paths import Paths
from byecore_cli.proxy.usage import UsageLog, connect, summary

OLD_SCHEMA = """CREATE TABLE requests (id INTEGER PRIMARY KEY, ts REAL, client TEXT,
inbound TEXT, provider TEXT, model TEXT, requested_model TEXT, upstream_protocol TEXT,
stream INTEGER, status INTEGER, latency_ms REAL, ttfb_ms REAL, input_tokens INTEGER,
output_tokens INTEGER, cached_tokens INTEGER, reasoning_tokens INTEGER)"""


def test_an_old_log_gets_the_new_columns_and_keeps_its_rows():
    path = Paths.current().usage_db
    path.parent.mkdir(parents=True, exist_ok=True)
    old = sqlite3.connect(path)
    old.execute(OLD_SCHEMA)
    old.execute("INSERT INTO requests (ts, client, provider, model, status) "
                "VALUES (?, 'codex', 'p', 'm', 200)", (time.time(),))
    old.commit()
    old.close()
    connect(path).close()
    columns = {row[1]: row[2] for row in sqlite3.connect(path).execute(
        "PRAGMA table_info(requests)")}
    assert columns["images"] == "INTEGER" and columns["cost_usd"] == "REAL"
    log = UsageLog(path)
    log.record({"ts": time.time(), "client": "codex", "inbound": "images", "provider": "p",
                "model": "image-2", "status": 200, "images": 2, "cost_usd": 0.1})
    assert log.flush()
    log.close()
    rows = {r["model"]: r for r in summary(path, by="model")}
    assert rows["p/image-2"]["images"] == 2 and rows["p/image-2"]["cost_usd"] == 0.1
    assert rows["p/m"]["requests"] == 1 and rows["p/m"]["cost_usd"] is None
