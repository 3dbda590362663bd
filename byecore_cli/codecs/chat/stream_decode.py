"""A Chat Completions upstream's SSE chunks → hub events.

Chat numbers only tool calls (``delta.tool_calls[].index``) and may interleave parallel
calls; the hub wants every part numbered in start order with one part open at a time.
So:

- The first chunk gives ``MessageStart`` (id, model, created).
- ``delta.reasoning_content`` / ``delta.reasoning`` → a ``Reasoning`` part (marked with the
  field name, see encode.py), ``delta.content`` → ``Text``, ``delta.refusal`` → ``Text``
  marked refusal. A change of kind closes the open part. Empty strings open nothing.
- Tool calls are matched by ``id`` when the chunk has one, else by ``index``, else to the
  last call (Gemini sends no ``index`` and may repeat ``index: 0`` with new ids).
  Calls start in order of appearance, each once its name is known. The open call streams
  its argument fragments live; a call that appears while another is open is buffered
  until the open one is finished — which is known when its arguments already form a
  complete JSON object (sequential calls, what OpenAI sends, thus stream live) or at the
  end of the message (truly interleaved calls). A buffered call is then sent as one
  delta and streams live from there.
- A custom tool that was sent as a function (see encode.py) is buffered whole and its
  raw input unwrapped at the end of the call; a native ``custom`` call streams as is.
  A function call that received no arguments gets ``"{}"``.
- ``finish_reason`` closes every part; ``MessageStop`` comes at ``[DONE]`` (or at the
  end of the stream when the upstream omits ``[DONE]``), after the usage chunk
  (``choices: []``) the encoder asked for with ``stream_options.include_usage``; the stop
  reason is "tool calls" exactly when calls exist.
- ``{"error": …}`` mid-stream or an end without ``finish_reason`` → ``StreamError``;
  nothing is decoded after it. A chunk that is not a JSON object, or holds a wrong type
  where the schema has one (``choices`` not an array, ``content`` a number,
  ``finish_reason: 5``, usage counts as strings…) raises ``UpstreamFault``. Ignored:
  ``[DONE]`` (the end), empty data, choices other than index 0, unknown fields.
"""

from __future__ import annotations

import json

from byecore_cli.codecs.base import UpstreamFault
from byecore_cli.codecs.chat.errors import decode_stream_error
from byecore_cli.codecs.chat.request import REASONING_FIELDS, P
from byecore_cli.codecs.chat.response import CallNames, chunk_usage, decode_usage, final_stop
from byecore_cli.codecs.sse import SSEEvent
from byecore_cli.hub import (
    ErrorInfo,
    Event,
    MessageStart,
    MessageStop,
    PartStart,
    PartStop,
    Reasoning,
    ReasoningDelta,
    StreamError,
    Text,
    TextDelta,
    ToolArgsDelta,
    ToolCall,
    UsageUpdate,
)
from byecore_cli.hub.tools import unwrap_custom_input

_decode = json.JSONDecoder().raw_decode  # json.loads minus its wrappers: this is per chunk


class _Call:
    __slots__ = ("wire_index", "id", "name", "args", "index", "native", "meta", "checked")

    def __init__(self, wire_index: int | None, call_id: str | None) -> None:
        self.wire_index = wire_index
        self.id = call_id
        self.name = ""
        self.args: list[str] = []
        self.index: int | None = None  # hub index once started
        self.native = False
        self.meta: dict | None = None
        self.checked = -1  # len(args) at the last failed completeness check


