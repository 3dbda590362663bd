"""``POST /v1/images/generations`` and ``/v1/images/edits``: the OpenAI Images API.

Passed through to the routed provider (``images.catalog.route``) with its own key, the
client's local key checked as on every route, and errors in OpenAI's shape. What the
proxy changes, and only that:

- ``model``, when the route names another upstream model;
- ``size``: a missing or ``auto`` one becomes ``[proxy.images] default_size`` (or the
  model's cheapest size when its table lacks that one), said in one info line of the
  proxy's log, because providers bill a request without a size at a higher tier
  (byecore's gateway: 2K for image-2); a size the model's table does not list is a 400
  naming every valid one and its price, instead of a silent 2K bill.

A generation is JSON; an edit is a multipart form (its images go up byte for byte:
``images.multipart``) or JSON. A streamed answer (``stream: true``, events
``image_generation.partial_image``/``.completed``, ``image_edit.…`` for edits) is relayed
event by event. Each request is one usage-log row, with the images received and their
cost by the provider's table. No fallback is tried: a second provider could bill the
same images again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

import aiohttp
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from byecore_cli import codecs
from byecore_cli.codecs.sse import SSEDecoder, last_event_end
from byecore_cli.errors import ByecoreError, NotFound
from byecore_cli.hub import ErrorInfo, Usage
from byecore_cli.images import catalog
from byecore_cli.images.multipart import Form, FormError
from byecore_cli.providers.endpoints import openai_base
from byecore_cli.providers.keys import redact
from byecore_cli.proxy import streaming
from byecore_cli.proxy.app import MB, STATE
from byecore_cli.proxy.encoding import BodyEncodingError, decode_body
from byecore_cli.proxy.guard import REFUSALS, STARTED, UNKNOWN_CLIENT, RefusalBudget
from byecore_cli.proxy.pipeline import error_response
from byecore_cli.proxy.upstream import (
    AnswerTooBig,
    FirstByteTimeout,
    Watchdog,
    open_upstream,
    read_capped,
    response_headers,
    shown_url,
    snippet,
    upstream_headers,
)

log = logging.getLogger("byecore.proxy")
KINDS = ("generations", "edits")
NO_KEY = ("missing or unknown byecore local key: send it as 'Authorization: Bearer KEY' "
          "(see it with: byecore proxy --show-key)")


def add_routes(app: web.Application) -> None:
    from byecore_cli.proxy.routes import PREFIXES

    for prefix in PREFIXES:
        for kind in KINDS:
            app.router.add_post(f"{prefix}/images/{kind}", _handler(kind))


def _handler(kind: str):
    async def handler(request: web.Request) -> web.StreamResponse:
        request[STARTED] = time.monotonic()
        request.app[STATE].refresh()
        ask = _Ask(request, kind)
        try:
            return await ask.serve()
        except Exception as exc:  # a bug still answers in OpenAI's shape, and is logged
            if request.writer is not None and request.writer.output_size:
                raise
            log.exception("internal error on %s", request.path)
            ask.row["status"] = 500
            return error_response("chat", ErrorInfo(
                500, "api_error", f"byecore internal error ({type(exc).__name__})"))
        finally:
            ask.log()

    handler.__name__ = f"images_{kind}"
    return handler


class _Refused(Exception):
    def __init__(self, info: ErrorInfo, status: int | None = None) -> None:
        super().__init__(info.message)
        self.info, self.status = info, status


def _bad(message: str, param: str | None = None) -> _Refused:
    return _Refused(ErrorInfo(400, "invalid_request", message, param=param))


class _Ask:
    """One Images API request, from its body to the client's answer and its usage row."""

    def __init__(self, request: web.Request, kind: str) -> None:
        self.request, self.kind = request, kind
        self.state = request.app[STATE]
        self.row: dict = {"inbound": "images", "upstream_protocol": "images", "stream": 0}
        self.logged = True  # a refusal the RefusalBudget left out sets it False
        self.json: dict | None = None
        self.form: Form | None = None
        self.price: float | None = None  # one image's, by the provider's table
        self.ttfb: float | None = None

    async def serve(self) -> web.StreamResponse:
        try:
            client = self.state.keys.client(self.request.headers)
            self.row["client"] = client or UNKNOWN_CLIENT
            if client is None:
                raise _Refused(ErrorInfo(401, "authentication", NO_KEY))
            raw = await self._read()
            model, size, stream = self._fields(raw)
            self.row["stream"] = int(stream)
            name, upstream_model, via = self._route(model)
            provider = self.state.settings.providers[name]
            self.row.update(provider=name, model=upstream_model)
            if not any(codecs.wire(p).base == "openai" for p in provider.protocols):
                raise _bad(f"{name} speaks no OpenAI API ({', '.join(provider.protocols)}), "
                           "so it has no Images API: route this model to another provider")
            table = catalog.table(self.state.settings, name, upstream_model)
            changes = self._sizing(size, table, upstream_model)
            if upstream_model != model:
                changes["model"] = upstream_model
            self.price = self._price(table, changes.get("size", size))
            body = self._body(changes)
        except _Refused as exc:
            return self._refuse(exc)
        return await self._forward(provider, name, body, stream)

    # -- the request -------------------------------------------------------------------

    async def _read(self) -> bytes:
        proxy = self.state.settings.proxy
        try:
            raw = await asyncio.wait_for(self.request.read(), proxy.timeouts.client_body)
        except web.HTTPRequestEntityTooLarge:
            raise _Refused(ErrorInfo(
                413, "request_too_large", f"the request body is over the proxy's "
                f"{proxy.max_body_mb:g} MB limit (raise [proxy] max_body_mb in byecore's "
                "settings)")) from None
        except TimeoutError:
            raise _Refused(ErrorInfo(400, "invalid_request", "the request body did not "
                           f"arrive in full within {proxy.timeouts.client_body:g} s"),
                           status=408) from None
        except RequestPayloadError:
            raise _bad("the body could not be read as sent") from None
        encoding = self.request.headers.get("Content-Encoding")
        if encoding:
            try:
                raw = decode_body(raw, encoding, int(proxy.max_body_mb * MB))
            except BodyEncodingError as exc:
                raise _Refused(ErrorInfo(exc.status, "invalid_request", exc.message),
                               status=exc.status) from None
        return raw

    def _fields(self, raw: bytes) -> tuple[str | None, object, bool]:
        """(model, size, stream) from a JSON body or, for an edit, a multipart form."""
        content_type = self.request.headers.get("Content-Type", "")
        if self.kind == "edits" and not content_type.lower().startswith("application/json"):
            try:
                form = self.form = Form.parse(raw, content_type)
                if not form.files():
                    raise _bad("the form has no image: send it as a file field 'image' "
                               "(or 'image[]' for several)", param="image")
                model, size = form.value("model"), form.value("size")
                stream = (form.value("stream") or "").strip().lower() == "true"
            except FormError as exc:
                raise _bad(f"an image edit must be a multipart/form-data body (or JSON): "
                           f"{exc}") from None
            return model, size, stream
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise _bad(f"the body is not valid JSON ({type(exc).__name__})") from None
        if not isinstance(body, dict):
            raise _bad("the body must be a JSON object")
        self.json = body
        model, stream = body.get("model"), body.get("stream", False)
        if model is not None and not isinstance(model, str):
            raise _bad("'model' must be a string", param="model")
        if stream not in (True, False, None):
            raise _bad("'stream' must be true or false", param="stream")
        return model, body.get("size"), bool(stream)

    def _route(self, model: str | None) -> tuple[str, str, str]:
        settings = self.state.settings
        self.row["requested_model"] = model
        if not model or not model.strip():
            try:  # the first image model of the default provider (or any)
                name, first = catalog.choose(settings)
            except ByecoreError:
                raise _bad("'model' is required: no saved provider lists an image model to "
                           "use instead", param="model") from None
            log.info("images: no model in the request; sent %s to %s", first, name)
            return name, first, "first image model"
        try:
            return catalog.route(settings, model)
        except NotFound as exc:
            raise _Refused(ErrorInfo(404, "not_found", exc.message)) from None

    def _sizing(self, size: object, table: catalog.SizeTable, model: str) -> dict:
        images = self.state.settings.proxy.images
        if size is None or (isinstance(size, str) and catalog.normalise(size)
                            in ("", catalog.AUTO)):
            if not images.fill_missing:
                return {}
            chosen = images.default_size
            if table.known and table.get(chosen) is None:
                chosen = table.cheapest().size  # the default is not one of this model's
            billed = table.missing_price()
            log.info("images: %s sent %s for %s; sent size %s instead ([proxy.images] "
                     "default_size)%s", self.row["client"],
                     "no size" if size is None else f"size {str(size)[:20]!r}", model,
                     chosen, f", not the {billed} billed without one" if billed else "")
            return {"size": chosen}
        if not isinstance(size, str):
            raise _bad("'size' must be a string such as '1024x1024'", param="size")
        found = table.get(size)
        if table.known and found is None and images.refuse_unlisted:
            raise _bad(table.unsupported(size), param="size")
        if found is not None and found.size != size:
            return {"size": found.size}  # ' 1024X1024' → '1024x1024'
        return {}

    @staticmethod
    def _price(table: catalog.SizeTable, size: object) -> float | None:
        found = table.get(size) if isinstance(size, str) else None
        if found is not None:
            return found.price
        tier = table.data.missing_size_tier if table.data else None
        return table.data.tiers[tier].price if tier else None  # what it is billed as

    def _body(self, changes: dict) -> bytes:
        if self.form is not None:
            return self.form.changed(changes)
        self.json.update(changes)
        return json.dumps(self.json, ensure_ascii=False).encode("utf-8")

    # -- the upstream ------------------------------------------------------------------

    async def _forward(self, provider, name: str, body: bytes,
                       stream: bool) -> web.StreamResponse:
        proxy = self.state.settings.proxy
        headers = upstream_headers(provider, "chat", self.request.headers, stream=stream)
        if self.form is not None:  # the same boundary: only field values were spliced
            headers["Content-Type"] = self.request.headers["Content-Type"]
        url = openai_base(provider.base_url, provider.openai_path) + "/images/" + self.kind
        key = provider.resolve_key()
        try:
            upstream = await open_upstream(self.state.session, url, body, headers,
                                           proxy.timeouts.first_byte)
        except FirstByteTimeout as exc:
            return self._failed(ErrorInfo(504, "timeout", f"{name}: {exc}"))
        except (aiohttp.ClientError, OSError) as exc:
            return self._failed(ErrorInfo(502, "api_error", f"{name} could not be reached "
                                          f"at {shown_url(url)} ({type(exc).__name__})"))
        try:
            self.ttfb = time.monotonic()
            kept = response_headers(upstream.headers)
            kind = upstream.headers.get("Content-Type", "")
            if upstream.status < 400 and kind.startswith("text/event-stream"):
                return await self._relay(upstream, kept, key, name)
            try:
                answer = await read_capped(upstream, proxy.timeouts.idle,
                                           int(proxy.max_answer_mb * MB))
            except AnswerTooBig:
                return self._failed(ErrorInfo(502, "api_error", (
                    f"{name}'s answer is over {proxy.max_answer_mb:g} MB: refused (raise "
                    "[proxy] max_answer_mb in byecore's settings, or ask for fewer images)")))
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                return self._failed(ErrorInfo(502, "api_error", f"{name}: the answer broke "
                                              f"off ({type(exc).__name__})"))
            answer = redact(answer, key)
            payload = _object(answer)
            if payload is None:
                return self._failed(ErrorInfo(502, "api_error", (
                    f"{name} answered HTTP {upstream.status} with something other than "
                    f"JSON{snippet(answer)}")))
            self.row["status"] = upstream.status
            if upstream.status < 300:
                data = payload.get("data")
                self._count(len(data) if isinstance(data, list) else 0, payload.get("usage"))
            return web.Response(body=answer, status=upstream.status, headers={
                **kept, "Content-Type": "application/json"})
        finally:
            if upstream.content.at_eof():
                upstream.release()  # back to the pool
            else:
                upstream.close()

    async def _relay(self, upstream, kept: dict, key: str | None,
                     name: str) -> web.StreamResponse:
        """Whole events, as they come; the completed ones counted for the usage row."""
        proxy = self.state.settings.proxy
        sink = await streaming.open_sink(self.request, "chat", kept, key)
        self.row["status"] = 200
        watchdog = Watchdog(upstream, idle=proxy.timeouts.idle, keepalive=proxy.keepalive,
                            ping=sink.ping)
        decoder, pending, images, usage = SSEDecoder(), b"", 0, None
        cap = int(proxy.max_answer_mb * MB)
        try:
            while True:
                try:
                    chunk = await upstream.content.readany()
                except (aiohttp.ClientError, OSError) as exc:
                    reason = (f"no data for {proxy.timeouts.idle:g} s" if watchdog.expired
                              else f"the stream broke ({type(exc).__name__})")
                    raise streaming.UpstreamBroke(ErrorInfo(502, "api_error",
                                                            f"{name}: {reason}")) from None
                watchdog.touch()
                if not chunk:
                    if watchdog.expired:  # closed by the watchdog: not a clean end
                        raise streaming.UpstreamBroke(ErrorInfo(502, "api_error", (
                            f"{name}: no data for {proxy.timeouts.idle:g} s")))
                    break
                pending += chunk
                for event in decoder.feed(chunk):
                    done, usage = _event(event.data, usage)
                    images += done
                end = last_event_end(pending)
                if end:
                    await sink.write(pending[:end])
                    pending = pending[end:]
                elif len(pending) > cap:
                    raise streaming.UpstreamBroke(ErrorInfo(502, "api_error", (
                        f"{name}: one event over {proxy.max_answer_mb:g} MB")))
            if pending:
                await sink.write(pending)
        except streaming.UpstreamBroke as exc:
            self.row["status"] = exc.info.status
            with contextlib.suppress(streaming.ClientGone):
                await sink.write(codecs.get("chat").encode_stream_error(exc.info))
        except streaming.ClientGone:
            self.row["status"] = 499
        finally:
            watchdog.stop()
            self._count(images, usage)
        await sink.close()
        return sink.response

    def _count(self, images: int, usage) -> None:
        self.row["images"] = images
        price = self.price
        self.row["cost_usd"] = None if price is None else round(price * images, 6)
        if isinstance(usage, dict):
            self.row["usage"] = Usage(input_tokens=_int(usage.get("input_tokens")),
                                      output_tokens=_int(usage.get("output_tokens")))

    # -- answers that are not the upstream's ---------------------------------------------

    def _failed(self, info: ErrorInfo) -> web.Response:
        self.row["status"] = info.status
        return error_response("chat", info)

    def _refuse(self, refused: _Refused) -> web.Response:
        answer = error_response("chat", refused.info)
        if refused.status is not None:
            answer.set_status(refused.status)
        self.row["status"] = answer.status
        budget = self.state.extra.get(REFUSALS)
        if budget is None:
            budget = self.state.extra[REFUSALS] = RefusalBudget()
        self.logged = budget.allow(self.row["client"], answer.status)
        return answer

    def log(self) -> None:
        if self.state.usage is None or not self.logged:
            return
        started = self.request.get(STARTED) or time.monotonic()
        done = time.monotonic()
        self.row.setdefault("status", 499)  # cancelled: the client went away
        self.row["ts"] = time.time()
        self.row["latency_ms"] = round((done - started) * 1000, 2)
        self.row["ttfb_ms"] = round(((self.ttfb or done) - started) * 1000, 2)
        self.state.usage.record(self.row)


def _event(data: str, usage):
    """(1 for an ``….completed`` event else 0, the usage seen so far)."""
    try:
        payload = json.loads(data)
    except ValueError:
        return 0, usage
    if not isinstance(payload, dict) or not str(payload.get("type", "")).endswith(".completed"):
        return 0, usage
    found = payload.get("usage")
    if isinstance(found, dict) and isinstance(usage, dict):  # n > 1: one event per image
        found = {k: _int(found.get(k)) + _int(usage.get(k))
                 for k in ("input_tokens", "output_tokens")}
    return 1, found if isinstance(found, dict) else usage


def _int(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _object(body: bytes) -> dict | None:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
