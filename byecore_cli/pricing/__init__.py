"""What a request cost, in US dollars, from the tokens the upstream reported.

``prices.json`` (shipped with byecore, read with importlib.resources) holds the list prices
of the common models, per million tokens, with where each came from and when; its
``about`` says what every field means. settings.toml may replace a model's entry for every
provider (``[prices."MODEL"]``) or for one (``[providers.NAME.prices."MODEL"]``): a gateway
bills its own rates. An entry found is used whole; nothing is merged.

The tokens are the hub's (``hub.Usage``): ``input_tokens`` includes cache reads and
writes, ``output_tokens`` includes reasoning. So a request costs::

    (input - read - written) × input + read × cached_input
    + (written - written_1h) × cache_write + written_1h × cache_write_1h
    + (output - reasoning) × output + reasoning × reasoning

at the rates in force for its day (``changes``), its prompt size (``long_context``) and
its hour (``off_peak``). An unknown model has no cost (None), never a guessed one.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources

RATES = ("input", "cached_input", "cache_write", "cache_write_1h", "output", "reasoning")
PER = 1_000_000
# what tells a model id's variants apart from the model: an OpenRouter-style vendor
# prefix ("openai/gpt-6.1-sol"), a snapshot date, Claude Code's "[1m]" context marker
_VENDOR = re.compile(r"^[^/]+/")
_VARIANT = re.compile(r"(\[1m\]|[-@]\d{8}|-\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Rates:
    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None
    cache_write_1h: float | None = None
    reasoning: float | None = None

    def cost(self, usage) -> float:
        read, written = usage.cache_read_tokens, usage.cache_write_tokens
        hour = min(usage.cache_write_1h_tokens, written)
        plain = max(0, usage.input_tokens - read - written)
        thinking = min(usage.reasoning_tokens, usage.output_tokens)
        cached = self.input if self.cached_input is None else self.cached_input
        write = self.input if self.cache_write is None else self.cache_write
        write_1h = write if self.cache_write_1h is None else self.cache_write_1h
        reasoning = self.output if self.reasoning is None else self.reasoning
        return (plain * self.input + read * cached + (written - hour) * write
                + hour * write_1h + (usage.output_tokens - thinking) * self.output
                + thinking * reasoning) / PER


@dataclass(frozen=True)
class OffPeak:
    factor: float
    peak_hours_utc: tuple[tuple[int, int], ...]  # [start, end) hours
    weekdays_only: bool = True

    def applies(self, when: datetime) -> bool:
        if self.weekdays_only and when.weekday() >= 5:
            return True
        return not any(start <= when.hour < end for start, end in self.peak_hours_utc)


@dataclass(frozen=True)
class Price:
    model: str
    rates: Rates
    above: int | None = None  # long_context: a prompt over this many tokens…
    long: Rates | None = None  # …costs this, for the whole request
    changes: tuple[tuple[str, dict], ...] = ()  # (YYYY-MM-DD, rates from then on)
    off_peak: OffPeak | None = None
    source: str = field(default="", compare=False)

    def rates_for(self, usage, when: datetime) -> Rates:
        rates = self.rates
        day = when.strftime("%Y-%m-%d")
        for start, values in self.changes:
            if day >= start:
                rates = replace(rates, **values)
        if self.long is not None and usage.input_tokens > (self.above or 0):
            rates = self.long
        if self.off_peak is not None and self.off_peak.applies(when):
            f = self.off_peak.factor
            rates = Rates(*(None if v is None else v * f for v in (
                rates.input, rates.output, rates.cached_input, rates.cache_write,
                rates.cache_write_1h, rates.reasoning)))
        return rates

    def cost(self, usage, ts: float) -> float:
        return self.rates_for(usage, datetime.fromtimestamp(ts, timezone.utc)).cost(usage)


def _rates(entry: dict, where: str, *, required: bool = True) -> Rates:
    values = {}
    for name in RATES:
        value = entry.get(name)
        if value is None:
            if required and name in ("input", "output"):
                raise ValueError(f"{where}: {name} is required")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{where}.{name}: a price in dollars per million tokens, ≥ 0")
        values[name] = float(value)
    return Rates(**values) if required else values  # type: ignore[return-value]


def parse(model: str, entry: dict, where: str | None = None) -> Price:
    """One model's entry (prices.json's shape, or a settings.toml table as a dict)."""
    where = where or f"prices.{model}"
    unknown = set(entry) - {*RATES, "long_context", "changes", "off_peak", "source"}
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    price = Price(model, _rates(entry, where), source=str(entry.get("source") or ""))
    long = entry.get("long_context")
    if long is not None:
        above = long.get("above")
        if isinstance(above, bool) or not isinstance(above, int) or above <= 0:
            raise ValueError(f"{where}.long_context.above: a number of tokens, > 0")
        price = replace(price, above=above, long=_rates(long, f"{where}.long_context"))
    changes = []
    for i, change in enumerate(entry.get("changes") or ()):
        start = change.get("from")
        if not (isinstance(start, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", start)):
            raise ValueError(f"{where}.changes[{i}].from: a date, YYYY-MM-DD")
        changes.append((start, _rates(change, f"{where}.changes[{i}]", required=False)))
    off = entry.get("off_peak")
    if off is not None:
        hours = tuple((int(a), int(b)) for a, b in off["peak_hours_utc"])
        price = replace(price, off_peak=OffPeak(float(off["factor"]), hours,
                                                bool(off.get("weekdays_only", True))))
    return replace(price, changes=tuple(sorted(changes)))


def _data() -> dict:
    return json.loads(resources.files(__package__).joinpath("prices.json").read_text("utf-8"))


@lru_cache(maxsize=1)
def shipped() -> dict[str, Price]:
    """The prices byecore ships, by model id; none (costs unknown, never a failed proxy)
    when an install lost the file."""
    try:
        models = _data()["models"]
    except (OSError, ValueError, KeyError) as exc:
        logging.getLogger("byecore").warning("byecore's price table is unreadable (%s): "
                                             "costs are unknown; reinstall byecore", exc)
        return {}
    return {model: parse(model, entry) for model, entry in models.items()}


def checked() -> str:
    """When the shipped prices were last checked against the vendors' pages."""
    return _data()["checked"]


