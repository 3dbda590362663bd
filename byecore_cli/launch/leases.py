"""Who uses a proxy that ``byecore run`` started, so the last one out stops it.

In byecore's home, folder ``run/``:

- ``lease-PID.json``: one per ``byecore run`` process using that proxy (its pid and
  client). A lease whose process is gone (killed, crashed) no longer counts.
- ``proxy.json``: the proxy ``run`` started: ``{"pid", "port"}``. A proxy the user started
  with ``byecore proxy`` has no such record and is never stopped by ``run``.
- ``lock``: an OS lock (flock; msvcrt on Windows, as ``history.state_lock``) held while a
  lease is taken or given back and while the proxy is started or stopped, so a ``run``
  starting as the last one ends never finds a proxy that is on its way out.

The proxy started by ``run`` also watches the leases itself (``watch``, in ``serve.py``):
when none is left — the last ``run`` was killed before it could stop it — it stops.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from byecore_cli.paths import Paths

WATCH_EVERY = 1.0  # seconds between the proxy's own looks at the leases
_EXIT_GRACE = 15.0  # a proxy told to stop that has not stopped by then exits at once


def folder() -> Path:
    return Paths.current().home / "run"


def alive(pid: int) -> bool:
    from byecore_cli.proxy import runtime

    return runtime.pid_alive(pid)  # the one liveness check byecore has (Windows-safe)


@contextlib.contextmanager
def lock() -> Iterator[None]:
    fd = _open_lock()
    try:
        yield
    finally:
        _unlock(fd)
        os.close(fd)


def add(client: str) -> Path:
    """A lease for this process; call under ``lock``."""
    from byecore_cli.files import SECRET_MODE, write_atomic

    path = folder() / f"lease-{os.getpid()}.json"
    write_atomic(path, json.dumps({"pid": os.getpid(), "client": client,
                                   "since": time.time()}) + "\n", mode=SECRET_MODE)
    return path


def remove(lease: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        lease.unlink()


def live() -> list[dict]:
    """The leases whose process still runs; stale ones are deleted. Call under ``lock``."""
    found = []
    for path in sorted(folder().glob("lease-*.json")):
        data = _load(path)
        if data is not None and isinstance(data.get("pid"), int) and alive(data["pid"]):
            found.append(data)
        else:
            remove(path)
    return found


def owner() -> dict | None:
    """The proxy ``run`` started, if it still runs: ``{"pid", "port"}``."""
    data = _load(folder() / "proxy.json")
    if data is None or not isinstance(data.get("pid"), int) or not alive(data["pid"]):
        return None
    return data


def set_owner(pid: int, port: int) -> None:
    from byecore_cli.files import SECRET_MODE, write_atomic

    write_atomic(folder() / "proxy.json", json.dumps({"pid": pid, "port": port}) + "\n",
                 mode=SECRET_MODE)


def clear_owner() -> None:
    with contextlib.suppress(FileNotFoundError):
        (folder() / "proxy.json").unlink()


def watch() -> threading.Thread:
    """In the proxy's process: stop it when no lease is left (a daemon thread)."""
    thread = threading.Thread(target=_watch, name="byecore-leases", daemon=True)
    thread.start()
    return thread


def _watch() -> None:
    while True:
        time.sleep(WATCH_EVERY)
        fd = _open_lock()
        if live():
            _unlock(fd)
            os.close(fd)
            continue
        mine = owner()
        if mine is not None and mine["pid"] == os.getpid():
            clear_owner()
        # The lock stays held until this process is gone: a run starting now waits, then
        # finds no proxy and starts its own, instead of reusing one that is stopping.
        _stop_self()
        return


def _stop_self() -> None:
    import signal

    timer = threading.Timer(_EXIT_GRACE, os._exit, args=(0,))
    timer.daemon = True
    timer.start()
    if os.name == "nt":
        import _thread

        _thread.interrupt_main()  # aiohttp's run_app stops cleanly on KeyboardInterrupt
    else:
        os.kill(os.getpid(), signal.SIGINT)  # run_app's own handler: a graceful stop


def _load(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _open_lock() -> int:
    from byecore_cli.clients.history import lock_fd
    from byecore_cli.files import SECRET_MODE, ensure_private_dir

    ensure_private_dir(Paths.current().home)  # 0700, before the folder inside it
    ensure_private_dir(folder())
    fd = os.open(folder() / "lock", os.O_RDWR | os.O_CREAT, SECRET_MODE)
    try:
        lock_fd(fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _unlock(fd: int) -> None:
    from byecore_cli.clients.history import unlock_fd

    unlock_fd(fd)
