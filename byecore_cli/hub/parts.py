"""The pieces a message is made of.

``meta`` on every part is ``{protocol: {...}}``: data only the named protocol understands
(an Anthropic ``signature``, a Responses item ``id`` or ``encrypted_content``, a
``cache_control`` marker). Encoders read only their own protocol's entry, so opaque data
goes back to the protocol that issued it and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union


def meta_for(part: Any, protocol: str) -> dict:
    """This protocol's opaque data on ``part`` (empty when there is none)."""
    meta = getattr(part, "meta", None)
    return (meta or {}).get(protocol) or {}


@dataclass(slots=True)
class Text:
    text: str
    meta: dict | None = None


@dataclass(slots=True)
class Image:
    """An image by URL, or inline as base64 ``data`` with its ``media_type``."""

    url: str | None = None
    data: str | None = None
    media_type: str | None = None
    detail: str | None = None  # OpenAI's "low" | "high" | "auto"
    meta: dict | None = None

    def data_url(self) -> str:
        if self.url:
            return self.url
        return f"data:{self.media_type or 'image/png'};base64,{self.data}"


@dataclass(slots=True)
class Reasoning:
    """Model reasoning: full thinking text, or a summary of it (``summary=True``).

    ``text`` may be empty when the protocol hides it (Anthropic redacted thinking,
    Responses reasoning with only ``encrypted_content``); the opaque payload is in meta.
    """

    text: str = ""
    summary: bool = False
    meta: dict | None = None


@dataclass(slots=True)
class ToolCall:
    """A call the model made. ``arguments`` is the JSON text of the arguments.

    For a ``custom`` (freeform) tool, ``arguments`` is the raw input string instead,
    exactly as the tool receives it (Codex's ``apply_patch`` takes a patch, not JSON).
    ``namespace`` is set when the tool came from a Responses ``namespace`` tool.
    """

    id: str
    name: str
    arguments: str = ""
    kind: str = "function"  # "function" | "custom"
    namespace: str | None = None
    meta: dict | None = None


@dataclass(slots=True)
class ToolResult:
    """The result of a call, sent back by the client; ``content`` is text and images."""

    call_id: str
    content: list[Text | Image] = field(default_factory=list)
    is_error: bool = False
    kind: str = "function"  # "function" | "custom": which call it answers
    meta: dict | None = None

    def text(self) -> str:
        return "".join(p.text for p in self.content if isinstance(p, Text))


Part = Union[Text, Image, Reasoning, ToolCall, ToolResult]  # noqa: UP007 (runtime alias)
