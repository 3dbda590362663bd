"""Proxy cost, side by side: direct, a bare aiohttp relay, byecore pass-through, translated.

    .venv/bin/python bench/proxy.py [--requests 300] [--json]

Everything runs on 127.0.0.1: a fast fake upstream (the test suite's, speaking Chat and
Messages), a 30-line aiohttp relay as the floor, and ``byecore proxy --open`` with two
providers on that upstream (``chat`` speaks only Chat, ``msg`` only Messages). Each
server is its own process; CPU is read from /proc (Linux) around each batch, so a
number is that process's CPU per request or per 200-chunk stream, not wall time.
Also: idle memory (RSS) and the time from start to the first answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
WORDS = " ".join(f"w{i}" for i in range(197))  # "chat says: " + 197 words ≈ 200 chunks

RELAY = r'''
import sys, aiohttp
from aiohttp import web
UP = sys.argv[2]
async def start(app):
    app["s"] = aiohttp.ClientSession()
    yield
    await app["s"].close()
async def relay(request):
    body = await request.read()
    async with request.app["s"].post(UP + request.path, data=body, headers={
            "Content-Type": "application/json"}) as up:
        out = web.StreamResponse(status=up.status,
                                 headers={"Content-Type": up.headers["Content-Type"]})
        await out.prepare(request)
        async for chunk in up.content.iter_any():
            await out.write(chunk)
        await out.write_eof()
        return out
app = web.Application()
app.cleanup_ctx.append(start)
app.router.add_post("/{tail:.*}", relay)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
'''

UPSTREAM = r'''
import sys
sys.path.insert(0, sys.argv[2])
from aiohttp import web
from tests.proxy.fake_upstream import FakeUpstream
fake = FakeUpstream()
@web.middleware
async def forget(request, handler):
    try:
        return await handler(request)
    finally:
        fake.requests.clear()
fake.app.middlewares.append(forget)
web.run_app(fake.app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def wait_up(url: str, started: float, probe) -> float:
    async with aiohttp.ClientSession() as s:
        while True:
            try:
                await probe(s)
                return time.monotonic() - started
            except aiohttp.ClientError:
                await asyncio.sleep(0.01)


def body(protocol: str, stream: bool, said: str = "hi", model: str = "m") -> dict:
    if protocol == "responses":
        return {"model": model, "input": said, "stream": stream}
    out = {"model": model, "stream": stream,
           "messages": [{"role": "user", "content": said}]}
    if protocol == "messages":
        out["max_tokens"] = 100
    return out


PATHS = {"chat": "/v1/chat/completions", "responses": "/v1/responses",
         "messages": "/v1/messages"}


async def batch(url: str, protocol: str, n: int, concurrency: int, stream: bool,
                model: str = "m") -> None:
    payload = json.dumps(body(protocol, stream, WORDS if stream else "hi", model)).encode()
    headers = {"Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as s:
        async def one() -> None:
            async with s.post(url + PATHS[protocol], data=payload, headers=headers) as r:
                await r.read()
                assert r.status == 200, (url, r.status)

        for start in range(0, n, concurrency):
            await asyncio.gather(*(one() for _ in range(min(concurrency, n - start))))


async def measure(name, url, pid, protocol, n, model="m") -> dict:
    await batch(url, protocol, 20, 1, False, model)  # warm up pools and imports
    await batch(url, protocol, 5, 1, True, model)
    out = {"setup": name}
    for label, conc, stream, count in (("ms/request c=1", 1, False, n),
                                       ("ms/request c=32", 32, False, n),
                                       ("ms/200-chunk stream", 1, True, max(n // 5, 20))):
        before = cpu_seconds(pid) if pid else 0.0
        await batch(url, protocol, count, conc, stream, model)
        out[label] = round((cpu_seconds(pid) - before) * 1000 / count, 3) if pid else None
    return out


def spawn(args: list[str], env=None) -> subprocess.Popen:
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


async def main(n: int) -> dict:
    procs = []
    try:
        up_port, relay_port, proxy_port = free_port(), free_port(), free_port()
        up = f"http://127.0.0.1:{up_port}"
        procs.append(spawn([sys.executable, "-c", UPSTREAM, str(up_port), str(ROOT)]))
        probe_up = lambda s: s.post(up + "/v1/messages/count_tokens", json={})  # noqa: E731
        await wait_up(up, time.monotonic(), _probe(probe_up))
        relay = spawn([sys.executable, "-c", RELAY, str(relay_port), up])
        procs.append(relay)

        home = tempfile.mkdtemp(prefix="byecore-bench-")
        Path(home, "settings.toml").write_text(
            f'default_provider = "chat"\n[providers.chat]\nbase_url = "{up}"\n'
            f'protocols = ["chat"]\nkey = "sk-bench"\nmodels = ["m"]\n'
            f'[providers.msg]\nbase_url = "{up}"\nprotocols = ["messages"]\n'
            f'key = "sk-bench"\nmodels = ["claude-m"]\n')
        env = {**os.environ, "BYECORE_HOME": home}
        started = time.monotonic()
        proxy = spawn([sys.executable, "-m", "byecore_cli", "proxy", "--open", "--port",
                       str(proxy_port), "--log-level", "warning"], env=env)
        procs.append(proxy)
        byecore = f"http://127.0.0.1:{proxy_port}"
        first_answer = await wait_up(byecore, started, _probe(
            lambda s: s.post(byecore + "/v1/chat/completions", json=body("chat", False))))
        relay_url = f"http://127.0.0.1:{relay_port}"
        await wait_up(relay_url, time.monotonic(), _probe(
            lambda s: s.post(relay_url + "/v1/chat/completions", json=body("chat", False))))
        idle = {"byecore": round(rss_mb(proxy.pid), 1), "bare relay": round(rss_mb(relay.pid),
                                                                            1)}
        rows = [await measure("direct (upstream CPU)", up, procs[0].pid, "chat", n),
                await measure("bare aiohttp relay", relay_url, relay.pid, "chat", n),
                await measure("byecore pass-through", byecore, proxy.pid, "chat", n)]
        # translated: the model picks the provider; claude-m lives on the Messages one
        for label, protocol, model in (("byecore messages→chat", "messages", "m"),
                                       ("byecore responses→chat", "responses", "m"),
                                       ("byecore chat→messages", "chat", "claude-m")):
            rows.append(await measure(label, byecore, proxy.pid, protocol, n, model))
        return {"rows": rows, "idle_rss_mb": idle,
                "first_answer_s": round(first_answer, 3)}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)


def _probe(make):
    async def probe(session):
        async with make(session) as r:
            await r.read()
            if r.status >= 500:
                raise aiohttp.ClientError(f"status {r.status}")
    return probe


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(main(args.requests))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        cols = ["ms/request c=1", "ms/request c=32", "ms/200-chunk stream"]
        print(f"{'CPU per request (ms)':32}" + "".join(f"{c:>22}" for c in cols))
        for row in result["rows"]:
            print(f"{row['setup']:32}" + "".join(f"{row[c]:>22}" for c in cols))
        print(f"idle RSS MB: {result['idle_rss_mb']}   "
              f"byecore first answer after start: {result['first_answer_s']} s")
