"""Anthropic Messages streams, upstream SSE → hub events.

Wire order (both directions): ``message_start`` (usage with the input tokens) → for each
block, with indexes 0, 1, 2… in order and ONE block open at a time:
``content_block_start`` → ``content_block_delta``* → ``content_block_stop`` →
``message_delta`` (``stop_reason``, ``stop_sequence``, cumulative usage) →
``message_stop``. ``ping`` may come anywhere; an ``error`` event may end the stream after
a 200. There is no ``[DONE]``.

Deltas: ``text_delta`` (text), ``thinking_delta`` and one ``signature_delta`` just before
a thinking block closes, ``input_json_delta`` (tool arguments, streamed as they come; the
first may be ``""``), ``citations_delta``. ``redacted_thinking`` and server-tool result
blocks arrive whole in ``content_block_start``.

Decoder robustness: pings and unknown events ignored; a delta for a block that is not
open ignored; a block started while another is open closes the open one first; a
thinking block without ``signature_delta`` closes without a signature; a tool call with
no argument deltas gets ``"{}"``; a custom tool's ``{"input": …}`` is buffered and
unwrapped at its stop (the raw input is only known then); the stream closing after
``message_delta`` without ``message_stop`` still ends normally, closing earlier is a
``StreamError``. An event that is not valid Messages raises ``UpstreamFault``: data that
is not a JSON object, a ``type`` that is not a string, a block without ``type``, a
``tool_use`` without ``id`` and ``name``, a delta or text of the wrong type,
``stop_reason: []``, counts as strings. Empty data and an object with no ``type`` are
ignored.
"""

from __future__ import annotations

import contextlib
import json

from byecore_cli.codecs.base import UpstreamFault
from byecore_cli.codecs.messages.blocks import P, reasoning_meta, render
from byecore_cli.codecs.messages.errors import info
from byecore_cli.codecs.messages.response import (
    ToolBack,
    decode_usage,
    stop_in,
)
from byecore_cli.codecs.sse import SSEEvent, loads
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
)


class _Open:
    """The block being decoded."""

    __slots__ = ("kind", "index", "wire", "call", "buffer", "signature", "block", "sent",
                 "citations")

    def __init__(self, kind: str, index: int, wire) -> None:
        self.kind, self.index, self.wire = kind, index, wire
        self.call: ToolCall | None = None
        self.buffer: list[str] = []
        self.signature: str | None = None
        self.block: dict | None = None
        self.sent = False
        self.citations: list | None = None


