"""Building and describing saved providers: the logic behind ``byecore provider …``.

Kept apart from the CLI so that other commands (setup, check, the proxy) build and
describe providers the same way.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from typing import get_args
from urllib.parse import urlsplit

from pydantic import ValidationError

from byecore_cli.config.models import NAME_RE, Provider, QuirkName
from byecore_cli.errors import NotFound, UsageError
from byecore_cli.images.catalog import image_models
from byecore_cli.providers.endpoints import (
    PROTOCOLS,
    BadURL,
    anthropic_base,
    gemini_base,
    normalise_base_url,
    openai_base,
)
from byecore_cli.providers.keys import BadKey, clean_key, mask_key
from byecore_cli.providers.presets import BY_NAME, Preset


@dataclass
class ProviderRequest:
    """What the user asked for; every field may be left out to take the preset's value."""

    name: str
    preset: str | None = None  # None: the preset of the same name, if any; "none": no preset
    base_url: str | None = None
    key: str | None = None
    key_env: str | None = None
    protocols: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    default_model: str | None = None
    quirks: list[str] = field(default_factory=list)


def find_preset(name: str) -> Preset:
    try:
        return BY_NAME[name]
    except KeyError:
        raise NotFound(
            f"no preset named {name!r}",
            hint="known presets: " + ", ".join(BY_NAME) + " (or --preset none)",
        ) from None


def build_provider(req: ProviderRequest) -> tuple[Provider, list[str]]:
    """Resolve a request against its preset; returns the provider and notes for the user."""
    if not NAME_RE.match(req.name):
        raise UsageError(
            f"{req.name!r} is not a usable provider name",
            hint="use letters, digits, '.', '_' or '-' (up to 64), e.g. 'byecore' or 'work-gw'",
        )
    notes: list[str] = []
    if req.preset == "none":
        preset = None
    elif req.preset:
        preset = find_preset(req.preset)
    else:
        preset = BY_NAME.get(req.name)
    if preset and not req.preset and req.name == preset.name:
        notes.append(f"using the {preset.title} preset (pass --preset none to start blank)")

    if req.base_url:
        try:
            base_url, url_notes = normalise_base_url(req.base_url)
        except BadURL as exc:
            raise UsageError(str(exc), hint="e.g. --base-url https://api.byecore.com") from None
        if "@" in urlsplit(base_url).netloc:
            raise UsageError(
                f"the base URL for {req.name!r} holds a user name or password "
                "('user:password@'), and base URLs are shown and logged",
                hint="give --base-url without them and pass the secret with --key "
                "(or --key-env VAR), which byecore keeps masked")
        notes += [f"base URL: {n}; stored {base_url}" for n in url_notes]
    elif preset:
        base_url = preset.base_url
    else:
        raise UsageError(
            f"{req.name!r} is not a preset, so it needs --base-url",
            hint="e.g. byecore provider add NAME --base-url https://api.example.com, "
            "or --preset with one of: " + ", ".join(BY_NAME),
        )

    bad = [p for p in req.protocols if p not in PROTOCOLS]
    if bad:
        raise UsageError(
            f"unknown protocol {bad[0]!r}", hint="choose from: " + ", ".join(PROTOCOLS)
        )
    protocols = list(dict.fromkeys(req.protocols)) or (
        list(preset.protocols) if preset else ["chat"]
    )
    if not req.protocols and not preset:
        notes.append("assumed it speaks Chat Completions only; add --protocol responses "
                     "or --protocol messages if it speaks those too")

    models = list(dict.fromkeys(req.models)) or (list(preset.models) if preset else [])
    default_model = req.default_model or (
        preset.default_model if preset and preset.default_model in models else None
    ) or (models[0] if models else None)
    if default_model and default_model not in models:
        models.insert(0, default_model)

    quirks = list(dict.fromkeys([*(preset.quirks if preset else ()), *req.quirks]))
    unknown = [q for q in quirks if q not in get_args(QuirkName)]
    if unknown:
        raise UsageError(f"unknown quirk {unknown[0]!r}",
                         hint="choose from: " + ", ".join(get_args(QuirkName)))

    key, key_env = None, req.key_env
    if req.key is not None:
        try:
            key, key_notes = clean_key(req.key)
        except BadKey as exc:
            raise UsageError(str(exc)) from None
        notes += [f"key: {n}" for n in key_notes]
    if key_env is not None and not os.environ.get(key_env, "").strip():
        notes.append(f"warning: ${key_env} is not set in this shell; set it before use")

    fields = dict(
        base_url=base_url,
        protocols=protocols,
        key=key,
        key_env=key_env,
        models=models,
        default_model=default_model,
        preset=preset.name if preset else None,
        openai_path=preset.openai_path if preset else "/v1",
        anthropic_path=preset.anthropic_path if preset else "",
        quirks=quirks,
        # the preset's sizes and prices, saved with the provider so they can be edited
        image_models=copy.deepcopy(dict(preset.image_models))
        if preset and preset.image_models else None,
    )
    try:
        provider = Provider(**fields)
    except ValidationError as exc:  # what the checks above let through: no traceback
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"provider {req.name!r}: {where}: "
                         + first["msg"].removeprefix("Value error, ")) from None
    return provider, notes


def key_source(provider: Provider) -> str:
    if provider.key:
        return "stored"
    if provider.key_env:
        return f"env:{provider.key_env}"
    return "none"


def describe(name: str, provider: Provider, *, is_default: bool, show_key: bool = False) -> dict:
    """A provider as plain data, for JSON and for the tables; the key masked by default."""
    key = provider.resolve_key()
    return {
        "name": name,
        "default": is_default,
        "preset": provider.preset,
        "base_url": provider.base_url,
        "openai_base_url": openai_base(provider.base_url, provider.openai_path),
        "anthropic_base_url": anthropic_base(provider.base_url, provider.anthropic_path),
        "gemini_base_url": gemini_base(provider.base_url, provider.gemini_path),
        "protocols": list(provider.protocols),
        "key": (key if show_key else mask_key(key)) if key else None,
        "key_source": key_source(provider),
        "key_env": provider.key_env,
        "key_env_set": bool(provider.key_env and key) if provider.key_env else None,
        "models": list(provider.models),
        "default_model": provider.default_model,
        "quirks": list(provider.quirks),
        "image_models": list(image_models(provider)),  # sizes: byecore image --sizes
    }
