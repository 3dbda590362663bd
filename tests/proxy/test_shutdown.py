"""SIGTERM or SIGINT while a stream is in flight: the stream finishes, then the proxy exits."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from aiohttp import web

from tests.fakes import ThreadedServer

CHUNKS = 12
PAUSE = 0.15  # seconds between upstream chunks: the whole stream takes about 2 s


def _slow_chat_upstream():
    async def chat(request):
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        base = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
        for i in range(CHUNKS):
            chunk = {**base, "choices": [{"index": 0, "delta": {"content": f"w{i} "},
                                          "finish_reason": None}]}
            await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())
            await asyncio.sleep(PAUSE)
        end = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        await resp.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
        return resp

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    return app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the proxy exited early: {proc.stderr.read()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the proxy did not start")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_in_flight_stream_is_drained_before_exit(byecore_home, signum):
    with ThreadedServer(_slow_chat_upstream) as upstream:
        byecore_home.mkdir()
        (byecore_home / "settings.toml").write_text(
            f'default_provider = "up"\n\n[providers.up]\nbase_url = "{upstream.url}"\n'
            f'protocols = ["chat"]\nkey = "sk-up-0123456789"\nmodels = ["m"]\n')
        port = _free_port()
        env = {**os.environ, "BYECORE_HOME": str(byecore_home)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "byecore_cli", "proxy", "--port", str(port), "--open"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait_for(port, proc)
            with socket.create_connection(("127.0.0.1", port), timeout=20) as client:
                body = json.dumps({"model": "m", "stream": True,
                                   "messages": [{"role": "user", "content": "hi"}]})
                client.sendall((f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                f"Content-Type: application/json\r\nConnection: close\r\n"
                                f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
                received = b""
                while b"w0" not in received:  # wait until the stream is under way…
                    chunk = client.recv(65536)
                    assert chunk, "the proxy closed before streaming"
                    received += chunk
                proc.send_signal(signum)  # …when the proxy is told to stop
                while chunk := client.recv(65536):
                    received += chunk
            assert proc.wait(timeout=15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    text = received.decode()
    assert f"w{CHUNKS - 1} " in text and "[DONE]" in text, "the stream was cut off"


def test_a_busy_port_is_an_error_not_a_banner(cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("proxy", "--port", str(port))
    assert result.exit_code == 1
    assert "cannot listen on" in result.stderr and "listening" not in result.stdout
