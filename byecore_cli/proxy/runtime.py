"""The serving proxy's process: where it says it listens, and what it loads up front.

- ``Paths.proxy_runtime`` (``proxy.json`` in byecore's home) holds ``{"host", "port",
  "pid", "url"}`` while a proxy serves, so other commands (``byecore setup --via-proxy``)
  point clients at the port really bound; ``running_proxy()`` reads it back, and only
  while that process lives. With ``--workers N`` (N > 1) ``pid`` is the supervisor's and
  ``"workers"`` lists the processes serving, kept current as crashed ones are replaced.
- ``--workers N``: ``listeners()`` makes N sockets on one port with SO_REUSEPORT, which
  the kernel balances connections over, and ``Workers`` runs one worker process on each
  (see its docstring); ``reuse_port()`` says where the OS has no such option.
- ``preload()`` imports every module the serving path would otherwise import on first
  use. A ``pip install -e .`` run while the proxy serves replaces files on disk; a proxy
  that imported them late would then mix old and new modules and fail every request.
- ``OneLineErrors`` turns aiohttp's traceback for each malformed HTTP request into one
  log line: a port scanner must not fill the log.

This module stays light (no aiohttp at import): ``setup`` imports it to read the file.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import pkgutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable

from byecore_cli.paths import Paths

# Packages whose every module the serving path may reach, and the third-party and
# standard modules they import inside functions.
SERVING_PACKAGES = ("byecore_cli.codecs", "byecore_cli.hub", "byecore_cli.proxy",
                    "byecore_cli.providers", "byecore_cli.config")
SERVING_MODULES = ("byecore_cli.clients.local_keys", "byecore_cli.files", "byecore_cli.errors",
                   "tomlkit", "tomlkit.exceptions", "difflib", "email.utils", "yarl",
                   "aiohttp.helpers")


def running_proxy() -> dict | None:
    """The running proxy's ``{"host", "port", "pid", "url"}``; None when no proxy runs
    (no file, a file that does not parse, or a pid that is gone)."""
    try:
        data = json.loads(Paths.current().proxy_runtime.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not all(
            isinstance(data.get(k), t) for k, t in (("host", str), ("port", int),
                                                     ("pid", int), ("url", str))):
        return None
    return data if pid_alive(data["pid"]) else None


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":
        # No os.kill here: on Windows it probes nothing. Signal 0 is CTRL_C_EVENT there,
        # a Ctrl+C sent through the console (it can interrupt the processes sharing it,
        # byecore itself included), and every other signal is TerminateProcess.
        return _alive_on_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # somebody else's process: alive, but not likely ours
    except OSError:
        return False
    return True


def _alive_on_windows(pid: int) -> bool:
    """Ask Windows whether ``pid`` still runs (it only opens the process to read its exit
    code). When it cannot be asked, trust the file: the proxy removes it when it stops,
    and a stale one only sends ``setup --via-proxy`` to the port a proxy last used."""
    try:
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    except (ImportError, AttributeError, OSError):
        return True
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
    kernel32.GetExitCodeProcess.argtypes = (wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD))
    kernel32.CloseHandle.argtypes = (wintypes.HANDLE,)
    query_limited_information, access_denied, still_active = 0x1000, 5, 259
    handle = kernel32.OpenProcess(query_limited_information, False, pid)
    if not handle:
        # denied: it runs, as somebody else's process; any other failure: no such pid
        return ctypes.get_last_error() == access_denied
    try:
        code = wintypes.DWORD()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == still_active
    finally:
        kernel32.CloseHandle(handle)


def client_url(host: str, port: int) -> str:
    """The root URL a local client uses: a wildcard address is reached at loopback."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def announce(host: str, port: int, workers: list[int] | None = None) -> dict:
    """Write the runtime file (0600, atomically) for this process; returns what it says.
    ``workers``: the pids of the worker processes serving, when this one supervises."""
    from byecore_cli.files import SECRET_MODE, write_atomic

    data = {"host": host, "port": port, "pid": os.getpid(), "url": client_url(host, port)}
    if workers:
        data["workers"] = workers
    write_atomic(Paths.current().proxy_runtime, json.dumps(data, indent=2) + "\n",
                 mode=SECRET_MODE)
    return data


def withdraw() -> None:
    """Remove the runtime file if it is this process's (a newer proxy may have replaced it)."""
    path = Paths.current().proxy_runtime
    try:
        mine = json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid()
    except (OSError, ValueError, AttributeError):
        return
    if mine:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def preload() -> list[str]:
    """Import everything serving may import lazily; returns the module names loaded."""
    names = list(SERVING_MODULES)
    for package in SERVING_PACKAGES:
        module = importlib.import_module(package)
        names.append(package)
        names.extend(info.name for info in pkgutil.walk_packages(module.__path__, package + "."))
    for name in names:
        importlib.import_module(name)
    return names


class OneLineErrors(logging.Filter):
    """aiohttp's server logs a full traceback for every request it cannot parse (a bad
    request line, a bad header, a body that does not decode): keep one warning line with
    the reason. Tracebacks of anything else (a real bug) stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or record.exc_info[1] is None:
            return True
        from aiohttp.http_exceptions import HttpProcessingError

        exc = record.exc_info[1]
        if isinstance(exc, HttpProcessingError) or isinstance(
                exc.__cause__, HttpProcessingError):
            reason = " ".join(str(exc).split())[:300]
            record.msg = f"{record.getMessage()}: {type(exc).__name__}: {reason}"
            record.args = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"  # the client's fault
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_bad_requests() -> None:
    """Install ``OneLineErrors`` on aiohttp's server logger (once)."""
    logger = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, OneLineErrors) for f in logger.filters):
        logger.addFilter(OneLineErrors())


