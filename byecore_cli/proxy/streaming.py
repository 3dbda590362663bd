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

from byecore_cli import codecs
from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.codecs.responses.errors import failed_error
from byecore_cli.codecs.sse import (
    KEEPALIVE,
    SSEDecoder,
    encode_event,
    event_spans,
    last_event_end,
    loads,
)
from byecore_cli.hub import ErrorInfo, Event, MessageStart, MessageStop, StreamError, UsageUpdate
from byecore_cli.providers.keys import mask_key
from byecore_cli.proxy.upstream import Watchdog

SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8",
               "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# What keeps each protocol's idle stream open (each wire says: a ping event, a comment…)
PINGS = {name: codecs.wire(name).keepalive for name in codecs.CODECS}


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


# The event that ends a stream of each protocol (an error event ends one too), from its
# wire. Looked for once, in the stream's last two blocks (Chat's finish_reason chunk may be
# followed by a usage chunk and no [DONE]).
_TERMINAL = {name: codecs.wire(name).terminal for name in codecs.CODECS}


def _plain(block: bytes) -> bool:
    """Whether every data line of ``block`` looks like ``data: {…}`` (or ``data:{…}``)
    ending in ``}`` and the line end: a few byte counts (a JSON string holds no raw line
    break, so ``}`` and the line end end a line). LF line ends, or CRLF throughout (as
    some servers send). Anything else (``[DONE]``, comments, multi-line data, CR alone)
    gets the exact check, ``_first_bad``: rare, or only costlier, never refused for its
    form.
    """
    lines = block.count(b"data:")
    opens = block.count(b"data: {")
    if opens != lines:
        opens += block.count(b"data:{")
        if opens != lines:
            return False
    if block.find(b"\r") < 0:
        return block.count(b"}\n") == lines
    crlf = block.count(b"\r\n")
    return (block.count(b"\r") == crlf == block.count(b"\n")
            and block.count(b"}\r\n") == lines)


_SEQUENCE = re.compile(rb'"sequence_number"\s*:\s*(\d+)')


def _first_bad(block: bytes) -> tuple[int, str] | None:
    """(offset, data) of the first event in ``block`` whose data is not JSON, if any."""
    for start, _, events in event_spans(block):
        for event in events:
            data = event.data.strip()
            if not data or data == "[DONE]":
                continue
            try:
                loads(data)
            except ValueError:
                return start, data
    return None


def first_problem(first: bytes) -> ErrorInfo | None:
    """What is wrong with the whole events of a pass-through stream's first chunk, if
    anything: checked before the client sees a byte, so the chain can fall back."""
    whole = first[:last_event_end(first)]
    if whole and not _plain(whole):
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

    __slots__ = ("protocol", "first", "previous", "last")

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self.first = b""  # the first block sent to the client (Responses: response.created)
        self.previous = b""  # the one before the latest
        self.last = b""  # the latest one (Responses: the sequence number to go on from)

    def error_event(self, info: ErrorInfo, codec) -> bytes:
        """The client's error event: for Responses, the ``response.failed`` of the response
        already under way (its id, the next sequence number), not a second response."""
        if self.protocol == "responses" and self.first:
            failed = _responses_failed(info, self.first, self.last)
            if failed is not None:
                return failed
        return codec.encode_stream_error(info)


def _responses_failed(info: ErrorInfo, first: bytes, last: bytes) -> bytes | None:
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
                seen: Relayed | None = None, first_checked: bool = False) -> None:
    """The pass-through: upstream bytes to the client as they are, whole events at a time.

    Per block of whole events this costs a few byte searches: the last blank line, three
    counts that tell plain JSON data lines (``_plain``), a non-null ``"usage"`` key (only
    the blocks that hold one are decoded, for ``sniffer``, a UsageSniffer). Raises
    ``UpstreamBroke`` when the upstream fails, stalls, sends a data line the client could
    not parse or an event over ``max_event`` bytes, or ends without the protocol's final
    event; the events before the fault have been sent, and ``seen`` says what they were.
    ``first_checked``: ``first_problem(first)`` passed, so its whole events are not
    checked again.
    """
    seen = seen or Relayed(sniffer.protocol)
    dog = Watchdog(upstream, idle=idle, keepalive=keepalive, ping=sink.ping)
    read = upstream.content.readany
    may_carry = sniffer.may_carry
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
                # the first read's whole events are what first_problem checked
                bad = None if first_checked or _plain(data) else _first_bad(data)
                if bad is not None:
                    data = data[:bad[0]]
                if may_carry(data):
                    data = sniffer.feed_bytes(data)
                if data:
                    await sink.write(data)
                    seen.last, seen.previous = data, seen.last
                    if not seen.first:
                        seen.first = data
                if bad is not None:
                    raise UpstreamBroke(_not_json(bad[1]))
            else:
                tail = data
            first_checked = False
            if len(tail) > max_event:
                raise UpstreamBroke(_too_big(max_event))
            chunk = await read()
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        raise UpstreamBroke(_broke(dog, exc)) from None
    finally:
        dog.stop()
    if tail.strip():  # an upstream that ended without the blank line
        tail += b"\n\n"
        bad = _first_bad(tail)
        if bad is not None:
            raise UpstreamBroke(_not_json(bad[1]))
        if may_carry(tail):
            tail = sniffer.feed_bytes(tail)
        if tail:
            await sink.write(tail)
            seen.last, seen.previous = tail, seen.last
    terminal = _TERMINAL[seen.protocol].search
    if not (terminal(seen.last) or terminal(seen.previous)):
        raise UpstreamBroke(ErrorInfo(502, "api_error", "the upstream stream ended before "
                                                        "its final event"))


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
