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
within ``first_byte``, a 429 or 5xx, a stream that ends before its first chunk, an
answer that is not the protocol's: malformed, not JSON, a redirect, an empty 2xx, over
``max_answer_mb``) moves on to the next target, and is a 502 in the client's shape when
none is left; after that, the client's stream ends with its protocol's error event
(``UpstreamFault`` and a codec's ``CodecError`` about an upstream answer are always the
upstream's fault, never the client's 400). The upstream's key is masked in everything
the client gets. Every request ends with one usage-log row, whose status is what the
client got (a bug: a 500 in the client's shape; 499 only for a client that left).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import replace

import aiohttp
from aiohttp import web

from byecore_cli import codecs
from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.hub import ErrorInfo, StreamError
from byecore_cli.hub.assemble import Assembler, StreamFailed, explode
from byecore_cli.providers import quirks
from byecore_cli.providers.keys import redact
from byecore_cli.proxy import demo, streaming
from byecore_cli.proxy.call import Call
from byecore_cli.proxy.router import Target
from byecore_cli.proxy.sniff import UsageSniffer
from byecore_cli.proxy.upstream import (
    AnswerTooBig,
    FirstByteTimeout,
    deadline,
    is_json_object,
    looks_like_answer,
    open_upstream,
    read_capped,
    response_headers,
    retry_after,
    rewrite_model,
    safe_seconds,
    shown_url,
    snippet,
    upstream_headers,
)

log = logging.getLogger("byecore.proxy")
RETRY_STATUSES = frozenset((408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529))


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
        self.asked = 0.0  # when the current target was asked (monotonic)
        # byecore's own stream_options on the upstream request (not the client's): on the
        # pass-through, the usage chunk it brings is hidden from the client
        self.added_stream_options = False
        self.sink: streaming.Sink | None = None  # the client's stream, once opened
        # the error event that ends the client's stream as begun (a relayed Responses
        # stream: its own response.failed), once one is under way
        self.stream_error = None

    @property
    def codec(self):
        """The client's codec; the pass-through's success path never needs it."""
        return codecs.get(self.call.inbound)

    async def run(self, chain: list[Target]) -> web.StreamResponse:
        """The client's answer; a bug still answers in the client's protocol (a 500, or
        its error event once a stream has begun), and the usage row says what it got."""
        status = 499  # only if this never returns: the client went away (cancelled)
        try:
            try:
                answer = await self._chain(chain)
            except Exception as exc:
                log.exception("internal error on %s", self.request.path)
                answer = await self._internal_error(exc)
            status = answer.status
            return answer
        finally:
            self._log(status)

    async def _internal_error(self, exc: Exception) -> web.StreamResponse:
        info = ErrorInfo(500, "api_error", f"byecore internal error ({type(exc).__name__}); "
                                           "see the proxy's log")
        sink = self.sink
        if sink is None or not sink.response.prepared:
            return error_response(self.call.inbound, info)
        self.row["error_status"] = 500
        try:
            event = self.stream_error(info) if self.stream_error else None
        except Exception:  # the encoder the bug was in, say: a generic event then
            log.exception("ending the stream after an internal error")
            event = None
        with contextlib.suppress(streaming.ClientGone):
            await sink.write(event or self.codec.encode_stream_error(info))
        await sink.close()
        return sink.response

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
                    not codecs.wire(target.protocol).relayable(self.call.raw)
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
            except CodecError as exc:  # the client's request (upstream answers: Retry)
                return error_response(self.call.inbound, exc.info())
            except UpstreamFault as exc:  # a codec found it after all: still not the client's
                failure = Retry(exc.info())
                cooldowns.note(target.name, failure.info)
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
        encoder = self._encoder()
        with contextlib.suppress(streaming.ClientGone):
            await streaming.send_events(demo.events(hub), sink, encoder, tracker)
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
            data = self.call.raw if codecs.wire(target.protocol).model_in_path else \
                rewrite_model(self.call.raw, self.call.model, target.model)
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
        url = provider.url(target.protocol, target.model, self.call.stream)
        self.asked = time.monotonic()  # first_byte runs from here to the first chunk
        try:
            upstream = await open_upstream(self.state.session, url, data, headers,
                                           timeouts.first_byte)
        except FirstByteTimeout as exc:
            raise Retry(ErrorInfo(504, "timeout", f"{target.provider}: {exc}")) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise Retry(ErrorInfo(502, "api_error",
                                  f"{target.provider} could not be reached at "
                                  f"{shown_url(url)} ({type(exc).__name__})")) from None
        except Exception as exc:  # aiohttp refusing the request itself: a bad base_url
            # the exception's text can hold the URL, password and all: not logged
            log.warning("%s: no request could be made to %s (%s)", target.provider,
                        shown_url(url), type(exc).__name__)
            raise Retry(ErrorInfo(502, "api_error",
                                  f"{target.provider}: no request could be made to "
                                  f"{shown_url(url)} ({type(exc).__name__}); check the "
                                  "provider's base_url in byecore's settings")) from None
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
        proxy = self.state.settings.proxy
        timeouts, cap = proxy.timeouts, _cap(proxy)
        key = target.config.resolve_key()
        kept = response_headers(upstream.headers)
        status = upstream.status
        if status >= 400:
            body = redact(await _read(upstream, timeouts.idle, target, cap), key)
            if (self.added_stream_options and status in (400, 422)
                    and b"stream_options" in body):
                raise _UnaskedFieldRefused()  # byecore's addition, not the client's request
            info = up_codec.decode_error(status, body)
            info.message = redact(info.message, key)
            info.retry_after = safe_seconds(info.retry_after)
            if info.retry_after is None:
                info.retry_after = retry_after(upstream.headers)
            json_body = is_json_object(body)
            if not json_body:  # an HTML page from a gateway: nothing a client can parse
                info.message = (f"{target.provider} answered HTTP {status} with something "
                                f"other than JSON{snippet(body)}")
            if target.passthrough and json_body:
                answer = web.Response(body=body, status=status, headers={
                    **kept, "Content-Type": upstream.headers.get("Content-Type",
                                                                 "application/json")})
            else:
                answer = error_response(self.call.inbound, info)
            if status in RETRY_STATUSES:
                raise Retry(info, answer)
            return answer
        if not 200 <= status < 300 or status in (204, 205):  # a redirect, or no body
            raise Retry(ErrorInfo(502, "api_error", _not_an_answer(target, upstream)))
        is_sse = upstream.headers.get("Content-Type", "").startswith("text/event-stream")
        if not is_sse:
            body = await _read(upstream, timeouts.idle, target, cap)
            if target.passthrough and not self.call.stream:
                if not looks_like_answer(target.protocol, body):
                    raise Retry(ErrorInfo(502, "api_error", (
                        f"{target.provider} answered HTTP {status} with something other "
                        f"than a {target.protocol} answer{snippet(redact(body, key))}")))
                self.row["raw_body"] = body
                return web.Response(body=body, headers={**kept,
                                                        "Content-Type": "application/json"})
            # the client's request decoded outside _upstream_decoded: its CodecError (a body
            # too deep, say) is the client's 400, not the upstream's fault
            asked = up_hub or self.call.hub_request()
            hub_response = _upstream_decoded(lambda: up_codec.decode_response(
                _json(body, target, key), asked), target)
            self.row["usage"] = hub_response.usage
            hub_response.model = self.call.model if up_hub else hub_response.model
            if not self.call.stream:
                return web.json_response(
                    self.codec.encode_response(hub_response, self.call.hub_request()),
                    headers=kept)
            sink = await self._open_sink(kept, key)
            encoder = self._encoder()
            with contextlib.suppress(streaming.ClientGone):
                await streaming.send_events(explode(hub_response), sink, encoder,
                                            streaming.Tracker())
            await sink.close()
            return sink.response
        left = timeouts.first_byte - (time.monotonic() - self.asked)
        first = await _first_chunk(upstream, left, timeouts.first_byte, target)
        if not self.call.stream:
            return await self._assemble(upstream, first, up_codec, up_hub, kept, target)
        if target.passthrough:
            problem = streaming.first_problem(first)
            if problem is not None:
                problem.message = redact(f"{target.provider}: {problem.message}", key)
                raise Retry(problem)
            sink = await self._open_sink(kept, key)
            await self._relay(target, upstream, first, sink)
            return sink.response
        translating = _Translating(self._encoder(), up_codec.stream_decoder(up_hub),
                                   _sse_for(target))
        ready = _upstream_decoded(lambda: translating.first(first), target)
        sink = await self._open_sink(kept, key)
        await self._translate(translating, upstream, first, ready, sink)
        return sink.response

    async def _relay(self, target, upstream, first, sink) -> None:
        proxy = self.state.settings.proxy
        sniffer = UsageSniffer(target.protocol, hide_usage_chunk=self.added_stream_options)
        seen = streaming.Relayed(target.protocol)
        self.stream_error = lambda info: seen.error_event(info, self.codec)
        try:
            await streaming.relay(upstream, first, sink, sniffer, idle=proxy.timeouts.idle,
                                  keepalive=proxy.keepalive, max_event=_cap(proxy), seen=seen,
                                  first_checked=True)  # by _answer, before the sink opened
        except streaming.UpstreamBroke as exc:
            self.row["error_status"] = exc.info.status
            with contextlib.suppress(streaming.ClientGone):
                await sink.write(seen.error_event(exc.info, self.codec))
        except streaming.ClientGone:
            pass
        finally:
            self.row["usage"] = sniffer.usage
        await sink.close()

    async def _translate(self, translating, upstream, first, ready, sink) -> None:
        proxy = self.state.settings.proxy
        encoder, tracker = translating.encoder, translating.tracker
        try:
            await streaming.translate(upstream, first, sink, translating.decoder, encoder,
                                      tracker, idle=proxy.timeouts.idle,
                                      keepalive=proxy.keepalive, max_event=_cap(proxy),
                                      sse=translating.sse, ready=ready)
        except streaming.UpstreamBroke as exc:
            self.row["error_status"] = exc.info.status
            with contextlib.suppress(streaming.ClientGone):
                await sink.write(encoder.feed(StreamError(exc.info)))
        except streaming.ClientGone:
            pass
        finally:
            self.row["usage"] = tracker.usage
        await sink.close()

    async def _assemble(self, upstream, first, up_codec, up_hub, kept, target):
        """A streaming upstream under a non-streaming client: fold the stream into one body."""
        sse, decoder, assembler = _sse_for(target), up_codec.stream_decoder(
            up_hub or self.call.hub_request()), Assembler()
        cap = _cap(self.state.settings.proxy)
        chunk, size = first, 0
        try:
            while chunk:
                size += len(chunk)
                if size > cap:
                    raise Retry(ErrorInfo(502, "api_error", _too_big(target, cap)))
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
        except (UpstreamFault, CodecError) as exc:
            raise Retry(_fault_info(exc, target)) from None
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise Retry(ErrorInfo(502, "api_error", f"{target.provider}: the stream broke "
                                  f"({type(exc).__name__})")) from None
        self.row["usage"] = response.usage
        if up_hub is not None:
            response.model = self.call.model
        return web.json_response(self.codec.encode_response(response, self.call.hub_request()),
                                 headers=kept)

    def _encoder(self):
        """The client's stream encoder; an internal error ends its stream through it."""
        encoder = self.codec.stream_encoder(self.call.hub_request())
        self.stream_error = lambda info: encoder.feed(StreamError(info))
        return encoder

    async def _open_sink(self, headers: dict, secret: str | None = None) -> streaming.Sink:
        """The client's stream; ``secret`` (the upstream's key) is masked in all it gets."""
        self.sink = await streaming.open_sink(self.request, self.call.inbound, headers, secret)
        self.ttfb = time.monotonic()
        return self.sink

    def _log(self, status: int) -> None:
        done = time.monotonic()
        row = self.row
        row["status"] = row.pop("error_status", None) or status
        row["ts"] = time.time()
        row["latency_ms"] = round((done - self.call.started) * 1000, 2)
        row["ttfb_ms"] = round(((self.ttfb or done) - self.call.started) * 1000, 2)
        self.state.usage.record(row)


async def _read(upstream: aiohttp.ClientResponse, idle: float, target: Target,
                cap: int) -> bytes:
    """The whole body, at most ``cap`` bytes: past it the answer is refused, not held."""
    try:
        return await read_capped(upstream, idle, cap)
    except AnswerTooBig:
        raise Retry(ErrorInfo(502, "api_error", _too_big(target, cap))) from None
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        raise Retry(ErrorInfo(502, "api_error", f"{target.provider}: the answer broke off "
                              f"({type(exc).__name__})")) from None


def _cap(proxy) -> int:
    return int(proxy.max_answer_mb * 2 ** 20)


def _too_big(target: Target, cap: int) -> str:
    return (f"{target.provider}'s answer is over {cap / 2 ** 20:g} MB: refused (raise "
            "[proxy] max_answer_mb in byecore's settings if it is expected)")


async def _first_chunk(upstream: aiohttp.ClientResponse, left: float, first_byte: float,
                       target: Target) -> bytes:
    """The answer's first bytes, within what is ``left`` of ``first_byte`` after its headers
    (one budget for both waits, so a slow status line cannot double it)."""
    try:
        async with deadline(max(left, 0.0)):
            first = await upstream.content.readany()
    except asyncio.TimeoutError:
        raise Retry(ErrorInfo(504, "timeout", f"{target.provider}: no data within "
                              f"{first_byte:g} s")) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise Retry(ErrorInfo(502, "api_error", f"{target.provider}: the stream broke "
                              f"before its first event ({type(exc).__name__})")) from None
    if not first:
        raise Retry(ErrorInfo(502, "api_error", f"{target.provider}: an empty stream"))
    return first


def _json(body: bytes, target: Target, key: str | None) -> dict:
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise Retry(ErrorInfo(502, "api_error",
                              f"{target.provider} answered with something other than JSON"
                              f"{snippet(redact(body, key))}"))
    return value


def _not_an_answer(target: Target, upstream: aiohttp.ClientResponse) -> str:
    status = upstream.status
    if 300 <= status < 400:
        where = upstream.headers.get("Location")
        where = f" to {shown_url(where)}" if where else ""
        return (f"{target.provider} answered HTTP {status} (a redirect{where}); byecore does "
                "not follow redirects: check the provider's base_url")
    return f"{target.provider} answered HTTP {status} without an answer"


def _fault_info(exc: Exception, target: Target) -> ErrorInfo:
    """A codec's complaint about an upstream answer: a 502, never the client's 400; but an
    error the upstream declared inside a 2xx keeps its own kind and status (a rate limit
    reaches the client as one). The message may quote the answer: its key is masked."""
    if isinstance(exc, StreamFailed) and isinstance(exc, UpstreamFault):
        info = exc.info()
    else:
        info = exc.info() if isinstance(exc, UpstreamFault) else ErrorInfo(
            502, "api_error", f"the upstream's answer is malformed: {exc}")
        info = replace(info, status=502, kind="api_error")
    key = target.config.resolve_key() if target.config else None
    return replace(info, message=redact(f"{target.provider}: {info.message}", key))


def _upstream_decoded(decode, target: Target):
    """``decode()``, with a codec error in it made the upstream's fault (Retry, 502)."""
    try:
        return decode()
    except (UpstreamFault, CodecError) as exc:
        raise Retry(_fault_info(exc, target)) from None


def _sse_for(target: Target) -> SSEDecoder:
    """An SSE decoder for ``target``'s stream, reading what its wire says counts."""
    return SSEDecoder(stray=codecs.wire(target.protocol).stray_json_lines)


class _Translating:
    """A translated stream's coders, the first chunk decoded before the client sees a byte."""

    def __init__(self, encoder, decoder, sse: SSEDecoder) -> None:
        self.encoder, self.decoder = encoder, decoder
        self.sse, self.tracker = sse, streaming.Tracker()

    def first(self, chunk: bytes) -> bytes:
        return streaming.decode_first(chunk, self.sse, self.decoder, self.encoder,
                                      self.tracker)


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
