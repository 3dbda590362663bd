"""``byecore proxy --workers N``: N real processes on one port, as a user runs it.

Both workers serve (each access-log line names its process), both write the one usage
log, each picks up an edited settings file, a signal drains and stops them all and
removes the runtime file, a crashed worker is replaced, and workers outlive no
supervisor. Which worker the kernel hands a connection is up to it (SO_REUSEPORT hashes
each connection), so the tests open many connections rather than aim at one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest

from byecore_cli.proxy import runtime
from tests.export.upstream import RecordingUpstream
from tests.fakes import ThreadedServer

pytestmark = pytest.mark.skipif(runtime.reuse_port()[0] is None,
                                reason=f"no balancing SO_REUSEPORT: {runtime.reuse_port()[1]}")

REQUESTS = 40  # fresh connections: a worker getting none of them is 2**-39 likely
ACCESS = re.compile(r"\[(\d+)\] byecore\.access: .*\"POST /v1/chat/completions\" (\d+)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _settings(url: str, model: str = "m-old") -> str:
    return (f'default_provider = "up"\n\n[providers.up]\nbase_url = "{url}"\n'
            f'protocols = ["chat"]\nkey = "sk-up-0123456789"\nmodels = ["m-old", "m-new"]\n\n'
            f'[proxy.aliases]\npick = "up/{model}"\n')


class Proxy:
    def __init__(self, home, tmp_path, workers: int = 2) -> None:
        self.home, self.port = home, _free_port()
        self.log = tmp_path / "proxy.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "byecore_cli", "proxy", "--port", str(self.port), "--open",
             "--workers", str(workers)],
            env={**os.environ, "BYECORE_HOME": str(home)}, stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def runtime_file(self) -> dict | None:
        try:
            return json.loads((self.home / "proxy.json").read_text())
        except (OSError, ValueError):
            return None

    def wait_ready(self, workers: int = 2) -> dict:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the proxy exited: {self.log.read_text()}"
            data = self.runtime_file()
            if data and len(data["workers"]) == workers:
                try:
                    with urllib.request.urlopen(f"{self.url}/health", timeout=5):
                        return data
                except OSError:
                    pass
            time.sleep(0.1)
        raise AssertionError(f"the proxy did not start: {self.log.read_text()}")

    def chat(self, model: str = "pick") -> dict:
        body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]})
        request = urllib.request.Request(f"{self.url}/v1/chat/completions", data=body.encode(),
                                         headers={"Content-Type": "application/json",
                                                  "Connection": "close"})
        with urllib.request.urlopen(request, timeout=30) as resp:
            return json.loads(resp.read())

    def served_by(self) -> list[int]:
        """The pid of each chat request in the access log, in order."""
        return [int(m.group(1)) for m in ACCESS.finditer(self.log.read_text())]

    def stop(self, signum=signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        try:
            return self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _wait(done, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.05)
    return done()


@pytest.fixture
def upstream(byecore_home):
    fake = RecordingUpstream()
    with ThreadedServer(lambda: fake.app) as server:
        byecore_home.mkdir()
        (byecore_home / "settings.toml").write_text(_settings(server.url))
        fake.url = server.url
        yield fake


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_two_workers_serve_log_usage_and_stop_cleanly(byecore_home, tmp_path, upstream,
                                                      signum):
    proxy = Proxy(byecore_home, tmp_path)
    try:
        info = proxy.wait_ready()
        workers = info["workers"]
        assert info["pid"] == proxy.proc.pid and proxy.proc.pid not in workers
        assert len(set(workers)) == 2 and not any(_gone(p) for p in workers)
        for _ in range(REQUESTS):
            assert proxy.chat()["choices"][0]["message"]["content"] == \
                "chat upstream, model m-old"
        assert _wait(lambda: len(proxy.served_by()) == REQUESTS)
        assert set(proxy.served_by()) == set(workers)  # both really served
    finally:
        code = proxy.stop(signum)
    assert code == 0, proxy.log.read_text()
    assert all(_gone(p) for p in workers)
    assert proxy.runtime_file() is None and not (byecore_home / "proxy.json").exists()
    # every request left its row in the one usage log, from whichever worker served it
    with sqlite3.connect(byecore_home / "usage.db") as db:
        rows = db.execute("SELECT COUNT(*), MIN(status), MAX(status) FROM requests "
                          "WHERE model = 'm-old'").fetchone()
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    assert rows == (REQUESTS, 200, 200) and mode == "wal"


def test_every_worker_reloads_edited_settings(byecore_home, tmp_path, upstream):
    proxy = Proxy(byecore_home, tmp_path)
    try:
        workers = proxy.wait_ready()["workers"]
        for _ in range(10):
            proxy.chat()
        (byecore_home / "settings.toml").write_text(_settings(upstream.url, "m-new"))
        time.sleep(1.3)  # each worker looks at the file at most once a second
        before = len(proxy.served_by())
        answers = {proxy.chat()["choices"][0]["message"]["content"] for _ in range(REQUESTS)}
        assert answers == {"chat upstream, model m-new"}
        assert _wait(lambda: len(proxy.served_by()) == before + REQUESTS)
        assert set(proxy.served_by()[before:]) == set(workers)
    finally:
        assert proxy.stop() == 0


def test_a_crashed_worker_is_replaced_and_listed(byecore_home, tmp_path, upstream):
    proxy = Proxy(byecore_home, tmp_path)
    try:
        first = proxy.wait_ready()["workers"]
        os.kill(first[0], signal.SIGKILL)
        assert _wait(lambda: (proxy.runtime_file() or {}).get("workers", first) != first)
        now = proxy.runtime_file()["workers"]
        assert first[1] in now and first[0] not in now and len(now) == 2
        for _ in range(10):  # connections queued on the dead worker's socket are served
            assert proxy.chat()["choices"]
        assert "exited with code" in proxy.log.read_text()
    finally:
        assert proxy.stop() == 0
    assert all(_gone(p) for p in now)


def test_workers_stop_when_the_supervisor_is_killed(byecore_home, tmp_path, upstream):
    proxy = Proxy(byecore_home, tmp_path)
    workers = proxy.wait_ready()["workers"]
    proxy.proc.kill()
    proxy.proc.wait()
    assert _wait(lambda: all(_gone(p) for p in workers), 15), "orphaned workers kept running"
    assert "the supervisor is gone" in proxy.log.read_text()


CHUNKS = 12


def _slow_chat_upstream():
    """A Chat stream of CHUNKS words, 0.15 s apart: about 2 s in all."""
    import asyncio

    from aiohttp import web

    async def chat(request):
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        base = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
        for i in range(CHUNKS):
            chunk = {**base, "choices": [{"index": 0, "delta": {"content": f"w{i} "},
                                          "finish_reason": None}]}
            await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())
            await asyncio.sleep(0.15)
        end = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        await resp.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
        return resp

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    return app


def test_in_flight_streams_drain_in_every_worker(byecore_home, tmp_path):
    with ThreadedServer(_slow_chat_upstream) as slow:
        byecore_home.mkdir()
        (byecore_home / "settings.toml").write_text(_settings(slow.url).replace(
            'models = ["m-old", "m-new"]', 'models = ["m"]'))
        proxy = Proxy(byecore_home, tmp_path)
        proxy.wait_ready()
        clients = []
        body = json.dumps({"model": "m", "stream": True,
                           "messages": [{"role": "user", "content": "hi"}]})
        for _ in range(8):  # on both workers, all but surely
            client = socket.create_connection(("127.0.0.1", proxy.port), timeout=30)
            client.sendall((f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            f"Content-Type: application/json\r\nConnection: close\r\n"
                            f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
            clients.append([client, b""])
        for entry in clients:  # every stream under way…
            while b"w0" not in entry[1]:
                chunk = entry[0].recv(65536)
                assert chunk, "the proxy closed before streaming"
                entry[1] += chunk
        proxy.proc.send_signal(signal.SIGTERM)  # …when the proxy is told to stop
        for entry in clients:
            while chunk := entry[0].recv(65536):
                entry[1] += chunk
            entry[0].close()
        assert proxy.proc.wait(timeout=30) == 0
    for _, received in clients:
        text = received.decode()
        assert f"w{CHUNKS - 1} " in text and "[DONE]" in text, "a stream was cut off"


def test_busy_port_and_a_port_shared_by_another_proxy_are_refused(cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = cli("proxy", "--port", str(taken.getsockname()[1]), "--workers", "2")
    assert result.exit_code == 1 and "cannot listen on" in result.stderr
    # another proxy's workers hold the port with SO_REUSEPORT: joining them would split
    # its clients between two proxies, so it is refused as well
    option = runtime.reuse_port()[0]
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, option, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        result = cli("proxy", "--port", str(other.getsockname()[1]), "--workers", "2")
    assert result.exit_code == 1 and "cannot listen on" in result.stderr


def test_without_reuseport_it_says_so_and_serves_with_one(cli, monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    option, why = runtime.reuse_port()
    assert option is None and "darwin" in why
    with socket.socket() as taken:  # a busy port ends the run right after the note
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = cli("proxy", "--port", str(taken.getsockname()[1]), "--workers", "3")
    assert "serving with 1 worker, not 3" in result.stderr and "darwin" in result.stderr
    assert "cannot listen on" in result.stderr


def test_workers_must_be_a_positive_count(cli):
    result = cli("proxy", "--workers", "0")
    assert result.exit_code == 2
