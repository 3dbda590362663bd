"""``POST /v1/messages/count_tokens``: the upstream's count where it has one, else an estimate."""

from __future__ import annotations

import json
import logging

from aiohttp import web

from byecore_cli.errors import NotFound
from byecore_cli.hub import ErrorInfo
from byecore_cli.proxy.app import STATE
from byecore_cli.proxy.pipeline import error_response, rewrite_model

log = logging.getLogger("byecore.proxy")


async def count_tokens(request: web.Request, call) -> web.StreamResponse:
    """Forwarded to a Messages upstream when the route has one; else a local estimate.

    The estimate: UTF-8 bytes of the JSON of ``system``, ``messages`` and ``tools``
    (images left out) divided by 4, plus 1,600 tokens per image — the size of a large
    image in Anthropic's own accounting. Good enough for context bars, not for billing.
    ``call``: the request after auth and body checks (routes.py).
    """
    state = request.app[STATE]
    try:
        target = state.router.route(call.model, "messages")[0]
    except NotFound as exc:
        return error_response("messages", ErrorInfo(404, "not_found", exc.message))
    if target.config is not None and target.protocol == "messages":
        from byecore_cli.proxy.upstream import response_headers, upstream_headers

        headers = upstream_headers(target.config, "messages", request.headers, stream=False)
        url = target.config.url("messages") + "/count_tokens"
        try:
            async with state.session.post(url, data=rewrite_model(call.raw, call.model,
                                                                  target.model),
                                          headers=headers) as upstream:
                body = await upstream.read()
                if upstream.status < 500:
                    return web.Response(body=body, status=upstream.status, headers={
                        **response_headers(upstream.headers),
                        "Content-Type": "application/json"})
        except Exception as exc:  # fall back to the estimate
            log.warning("count_tokens at %s failed (%s); estimating", target.provider,
                        type(exc).__name__)
    return web.json_response({"input_tokens": estimate_tokens(call.body)})


def estimate_tokens(body: dict) -> int:
    images = 0

    def strip(value):
        nonlocal images
        if isinstance(value, dict):
            if value.get("type") == "image":
                images += 1
                return None
            return {k: strip(v) for k, v in value.items()}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    parts = {k: strip(body.get(k)) for k in ("system", "messages", "tools") if body.get(k)}
    size = len(json.dumps(parts, ensure_ascii=False).encode()) if parts else 0
    return max(1, size // 4 + 1600 * images)
