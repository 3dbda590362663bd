"""Hub events → Responses SSE, in the order Codex and the OpenAI SDK expect.

Per stream: ``response.created``, ``response.in_progress``; then for each hub part one
output item, never interleaved, ``output_index`` 0, 1, 2… in part order:

- text: ``output_item.added`` (message, in_progress) → ``content_part.added``
  (output_text, content_index 0) → ``output_text.delta``* → ``output_text.done`` →
  ``content_part.done`` → ``output_item.done``;
- reasoning: ``output_item.added`` (``summary: []``) → for a summary, on its first text
  ``reasoning_summary_part.added`` (summary_index 0) → ``reasoning_summary_text.delta``*
  → ``.done`` → ``reasoning_summary_part.done`` (full reasoning from another protocol
  is sent as a summary too, see ``items.shown_as_summary``); for raw reasoning a
  Responses upstream issued, ``content_part.added`` (reasoning_text) →
  ``reasoning_text.delta``* → ``.done`` → ``content_part.done``; then
  ``output_item.done`` with ``encrypted_content`` (see ``items.py`` for how other
  protocols' signatures ride in it). Reasoning with no text gets ``output_item.added``
  then ``output_item.done`` directly;
- function call: ``output_item.added`` → ``function_call_arguments.delta``* (streamed
  as they come) → ``.done`` → ``output_item.done``;
- custom call: ``output_item.added``, then — only at the end, once the function-style
  wrapper ``{"input": …}`` a non-Responses upstream produced can be unwrapped — one
  ``custom_tool_call_input.delta`` with the raw input, ``.done``, ``output_item.done``.

The end: ``response.completed`` (or ``response.incomplete`` / ``response.failed``, see
``response.py``) with every item and usage incl. ``total_tokens``. A ``StreamError``
becomes ``response.failed`` with the code table of ``errors.py`` (an item left open is
not closed: Codex must not run half a tool call). ``sequence_number`` counts every event
from 0; item ids are ``<prefix>_<response id>_<output_index>`` unless the part carries
its original id.
"""

from __future__ import annotations

import time
from json.encoder import encode_basestring as quote

from byecore_cli.codecs.responses.errors import failed_error
from byecore_cli.codecs.responses.items import DUMPS, encode_reasoning, shown_as_summary
from byecore_cli.codecs.responses.response import (
    encode_call,
    encode_message,
    envelope,
    finish,
    item_id,
    response_id,
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
    Request,
    StopReason,
    StreamError,
    Text,
    ToolCall,
    Usage,
    UsageUpdate,
)
from byecore_cli.hub.tools import unwrap_custom_input


