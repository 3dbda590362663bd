"""A real HTTP server on 127.0.0.1, port 0, in a background thread.

Used where the code under test runs its own event loop (CLI commands call
``asyncio.run``), so the fake upstream cannot share the test's loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from aiohttp import web


class ThreadedServer:
    def __init__(self, build: Callable[[], web.Application]) -> None:
        self._build = build
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.port = 0
        self.requests: list[dict] = []  # method, path, headers of every request seen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("fake server did not start")
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = self._build()

        @web.middleware
        async def record(request, handler):
            self.requests.append({"method": request.method, "path": request.path_qs,
                                  "headers": dict(request.headers)})
            return await handler(request)

        app.middlewares.append(record)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._started.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()
