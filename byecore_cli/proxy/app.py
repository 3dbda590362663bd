"""The proxy's aiohttp application: its shared state, and one upstream session for all.

``create_app(settings)`` builds the app; ``cleanup_ctx`` opens the single upstream
``ClientSession`` (one connection pool for every provider) and the usage log when the
server starts, and closes both when it stops. Handlers find everything through
``request.app[STATE]``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from byecore_cli.config.models import Settings
from byecore_cli.config.store import SettingsWatch
from byecore_cli.paths import Paths
from byecore_cli.proxy.auth import LocalKeys
from byecore_cli.proxy.cooldown import Cooldowns
from byecore_cli.proxy.router import Router
from byecore_cli.proxy.upstream import client_timeout
from byecore_cli.proxy.usage import UsageLog

MB = 1024 * 1024


def _own_decoding() -> dict:
    """Request bodies are decoded by proxy/encoding.py, so an encoding aiohttp has no
    library for is refused in the client's shape, and the decoded size is capped (an aiohttp
    too old to take the switch decodes as before)."""
    import inspect

    from aiohttp.web_protocol import RequestHandler

    return ({"auto_decompress": False}
            if "auto_decompress" in inspect.signature(RequestHandler.__init__).parameters
            else {})


_OWN_DECODING = _own_decoding()
log = logging.getLogger("byecore.proxy")


@dataclass
class ProxyState:
    settings: Settings
    router: Router
    keys: LocalKeys
    session: aiohttp.ClientSession | None = None
    usage: UsageLog | None = None
    extra: dict = field(default_factory=dict)
    cooldowns: Cooldowns = field(default_factory=Cooldowns)  # outlives settings reloads
    refuses_stream_options: set[str] = field(default_factory=set)  # provider names
    no_count_tokens: set[str] = field(default_factory=set)  # providers that 404 a count
    settings_path: Path | None = None  # watched for edits when set
    # the address the server listens on: on loopback, only loopback names may be its Host
    listen_host: str = "127.0.0.1"
    _watch: SettingsWatch | None = None
    _checked: float = 0.0  # when the file was last looked at (0: look at the next request)

    def refresh(self) -> None:
        """Pick up an edited settings file: a provider added with ``byecore provider add``
        or a route changed by hand works without a restart. Looked at once a second, and
        every tenth of a second while the file is in flux; an empty, missing, half-written
        or invalid file keeps the previous settings (SettingsWatch says how).
        (The port and the upstream session's defaults are read at start only.)"""
        watch = self._watch
        if watch is None:
            return
        now = time.monotonic()
        if now - self._checked < (0.1 if watch.unsettled else 1.0):
            return
        self._checked = now
        settings = watch.check()
        if settings is None:
            return
        self.settings, self.router = settings, Router(settings)
        self.refuses_stream_options.clear()  # a provider's URL may have changed
        self.no_count_tokens.clear()
        log.info("settings reloaded: %s", ", ".join(settings.providers) or "demo provider")


STATE = web.AppKey("byecore_state", ProxyState)


async def _upstream_session(app: web.Application) -> AsyncIterator[None]:
    state = app[STATE]
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=256, ttl_dns_cache=300,
                                     enable_cleanup_closed=True)
    state.session = aiohttp.ClientSession(
        connector=connector, timeout=client_timeout(state.settings.proxy.timeouts),
        auto_decompress=True, cookie_jar=aiohttp.DummyCookieJar())
    # trust_env stays off: upstream.env_route applies the environment's proxies once per
    # origin; no cookie jar, so one client's upstream cookies never ride another's request
    state.usage = UsageLog(Paths.current().usage_db, prices=_price_book(state))
    try:
        yield
    finally:
        await state.session.close()
        state.usage.close()


_KEY_IN_QUERY = re.compile(r"(?i)((?:^|&)key=)[^&]*")


def _shown_path(request: web.BaseRequest) -> str:
    """The path and query, with a ``key=`` value (Gemini clients' local key) masked."""
    query = request.query_string
    if not query:
        return request.path
    return request.path + "?" + _KEY_IN_QUERY.sub(r"\1[...]", query)


class AccessLog(AbstractAccessLogger):
    """One INFO line per request: ``127.0.0.1 "POST /v1/messages?beta=true" 200 512 3.1 ms
    "claude-cli/2.0.1"`` (remote, request, status, bytes sent, time, user agent).

    aiohttp's default access logger builds an Apache-style line from a dozen atoms, with
    its own strftime although the log line already carries the time: ~70 us a request
    against ~18 us for this one, and it runs for every request at the default level.
    """

    __slots__ = ()

    def log(self, request: web.BaseRequest, response: web.StreamResponse,
            time: float) -> None:
        self.logger.info('%s "%s %s" %s %s %.1f ms "%s"', request.remote, request.method,
                         _shown_path(request), response.status, response.body_length,
                         time * 1000, request.headers.get("User-Agent", "-"))

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def create_app(settings: Settings, *, open_access: bool = False,
               settings_path: Path | None = None,
               listen_host: str = "127.0.0.1") -> web.Application:
    """``settings_path``: the file ``settings`` came from, watched for edits while serving;
    ``listen_host``: the address the app will be served on (``--host``), which decides the
    Host names it answers to (guard.py)."""
    from byecore_cli.proxy.guard import guard
    from byecore_cli.proxy.routes import setup_routes

    app = web.Application(client_max_size=int(settings.proxy.max_body_mb * MB),
                          middlewares=[guard],
                          handler_args={"max_field_size": 65536, **_OWN_DECODING})
    app[STATE] = ProxyState(settings=settings, router=Router(settings),
                            keys=LocalKeys(open_access=open_access),
                            settings_path=settings_path, listen_host=listen_host,
                            _watch=SettingsWatch(settings_path, settings)
                            if settings_path else None,
                            _checked=time.monotonic())
    app.cleanup_ctx.append(_upstream_session)
    setup_routes(app)
    return app


def _price_book(state):
    """The usage log's prices: the settings' own (``[prices]``, a provider's ``prices``)
    over the shipped table, rebuilt only when the settings change."""
    from byecore_cli import pricing

    kept: list = [None, None]  # the settings the book was made from, and the book

    def current():
        if kept[0] is not state.settings:
            kept[:] = [state.settings, pricing.book(state.settings)]
        return kept[1]

    return current
