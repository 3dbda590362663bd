"""Responses SSE from an upstream → hub events.

The event's JSON ``type`` decides (the ``event:`` line is ignored, as Codex does).
Output items never interleave, so each one maps onto hub parts in order:

- a message's content parts → one ``Text`` part each (started at ``content_part.added``
  or at the first ``output_text.delta``); refusal deltas become Text marked refusal;
- a reasoning item → one ``Reasoning`` part (summary parts joined by a blank line;
  raw ``reasoning_text`` gives a ``summary=False`` part), its ``id``,
  ``encrypted_content`` and multi-part summary list in ``PartStop.meta``;
- function / custom tool calls → a ``ToolCall`` started at ``output_item.added``,
  arguments streamed as they come.

Robust to what upstreams really send (protocols.md B14, pitfall 16): ``.done`` events
and ``output_item.done`` fill in whatever no delta carried (argument ``.done`` with no
deltas, empty ``delta`` strings are skipped); an item whose ``added`` never came is
emitted whole at its ``done``; items present only in the final ``response.output`` are
emitted at the end, and an empty final ``output`` is fine. A missing ``response.created``
is tolerated. ``response.failed`` and ``error`` end the stream with ``StreamError``; a
stream that just stops ends with one from ``flush``.

An event that is not valid Responses raises ``UpstreamFault``: data that is not a JSON
object, a ``type`` or ``delta`` that is not a string, an ``item`` or final ``output``
of the wrong shape. Ignored: ``[DONE]``, empty data, an object with no ``type``, event
types this decoder does not know.
"""

from __future__ import annotations

import re

from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.codecs.responses.errors import error_info
from byecore_cli.codecs.responses.items import P, meta
from byecore_cli.codecs.responses.response import (
    decode_output_item,
    decode_stop,
    decode_usage,
    failure,
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
)

DELTAS = {Text: TextDelta, Reasoning: ReasoningDelta, ToolCall: ToolArgsDelta}
TERMINAL = ("response.completed", "response.incomplete")
FAST = {"response.output_text.delta": Text, "response.function_call_arguments.delta": ToolCall,
        "response.custom_tool_call_input.delta": ToolCall}
# Events that change nothing once the stream has started, and ``.done`` events that only
# matter when no delta came: not worth parsing (``in_progress`` repeats the whole response,
# instructions and tools included). Their type is read from the start of the JSON, where
# OpenAI puts it; anything shaped otherwise is parsed as usual.
IDLE = frozenset(("response.in_progress", "response.queued", "response.content_part.done",
                  "response.reasoning_summary_part.done", "response.reasoning_text.done"))
FILLERS = frozenset(("response.output_text.done", "response.refusal.done",
                     "response.function_call_arguments.done",
                     "response.custom_tool_call_input.done"))
SKIPPABLE = IDLE | FILLERS  # the SSE event name only says when to look at the JSON
ITEM_EVENTS = ("response.output_item.added", "response.output_item.done")
_TYPE = re.compile(r'\{\s*"type"\s*:\s*"([a-z_.]+)"')


