"""The shape of ``settings.toml``, validated with pydantic.

Models only validate; they never rewrite what the user wrote (URL cleaning happens
once, in ``byecore provider add``). ``extra="forbid"`` turns a misspelt key into an
error that names it instead of a setting silently ignored.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from byecore_cli.providers.endpoints import PREFIX_FIELDS, PROTOCOLS, endpoint_url

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


CREDENTIALS_IN_URL = (
    "the URL holds a user name or password ('user:password@'): base URLs are shown and "
    "logged, so give it without them and put the secret in the provider's key "
    "(key, or key_env for an environment variable), which byecore keeps masked")


# The names in byecore_cli/providers/quirks.py (a test keeps the two lists equal; this one
# stays here so that loading settings does not import the hub).
QuirkName = Literal["system_first", "no_stream_options", "max_completion_tokens"]


def _known_protocol(name: str) -> str:
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol {name!r}: choose from {', '.join(PROTOCOLS)}")
    return name


SIZE_RE = re.compile(r"^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$")


class ImageTier(BaseModel):
    """One price band of an image model: the sizes it covers and what one image costs."""

    model_config = ConfigDict(extra="forbid")

    sizes: list[str] = Field(min_length=1)  # WIDTHxHEIGHT; the first is the tier's default
    price: float | None = Field(None, ge=0)  # US dollars per image; None: not known

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, value: list[str]) -> list[str]:
        for size in value:
            if not SIZE_RE.match(size):
                raise ValueError(f"{size!r}: expected WIDTHxHEIGHT such as '1024x1024'")
        if len(set(value)) != len(value):
            raise ValueError("each size may be listed once")
        return value


class ImageModel(BaseModel):
    """An image model's sizes and prices (``[providers.NAME.image_models.MODEL]``): provider
    data, copied from the preset, so a user can correct it per provider."""

    model_config = ConfigDict(extra="forbid")

    tiers: dict[str, ImageTier] = Field(min_length=1)  # label ("1K") → its sizes and price
    # the tier the provider bills a request as when it has no size, "auto" or one it lacks
    missing_size_tier: str | None = None

    @field_validator("tiers")
    @classmethod
    def _one_tier_a_size(cls, value: dict[str, ImageTier]) -> dict[str, ImageTier]:
        seen: dict[str, str] = {}
        for label, tier in value.items():
            for size in tier.sizes:
                if size in seen:
                    raise ValueError(f"{size} is in two tiers ({seen[size]!r} and {label!r})")
                seen[size] = label
        return value

    @field_validator("missing_size_tier")
    @classmethod
    def _known_tier(cls, value: str | None, info: ValidationInfo) -> str | None:
        tiers = info.data.get("tiers")
        if value is not None and tiers is not None and value not in tiers:
            raise ValueError(f"{value!r} is not one of this model's tiers: "
                             + ", ".join(tiers))
        return value


class TokenRates(BaseModel):
    """US dollars per million tokens; a rate left out costs what byecore_cli/pricing says
    (cached_input and cache_write: the input rate; cache_write_1h: cache_write;
    reasoning: output)."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(None, ge=0)  # read from the prompt cache
    cache_write: float | None = Field(None, ge=0)  # written to it (Anthropic: 5 minutes)
    cache_write_1h: float | None = Field(None, ge=0)  # Anthropic's 1-hour writes
    reasoning: float | None = Field(None, ge=0)  # only where a vendor bills it apart


class LongContextRates(TokenRates):
    above: int = Field(gt=0)  # a prompt over this many tokens costs these, whole request


class ModelPrice(TokenRates):
    """``[prices."MODEL"]`` or ``[providers.NAME.prices."MODEL"]``: replaces byecore's
    shipped price of that model (for every provider, or for this one)."""

    long_context: LongContextRates | None = None


