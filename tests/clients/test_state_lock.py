"""Clients set up at the same time, in several processes, all stay remembered."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import threading

import pytest

from byecore_cli.clients import WRITERS, engine, history
from byecore_cli.paths import Paths
from tests.clients.factory import make_target

CLIENTS = ["codex", "claude", "aider", "opencode", "crush", "droid"]
fcntl = pytest.importorskip("fcntl", reason="the flock-based lock is POSIX's")
fork = multiprocessing.get_context("fork")


def _setup_after_barrier(name: str, home: str, barrier) -> None:
    """One ``byecore setup NAME`` in its own process, its write held back until every
    process has prepared, so that all of them record their setup at the same moment."""
    writer = WRITERS[name]
    prepared = engine.prepare(writer, make_target(), env={"HOME": home}, home=None)
    barrier.wait()
    engine.commit(prepared, remember={"provider": "byecore", "model": "gpt-5.4"})


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_setups_are_all_remembered(round_, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    barrier = fork.Barrier(len(CLIENTS))
    workers = [fork.Process(target=_setup_after_barrier, args=(name, str(home), barrier))
               for name in CLIENTS]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * len(CLIENTS)

    state = history.load_state()
    assert sorted(state["clients"]) == sorted(CLIENTS), "every setup is in the state"
    for name in CLIENTS:  # and each entry is whole: a later `use` reaches every client
        assert state["clients"][name]["provider"] == "byecore"
        assert history.list_backups(name), name
    assert not [p for p in os.listdir(Paths.current().home) if p.endswith(".tmp")]


def _hold_lock_then_report(ready, release, result) -> None:
    with history.state_lock():
        ready.set()
        release.wait(60)
    result.put("released")


def test_the_lock_excludes_other_processes_and_is_reentrant(byecore_home):
    ready, release, result = fork.Event(), fork.Event(), fork.Queue()
    holder = fork.Process(target=_hold_lock_then_report, args=(ready, release, result))
    holder.start()
    try:
        assert ready.wait(60)
        lock_file = Paths.current().state.with_name("state.json.lock")
        with open(lock_file, "rb") as handle, pytest.raises(BlockingIOError):
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        release.set()
        holder.join(60)
    assert result.get(timeout=60) == "released"
    with history.state_lock(), history.state_lock():  # commit → save_state nests it
        history.save_state({"version": 1, "clients": {}})
    assert json.loads(Paths.current().state.read_text())["clients"] == {}


def test_a_second_thread_waits_for_the_first_threads_lock(byecore_home, monkeypatch):
    """Re-entrancy is per thread: a thread that finds another thread of the same process
    holding the lock waits for it, instead of passing as if the lock were its own."""
    log: list[str] = []
    first_in, release, second_moved = threading.Event(), threading.Event(), threading.Event()
    real_lock = history.lock_fd

    def lock_noting_the_second(fd: int) -> None:
        if threading.current_thread().name == "second":
            log.append("second waits")
            second_moved.set()
        real_lock(fd)

    monkeypatch.setattr(history, "lock_fd", lock_noting_the_second)

    def first() -> None:
        with history.state_lock():
            log.append("first in")
            first_in.set()
            release.wait(60)
            log.append("first out")

    def second() -> None:
        with history.state_lock(), history.state_lock():  # and nests within its thread
            log.append("second in")
            second_moved.set()
            history.save_state({"version": 1, "clients": {"second": {}}})

    threads = [threading.Thread(target=first, name="first"),
               threading.Thread(target=second, name="second")]
    threads[0].start()
    try:
        assert first_in.wait(60)
        threads[1].start()
        assert second_moved.wait(60)  # it reached the lock, or (wrongly) got past it
        assert log == ["first in", "second waits"], "the second thread did not wait"
    finally:
        release.set()
        for thread in threads:
            thread.join(60)
    assert log == ["first in", "second waits", "first out", "second in"]
    assert json.loads(Paths.current().state.read_text())["clients"] == {"second": {}}


def test_concurrent_cli_setups_then_use_reaches_every_client(cli, gateway, home):
    """The same through the real command: six ``byecore setup`` processes at once."""
    env = {**os.environ, "HOME": str(home), "NO_COLOR": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "byecore_cli", "setup", name, "--yes",
                               "--json"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for name in CLIENTS]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (out + err).decode(errors="replace")
    assert sorted(history.load_state()["clients"]) == sorted(CLIENTS)
    result = cli("use", "gw", "--model", "claude-haiku-5-5", "--yes", "--json")
    rows = json.loads(result.stdout)["data"]["clients"]
    assert sorted(r["client"] for r in rows) == sorted(CLIENTS)
