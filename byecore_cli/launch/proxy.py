"""The proxy a ``byecore run`` uses: the running one, or one started for it.

- A proxy the user started (``byecore proxy``, its runtime file says where) is used as it
  is and never stopped.
- A proxy another ``run`` started is shared: this run takes a lease on it.
- Otherwise ``run`` starts one in the background (its own session, so the terminal's
  Ctrl+C never reaches it; output to ``logs/run-proxy.log``) on the ``[proxy] port``, or
  on a free port when something else holds that one, and waits until it answers.

When the run ends it gives its lease back; the last one out stops the proxy (SIGTERM,
the graceful stop ``byecore proxy`` does on Ctrl+C) and waits until it is gone.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from byecore_cli.errors import ByecoreError
from byecore_cli.launch import leases
from byecore_cli.paths import Paths

HOST = "127.0.0.1"
START_TIMEOUT = 60.0  # a cold start imports every serving module first (runtime.preload)
STOP_TIMEOUT = 15.0  # byecore proxy's own graceful shutdown allows 10 s for open requests


@dataclass
class ProxyUse:
    root: str  # e.g. http://127.0.0.1:4000
    pid: int
    started: bool  # this run started it
    lease: Path | None  # None: a proxy the user started, left alone
    notes: list[str] = field(default_factory=list)


def acquire(settings, client: str) -> ProxyUse:
    """The proxy for ``client``'s run, holding a lease on it when ``run`` owns it."""
    from byecore_cli.proxy import runtime

    with leases.lock():
        leases.live()  # drop the leases of runs that died
        running = runtime.running_proxy()
        owner = leases.owner()
        if running is not None:
            root = runtime.client_url(running["host"], running["port"])
            if owner is None or owner["pid"] != running["pid"]:
                return ProxyUse(root, running["pid"], False, None, [
                    f"uses the byecore proxy running on port {running['port']} (pid "
                    f"{running['pid']}), and leaves it running"])
            return ProxyUse(root, running["pid"], False, leases.add(client), [
                f"shares the proxy another byecore run started on port {running['port']}; "
                "it stops when the last client run through it exits"])
        leases.clear_owner()
        lease = leases.add(client)
        try:
            return _start(settings, lease)
        except BaseException:
            leases.remove(lease)
            raise


def release(use: ProxyUse) -> None:
    """Give the lease back; the last one out stops the proxy ``run`` started."""
    if use.lease is None:
        return
    with leases.lock():
        leases.remove(use.lease)
        if leases.live():
            return
        owner = leases.owner()
        if owner is not None and _answers(owner["port"]):
            stop(owner["pid"])
        leases.clear_owner()


def stop(pid: int) -> None:
    import signal

    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return
    if not _gone(pid, STOP_TIMEOUT) and os.name != "nt":
        os.kill(pid, signal.SIGKILL)
        _gone(pid, 5.0)


def check_key(root: str, key: str, timeout: float = 5.0) -> None:
    """Wait until the proxy accepts ``key`` (it re-reads the keys file within a second)."""
    deadline = time.monotonic() + timeout
    while True:
        status = _get(f"{root}/v1/models", key)
        if status == 200:
            return
        if time.monotonic() > deadline:
            raise ByecoreError(
                f"the byecore proxy at {root} answers {status or 'nothing'} to this "
                "client's local key",
                hint="is it another byecore's proxy (another BYECORE_HOME)? stop it, or "
                     "set [proxy] port to another port")
        time.sleep(0.2)


def _start(settings, lease: Path) -> ProxyUse:
    from byecore_cli.files import ensure_private_dir
    from byecore_cli.proxy import runtime

    port, notes = _choose_port(settings.proxy.port)
    log_path = Paths.current().logs / "run-proxy.log"
    ensure_private_dir(Paths.current().home)
    ensure_private_dir(log_path.parent)
    # the last started proxy's output only: a fresh file each time, never growing
    log = open(log_path, "wb")  # noqa: SIM115 - the child holds it after we close ours
    try:
        os.chmod(log_path, 0o600)
        proc = subprocess.Popen(
            [sys.executable, "-m", "byecore_cli.launch.serve", "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
            **({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
               if os.name == "nt" else {}))
    finally:
        log.close()
    leases.set_owner(proc.pid, port)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        running = runtime.running_proxy()
        if running is not None and running["pid"] == proc.pid:
            break
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                stop(proc.pid)
            leases.clear_owner()
            raise ByecoreError(
                f"the byecore proxy did not start on port {port}: "
                f"{_last_line(log_path) or 'no output'}",
                hint=f"see {log_path}, or start it yourself: byecore proxy --port {port}")
        time.sleep(0.05)
    notes.append(f"started the byecore proxy on port {port} (pid {proc.pid}, log "
                 f"{log_path}); it stops when the last client run through it exits")
    return ProxyUse(runtime.client_url(HOST, port), proc.pid, True, lease, notes)


def _choose_port(port: int) -> tuple[int, list[str]]:
    if _free(port):
        return port, []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        free = sock.getsockname()[1]
    return free, [f"port {port} ([proxy] port) is taken by another program, so the proxy "
                  f"for this run listens on port {free}"]


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as byecore proxy binds
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _answers(port: int) -> bool:
    """A byecore proxy answers on ``port`` (never signal a pid some other program reuses)."""
    return _get(f"http://{HOST}:{port}/health", None) == 200


def _get(url: str, key: str | None) -> int | None:
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via HTTP_PROXY
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"}
                                     if key else {})
    try:
        with opener.open(request, timeout=3) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _reap(pid) or leases.alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _reap(pid: int) -> bool:
    """Collect ``pid`` if it is this process's child that exited (a zombie would still
    look alive); always False, so that the liveness check decides."""
    if os.name != "nt":
        with contextlib.suppress(OSError):  # not our child, or already collected
            os.waitpid(pid, os.WNOHANG)
    return False


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip()[:300] if lines else ""
