"""The serving proxy's process: where it says it listens, and what it loads up front.

- ``Paths.proxy_runtime`` (``proxy.json`` in byecore's home) holds ``{"host", "port",
  "pid", "url"}`` while a proxy serves, so other commands (``byecore setup --via-proxy``)
  point clients at the port really bound; ``running_proxy()`` reads it back, and only
  while that process lives.
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
    return data if _alive(data["pid"]) else None


def _alive(pid: int) -> bool:
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


def announce(host: str, port: int) -> dict:
    """Write the runtime file (0600, atomically) for this process; returns what it says."""
    from byecore_cli.files import SECRET_MODE, write_atomic

    data = {"host": host, "port": port, "pid": os.getpid(), "url": client_url(host, port)}
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
