"""Run ``byecore`` on a real pseudo-terminal and answer its prompts, as a person would."""

from __future__ import annotations

import os
import pty
import select
import sys
import termios
import time


def run_in_pty(argv: list[str], answers: list[tuple[bytes, bytes]], env: dict[str, str],
               timeout: float = 30.0) -> tuple[int, bytes]:
    """Answer each (prompt, reply) in turn; returns (exit code, everything on screen).

    A reply is typed once its prompt is on screen and, for hidden input, once echo is off:
    a terminal switching to hidden input flushes what was typed before.
    """
    pid, fd = pty.fork()
    if pid == 0:  # the child: byecore itself
        os.execve(sys.executable, [sys.executable, "-m", "byecore_cli", *argv], env)
    screen, pending = b"", list(answers)
    searched_from = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal: it has exited
                break
            if not chunk:
                break
            screen += chunk
        if pending and pending[0][0] in screen[searched_from:]:
            hidden = pending[0][0].lower().startswith(b"api key")
            if not hidden or not termios.tcgetattr(fd)[3] & termios.ECHO:
                searched_from = screen.index(pending[0][0], searched_from) + 1
                os.write(fd, pending.pop(0)[1])
    if time.monotonic() >= deadline:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), screen
