"""Shared helpers for the Chat codec tests: fixtures and the strict SDK request check."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from openai.types.chat.completion_create_params import (
    CompletionCreateParamsNonStreaming,
    CompletionCreateParamsStreaming,
)

from tests.codecs.sdk_check import check

FIXTURES = Path(__file__).parent / "fixtures" / "chat"
REASONING_FIELDS = ("reasoning_content", "reasoning")


def load(name: str):
    path = FIXTURES / name
    if name.endswith(".json"):
        return json.loads(path.read_text())
    return path.read_bytes()


def request_problems(body: dict) -> list[str]:
    """Problems of a Chat request against the SDK's create params, no unknown key anywhere.

    The documented extensions, echoed only when they came from a Chat upstream, are removed
    first: ``reasoning_content``/``reasoning`` (a string) on assistant messages, and
    Gemini's ``extra_content`` on tool calls.
    """
    body = copy.deepcopy(body)
    problems = []
    for i, message in enumerate(body.get("messages") or []):
        for field in REASONING_FIELDS:
            if field in message:
                value = message.pop(field)
                if message.get("role") != "assistant" or not isinstance(value, str):
                    problems.append(f"$.messages[{i}].{field}: only a string on assistant turns")
        for call in message.get("tool_calls") or []:
            call.pop("extra_content", None)
    params = CompletionCreateParamsStreaming if body.get("stream") else \
        CompletionCreateParamsNonStreaming
    return problems + check(body, params)
