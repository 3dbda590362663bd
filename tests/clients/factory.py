"""Targets for writer tests: what ``clients/targets.py`` would build for a provider."""

from __future__ import annotations

from pathlib import Path

from byecore_cli.clients.base import Limits, Target

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "sk-test-0123456789abcdefXYZ"


def make_target(**overrides) -> Target:
    values = dict(
        provider="byecore", model="gpt-5.4", models=("gpt-5.4", "gpt-5.4-mini"),
        root="https://api.example.com", openai_base="https://api.example.com/v1",
        anthropic_base="https://api.example.com", key=KEY, key_env=None,
        limits={"gpt-5.4": Limits(400_000, 128_000)},
    )
    values.update(overrides)
    return Target(**values)


def proxy_target(**overrides) -> Target:
    return make_target(**{
        "model": "byecore/gpt-5.4", "models": ("byecore/gpt-5.4",),
        "root": "http://127.0.0.1:4000", "openai_base": "http://127.0.0.1:4000/v1",
        "anthropic_base": "http://127.0.0.1:4000", "key": "bc-local-abc123def456ghi789",
        "via_proxy": True, **overrides})


def without(text: str, *needles: str) -> str:
    """``text`` minus every line containing one of ``needles`` (for survival checks)."""
    return "".join(line for line in text.splitlines(keepends=True)
                   if not any(n in line for n in needles))
