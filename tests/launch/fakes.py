"""A stand-in client for ``byecore run``'s plumbing: exit codes, signals, leases.

``install(folder, name)`` writes an executable ``name`` (say ``aider``) that records its
arguments, its environment and byecore's lease files into ``$FAKE_RECORD`` (JSON), then,
by ``$FAKE_MODE``:

- ``exit``: exits with ``$FAKE_EXIT``;
- ``die``: kills itself with SIGTERM;
- ``wait``: prints ``fake client waiting`` and waits (up to a minute) until
  ``$FAKE_RELEASE`` exists, then exits 0. A SIGTERM, SIGINT or SIGHUP makes it wait a
  moment more for repeats, record every signal it got with its sender's pid
  (``signals``) and exit 40 + the first one's number.

``run_byecore`` starts ``python -m byecore_cli run …`` in a session of its own (no
terminal, as in a script) with the fake first on PATH.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = """\
#!PYTHON
import json, os, signal, sys, time

def save(**extra):
    run = os.path.join(os.environ["BYECORE_HOME"], "run")
    leases = sorted(n for n in os.listdir(run) if n.startswith("lease-")) \\
        if os.path.isdir(run) else []
    data = {"argv": sys.argv[1:], "env": dict(os.environ), "leases": leases,
            "pid": os.getpid(), "tty": os.isatty(0), **extra}
    tmp = os.environ["FAKE_RECORD"] + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, os.environ["FAKE_RECORD"])

mode = os.environ.get("FAKE_MODE", "exit")
if mode == "exit":
    save()
    sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
if mode == "die":
    save()
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)
    sys.exit(98)
# Signals are taken with sigtimedwait, as soon as they come, with who sent them: a
# terminal's SIGINT has si_pid 0, one passed on by byecore has byecore's pid.
wanted = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
signal.pthread_sigmask(signal.SIG_BLOCK, wanted)
got = []
save(waiting=True)
print("fake client waiting", flush=True)
deadline = time.time() + 60
while time.time() < deadline:
    info = signal.sigtimedwait(wanted, 0.05)
    if info is not None:
        got.append({"name": signal.Signals(info.si_signo).name, "from": info.si_pid})
        deadline = min(deadline, time.time() + 0.7)  # and wait a moment for repeats
    if os.path.exists(os.environ["FAKE_RELEASE"]):
        save(released=True)
        sys.exit(0)
if got:
    save(signals=got)
    sys.exit(40 + getattr(signal, got[0]["name"]))
sys.exit(99)
"""


def install(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(SCRIPT.replace("PYTHON", sys.executable, 1))
    path.chmod(0o755)
    return path


def env_for(bin_dir: Path, record: Path, **fake: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FAKE_MODE", "FAKE_EXIT")}
    env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
    env["FAKE_RECORD"] = str(record)
    env["FAKE_RELEASE"] = str(record) + ".release"
    env.update({f"FAKE_{k.upper()}": v for k, v in fake.items()})
    return env


def run_byecore(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "byecore_cli", "run", *args], env=env,
                            cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def record_of(path: Path, *, until: str | None = None, timeout: float = 60) -> dict:
    """The fake's record (once it holds ``until``, when given)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = None
        if data is not None and (until is None or data.get(until)):
            return data
        if time.monotonic() > deadline:
            raise AssertionError(f"the fake client never recorded {until or 'anything'}")
        time.sleep(0.05)