class StreamDecoder:
    def __init__(self, request) -> None:
        self._names = CallNames(request)
        self._started = False
        self._ended = False
        self._next = 0
        self._open: tuple[str, int] | None = None  # ("text"|"refusal"|field, hub index)
        self._calls: list[_Call] = []
        self._by_id: dict[str, _Call] = {}
        self._by_index: dict[int, _Call] = {}
        self._head = 0  # calls before this one are closed
        self._buffered: set[int] = set()  # ids of calls sent whole at their end (custom)
        self._finish: str | None = None
        self._refused = False
        self._usage = None

    # --- the SSE side ---------------------------------------------------------------

    def feed(self, event: SSEEvent) -> list[Event]:
        if self._ended:
            return []
        data = event.data
        if data[:1] != "{":  # the hot path is a JSON object; anything else is rare
            data = data.strip()
            if not data:
                return []
            if data == "[DONE]":
                return self._stop()
        try:
            chunk, end = _decode(data)
            if end != len(data) and data[end:].strip():
                raise ValueError("extra data")
        except (ValueError, RecursionError):
            raise UpstreamFault(f"a chunk that is not JSON: {data[:200]}") from None
        if not isinstance(chunk, dict):
            raise UpstreamFault(f"a chunk that is not a JSON object: {data[:200]}")
        if chunk.get("error"):
            return self._fail(decode_stream_error(chunk))
        out: list[Event] = []
        if not self._started:
            self._started = True
            created = chunk.get("created")
            out.append(MessageStart(str(chunk.get("id") or ""), str(chunk.get("model") or ""),
                                    created if isinstance(created, int) else None))
        choices = chunk.get("choices")
        try:
            if isinstance(choices, list):
                for choice in choices:
                    if not isinstance(choice, dict):
                        raise UpstreamFault("must be an object", where="choices[]")
                    if choice.get("index", 0) in (0, None):
                        self._choice(choice, out)
            elif choices is not None:
                raise UpstreamFault("must be an array", where="choices")
            usage = chunk_usage(chunk)
            if usage is not None:
                self._usage = decode_usage(usage)
                out.append(UsageUpdate(self._usage))
        except UpstreamFault:
            raise
        except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
            raise UpstreamFault(f"an unreadable chunk ({type(exc).__name__}: {exc})") from exc
        return out

    def flush(self) -> list[Event]:
        if self._ended:
            return []
        if self._finish is not None:
            return self._stop()
        return self._fail(ErrorInfo(502, "api_error",
                                    "the upstream stream ended before the answer was complete"))

    def _fail(self, error: ErrorInfo) -> list[Event]:
        self._ended = True
        return [StreamError(error)]

    def _stop(self) -> list[Event]:
        out: list[Event] = []
        if not self._started:
            out.append(MessageStart("", ""))
            self._started = True
        self._close_all(out)
        self._ended = True
        stop = final_stop(self._finish, bool(self._calls), self._refused)
        out.append(MessageStop(stop, self._usage or decode_usage(None)))
        return out

    # --- one choice ---------------------------------------------------------------------

    def _choice(self, choice: dict, out: list[Event]) -> None:
        delta = choice.get("delta")
        if type(delta) is dict and len(delta) == 1 and "content" in delta:
            content = delta["content"]  # the usual chunk: one piece of text, nothing else
            if isinstance(content, str):
                if content:
                    self._text("text", content, out)
            elif content is not None:
                raise UpstreamFault("must be a string", where="delta.content")
        elif isinstance(delta, dict):
            for field in REASONING_FIELDS:
                value = delta.get(field)
                if isinstance(value, str) and value:
                    self._text(field, value, out)
                    break
            content = delta.get("content")
            if isinstance(content, str):
                if content:
                    self._text("text", content, out)
            elif content is not None:
                raise UpstreamFault("must be a string", where="delta.content")
            refusal = delta.get("refusal")
            if isinstance(refusal, str):
                if refusal:
                    self._refused = True
                    self._text("refusal", refusal, out)
            elif refusal is not None:
                raise UpstreamFault("must be a string", where="delta.refusal")
            calls = delta.get("tool_calls")
            if isinstance(calls, list):
                for raw in calls:
                    if not isinstance(raw, dict):
                        raise UpstreamFault("must be an object", where="delta.tool_calls[]")
                    self._call_delta(raw, out)
                self._advance(out)
            elif calls is not None:
                raise UpstreamFault("must be an array", where="delta.tool_calls")
        elif delta is not None:
            raise UpstreamFault("must be an object", where="delta")
        finish = choice.get("finish_reason")
        if isinstance(finish, str):
            if finish:
                self._finish = finish
                self._close_all(out)
        elif finish is not None:
            raise UpstreamFault("must be a string", where="finish_reason")

    def _text(self, kind: str, text: str, out: list[Event]) -> None:
        if self._open is None or self._open[0] != kind:
            self._close_all(out)
            index = self._next
            self._next += 1
            if kind == "text":
                part = Text("")
            elif kind == "refusal":
                part = Text("", {P: {"refusal": True}})
            else:
                part = Reasoning("", meta={P: {"field": kind}})
            out.append(PartStart(index, part))
            self._open = (kind, index)
        index = self._open[1]
        out.append(TextDelta(index, text) if kind in ("text", "refusal")
                   else ReasoningDelta(index, text))

    # --- tool calls ---------------------------------------------------------------------

    def _call_delta(self, raw: dict, out: list[Event]) -> None:
        wire_index = raw.get("index")
        wire_index = wire_index if isinstance(wire_index, int) else None
        call_id = raw.get("id") if isinstance(raw.get("id"), str) and raw.get("id") else None
        call = None
        if call_id is not None:
            call = self._by_id.get(call_id)
            if call is None and wire_index is not None:
                known = self._by_index.get(wire_index)
                if known is not None and known.id is None:
                    call = known
                    call.id = call_id
        elif wire_index is not None:
            call = self._by_index.get(wire_index)
        elif self._calls:
            call = self._calls[-1]
        if call is None:
            call = _Call(wire_index, call_id)
            self._calls.append(call)
        if call_id is not None:
            self._by_id[call_id] = call
        if wire_index is not None:
            self._by_index[wire_index] = call
        native = raw.get("type") == "custom" or isinstance(raw.get("custom"), dict)
        spec = raw.get("custom" if native else "function")
        if native:
            call.native = True
        if "extra_content" in raw:
            call.meta = {P: {"extra_content": raw["extra_content"]}}
        if not isinstance(spec, dict):
            if spec is not None:
                raise UpstreamFault("must be an object", where="delta.tool_calls[].function")
            return
        name = spec.get("name")
        if isinstance(name, str):
            if name and not call.name:
                call.name = name
        elif name is not None:
            raise UpstreamFault("must be a string", where="delta.tool_calls[].function.name")
        fragment = spec.get("input" if native else "arguments")
        if isinstance(fragment, (dict, list)):  # a few vendors send an object
            fragment = json.dumps(fragment, ensure_ascii=False)
        elif fragment is not None and not isinstance(fragment, str):
            raise UpstreamFault("must be a string",
                                where="delta.tool_calls[].function.arguments")
        if isinstance(fragment, str) and fragment:
            call.args.append(fragment)
            if call.index is not None and id(call) not in self._buffered and \
                    self._head < len(self._calls) and self._calls[self._head] is call:
                out.append(ToolArgsDelta(call.index, fragment))

    def _advance(self, out: list[Event]) -> None:
        while self._head < len(self._calls):
            call = self._calls[self._head]
            if call.index is None:
                if not call.name:
                    return
                self._start(call, out)
            if self._head + 1 >= len(self._calls) or not self._complete(call):
                return
            self._finish_call(call, out)
            self._head += 1

    def _complete(self, call: _Call) -> bool:
        if call.native:  # raw text: no way to tell, assume calls come one after another
            return True
        if call.checked == len(call.args):
            return False
        try:
            done = isinstance(json.loads("".join(call.args)), dict)
        except ValueError:
            done = False
        if not done:
            call.checked = len(call.args)
        return done

    def _start(self, call: _Call, out: list[Event]) -> None:
        self._close_open(out)
        call.index = self._next
        self._next += 1
        name, namespace, custom = self._names.lookup(call.name)
        kind = "custom" if custom or call.native else "function"
        if custom and not call.native:
            self._buffered.add(id(call))
        call_id = call.id or f"call_{call.index}"
        out.append(PartStart(call.index, ToolCall(call_id, name, "", kind, namespace)))
        if call.args and id(call) not in self._buffered:
            out.append(ToolArgsDelta(call.index, "".join(call.args)))

    def _finish_call(self, call: _Call, out: list[Event]) -> None:
        if id(call) in self._buffered:
            out.append(ToolArgsDelta(call.index, unwrap_custom_input("".join(call.args))))
        elif not call.args and not call.native:
            out.append(ToolArgsDelta(call.index, "{}"))
        out.append(PartStop(call.index, call.meta))

    def _close_open(self, out: list[Event]) -> None:
        if self._open is not None:
            out.append(PartStop(self._open[1]))
            self._open = None

    def _close_all(self, out: list[Event]) -> None:
        self._close_open(out)
        while self._head < len(self._calls):
            call = self._calls[self._head]
            if call.index is None:
                self._start(call, out)
            self._finish_call(call, out)
            self._head += 1
