"""``POST /v1/messages/count_tokens``: the upstream's count where it has one, else an estimate.

Forwarded to a Messages upstream through the same layer as every other request
(upstream.py: environment proxies, first-byte deadline; an idle deadline on the body);
any failure to get a count — a 404 (many gateways have no such endpoint), a 5xx, an
answer that is not a count, a timeout, no connection — falls back to the local
estimate, since a client asks only to size its context. A 4xx other than 404 says the
request itself is refused (a bad key, a bad body): it reaches the client, in the
Anthropic error shape, with the provider's key masked out of it.
"""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web

from byecore_cli import codecs
from byecore_cli.codecs.base import CodecError
from byecore_cli.codecs.gemini import listing
from byecore_cli.errors import NotFound
from byecore_cli.hub import ErrorInfo
from byecore_cli.providers.keys import redact
from byecore_cli.proxy.app import STATE
from byecore_cli.proxy.guard import refuse
from byecore_cli.proxy.pipeline import error_response, rewrite_model
from byecore_cli.proxy.upstream import (
    open_upstream,
    read_capped,
    response_headers,
    upstream_headers,
)

log = logging.getLogger("byecore.proxy")
# A count takes the upstream milliseconds, and the estimate is always at hand: a client
# is not kept waiting the whole first-byte deadline for one.
COUNT_WAIT = 30.0
MAX_COUNT_ANSWER = 1 << 20  # a count is a few bytes; an error page may be a few KB
IMAGE_TOKENS = 1600  # a large image in Anthropic's own accounting


async def count_tokens(request: web.Request, call) -> web.StreamResponse:
    """The upstream's count when the route's first target speaks Messages, else an estimate.

    ``call``: the request after auth and body checks (routes.py).
    """
    state = request.app[STATE]
    try:
        target = state.router.route(call.model, "messages")[0]
    except NotFound as exc:
        return error_response("messages", ErrorInfo(404, "not_found", exc.message))
    if (target.config is not None and target.protocol == "messages"
            and target.provider not in state.no_count_tokens):
        answer = await _ask_upstream(state, target, call, request.headers)
        if answer is not None:
            return answer
    try:
        call.check_depth()  # refused here as the codecs refuse it; an upstream counts bytes
    except CodecError as exc:
        return refuse(request, "messages", exc.info(), client=call.client, model=call.model)
    return web.json_response({"input_tokens": estimate_tokens(call.body)})


async def _ask_upstream(state, target, call, client_headers) -> web.Response | None:
    """The upstream's answer worth passing on, or None to estimate instead."""
    provider = target.config
    key = provider.resolve_key()
    timeouts = state.settings.proxy.timeouts
    url = provider.url("messages") + "/count_tokens"
    headers = upstream_headers(provider, "messages", client_headers, stream=False)
    data = rewrite_model(call.raw, call.model, target.model)
    try:
        upstream = await open_upstream(state.session, url, data, headers,
                                       min(timeouts.first_byte, COUNT_WAIT))
    except Exception as exc:  # unreachable, too slow, a URL aiohttp refuses: estimate
        _note(target.provider, exc, key)
        return None
    try:
        body = await read_capped(upstream, timeouts.idle, MAX_COUNT_ANSWER)
    except Exception as exc:
        _note(target.provider, exc, key)
        return None
    finally:
        if upstream.content.at_eof():
            upstream.release()  # back to the pool
        else:
            upstream.close()
    status = upstream.status
    if status == 404:  # no count_tokens there: do not ask again until settings change
        log.info("%s has no count_tokens endpoint; estimating counts locally",
                 target.provider)
        state.no_count_tokens.add(target.provider)
        return None
    if status >= 500 or (status < 400 and not _is_count(body)):
        log.warning("count_tokens at %s answered HTTP %s%s; estimating", target.provider,
                    status, "" if status >= 400 else " without a count")
        return None
    kept = response_headers(upstream.headers)
    if status < 400:
        return web.Response(body=redact(body, key), status=status,
                            headers={**kept, "Content-Type": "application/json"})
    messages = codecs.get("messages")
    info = messages.decode_error(status, redact(body, key))
    info.message = redact(info.message, key)
    _, shaped, extra = messages.encode_error(info)
    return web.json_response(shaped, status=status, headers={**kept, **extra})


def _is_count(body: bytes) -> bool:
    try:
        data = json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        return False
    count = data.get("input_tokens") if isinstance(data, dict) else None
    return isinstance(count, int) and not isinstance(count, bool) and count >= 0


def _note(provider: str, exc: Exception, key: str | None) -> None:
    reason = "no answer in time" if isinstance(exc, asyncio.TimeoutError) else \
        f"{type(exc).__name__}: {exc}"
    log.warning("count_tokens at %s failed (%s); estimating", provider, redact(reason, key))


# What a Gemini ``:countTokens`` body counts: its own fields, or a whole request inside.
GEMINI_FIELDS = ("contents", "systemInstruction", "system_instruction", "tools",
                 "generateContentRequest", "generate_content_request")
# A Gemini part carrying media (its base64 would otherwise count as text).
_GEMINI_MEDIA = ("inlineData", "inline_data", "fileData", "file_data")


async def count_gemini(request: web.Request, call) -> web.StreamResponse:
    """``POST /v1beta/models/{model}:countTokens``: always the local estimate (no upstream
    speaks Gemini yet), once the body has passed the Gemini codec's checks."""
    state = request.app[STATE]
    try:
        state.router.route(call.model, "gemini")
    except NotFound as exc:
        return refuse(request, "gemini", ErrorInfo(404, "not_found", exc.message),
                      client=call.client, model=call.model)
    try:
        call.check_depth()
        listing.decode_count_request(call.body)
    except CodecError as exc:
        return refuse(request, "gemini", exc.info(), client=call.client, model=call.model)
    return web.json_response(listing.encode_count_response(
        estimate_tokens(call.body, GEMINI_FIELDS)))


def estimate_tokens(body: dict, fields=("system", "messages", "tools")) -> int:
    """UTF-8 bytes of the JSON of ``fields`` (images left out) divided by 4, plus
    ``IMAGE_TOKENS`` per image. Good enough for context bars, not for billing. Walks any
    JSON with a stack of its own, so no nesting can overflow it."""
    size, images = 0, 0
    stack = [body.get(k) for k in fields if body.get(k)]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if value.get("type") == "image" or any(k in value for k in _GEMINI_MEDIA):
                images += 1
                continue
            size += 2 + 4 * len(value)  # braces; per member: quotes, colon, comma
            for name, item in value.items():
                size += _text_size(name)
                stack.append(item)
        elif isinstance(value, list):
            size += 2 + len(value)  # brackets, commas
            stack.extend(value)
        elif isinstance(value, str):
            size += 2 + _text_size(value)
        else:
            size += len(str(value))  # numbers, true/false/null: near enough
    return max(1, size // 4 + IMAGE_TOKENS * images)


def _text_size(text) -> int:
    if not isinstance(text, str):
        return len(str(text))
    return len(text.encode("utf-8", "surrogatepass"))
