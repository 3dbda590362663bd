"""Writing a stream to the client: the byte relay, the translating relay, and hub events.

All three write only whole SSE events, so a keep-alive may go out between any two
writes, and an upstream cut mid-event ends the client's stream with an error event
instead of half an event. A client that goes away (``ClientGone``) is normal: Codex
closes its side as soon as it has ``response.completed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Iterable

import aiohttp
from aiohttp import web

from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.codecs.sse import (
    KEEPALIVE,
    SSEDecoder,
    encode_event,
    event_ends,
    last_event_end,
    loads,
)
from byecore_cli.hub import ErrorInfo, Event, MessageStart, MessageStop, StreamError, UsageUpdate
from byecore_cli.providers.keys import mask_key
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

    def __init__(self, response: web.StreamResponse, inbound: str,
                 secret: str | None = None) -> None:
        self.response = response
        self.ping_bytes = PINGS.get(inbound, KEEPALIVE)
        self.gone = False
        # the upstream's key, masked wherever the upstream echoed it (an error event)
        self._secret = secret.encode() if secret else None
        self._masked = mask_key(secret).encode() if secret else b""

    async def write(self, data: bytes) -> None:
        if self.gone:
            raise ClientGone()
        if self._secret is not None and self._secret in data:
            data = data.replace(self._secret, self._masked)
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


async def open_sink(request: web.Request, inbound: str, headers: dict[str, str],
                    secret: str | None = None) -> Sink:
    response = web.StreamResponse(status=200, headers={**headers, **SSE_HEADERS})
    await response.prepare(request)
    return Sink(response, inbound, secret)


# The pass-through's cheap checks, one regex search per relayed block each. A data line
# that does not look like a JSON object (or Chat's [DONE]) sends the block to the exact
# check (``_first_bad``): multi-line data is legal, just rare.
_SUSPECT_LINE = re.compile(rb"^data:(?! ?(?:\{.*\}|\[DONE\])$)", re.M)
# The event that ends a stream of each protocol (an error event ends one too). Quotes
# inside JSON strings are escaped, so model text cannot fake the ``"type":"…"`` forms.
_TERMINAL = {
    "chat": re.compile(rb'data: ?\[DONE\]|"finish_reason"\s*:\s*"|data: ?\{\s*"error"\s*:'),
    "responses": re.compile(
        rb'"type"\s*:\s*"(?:response\.(?:completed|failed|incomplete)|error)"'),
    "messages": re.compile(rb'"type"\s*:\s*"(?:message_stop|error)"'),
}
_SEQUENCE = re.compile(rb'"sequence_number"\s*:\s*(\d+)')


def _first_bad(block: bytes) -> tuple[int, str] | None:
    """(offset, data) of the first event in ``block`` whose data is not JSON, if any."""
    start = 0
    for end in [*event_ends(block), len(block)]:
        if end <= start:
            continue
        decoder = SSEDecoder()
        for event in (*decoder.feed(block[start:end]), *decoder.flush()):
            data = event.data.strip()
            if not data or data == "[DONE]":
                continue
            try:
                loads(data)
            except ValueError:
                return start, data
        start = end
    return None


def first_problem(first: bytes) -> ErrorInfo | None:
    """What is wrong with the whole events of a pass-through stream's first chunk, if
    anything: checked before the client sees a byte, so the chain can fall back."""
    whole = first[:last_event_end(first)]
    if whole and _SUSPECT_LINE.search(whole) or b"\r" in whole:
        bad = _first_bad(whole)
        if bad is not None:
            return _not_json(bad[1])
    return None


def _not_json(data: str) -> ErrorInfo:
    snippet = " ".join(data[:80].split())
    return ErrorInfo(502, "api_error", f"the upstream sent a stream event that is not JSON "
                                       f"(it began: {snippet!r})")


class Relayed:
    """What the relay saw of a pass-through stream, for the error event that ends it."""

    __slots__ = ("protocol", "first", "last", "ended")

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self.first = b""  # the first block sent to the client (Responses: response.created)
        self.last = b""  # the latest one (Responses: the sequence number to go on from)
        self.ended = False  # the protocol's final event went by

    def error_event(self, info: ErrorInfo, codec) -> bytes:
        """The client's error event: for Responses, the ``response.failed`` of the response
        already under way (its id, the next sequence number), not a second response."""
        if self.protocol == "responses" and self.first:
            failed = _responses_failed(info, self.first, self.last)
            if failed is not None:
                return failed
        return codec.encode_stream_error(info)


def _responses_failed(info: ErrorInfo, first: bytes, last: bytes) -> bytes | None:
    from byecore_cli.codecs.responses.errors import failed_error

    created = None
    decoder = SSEDecoder()
    for event in (*decoder.feed(first), *decoder.flush()):
        try:
            data = loads(event.data)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("type") == "response.created":
            created = data.get("response")
            break
    numbers = _SEQUENCE.findall(last) or _SEQUENCE.findall(first)
    if not isinstance(created, dict) or not numbers:
        return None
    response = {**created, "status": "failed", "error": failed_error(info), "usage": None}
    payload = {"type": "response.failed", "sequence_number": int(numbers[-1]) + 1,
               "response": response}
    return encode_event(json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                        "response.failed")


async def relay(upstream: aiohttp.ClientResponse, first: bytes, sink: Sink, sniffer,
                *, idle: float, keepalive: float, max_event: int = 64 * 2 ** 20,
                seen: Relayed | None = None) -> None:
    """The pass-through: upstream bytes to the client as they are, whole events at a time.

    Per block of whole events this costs a few byte searches: the last blank line, a data
    line that is not JSON, the protocol's final event (until seen), a non-null ``"usage"``
    key (only the blocks that hold one are decoded, for ``sniffer``, a UsageSniffer).
    Raises ``UpstreamBroke`` when the upstream fails, stalls, sends what the client could
    not parse, an event over ``max_event`` bytes, or ends without its final event; the
    events before the fault have been sent, and ``seen`` says what they were.
    """
    seen = seen or Relayed(sniffer.protocol)
    dog = Watchdog(upstream, idle=idle, keepalive=keepalive, ping=sink.ping)
    read = upstream.content.readany
    may_carry = sniffer.may_carry
    terminal = _TERMINAL[seen.protocol].search
    suspect = _SUSPECT_LINE.search
    tail = b""
    chunk = first
    try:
        while chunk:
            dog.touch()
            data = tail + chunk if tail else chunk
            cut = last_event_end(data)
            if cut:
                if cut < len(data):
                    data, tail = data[:cut], data[cut:]
                else:
                    tail = b""
                await _send(data, sink, sniffer, seen, may_carry, terminal, suspect)
            else:
                tail = data
            if len(tail) > max_event:
                raise UpstreamBroke(_too_big(max_event))
            chunk = await read()
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        raise UpstreamBroke(_broke(dog, exc)) from None
    finally:
        dog.stop()
    if tail.strip():
        tail += b"\n\n"  # an upstream that ended without the blank line
        await _send(tail, sink, sniffer, seen, may_carry, terminal, suspect)
    if not seen.ended:
        raise UpstreamBroke(ErrorInfo(502, "api_error", "the upstream stream ended before "
                                                        "its final event"))


async def _send(data: bytes, sink: Sink, sniffer, seen: Relayed, may_carry, terminal,
                suspect) -> None:
    """Whole events to the client, checked; the part before a bad event, then the fault."""
    bad = _first_bad(data) if suspect(data) or b"\r" in data else None
    if bad is not None:
        data = data[:bad[0]]
    if not seen.ended and terminal(data):
        seen.ended = True
    if may_carry(data):
        data = sniffer.feed_bytes(data)
    if data:
        await sink.write(data)
        if not seen.first:
            seen.first = data
        seen.last = data
    if bad is not None:
        raise UpstreamBroke(_not_json(bad[1]))


async def translate(upstream: aiohttp.ClientResponse, first: bytes, sink: Sink, decoder,
                    encoder, tracker, *, idle: float, keepalive: float,
                    max_event: int = 64 * 2 ** 20, sse: SSEDecoder | None = None,
                    ready: bytes = b"") -> None:
    """Upstream SSE → hub events → the client's SSE, one write per upstream chunk.

    With ``sse`` given, ``first`` was already decoded with it and ``decoder`` (by
    ``decode_first``, before the client saw a byte), and ``ready`` is what that made for
    the client. A malformed upstream event raises ``UpstreamBroke`` (502).
    """
    decoded = sse is not None
    if sse is None:
        sse = SSEDecoder()
    dog = Watchdog(upstream, idle=idle, keepalive=keepalive, ping=sink.ping)
    read = upstream.content.readany
    track, encode = tracker.feed, encoder.feed
    chunk = first
    try:
        if decoded:
            if ready:
                await sink.write(ready)
            chunk = await read()
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
            if sse.buffered > max_event:
                raise UpstreamBroke(_too_big(max_event))
            chunk = await read()
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        raise UpstreamBroke(_broke(dog, exc)) from None
    except (UpstreamFault, CodecError) as exc:
        raise UpstreamBroke(_fault(exc)) from None
    finally:
        dog.stop()
    out = bytearray()
    try:
        for event in sse.flush():
            for hub in decoder.feed(event):
                tracker.feed(hub)
                out += encoder.feed(hub)
        for hub in decoder.flush():
            tracker.feed(hub)
            out += encoder.feed(hub)
    except (UpstreamFault, CodecError) as exc:
        if out:
            await sink.write(bytes(out))
        raise UpstreamBroke(_fault(exc)) from None
    out += encoder.flush()
    if out:
        await sink.write(bytes(out))


def decode_first(first: bytes, sse: SSEDecoder, decoder, encoder, tracker) -> bytes:
    """The client's bytes for a translated stream's first chunk. Raises ``UpstreamFault``
    or ``CodecError`` on a malformed event: the caller can still fall back."""
    out = []
    for event in sse.feed(first):
        for hub in decoder.feed(event):
            tracker.feed(hub)
            out.append(encoder.feed(hub))
    return b"".join(out)


def _fault(exc: Exception) -> ErrorInfo:
    if isinstance(exc, UpstreamFault):
        return exc.info()
    return ErrorInfo(502, "api_error", f"the upstream's answer is malformed: {exc}")


def _too_big(limit: int) -> ErrorInfo:
    return ErrorInfo(502, "api_error", f"an upstream stream event is over "
                                       f"{limit / 2 ** 20:g} MB ([proxy] max_answer_mb)")


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
