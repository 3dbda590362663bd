"""Talking to an upstream: which headers go out and come back, timeouts, silence.

Headers out: the provider's own auth only, as the upstream protocol's wire sends it
(a client's ``Authorization``/``x-api-key``/``x-goog-api-key`` never reaches an
upstream), no hop-by-hop headers, and ``anthropic-*`` headers only to Anthropic-protocol
upstreams. On the byte pass-through the client's other headers ride along (upstreams
may key on ``user-agent`` or session headers); a translated request carries none of
them, since they belong to another protocol.

Timeouts: ``connect`` (aiohttp's socket connect), ``first_byte`` (until the upstream's
status line and headers), ``idle`` (the longest silence inside a body). Idle and
keep-alive share one timer per stream (``Watchdog``) so a relayed chunk costs one
clock read, not a timer reschedule.

Environment proxies (``HTTPS_PROXY``/``NO_PROXY``) and ``~/.netrc`` apply as with
aiohttp's ``trust_env``, but they are looked up once per upstream URL
(``env_route``) instead of in a worker thread on every request: aiohttp's
``trust_env`` costs two thread-pool round trips per request, a fifth of the
pass-through's CPU. A base_url's ``user:password@`` (refused by settings validation) is
taken out of the URL all the same, so a request never fails on it.

Also here: the cheap tests of what came back (``looks_like_answer``, ``is_json_object``,
``snippet``), Retry-After read without ever raising (``retry_after``), and the one
change the pass-through makes to a client's body (``rewrite_model``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import sys
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

import aiohttp
from aiohttp import helpers
from multidict import CIMultiDict
from yarl import URL

from byecore_cli import __version__, codecs
from byecore_cli.config.models import Provider, ProxyTimeouts

HOP_BY_HOP = frozenset((
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailer", "trailers", "transfer-encoding", "upgrade", "proxy-connection",
))
# The headers a key travels in (the provider's replace the client's, never mixed).
CREDENTIALS = frozenset(("authorization", "x-api-key", "api-key", "x-goog-api-key"))
# Never forwarded upstream: hop-by-hop, client credentials, what aiohttp sets itself.
_DROP_OUT = HOP_BY_HOP | CREDENTIALS | {
    "cookie", "host", "content-length",
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
    """Headers for a request to ``provider`` in ``protocol``: the wire's own auth headers
    for the provider's key (a version header the client sent is kept).

    ``client`` is the client's headers on the pass-through (None when translating).
    """
    out: CIMultiDict = CIMultiDict()
    wire = codecs.wire(protocol)
    anthropic = wire.base == "anthropic"
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
    for name, value in wire.auth_headers(provider.resolve_key()).items():
        if name.lower() in CREDENTIALS:
            out[name] = value
        else:
            out.setdefault(name, value)
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

_ROUTES: dict[str, tuple[str, dict, str | None]] = {}


def env_route(url: str) -> tuple[str, dict, str | None]:
    """Where a request to ``url`` goes and the environment's say on it: the URL without
    ``user:password@`` (settings refuse those, and aiohttp refuses them beside an auth
    header), proxy keywords, and ``~/.netrc``'s auth header.

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
        parsed = URL(url)
        return str(parsed.with_user(None)) if parsed.user or parsed.password else url
    except (ValueError, TypeError):
        return "(an invalid URL)"


def _lookup_env(raw: str) -> tuple[str, dict, str | None]:
    url = URL(raw)
    if url.user is not None or url.password is not None:
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
    return raw, proxy, netrc


class FirstByteTimeout(Exception):
    pass


class IdleTimeout(Exception):
    pass


async def open_upstream(session: aiohttp.ClientSession, url: str, body: bytes, headers,
                        first_byte: float) -> aiohttp.ClientResponse:
    """POST and wait for the status line; the caller must ``release()`` the response."""
    url, proxy, netrc = env_route(url)
    if netrc and not any(name in headers for name in CREDENTIALS):
        headers["Authorization"] = netrc  # a keyless provider: ~/.netrc, as trust_env did
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


# -- reading what an upstream answered ---------------------------------------------------

class AnswerTooBig(Exception):
    pass


