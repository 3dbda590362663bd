"""Run ``byecore run CLIENT …`` for real, as a user would, against a scripted upstream.

``byecore run`` is a subprocess (``python -m byecore_cli run``) with the test's HOME and
BYECORE_HOME; it starts its own proxy, which the upstream's middleware catches in the
act (``Outcome.proxy``: the runtime file as it was during the first request). Afterwards
the proxy must be gone, and the user's files as they were: ``Outcome`` carries what
``check_home`` needs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from byecore_cli.config.store import SettingsStore
from byecore_cli.paths import Paths
from byecore_cli.proxy import runtime
from tests.clients.test_real_clients import _client_env
from tests.proxy.test_real_clients_proxy import UPSTREAM_KEY, _run

MODEL = "vendor-model-1"
DEAD = "http://127.0.0.1:9"  # discard port: nothing answers there
STALE = "sk-user-stale-token-0123456789"


def user_home() -> Path:
    return Path(os.environ["HOME"])


def writer_files(client: str) -> list[Path]:
    """Where the client's writer would put its files in the test's HOME."""
    from byecore_cli.clients import WRITERS

    home = user_home()
    return [f.path for f in WRITERS[client].files({"HOME": str(home)}, home).values()]


def secrets(client: str) -> list[str]:
    """What must never land in HOME: the vendor's key and the client's local key."""
    from byecore_cli.clients import local_keys

    return [UPSTREAM_KEY, local_keys.all_keys()[client]]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_env(home: Path, **extra: str) -> dict[str, str]:
    """A client's environment (tests.clients' own) plus byecore's home and the clients."""
    env = _client_env(home)
    env["BYECORE_HOME"] = os.environ["BYECORE_HOME"]
    bins = os.environ.get("BYECORE_CLIENT_BIN", "")
    env["PATH"] = os.pathsep.join(p for p in (bins, env.get("PATH", "")) if p)
    env.update(extra)
    return env


def add_vendor(cli, url: str, protocol: str, *, port: int | None = None) -> int:
    """Save the one-protocol provider 'vendor' and the proxy port ``run`` should use."""
    added = cli("provider", "add", "vendor", "--preset", "none", "--base-url", url,
                "--protocol", protocol, "--model", MODEL, "--key-stdin", input=UPSTREAM_KEY)
    assert added.exit_code == 0, added.output
    store = SettingsStore(Paths.current().settings)
    _, doc = store.load()
    port = port or free_port()
    doc["proxy"] = {"port": port}
    store.save(doc)
    return port


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    work: Path
    proxy: dict | None  # the runtime file while the client talked to the upstream
    before: dict[Path, bytes] = field(default_factory=dict)  # every file in HOME before

    @property
    def why(self) -> tuple:
        return self.code, self.out[-2000:], self.err[-3000:]


async def run_client(cli, client: str, upstream, protocol: str, args: list[str], *,
                     seed: dict[str, bytes] | None = None, timeout: float = 180,
                     env: dict[str, str] | None = None) -> Outcome:
    home = Path(os.environ["HOME"])
    work = home / "work"
    work.mkdir(parents=True, exist_ok=True)
    for name, data in (seed or {}).items():
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_bytes(data)
    before = {p: p.read_bytes() for p in home.rglob("*") if p.is_file()}
    seen: dict = {}

    @web.middleware
    async def catch_the_proxy(request, handler):
        seen.setdefault("proxy", runtime.running_proxy())
        return await handler(request)

    upstream.app.middlewares.append(catch_the_proxy)
    runner = web.AppRunner(upstream.app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        add_vendor(cli, f"http://127.0.0.1:{runner.addresses[0][1]}", protocol)
        argv = [sys.executable, "-m", "byecore_cli", "run", client, *args]
        code, out, err = await _run(argv, work, run_env(home, **(env or {})), timeout)
    finally:
        await runner.cleanup()
        leftover = (seen.get("proxy") or {}).get("pid")
        if leftover and runtime.pid_alive(leftover):  # never leave a proxy behind a failed test
            with contextlib.suppress(OSError):
                os.kill(leftover, signal.SIGKILL)
    return Outcome(code, out, err, work, seen.get("proxy"), before)


def check_home(outcome: Outcome, writer_files: list[Path], secrets: list[str],
               records: tuple[Path, ...] = ()) -> None:
    """The user's files byte for byte as before (but for the folders of ``records``,
    where the client keeps its sessions and logs); none of the client's config files
    created; no key anywhere in HOME; the proxy ``run`` started gone, with its records."""
    for path, data in outcome.before.items():
        if not any(path.is_relative_to(folder) for folder in records):
            assert path.read_bytes() == data, f"{path} changed"
    for path in writer_files:
        if path not in outcome.before:
            assert not path.exists(), f"{path} was created"
    home = Path(os.environ["HOME"])
    for path in home.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 50_000_000:
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, f"a key is in {path}"
    assert outcome.proxy is not None, "the upstream was reached without a running proxy"
    assert not runtime.pid_alive(outcome.proxy["pid"]), "the proxy run started still runs"
    assert runtime.running_proxy() is None
    assert not Paths.current().proxy_runtime.exists()
    run_dir = Paths.current().home / "run"
    assert sorted(p.name for p in run_dir.iterdir()) == ["lock"], list(run_dir.iterdir())


def hub_daemons(home: Path) -> set[int]:
    """The Cline hub daemons (``cline --cline-hub-daemon``) running for ``home``."""
    found = set()
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:  # not a process, or gone meanwhile
            continue
        if b"--cline-hub-daemon" in argv and f"HOME={home}".encode() in environ:
            found.add(int(proc.name))
    return found
