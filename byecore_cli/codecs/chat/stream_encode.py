"""hub events → Chat Completions SSE chunks for a Chat client.

Order on the wire, as OpenAI sends it:

1. ``MessageStart`` → the role chunk ``delta: {role: "assistant", content: ""}``.
2. Text → ``delta.content``; a refusal text → ``delta.refusal``; reasoning →
   ``delta.reasoning_content`` (or the field it came in; see response.py for why).
3. A tool call → ``delta.tool_calls[{index: k, id, type: "function", function: {name,
   arguments: ""}}]`` with ``k`` counting tool calls only (0, 1, …), then
   ``{index: k, function: {arguments: fragment}}`` per fragment, incrementally. A custom
   call toward a client whose tool is a function is wrapped on the fly into
   ``{"input": "…"}``: the opening, each fragment JSON-escaped, the closing at the end of
   the call. A native Chat ``custom`` tool gets ``type: "custom", custom: {name, input}``
   deltas (the SDK types define no custom delta; this mirrors the non-stream shape).
4. ``MessageStop`` → ``delta: {}`` with ``finish_reason`` ("tool_calls" when calls were
   sent), then the usage chunk (``choices: []``) when the client asked with
   ``stream_options.include_usage``, then ``data: [DONE]``.
5. ``StreamError`` → one ``data: {"error": …}`` event, no ``[DONE]``.

Chunks are built as strings around a prefix computed once (id, created, model: the model
the client asked for).
"""

from __future__ import annotations

import json
import time

from byecore_cli.codecs.chat.errors import encode_stream_error
from byecore_cli.codecs.chat.request import REASONING_FIELDS, P
from byecore_cli.codecs.chat.response import chat_id, encode_usage, finish_reason
from byecore_cli.hub import (
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
    Usage,
    UsageUpdate,
    meta_for,
)
from byecore_cli.hub.tools import CUSTOM_ARG, ToolNames

DONE = b"data: [DONE]\n\n"


# One encoder for the whole module: json.dumps with options builds a new one per call,
# which cost more than the encoding of a delta's text.
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _field(name: str, text: str) -> str:
    return '{"' + name + '":' + _dumps(text) + "}"


class StreamEncoder:
    def __init__(self, request) -> None:
        self._request = request
        self._model = request.model
        self._include_usage = bool((request.extras.get(P) or {}).get("include_usage"))
        self._names: ToolNames | None = None
        self._prefix = ""
        self._parts: dict[int, tuple] = {}  # hub index → (kind, …)
        self._calls = 0
        self._refusal = False
        self._usage = Usage()
        self._started = False
        self._ended = False

    def feed(self, event: Event) -> bytes:
        if self._ended:
            return b""
        if isinstance(event, MessageStart):
            self._model = self._model or event.model  # e.g. `byecore translate`, no request
            return self._start(event.id, event.created)
        out = b"" if self._started else self._start("", None)
        if isinstance(event, TextDelta):
            if event.text:
                kind = self._parts.get(event.index, ("content",))[0]
                out += self._delta(_field(kind, event.text))
        elif isinstance(event, ReasoningDelta):
            if event.text:
                field = self._parts.get(event.index, (REASONING_FIELDS[0],))[0]
                out += self._delta(_field(field, event.text))
        elif isinstance(event, ToolArgsDelta):
            out += self._args(event.index, event.text)
        elif isinstance(event, PartStart):
            out += self._part_start(event.index, event.part)
        elif isinstance(event, PartStop):
            entry = self._parts.get(event.index)
            if entry and entry[0] == "call" and entry[2] == "wrap":
                out += self._call_delta(entry[1], '{"function":{"arguments":"\\"}"}}')
        elif isinstance(event, UsageUpdate):
            self._usage = event.usage
        elif isinstance(event, MessageStop):
            out += self._stop(event)
        elif isinstance(event, StreamError):
            self._ended = True
            out += encode_stream_error(event.error)
        return out

    def flush(self) -> bytes:
        return b""

    # --- chunks -------------------------------------------------------------------------

    def _start(self, upstream_id: str, created: int | None) -> bytes:
        self._started = True
        self._prefix = ('{"id":' + _dumps(chat_id(upstream_id))
                        + ',"object":"chat.completion.chunk","created":'
                        + str(created or int(time.time())) + ',"model":' + _dumps(self._model)
                        + ",")
        return self._delta('{"role":"assistant","content":""}')

    def _delta(self, delta: str, finish: str = "null") -> bytes:
        return ("data: " + self._prefix + '"choices":[{"index":0,"delta":' + delta
                + ',"logprobs":null,"finish_reason":' + finish + "}]}\n\n").encode()

    def _call_delta(self, k: int, fields: str) -> bytes:
        return self._delta('{"tool_calls":[{"index":' + str(k) + "," + fields[1:-1] + "}]}")

    def _part_start(self, index: int, part) -> bytes:
        if isinstance(part, Text):
            kind = "refusal" if meta_for(part, P).get("refusal") else "content"
            self._refusal = self._refusal or kind == "refusal"
            self._parts[index] = (kind,)
            return self._delta(_field(kind, part.text)) if part.text else b""
        if isinstance(part, Reasoning):
            field = meta_for(part, P).get("field")
            field = field if field in REASONING_FIELDS else REASONING_FIELDS[0]
            self._parts[index] = (field,)
            return self._delta(_field(field, part.text)) if part.text else b""
        if not isinstance(part, ToolCall):
            return b""
        if self._names is None:
            self._names = ToolNames(self._request.tools)
        k = self._calls
        self._calls += 1
        wire = self._names.wire(part.name, part.namespace)
        tool = self._names.tool(wire)
        native = tool is not None and tool.kind == "custom" and \
            bool(meta_for(tool, P).get("native"))
        if part.kind == "custom" and native:
            self._parts[index] = ("call", k, "native")
            head = {"id": part.id, "type": "custom", "custom": {"name": wire, "input": ""}}
        else:
            mode = "wrap" if part.kind == "custom" else "plain"
            self._parts[index] = ("call", k, mode)
            opening = '{"' + CUSTOM_ARG + '":"' if mode == "wrap" else ""
            head = {"id": part.id, "type": "function",
                    "function": {"name": wire, "arguments": opening}}
        out = self._call_delta(k, _dumps(head))
        if part.arguments:
            out += self._args(index, part.arguments)
        return out

    def _args(self, index: int, text: str) -> bytes:
        entry = self._parts.get(index)
        if not text or not entry or entry[0] != "call":
            return b""
        _, k, mode = entry
        if mode == "native":
            return self._call_delta(k, '{"custom":{"input":' + _dumps(text) + "}}")
        if mode == "wrap":
            text = _dumps(text)[1:-1]  # the fragment as JSON string content
        return self._call_delta(k, '{"function":{"arguments":' + _dumps(text) + "}}")

    def _stop(self, event: MessageStop) -> bytes:
        self._ended = True
        usage = event.usage
        reason = finish_reason(event.stop, self._calls > 0, self._refusal)
        out = self._delta("{}", '"' + reason + '"')
        if self._include_usage:
            out += ("data: " + self._prefix + '"choices":[],"usage":'
                    + _dumps(encode_usage(usage)) + "}\n\n").encode()
        return out + DONE