class StreamDecoder:
    def __init__(self, request: Request) -> None:
        self._request = request
        self._back: ToolBack | None = None
        self._started = self._done = False
        self._next = 0
        self._open: _Open | None = None
        self._usage = Usage()
        self._reason = None
        self._stop_sequence = None
        self._calls = False

    def feed(self, event: SSEEvent) -> list[Event]:
        if self._done:
            return []
        try:
            data = loads(event.data)
        except (ValueError, RecursionError):
            if not event.data.strip():
                return []
            raise UpstreamFault(f"an event that is not JSON: {event.data[:200]}") from None
        if not isinstance(data, dict):
            raise UpstreamFault(f"an event that is not a JSON object: {event.data[:200]}")
        try:
            kind = data.get("type") or event.event
            if kind == "content_block_delta" and self._started:  # the hot path
                out: list[Event] = []
                self._delta(data, out)
                return out
            return self._event(data, kind)
        except UpstreamFault:
            raise
        except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
            raise UpstreamFault(f"an unreadable event ({type(exc).__name__}: {exc})") from exc

    def _event(self, data: dict, kind) -> list[Event]:
        out: list[Event] = []
        if kind.__class__ is not str:
            if kind is None:  # "{}": nothing to read
                return out
            raise UpstreamFault("must be a string", where="type")
        if kind == "message_start":
            message = data.get("message")
            if not isinstance(message, dict):
                raise UpstreamFault("must be an object", where="message")
            self._usage = decode_usage(message.get("usage"))
            if not self._started:
                self._started = True
                mid, model = message.get("id"), message.get("model")
                out.append(MessageStart(mid if isinstance(mid, str) else "",
                                        model if isinstance(model, str) else self._request.model,
                                        usage=self._usage))
            return out
        if kind == "error":
            error = data.get("error") if isinstance(data.get("error"), dict) else {}
            return self._fail(info(error.get("type"), error.get("message")))
        if kind not in ("content_block_start", "content_block_delta", "content_block_stop",
                        "message_delta", "message_stop"):
            return out  # ping and anything new
        if not self._started:
            self._started = True
            out.append(MessageStart("", self._request.model))
        if kind == "content_block_start":
            self._start(data, out)
        elif kind == "content_block_delta":
            self._delta(data, out)
        elif kind == "content_block_stop":
            if self._open is not None and data.get("index", self._open.wire) == self._open.wire:
                self._close(out)
        elif kind == "message_delta":
            delta = data.get("delta")
            if delta is None:
                delta = {}
            elif not isinstance(delta, dict):
                raise UpstreamFault("must be an object", where="message_delta.delta")
            reason = delta.get("stop_reason")
            if reason is not None:
                stop_in(reason, False)  # checks its type
                self._reason = reason
            if isinstance(delta.get("stop_sequence"), str):
                self._stop_sequence = delta["stop_sequence"]
            usage = data.get("usage")
            if usage is not None:
                self._usage = decode_usage(usage, self._usage)
                out.append(UsageUpdate(self._usage))
        else:
            self._finish(out)
        return out

    def flush(self) -> list[Event]:
        if self._done:
            return []
        if self._reason is not None:
            out: list[Event] = []
            self._finish(out)
            return out
        return self._fail(ErrorInfo(502, "api_error",
                                    "the upstream stream ended before message_stop"))

    # -- internals --

    def _fail(self, error: ErrorInfo) -> list[Event]:
        self._done = True
        return [StreamError(error)]

    def _finish(self, out: list[Event]) -> None:
        if self._open is not None:
            self._close(out)
        out.append(MessageStop(stop_in(self._reason, self._calls), self._usage,
                               self._stop_sequence))
        self._done = True

    def _start(self, data: dict, out: list[Event]) -> None:
        block = data.get("content_block")
        if not isinstance(block, dict):
            raise UpstreamFault("must be an object", where="content_block")
        kind = block.get("type")
        if not isinstance(kind, str) or not kind:
            raise UpstreamFault("a content block needs a type", where="content_block.type")
        if self._open is not None:
            self._close(out)
        index, self._next = self._next, self._next + 1
        wire = data.get("index")
        if kind == "text":
            state = _Open("text", index, wire)
            out.append(PartStart(index, Text("")))
            text = _text(block, "text")
            if text:
                out.append(TextDelta(index, text))
        elif kind == "thinking":
            state = _Open("thinking", index, wire)
            out.append(PartStart(index, Reasoning("")))
            text = _text(block, "thinking")
            if text:
                out.append(ReasoningDelta(index, text))
            state.signature = _text(block, "signature") or None
        elif kind == "redacted_thinking":
            state = _Open("redacted", index, wire)
            data = _text(block, "data")
            if not data:
                raise UpstreamFault("redacted_thinking needs its data", where="content_block")
            out.append(PartStart(index, Reasoning("", meta={P: {"redacted": data}})))
        elif kind == "tool_use":
            if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
                raise UpstreamFault("a tool_use block needs an id and a name",
                                    where="content_block")
            state = _Open("tool", index, wire)
            if self._back is None:
                self._back = ToolBack(self._request)
            state.call = self._back.call(block["id"], block["name"])
            args = block.get("input")
            if args is not None and not isinstance(args, dict):
                raise UpstreamFault("must be an object", where="content_block.input")
            state.block = args
            self._calls = True
            out.append(PartStart(index, state.call))
        else:
            state = _Open("opaque", index, wire)
            state.block = dict(block)
            out.append(PartStart(index, Text("", {P: {"block": block}})))
        self._open = state

    def _delta(self, data: dict, out: list[Event]) -> None:
        state = self._open
        delta = data.get("delta")
        if delta.__class__ is not dict:
            raise UpstreamFault("must be an object", where="content_block_delta.delta")
        if state is None or data.get("index", state.wire) != state.wire:
            return
        kind = delta.get("type")
        if kind == "text_delta" and state.kind == "text":
            text = delta.get("text")
            if text.__class__ is str:
                if text:
                    out.append(TextDelta(state.index, text))
            else:
                _text(delta, "text")
        elif kind == "thinking_delta" and state.kind == "thinking":
            text = _text(delta, "thinking")
            if text:
                out.append(ReasoningDelta(state.index, text))
        elif kind == "signature_delta":
            state.signature = _text(delta, "signature")
        elif kind == "input_json_delta":
            fragment = _text(delta, "partial_json")
            if state.kind == "tool" and state.call.kind != "custom":
                if fragment:
                    state.sent = True
                    out.append(ToolArgsDelta(state.index, fragment))
            elif state.kind in ("tool", "opaque"):
                state.buffer.append(fragment)
        elif kind == "citations_delta" and state.kind == "text":
            state.citations = (state.citations or []) + [delta.get("citation")]
        elif not isinstance(kind, str):
            raise UpstreamFault("a delta needs a type", where="content_block_delta.delta.type")

    def _close(self, out: list[Event]) -> None:
        state, self._open = self._open, None
        meta = None
        if state.kind == "text" and state.citations:
            meta = {P: {"citations": state.citations}}
        elif state.kind == "thinking":
            meta = reasoning_meta(state.signature)
        elif state.kind == "tool":
            fallback = json.dumps(state.block, ensure_ascii=False) if state.block else "{}"
            if state.call.kind == "custom":
                raw = ToolBack.arguments(state.call, "".join(state.buffer) or fallback)
                if raw:
                    out.append(ToolArgsDelta(state.index, raw))
            elif not state.sent:
                out.append(ToolArgsDelta(state.index, fallback))
        elif state.kind == "opaque":
            block = state.block
            if state.buffer:
                with contextlib.suppress(ValueError):
                    block["input"] = json.loads("".join(state.buffer))
            out.append(TextDelta(state.index, render(block)))
            meta = {P: {"block": block}}
        out.append(PartStop(state.index, meta))


def _text(value: dict, key: str) -> str:
    """A string field of a block or delta ("" when absent or null)."""
    text = value.get(key)
    if text.__class__ is str:
        return text
    if text is None:
        return ""
    raise UpstreamFault("must be a string", where=key)
