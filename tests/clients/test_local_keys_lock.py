"""Clients given local proxy keys at the same time, in several processes, all keep them.

``byecore setup X --via-proxy`` run in several shells at once each read the local-keys
file, add their client's key and write it back: without a lock, the last write dropped
the others' keys, and the proxy then refused those clients.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading

import pytest

from byecore_cli.clients import local_keys

fcntl = pytest.importorskip("fcntl", reason="the flock-based lock is POSIX's")
fork = multiprocessing.get_context("fork")
CLIENTS = ["codex", "claude", "aider", "opencode", "crush", "droid"]


def _make_key_after_everyone_read(name: str, barrier, keys) -> None:
    """``get_or_create(name)`` in its own process, with the window between reading the
    file and writing it back held open until every process has read it (or, when a lock
    keeps the others out, until the barrier gives up waiting for them)."""
    read = local_keys._load

    def read_then_wait():
        doc = read()
        # broken: the others are waiting for the lock, so go on alone
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(5)
        return doc

    local_keys._load = read_then_wait
    keys.put((name, local_keys.get_or_create(name)))


def test_concurrent_key_creation_keeps_every_clients_key(byecore_home):
    barrier, keys = fork.Barrier(len(CLIENTS)), fork.Queue()
    workers = [fork.Process(target=_make_key_after_everyone_read, args=(name, barrier, keys))
               for name in CLIENTS]
    for worker in workers:
        worker.start()
    given = dict(keys.get(timeout=120) for _ in CLIENTS)
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * len(CLIENTS)

    saved = local_keys.all_keys()
    assert sorted(saved) == sorted(CLIENTS), "every client's key is in the file"
    assert saved == given, "each client keeps the key it was given"
    for name in CLIENTS:  # and asking again gives the same key, not a new one
        assert local_keys.get_or_create(name) == given[name]
