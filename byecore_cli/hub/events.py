"""The streaming vocabulary shared by every codec.

Rules every stream decoder guarantees and every stream encoder may rely on:

- ``MessageStart`` comes first, once; ``MessageStop`` comes last, once (unless a
  ``StreamError`` ends the stream instead).
- Parts are numbered 0, 1, 2… in the order they start (``index``), whatever the
  upstream's own numbering. At most ONE part is open at a time: ``PartStart(i)``, then
  only deltas for ``i``, then ``PartStop(i)``, before ``PartStart(i+1)``. Decoders of
  protocols that interleave (Chat's parallel tool-call deltas) serialise them.
- ``PartStart.part`` carries what is known at the start (a ``ToolCall`` with id and
  name and empty arguments; an empty ``Text``); deltas carry the rest, incrementally —
  tool arguments are never buffered to the end nor re-sent whole.
- ``PartStop.meta`` carries opaque data known only at the end (a thinking signature,
  Responses ``encrypted_content``), merged into the part's meta.
- ``UsageUpdate`` may come at any point; the last one wins. ``MessageStop`` carries the
  final stop reason and usage, and in ``meta`` (``{protocol: {...}}``, like
  ``Response.meta``) what only the upstream's protocol can say about the stop (Gemini's
  exact ``finishReason``, a MALFORMED_FUNCTION_CALL that the hub calls END).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from byecore_cli.hub.parts import Part
from byecore_cli.hub.response import ErrorInfo, StopReason, Usage


@dataclass(slots=True)
class MessageStart:
    id: str
    model: str
    created: int | None = None
    usage: Usage | None = None  # Anthropic reports input tokens here


@dataclass(slots=True)
class PartStart:
    index: int
    part: Part


@dataclass(slots=True)
class TextDelta:
    index: int
    text: str


@dataclass(slots=True)
class ReasoningDelta:
    index: int
    text: str


@dataclass(slots=True)
class ToolArgsDelta:
    index: int
    text: str


@dataclass(slots=True)
class PartStop:
    index: int
    meta: dict | None = None


@dataclass(slots=True)
class UsageUpdate:
    usage: Usage


@dataclass(slots=True)
class MessageStop:
    stop: StopReason
    usage: Usage = field(default_factory=Usage)
    stop_sequence: str | None = None
    meta: dict | None = None


@dataclass(slots=True)
class StreamError:
    error: ErrorInfo


Event = Union[  # noqa: UP007 (runtime alias)
    MessageStart, PartStart, TextDelta, ReasoningDelta, ToolArgsDelta, PartStop,
    UsageUpdate, MessageStop, StreamError,
]
