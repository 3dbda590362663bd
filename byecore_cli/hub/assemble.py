"""Between streams and whole responses, for any protocol pair.

``assemble``: fold a stream of hub events into a ``Response`` (a non-streaming client
over a streaming upstream). ``explode``: turn a ``Response`` into the events a stream
would have carried (a streaming client over a non-streaming upstream).

Errors: ``StreamFailed`` when the stream itself ended with an error (a ``StreamError``,
or no ``MessageStop``); ``UpstreamFault`` for an event order the hub rules forbid (a delta
for a part never started or already stopped, a part started twice or out of order,
anything but usage after ``MessageStop``). ``UpstreamError`` is the one both ways: an
error the upstream reported inside a success answer, with the upstream's own kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from byecore_cli.codecs.base import UpstreamFault
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
from byecore_cli.hub.parts import Reasoning, Text, ToolCall
from byecore_cli.hub.response import ErrorInfo, Response, StopReason, Usage


class StreamFailed(Exception):
    """The stream ended with an error event; ``error`` says which."""

    def __init__(self, error: ErrorInfo) -> None:
        super().__init__(error.message)
        self.error = error


class UpstreamError(StreamFailed, UpstreamFault):
    """An error object in an upstream's 2xx answer (a Chat ``{"error": …}``, an Anthropic
    ``{"type": "error"}``, a Responses ``status: "failed"``): the upstream's fault, so an
    ``UpstreamFault`` (next fallback target), but ``info()`` is the upstream's own error —
    its kind and message, so a context overflow or a rate limit reaches the client as one —
    rather than "malformed answer". Also a ``StreamFailed``: ``error`` is the same info.
    """

    def __init__(self, error: ErrorInfo) -> None:
        StreamFailed.__init__(self, error)  # → UpstreamFault.__init__(error.message)

    def info(self) -> ErrorInfo:
        return self.error


class Assembler:
    """Incremental: ``feed`` events as they come, then ``result()``."""

    def __init__(self) -> None:
        self.response = Response(id="", model="")
        self._chunks: dict[int, list[str]] = {}
        self._stopped = False

    def feed(self, event: Event) -> None:
        r = self.response
        if isinstance(event, (TextDelta, ReasoningDelta, ToolArgsDelta)):  # most events
            try:
                self._chunks[event.index].append(event.text)
            except KeyError:
                raise UpstreamFault(f"a delta for part {event.index}, which is not open",
                                    where="stream") from None
        elif isinstance(event, MessageStart):
            if self._stopped or r.parts:
                raise UpstreamFault("the message started again", where="stream")
            r.id, r.model, r.created = event.id, event.model, event.created
            if event.usage:
                r.usage = replace(event.usage)
        elif isinstance(event, PartStart):
            if self._stopped or event.index != len(r.parts):
                raise UpstreamFault(f"part {event.index} started out of order (expected "
                                    f"{len(r.parts)})", where="stream")
            r.parts.append(replace(event.part))
            self._chunks[event.index] = []
        elif isinstance(event, PartStop):
            try:
                chunks = self._chunks.pop(event.index)
            except KeyError:
                raise UpstreamFault(f"part {event.index} stopped but is not open",
                                    where="stream") from None
            part = r.parts[event.index]
            joined = "".join(chunks)
            if isinstance(part, (Text, Reasoning)):
                part.text += joined
            elif isinstance(part, ToolCall):
                part.arguments += joined
            if event.meta:
                merged = dict(part.meta or {})
                for protocol, values in event.meta.items():
                    merged[protocol] = {**merged.get(protocol, {}), **values}
                part.meta = merged
        elif isinstance(event, UsageUpdate):
            r.usage = replace(event.usage)
        elif isinstance(event, MessageStop):
            if self._stopped or self._chunks:
                raise UpstreamFault("the message stopped twice or with parts still open",
                                    where="stream")
            r.stop, r.stop_sequence = event.stop, event.stop_sequence
            if event.meta:  # the exact finish reason of a protocol that has one (Gemini)
                r.meta = {**(r.meta or {}), **event.meta}
            r.usage = replace(event.usage)
            self._stopped = True
        elif isinstance(event, StreamError):
            raise StreamFailed(event.error)

    def result(self) -> Response:
        if not self._stopped:
            raise StreamFailed(ErrorInfo(502, "api_error", "the upstream stream ended early"))
        return self.response


def assemble(events: Iterable[Event]) -> Response:
    assembler = Assembler()
    for event in events:
        assembler.feed(event)
    return assembler.result()


def explode(response: Response) -> list[Event]:
    events: list[Event] = [MessageStart(response.id, response.model, response.created,
                                        Usage(input_tokens=response.usage.input_tokens,
                                              cache_read_tokens=response.usage.cache_read_tokens,
                                              cache_write_tokens=response.usage.cache_write_tokens,
                                              cache_write_1h_tokens=response.usage
                                              .cache_write_1h_tokens))]
    for index, part in enumerate(response.parts):
        if isinstance(part, Text):
            events += [PartStart(index, Text("", part.meta)), TextDelta(index, part.text)]
        elif isinstance(part, Reasoning):
            events += [PartStart(index, Reasoning("", part.summary, part.meta)),
                       ReasoningDelta(index, part.text)]
        elif isinstance(part, ToolCall):
            events += [PartStart(index, replace(part, arguments="")),
                       ToolArgsDelta(index, part.arguments)]
        else:
            events.append(PartStart(index, part))
        events.append(PartStop(index))
    stop = response.stop
    if stop == StopReason.END and any(isinstance(p, ToolCall) for p in response.parts):
        stop = StopReason.TOOL_CALLS
    events.append(MessageStop(stop, replace(response.usage), response.stop_sequence,
                              response.meta))
    return events
