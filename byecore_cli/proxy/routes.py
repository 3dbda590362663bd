"""Every endpoint the proxy serves, under ``/v1``, without it, and under a doubled ``/v1/v1``.

Clients disagree on whether a base URL ends in ``/v1``, so each path answers at all three
forms; query strings (Claude Code's ``?beta=true``) are ignored. Inference endpoints
check the local key, read the body (at most ``max_body_mb``), and hand over to the
pipeline; every error is in the client's protocol, never a bare 500.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web

from byecore_cli.errors import NotFound
from byecore_cli.hub import ErrorInfo
from byecore_cli.proxy import tokens
from byecore_cli.proxy.app import STATE
from byecore_cli.proxy.pipeline import Call, Pipeline, error_response
from byecore_cli.proxy.router import detect_signals

log = logging.getLogger("byecore.proxy")
PREFIXES = ("/v1", "", "/v1/v1")


def setup_routes(app: web.Application) -> None:
    for prefix in PREFIXES:
        app.router.add_post(prefix + "/chat/completions", _inference("chat"))
        app.router.add_post(prefix + "/responses", _inference("responses"))
        app.router.add_get(prefix + "/responses", upgrade_refused)
        app.router.add_post(prefix + "/messages", _inference("messages"))
        app.router.add_post(prefix + "/messages/count_tokens", count_tokens)
        app.router.add_get(prefix + "/models", models)
    app.router.add_get("/health", health)
    app.router.add_get("/", health)
    app.router.add_route("*", "/api/hello", hello)


async def health(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.refresh()
    return web.json_response({"status": "ok", "service": "byecore proxy",
                              "providers": sorted(state.settings.providers) or ["demo"]})


async def hello(request: web.Request) -> web.Response:
    return web.Response(status=200)  # Claude Code's connection-warming probe


async def upgrade_refused(request: web.Request) -> web.Response:
    # Codex tries a WebSocket first for some providers; 426 makes it fall back to HTTP at once.
    return web.Response(status=426, text="use HTTP POST /v1/responses")


def _protocol_for(request: web.Request) -> str:
    """The error shape a client expects from a shared endpoint (models, health)."""
    headers = request.headers
    if "anthropic-version" in headers or ("x-api-key" in headers
                                          and "Authorization" not in headers):
        return "messages"
    return "chat"


async def _begin(request: web.Request, inbound: str):
    """Auth, body, JSON: a ``Call`` or the error response to send instead."""
    state = request.app[STATE]
    client = state.keys.client(request.headers)
    if client is None:
        return error_response(inbound, ErrorInfo(
            401, "authentication",
            "missing or unknown byecore local key: send it as 'Authorization: Bearer KEY' "
            "or 'x-api-key: KEY' (see it with: byecore proxy --show-key)"))
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        limit = state.settings.proxy.max_body_mb
        return error_response(inbound, ErrorInfo(
            413, "request_too_large",
            f"the request body is over the proxy's {limit:g} MB limit "
            "(raise [proxy] max_body_mb in byecore's settings)"))
    try:
        body = json.loads(raw)
    except ValueError as exc:
        return error_response(inbound, ErrorInfo(400, "invalid_request",
                                                 f"the body is not valid JSON ({exc})"))
    if not isinstance(body, dict):
        return error_response(inbound, ErrorInfo(400, "invalid_request",
                                                 "the body must be a JSON object"))
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        return error_response(inbound, ErrorInfo(400, "invalid_request",
                                                 "'model' must be a non-empty string",
                                                 param="model"))
    stream = body.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        return error_response(inbound, ErrorInfo(400, "invalid_request",
                                                 "'stream' must be true or false",
                                                 param="stream"))
    return Call(inbound=inbound, raw=raw, body=body, model=model, stream=stream,
                client=client, headers=request.headers)


def _inference(inbound: str):
    async def handler(request: web.Request) -> web.StreamResponse:
        state = request.app[STATE]
        state.refresh()
        call = await _begin(request, inbound)
        if isinstance(call, web.StreamResponse):
            return call
        signals = detect_signals(inbound, call.body, request.headers, len(call.raw),
                                 state.settings.proxy.long_context_tokens)
        try:
            chain = state.router.route(call.model, inbound, signals)
        except NotFound as exc:
            # Codex retries a 404 five times; a 400 tells it at once (protocols.md C5).
            status = 400 if inbound == "responses" else 404
            return error_response(inbound, ErrorInfo(status, "not_found", exc.message))
        try:
            return await Pipeline(state, request, call).run(chain)
        except Exception as exc:  # a bug must still answer in the client's protocol
            log.exception("internal error on %s", request.path)
            return error_response(inbound, ErrorInfo(
                500, "api_error", f"byecore internal error ({type(exc).__name__})"))

    handler.__name__ = f"{inbound}_handler"
    return handler


async def count_tokens(request: web.Request) -> web.StreamResponse:
    call = await _begin(request, "messages")
    if isinstance(call, web.StreamResponse):
        return call
    return await tokens.count_tokens(request, call)


async def models(request: web.Request) -> web.Response:
    """The routable models, in the Anthropic list shape for Anthropic clients, else OpenAI's."""
    state = request.app[STATE]
    state.refresh()
    protocol = _protocol_for(request)
    if state.keys.client(request.headers) is None:
        return error_response(protocol, ErrorInfo(401, "authentication",
                                                  "missing or unknown byecore local key"))
    names = state.router.models()
    if protocol == "messages":
        data = [{"type": "model", "id": n, "display_name": n,
                 "created_at": "2025-01-01T00:00:00Z"} for n in names]
        return web.json_response({"data": data, "has_more": False,
                                  "first_id": names[0] if names else None,
                                  "last_id": names[-1] if names else None})
    return web.json_response({"object": "list", "data": [
        {"id": n, "object": "model", "created": 0, "owned_by": state.router.owner(n)}
        for n in names]})