def _lookup(table: dict[str, Price], model: str) -> Price | None:
    """The entry for ``model``: its exact id, else without a vendor prefix, then without a
    snapshot date or context marker (never a neighbouring model by prefix)."""
    name = model.lower()
    for candidate in (name, _VENDOR.sub("", name)):
        if candidate in table:
            return table[candidate]
        bare = _VARIANT.sub("", candidate)
        if bare in table:
            return table[bare]
    return None


class PriceBook:
    """Where a provider's model gets its price: the provider's own table, then the
    settings' one, then byecore's (read now: a running proxy never reads the package
    from disk again, which a reinstall may change under it)."""

    def __init__(self, overrides: dict[str, dict] | None = None,
                 by_provider: dict[str, dict[str, dict]] | None = None) -> None:
        self.shipped = shipped()
        self.global_ = {m.lower(): parse(m, e) for m, e in (overrides or {}).items()}
        self.by_provider = {
            name: {m.lower(): parse(m, e, f"providers.{name}.prices.{m}")
                   for m, e in table.items()}
            for name, table in (by_provider or {}).items()}

    def price(self, provider: str | None, model: str | None) -> Price | None:
        if not model:
            return None
        for table in (self.by_provider.get(provider or "", {}), self.global_, self.shipped):
            found = _lookup(table, model)
            if found is not None:
                return found
        return None

    def cost(self, provider: str | None, model: str | None, usage, ts: float) -> float | None:
        price = self.price(provider, model)
        return None if price is None else price.cost(usage, ts)


def book(settings) -> PriceBook:
    """The price book of a ``config.models.Settings``."""
    def plain(table) -> dict[str, dict]:
        return {m: p.model_dump(exclude_none=True) for m, p in (table or {}).items()}

    return PriceBook(plain(getattr(settings, "prices", None)), {
        name: plain(getattr(provider, "prices", None))
        for name, provider in settings.providers.items()})
