"""``byecore usage``: cost, cache-hit rate and, by day, the spend as bars."""

from __future__ import annotations

import json
import time

import pytest

from byecore_cli.cli.usage_cmd import bars, money
from byecore_cli.hub import Usage
from byecore_cli.paths import Paths
from byecore_cli.proxy.usage import UsageLog

DAY = 86400
TURN = Usage(input_tokens=100_000, cache_read_tokens=80_000, cache_write_tokens=15_000,
             output_tokens=2_000)
TURN_COST = (5_000 * 4 + 80_000 * 0.2 + 15_000 * 5 + 2_000 * 20) / 1e6  # Opus 5.5


@pytest.fixture
def logged():
    now = time.time()
    log = UsageLog(Paths.current().usage_db)
    for days_ago, count in ((2, 3), (1, 1)):
        for _ in range(count):
            log.record({"ts": now - days_ago * DAY, "client": "claude-code",
                        "inbound": "messages", "provider": "anthropic",
                        "model": "claude-opus-5-5", "upstream_protocol": "messages",
                        "status": 200, "latency_ms": 700.0, "usage": TURN})
    log.record({"ts": now, "client": "codex", "inbound": "responses", "provider": "box",
                "model": "my-local-model", "upstream_protocol": "chat", "status": 200,
                "latency_ms": 50.0, "usage": Usage(input_tokens=1_000, output_tokens=10)})
    assert log.flush()
    log.close()


def test_by_day_shows_the_spend_as_bars_proportional_to_it(cli, logged):
    shown = cli("usage", "--by", "day")
    assert shown.exit_code == 0, shown.output
    lines = [line for line in shown.stdout.splitlines() if "█" in line]
    assert len(lines) == 2  # today's only request has no price: no bar
    three, one = (line.count("█") for line in lines)
    assert three == 40 and one == round(40 / 3)
    assert money(3 * TURN_COST) in lines[0] and money(TURN_COST) in lines[1]
    assert f"Total: {money(4 * TURN_COST)} for 5 requests" in shown.stdout
    assert "80%" in shown.stdout  # the cache-hit rate
    assert "█" not in cli("usage", "--by", "day", "--no-chart").stdout


def test_other_groupings_draw_bars_when_asked(cli, logged):
    assert "█" not in cli("usage", "--by", "client").stdout
    charted = cli("usage", "--by", "client", "--chart").stdout
    assert "Spend per client:" in charted and "█" in charted


def test_an_unpriced_model_is_flagged_not_counted(cli, logged):
    shown = cli("usage", "--by", "model").stdout
    assert "—*" in shown and '[prices."MODEL"]' in shown


def test_json_has_each_groups_cost_and_hit_rate_and_the_total(cli, logged):
    data = json.loads(cli("usage", "--by", "provider", "--json").stdout)["data"]
    rows = {r["provider"]: r for r in data["rows"]}
    assert rows["anthropic"]["cost_usd"] == pytest.approx(4 * TURN_COST)
    assert rows["anthropic"]["cache_hit_rate"] == pytest.approx(0.8)
    assert rows["anthropic"]["cache_write_tokens"] == 60_000
    assert rows["box"]["cost_usd"] is None and rows["box"]["unpriced"] == 1
    total = data["total"]
    assert total["cost_usd"] == pytest.approx(4 * TURN_COST) and total["unpriced"] == 1
    assert total["cache_hit_rate"] == pytest.approx(320_000 / 401_000, abs=1e-4)


def test_since_leaves_older_days_out(cli, logged):
    data = json.loads(cli("usage", "--by", "day", "--since", "36h", "--json").stdout)["data"]
    assert sum(r["requests"] for r in data["rows"]) == 2


def test_bars_give_any_spend_a_block_and_no_spend_none():
    rows = [{"k": "a", "cost_usd": 100.0}, {"k": "b", "cost_usd": 0.001},
            {"k": "c", "cost_usd": 0.0}, {"k": "d", "cost_usd": None}]
    assert [(label, len(bar), cost) for label, bar, cost in bars(rows, "k")] == [
        ("a", 40, "$100.00"), ("b", 1, "$0.0010"), ("c", 0, "$0.00"), ("d", 0, "—")]
