"""Image models as provider data: which provider serves a model, and its size table.

A provider's table is the one saved in settings.toml (``[providers.NAME.image_models]``),
copied there from its preset by ``byecore provider add``; a provider saved before
presets had image data (the field absent) gets its preset's table, and an empty table
(``image_models = {}``) means it has none. No size or price is written in code outside
the preset rows (providers/presets.py).

Sizes are ``WIDTHxHEIGHT``; a tier is a price band ("1K", "2K", "4K") whose first size is
what ``--size 2K`` means. A provider without a table for a model still works: its sizes
are then not checked and its cost is unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from byecore_cli.config.models import SIZE_RE, ImageModel, Provider, Settings
from byecore_cli.errors import NotFound, UsageError
from byecore_cli.providers.presets import BY_NAME

AUTO = "auto"
_TIMES = re.compile(r"\s*[x×X*]\s*")


def image_models(provider: Provider) -> dict[str, ImageModel]:
    """The provider's image models and their tables (saved, else its preset's)."""
    if provider.image_models is not None:
        return provider.image_models
    preset = BY_NAME.get(provider.preset or "")
    if preset is None or not preset.image_models:
        return {}
    return {name: ImageModel.model_validate(data) for name, data in preset.image_models.items()}


def price_text(price: float | None) -> str:
    """``0.05`` → ``$0.05``, ``0.1`` → ``$0.10``, ``0.042`` → ``$0.042``; None: unknown."""
    if price is None:
        return "price unknown"
    return f"${price:.2f}" if round(price, 2) == price else f"${price:g}"


@dataclass(frozen=True)
class Size:
    size: str  # WIDTHxHEIGHT
    tier: str | None = None
    price: float | None = None  # US dollars per image

    @property
    def label(self) -> str:
        """``1024x1024 (1K, $0.05)``."""
        if self.tier is None:
            return self.size
        return f"{self.size} ({self.tier}, {price_text(self.price)})"

    def as_dict(self) -> dict:
        return {"size": self.size, "tier": self.tier, "price": self.price}


def normalise(text: str) -> str:
    """``' 1024 X 1024 '`` → ``'1024x1024'``; anything else stripped and lower-cased."""
    return _TIMES.sub("x", text.strip()).lower()


class SizeTable:
    """One model's sizes on one provider; ``known`` is False when it has no table."""

    def __init__(self, model: str, provider: str, data: ImageModel | None) -> None:
        self.model, self.provider, self.data = model, provider, data
        self._sizes: dict[str, Size] = {}
        for label, tier in (data.tiers.items() if data else ()):
            for size in tier.sizes:
                self._sizes[size] = Size(size, label, tier.price)

    @property
    def known(self) -> bool:
        return bool(self._sizes)

    def rows(self) -> list[Size]:
        return list(self._sizes.values())

    def get(self, size: str) -> Size | None:
        return self._sizes.get(normalise(size))

    def cheapest(self) -> Size | None:
        """The lowest-priced size (an unknown price counts as dearest); first on ties."""
        rows = self.rows()
        if not rows:
            return None
        return min(rows, key=lambda s: float("inf") if s.price is None else s.price)

    def tier_default(self, label: str) -> Size | None:
        """``2K`` (any case) → that tier's first size."""
        for name, tier in (self.data.tiers.items() if self.data else ()):
            if name.lower() == label.strip().lower():
                return self._sizes[tier.sizes[0]]
        return None

    def listing(self) -> str:
        return ", ".join(s.label for s in self.rows())

    def missing_price(self) -> str | None:
        """What the provider bills without a valid size: ``2K ($0.10)``, or None."""
        tier = self.data.missing_size_tier if self.data else None
        if tier is None:
            return None
        return f"{tier} ({price_text(self.data.tiers[tier].price)})"

    def unsupported(self, size: str) -> str:
        """Why ``size`` is refused, naming every valid one and its price."""
        tiers = ", ".join(self.data.tiers) if self.data else ""
        billed = self.missing_price()
        return (f"{self.model} on {self.provider} has no size {size[:40]!r}; valid sizes: "
                f"{self.listing()}" + (f" (or a tier: {tiers})" if tiers else "")
                + (f". {self.provider} would bill a size it does not list as {billed}"
                   if billed else ""))

    def resolve(self, spec: str) -> Size:
        """``--size``'s value: ``WxH`` or a tier name. ``UsageError`` when not listed."""
        text = normalise(spec)
        if not self.known:
            if not SIZE_RE.match(text):
                raise UsageError(
                    f"{spec!r} is not a size: give WIDTHxHEIGHT such as 1024x1024",
                    hint=f"{self.model} has no size table on {self.provider}, so tier names "
                    "(1K, 2K, 4K) cannot be used: add one under "
                    f"[providers.{self.provider}.image_models.\"{self.model}\"] in "
                    "settings.toml to have sizes checked and priced")
            return Size(text)
        found = self._sizes.get(text) or self.tier_default(text)
        if found is None:
            raise UsageError(self.unsupported(spec),
                             hint=f"see them all: byecore image --sizes --provider "
                             f"{self.provider}")
        return found


