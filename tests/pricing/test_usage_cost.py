"""Every usage-log row gets its cost, off the hot path, and ``summary`` adds it up."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

import pytest

from byecore_cli import pricing
from byecore_cli.hub import Usage
from byecore_cli.paths import Paths
from byecore_cli.proxy.usage import UsageLog, summary

WHEN = datetime.fromisoformat("2026-12-01T12:00:00+00:00").timestamp()
ROW = {"ts": WHEN, "client": "claude-code", "inbound": "messages", "stream": 1,
       "status": 200, "latency_ms": 900.0}
TURN = Usage(input_tokens=100_000, cache_read_tokens=80_000, cache_write_tokens=15_000,
             cache_write_1h_tokens=10_000, output_tokens=2_000, reasoning_tokens=500)
TURN_COST = (5_000 * 4 + 80_000 * 0.2 + 5_000 * 5 + 10_000 * 8 + 2_000 * 20) / 1e6


def logged(rows: list[dict], prices=None) -> list[dict]:
    path = Paths.current().usage_db
    log = UsageLog(path, prices)
    for row in rows:
        log.record(dict(row))
    assert log.flush()
    log.close()
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM requests ORDER BY id")]
    finally:
        db.close()


def test_a_translated_rows_cost_is_its_tokens_at_the_models_price():
    [row] = logged([{**ROW, "provider": "anthropic", "model": "claude-opus-5-5",
                     "upstream_protocol": "messages", "usage": TURN}])
    assert row["cost_usd"] == pytest.approx(TURN_COST)
    assert (row["cached_tokens"], row["cache_write_tokens"], row["cache_write_1h_tokens"]) \
        == (80_000, 15_000, 10_000)


def test_a_pass_through_rows_cost_comes_from_the_answer_it_read():
    answer = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
              "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
              "usage": {"input_tokens": 5_000, "cache_read_input_tokens": 80_000,
                        "cache_creation_input_tokens": 15_000, "output_tokens": 2_000,
                        "cache_creation": {"ephemeral_5m_input_tokens": 5_000,
                                           "ephemeral_1h_input_tokens": 10_000}}}
    [row] = logged([{**ROW, "provider": "anthropic", "model": "claude-opus-5-5",
                     "upstream_protocol": "messages",
                     "raw_body": json.dumps(answer).encode()}])
    # the same turn, but Anthropic reports no thinking split: all output at one rate
    assert row["cost_usd"] == pytest.approx(TURN_COST)
    assert row["input_tokens"] == 100_000


def test_an_images_cost_gets_the_tokens_cost_added_and_an_unknown_model_none():
    rows = logged([
        {**ROW, "provider": "gw", "model": "gpt-5.4", "upstream_protocol": "images",
         "images": 1, "cost_usd": 0.05,
         "usage": Usage(input_tokens=1_000_000, output_tokens=0)},
        {**ROW, "provider": "gw", "model": "image-2", "upstream_protocol": "images",
         "images": 2, "cost_usd": 0.2, "usage": Usage(input_tokens=100)},
        {**ROW, "provider": "local", "model": "my-own-model", "upstream_protocol": "chat",
         "usage": Usage(input_tokens=100, output_tokens=10)},
    ])
    assert rows[0]["cost_usd"] == pytest.approx(0.05 + 2.5)
    assert rows[1]["cost_usd"] == pytest.approx(0.2)  # no token price: the images' alone
    assert rows[2]["cost_usd"] is None


def test_the_price_book_given_is_used_and_a_broken_one_falls_back_to_the_shipped():
    row = {**ROW, "provider": "gw", "model": "gpt-5.4", "upstream_protocol": "chat",
           "usage": Usage(input_tokens=1_000_000)}
    own = pricing.PriceBook(by_provider={"gw": {"gpt-5.4": {"input": 1, "output": 1}}})
    assert logged([row], lambda: own)[0]["cost_usd"] == pytest.approx(1.0)

    def broken():
        raise ValueError("settings.toml is being edited")

    assert logged([row], broken)[-1]["cost_usd"] == pytest.approx(2.5)


def test_the_summary_gives_cost_cache_hit_rate_and_the_unpriced_rows():
    logged([
        {**ROW, "provider": "anthropic", "model": "claude-opus-5-5",
         "upstream_protocol": "messages", "usage": TURN},
        {**ROW, "provider": "anthropic", "model": "claude-opus-5-5",
         "upstream_protocol": "messages", "usage": TURN},
        {**ROW, "provider": "local", "model": "my-own-model", "upstream_protocol": "chat",
         "usage": Usage(input_tokens=100, output_tokens=10)},
        {**ROW, "provider": None, "model": None, "status": 401},
    ])
    path = Paths.current().usage_db
    by_model = {r["model"]: r for r in summary(path, by="model")}
    opus = by_model["anthropic/claude-opus-5-5"]
    assert opus["cost_usd"] == pytest.approx(2 * TURN_COST)
    assert opus["cache_hit_rate"] == pytest.approx(0.8)
    assert opus["cache_write_tokens"] == 30_000 and opus["unpriced"] == 0
    assert by_model["local/my-own-model"]["cost_usd"] is None
    assert by_model["local/my-own-model"]["unpriced"] == 1
    assert by_model["-"]["cache_hit_rate"] is None and by_model["-"]["unpriced"] == 0
    [day] = summary(path, by="day")
    assert day["cost_usd"] == pytest.approx(2 * TURN_COST) and day["unpriced"] == 1


def test_a_proxied_image_request_priced_per_image_is_not_priced_per_token_again():
    """The size table's price covers the whole request: a token price that also matches
    the model (a glob, a shared name) must not bill it a second time."""
    [row] = logged([{**ROW, "inbound": "images", "provider": "gw", "model": "gpt-5.4",
                     "upstream_protocol": "images", "images": 1, "cost_usd": 0.05,
                     "usage": Usage(input_tokens=1_000_000)}])
    assert row["cost_usd"] == pytest.approx(0.05)
