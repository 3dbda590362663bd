"""``byecore proxy`` as a user runs it: a real process, its port, home, runtime file and log."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import byecore_cli
from byecore_cli.config.models import ProxyTimeouts

PACKAGE = Path(byecore_cli.__file__).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _byecore(*args: str, env: dict | None = None, cwd=None, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "byecore_cli", *args],
                            env={**os.environ, **(env or {})}, cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def _get(url: str, data: bytes | None = None, headers=None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _wait_for_health(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30  # start-up on a busy machine; not a measure
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the proxy exited early: {proc.communicate()}")
        try:
            if _get(f"http://127.0.0.1:{port}/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("the proxy did not start")


def _stop(proc: subprocess.Popen) -> tuple[int, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return proc.returncode, err


def _raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
            if b"\r\n\r\n" in out:
                break
    return out


# -- options ------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [("--port", "70000"), ("--port", "0"), ("--port", "-1")])
def test_a_port_outside_1_to_65535_is_a_usage_error(args):
    proc = _byecore("proxy", "--open", *args)
    try:
        _, err = proc.communicate(timeout=60)  # before the fix it would serve: a failure
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("the proxy started on an invalid port") from None
    assert proc.returncode == 2
    assert "1 to 65535" in err and "Traceback" not in err


def test_a_bad_port_in_json_mode_is_a_json_error(cli):
    result = cli("proxy", "--port", "70000", "--json")
    envelope = json.loads(result.stdout)
    assert result.exit_code == 2 and envelope["ok"] is False
    assert envelope["error"]["code"] == "usage" and "70000" in envelope["error"]["message"]


def test_help_states_the_default_timeouts(cli):
    result = cli("proxy", "--help")
    text = " ".join(result.stdout.split())
    assert result.exit_code == 0 and "--port" in text
    for name, seconds in ProxyTimeouts():
        assert f"{name} {seconds:g} s" in text, name


# -- a running proxy ------------------------------------------------------------------------

def test_a_serving_proxy_keeps_a_private_home_and_says_where_it_listens(byecore_home):
    from byecore_cli.proxy.runtime import running_proxy

    assert not byecore_home.exists()
    port = _free_port()
    proc = _byecore("proxy", "--open", "--port", str(port))
    try:
        _wait_for_health(port, proc)
        assert stat.S_IMODE(byecore_home.stat().st_mode) == 0o700
        runtime = byecore_home / "proxy.json"
        assert stat.S_IMODE(runtime.stat().st_mode) == 0o600
        assert running_proxy() == {"host": "127.0.0.1", "port": port, "pid": proc.pid,
                                   "url": f"http://127.0.0.1:{port}"}
        # malformed HTTP: a 400 each (aiohttp's own: no protocol is known yet), and one
        # log line each, not a traceback
        answer = _raw(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n")
        assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request"), answer
        body = b'{"model": "demo"}'
        answer = _raw(port, b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s"
                      % (len(body), body))
        assert answer.startswith(b"HTTP/1.1 400")
    finally:
        code, err = _stop(proc)
    assert code == 0, err
    assert not runtime.exists() and running_proxy() is None
    assert "Traceback" not in err, err
    assert "aiohttp.server" in err  # the bad requests were still reported


@pytest.mark.parametrize(("host", "served"), [("0.0.0.0", True), ("127.0.0.1", False)])
def test_the_machines_own_name_is_served_only_beyond_loopback(byecore_home, host, served):
    """--host reaches the request guard: a LAN user's Host, this machine's name, is served
    on 0.0.0.0; on loopback it would only help a page rebound to 127.0.0.1 by mDNS."""
    from byecore_cli.clients.local_keys import get_or_create

    key = get_or_create("lan")
    port = _free_port()
    proc = _byecore("proxy", "--host", host, "--port", str(port))
    try:
        _wait_for_health(port, proc)
        status, body = _get(f"http://127.0.0.1:{port}/v1/models",
                            headers={"Host": f"{socket.gethostname()}:{port}",
                                     "Authorization": f"Bearer {key}"})
    finally:
        code, err = _stop(proc)
    assert code == 0, err
    assert status == (200 if served else 403), body
    if not served:
        assert "allowed_hosts" in body["error"]["message"]


def test_running_proxy_is_none_without_a_live_process(byecore_home):
    from byecore_cli.proxy.runtime import running_proxy

    assert running_proxy() is None
    byecore_home.mkdir()
    runtime = byecore_home / "proxy.json"
    runtime.write_text("{not json")
    assert running_proxy() is None
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    runtime.write_text(json.dumps({"host": "127.0.0.1", "port": 4000,
                                   "pid": int(gone.stdout), "url": "http://127.0.0.1:4000"}))
    assert running_proxy() is None
    runtime.write_text(json.dumps({"host": "127.0.0.1", "port": 4000, "pid": os.getpid(),
                                   "url": "http://127.0.0.1:4000"}))
    assert running_proxy()["port"] == 4000


def test_on_windows_the_liveness_check_never_sends_a_signal(monkeypatch):
    """os.kill(pid, 0) on Windows terminates the process: asking whether the proxy
    runs must not stop it."""
    from byecore_cli.proxy import runtime

    signals = []
    with monkeypatch.context() as patch:  # undone before pytest reports anything
        patch.setattr(os, "kill", lambda pid, sig: signals.append((pid, sig)))
        patch.setattr(os, "name", "nt")
        cannot_ask = runtime.pid_alive(os.getpid())  # no kernel32 here: trust the file
        patch.setattr(runtime, "_alive_on_windows", lambda pid: pid == 4242, raising=False)
        answers = runtime.pid_alive(4242), runtime.pid_alive(4243), runtime.pid_alive(0)
    assert signals == []
    assert cannot_ask is True
    assert answers == (True, False, False)


def test_a_running_proxy_never_imports_from_disk_again(tmp_path, byecore_home):
    """The README's quick start reinstalls the package while the proxy serves: the files
    the proxy would import lazily change under it. Here they disappear altogether."""
    copy = tmp_path / "site"
    shutil.copytree(PACKAGE, copy / "byecore_cli",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {"PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    where = subprocess.run(
        [sys.executable, "-c", "import byecore_cli; print(byecore_cli.__file__)"],
        env={**os.environ, **env}, cwd=copy, capture_output=True, text=True)
    assert where.stdout.strip() == str(copy / "byecore_cli" / "__init__.py")
    port = _free_port()
    proc = _byecore("proxy", "--open", "--port", str(port), env=env, cwd=copy)
    try:
        _wait_for_health(port, proc)
        (copy / "byecore_cli").rename(copy / "byecore_cli-old")  # gone from the import path
        root = f"http://127.0.0.1:{port}"
        cases = [
            ("/v1/chat/completions", {"model": "demo", "messages": [
                {"role": "user", "content": "hi"}]}, {}),
            ("/v1/responses", {"model": "demo", "input": "hi"}, {}),
            ("/v1/messages", {"model": "demo", "max_tokens": 50, "messages": [
                {"role": "user", "content": "hi"}]}, {"anthropic-version": "2023-06-01"}),
            ("/v1/messages", {"model": "demo", "max_tokens": 50, "stream": True, "messages": [
                {"role": "user", "content": "hi"}]}, {"anthropic-version": "2023-06-01"}),
            ("/v1/messages/count_tokens", {"model": "demo", "messages": [
                {"role": "user", "content": "hi"}]}, {"anthropic-version": "2023-06-01"}),
        ]
        for path, body, headers in cases:
            req = urllib.request.Request(root + path, data=json.dumps(body).encode(), headers={
                "Content-Type": "application/json", **headers})
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    status, text = resp.status, resp.read()
            except urllib.error.HTTPError as exc:
                status, text = exc.code, exc.read()
            assert status == 200, (path, text[:500])
        status, _ = _get(root + "/nowhere")
        assert status == 404
    finally:
        code, err = _stop(proc)
    assert "ModuleNotFoundError" not in err and "Traceback" not in err, err