class StreamEncoder:
    def __init__(self, request: Request) -> None:
        self.request = request
        self.seq = 0
        self.rid = ""
        self.base = ""
        self.created = 0
        self.output: list[dict] = []
        self.usage = Usage()
        self.finished = False
        self.part = None  # the open hub part
        self.iid = ""
        self.chunks: list[str] = []
        self.summary_open = False
        self.fast: tuple[str, str, str, str] | None = None

    # -- framing --
    def _emit(self, kind: str, payload: dict) -> bytes:
        data = {"type": kind, "sequence_number": self.seq, **payload}
        self.seq += 1
        return encode_event(DUMPS(data), kind)

    def _start(self, rid: str = "", created: int | None = None) -> bytes:
        self.rid = response_id(rid)
        self.base = self.rid[5:]
        self.created = created or int(time.time())
        body = envelope(self.rid, self.request, self.created, "in_progress")
        return (self._emit("response.created", {"response": body})
                + self._emit("response.in_progress", {"response": body}))

    def _ids(self) -> dict:
        return {"item_id": self.iid, "output_index": len(self.output)}

    # -- events --
    def feed(self, event: Event) -> bytes:
        if self.finished:
            return b""
        if isinstance(event, MessageStart):
            return b"" if self.rid else self._start(event.id, event.created)
        out = b"" if self.rid else self._start()
        if isinstance(event, (PartStart, PartStop)) or hasattr(event, "text"):
            if isinstance(event, PartStart):
                return out + self._open(event.part)
            if isinstance(event, PartStop):
                return out + self._close(event.meta)
            return out + self._delta(event.text)
        if isinstance(event, UsageUpdate):
            self.usage = event.usage
        elif isinstance(event, MessageStop):
            out += self._close(None) if self.part is not None else b""
            return out + self._end(event.stop, event.usage)
        elif isinstance(event, StreamError):
            self.finished = True
            body = envelope(self.rid, self.request, self.created, "failed")
            body["output"] = self.output
            body["error"] = failed_error(event.error)
            body["usage"] = None
            return out + self._emit("response.failed", {"response": body})
        return out

    def _open(self, part) -> bytes:
        out = self._close(None) if self.part is not None else b""
        self.part, self.chunks, self.summary_open, self.fast = part, [], False, None
        index = len(self.output)
        self.iid = item_id(part, self.base, index) if isinstance(
            part, (Text, Reasoning, ToolCall)) else ""
        if isinstance(part, Text):
            item = encode_message(part, self.iid, [], done=False)
            return (out + self._emit("response.output_item.added",
                                     {"output_index": index, "item": item})
                    + self._emit("response.content_part.added", {
                        **self._ids(), "content_index": 0,
                        "part": {"type": "output_text", "annotations": [], "text": ""}}))
        if isinstance(part, Reasoning):
            item = {"id": self.iid, "type": "reasoning", "summary": []}
            return out + self._emit("response.output_item.added",
                                    {"output_index": index, "item": item})
        if isinstance(part, ToolCall):
            item = encode_call(part, self.iid, done=False)
            return out + self._emit("response.output_item.added",
                                    {"output_index": index, "item": item})
        self.part = None  # images and tool results have no place in a Responses output
        return out

    def _fast(self, kind: str, index_field: str | None, tail: str = "") -> None:
        """Pre-render a delta event around its text: deltas are most of a stream."""
        head = f',"item_id":{DUMPS(self.iid)},"output_index":{len(self.output)}'
        if index_field:
            head += f',"{index_field}":0'
        self.fast = (kind, f'{{"type":"{kind}","sequence_number":', head + ',"delta":',
                     tail + "}")

    def _delta(self, text: str) -> bytes:
        if not text or self.part is None:
            return b""
        if self.fast is None:
            return self._first_delta(text)
        self.chunks.append(text)
        kind, start, head, tail = self.fast
        data = f"{start}{self.seq}{head}{quote(text)}{tail}"
        self.seq += 1
        return encode_event(data, kind)

    def _first_delta(self, text: str) -> bytes:
        part = self.part
        if isinstance(part, Text):
            self._fast("response.output_text.delta", "content_index", ',"logprobs":[]')
        elif isinstance(part, Reasoning):
            summary = shown_as_summary(part)
            self.summary_open = True
            out = self._reasoning_part("added", "", summary)
            if summary:
                self._fast("response.reasoning_summary_text.delta", "summary_index")
            else:
                self._fast("response.reasoning_text.delta", "content_index")
            return out + self._delta(text)
        elif part.kind == "custom":
            self.chunks.append(text)
            return b""  # buffered until it can be unwrapped
        else:
            self._fast("response.function_call_arguments.delta", None)
        return self._delta(text)

    def _reasoning_part(self, which: str, text: str, summary: bool) -> bytes:
        if summary:
            return self._emit(f"response.reasoning_summary_part.{which}", {
                **self._ids(), "summary_index": 0,
                "part": {"type": "summary_text", "text": text}})
        return self._emit(f"response.content_part.{which}", {
            **self._ids(), "content_index": 0, "part": {"type": "reasoning_text", "text": text}})

    def _close(self, meta: dict | None) -> bytes:
        part, self.part, self.fast = self.part, None, None
        if part is None:
            return b""
        text = "".join(self.chunks)
        ids = self._ids()
        if isinstance(part, Text):
            done = Text(text, part.meta)
            content = {"type": "output_text", "annotations": [], "text": text}
            out = (self._emit("response.output_text.done",
                              {**ids, "content_index": 0, "text": text, "logprobs": []})
                   + self._emit("response.content_part.done",
                                {**ids, "content_index": 0, "part": content}))
            item = encode_message(done, self.iid, [content])
        elif isinstance(part, Reasoning):
            merged = dict(part.meta or {})
            for protocol, values in (meta or {}).items():
                merged[protocol] = {**merged.get(protocol, {}), **values}
            out = b""
            summary = shown_as_summary(part)
            if self.summary_open:
                if summary:
                    out = self._emit("response.reasoning_summary_text.done",
                                     {**ids, "summary_index": 0, "text": text})
                else:
                    out = self._emit("response.reasoning_text.done",
                                     {**ids, "content_index": 0, "text": text})
                out += self._reasoning_part("done", text, summary)
            item = encode_reasoning(Reasoning(text, part.summary, merged or None), self.iid)
        else:
            if part.kind == "custom":
                raw = unwrap_custom_input(text)
                out = self._emit("response.custom_tool_call_input.delta",
                                 {**ids, "delta": raw}) if raw else b""
                out += self._emit("response.custom_tool_call_input.done", {**ids, "input": raw})
                text = raw
            else:
                text = text or "{}"
                out = self._emit("response.function_call_arguments.done",
                                 {**ids, "arguments": text})
            call = ToolCall(part.id, part.name, text, part.kind, part.namespace, part.meta)
            item = encode_call(call, self.iid)
        out += self._emit("response.output_item.done",
                          {"output_index": ids["output_index"], "item": item})
        self.output.append(item)
        return out

    def _end(self, stop: StopReason, usage: Usage) -> bytes:
        self.finished = True
        body = envelope(self.rid, self.request, self.created, "completed")
        body["output"] = self.output
        finish(body, stop, usage)
        kind = {"failed": "response.failed", "incomplete": "response.incomplete"}.get(
            body["status"], "response.completed")
        return self._emit(kind, {"response": body})

    def flush(self) -> bytes:
        if self.finished or not self.rid:
            return b""
        return self.feed(StreamError(ErrorInfo(502, "api_error",
                                               "the upstream stream ended early")))
