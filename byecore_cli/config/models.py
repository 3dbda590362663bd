"""The shape of ``settings.toml``, validated with pydantic.

Models only validate; they never rewrite what the user wrote (URL cleaning happens
once, in ``byecore provider add``). ``extra="forbid"`` turns a misspelt key into an
error that names it instead of a setting silently ignored.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from byecore_cli.providers.endpoints import Protocol, endpoint_url

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Provider(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str
    protocols: list[Protocol] = Field(min_length=1)
    key: str | None = None
    key_env: str | None = None
    models: list[str] = Field(default_factory=list)
    default_model: str | None = None
    preset: str | None = None
    openai_path: str = "/v1"
    anthropic_path: str = ""

    @field_validator("base_url")
    @classmethod
    def _root_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http:// or https:// URL such as https://api.byecore.com")
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

    @field_validator("openai_path", "anthropic_path")
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

    def url(self, what: str) -> str:
        return endpoint_url(
            self.base_url, what, openai_path=self.openai_path, anthropic_path=self.anthropic_path
        )


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # providers first: default_provider's check reads them
    providers: dict[str, Provider] = Field(default_factory=dict)
    default_provider: str | None = None

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