class Provider(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str
    protocols: list[Annotated[str, AfterValidator(_known_protocol)]] = Field(min_length=1)
    key: str | None = None
    key_env: str | None = None
    models: list[str] = Field(default_factory=list)
    default_model: str | None = None
    preset: str | None = None
    openai_path: str = "/v1"
    anthropic_path: str = ""
    gemini_path: str = "/v1beta"
    quirks: list[QuirkName] = Field(default_factory=list)
    # None: not set (the preset's, if any, applies); {}: this provider has no image models
    image_models: dict[str, ImageModel] | None = None
    # model id → what this provider bills for it (a gateway's own rates); None: not set
    prices: dict[str, ModelPrice] | None = None

    @field_validator("base_url")
    @classmethod
    def _root_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http:// or https:// URL such as https://api.byecore.com")
        if "@" in parts.netloc:  # base URLs are shown and logged; keys are masked
            raise ValueError(CREDENTIALS_IN_URL)
        return value

    @field_validator("protocols")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each protocol may be listed once")
        return value

    @field_validator("key")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        if value is not None and (not value or value != value.strip() or " " in value):
            raise ValueError("expected a key with no spaces or line breaks")
        return value

    @field_validator("key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not ENV_RE.match(value):
            raise ValueError("expected an environment variable name such as BYECORE_API_KEY")
        return value

    @field_validator("openai_path", "anthropic_path", "gemini_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if value and (not value.startswith("/") or value.endswith("/")):
            raise ValueError("expected a path that starts with '/' and does not end with one")
        return value

    def resolve_key(self) -> str | None:
        """The key to send: the stored one, else the named environment variable's value."""
        if self.key:
            return self.key
        if self.key_env:
            return os.environ.get(self.key_env, "").strip() or None
        return None

    @property
    def prefixes(self) -> dict[str, str]:
        """The path prefix under the root for each wire base (``{"openai": "/v1", …}``)."""
        return {base: getattr(self, field) for base, field in PREFIX_FIELDS.items()}

    def url(self, protocol: str, model: str = "", stream: bool = False) -> str:
        """Where a ``protocol`` request for ``model`` goes."""
        return endpoint_url(self.base_url, protocol, model=model, stream=stream,
                            prefixes=self.prefixes)

    def models_url(self, protocol: str) -> str:
        """The model list that ``protocol``'s clients read."""
        return endpoint_url(self.base_url, protocol, models=True, prefixes=self.prefixes)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_key(origin: str) -> str | None:
    """An origin as a browser compares it, ``'HTTP://LocalHost:80'`` → ``'http://localhost'``;
    None when ``origin`` is not ``scheme://host[:port]`` (``null``, a path, a user name)."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if (not parts.scheme or not host or parts.path or parts.query or parts.fragment
            or "@" in parts.netloc or "*" in host):
        return None
    if port == _DEFAULT_PORTS.get(parts.scheme):
        port = None  # browsers leave the default port out of an Origin
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown}" + ("" if port is None else f":{port}")


# Claude Code request kinds the proxy can route apart (byecore_cli/proxy/router.py).
SCENARIOS = ("subagent", "web_search", "image", "long_context")


class ProxyTimeouts(BaseModel):
    """Seconds the proxy waits on an upstream: to connect, for its first byte, between bytes;
    and on a client, for the rest of its request body (``client_body``).

    The defaults, against what the clients themselves wait (each gives up on its own):
    - ``first_byte`` 300: the OpenAI and Anthropic SDKs wait 600 s for an answer, and so
      does Claude Code (API_TIMEOUT_MS); stopping at half of that leaves a fallback as
      long again before the client gives up (at 600 a fallback never fired in time).
      A reasoning model answering a request that does not stream sends no byte until it
      has finished thinking, which takes minutes, so this cannot be much shorter; a
      stream's first event comes within seconds, so only a stalled upstream waits it out.
    - ``idle`` 300: the silence Codex (stream_idle_timeout_ms) and Claude Code's stream
      watchdog allow; the proxy keeps its clients waiting with keep-alives meanwhile.
    - ``connect`` 10: a reachable host answers in well under a second, even far away;
      past 10 s the next target is the better bet.
    """

    model_config = ConfigDict(extra="forbid")

    connect: float = Field(10.0, gt=0)
    first_byte: float = Field(300.0, gt=0)
    idle: float = Field(300.0, gt=0)
    client_body: float = Field(60.0, gt=0)


class ProxyImages(BaseModel):
    """``[proxy.images]``: what the proxy does with an Images API request's ``size``.

    Some providers bill a request without a size (or with ``auto``, or one they do not
    list) at a higher tier: byecore's gateway bills image-2's 2K price for it. So a
    missing or ``auto`` size becomes ``default_size`` (or the model's cheapest size when
    its table lacks that one), and a size the model's table does not list is refused with
    the list of valid ones, instead of going up to be billed silently.
    """

    model_config = ConfigDict(extra="forbid")

    default_size: str = "1024x1024"
    fill_missing: bool = True  # false: a request without a size goes up as it is
    refuse_unlisted: bool = True  # false: a size the table lacks goes up as it is

    @field_validator("default_size")
    @classmethod
    def _size(cls, value: str) -> str:
        if not SIZE_RE.match(value):
            raise ValueError("expected WIDTHxHEIGHT such as '1024x1024'")
        return value


class ProxySettings(BaseModel):
    """``[proxy]``: how ``byecore proxy`` listens and routes (see byecore_cli/proxy/router.py).

    ``aliases`` maps a glob on the requested model name to a target, ``provider/model`` or a
    bare model name; ``fallbacks`` maps a glob on a resolved ``provider/model`` to the
    targets tried next, in order, when it fails before its first byte.
    """

    model_config = ConfigDict(extra="forbid")

    port: int = Field(4000, ge=1, le=65535)
    aliases: dict[str, str] = Field(default_factory=dict)
    fallbacks: dict[str, list[str]] = Field(default_factory=dict)
    scenarios: dict[str, str] = Field(default_factory=dict)
    long_context_tokens: int = Field(60000, ge=1)
    timeouts: ProxyTimeouts = Field(default_factory=ProxyTimeouts)
    keepalive: float = Field(10.0, gt=0)
    max_body_mb: float = Field(32.0, gt=0)
    max_answer_mb: float = Field(64.0, gt=0)  # an upstream answer, or one of its events
    # Host header values served besides the loopback names (a DNS-rebinding guard)
    allowed_hosts: list[str] = Field(default_factory=list)
    # Origin header values served besides loopback pages: an editor's webview
    # (vscode-webview://…), a desktop app's own scheme; matched on scheme, host and port
    allowed_origins: list[str] = Field(default_factory=list)
    max_attempts: int = Field(3, ge=1, le=10)
    images: ProxyImages = Field(default_factory=ProxyImages)

    @field_validator("aliases", "scenarios")
    @classmethod
    def _targets(cls, value: dict[str, str]) -> dict[str, str]:
        for pattern, target in value.items():
            if not pattern or not target or target != target.strip():
                raise ValueError(f"{pattern!r} = {target!r}: expected a model or provider/model")
        return value

    @field_validator("scenarios")
    @classmethod
    def _scenario_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if name not in SCENARIOS:
                raise ValueError(f"unknown scenario {name!r}: expected one of "
                                 + ", ".join(SCENARIOS))
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for entry in value:
            if entry.strip().lower() == "null":
                raise ValueError(
                    "'null' cannot be allowed: every sandboxed frame and file:// page on the "
                    "web sends that origin, so allowing it would let any web page reach the "
                    "proxy")
            if origin_key(entry) is None:
                raise ValueError(
                    f"{entry!r}: expected an origin exactly as the browser or app sends it, "
                    "scheme://host or scheme://host:port with no path, such as "
                    "'vscode-webview://1a2b3c4d' or 'http://localhost:3000'")
        return value


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # providers first: default_provider's check reads them
    providers: dict[str, Provider] = Field(default_factory=dict)
    default_provider: str | None = None
    proxy: ProxySettings = Field(default_factory=ProxySettings)
    # model id → its price wherever it is served, instead of byecore's shipped one
    prices: dict[str, ModelPrice] = Field(default_factory=dict)

    @field_validator("providers")
    @classmethod
    def _names(cls, value: dict[str, Provider]) -> dict[str, Provider]:
        for name in value:
            if not NAME_RE.match(name):
                raise ValueError(
                    f"provider name {name!r}: expected letters, digits, '.', '_' or '-'"
                )
        return value

    @field_validator("default_provider")
    @classmethod
    def _default_exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        providers = info.data.get("providers")  # absent when they failed validation
        if value and providers is not None and value not in providers:
            raise ValueError(f"{value!r} is not a saved provider")
        return value
