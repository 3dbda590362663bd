"""``byecore usage``: what went through the proxy, what it cost, how well prompts cached.

Totals come from the usage log (proxy/usage.py ``summary``); the cost is each row's, set
when it was logged from the tokens the upstream reported (byecore_cli/pricing). By day,
and with ``--chart`` for any grouping, the spend is drawn as bars too.
"""

from __future__ import annotations

import re
import time

import typer

from byecore_cli.cli.options import JSON_OPTION
from byecore_cli.cli.output import Output
from byecore_cli.errors import UsageError

GROUPS = ("client", "model", "provider", "day")
BAR_WIDTH = 40
_SINCE = re.compile(r"^(\d+)\s*([mhdw])$")


def parse_since(text: str | None) -> float | None:
    if not text:
        return None
    match = _SINCE.match(text.strip().lower())
    if match:
        seconds = {"m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2)]
        return time.time() - int(match.group(1)) * seconds
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise UsageError(f"cannot read --since {text!r}",
                         hint="use 30m, 24h, 7d, 2w or a date such as 2026-11-01") from None


def money(value: float | None) -> str:
    if value is None:
        return "—"
    if value and value < 0.01:
        return f"${value:.4f}"
    return f"${value:,.2f}"


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def totals(rows: list[dict]) -> dict:
    """The whole period: sums, the overall cache-hit rate, the cost of the priced rows."""
    keys = ("requests", "errors", "input_tokens", "cached_tokens", "cache_write_tokens",
            "output_tokens", "reasoning_tokens", "images", "unpriced")
    out = {k: sum(r.get(k) or 0 for r in rows) for k in keys}
    costs = [r["cost_usd"] for r in rows if r.get("cost_usd") is not None]
    out["cost_usd"] = round(sum(costs), 6) if costs else None
    out["cache_hit_rate"] = (round(out["cached_tokens"] / out["input_tokens"], 4)
                             if out["input_tokens"] else None)
    return out


def bars(rows: list[dict], key: str) -> list[tuple[str, str, str]]:
    """(label, bar, amount) per row with a cost: the bar's length is its share of the
    largest, at least one block for any spend at all."""
    top = max((r["cost_usd"] or 0.0 for r in rows), default=0.0)
    out = []
    for r in rows:
        cost = r.get("cost_usd")
        if cost is None:
            out.append((str(r[key]), "", "—"))
            continue
        blocks = 0 if not top else max(1 if cost > 0 else 0, round(cost / top * BAR_WIDTH))
        out.append((str(r[key]), "█" * blocks, money(cost)))
    return out


def _human(console, d, chart: bool) -> None:
    rows, by = d["rows"], d["by"]
    if not rows:
        console.print("No requests logged yet: run byecore proxy and point a client at it.")
        return
    from rich import box
    from rich.table import Table

    images = any(r.get("images") for r in rows)
    table = Table(box=box.SIMPLE_HEAD)
    widest = max(len(str(r[by])) for r in rows)
    # a long model name wraps, a day or a client name never; nor do the numbers
    table.add_column(by, overflow="fold", min_width=min(widest, 32))
    for name in ("requests", "errors", "input", "cached", "hit", "output", "cost", "avg ms",
                 *(("images",) if images else ())):
        table.add_column(name, justify="right", no_wrap=True)
    for r in rows:
        cost = money(r["cost_usd"]) + ("*" if r.get("unpriced") else "")
        table.add_row(str(r[by]), *(f"{r[k]:,}" for k in (
            "requests", "errors", "input_tokens", "cached_tokens")),
            rate(r["cache_hit_rate"]), f"{r['output_tokens']:,}", cost,
            f"{r['avg_latency_ms']:,.0f}", *((f"{r.get('images') or 0:,}",) if images else ()))
    console.print(table)
    total = d["total"]
    console.print(f"Total: {money(total['cost_usd'])} for {total['requests']:,} requests; "
                  f"{rate(total['cache_hit_rate'])} of input tokens read from a prompt cache.")
    if total["unpriced"]:
        console.print(f"* {total['unpriced']:,} request(s) with tokens but no known price "
                      "are left out of the cost: add their model under [prices.\"MODEL\"] "
                      "in byecore's settings.toml.", markup=False)
    if chart:
        drawn = bars(rows, by)
        if all(cost == "—" for _, _, cost in drawn):
            return
        from rich.table import Table as Grid

        grid = Grid.grid(padding=(0, 1))
        grid.add_column()
        grid.add_column(style="cyan", no_wrap=True)
        grid.add_column(justify="right")
        for label, bar, cost in drawn:
            grid.add_row(label, bar, cost)
        console.print()
        console.print("Spend" + (" per day" if by == "day" else f" per {by}") + ":")
        console.print(grid)


def usage(
    since: str = typer.Option(None, "--since", help="30m, 24h, 7d or a date (2026-11-01)."),
    by: str = typer.Option("model", "--by", help="client, model, provider or day."),
    chart: bool = typer.Option(None, "--chart/--no-chart",
                               help="Draw the spend as bars (the default with --by day)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """What went through the proxy: requests, tokens, prompt-cache hits and cost."""
    from byecore_cli.paths import Paths

    with Output("usage", json_out) as out:
        if by not in GROUPS:
            raise UsageError(f"cannot group by {by!r}",
                             hint="use client, model, provider or day")
        from byecore_cli.proxy.usage import summary

        rows = summary(Paths.current().usage_db, since=parse_since(since), by=by)
        data = {"by": by, "since": since, "rows": rows, "total": totals(rows)}
        drawn = by == "day" if chart is None else chart
        out.done(data, lambda console, d: _human(console, d, drawn))
