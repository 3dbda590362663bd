"""The shipped price table and the cost of a request from its reported tokens."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import pytest

from byecore_cli import pricing
from byecore_cli.config.models import Settings
from byecore_cli.hub import Usage
from byecore_cli.providers.presets import PRESETS

# Preset models whose makers' prices were not found when the table was last checked: they
# have no cost (None) until someone adds them, and this list says so on purpose.
UNPRICED = {"kimi-k2.7-code", "kimi-k2.6", "qwen3-coder-plus", "qwen3-coder-next",
            "qwen3.7-max", "qwen/qwen3-coder-next", "qwen3-coder", "gpt-oss:20b",
            "openai/gpt-oss-20b"}


def at(day: str, hour: int = 12) -> float:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00").timestamp()


def test_the_table_is_package_data_with_a_source_for_every_model():
    data = json.loads(resources.files("byecore_cli.pricing").joinpath("prices.json")
                      .read_text("utf-8"))
    assert pricing.checked() == data["checked"]
    for model, price in pricing.shipped().items():
        assert price.source.startswith("https://"), model
        assert price.rates.input > 0 and price.rates.output > 0, model
        assert model == model.lower()


@pytest.mark.parametrize("preset", PRESETS, ids=[p.name for p in PRESETS])
def test_every_preset_model_is_priced_or_knowingly_not(preset):
    book = pricing.PriceBook()
    for model in preset.models:
        assert (book.price(preset.name, model) is None) == (model in UNPRICED), model


def test_a_claude_code_turn_costs_its_reads_writes_and_output_apart():
    # Opus 5.5: $4 input, $5 5-minute writes, $8 1-hour writes, $0.20 reads, $20 output
    usage = Usage(input_tokens=100_000, cache_read_tokens=80_000, cache_write_tokens=15_000,
                  cache_write_1h_tokens=10_000, output_tokens=2_000, reasoning_tokens=500)
    cost = pricing.PriceBook().cost("anthropic", "claude-opus-5-5", usage, at("2026-12-01"))
    expected = (5_000 * 4 + 80_000 * 0.2 + 5_000 * 5 + 10_000 * 8 + 2_000 * 20) / 1e6
    assert cost == pytest.approx(expected)


def test_a_price_change_applies_from_its_day_on():
    usage = Usage(input_tokens=1_000_000, cache_read_tokens=1_000_000)
    book = pricing.PriceBook()
    assert book.cost("anthropic", "claude-sonnet-5-5", usage, at("2026-10-06")) == \
        pytest.approx(0.20)
    assert book.cost("anthropic", "claude-sonnet-5-5", usage, at("2026-10-07")) == \
        pytest.approx(0.10)
    flash = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert book.cost("gemini", "gemini-3.8-flash", flash, at("2026-12-31")) == \
        pytest.approx(0.75 + 3.75)
    assert book.cost("gemini", "gemini-3.8-flash", flash, at("2027-01-01")) == \
        pytest.approx(1.50 + 7.50)


def test_a_long_prompt_costs_the_long_context_rates_for_the_whole_request():
    book = pricing.PriceBook()
    short = Usage(input_tokens=272_000, output_tokens=1_000)
    long = Usage(input_tokens=272_001, output_tokens=1_000)
    assert book.cost("openai", "gpt-5.5", short, at("2026-12-01")) == \
        pytest.approx((272_000 * 5 + 1_000 * 30) / 1e6)
    assert book.cost("openai", "gpt-5.5", long, at("2026-12-01")) == \
        pytest.approx((272_001 * 10 + 1_000 * 45) / 1e6)


def test_deepseek_costs_half_off_peak():
    usage = Usage(input_tokens=1_000_000)
    book = pricing.PriceBook()
    tuesday = "2026-12-01"
    assert book.cost("deepseek", "deepseek-v4-pro", usage, at(tuesday, 2)) == \
        pytest.approx(1.32)  # 02:00 UTC: peak
    assert book.cost("deepseek", "deepseek-v4-pro", usage, at(tuesday, 4)) == \
        pytest.approx(0.66)  # 04:00 UTC: the first peak is over
    assert book.cost("deepseek", "deepseek-v4-pro", usage, at("2026-12-05", 2)) == \
        pytest.approx(0.66)  # a Saturday


@pytest.mark.parametrize(("model", "found"), [
    ("openai/gpt-6.1-sol", "gpt-6.1-sol"),  # OpenRouter's name
    ("moonshotai/kimi-k3", "kimi-k3"),
    ("claude-haiku-5-5-20261007", "claude-haiku-5-5"),
    ("claude-sonnet-5-5[1m]", "claude-sonnet-5-5"),
    ("Claude-Sonnet-5", "claude-sonnet-5"),
    ("claude-sonnet-5-5-x", None),  # never a neighbouring model by prefix
    ("gpt-5", None),
    ("", None),
])
def test_model_ids_find_their_entry(model, found):
    price = pricing.PriceBook().price("any", model)
    assert (price and price.model) == found


def test_reasoning_costs_output_unless_priced_apart():
    usage = Usage(input_tokens=0, output_tokens=1_000_000, reasoning_tokens=400_000)
    plain = pricing.parse("m", {"input": 1, "output": 10})
    apart = pricing.parse("m", {"input": 1, "output": 10, "reasoning": 5})
    assert plain.cost(usage, at("2026-12-01")) == pytest.approx(10.0)
    assert apart.cost(usage, at("2026-12-01")) == pytest.approx(6.0 + 2.0)


def test_a_missing_rate_is_the_dearer_one_never_free():
    usage = Usage(input_tokens=1_000_000, cache_read_tokens=500_000,
                  cache_write_tokens=250_000, cache_write_1h_tokens=100_000)
    price = pricing.parse("m", {"input": 2, "output": 1, "cache_write": 3})
    # reads at the input rate, 1-hour writes at the (5-minute) write rate
    assert price.cost(usage, at("2026-12-01")) == pytest.approx(
        (250_000 * 2 + 500_000 * 2 + 250_000 * 3) / 1e6)


def test_settings_override_the_shipped_table_per_provider_then_everywhere():
    settings = Settings.model_validate({
        "prices": {"gpt-5.4": {"input": 1, "output": 2}},
        "providers": {"gw": {"base_url": "https://gw.example", "protocols": ["chat"],
                             "prices": {"GPT-5.4": {"input": 0.5, "output": 1}}}}})
    book = pricing.book(settings)
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    when = at("2026-12-01")
    assert book.cost("gw", "gpt-5.4", usage, when) == pytest.approx(1.5)
    assert book.cost("openai", "gpt-5.4", usage, when) == pytest.approx(3.0)
    short = Usage(input_tokens=100_000, output_tokens=100_000)  # under gpt-5.5's 272K
    assert book.cost("openai", "gpt-5.5", short, when) == pytest.approx(3.5)  # shipped
    assert book.cost("openai", "unknown-model", usage, when) is None


@pytest.mark.parametrize(("entry", "message"), [
    ({"input": 1}, "output is required"),
    ({"input": -1, "output": 1}, "input"),
    ({"input": 1, "output": True}, "output"),
    ({"input": 1, "output": 1, "cached": 0.1}, "unknown field"),
    ({"input": 1, "output": 1, "long_context": {"above": 0, "input": 1, "output": 1}},
     "long_context.above"),
    ({"input": 1, "output": 1, "changes": [{"from": "soon", "input": 2}]}, r"changes\[0\]\.from"),
])
def test_a_bad_entry_is_refused_by_name(entry, message):
    with pytest.raises(ValueError, match=message):
        pricing.parse("m", entry)


def test_settings_refuse_a_bad_price_with_its_path():
    with pytest.raises(ValueError, match=r"prices\.m\.cached_input"):
        Settings.model_validate({"prices": {"m": {"input": 1, "output": 1,
                                                  "cached_input": -0.1}}})


def test_the_cost_is_computed_in_utc_days():
    # 2026-10-06 23:30 in UTC-5 is already 10-07 in UTC: the new rate
    when = datetime(2026, 10, 7, 4, 30, tzinfo=timezone.utc).timestamp()
    usage = Usage(input_tokens=1_000_000, cache_read_tokens=1_000_000)
    assert pricing.PriceBook().cost("a", "claude-sonnet-5-5", usage, when) == \
        pytest.approx(0.10)


def test_the_wheel_carries_the_price_table():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    root = Path(__file__).resolve().parents[2]
    project = tomllib.loads((root / "pyproject.toml").read_text())
    declared = project["tool"]["setuptools"].get("package-data", {})
    assert "prices.json" in declared.get("byecore_cli.pricing", [])


def test_a_lost_price_table_leaves_costs_unknown_and_nothing_broken(monkeypatch, caplog):
    def gone():
        raise FileNotFoundError("prices.json")

    monkeypatch.setattr(pricing, "_data", gone)
    pricing.shipped.cache_clear()
    try:
        book = pricing.PriceBook()
        assert book.cost("openai", "gpt-5.5", Usage(input_tokens=10), at("2026-12-01")) is None
        assert "price table is unreadable" in caplog.text
    finally:
        monkeypatch.undo()
        pricing.shipped.cache_clear()
    assert pricing.PriceBook().price("openai", "gpt-5.5") is not None
