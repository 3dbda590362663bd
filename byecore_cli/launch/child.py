"""Start the client as if the user had typed its name, and give back its exit status.

The client runs in byecore's own process group, on the same terminal and stdio (never
piped: it is interactive). So the terminal's own signals — Ctrl+C (SIGINT), Ctrl+\\,
Ctrl+Z, window resizes (SIGWINCH) — reach the client directly, and it handles them as it
always does (Claude Code's "press Ctrl+C again to exit", for instance); byecore only
stays alive to clean up after it.

Signals sent to byecore alone (``kill PID``: SIGTERM, SIGHUP; SIGINT, SIGQUIT and
SIGWINCH too when byecore is not the terminal's foreground job, as in a script) are
passed on to the client. The status comes back as the client's exit code, or 128 + N
when signal N killed it, as a shell reports it.

With nothing to clean up afterwards (no lease, no temporary files) byecore replaces
itself with the client (``execve``): exactly what running it directly would do.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence

# Signals the terminal sends to the whole foreground job: the client already got them.
_FROM_TERMINAL = {"SIGINT", "SIGQUIT", "SIGWINCH"}
_FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGWINCH")


def replace(argv: Sequence[str], env: Mapping[str, str]) -> None:
    """Become the client (POSIX); never returns."""
    import sys

    for stream in (sys.stdout, sys.stderr):  # what byecore said must not be lost
        stream.flush()
    os.execve(argv[0], list(argv), dict(env))


def run(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Run the client to its end; its exit code (128 + N when killed by signal N)."""
    if os.name == "nt":
        return _run_windows(argv, env)
    proc = subprocess.Popen(list(argv), env=dict(env))

    def forward(signum, frame) -> None:
        if passes_on(signum):
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signum)

    previous = {}
    for name in _FORWARDED:
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, forward)
    try:
        code = proc.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return 128 - code if code < 0 else code


def passes_on(signum: int) -> bool:
    """Whether a signal byecore got is sent on to the client: not one the terminal sent
    to the whole foreground job, which the client got itself."""
    return not (signal.Signals(signum).name in _FROM_TERMINAL and _foreground())


def _foreground() -> bool:
    """byecore (and so the client) is the terminal's foreground job."""
    try:
        return os.tcgetpgrp(0) == os.getpgrp()
    except OSError:  # stdin is no terminal
        return False


def _run_windows(argv: Sequence[str], env: Mapping[str, str]) -> int:
    # Ctrl+C reaches every process on the console: the client handles it, byecore waits.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return subprocess.call(list(argv), env=dict(env))
    finally:
        signal.signal(signal.SIGINT, previous)
