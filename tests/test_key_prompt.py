"""On a terminal with no key option, ``provider add`` asks for the key without echoing it."""

from __future__ import annotations

import os
import pty
import select
import sys
import termios
import time

import tomlkit


def _run_in_pty(argv: list[str], typed: bytes, env: dict[str, str]) -> tuple[int, bytes]:
    pid, fd = pty.fork()
    if pid == 0:  # the child: the byecore command on a real terminal
        os.execve(sys.executable, [sys.executable, "-m", "byecore_cli", *argv], env)
    seen, sent = b"", False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        # Type only once the prompt has turned echo off, as a person would: input sent
        # earlier is flushed away when the terminal switches to hidden input.
        if not sent and b"API key" in seen and not termios.tcgetattr(fd)[3] & termios.ECHO:
            os.write(fd, typed)
            sent = True
    if not sent or time.monotonic() >= deadline:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), seen


def test_hidden_prompt_stores_the_trimmed_key(byecore_home):
    env = {**os.environ, "BYECORE_HOME": str(byecore_home), "NO_COLOR": "1"}
    code, screen = _run_in_pty(["provider", "add", "byecore"], b"  sk-typed-secret-0123456789  \r",
                               env)
    assert code == 0, screen.decode(errors="replace")
    assert b"sk-typed-secret" not in screen, "the key must not be echoed or printed"
    stored = tomlkit.parse((byecore_home / "settings.toml").read_text()).unwrap()
    assert stored["providers"]["byecore"]["key"] == "sk-typed-secret-0123456789"
