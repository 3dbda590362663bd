"""``byecore run``'s plumbing, with a stand-in client (``fakes.py``) and a real proxy.

Arguments pass through untouched, the exit code and a killing signal come back, signals
sent to ``byecore run`` reach the client, the proxy ``run`` starts is shared by the runs
using it and stops with the last one (or on its own when a run is killed), a proxy the
user started is used and left alone (``run`` then execs the client: same pid), and a
port held by another program makes ``run`` pick a free one and say so.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from byecore_cli.clients import local_keys
from byecore_cli.paths import Paths
from byecore_cli.proxy import runtime
from tests.launch.fakes import env_for, install, record_of, run_byecore
from tests.launch.harness import add_vendor

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX signals and exec")


@pytest.fixture
def lab(cli, tmp_path):
    port = add_vendor(cli, "http://127.0.0.1:9", "chat")
    bin_dir = tmp_path / "bin"
    install(bin_dir, "aider")
    install(bin_dir, "codex")
    work = tmp_path / "work"
    work.mkdir()
    return SimpleNamespace(port=port, bin=bin_dir, work=work, tmp=tmp_path)


def _finish(proc, timeout: float = 60) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _run_dir() -> list[str]:
    folder = Paths.current().home / "run"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _gone(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while runtime.pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_arguments_pass_through_and_the_exit_code_comes_back(lab):
    record = lab.tmp / "rec.json"
    env = env_for(lab.bin, record, exit="3")
    env["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"  # would beat the profile in litellm
    args = ["--model", "x", "--help", "--json", "--", "-q", "a b"]
    proc = run_byecore(["aider", *args], env, lab.work)
    code, out, err = _finish(proc)
    assert code == 3, err
    rec = record_of(record)
    assert rec["argv"] == args
    seen = rec["env"]
    assert seen["AIDER_OPENAI_API_BASE"] == f"http://127.0.0.1:{lab.port}/v1"
    assert seen["AIDER_OPENAI_API_KEY"] == local_keys.all_keys()["aider"]
    assert seen["AIDER_MODEL"] == "openai/vendor/vendor-model-1"
    assert "OPENAI_BASE_URL" not in seen
    assert rec["leases"] == [f"lease-{proc.pid}.json"]  # run held a lease meanwhile
    assert not Path(seen["AIDER_MODEL_METADATA_FILE"]).exists()  # its folder is removed
    assert "started the byecore proxy on port" in err
    assert runtime.running_proxy() is None and _run_dir() == ["lock"]


def test_byecore_options_go_before_the_client(lab):
    record = lab.tmp / "rec.json"
    proc = run_byecore(["-q", "--model", "other-model", "aider", "--model", "mine"],
                       env_for(lab.bin, record), lab.work)
    code, _, err = _finish(proc)
    assert code == 0 and err == ""  # --quiet: nothing before the client
    rec = record_of(record)
    assert rec["env"]["AIDER_MODEL"] == "openai/vendor/other-model"
    assert rec["argv"] == ["--model", "mine"]


def test_a_client_killed_by_a_signal_makes_run_exit_128_plus_it(lab):
    proc = run_byecore(["aider"], env_for(lab.bin, lab.tmp / "rec.json", mode="die"),
                       lab.work)
    code, _, err = _finish(proc)
    assert code == 128 + signal.SIGTERM, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_sent_to_run_reaches_the_client(lab, sig):
    record = lab.tmp / "rec.json"
    proc = run_byecore(["aider"], env_for(lab.bin, record, mode="wait"), lab.work)
    record_of(record, until="waiting")
    proc.send_signal(sig)
    code, _, err = _finish(proc)
    assert code == 40 + sig, err  # the client's own exit, after its handler ran
    # once, and from byecore run: the test signalled run alone
    assert record_of(record)["signals"] == [{"name": signal.Signals(sig).name,
                                             "from": proc.pid}]
    assert runtime.running_proxy() is None


def test_the_proxy_serves_every_run_and_stops_with_the_last(lab):
    first, second = lab.tmp / "a.json", lab.tmp / "b.json"
    a = run_byecore(["aider"], env_for(lab.bin, first, mode="wait"), lab.work)
    record_of(first, until="waiting")
    b = run_byecore(["codex"], env_for(lab.bin, second, mode="wait"), lab.work)
    rec_b = record_of(second, until="waiting")
    assert rec_b["leases"] == sorted([f"lease-{a.pid}.json", f"lease-{b.pid}.json"])
    proxy = runtime.running_proxy()
    assert proxy is not None and proxy["port"] == lab.port
    Path(str(first) + ".release").touch()  # the one that started it ends first
    assert _finish(a)[0] == 0
    assert runtime.running_proxy() == proxy and runtime.pid_alive(proxy["pid"])
    Path(str(second) + ".release").touch()
    code, _, err = _finish(b)
    assert code == 0, err
    assert "shares the proxy another byecore run started" in err
    assert not runtime.pid_alive(proxy["pid"]) and runtime.running_proxy() is None
    assert _run_dir() == ["lock"]


def test_a_killed_run_still_stops_its_proxy(lab):
    record = lab.tmp / "rec.json"
    proc = run_byecore(["aider"], env_for(lab.bin, record, mode="wait"), lab.work)
    record_of(record, until="waiting")
    proxy = runtime.running_proxy()
    assert proxy is not None
    os.killpg(proc.pid, signal.SIGKILL)  # run and its client: no cleanup at all
    proc.wait()
    assert _gone(proxy["pid"]), "the proxy did not notice that its last run was gone"
    assert runtime.running_proxy() is None


def test_a_proxy_the_user_started_is_used_and_left_running(lab):
    import subprocess
    import sys

    user_proxy = subprocess.Popen(
        [sys.executable, "-m", "byecore_cli", "proxy", "--port", str(lab.port)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while runtime.running_proxy() is None:
            assert user_proxy.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        record = lab.tmp / "rec.json"
        proc = run_byecore(["codex", "exec", "hi"], env_for(lab.bin, record), lab.work)
        code, _, err = _finish(proc)
        assert code == 0, err
        rec = record_of(record)
        assert rec["pid"] == proc.pid  # nothing to clean up: byecore became the client
        assert rec["leases"] == []
        assert rec["argv"][:2] == ["-c", 'model_provider="byecore"']
        assert rec["argv"][-2:] == ["exec", "hi"]
        assert "leaves it running" in err
        assert user_proxy.poll() is None and runtime.running_proxy()["pid"] == user_proxy.pid
    finally:
        user_proxy.terminate()
        user_proxy.wait(20)


def test_a_port_held_by_another_program_makes_run_pick_a_free_one(lab):
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", lab.port))
    holder.listen(1)
    try:
        record = lab.tmp / "rec.json"
        code, _, err = _finish(run_byecore(["aider"], env_for(lab.bin, record), lab.work))
    finally:
        holder.close()
    assert code == 0, err
    assert f"port {lab.port} ([proxy] port) is taken by another program" in err
    base = record_of(record)["env"]["AIDER_OPENAI_API_BASE"]
    assert base.startswith("http://127.0.0.1:") and f":{lab.port}/" not in base


# -- errors: one clear message, no traceback, nothing started ---------------------------

def _no_proxy_started() -> None:
    assert runtime.running_proxy() is None
    assert not [n for n in _run_dir() if n.startswith("lease-")]


def test_an_unknown_client_is_named_with_the_known_ones(cli):
    result = cli("run", "nosuch")
    assert result.exit_code == 1
    assert "unknown client 'nosuch'" in result.output and "codex, claude" in result.output
    assert "Traceback" not in result.output


def test_a_client_run_cannot_launch_points_at_setup(cli):
    result = cli("run", "zed")
    assert result.exit_code == 2
    assert "cannot launch Zed" in result.output and "byecore setup zed" in result.output


def test_a_missing_client_says_how_to_install_it(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = cli("run", "aider")
    assert result.exit_code == 1
    assert "Aider is not installed here" in result.output
    assert "pipx install aider-chat" in result.output
    _no_proxy_started()


def test_no_provider_fails_before_any_proxy_starts(cli, monkeypatch, tmp_path):
    install(tmp_path / "bin", "aider")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    result = cli("run", "aider")
    assert result.exit_code == 1
    assert "no provider saved yet" in result.output and "byecore provider add" in result.output
    _no_proxy_started()


def test_the_port_is_free_again_after_run(lab):
    code, _, err = _finish(run_byecore(["aider"], env_for(lab.bin, lab.tmp / "r.json"),
                                       lab.work))
    assert code == 0, err
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", lab.port))  # nothing listens there any more


def test_ctrl_c_on_a_terminal_reaches_the_client_once(lab):
    """The terminal sends SIGINT to the whole foreground job: the client gets it from
    there, and byecore, which shares its job, passes on no second one."""
    from tests.terminal import run_in_pty

    record = lab.tmp / "rec.json"
    env = env_for(lab.bin, record, mode="wait")
    code, screen = run_in_pty(["run", "aider"], [(b"fake client waiting", b"\x03")], env)
    rec = record_of(record)
    assert rec["tty"] is True  # the client was given the terminal itself
    assert rec["signals"] == [{"name": "SIGINT", "from": 0}], screen[-500:]  # the terminal's
    assert code == 40 + signal.SIGINT
    assert runtime.running_proxy() is None


def test_only_signals_the_terminal_did_not_send_the_job_are_passed_on():
    """On a terminal, as its foreground job, SIGINT/SIGQUIT/SIGWINCH came to the client
    too and are not sent again; without a terminal (a script) every one is passed on."""
    import contextlib
    import pty
    import subprocess
    import sys

    probe = ("import signal; from byecore_cli.launch.child import passes_on; print("
             "[passes_on(getattr(signal, n)) for n in ('SIGINT', 'SIGQUIT', 'SIGWINCH', "
             "'SIGTERM', 'SIGHUP')])")
    pid, fd = pty.fork()
    if pid == 0:  # a session of its own whose terminal is the pty: its foreground job
        os.execv(sys.executable, [sys.executable, "-c", probe])
    screen = b""
    with contextlib.suppress(OSError):  # EIO once the child closed the terminal
        while chunk := os.read(fd, 4096):
            screen += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, screen
    assert b"[False, False, False, True, True]" in screen, screen
    alone = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, start_new_session=True, timeout=30)
    assert alone.stdout.strip() == "[True, True, True, True, True]", alone.stderr