def table(settings: Settings, provider: str, model: str) -> SizeTable:
    return SizeTable(model, provider, image_models(settings.providers[provider]).get(model))


def _order(settings: Settings) -> list[str]:
    names = list(settings.providers)
    if settings.default_provider in settings.providers:
        names.remove(settings.default_provider)
        names.insert(0, settings.default_provider)
    return names


def _lister(settings: Settings, model: str) -> str | None:
    """The first provider (the default one first) whose table lists ``model``."""
    return next((n for n in _order(settings)
                 if model in image_models(settings.providers[n])), None)


def choose(settings: Settings, model: str | None = None, provider: str | None = None
           ) -> tuple[str, str]:
    """(provider, model) for ``byecore image``: the named ones, else the provider whose
    table lists the model, else the default provider; with no model, the first image
    model of the provider (the default one first)."""
    if provider is not None and provider not in settings.providers:
        raise NotFound(f"no saved provider named {provider!r}",
                       hint="see 'byecore provider list'")
    if model is not None and provider is None:
        head, sep, tail = model.partition("/")
        if sep and tail and head in settings.providers and _lister(settings, model) is None:
            provider, model = head, tail  # provider/model, as the proxy takes it
    if model is None:
        for name in [provider] if provider else _order(settings):
            listed = list(image_models(settings.providers[name]))
            if listed:
                return name, listed[0]
        if provider:
            raise UsageError(f"{provider} lists no image model",
                             hint=f"pass --model, or add a table under "
                             f"[providers.{provider}.image_models] in settings.toml")
        raise NotFound("no saved provider lists an image model",
                       hint="add one whose preset has them (byecore provider add byecore: "
                       "image-2), or pass --provider and --model")
    if provider is None:
        provider = _lister(settings, model) or settings.default_provider
    if provider is None:
        raise NotFound("no provider saved yet", hint="add one first: byecore provider add "
                       "byecore")
    return provider, model


def route(settings: Settings, model: str) -> tuple[str, str, str]:
    """The proxy's choice for a requested model: (provider, upstream model, how).

    In order: ``provider/model`` naming a saved provider; a provider whose table lists
    the model (so a catch-all chat alias never captures an image model); the first
    ``[proxy.aliases]`` match; the default provider. ``NotFound`` when none applies."""
    head, sep, tail = model.partition("/")
    if sep and tail and head in settings.providers:
        return head, tail, "provider/model"
    owner = _lister(settings, model)
    if owner:
        return owner, model, f"{owner}'s image models"
    for pattern, target in settings.proxy.aliases.items():
        if fnmatchcase(model, pattern):
            head, sep, tail = target.partition("/")
            if sep and tail and head in settings.providers:
                return head, tail, f"alias {pattern}"
            owner = _lister(settings, target) or settings.default_provider
            if owner:
                return owner, target, f"alias {pattern}"
    if settings.default_provider in settings.providers:
        return settings.default_provider, model, "default provider"
    listed = sorted({m for n in settings.providers
                     for m in image_models(settings.providers[n])})
    raise NotFound(f"no provider serves the image model {model[:100]!r}"
                   + (f"; image models: {', '.join(listed)}" if listed else ""),
                   hint="use provider/model, set a default provider, or add the model's "
                   "table under [providers.NAME.image_models] in byecore's settings")
