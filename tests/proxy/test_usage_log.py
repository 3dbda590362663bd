"""The usage log keeps every row it can, stays private, shows refused requests sanely, and
logs the same figures for one upstream answer whichever path it took."""

from __future__ import annotations

import json
import sqlite3
import stat
import time

import aiohttp
import pytest

from byecore_cli.codecs import PROTOCOLS
from byecore_cli.hub import Usage
from byecore_cli.paths import Paths
from byecore_cli.proxy.app import STATE, create_app
from byecore_cli.proxy.usage import MAX_TEXT, UsageLog, summary
from tests.codecs.test_token_counts import DIALECTS, MEANT
from tests.proxy import shapes
from tests.proxy.conftest import one_provider

BASE = {"client": "codex", "inbound": "chat", "provider": "p", "requested_model": "m",
        "upstream_protocol": "chat", "stream": 0, "status": 200, "latency_ms": 12.5,
        "ttfb_ms": 3.0}


def _rows(path) -> list[dict]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM requests ORDER BY id")]
    finally:
        db.close()


def _log(rows: list[dict]):
    path = Paths.current().usage_db
    log = UsageLog(path)
    for row in rows:
        log.record(row)
    assert log.flush()
    log.close()
    return path


def test_one_odd_row_never_costs_the_rest_of_its_batch():
    rows = [{**BASE, "ts": time.time(), "model": f"m{n}",
             "usage": Usage(input_tokens=n, output_tokens=1)} for n in range(21)]
    rows[5]["model"] = "bad\udcff"  # a lone surrogate, as JSON escapes can carry
    rows[6].update(status="200", latency_ms="fast", client=["x"])  # wrong types
    rows[7]["requested_model"] = "x" * 100_000
    rows[8]["usage"] = {"input_tokens": 3}  # not a Usage
    rows[10]["stream"] = 2 ** 70
    written = _rows(_log(rows))
    assert len(written) == 21
    by_model = {r["model"]: r for r in written}
    assert "bad\ufffd" in by_model
    odd = by_model["m6"]
    assert odd["status"] is None and odd["latency_ms"] is None and odd["client"] is None
    assert len(by_model["m7"]["requested_model"]) == MAX_TEXT
    assert by_model["m8"]["input_tokens"] is None and by_model["m8"]["provider"] == "p"
    assert by_model["m10"]["stream"] is None
    assert by_model["m20"]["input_tokens"] == 20


def test_a_row_sqlite_refuses_is_written_around():
    path = Paths.current().usage_db
    UsageLog(path).close()  # creates the table
    db = sqlite3.connect(path)
    db.execute("CREATE TRIGGER refuse BEFORE INSERT ON requests WHEN NEW.model = 'poison' "
               "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    db.commit()
    db.close()
    names = ["a", "poison", "b", "c"]
    written = _rows(_log([{**BASE, "ts": time.time(), "model": n} for n in names]))
    assert [r["model"] for r in written] == ["a", "b", "c"]


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_log_and_its_folder_are_private(byecore_home):
    path = Paths.current().usage_db
    assert not byecore_home.exists()
    log = UsageLog(path)
    log.record({**BASE, "ts": time.time(), "model": "m"})
    assert log.flush()
    assert _mode(byecore_home) == 0o700
    for name in ("usage.db", "usage.db-wal", "usage.db-shm"):  # open: all three exist
        assert _mode(byecore_home / name) == 0o600, name
    log.close()


def test_an_existing_log_left_readable_is_made_private(byecore_home):
    byecore_home.mkdir(mode=0o700)
    path = Paths.current().usage_db
    other = sqlite3.connect(path)  # held open, so its -wal and -shm stay on disk
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("CREATE TABLE t (x)")
    other.commit()
    for name in ("usage.db", "usage.db-wal", "usage.db-shm"):
        (byecore_home / name).chmod(0o644)
    try:
        log = UsageLog(path)
        log.record({**BASE, "ts": time.time(), "model": "m"})
        assert log.flush()
        for name in ("usage.db", "usage.db-wal", "usage.db-shm"):
            assert _mode(byecore_home / name) == 0o600, name
        log.close()
    finally:
        other.close()


def test_requests_refused_before_routing_show_as_dashes(cli):
    now = time.time()
    refused = {"ts": now, "client": "unknown", "inbound": "messages", "provider": None,
               "model": None, "requested_model": "claude-x", "upstream_protocol": None,
               "stream": 0, "status": 401, "latency_ms": 0.4, "ttfb_ms": 0.4}
    path = _log([refused, dict(refused), {**BASE, "ts": now, "model": "m1"}])
    by_model = {r["model"]: r for r in summary(path, by="model")}
    assert set(by_model) == {"-", "p/m1"}
    assert by_model["-"]["requests"] == 2 and by_model["-"]["errors"] == 2
    assert {r["provider"] for r in summary(path, by="provider")} == {"-", "p"}
    assert {r["client"] for r in summary(path, by="client")} == {"unknown", "codex"}
    for by in ("model", "provider", "client", "day"):
        shown = cli("usage", "--by", by)
        assert shown.exit_code == 0 and "None" not in shown.stdout, shown.stdout
        rows = json.loads(cli("usage", "--by", by, "--json").stdout)["data"]["rows"]
        assert all(isinstance(r[by], str) for r in rows)


# -- one upstream answer, the same figures on every path (issue #13) --------------------

# Each dialect, and for Anthropic the stream whose message_delta repeats the input counts.
VENDORS = [(p, name, False) for p in PROTOCOLS for name in DIALECTS[p]] + [
    ("messages", "anthropic", True)]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize(("upstream", "dialect", "cumulative"), VENDORS,
                         ids=[f"{p}-{n}{'-cumulative' if c else ''}" for p, n, c in VENDORS])
async def test_one_answer_logs_the_same_figures_relayed_or_translated(
        fake, aiohttp_server, local_key, upstream, dialect, cumulative, stream):
    """The upstream answers every client with the same usage in its own dialect: the row
    of the pass-through (the client speaks the upstream's protocol: usage read from the
    relayed bytes, proxy/sniff.py) and the rows of every translated client (read by the
    upstream's codec) hold the same input, output, cached and reasoning tokens."""
    fake.usage = {upstream: DIALECTS[upstream][dialect]}
    fake.cumulative_delta = cumulative
    app = create_app(one_provider(fake, upstream))
    url = str((await aiohttp_server(app)).make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        for client in PROTOCOLS:
            async with http.post(url + shapes.client_path(client, stream=stream),
                                 json=shapes.request(client, stream=stream),
                                 headers={"Authorization": f"Bearer {local_key}"}) as r:
                assert r.status == 200, await r.text()
                await r.read()
    assert app[STATE].usage.flush()
    rows = _rows(Paths.current().usage_db)
    assert [(r["inbound"], r["upstream_protocol"], r["stream"]) for r in rows] == [
        (client, upstream, int(stream)) for client in PROTOCOLS]
    assert len(fake.requests) == len(PROTOCOLS) and all(
        seen["protocol"] == upstream and seen["stream"] == stream for seen in fake.requests)
    logged = {r["inbound"]: (r["input_tokens"], r["output_tokens"], r["cached_tokens"],
                             r["reasoning_tokens"]) for r in rows}
    assert logged == dict.fromkeys(PROTOCOLS, MEANT)
