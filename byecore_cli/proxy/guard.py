"""What every request must pass before any handler sees it.

One aiohttp middleware, so that no route, known or unknown, answers in aiohttp's own
plain-text shape:

- **Host**: loopback names, and ``[proxy] allowed_hosts``; when the proxy listens
  beyond loopback (``--host 0.0.0.0``), also the address the connection came in on and
  the machine's own host name. A web page that rebinds its own DNS name to 127.0.0.1
  sends its own name as Host, so this stops DNS rebinding even with ``--open``.
- **Origin**: a request a browser sends for a foreign web page carries that page's
  origin; it is refused, key or not, unless ``[proxy] allowed_origins`` names it. That
  also stops "simple" cross-origin POSTs (``text/plain``) that browsers send without
  asking first.
- **unknown paths and wrong methods**: 404/405 in the protocol the path implies, with
  the path or method that would have worked.

Every refusal made before routing, here or in routes.py, goes into the usage log with
``refuse()``, so a client with a wrong key shows up in ``byecore usage``; a flood of
them (any web page can POST to loopback in a loop) is thinned by ``RefusalBudget``.

Cost on the hot path: two header look-ups and one dict look-up per request; anything
else runs only for a Host seen for the first time or a request being refused.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import math
import socket
import time
from urllib.parse import urlsplit

from aiohttp import web

from byecore_cli import codecs
from byecore_cli.config.models import origin_key
from byecore_cli.hub import ErrorInfo
from byecore_cli.proxy.app import STATE
from byecore_cli.proxy.auth import is_loopback
from byecore_cli.proxy.pipeline import error_response

log = logging.getLogger("byecore.proxy")
UNKNOWN_CLIENT = "unknown"
STARTED = web.RequestKey("byecore_started", float)  # when routes.py began reading a request
_CACHE = "accepted_hosts"  # ProxyState.extra: (settings, {Host value: name}, origins)
REFUSALS = "refusal_budget"  # ProxyState.extra: the RefusalBudget
_CACHE_SIZE = 64
# path without the /v1 prefix → the methods it answers, and the protocol it speaks
ENDPOINTS = {
    "/chat/completions": ("POST", "chat"),
    "/responses": ("POST", "responses"),
    "/messages": ("POST", "messages"),
    "/messages/count_tokens": ("POST", "messages"),
    "/models": ("GET", None),
    "/images/generations": ("POST", "chat"),  # the OpenAI Images API (proxy/images.py)
    "/images/edits": ("POST", "chat"),
}
# The Gemini API, under /v1beta (and /v1): the model and the method are in the path.
GEMINI_ENDPOINTS = ("POST /v1beta/models/{model}:generateContent",
                    "POST /v1beta/models/{model}:streamGenerateContent?alt=sse",
                    "POST /v1beta/models/{model}:countTokens", "GET /v1beta/models")


@web.middleware
async def guard(request: web.Request, handler) -> web.StreamResponse:
    headers = request.headers
    host = headers.get("Host")
    state = request.app[STATE]
    cache = state.extra.get(_CACHE)
    if cache is None or cache[0] is not state.settings:
        origins = frozenset(map(origin_key, state.settings.proxy.allowed_origins))
        cache = state.extra[_CACHE] = (state.settings, {}, origins)
    name = cache[1].get(host) if host is not None else ""
    if name is None:
        name = await _host_name(request, host, state)
        if name is None:
            return _foreign_host(request, host)
        if len(cache[1]) < _CACHE_SIZE:
            cache[1][host] = name
    origin = headers.get("Origin")
    if origin is not None and not _origin_allowed(origin, name, cache[2],
                                                  state.settings.proxy.allowed_hosts):
        return _foreign_origin(request, origin)
    if request.match_info.http_exception is not None:
        return _no_route(request)
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as exc:  # a bug still answers in the client's protocol…
        if request.writer is not None and request.writer.output_size:
            raise  # …unless its answer is already under way
        log.exception("internal error on %s %s", request.method, request.path)
        return error_response(protocol_of(request), ErrorInfo(
            500, "api_error", f"byecore internal error ({type(exc).__name__})"))


def refuse(request: web.Request, protocol: str, info: ErrorInfo, *,
           client: str | None = None, model: str | None = None,
           status: int | None = None) -> web.Response:
    """The error answer for a request refused before routing, logged in the usage log.

    ``status``: when the protocol's error table has no kind for it (405, 408), the
    honest HTTP status to send anyway.
    """
    answer = error_response(protocol, info)
    if status is not None and answer.status != status:
        if protocol == "gemini":  # its body repeats the HTTP status: the two must agree
            _, body, headers = codecs.get(protocol).encode_error(info)
            body["error"]["code"] = status
            answer = web.json_response(body, status=status, headers=headers)
        else:
            answer.set_status(status)
    state = request.app[STATE]
    if state.usage is not None:
        if client is None:
            client = state.keys.client(request.headers)
        budget = state.extra.get(REFUSALS)
        if budget is None:
            budget = state.extra[REFUSALS] = RefusalBudget()
        if not budget.allow(client or UNKNOWN_CLIENT, answer.status):
            return answer
        state.usage.record({
            "ts": time.time(), "client": client or UNKNOWN_CLIENT, "inbound": protocol,
            "requested_model": model, "status": answer.status, "stream": None,
            "latency_ms": _since(request.get(STARTED))})
    return answer


class RefusalBudget:
    """At most ``rate`` usage rows a second for refusals of one (client, status), after a
    first burst of ``burst``: any web page can POST to loopback in a loop, and each
    refusal would otherwise be a row in usage.db, which would grow without bound.

    The refusals left out are counted and said in a warning: at the first one, then at
    most every ``interval`` seconds, at the next refusal of that kind. Per refusal: one
    dict look-up and a little arithmetic; the table holds at most ``MAX_KINDS`` kinds.
    """

    MAX_KINDS = 256  # clients are local keys plus "unknown", statuses a handful

    def __init__(self, rate: float = 5.0, burst: int = 20, interval: float = 60.0,
                 clock=time.monotonic) -> None:
        self.rate, self.burst, self.interval, self.clock = rate, burst, interval, clock
        self._kinds: dict[tuple[str, int], list] = {}  # → [tokens, when, left out, said]

    def allow(self, client: str, status: int) -> bool:
        """Whether this refusal gets its usage row."""
        now = self.clock()
        kind = self._kinds.get((client, status))
        if kind is None:
            if len(self._kinds) >= self.MAX_KINDS:
                self._kinds.clear()  # costs at most a warning's count
            kind = self._kinds[(client, status)] = [float(self.burst), now, 0, -math.inf]
        tokens = min(float(self.burst), kind[0] + (now - kind[1]) * self.rate)
        allowed = tokens >= 1.0
        kind[0], kind[1] = tokens - allowed, now
        kind[2] += not allowed
        if kind[2] and now - kind[3] >= self.interval:
            log.warning("usage log: left out %d refused requests (client %s, HTTP %d) past "
                        "%g a second; the next such count comes %g s from now at the soonest",
                        kind[2], client, status, self.rate, self.interval)
            kind[2], kind[3] = 0, now
        return allowed


def _since(started: float | None) -> float:
    return 0.0 if started is None else round((time.monotonic() - started) * 1000, 2)


def protocol_of(request: web.Request) -> str:
    """The error shape the path implies, else what the headers (or a Gemini client's
    ``?key=``) suggest."""
    path = request.path.lower()
    if is_gemini_path(path):
        return "gemini"
    if "messages" in path:
        return "messages"
    if "responses" in path:
        return "responses"
    if "chat" in path:
        return "chat"
    if "key" in request.query:
        return "gemini"
    return protocol_of_headers(request.headers)


def is_gemini_path(path: str) -> bool:
    """``/v1beta/…``, or a ``models/{model}:method`` call (served under ``/v1`` too)."""
    return path.startswith("/v1beta") or ("/models/" in path and ":" in path)


def protocol_of_headers(headers) -> str:
    """An Anthropic client says so with its version header or an ``x-api-key`` alone, a
    Gemini client with its ``x-goog-…`` headers."""
    if "x-goog-api-key" in headers or "x-goog-api-client" in headers:
        return "gemini"
    if "anthropic-version" in headers or ("x-api-key" in headers
                                          and "Authorization" not in headers):
        return "messages"
    return "chat"


# -- Host and Origin ---------------------------------------------------------------------

def split_host(value: str) -> str:
    """``'LocalHost:4000'`` → ``'localhost'``, ``'[::1]:4000'`` → ``'::1'``."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else value
    if value.count(":") == 1:
        value = value.partition(":")[0]
    return value.rstrip(".")