async def read_capped(response: aiohttp.ClientResponse, wait: float, cap: int) -> bytes:
    """The whole body within ``wait`` seconds, at most ``cap`` bytes: past it
    ``AnswerTooBig``, and the rest is never held. A broken or slow answer raises what
    aiohttp raises (``aiohttp.ClientError``, ``OSError``) or ``asyncio.TimeoutError``."""
    length = response.content_length
    if length is not None and length > cap:
        raise AnswerTooBig(f"an answer of {length} bytes, over {cap}")
    parts, size = [], 0
    async with deadline(wait):
        while chunk := await response.content.readany():
            size += len(chunk)
            if size > cap:
                raise AnswerTooBig(f"an answer over {cap} bytes")
            parts.append(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def is_json_object(body: bytes) -> bool:
    try:
        return isinstance(json.loads(body), dict)
    except ValueError:
        return False


def looks_like_answer(protocol: str, body: bytes) -> bool:
    """A cheap test that a pass-through body is an answer (the client parses it), not a
    gateway's page or an empty 200: an object with one of the wire's answer keys."""
    head, tail = body[:64].lstrip(), body[-64:].rstrip()
    return head[:1] == b"{" and tail[-1:] == b"}" and any(
        f'"{key}"'.encode() in body for key in codecs.wire(protocol).answer_keys)


def snippet(body: bytes) -> str:
    """A few words of a body that is not JSON, for the error message (already redacted)."""
    text = " ".join(body[:200].decode("utf-8", "replace").split())[:120]
    return f" (it began: {text!r})" if text else " (an empty body)"



MAX_RETRY_AFTER = 3600.0  # longer than any cooldown or backoff: more says nothing


def safe_seconds(value) -> float | None:
    """A wait in seconds made safe: finite, 0 to MAX_RETRY_AFTER; None when meaningless."""
    if value is None or value != value:  # None, NaN
        return None
    return min(max(0.0, float(value)), MAX_RETRY_AFTER)


def retry_after(headers) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (delay seconds or an HTTP date);
    None for anything else (``inf``, ``nan``, garbage), never an exception."""
    for name, scale in (("retry-after-ms", 0.001), ("Retry-After", 1.0)):
        value = headers.get(name)
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            seconds = _http_date(value) if scale == 1.0 else None
        else:
            seconds = safe_seconds(number * scale) if math.isfinite(number) else None
        if seconds is not None:
            return seconds
    return None


def _http_date(value: str) -> float | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return safe_seconds(when.timestamp() - time.time())



# -- the client's body, going up -----------------------------------------------------------

_MODEL_KEY = re.compile(rb'"model"\s*:\s*')
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_OPENING = re.compile(rb'\s*\{\s*')
_WS = re.compile(r"[ \t\n\r]*")
_scan = json.JSONDecoder().raw_decode


def rewrite_model(raw: bytes, old: str, new: str) -> bytes:
    """The client's body with only its top-level ``model`` changed (byte-exact elsewhere).

    Thinking signatures and the like must reach the upstream untouched, so the body is
    not re-serialised: the top-level value's bytes are found and replaced. Usually one
    ``"model":`` key is in the body at all (one byte search); with more (tool arguments,
    metadata), the top-level members are stepped over to find the right one.
    """
    if old == new:
        return raw
    span = _top_level_model(raw)
    if span is None:  # not an object with a string model: cannot happen after routes.py
        body = json.loads(raw)
        body["model"] = new
        return json.dumps(body, ensure_ascii=False).encode()
    start, end = span
    return raw[:start] + json.dumps(new, ensure_ascii=False).encode() + raw[end:]


def _top_level_model(raw: bytes) -> tuple[int, int] | None:
    """The byte span of the top-level ``"model"`` string value of the JSON object ``raw``."""
    keys = list(_MODEL_KEY.finditer(raw))
    if not keys:
        return None
    opening = _OPENING.match(raw)
    first_key = opening is not None and keys[0].start() == opening.end()
    # The only literal ``"model":`` is the top-level one unless that one is spelt with
    # escapes (``"mod\u0065l"``), and every escape of a letter of "model" begins \u006.
    if first_key or (len(keys) == 1 and b"\\u006" not in raw):
        value = _JSON_STRING.match(raw, keys[0].end())
        return value.span() if value else None
    # Latin-1 maps each byte to one character, so offsets stay byte offsets, and JSON's
    # structure is ASCII: a UTF-8 sequence is just string content to the scanner.
    text, ws = raw.decode("latin-1"), _WS.match
    pos = opening.end() if opening else 0
    while text.startswith('"', pos):
        key = _JSON_STRING.match(raw, pos)
        if key is None:
            return None
        colon = ws(text, key.end()).end()
        if not text.startswith(":", colon):
            return None
        value_at = ws(text, colon + 1).end()
        if raw[pos:key.end()] == b'"model"':
            value = _JSON_STRING.match(raw, value_at)
            return value.span() if value else None
        try:
            _, pos = _scan(text, value_at)  # step over this member's value
        except (ValueError, RecursionError):  # the pass-through skips the depth check
            return None
        pos = ws(text, pos).end()
        if not text.startswith(",", pos):
            return None
        pos = ws(text, pos + 1).end()
    return None
