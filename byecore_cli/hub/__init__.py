"""byecore's own neutral model of a conversation: pure values, no I/O, no wire names.

Every codec decodes its protocol into these types and encodes from them, so N protocols
need N codecs, never N×N adapters. Opaque data a protocol needs back verbatim
(Anthropic thinking signatures, Responses encrypted reasoning and item ids) rides in
each value's ``meta``, keyed by the protocol that issued it, and is sent back only to
that protocol (see ``meta_for``).
"""

from byecore_cli.hub.events import (
    Event,
    MessageStart,
    MessageStop,
    PartStart,
    PartStop,
    ReasoningDelta,
    StreamError,
    TextDelta,
    ToolArgsDelta,
    UsageUpdate,
)
from byecore_cli.hub.parts import (
    Image,
    Part,
    Reasoning,
    Text,
    ToolCall,
    ToolResult,
    meta_for,
)
from byecore_cli.hub.request import (
    REMINDER,
    Message,
    ReasoningConfig,
    Request,
    ResponseFormat,
    Tool,
    ToolChoice,
)
from byecore_cli.hub.response import ErrorInfo, Response, StopReason, Usage

__all__ = [
    "ErrorInfo", "Event", "Image", "Message", "MessageStart", "MessageStop", "Part",
    "PartStart", "PartStop", "Reasoning", "ReasoningConfig", "ReasoningDelta", "Request",
    "Response", "ResponseFormat", "StopReason", "StreamError", "Text", "TextDelta", "Tool",
    "ToolArgsDelta", "ToolCall", "ToolChoice", "ToolResult", "Usage", "UsageUpdate",
    "meta_for", "REMINDER",
]
