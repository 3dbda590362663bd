"""Throughput of ``byecore proxy`` with 1 and with 2 worker processes, side by side.

    .venv/bin/python bench/workers.py [--seconds 8] [--rounds 3] [--concurrency 32]
                                      [--generator auto|wrk|python] [--json]

Everything runs on 127.0.0.1: a fast fake upstream (a raw asyncio server that answers
every Chat request with one small canned completion), ``byecore proxy --open --workers
N`` with one Chat provider on it (so every request takes the pass-through and lands in
the usage log, as a real one does), and a load generator holding ``--concurrency``
keep-alive connections, each sending its next request as soon as its answer is in:
``wrk`` (a C load generator, ``apt-get install wrk``) when it is on PATH, else a raw
asyncio client. The upstream and the generator are deliberately cheap (no HTTP
library), so that on a small machine the proxy gets the cores; they still share them,
which the CPU columns show. The setups take turns, ``--rounds`` times, and each figure
is the best round: on a shared machine other load only ever takes away.
Goal (issue 15): 2 workers serve at least 1.7× what 1 does on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSWER = json.dumps({
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "pong"}}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}).encode()
UPSTREAM_REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  b"Content-Length: " + str(len(ANSWER)).encode() + b"\r\n\r\n" + ANSWER)
BODY = json.dumps({"model": "m", "messages": [{"role": "user", "content": "ping"}]}).encode()
REQUEST = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Content-Type: application/json\r\nContent-Length: "
           + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)


# -- the fake upstream: its own process --------------------------------------------------

class _Upstream(asyncio.Protocol):
    """Answers each request on a keep-alive connection (body by Content-Length)."""

    def connection_made(self, transport) -> None:
        self.transport, self.buffer = transport, b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(rest) < length:
                return
            self.buffer = rest[length:]
            self.transport.write(UPSTREAM_REPLY)


def serve_upstream(port_file: str) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Upstream, "127.0.0.1", 0,
                                                                backlog=1024)
        Path(port_file).write_text(str(server.sockets[0].getsockname()[1]))
        await asyncio.Event().wait()

    asyncio.run(main())


# -- the load generator --------------------------------------------------------------------

async def _one_connection(port: int, stop_at: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < stop_at:
            writer.write(REQUEST)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length, chunked = None, False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
            if chunked:
                while True:
                    size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            elif length:
                await reader.readexactly(length)
            counts[0 if status == 200 else 1] += 1
    finally:
        writer.close()


async def _load_python(port: int, seconds: float, concurrency: int) -> tuple[int, int]:
    counts = [0, 0]
    stop_at = time.monotonic() + seconds
    await asyncio.gather(*(_one_connection(port, stop_at, counts)
                           for _ in range(concurrency)))
    return counts[0], counts[1]


WRK_SCRIPT = f"""wrk.method = "POST"
wrk.body = {json.dumps(BODY.decode())}
wrk.headers["Content-Type"] = "application/json"
"""


def _load_wrk(port: int, seconds: float, concurrency: int, script: Path) -> tuple[int, int]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "-s", str(script),
         f"http://127.0.0.1:{port}/v1/chat/completions"],
        capture_output=True, text=True, check=True).stdout
    total = errors = 0
    for line in out.splitlines():
        words = line.split()
        if "requests in" in line:
            total = int(words[0])
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            errors += int(words[-1])
        elif line.strip().startswith("Socket errors:"):
            errors += sum(int(w.rstrip(",")) for w in words if w.rstrip(",").isdigit())
    return total - errors, errors


def _load(port: int, seconds: float, concurrency: int, script: Path | None) -> tuple[int, int]:
    if script is not None:
        return _load_wrk(port, seconds, concurrency, script)
    return asyncio.run(_load_python(port, seconds, concurrency))


# -- the proxy -----------------------------------------------------------------------------

def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Proxy:
    def __init__(self, home: Path, workers: int) -> None:
        self.home, self.port, self.workers = home, _free_port(), workers
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "byecore_cli", "proxy", "--open", "--port", str(self.port),
             "--workers", str(workers)],
            cwd=ROOT, env={**os.environ, "BYECORE_HOME": str(home)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pids = self._wait_ready()

    def _wait_ready(self) -> list[int]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"byecore proxy --workers {self.workers} exited early")
            try:
                data = json.loads((self.home / "proxy.json").read_text())
                pids = data.get("workers", [data["pid"]])
                if len(pids) == self.workers and data["pid"] == self.proc.pid:
                    urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=5)
                    return pids
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        raise SystemExit("the proxy did not start")

    def cpu(self) -> float:
        return sum(_cpu_seconds(p) for p in self.pids)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _generator_cpu() -> float:
    """CPU of this process and of its finished children (wrk)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _measure(proxy: Proxy, upstream_pid: int, seconds: float, concurrency: int,
             script: Path | None) -> dict:
    _load(proxy.port, 1.0, concurrency, script)  # warm: connections, pools, caches
    cpu_proxy, cpu_up, cpu_load = proxy.cpu(), _cpu_seconds(upstream_pid), _generator_cpu()
    start = time.monotonic()
    ok, failed = _load(proxy.port, seconds, concurrency, script)
    wall = time.monotonic() - start
    load_cpu = _generator_cpu() - cpu_load
    return {"workers": proxy.workers, "requests": ok, "errors": failed, "seconds": wall,
            "rps": ok / wall, "proxy_cpu": (proxy.cpu() - cpu_proxy) / wall,
            "upstream_cpu": (_cpu_seconds(upstream_pid) - cpu_up) / wall,
            "generator_cpu": load_cpu / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve-upstream", metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_upstream:
        serve_upstream(args.serve_upstream)
        return
    with tempfile.TemporaryDirectory(prefix="byecore-bench-") as tmp:
        port_file = Path(tmp) / "upstream.port"
        upstream = subprocess.Popen([sys.executable, __file__, "--serve-upstream",
                                     str(port_file)])
        try:
            while not port_file.exists() or not port_file.read_text():
                time.sleep(0.05)
            results = _run(Path(tmp), int(port_file.read_text()), upstream.pid, args)
        finally:
            upstream.terminate()
            upstream.wait()
    _report(results, args)


def _run(tmp: Path, upstream_port: int, upstream_pid: int, args) -> dict[int, list[dict]]:
    import shutil

    if args.generator == "auto":
        args.generator = "wrk" if shutil.which("wrk") else "python"
    script = None
    if args.generator == "wrk":
        script = tmp / "post.lua"
        script.write_text(WRK_SCRIPT)
    results: dict[int, list[dict]] = {1: [], 2: []}
    for n in results:
        home = tmp / f"home-{n}"
        home.mkdir()
        (home / "settings.toml").write_text(
            f'default_provider = "up"\n\n[providers.up]\n'
            f'base_url = "http://127.0.0.1:{upstream_port}"\nprotocols = ["chat"]\n'
            f'key = "sk-bench-0123456789"\nmodels = ["m"]\n')
    for _ in range(args.rounds):
        for n in results:  # taking turns: a burst of other load hits both alike
            proxy = Proxy(tmp / f"home-{n}", n)
            try:
                results[n].append(_measure(proxy, upstream_pid, args.seconds,
                                           args.concurrency, script))
            finally:
                proxy.stop()
    return results


def _report(results: dict[int, list[dict]], args) -> None:
    best = {n: max(rounds, key=lambda r: r["rps"]) for n, rounds in results.items()}
    ratio = best[2]["rps"] / best[1]["rps"] if best[1]["rps"] else 0.0
    if args.json:
        print(json.dumps({"concurrency": args.concurrency, "cores": os.cpu_count(),
                          "generator": args.generator,
                          "best": best, "rounds": results, "ratio": ratio}, indent=2))
        return
    print(f"byecore proxy, Chat pass-through, concurrency {args.concurrency}, "
          f"{os.cpu_count()} cores, best of {args.rounds} rounds of {args.seconds:g} s, "
          f"load from {args.generator}")
    # req per CPU-second of the proxy's processes: equal for 1 and 2 workers means the
    # workers cost each other nothing, and what is missing from 2x is cores taken by others
    print(f"{'workers':>7} {'req/s':>9} {'errors':>7} {'proxy CPU':>10} {'req/CPU-s':>10} "
          f"{'upstream CPU':>13} {'generator CPU':>14}   rounds (req/s)")
    for n, row in best.items():
        rounds = ", ".join(f"{r['rps']:.0f}" for r in results[n])
        per_cpu = row["rps"] / row["proxy_cpu"] if row["proxy_cpu"] else 0.0
        print(f"{n:>7} {row['rps']:>9.0f} {row['errors']:>7} {row['proxy_cpu']:>9.2f}c "
              f"{per_cpu:>10.0f} {row['upstream_cpu']:>12.2f}c "
              f"{row['generator_cpu']:>13.2f}c   {rounds}")
    print(f"2 workers / 1 worker: {ratio:.2f}x (goal: at least 1.70x on 2 cores); load "
          f"average {os.getloadavg()[0]:.2f} (this bench alone adds about 1 per worker)")


if __name__ == "__main__":
    main()
