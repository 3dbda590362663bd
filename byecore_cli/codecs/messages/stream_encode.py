"""Anthropic Messages streams, hub events → client SSE (wire order: see stream_decode).

Encoder: a thinking block always closes with a ``signature_delta`` (Claude Code drops
unsigned thinking): Anthropic's own signature, or a minted one carrying the reasoning's
foreign meta (blocks.py). A custom tool's raw input is streamed inside ``{"input":"…"}``
JSON, escaped fragment by fragment. Hub parts Anthropic cannot put in a response
(images, tool results) are skipped without consuming an index.
"""

from __future__ import annotations

import json

from byecore_cli.codecs.messages.blocks import P, mint_signature
from byecore_cli.codecs.messages.errors import encode_stream_error
from byecore_cli.codecs.messages.response import (
    encode_usage,
    message_id,
    stop_out,
)
from byecore_cli.codecs.sse import encode_event
from byecore_cli.hub import (
    ErrorInfo,
    Event,
    MessageStart,
    MessageStop,
    PartStart,
    PartStop,
    Reasoning,
    ReasoningDelta,
    Request,
    StreamError,
    Text,
    TextDelta,
    ToolArgsDelta,
    ToolCall,
    Usage,
    UsageUpdate,
    meta_for,
)
from byecore_cli.hub.tools import ToolNames

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode




class StreamEncoder:
    def __init__(self, request: Request) -> None:
        self._model = request.model
        self._names = ToolNames(request.tools)
        self._started = self._done = False
        self._wire = -1
        self._hub: int | None = None  # hub index of the open block
        self._kind: str | None = None
        self._part = None
        self._usage = Usage()
        self._calls = False

    def feed(self, event: Event) -> bytes:
        if self._done:
            return b""
        if isinstance(event, MessageStart):
            if self._started:
                return b""
            if event.usage is not None:
                self._usage = event.usage
            return self._message_start(event.id)
        out = b"" if self._started else self._message_start("")
        if isinstance(event, TextDelta):
            if event.index == self._hub and self._kind == "text" and event.text:
                out += _fast_delta(self._wire, "text_delta", "text", event.text)
        elif isinstance(event, ToolArgsDelta):
            if event.index == self._hub and event.text:
                if self._kind == "tool":
                    out += _fast_delta(self._wire, "input_json_delta", "partial_json",
                                       event.text)
                elif self._kind == "custom":
                    out += _fast_delta(self._wire, "input_json_delta", "partial_json",
                                       _dumps(event.text)[1:-1])
        elif isinstance(event, ReasoningDelta):
            if event.index == self._hub and self._kind == "thinking" and event.text:
                out += _fast_delta(self._wire, "thinking_delta", "thinking", event.text)
        elif isinstance(event, PartStart):
            out += self._close(None) + self._start(event)
        elif isinstance(event, PartStop):
            if event.index == self._hub:
                out += self._close(event.meta)
        elif isinstance(event, UsageUpdate):
            self._usage = event.usage
        elif isinstance(event, MessageStop):
            out += self._close(None)
            self._done = True
            stop = stop_out(event.stop, self._calls)
            out += _event("message_delta", {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": event.stop_sequence},
                "usage": encode_usage(event.usage)})
            out += _event("message_stop", {"type": "message_stop"})
        elif isinstance(event, StreamError):
            self._done = True
            out += encode_stream_error(event.error)
        return out

    def flush(self) -> bytes:
        if self._done or not self._started:
            return b""
        self._done = True
        return self._close(None) + encode_stream_error(
            ErrorInfo(502, "api_error", "the upstream stream ended early"))

    # -- internals --

    def _message_start(self, response_id: str) -> bytes:
        self._started = True
        usage = encode_usage(self._usage)
        usage["output_tokens"] = 0
        usage.pop("output_tokens_details", None)
        return _event("message_start", {"type": "message_start", "message": {
            "id": message_id(response_id), "type": "message", "role": "assistant",
            "model": self._model, "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": usage}})

    def _delta(self, delta: dict) -> bytes:
        return _event("content_block_delta",
                      {"type": "content_block_delta", "index": self._wire, "delta": delta})

    def _start(self, event: PartStart) -> bytes:
        part = event.part
        mine = meta_for(part, P)
        if isinstance(part, Text):
            kind, block = ("opaque", None) if "block" in mine else ("text", {"type": "text",
                                                                          "text": ""})
        elif isinstance(part, Reasoning):
            if "redacted" in mine:
                kind, block = "redacted", {"type": "redacted_thinking", "data": mine["redacted"]}
            else:
                kind, block = "thinking", {"type": "thinking", "thinking": "", "signature": ""}
        elif isinstance(part, ToolCall):
            self._calls = True
            kind = "custom" if part.kind == "custom" else "tool"
            block = {"type": "tool_use", "id": part.id,
                     "name": self._names.wire(part.name, part.namespace), "input": {}}
        else:
            return b""
        self._hub, self._kind, self._part = event.index, kind, part
        if block is None:
            return b""
        self._wire += 1
        out = _event("content_block_start", {"type": "content_block_start",
                                             "index": self._wire, "content_block": block})
        if kind == "custom":
            out += self._delta({"type": "input_json_delta", "partial_json": '{"input":"'})
        return out

    def _close(self, meta: dict | None) -> bytes:
        if self._hub is None:
            return b""
        kind, part = self._kind, self._part
        self._hub = self._kind = self._part = None
        out = b""
        if kind == "opaque":
            block = (meta or {}).get(P, {}).get("block") or meta_for(part, P)["block"]
            self._wire += 1
            out += _event("content_block_start", {"type": "content_block_start",
                                                  "index": self._wire, "content_block": block})
        elif kind == "thinking":
            merged = dict(part.meta or {})
            for protocol, values in (meta or {}).items():
                merged[protocol] = {**merged.get(protocol, {}), **values}
            signature = (merged.get(P) or {}).get("signature") or mint_signature(merged)
            out += self._delta({"type": "signature_delta", "signature": signature})
        elif kind == "custom":
            out += self._delta({"type": "input_json_delta", "partial_json": '"}'})
        return out + _event("content_block_stop",
                            {"type": "content_block_stop", "index": self._wire})


def _event(name: str, payload: dict) -> bytes:
    return encode_event(_dumps(payload), name)


def _fast_delta(index: int, kind: str, field: str, text: str) -> bytes:
    """A content_block_delta built as text: the hot path of every stream (JSON-escaped
    ``text`` never holds a raw line break, so it is one ``data:`` line)."""
    return (f'event: content_block_delta\ndata: {{"type":"content_block_delta","index":{index},'
            f'"delta":{{"type":"{kind}","{field}":{_dumps(text)}}}}}\n\n').encode()

