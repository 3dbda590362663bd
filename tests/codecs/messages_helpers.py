"""Shared helpers for the Messages codec tests: fixtures and the SDK request check."""

from __future__ import annotations

import json
from pathlib import Path

from anthropic.types.beta.message_create_params import (
    MessageCreateParamsNonStreaming as BetaParams,
)
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming as Params

from tests.codecs.sdk_check import check

FIXTURES = Path(__file__).parent / "fixtures" / "messages"
# Fields the typed SDK params no longer list but the API still takes (see encode.py).
LEGACY = ("temperature", "top_p", "top_k")
BETA_ONLY = ("context_management",)


def load(name: str):
    path = FIXTURES / name
    return json.loads(path.read_text()) if name.endswith(".json") else path.read_bytes()


def assert_valid_request(body: dict) -> None:
    """No unknown key at any depth; beta-only fields checked against the beta params."""
    params = BetaParams if any(k in body for k in BETA_ONLY) else Params
    plain = {k: v for k, v in body.items() if k != "stream"}
    problems = check(plain, params, allow=LEGACY)
    assert not problems, problems
    if "stream" in body:
        assert body["stream"] is True
