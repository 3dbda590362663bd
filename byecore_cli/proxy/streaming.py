"""Writing a stream to the client: the byte relay, the translating relay, and hub events.

All three write only whole SSE events, so a keep-alive may go out between any two
writes, and an upstream cut mid-event ends the client's stream with an error event
instead of half an event. A client that goes away (``ClientGone``) is normal: Codex
closes its side as soon as it has ``response.completed``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

import aiohttp
from aiohttp import web

from byecore_cli.codecs.sse import KEEPALIVE, SSEDecoder, encode_event
from byecore_cli.hub import ErrorInfo, Event, MessageStart, MessageStop, StreamError, UsageUpdate
from byecore_cli.proxy.upstream import Watchdog

SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8",
               "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# Anthropic clients know a real ping event; the others get an SSE comment.
PINGS = {"messages": encode_event('{"type": "ping"}', "ping")}


class ClientGone(Exception):
    pass


class UpstreamBroke(Exception):
    def __init__(self, info: ErrorInfo) -> None:
        super().__init__(info.message)
        self.info = info


# What writing to a client that has left raises.
_GONE = (ConnectionResetError, RuntimeError, aiohttp.ClientConnectionError)


class Sink:
    """The client's side of a stream: one prepared response, whole events only."""

    def __init__(self, response: web.StreamResponse, inbound: str) -> None:
        self.response = response
        self.ping_bytes = PINGS.get(inbound, KEEPALIVE)
        self.gone = False

    async def write(self, data: bytes) -> None:
        if self.gone:
            raise ClientGone()
        try:
            await self.response.write(data)
        except _GONE:
            self.gone = True
            raise ClientGone() from None

    def ping(self) -> None:
        if not self.gone:
            asyncio.ensure_future(self._ping())

    async def _ping(self) -> None:
        with contextlib.suppress(ClientGone):
            await self.write(self.ping_bytes)

    async def close(self) -> None:
        if self.gone:
            return
        try:
            await self.response.write_eof()
        except _GONE:
            self.gone = True


async def open_sink(request: web.Request, inbound: str, headers: dict[str, str]) -> Sink:
    response = web.StreamResponse(status=200, headers={**headers, **SSE_HEADERS})
    await response.prepare(request)
    return Sink(response, inbound)


def _cut(data: bytes) -> int:
    """Where the last complete SSE event in ``data`` ends (0: none complete yet)."""
    lf = data.rfind(b"\n\n")
    crlf = data.rfind(b"\r\n\r\n")
    return max(lf + 2 if lf >= 0 else 0, crlf + 4 if crlf >= 0 else 0)


async def relay(upstream: aiohttp.ClientResponse, first: bytes, sink: Sink, sniffer,
                *, idle: float, keepalive: float) -> None:
    """The pass-through: upstream bytes to the client as they are, whole events at a time.

    Per chunk this costs a search for the last blank line and one for a non-null
    ``"usage"`` key: only the blocks that hold one are decoded, for ``sniffer`` (a
    UsageSniffer). Raises ``UpstreamBroke`` when the upstream fails or stalls mid-stream
    (the caller ends the client's stream with an error event).
    """
    dog = Watchdog(upstream, idle=idle, keepalive=keepalive, ping=sink.ping)
    read = upstream.content.readany
    may_carry = sniffer.may_carry
    tail = b""
    chunk = first
    try:
        while chunk:
            dog.touch()
            data = tail + chunk if tail else chunk
            cut = _cut(data)
            if cut:
                if cut < len(data):
                    data, tail = data[:cut], data[cut:]
                else:
                    tail = b""
                if may_carry(data):
                    data = sniffer.feed_bytes(data)
                if data:
                    await sink.write(data)
            else:
                tail = data
            chunk = await read()
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        raise UpstreamBroke(_broke(dog, exc)) from None
    finally:
        dog.stop()
    if tail.strip():
        tail += b"\n\n"  # an upstream that ended without the blank line
        if may_carry(tail):
            tail = sniffer.feed_bytes(tail)
        if tail:
            await sink.write(tail)


async def translate(upstream: aiohttp.ClientResponse, first: bytes, sink: Sink, decoder,
                    encoder, tracker, *, idle: float, keepalive: float) -> None:
    """Upstream SSE → hub events → the client's SSE, one write per upstream chunk."""
    sse = SSEDecoder()
    dog = Watchdog(upstream, idle=idle, keepalive=keepalive, ping=sink.ping)
    read = upstream.content.readany
    track, encode = tracker.feed, encoder.feed
    chunk = first
    try:
        while chunk:
            dog.touch()
            out = []
            for event in sse.feed(chunk):
                for hub in decoder.feed(event):
                    track(hub)
                    out.append(encode(hub))
            data = b"".join(out)
            if data:
                await sink.write(data)
            chunk = await read()
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        raise UpstreamBroke(_broke(dog, exc)) from None
    finally:
        dog.stop()
    out = bytearray()
    for event in sse.flush():
        for hub in decoder.feed(event):
            tracker.feed(hub)
            out += encoder.feed(hub)
    for hub in decoder.flush():
        tracker.feed(hub)
        out += encoder.feed(hub)
    out += encoder.flush()
    if out:
        await sink.write(bytes(out))


async def send_events(events: Iterable[Event], sink: Sink, encoder, tracker) -> None:
    """Hub events made here (demo, or a non-streaming upstream exploded) to the client."""
    for hub in events:
        tracker.feed(hub)
        data = encoder.feed(hub)
        if data:
            await sink.write(data)
    tail = encoder.flush()
    if tail:
        await sink.write(tail)


def _broke(dog: Watchdog, exc: BaseException) -> ErrorInfo:
    if dog.expired:
        return ErrorInfo(504, "timeout", "the upstream went silent mid-stream")
    return ErrorInfo(502, "api_error",
                     f"the upstream connection broke mid-stream ({type(exc).__name__})")


class Tracker:
    """Usage and the stop seen in a stream of hub events, for the usage log."""

    def __init__(self) -> None:
        self.usage = None
        self.error: ErrorInfo | None = None
        self.stopped = False

    def feed(self, event: Event) -> None:
        if isinstance(event, MessageStop):
            self.usage, self.stopped = event.usage, True
        elif isinstance(event, UsageUpdate) or isinstance(event, MessageStart) and event.usage:
            self.usage = event.usage
        elif isinstance(event, StreamError):
            self.error = event.error
