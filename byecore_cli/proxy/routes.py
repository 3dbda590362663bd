"""Every endpoint the proxy serves, under ``/v1``, without it, and under a doubled ``/v1/v1``.

Clients disagree on whether a base URL ends in ``/v1``, so each path answers at all three
forms; query strings (Claude Code's ``?beta=true``) are ignored. The Gemini API lives
under ``/v1beta`` (and ``/v1``), with the model and the method in the path
(``models/{model}:generateContent``); see ``gemini_call``. Inference endpoints
check the local key, read the body (at most ``max_body_mb``), and hand over to the
pipeline; every error is in the client's protocol, never a bare 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from urllib.parse import unquote

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from byecore_cli.codecs.gemini import listing
from byecore_cli.errors import NotFound
from byecore_cli.hub import ErrorInfo
from byecore_cli.proxy import images, tokens
from byecore_cli.proxy.app import MB, STATE
from byecore_cli.proxy.call import TOO_DEEP, Call
from byecore_cli.proxy.encoding import BodyEncodingError, decode_body
from byecore_cli.proxy.guard import STARTED, UNKNOWN_CLIENT, path_hint, protocol_of, refuse
from byecore_cli.proxy.pipeline import Pipeline, error_response
from byecore_cli.proxy.router import detect_signals

log = logging.getLogger("byecore.proxy")
PREFIXES = ("/v1", "", "/v1/v1")
GEMINI_PREFIXES = ("/v1beta", "/v1")
NO_KEY = ("missing or unknown byecore local key: send it as 'Authorization: Bearer KEY' "
          "or 'x-api-key: KEY' (see it with: byecore proxy --show-key)")
NO_GEMINI_KEY = ("missing or unknown byecore local key: send it as 'x-goog-api-key: KEY', "
                 "'?key=KEY' or 'Authorization: Bearer KEY' (see it with: byecore proxy "
                 "--show-key)")


def setup_routes(app: web.Application) -> None:
    for prefix in PREFIXES:
        app.router.add_post(prefix + "/chat/completions", _inference("chat"))
        app.router.add_post(prefix + "/responses", _inference("responses"))
        app.router.add_get(prefix + "/responses", upgrade_refused)
        app.router.add_post(prefix + "/messages", _inference("messages"))
        app.router.add_post(prefix + "/messages/count_tokens", count_tokens)
        app.router.add_get(prefix + "/models", models)
    app.router.add_get("/v1beta/models", models)
    for prefix in GEMINI_PREFIXES:
        app.router.add_post(prefix + "/models/{target:.+}", gemini_call)
        app.router.add_get(prefix + "/models/{target:.+}", gemini_model)
    images.add_routes(app)  # /v1/images/generations and /v1/images/edits
    app.router.add_get("/health", health)
    app.router.add_get("/", health)
    app.router.add_route("*", "/api/hello", hello)


async def health(request: web.Request) -> web.Response:
    # answered without a key: says it is alive, nothing about what is configured
    return web.json_response({"status": "ok", "service": "byecore proxy"})


async def hello(request: web.Request) -> web.Response:
    return web.Response(status=200)  # Claude Code's connection-warming probe


async def upgrade_refused(request: web.Request) -> web.Response:
    # Codex tries a WebSocket first for some providers; 426 makes it fall back to HTTP at once.
    answer = error_response("responses", ErrorInfo(
        400, "invalid_request", "byecore's proxy serves Responses over HTTP POST only: "
        "use POST /v1/responses"))
    answer.set_status(426)
    return answer


async def _begin(request: web.Request, inbound: str, url_fields: dict | None = None):
    """Auth, body, JSON: a ``Call`` or the error response to send instead.

    ``url_fields``: what the path says and the body does not (Gemini's model and stream),
    put into the body before it is checked, as the Gemini codec expects."""
    request[STARTED] = time.monotonic()
    state = request.app[STATE]
    client = state.keys.client(request.headers, request.query)
    if client is None:
        return refuse(request, inbound, ErrorInfo(
            401, "authentication", NO_GEMINI_KEY if inbound == "gemini" else NO_KEY),
            client=UNKNOWN_CLIENT)

    def bad(message: str, param: str | None = None, model: str | None = None):
        return refuse(request, inbound, ErrorInfo(400, "invalid_request", message, param=param),
                      client=client, model=model)

    wait = state.settings.proxy.timeouts.client_body
    try:
        raw = await asyncio.wait_for(request.read(), wait)
    except web.HTTPRequestEntityTooLarge:
        limit = state.settings.proxy.max_body_mb
        return refuse(request, inbound, ErrorInfo(
            413, "request_too_large",
            f"the request body is over the proxy's {limit:g} MB limit "
            "(raise [proxy] max_body_mb in byecore's settings)"), client=client)
    except TimeoutError:
        answer = refuse(request, inbound, ErrorInfo(
            400, "invalid_request",
            f"the request body did not arrive in full within {wait:g} s "
            "([proxy.timeouts] client_body in byecore's settings)"), client=client, status=408)
        answer.force_close()  # the rest of the body may still be on its way
        return answer
    except ConnectionResetError:  # the client left while sending: no one to answer
        answer = refuse(request, inbound, ErrorInfo(
            400, "invalid_request", "the client closed the connection while sending its "
            "body"), client=client, status=499)
        answer.force_close()
        return answer
    except RequestPayloadError as exc:  # its framing (chunked, length); encodings: below
        reason = getattr(exc.__cause__, "message", None) or " ".join(str(exc).split())
        answer = bad(f"the body could not be read as sent ({reason})")
        answer.force_close()  # aiohttp's parser gave up on this connection
        return answer
    encoding = request.headers.get("Content-Encoding")
    if encoding:
        try:
            raw = decode_body(raw, encoding, int(state.settings.proxy.max_body_mb * MB))
        except BodyEncodingError as exc:
            info = ErrorInfo(exc.status, "request_too_large" if exc.status == 413
                             else "invalid_request", exc.message)
            return refuse(request, inbound, info, client=client, status=exc.status)
    try:
        # strict UTF-8 (json.loads of bytes would let encoded surrogates through)
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return bad(f"the body is not valid UTF-8 (byte {exc.start}: {exc.reason})")
    except RecursionError:
        return bad(TOO_DEEP)
    except ValueError as exc:
        return bad(f"the body is not valid JSON ({exc})")
    if not isinstance(body, dict):
        return bad("the body must be a JSON object")
    if has_lone_surrogate(raw, body):
        return bad("a string in the body holds an unpaired UTF-16 surrogate escape (\\ud800 to "
                   "\\udfff without its pair), which is not valid Unicode: escape the whole "
                   "character as its surrogate pair, or send it as UTF-8")
    if url_fields:
        body.update(url_fields)
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        return bad("'model' must be a non-empty string", param="model")
    stream = body.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        return bad("'stream' must be true or false", param="stream", model=model)
    return Call(inbound=inbound, raw=raw, body=body, model=model, stream=stream,
                client=client, headers=request.headers)


# The escape of a surrogate (the half of a UTF-16 pair), high (d800-dbff) or low.
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def has_lone_surrogate(raw: bytes, body: dict) -> bool:
    """``"\\ud800"`` parses to a string that cannot be encoded again. A body whose
    surrogate escapes (one regex scan, at C speed) all come as a high one right before a
    low one (emoji, from clients that escape all but ASCII) is fine; only a body with an
    odd one is encoded again to be sure (``\\\\ud800`` is text, not an escape)."""
    pending = -1  # where a high one ended, waiting for its low one
    for escape in _SURROGATE.finditer(raw):
        at = escape.start()
        if raw[at - 1:at] == b"\\":  # maybe an escaped backslash, then text
            break
        if pending >= 0 and at != pending:  # a high one, then something else
            break
        low = raw[at + 3] in b"cdefCDEF"
        if low != (at == pending):  # a low one without its high one, or high after high
            break
        pending = -1 if low else at + 6
    else:
        if pending < 0:
            return False
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    except RecursionError:  # deeper than the codecs take: not for this check to say
        return False
    return False


def _inference(inbound: str):
    async def handler(request: web.Request) -> web.StreamResponse:
        request.app[STATE].refresh()
        call = await _begin(request, inbound)
        if isinstance(call, web.StreamResponse):
            return call
        return await _serve(request, call)

    handler.__name__ = f"{inbound}_handler"
    return handler


async def _serve(request: web.Request, call: Call) -> web.StreamResponse:
    """Route a checked call and answer it through the pipeline."""
    state, inbound = request.app[STATE], call.inbound
    signals = detect_signals(inbound, call.body, request.headers, len(call.raw),
                             state.settings.proxy.long_context_tokens)
    try:
        chain = state.router.route(call.model, inbound, signals)
    except NotFound as exc:
        # Codex retries a 404 five times; a 400 tells it at once (protocols.md C5).
        status = 400 if inbound == "responses" else 404
        return refuse(request, inbound, ErrorInfo(status, "not_found", exc.message),
                      client=call.client, model=call.model)
    try:
        return await Pipeline(state, request, call).run(chain)
    except Exception as exc:  # a bug must still answer in the client's protocol
        log.exception("internal error on %s", request.path)
        return error_response(inbound, ErrorInfo(
            500, "api_error", f"byecore internal error ({type(exc).__name__})"))


async def count_tokens(request: web.Request) -> web.StreamResponse:
    request.app[STATE].refresh()  # route by the settings as saved, like every other call
    call = await _begin(request, "messages")
    if isinstance(call, web.StreamResponse):
        return call
    return await tokens.count_tokens(request, call)


async def models(request: web.Request) -> web.Response:
    """The routable models, in the Anthropic list shape for Anthropic clients, else OpenAI's."""
    state = request.app[STATE]
    state.refresh()
    protocol = protocol_of(request)
    if state.keys.client(request.headers, request.query) is None:
        return refuse(request, protocol, ErrorInfo(401, "authentication",
                                                   "missing or unknown byecore local key"),
                      client=UNKNOWN_CLIENT)
    names = state.router.models()
    if protocol == "gemini":
        return web.json_response(listing.encode_model_list(names))
    if protocol == "messages":
        data = [{"type": "model", "id": n, "display_name": n,
                 "created_at": "2025-01-01T00:00:00Z"} for n in names]
        return web.json_response({"data": data, "has_more": False,
                                  "first_id": names[0] if names else None,
                                  "last_id": names[-1] if names else None})
    return web.json_response({"object": "list", "data": [
        {"id": n, "object": "model", "created": 0, "owned_by": state.router.owner(n)}
        for n in names]})


# -- the Gemini API ------------------------------------------------------------------------

GEMINI_METHODS = {"generateContent": False, "streamGenerateContent": True,
                  "countTokens": False}


def _gemini_target(request: web.Request) -> tuple[str, str]:
    """``models/{model}:{method}`` → (model, method). The model may be URL-escaped, carry
    its own ``models/`` prefix, a ``provider/`` part and colons (``qwen3:8b``)."""
    name, colon, method = request.match_info["target"].rpartition(":")
    if not colon:
        name, method = method, ""
    return unquote(name).removeprefix("models/"), method


async def gemini_call(request: web.Request) -> web.StreamResponse:
    """``POST …/models/{model}:generateContent``, ``:streamGenerateContent?alt=sse``,
    ``:countTokens``."""
    request.app[STATE].refresh()
    model, method = _gemini_target(request)
    if method not in GEMINI_METHODS:
        request[STARTED] = time.monotonic()
        protocol = protocol_of(request)  # /v1/models/x/ is no Gemini call
        return refuse(request, protocol, ErrorInfo(404, "not_found", path_hint(request.path)))
    stream = GEMINI_METHODS[method]
    call = await _begin(request, "gemini", {"model": model, "stream": stream})
    if isinstance(call, web.StreamResponse):
        return call
    if stream and request.query.get("alt", "").lower() != "sse":
        # Without alt=sse Google streams one JSON array; every SDK and Gemini CLI ask SSE.
        return refuse(request, "gemini", ErrorInfo(
            400, "invalid_request", "byecore's proxy streams Gemini answers as server-sent "
            "events only: add ?alt=sse to :streamGenerateContent"),
            client=call.client, model=model)
    if method == "countTokens":
        return await tokens.count_gemini(request, call)
    return await _serve(request, call)


async def gemini_model(request: web.Request) -> web.Response:
    """``GET /v1beta/models/{model}`` (google-genai asks it under ``/v1``): the entry
    ``GET /v1beta/models`` would list for it."""
    state = request.app[STATE]
    state.refresh()
    protocol = protocol_of(request)
    if protocol != "gemini":  # GET /v1/models/{id} from an OpenAI client: not served
        return refuse(request, protocol, ErrorInfo(404, "not_found", path_hint(request.path)))
    if state.keys.client(request.headers, request.query) is None:
        return refuse(request, "gemini", ErrorInfo(401, "authentication", NO_GEMINI_KEY),
                      client=UNKNOWN_CLIENT)
    model, method = _gemini_target(request)
    if method in GEMINI_METHODS:  # a generation method, asked with the wrong verb
        answer = refuse(request, "gemini", ErrorInfo(
            400, "invalid_request", f"GET is not served at {request.path[:200]}: use POST"),
            status=405)
        answer.headers["Allow"] = "POST"
        return answer
    if method:
        model = f"{model}:{method}"  # a colon of the model's own (qwen3:8b)
    try:
        state.router.route(model, "gemini")
    except NotFound as exc:
        return refuse(request, "gemini", ErrorInfo(404, "not_found", exc.message),
                      model=model)
    return web.json_response(listing.encode_model_list([model])["models"][0])
