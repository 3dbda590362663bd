"""A request in byecore's own terms.

Roles: ``system`` and ``developer`` (instructions; ``developer`` is kept apart because
Responses and Chat distinguish them), ``user``, ``assistant`` and ``tool`` (a message
holding only ``ToolResult`` parts). Instructions given outside the message list
(Anthropic ``system``, Responses ``instructions``) are in ``Request.system``;
instructions that appear inside the conversation stay where they were, as messages.

An assistant turn is one message: its reasoning, text and tool calls, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from byecore_cli.hub.parts import Part, Text

# How a system message that cannot stay one travels inside a user turn: Claude Code's own
# convention for mid-conversation instructions, which models read as such.
REMINDER = ("<system-reminder>\n", "\n</system-reminder>")


@dataclass(slots=True)
class Message:
    role: str  # "system" | "developer" | "user" | "assistant" | "tool"
    parts: list[Part] = field(default_factory=list)
    meta: dict | None = None


@dataclass(slots=True)
class Tool:
    """A tool the model may call.

    kind ``function``: JSON-schema ``parameters``. kind ``custom``: freeform text input,
    optionally constrained by ``format`` (a Responses grammar, kept verbatim). kind
    ``hosted``: a provider-run tool (``web_search``…) kept as its original wire dict in
    ``hosted`` under the protocol that defined it; encoders for other protocols drop it
    unless they know an equivalent.
    """

    name: str
    description: str = ""
    parameters: dict | None = None
    kind: str = "function"  # "function" | "custom" | "hosted"
    strict: bool | None = None
    namespace: str | None = None
    format: dict | None = None
    hosted: dict | None = None  # {protocol: original tool dict}
    meta: dict | None = None


@dataclass(slots=True)
class ToolChoice:
    mode: str = "auto"  # "auto" | "none" | "required" | "tool"
    name: str | None = None  # with mode "tool"
    kind: str = "function"  # with mode "tool": "function" | "custom"


@dataclass(slots=True)
class ReasoningConfig:
    """How much the model should think. Either side may be given; codecs convert.

    ``effort`` is OpenAI's scale ("none" | "minimal" | "low" | "medium" | "high" |
    "xhigh" | "max"); ``budget_tokens`` is Anthropic's. ``enabled=False`` means
    explicitly off; ``summary`` is Responses' summary request ("auto" | "concise" | …).
    """

    enabled: bool | None = None
    effort: str | None = None
    budget_tokens: int | None = None
    summary: str | None = None
    adaptive: bool = False  # Anthropic {"type": "adaptive"}


@dataclass(slots=True)
class ResponseFormat:
    """Structured output: ``json_schema`` (with ``schema``) or ``json_object``."""

    type: str = "json_schema"
    name: str | None = None
    schema: dict | None = None
    strict: bool | None = None
    description: str | None = None


@dataclass(slots=True)
class Request:
    model: str
    messages: list[Message] = field(default_factory=list)
    system: list[Text] = field(default_factory=list)
    tools: list[Tool] = field(default_factory=list)
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] = field(default_factory=list)
    reasoning: ReasoningConfig | None = None
    response_format: ResponseFormat | None = None
    stream: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    user: str | None = None
    # Names the conversation for an upstream's prompt cache (OpenAI ``prompt_cache_key``):
    # the client's own key, or one derived from its session; the same every turn.
    cache_key: str | None = None
    # Fields only the source protocol understands, kept so that a same-protocol
    # encoder can send them back: {protocol: {field: value}}. Other encoders ignore them.
    extras: dict[str, dict[str, Any]] = field(default_factory=dict)