# -- several worker processes on one port ------------------------------------------------

log = logging.getLogger("byecore.proxy")


def reuse_port() -> tuple[int | None, str]:
    """The socket option that spreads one port's connections over processes, or None and
    why not. Linux's SO_REUSEPORT (3.9+) balances them; FreeBSD's does only as
    SO_REUSEPORT_LB; macOS and Windows have no balancing form (on macOS one socket takes
    every connection), so there a single process serves."""
    if sys.platform.startswith("linux"):
        option = getattr(socket, "SO_REUSEPORT", None)
    elif sys.platform.startswith("freebsd"):
        option = getattr(socket, "SO_REUSEPORT_LB", None)
    else:
        option = None
    if option is None:
        return None, (f"this system ({sys.platform}) has no SO_REUSEPORT that spreads "
                      "connections over processes")
    try:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, option, 1)
    except OSError as exc:
        return None, f"the kernel refuses SO_REUSEPORT ({exc.strerror or exc})"
    return option, ""


def listeners(host: str, port: int, count: int, option: int) -> list[socket.socket]:
    """``count`` listening sockets on one port, all with ``option`` (from reuse_port).

    A plain bind first: SO_REUSEPORT would let these join another byecore's sockets on
    the port (same user) and silently split its clients, so a port anything listens on is
    refused here as it is without workers. That probe also picks the port for port 0."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)
        address = (address[0], probe.getsockname()[1], *address[2:])
    made: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, kind, proto)
            made.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, option, 1)
            sock.bind(address)
            sock.listen(512)
            sock.set_inheritable(True)
    except OSError:
        for sock in made:
            sock.close()
        raise
    return made


class WorkersFailed(Exception):
    """Workers kept exiting on their own: the supervisor stopped the rest."""


class Workers:
    """N worker processes, one on each listener, and the supervisor's loop around them.

    - The listeners are made here and passed down (``pass_fds``), so a busy port is an
      error before anything starts, and a worker that dies is restarted on the same
      socket: connections the kernel queued for it meanwhile are served, not reset.
    - Workers run in sessions of their own: a terminal's Ctrl+C reaches only the
      supervisor, which sends each worker one SIGTERM (aiohttp then drains in-flight
      requests, as a single proxy does); a second Ctrl+C forwards a second SIGTERM,
      which ends the drain, again as for a single proxy. The supervisor closes its own
      copies of the listeners first, so new connections are refused rather than queued
      for workers that are stopping.
    - A worker exiting by itself is restarted; ``CRASHES`` exits within ``WINDOW``
      seconds stop the lot (``WorkersFailed``).
    """

    CRASHES, WINDOW = 5, 60.0
    STOP_SECONDS = 20.0  # aiohttp drains for up to 10 s, then cleans up

    def __init__(self, socks: list[socket.socket], command: Callable[[int], list[str]],
                 on_change: Callable[[list[int]], None] = lambda pids: None) -> None:
        self.socks, self.command, self.on_change = socks, command, on_change
        self.procs: list[subprocess.Popen | None] = [None] * len(socks)
        self.crashes: list[float] = []
        self.signals = 0

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p is not None]

    def _spawn(self, i: int) -> None:
        fd = self.socks[i].fileno()
        self.procs[i] = subprocess.Popen(self.command(fd), pass_fds=(fd,),
                                         start_new_session=True)

    def run(self) -> None:
        """Start the workers and supervise them until a signal stops them."""
        def count(signum, frame) -> None:
            self.signals += 1

        previous = {s: signal.signal(s, count) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            for i in range(len(self.socks)):
                self._spawn(i)
            self.on_change(self.pids)
            while not self.signals:
                time.sleep(0.2)
                self._restart_exited()
        finally:
            self._stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _restart_exited(self) -> None:
        for i, proc in enumerate(self.procs):
            if proc is None or proc.poll() is None or self.signals:
                continue
            now = time.monotonic()
            self.crashes = [t for t in self.crashes if now - t < self.WINDOW] + [now]
            if len(self.crashes) >= self.CRASHES:
                raise WorkersFailed(f"workers exited {len(self.crashes)} times within "
                                    f"{self.WINDOW:g} s (the last with code "
                                    f"{proc.returncode})")
            log.warning("worker %d exited with code %s: starting another",
                        proc.pid, proc.returncode)
            self._spawn(i)
            self.on_change(self.pids)

    def _stop(self) -> None:
        for sock in self.socks:
            sock.close()
        sent = 0
        deadline = time.monotonic() + self.STOP_SECONDS
        while time.monotonic() < deadline:
            alive = [p for p in self.procs if p is not None and p.poll() is None]
            if not alive:
                return
            if sent < max(1, self.signals):  # one SIGTERM per signal the supervisor got
                for proc in alive:
                    with contextlib.suppress(ProcessLookupError):
                        proc.send_signal(signal.SIGTERM)
                sent += 1
            time.sleep(0.05)
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                log.warning("worker %d did not stop in %g s: killing it", proc.pid,
                            self.STOP_SECONDS)
                proc.kill()
                proc.wait()
