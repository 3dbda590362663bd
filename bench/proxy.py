"""Proxy cost, side by side: direct, a bare aiohttp relay, byecore pass-through, translated.

    .venv/bin/python bench/proxy.py [--requests 300] [--rounds 3] [--json]

Everything runs on 127.0.0.1: a fast fake upstream (the test suite's, speaking Chat and
Messages), a 30-line aiohttp relay as the floor, and ``byecore proxy --open`` with two
providers on that upstream (``chat`` speaks only Chat, ``msg`` only Messages). Each
server is its own process; CPU is read from /proc (Linux) around each batch, so a
number is that process's CPU per request or per 200-chunk stream, not wall time.
The setups take turns, ``--rounds`` times, and each number is the lowest of its rounds:
on a shared machine other load only ever adds CPU, and taking turns keeps a burst of
it from landing on one setup. Also: idle memory (RSS), memory with 200 concurrent
streams held open (each stalled upstream for 3 s), the time from start to the
first answer (byecore's and the bare relay's, best of ``--rounds`` starts, byecore
byte-compiled beforehand as an installed package is), how long importing aiohttp.web
alone and all of byecore's libraries take (the floors under those starts), and the
machine's load average.
Each CPU figure is also shown as a multiple of the bare relay's: the absolute numbers
follow the machine, the multiples follow the code.
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
    if request.method == "POST" and b'"held-' in await request.read():
        fake.plan.append(("slow", 3.0))  # model "held-…": a stream that stalls for 3 s
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


CASES = (("direct (upstream CPU)", "up", "chat", "m"),
         ("bare aiohttp relay", "relay", "chat", "m"),
         ("byecore pass-through", "byecore", "chat", "m"),
         # translated: the model picks the provider; claude-m lives on the Messages one
         ("byecore messages→chat", "byecore", "messages", "m"),
         ("byecore responses→chat", "byecore", "responses", "m"),
         ("byecore chat→messages", "byecore", "chat", "claude-m"))


async def held_memory(url: str, pid: int, protocol: str, n: int = 200) -> float:
    """RSS (MB) of the server at ``pid`` while ``n`` streams are open through it, each
    stalled upstream for 3 s after its first events."""
    payload = json.dumps(body(protocol, True, "hold", "held-m")).encode()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as s:
        started = 0

        async def one() -> None:
            nonlocal started
            async with s.post(url + PATHS[protocol], data=payload,
                              headers={"Content-Type": "application/json"}) as r:
                assert r.status == 200, (url, r.status)
                await r.content.readany()
                started += 1
                await r.read()

        tasks = [asyncio.create_task(one()) for _ in range(n)]
        while started < n and not any(t.done() for t in tasks):
            await asyncio.sleep(0.05)
        rss = rss_mb(pid)
        await asyncio.gather(*tasks)
    return round(rss, 1)


# Start-up floors: the web framework alone, and every library byecore's CLI loads on
# its way to serving (typer loads its pydantic adapters to convert option values).
IMPORTS = {"aiohttp.web": "import aiohttp.web",
           "byecore's libraries": "import aiohttp.web, typer, typer._adapters, "
                                  "pydantic.main, rich.console, tomlkit"}


async def first_answer(args: list[str], url: str, env=None) -> tuple[float, subprocess.Popen]:
    started = time.monotonic()
    proc = spawn(args, env=env)
    took = await wait_up(url, started, _probe(
        lambda s: s.post(url + "/v1/chat/completions", json=body("chat", False))))
    return took, proc


async def main(n: int, rounds: int = 3) -> dict:
    procs = []
    try:
        up_port, relay_port, proxy_port = free_port(), free_port(), free_port()
        up = f"http://127.0.0.1:{up_port}"
        procs.append(spawn([sys.executable, "-c", UPSTREAM, str(up_port), str(ROOT)]))
        probe_up = lambda s: s.post(up + "/v1/messages/count_tokens", json={})  # noqa: E731
        await wait_up(up, time.monotonic(), _probe(probe_up))

        home = tempfile.mkdtemp(prefix="byecore-bench-")
        Path(home, "settings.toml").write_text(
            f'default_provider = "chat"\n[providers.chat]\nbase_url = "{up}"\n'
            f'protocols = ["chat"]\nkey = "sk-bench"\nmodels = ["m"]\n'
            f'[providers.msg]\nbase_url = "{up}"\nprotocols = ["messages"]\n'
            f'key = "sk-bench"\nmodels = ["claude-m"]\n')
        # Byte-compiled as a user's install is (pip writes .pyc files): with
        # PYTHONDONTWRITEBYTECODE set, every start would compile byecore from source.
        env = {**os.environ, "BYECORE_HOME": home,
               "PYTHONPYCACHEPREFIX": str(Path(home, "pycache"))}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "byecore_cli")],
                       env=env, check=True)
        relay_url = f"http://127.0.0.1:{relay_port}"
        byecore = f"http://127.0.0.1:{proxy_port}"
        relay_args = [sys.executable, "-c", RELAY, str(relay_port), up]
        proxy_args = [sys.executable, "-m", "byecore_cli", "proxy", "--open", "--port",
                      str(proxy_port), "--log-level", "warning"]
        starts: dict[str, list[float]] = {"byecore": [], "bare relay": []}
        for turn in range(rounds):  # start-up, taking turns; the last start stays up
            for name, args, url, e in (("bare relay", relay_args, relay_url, env),
                                       ("byecore", proxy_args, byecore, env)):
                took, proc = await first_answer(args, url, e)
                starts[name].append(took)
                if turn < rounds - 1:
                    proc.terminate()
                    proc.wait(10)
                else:
                    procs.append(proc)
        floors: dict[str, list[float]] = {name: [] for name in IMPORTS}
        for _ in range(rounds):  # what importing the libraries alone costs on this machine
            for name, statement in IMPORTS.items():
                started = time.monotonic()
                subprocess.run([sys.executable, "-c", statement], env=env, check=True)
                floors[name].append(time.monotonic() - started)
        relay, proxy = procs[1], procs[2]
        idle = {"byecore": round(rss_mb(proxy.pid), 1),
                "bare relay": round(rss_mb(relay.pid), 1)}
        where = {"up": (up, procs[0].pid), "relay": (relay_url, relay.pid),
                 "byecore": (byecore, proxy.pid)}
        best: dict[str, dict] = {}
        for _ in range(rounds):
            for label, server, protocol, model in CASES:
                url, pid = where[server]
                row = await measure(label, url, pid, protocol, n, model)
                kept = best.setdefault(label, row)
                for key, value in row.items():
                    if key != "setup" and value < kept[key]:
                        kept[key] = value
        held = {"bare relay": await held_memory(relay_url, relay.pid, "chat"),
                "byecore pass-through": await held_memory(byecore, proxy.pid, "chat"),
                "byecore messages→chat": await held_memory(byecore, proxy.pid, "messages")}
        return {"rows": [best[label] for label, *_ in CASES], "idle_rss_mb": idle,
                "rss_200_held_streams_mb": held,
                "first_answer_s": {k: round(min(v), 3) for k, v in starts.items()},
                "import_s": {k: round(min(v), 3) for k, v in floors.items()},
                "loadavg": os.getloadavg(), "cpus": os.cpu_count()}
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
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(main(args.requests, args.rounds))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        cols = ["ms/request c=1", "ms/request c=32", "ms/200-chunk stream"]
        print(f"{'CPU per request (ms)':32}" + "".join(f"{c:>22}" for c in cols))
        bare = next(r for r in result["rows"] if r["setup"] == "bare aiohttp relay")
        for row in result["rows"]:
            cells = [f"{row[c]} ({row[c] / bare[c]:.1f}x)" if bare[c] else str(row[c])
                     for c in cols]
            print(f"{row['setup']:32}" + "".join(f"{c:>22}" for c in cells))
        print("(Nx: times the bare relay's figure, the floor for any aiohttp proxy here)")
        print(f"idle RSS MB: {result['idle_rss_mb']}")
        print(f"RSS MB with 200 streams held open: {result['rss_200_held_streams_mb']}")
        print(f"first answer after start, s: {result['first_answer_s']}")
        print(f"importing alone, s: {result['import_s']}")
        print(f"load average: {result['loadavg']} on {result['cpus']} CPUs")