def _str(value, where: str = "event") -> str:
    """A string field of an event ("" when absent or null)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    raise UpstreamFault("must be a string", where=where)


def _obj(data: dict, key: str) -> dict | None:
    """An object field of an event (None when absent or null)."""
    value = data.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise UpstreamFault("must be an object", where=key)


class StreamDecoder:
    def __init__(self, request: Request) -> None:
        self.request = request
        self.started = False
        self.done = False
        self.next = 0  # the next hub part index
        self.part = None  # the open hub part
        self.got = False  # whether the open part received any text
        self.item: dict | None = None  # the output item being streamed
        self.summaries: list[str] = []  # the open reasoning's summary parts
        self.seen_ids: set[str] = set()
        self.seen_indexes: set[int] = set()
        self.parts: list = []

    # -- helpers --
    def _begin(self, out: list[Event], rid: str = "", model: str = "", created=None) -> None:
        if not self.started:
            self.started = True
            out.append(MessageStart(rid, model or self.request.model,
                                    int(created) if isinstance(created, (int, float)) else None))

    def _open(self, out: list[Event], part) -> None:
        self._close(out)
        self.part, self.got = part, False
        self.parts.append(part)
        out.append(PartStart(self.next, part))

    def _text(self, out: list[Event], text: str) -> None:
        if text and self.part is not None:
            self.got = True
            if isinstance(self.part, Reasoning) and self.part.summary and self.summaries:
                self.summaries[-1] += text
            out.append(DELTAS[type(self.part)](self.next, text))

    def _close(self, out: list[Event], stop_meta: dict | None = None) -> None:
        if self.part is not None:
            out.append(PartStop(self.next, stop_meta))
            self.part = None
            self.next += 1

    def _whole(self, out: list[Event], item: dict) -> None:
        """Emit an item that was never streamed, complete."""
        for part in decode_output_item(item, "item"):
            if isinstance(part, ToolCall):
                start = ToolCall(part.id, part.name, "", part.kind, part.namespace, part.meta)
                text, stop_meta = part.arguments, None
            elif isinstance(part, Reasoning):
                start, text = Reasoning("", part.summary), part.text
                stop_meta = part.meta
            else:
                start, text, stop_meta = Text("", part.meta), part.text, None
            self._open(out, start)
            self._text(out, text)
            self._close(out, stop_meta)

    def _reasoning(self, out: list[Event], summary: bool) -> None:
        if not isinstance(self.part, Reasoning) or self.part.summary != summary:
            self._open(out, Reasoning("", summary, meta(id=(self.item or {}).get("id"))))

    def _message_text(self, out: list[Event], refusal: bool = False) -> None:
        if not isinstance(self.part, Text):
            item = self.item or {}
            self._open(out, Text("", meta(id=item.get("id"), phase=item.get("phase"),
                                          refusal=refusal or None)))

    # -- events --
    def feed(self, event: SSEEvent) -> list[Event]:
        if self.done:
            return []
        if self.started and (event.event is None or event.event in SKIPPABLE):
            peek = _TYPE.match(event.data)
            if peek is not None and (peek[1] in IDLE or (
                    peek[1] in FILLERS and (self.got or self.part is None))):
                return []
        try:
            data = loads(event.data)
        except (ValueError, RecursionError):
            if event.data.strip() in ("", "[DONE]"):  # not Responses, but harmless
                return []
            raise UpstreamFault(f"an event that is not JSON: {event.data[:200]}") from None
        if not isinstance(data, dict):
            raise UpstreamFault(f"an event that is not a JSON object: {event.data[:200]}")
        kind = data.get("type") or event.event
        if not isinstance(kind, str):
            if kind is None:  # "{}": a keep-alive
                return []
            raise UpstreamFault("must be a string", where="type")
        fast = FAST.get(kind)
        if fast is not None and type(self.part) is fast:  # the hot path: a plain delta
            delta = data.get("delta")
            if delta.__class__ is not str or not delta:
                _str(delta, "delta")
                return []
            self.got = True
            return [DELTAS[fast](self.next, delta)]
        try:
            return self._event(kind, data)
        except UpstreamFault:
            raise
        except CodecError as exc:  # a malformed item (the readers of items.py)
            raise UpstreamFault(exc.message, where=exc.param) from None
        except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
            raise UpstreamFault(f"an unreadable {kind} event ({type(exc).__name__}: "
                                f"{exc})") from exc

    def _event(self, kind: str, data: dict) -> list[Event]:
        out: list[Event] = []
        response = _obj(data, "response") or {}
        if kind in ("response.created", "response.in_progress", "response.queued"):
            self._begin(out, _str(response.get("id"), "response.id"),
                        _str(response.get("model"), "response.model"),
                        response.get("created_at"))
            return out
        if kind == "error":
            self.done = True
            return [StreamError(error_info(data.get("code") if isinstance(
                data.get("code"), str) else None, _str(data.get("message")) or "upstream error"))]
        if kind == "response.failed":
            self.done = True
            return [StreamError(failure(response.get("error")))]
        self._begin(out, _str(response.get("id"), "response.id"),
                    _str(response.get("model"), "response.model"))
        self._dispatch(kind, data, response, out)
        return out

    def _dispatch(self, kind, data: dict, response: dict, out: list[Event]) -> None:
        item = _obj(data, "item") if kind in ITEM_EVENTS else None
        if kind in ITEM_EVENTS and item is None:
            raise UpstreamFault(f"{kind} without its item", where="item")
        if kind == "response.output_item.added":
            self._close(out)
            self.item, self.summaries = item, []
            itype = item.get("type")
            if itype in ("function_call", "custom_tool_call"):
                call = decode_output_item({**item, "arguments": "", "input": ""}, "item")[0]
                self._open(out, call)
        elif kind == "response.content_part.added":
            part_type = (data.get("part") or {}).get("type") if isinstance(
                data.get("part"), dict) else None
            if part_type == "reasoning_text":
                self._reasoning(out, False)
            elif part_type in ("output_text", "refusal") and self.item is not None:
                self._close(out)
                self._message_text(out, part_type == "refusal")
        elif kind in ("response.output_text.delta", "response.refusal.delta"):
            self._message_text(out, kind == "response.refusal.delta")
            self._text(out, _str(data.get("delta")))
        elif kind in ("response.output_text.done", "response.refusal.done"):
            if isinstance(self.part, Text) and not self.got:
                self._text(out, _str(data.get("text") or data.get("refusal")))
        elif kind == "response.reasoning_summary_part.added":
            self._reasoning(out, True)
            if self.summaries:
                self._text(out, "\n\n")
            self.summaries.append("")
        elif kind == "response.reasoning_summary_text.delta":
            self._reasoning(out, True)
            if not self.summaries:
                self.summaries.append("")
            self._text(out, _str(data.get("delta")))
        elif kind == "response.reasoning_summary_text.done":
            if isinstance(self.part, Reasoning) and self.summaries and not self.summaries[-1]:
                self._text(out, _str(data.get("text")))
        elif kind == "response.reasoning_text.delta":
            self._reasoning(out, False)
            self._text(out, _str(data.get("delta")))
        elif kind in ("response.function_call_arguments.delta",
                      "response.custom_tool_call_input.delta"):
            if isinstance(self.part, ToolCall):
                self._text(out, _str(data.get("delta")))
        elif kind in ("response.function_call_arguments.done",
                      "response.custom_tool_call_input.done"):
            if isinstance(self.part, ToolCall) and not self.got:
                self._text(out, _str(data.get("arguments") or data.get("input")))
        elif kind == "response.output_item.done":
            self._item_done(out, item, data.get("output_index"))
        elif kind in TERMINAL:
            self._finish(out, kind, response)

    def _item_done(self, out: list[Event], item: dict, index) -> None:
        iid = item.get("id")
        if isinstance(iid, str):
            self.seen_ids.add(iid)
        if isinstance(index, int):
            self.seen_indexes.add(index)
        current = self.item
        self.item = None
        if current is None or (current.get("id") and iid and current.get("id") != iid):
            self._close(out)
            self._whole(out, item)
            return
        itype = item.get("type")
        if itype == "reasoning":
            full = decode_output_item(item, "item")[0]
            own = (full.meta or {}).get(P) or {}
            if self.part is None and full.text and not self.got:
                self._reasoning(out, full.summary)
                self._text(out, full.text)
            if self.part is None:  # an empty reasoning item: its opaque data still matters
                self._reasoning(out, full.summary)
            if len(self.summaries) > 1 and "summary" not in own:
                own = {**own, "summary": self.summaries}
            foreign = {k: v for k, v in (full.meta or {}).items() if k != P}
            stop_meta = {**foreign, P: own} if own else (foreign or None)
            self._close(out, stop_meta)
        elif itype in ("function_call", "custom_tool_call"):
            if isinstance(self.part, ToolCall) and not self.got:
                self._text(out, _str(item.get("arguments") or item.get("input")))
            self._close(out)
        elif itype == "message":
            if self.part is None:
                self._close(out)
                self._whole(out, item)
            else:
                if isinstance(self.part, Text) and not self.got:
                    parts = [p for p in decode_output_item(item, "item") if isinstance(p, Text)]
                    self._text(out, parts[-1].text if parts else "")
                self._close(out)
        else:
            self._close(out)

    def _finish(self, out: list[Event], kind: str, response: dict) -> None:
        output = response.get("output")
        if output is None:
            output = []
        elif not isinstance(output, list):
            raise UpstreamFault("must be an array", where="response.output")
        for index, item in enumerate(output):
            if not isinstance(item, dict):
                raise UpstreamFault("must be an object", where=f"response.output[{index}]")
            iid = item.get("id")
            if self.item is not None and iid and self.item.get("id") == iid:
                self._item_done(out, item, index)  # its output_item.done never came
                continue
            if (iid in self.seen_ids) if isinstance(iid, str) else (index in self.seen_indexes):
                continue
            self._whole(out, item)
        self._close(out)
        self.done = True
        status = "incomplete" if kind == "response.incomplete" else response.get("status")
        stop = decode_stop(status, response.get("incomplete_details"), self.parts)
        out.append(MessageStop(stop, decode_usage(response.get("usage"))))

    def flush(self) -> list[Event]:
        if self.done:
            return []
        self.done = True
        return [StreamError(ErrorInfo(502, "api_error",
                                      "the upstream stream ended before response.completed"))]