def is_loopback_name(name: str) -> bool:
    # RFC 6761: *.localhost is resolved to loopback by the machine itself, never by DNS
    return name.endswith(".localhost") or is_loopback(name.partition("%")[0])


# The unspecified addresses, as users copy them from "listening on 0.0.0.0". Served as a
# Host (and an Origin) wherever the proxy listens: a literal involves no DNS, so no page
# can rebind it; a connection to it never leaves this machine (the OS sends it to a local
# address), so it reaches the proxy only where 127.0.0.1 would too; and a public page
# that targets it ("0.0.0.0 day") still carries its own Origin, refused below.
UNSPECIFIED = frozenset(("0.0.0.0", "::"))


def host_allowed(name: str, value: str, local_address: str | None, own_names,
                 allowed) -> bool:
    """``name``: the Host without its port; ``value``: the Host header as sent."""
    if is_loopback_name(name) or name in UNSPECIFIED:
        return True
    if local_address is not None and name == local_address.partition("%")[0].lower():
        return True  # an address literal of this very connection: no DNS involved
    if name in own_names:
        return True
    return any(entry.strip().lower().rstrip(".") in (name, value.strip().lower())
               for entry in allowed)


@functools.cache
def own_names() -> frozenset[str]:
    """This machine's own host names, as a user on the LAN would type them."""
    names = set()
    for name in (socket.gethostname(), socket.getfqdn()):
        name = name.strip().lower().rstrip(".")
        if name:
            names.update((name, name.partition(".")[0] + ".local"))
    return frozenset(names)


