"""A complete (non-streaming) answer, its usage, why it stopped, and errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from byecore_cli.hub.parts import Part


class StopReason(str, Enum):
    """Why generation ended, in byecore's own words; each codec maps it once."""

    END = "end"  # natural end of turn
    TOOL_CALLS = "tool_calls"  # decided by whether calls exist, not by the upstream's word
    LENGTH = "length"  # hit max tokens
    STOP_SEQUENCE = "stop_sequence"
    CONTENT_FILTER = "content_filter"
    REFUSAL = "refusal"
    PAUSE = "pause"  # Anthropic pause_turn: the client should continue the turn
    CONTEXT_OVERFLOW = "context_overflow"  # the prompt did not fit the context window


@dataclass(slots=True)
class Usage:
    """Token counts, OpenAI-style: ``input_tokens`` INCLUDES cached reads and writes.

    Anthropic reports input excluding cache reads/writes; its codec adds and subtracts.
    ``cache_write_1h_tokens`` is the part of ``cache_write_tokens`` written for an hour
    (Anthropic's ``ttl: "1h"``), which costs more than the 5-minute kind.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cache_write_1h_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(slots=True)
class Response:
    id: str
    model: str
    parts: list[Part] = field(default_factory=list)
    stop: StopReason = StopReason.END
    stop_sequence: str | None = None
    usage: Usage = field(default_factory=Usage)
    created: int | None = None  # unix seconds
    meta: dict | None = None


@dataclass(slots=True)
class ErrorInfo:
    """An error to report to a client, in any protocol.

    ``kind`` is byecore's own vocabulary; each codec maps it to its error type:
    invalid_request, authentication, permission, not_found, request_too_large,
    rate_limit, api_error, overloaded, timeout, context_overflow.
    """

    status: int
    kind: str
    message: str
    retry_after: float | None = None
    param: str | None = None
