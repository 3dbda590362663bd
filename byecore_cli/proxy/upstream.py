"""Talking to an upstream: which headers go out and come back, timeouts, silence.

Headers out: the provider's own auth only (a client's ``Authorization``/``x-api-key``
never reaches an upstream), no hop-by-hop headers, and ``anthropic-*`` headers only to
Anthropic-protocol upstreams. On the byte pass-through the client's other headers ride
along (upstreams may key on ``user-agent`` or session headers); a translated request
carries none of them, since they belong to another protocol.

Timeouts: ``connect`` (aiohttp's socket connect), ``first_byte`` (until the upstream's
status line and headers), ``idle`` (the longest silence inside a body). Idle and
keep-alive share one timer per stream (``Watchdog``) so a relayed chunk costs one
clock read, not a timer reschedule.

Environment proxies (``HTTPS_PROXY``/``NO_PROXY``) and ``~/.netrc`` apply as with
aiohttp's ``trust_env``, but they are looked up once per upstream URL
(``env_route``) instead of in a worker thread on every request: aiohttp's
``trust_env`` costs two thread-pool round trips per request, a fifth of the
pass-through's CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Mapping

import aiohttp
from multidict import CIMultiDict

from byecore_cli import __version__
from byecore_cli.config.models import Provider, ProxyTimeouts
from byecore_cli.providers.live import ANTHROPIC_VERSION

HOP_BY_HOP = frozenset((
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailer", "trailers", "transfer-encoding", "upgrade", "proxy-connection",
))
# Never forwarded upstream: hop-by-hop, client credentials, what aiohttp sets itself.
_DROP_OUT = HOP_BY_HOP | {
    "authorization", "x-api-key", "api-key", "cookie", "host", "content-length",
    "content-encoding", "accept-encoding", "x-forwarded-for", "x-forwarded-host",
    "x-forwarded-proto", "forwarded", "x-real-ip",
}
# Response headers that may go back to the client: the rest describe the upstream hop.
_KEEP_BACK = frozenset((
    "retry-after", "retry-after-ms", "x-should-retry", "request-id",
    "x-request-id", "openai-processing-ms",
))
_KEEP_BACK_PREFIXES = ("anthropic-ratelimit-", "x-ratelimit-")
USER_AGENT = f"byecore/{__version__}"


def upstream_headers(provider: Provider, protocol: str, client: Mapping[str, str] | None,
                     *, stream: bool) -> CIMultiDict:
    """Headers for a request to ``provider`` in ``protocol``.

    ``client`` is the client's headers on the pass-through (None when translating).
    """
    out: CIMultiDict = CIMultiDict()
    anthropic = protocol == "messages"
    if client is not None:
        for name, value in client.items():
            low = name.lower()
            if low in _DROP_OUT or (low.startswith("anthropic-") and not anthropic):
                continue
            if not anthropic and low.startswith(("x-claude-code-", "x-app")):
                continue
            if anthropic and low.startswith(("x-codex-", "originator", "openai-")):
                continue
            out.add(name, value)
    out["Content-Type"] = "application/json"
    out["Accept"] = "text/event-stream" if stream else "application/json"
    out.setdefault("User-Agent", USER_AGENT)
    key = provider.resolve_key()
    if anthropic:
        out.setdefault("anthropic-version", ANTHROPIC_VERSION)
        if key:
            out["x-api-key"] = key
    elif key:
        out["Authorization"] = f"Bearer {key}"
    return out


def response_headers(upstream: Mapping[str, str]) -> dict[str, str]:
    """The upstream response headers worth passing on to the client."""
    out = {}
    for name, value in upstream.items():
        low = name.lower()
        if low in _KEEP_BACK or low.startswith(_KEEP_BACK_PREFIXES):
            out[name] = value
    return out


def client_timeout(timeouts: ProxyTimeouts) -> aiohttp.ClientTimeout:
    # sock_read stays off: idle silence is the Watchdog's job, first byte is open()'s.
    return aiohttp.ClientTimeout(total=None, connect=None, sock_read=None,
                                 sock_connect=timeouts.connect)


if sys.version_info >= (3, 11):
    from asyncio import timeout as deadline  # a timer, not wait_for's extra task
else:  # aiohttp depends on async-timeout before 3.11
    from async_timeout import timeout as deadline

_ROUTES: dict[str, tuple[str, dict, str | None, str | None]] = {}


def env_route(url: str) -> tuple[str, dict, str | None, str | None]:
    """Where a request to ``url`` goes and the environment's say on it: the URL without
    ``user:password@`` (aiohttp refuses those beside an auth header), proxy keywords,
    the basic-auth header for those credentials, and ``~/.netrc``'s.

    Looked up on first use per URL and kept: the environment does not change under a
    running proxy, and reading it (and ``~/.netrc``) costs more than the request.
    """
    route = _ROUTES.get(url)  # a provider has a handful of endpoint URLs
    if route is None:
        route = _ROUTES[url] = _lookup_env(url)
    return route


def shown_url(url: str) -> str:
    """``url`` fit for a message or a log: any ``user:password@`` left out."""
    try:
        from yarl import URL

        parsed = URL(url)
        return str(parsed.with_user(None)) if parsed.user or parsed.password else url
    except (ValueError, TypeError):
        return "(an invalid URL)"


def _lookup_env(raw: str) -> tuple[str, dict, str | None, str | None]:
    from aiohttp import BasicAuth, helpers
    from yarl import URL

    url, userinfo = URL(raw), None
    if url.user is not None or url.password is not None:
        userinfo = BasicAuth(url.user or "", url.password or "").encode()
        url = url.with_user(None)
        raw = str(url)
    proxy: dict = {}
    with contextlib.suppress(LookupError):
        address, auth = helpers.get_env_proxy_for_url(url)
        proxy = {"proxy": address, "proxy_auth": auth}
    netrc = None
    if url.host and hasattr(helpers, "basicauth_from_netrc"):
        with contextlib.suppress(LookupError):
            netrc = helpers.basicauth_from_netrc(helpers.netrc_from_env(), url.host).encode()
    return raw, proxy, userinfo, netrc


class FirstByteTimeout(Exception):
    pass


class IdleTimeout(Exception):
    pass


async def open_upstream(session: aiohttp.ClientSession, url: str, body: bytes, headers,
                        first_byte: float) -> aiohttp.ClientResponse:
    """POST and wait for the status line; the caller must ``release()`` the response."""
    url, proxy, userinfo, netrc = env_route(url)
    if (userinfo or netrc) and "Authorization" not in headers and "x-api-key" not in headers:
        # a keyless provider: the base_url's user:password, else ~/.netrc (as trust_env did)
        headers["Authorization"] = userinfo or netrc
    try:
        async with deadline(first_byte):
            return await session.post(url, data=body, headers=headers,
                                      allow_redirects=False, **proxy)
    except asyncio.TimeoutError:
        raise FirstByteTimeout(f"no answer within {first_byte:g} s") from None


class Watchdog:
    """One timer per stream: sends keep-alives during silence and ends a stalled stream.

    ``touch()`` after every chunk from upstream. Every ``period`` seconds the timer looks
    at the silence so far: past ``idle`` it closes the upstream response (the read then
    fails and the relay reports an idle timeout); past ``keepalive`` it calls ``ping``.
    """

    def __init__(self, response: aiohttp.ClientResponse, *, idle: float, keepalive: float,
                 ping=None) -> None:
        self._loop = asyncio.get_running_loop()
        self._response = response
        self._idle = idle
        self._keepalive = keepalive
        self._ping = ping
        self.expired = False
        self.last = self._loop.time()
        self._period = min(idle, keepalive) / 2 if ping else idle / 2
        self._handle = self._loop.call_later(self._period, self._check)

    def touch(self) -> None:
        self.last = self._loop.time()

    def _check(self) -> None:
        silence = self._loop.time() - self.last
        if silence >= self._idle:
            self.expired = True
            self._response.close()
            return
        if self._ping is not None and silence >= self._keepalive:
            self._ping()
        self._handle = self._loop.call_later(self._period, self._check)

    def stop(self) -> None:
        self._handle.cancel()
