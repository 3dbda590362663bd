"""One client request, from its parsed body to the client's answer, over a chain of targets.

Per target, one of three paths:

- **pass-through** (the upstream speaks the client's protocol): the client's bytes go
  up with only the model name and the auth changed (and, on a Chat stream, usage asked
  for: ``_ask_for_usage``), and the answer's bytes come back as they are; usage is
  read on the way (usage.py) without a codec;
- **translated**: client codec → hub request → upstream codec, and back; a streaming
  upstream under a non-streaming client is assembled, and a non-streaming upstream
  under a streaming client exploded (hub/assemble.py);
- **demo**: the offline demo provider's hub answer, encoded by the client's codec.

Fallbacks: a failure before the first byte reaches the client (no connection, no status
within ``first_byte``, a 429 or 5xx, a stream that ends before its first chunk) moves
on to the next target; after that, the client's stream ends with its protocol's error
event. Every request ends with one usage-log row.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from dataclasses import dataclass, field, replace

import aiohttp
from aiohttp import web

from byecore_cli import codecs
from byecore_cli.codecs.base import CodecError
from byecore_cli.hub import ErrorInfo, Request, StreamError
from byecore_cli.hub.assemble import Assembler, StreamFailed, explode
from byecore_cli.providers import quirks
from byecore_cli.providers.keys import redact
from byecore_cli.proxy import demo, streaming
from byecore_cli.proxy.router import Target, carries_minted
from byecore_cli.proxy.sniff import UsageSniffer
from byecore_cli.proxy.upstream import (
    FirstByteTimeout,
    deadline,
    open_upstream,
    response_headers,
    upstream_headers,
)

log = logging.getLogger("byecore.proxy")
RETRY_STATUSES = frozenset((408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529))


@dataclass
class Call:
    """A client request in flight and what is known about it."""

    inbound: str
    raw: bytes
    body: dict
    model: str
    stream: bool
    client: str
    headers: object
    started: float = field(default_factory=time.monotonic)
    hub: Request | None = None  # the client's request in hub terms, decoded on first need

    def hub_request(self) -> Request:
        if self.hub is None:
            self.hub = codecs.get(self.inbound).decode_request(self.body)
        return self.hub


class _UnaskedFieldRefused(Exception):
    """The upstream refused the ``stream_options`` byecore added (not the client)."""


class Retry(Exception):
    """This target failed before the client saw a byte; ``answer`` is what to send if last."""

    def __init__(self, info: ErrorInfo, answer: web.StreamResponse | None = None) -> None:
        super().__init__(info.message)
        self.info = info
        self.answer = answer


def error_response(protocol: str, info: ErrorInfo) -> web.Response:
    status, body, headers = codecs.get(protocol).encode_error(info)
    return web.json_response(body, status=status, headers=headers)


class Pipeline:
    def __init__(self, state, request: web.Request, call: Call) -> None:
        self.state = state
        self.request = request
        self.call = call
        self.row: dict = {"client": call.client, "inbound": call.inbound,
                          "requested_model": call.model, "stream": int(call.stream)}
        self.ttfb: float | None = None
        # byecore's own stream_options on the upstream request (not the client's): on the
        # pass-through, the usage chunk it brings is hidden from the client
        self.added_stream_options = False

    @property
    def codec(self):
        """The client's codec; the pass-through's success path never needs it."""
        return codecs.get(self.call.inbound)

    async def run(self, chain: list[Target]) -> web.StreamResponse:
        status = 499  # the client went away before an answer
        try:
            answer = await self._chain(chain)
            status = answer.status
            return answer
        finally:
            self._log(status)

    async def _chain(self, chain: list[Target]) -> web.StreamResponse:
        failure: Retry | None = None
        cooldowns = self.state.cooldowns
        for attempt, target in enumerate(cooldowns.order(chain)):
            if failure is not None:
                await asyncio.sleep(_backoff(failure.info, attempt, same=target.provider
                                             == self.row.get("provider")))
                log.warning("%s failed (%s); trying %s", self.row.get("provider"),
                            failure.info.message, target.name)
            if target.passthrough and (
                    carries_minted(target.protocol, self.call.raw)
                    or quirks.reshapes(target.config.quirks, target.protocol)):
                target = replace(target, relay=False)  # through the codecs after all
            self.row.update(provider=target.provider, model=target.model,
                            upstream_protocol=target.protocol)
            try:
                if target.config is None:
                    return await self._demo(target)
                answer = await self._upstream(target)
                if answer.status < 400:
                    cooldowns.answered(target.name)
                return answer
            except CodecError as exc:
                return error_response(self.call.inbound, exc.info())
            except Retry as exc:
                cooldowns.note(target.name, exc.info)
                failure = exc
        assert failure is not None
        return failure.answer or error_response(self.call.inbound, failure.info)

    # -- the demo provider -------------------------------------------------------------

    async def _demo(self, target: Target) -> web.StreamResponse:
        hub = replace(self.call.hub_request(), model=target.model)
        if not self.call.stream:
            response = demo.answer(hub)
            response.model = self.call.model
            self.row["usage"] = response.usage
            return web.json_response(self.codec.encode_response(response, self.call.hub))
        sink = await self._open_sink({})
        tracker = streaming.Tracker()
        with contextlib.suppress(streaming.ClientGone):
            await streaming.send_events(demo.events(hub), sink,
                                        self.codec.stream_encoder(self.call.hub), tracker)
        self.row["usage"] = tracker.usage
        await sink.close()
        return sink.response

    # -- a real upstream ---------------------------------------------------------------

    async def _upstream(self, target: Target, *,
                        stream_options: bool = True) -> web.StreamResponse:
        """``stream_options=False``: add none (the upstream refused byecore's addition)."""
        provider = target.config
        stream_options = stream_options and \
            target.provider not in self.state.refuses_stream_options
        up_codec = _LazyCodec(target.protocol)
        self.added_stream_options = False
        if target.passthrough:
            up_hub = None
            data = rewrite_model(self.call.raw, self.call.model, target.model)
            if (target.protocol == "chat" and self.call.stream and stream_options
                    and "no_stream_options" not in provider.quirks):
                data = self._ask_for_usage(data)
            headers = upstream_headers(provider, target.protocol, self.call.headers,
                                       stream=self.call.stream)
        else:
            up_hub = replace(self.call.hub_request(), model=target.model)
            if provider.quirks:
                up_hub = quirks.apply(provider.quirks, up_hub)
            if not stream_options:
                up_hub = quirks.no_stream_options(up_hub)
            body = up_codec.encode_request(up_hub)
            self.added_stream_options = "stream_options" in body and target.protocol == "chat"
            data = json.dumps(body, ensure_ascii=False).encode()
            headers = upstream_headers(provider, target.protocol, None,
                                       stream=self.call.stream)
        timeouts = self.state.settings.proxy.timeouts
        url = provider.url(target.protocol)
        try:
            upstream = await open_upstream(self.state.session, url, data, headers,
                                           timeouts.first_byte)
        except FirstByteTimeout as exc:
            raise Retry(ErrorInfo(504, "timeout", f"{target.provider}: {exc}")) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise Retry(ErrorInfo(502, "api_error",
                                  f"{target.provider} could not be reached at {url} "
                                  f"({type(exc).__name__})")) from None
        try:
            return await self._answer(target, upstream, up_codec, up_hub)
        except _UnaskedFieldRefused:
            pass  # retried below, once this response is let go
        finally:
            if upstream.content.at_eof():
                upstream.release()  # back to the pool for the next request
            else:
                upstream.close()
        answer = await self._upstream(target, stream_options=False)
        if answer.status < 400:  # it was the field: leave it out from now on
            log.info("%s refuses stream_options: no longer sending it", target.provider)
            self.state.refuses_stream_options.add(target.provider)
        return answer

    def _ask_for_usage(self, data: bytes) -> bytes:
        """A Chat stream reports usage only when asked: ask on the client's behalf (for
        the usage log) when it did not, and hide the extra chunk from it."""
        options = self.call.body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage") is True:
            return data
        self.added_stream_options = True
        if "stream_options" not in self.call.body:  # usually: one key in, the rest as is
            start = data.index(b"{") + 1
            return data[:start] + b'"stream_options":{"include_usage":true},' + data[start:]
        body = json.loads(data)
        body["stream_options"] = {**(options if isinstance(options, dict) else {}),
                                  "include_usage": True}
        return json.dumps(body, ensure_ascii=False).encode()

    async def _answer(self, target, upstream, up_codec, up_hub) -> web.StreamResponse:
        timeouts = self.state.settings.proxy.timeouts
        key = target.config.resolve_key()
        kept = response_headers(upstream.headers)
        if upstream.status >= 400:
            body = redact(await _read(upstream, timeouts.idle, target), key)
            if (self.added_stream_options and upstream.status in (400, 422)
                    and b"stream_options" in body):
                raise _UnaskedFieldRefused()  # byecore's addition, not the client's request
            info = up_codec.decode_error(upstream.status, body)
            info.message = redact(info.message, key)
            if info.retry_after is None:
                info.retry_after = _retry_after(upstream.headers)
            if target.passthrough:
                answer = web.Response(body=body, status=upstream.status, headers={
                    **kept, "Content-Type": upstream.headers.get("Content-Type",
                                                                 "application/json")})
            else:
                answer = error_response(self.call.inbound, info)
            if upstream.status in RETRY_STATUSES:
                raise Retry(info, answer)
            return answer
        is_sse = upstream.headers.get("Content-Type", "").startswith("text/event-stream")
        if not is_sse:
            body = await _read(upstream, timeouts.idle, target)
            if target.passthrough and not self.call.stream:
                self.row["raw_body"] = body
                return web.Response(body=body, headers={**kept,
                                                        "Content-Type": "application/json"})
            hub_response = up_codec.decode_response(_json(body, target), up_hub or
                                                    self.call.hub_request())
            self.row["usage"] = hub_response.usage
            hub_response.model = self.call.model if up_hub else hub_response.model
            if not self.call.stream:
                return web.json_response(
                    self.codec.encode_response(hub_response, self.call.hub_request()),
                    headers=kept)
            sink = await self._open_sink(kept)
            with contextlib.suppress(streaming.ClientGone):
                await streaming.send_events(explode(hub_response), sink,
                                            self.codec.stream_encoder(self.call.hub_request()),
                                            streaming.Tracker())
            await sink.close()
            return sink.response
        first = await _first_chunk(upstream, timeouts.first_byte, target)
        if not self.call.stream:
            return await self._assemble(upstream, first, up_codec, up_hub, kept, target)
        sink = await self._open_sink(kept)
        await self._stream(target, upstream, first, sink, up_codec, up_hub)
        return sink.response

    async def _stream(self, target, upstream, first, sink, up_codec, up_hub) -> None:
        proxy = self.state.settings.proxy
        limits = {"idle": proxy.timeouts.idle, "keepalive": proxy.keepalive}
        tracker = None
        try:
            if target.passthrough:
                sniffer = UsageSniffer(target.protocol,
                                       hide_usage_chunk=self.added_stream_options)
                try:
                    await streaming.relay(upstream, first, sink, sniffer, **limits)
                finally:
                    self.row["usage"] = sniffer.usage
            else:
                client_hub = self.call.hub_request()
                encoder = self.codec.stream_encoder(client_hub)
                tracker = streaming.Tracker()
                try:
                    await streaming.translate(upstream, first, sink,
                                              up_codec.stream_decoder(up_hub), encoder,
                                              tracker, **limits)
                except streaming.UpstreamBroke as exc:
                    await sink.write(encoder.feed(StreamError(exc.info)))
                    self.row["error_status"] = exc.info.status
                finally:
                    self.row["usage"] = tracker.usage
        except streaming.UpstreamBroke as exc:
            self.row["error_status"] = exc.info.status
            await sink.write(self.codec.encode_stream_error(exc.info))
        except streaming.ClientGone:
            pass
        await sink.close()

    async def _assemble(self, upstream, first, up_codec, up_hub, kept, target):
        """A streaming upstream under a non-streaming client: fold the stream into one body."""
        from byecore_cli.codecs.sse import SSEDecoder

        sse, decoder, assembler = SSEDecoder(), up_codec.stream_decoder(
            up_hub or self.call.hub_request()), Assembler()
        chunk = first
        try:
            while chunk:
                for event in sse.feed(chunk):
                    for hub in decoder.feed(event):
                        assembler.feed(hub)
                async with deadline(self.state.settings.proxy.timeouts.idle):
                    chunk = await upstream.content.readany()
            for event in sse.flush():
                for hub in decoder.feed(event):
                    assembler.feed(hub)
            for hub in decoder.flush():
                assembler.feed(hub)
            response = assembler.result()
        except StreamFailed as exc:
            return error_response(self.call.inbound, exc.error)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise Retry(ErrorInfo(502, "api_error", f"{target.provider}: the stream broke "
                                  f"({type(exc).__name__})")) from None
        self.row["usage"] = response.usage
        if up_hub is not None:
            response.model = self.call.model
        return web.json_response(self.codec.encode_response(response, self.call.hub_request()),
                                 headers=kept)

    async def _open_sink(self, headers: dict) -> streaming.Sink:
        sink = await streaming.open_sink(self.request, self.call.inbound, headers)
        self.ttfb = time.monotonic()
        return sink

    def _log(self, status: int) -> None:
        done = time.monotonic()
        row = self.row
        row["status"] = row.pop("error_status", None) or status
        row["ts"] = time.time()
        row["latency_ms"] = round((done - self.call.started) * 1000, 2)
        row["ttfb_ms"] = round(((self.ttfb or done) - self.call.started) * 1000, 2)
        self.state.usage.record(row)


async def _read(upstream: aiohttp.ClientResponse, idle: float, target: Target) -> bytes:
    try:
        async with deadline(idle):
            return await upstream.read()
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        raise Retry(ErrorInfo(502, "api_error", f"{target.provider}: the answer broke off "
                              f"({type(exc).__name__})")) from None


async def _first_chunk(upstream: aiohttp.ClientResponse, wait: float, target: Target) -> bytes:
    try:
        async with deadline(wait):
            first = await upstream.content.readany()
    except asyncio.TimeoutError:
        raise Retry(ErrorInfo(504, "timeout", f"{target.provider}: no data within "
                              f"{wait:g} s")) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise Retry(ErrorInfo(502, "api_error", f"{target.provider}: the stream broke "
                              f"before its first event ({type(exc).__name__})")) from None
    if not first:
        raise Retry(ErrorInfo(502, "api_error", f"{target.provider}: an empty stream"))
    return first


def _json(body: bytes, target: Target) -> dict:
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise Retry(ErrorInfo(502, "api_error",
                              f"{target.provider} answered with something other than JSON"))
    return value


def _retry_after(headers) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (an HTTP date counts as unknown)."""
    for name, scale in (("retry-after-ms", 0.001), ("Retry-After", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue
    return None


class _LazyCodec:
    """A codec looked up on first use, so the pass-through's happy path skips it."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(codecs.get(self._name), attr)


def _backoff(info: ErrorInfo, attempt: int, *, same: bool) -> float:
    """Retry-After binds the same provider; another one is tried after a short pause."""
    if same and info.retry_after:
        return min(info.retry_after, 10.0)
    return min(0.05 * 2 ** attempt, 1.0)


_MODEL_RE = re.compile(rb'"model"\s*:\s*')


def rewrite_model(raw: bytes, old: str, new: str) -> bytes:
    """The client's body with only the model name changed (byte-exact elsewhere).

    Thinking signatures and the like must reach the upstream untouched, so the body is
    not re-serialised; the ``"model": "<old>"`` pair is replaced in place when it occurs
    once, and the body is re-serialised only when that cannot be told apart.
    """
    if old == new:
        return raw
    value = json.dumps(old, ensure_ascii=False).encode()
    hits = [m for m in _MODEL_RE.finditer(raw) if raw.startswith(value, m.end())]
    if len(hits) == 1:
        start = hits[0].end()
        return raw[:start] + json.dumps(new, ensure_ascii=False).encode() + \
            raw[start + len(value):]
    body = json.loads(raw)
    body["model"] = new
    return json.dumps(body, ensure_ascii=False).encode()
