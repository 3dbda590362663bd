"""A client that hangs up while still sending its body is a client that left (499), not
an internal error with a traceback in the proxy's log."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from aiohttp.test_utils import TestServer

from byecore_cli.paths import Paths
from byecore_cli.proxy.app import STATE, create_app
from tests.proxy.conftest import one_provider


async def test_a_body_cut_off_by_the_client_is_a_499_without_a_traceback(
        fake, local_key, caplog):
    app = create_app(one_provider(fake, "chat"))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write((f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: Bearer {local_key}\r\nContent-Type: application/json"
                      f"\r\nContent-Length: 5000\r\n\r\n").encode() + b'{"model": "up-')
        await writer.drain()
        await asyncio.sleep(0.2)  # the proxy is reading the body now
        writer.transport.abort()  # a reset, as a client killed mid-upload sends
        with caplog.at_level(logging.WARNING, logger="byecore.proxy"):
            for _ in range(50):
                await asyncio.sleep(0.05)
                if app[STATE].usage.flush(1) and _statuses():
                    break
        assert _statuses() == [499]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert fake.requests == []
    finally:
        await server.close()


def _statuses() -> list[int]:
    path = Paths.current().usage_db
    if not path.exists():
        return []
    db = sqlite3.connect(path)
    try:
        return [r[0] for r in db.execute("SELECT status FROM requests")]
    finally:
        db.close()