async def _host_name(request: web.Request, host: str, state) -> str | None:
    name = split_host(host)
    local, names = None, frozenset()
    # Listening on loopback, only this machine's clients connect, and they can use a
    # loopback name. Its own names would only serve a LAN attacker who spoofs mDNS for
    # "<hostname>.local" and points it at 127.0.0.1: the page's name then passes as Host.
    if not is_loopback_name(state.listen_host):
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        local = sockname[0] if isinstance(sockname, tuple) and sockname else None
        names = own_names() if own_names.cache_info().currsize else \
            await asyncio.to_thread(own_names)  # getfqdn may ask DNS: not on the loop
    return name if host_allowed(name, host, local, names,
                                state.settings.proxy.allowed_hosts) else None


def _origin_allowed(origin: str, host_name: str, allowed_origins: frozenset,
                    allowed_hosts) -> bool:
    """``allowed_origins``: ``origin_key`` of each ``[proxy] allowed_origins`` entry."""
    if allowed_origins and origin_key(origin) in allowed_origins:
        return True
    try:
        parts = urlsplit(origin.strip())
        name = (parts.hostname or "").rstrip(".")
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not name:
        return False  # "null" (a sandboxed page, a file), an extension's own scheme…
    if is_loopback_name(name) or name in UNSPECIFIED or (host_name and name == host_name):
        return True
    return any(entry.strip().lower().partition(":")[0].rstrip(".") == name
               for entry in allowed_hosts)


def _foreign_origin(request: web.Request, origin: str) -> web.Response:
    shown = origin[:200]
    if origin_key(origin) is None:
        hint = ("Any web page can send that origin (a sandboxed frame, a file), so it cannot "
                "be allowed")
    else:
        hint = ("If this origin is yours (an editor's webview, your own app), add it, exactly "
                f"as sent, to byecore's settings: allowed_origins = [{json.dumps(shown)}] "
                "under [proxy]")
    return refuse(request, protocol_of(request), ErrorInfo(
        403, "permission",
        f"requests from the web page {shown!r} are refused: a web page must not reach "
        f"byecore's proxy. {hint}"))


def _foreign_host(request: web.Request, host: str) -> web.Response:
    name = split_host(host)[:200]
    return refuse(request, protocol_of(request), ErrorInfo(
        403, "permission",
        f"byecore's proxy does not answer to the host name {name!r}: it serves loopback names "
        "(127.0.0.1, localhost, [::1]), and this machine's own addresses and host name when "
        f"it listens beyond loopback (--host 0.0.0.0). If you reach it by {name!r} on "
        f'purpose, add it to byecore\'s settings: allowed_hosts = ["{name}"] under [proxy]'))


# -- unknown paths and wrong methods ------------------------------------------------------

def _no_route(request: web.Request) -> web.Response:
    protocol = protocol_of(request)
    exc = request.match_info.http_exception
    path = request.path
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        answer = refuse(request, protocol, ErrorInfo(
            400, "invalid_request",
            f"{request.method} is not served at {path[:200]}: use {allowed}"), status=405)
        answer.headers["Allow"] = allowed
        return answer
    return refuse(request, protocol, ErrorInfo(404, "not_found", path_hint(path)))


def path_hint(path: str) -> str:
    """What a 404 at ``path`` says: the endpoint meant, or every one served."""
    if is_gemini_path(path.lower()):
        return (f"no endpoint at {path[:200]!r}: byecore's proxy serves the Gemini API at "
                + ", ".join(GEMINI_ENDPOINTS) + " (also under /v1)")
    canonical = "/" + "/".join(p for p in path.lower().split("/") if p)
    for prefix in ("/v1/v1", "/v1"):
        if canonical.startswith(prefix + "/"):
            canonical = canonical[len(prefix):]
            break
    known = ENDPOINTS.get(canonical)
    shown = path[:200]
    if known is not None:
        return f"no endpoint at {shown!r}: did you mean {known[0]} /v1{canonical}?"
    listed = ", ".join(f"{m} /v1{p}" for p, (m, _) in ENDPOINTS.items())
    return (f"no endpoint at {shown!r}: byecore's proxy serves {listed}, GET /health, and "
            "the Gemini API under /v1beta")
