"""Shell completion, driven in real shells: bash always, zsh, fish and tmux where installed.

Every shell used to print "Shell bash not supported." (or zsh, fish): typer registers its
completers only with its own --install-completion options, which byecore leaves out. The
scripts in completions/ call back into the installed ``byecore`` (``_BYECORE_COMPLETE``),
so these tests put the entry point of this environment first on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from byecore_cli.clients import WRITERS

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "completions"
BIN = Path(sys.executable).parent
CLIENTS = set(WRITERS)  # every client with a writer, whatever is added


def _env() -> dict[str, str]:
    assert (BIN / "byecore").exists(), f"no byecore entry point in {BIN}: pip install -e ."
    env = dict(os.environ)  # HOME and BYECORE_HOME point at this test's folders
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("_BYECORE_COMPLETE", None)
    return env


def _needs(program: str):
    return pytest.mark.skipif(shutil.which(program) is None,
                              reason=f"{program} is not installed (apt-get install {program})")


def _bash_candidates(*words: str) -> list[str]:
    """What bash offers for ``words`` (the last one being typed), via the shipped script."""
    script = (f"source {SHIPPED / 'byecore.bash'}\n"
              "COMP_WORDS=(\"$@\"); COMP_CWORD=$(( $# - 1 ))\n"
              "_byecore_completion byecore\n"
              "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    # An empty last word is how bash passes "byecore setup <TAB>".
    out = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", *words],
                         env=_env(), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and not out.stderr, out.stderr
    return [line for line in out.stdout.splitlines() if line]


def test_bash_completes_commands_client_names_and_providers(cli):
    assert _bash_candidates("byecore", "se") == ["setup"]
    assert set(_bash_candidates("byecore", "")) >= {"setup", "proxy", "check", "provider"}
    offered = set(_bash_candidates("byecore", "setup", ""))
    assert offered >= CLIENTS and "cursor" in offered  # paste clients too
    assert _bash_candidates("byecore", "setup", "co") == ["codex", "continue"]
    assert set(_bash_candidates("byecore", "restore", "")) == CLIENTS
    assert _bash_candidates("byecore", "provider", "a") == ["add"]
    assert set(_bash_candidates("byecore", "setup", "codex", "--pro")) == {"--provider"}

    assert cli("provider", "add", "work-gw", "--base-url", "https://gw.example.com",
               "--key", "sk-test-0123456789abcdef", "--protocol", "chat").exit_code == 0
    assert _bash_candidates("byecore", "use", "") == ["work-gw"]
    assert _bash_candidates("byecore", "check", "--provider", "w") == ["work-gw"]


def test_a_broken_settings_file_completes_nothing_and_says_nothing(byecore_home):
    byecore_home.mkdir()
    (byecore_home / "settings.toml").write_text("[providers\n")
    assert _bash_candidates("byecore", "use", "") == []


@pytest.mark.parametrize("shell, name", [("bash", "byecore.bash"), ("zsh", "_byecore"),
                                         ("fish", "byecore.fish")])
def test_the_shipped_scripts_are_what_byecore_completion_prints(cli, shell, name):
    result = cli("completion", shell)
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip("\n") == (SHIPPED / name).read_text().rstrip("\n")
    assert "_BYECORE_COMPLETE" in result.stdout


@_needs("fish")
def test_fish_completes_commands_and_client_names():
    def offered(line: str) -> list[str]:
        out = subprocess.run(
            ["fish", "--no-config", "-c",
             f"source {SHIPPED / 'byecore.fish'}; complete -C '{line}'"],
            env=_env(), capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and "not supported" not in out.stderr, out.stderr
        return [row.split("\t")[0] for row in out.stdout.splitlines() if row]

    assert offered("byecore se") == ["setup"]
    assert set(offered("byecore setup ")) >= CLIENTS


class Terminal:
    """A shell in a detached tmux session of its own, for pressing a real TAB."""

    def __init__(self, tmp: Path, argv: list[str]) -> None:
        self.socket = str(tmp / f"tmux-{uuid.uuid4().hex[:8]}")
        env = _env()
        env.update(TERM="xterm", PS1="$ ", PROMPT="$ ", ZDOTDIR=str(tmp))
        self._tmux("new-session", "-d", "-x", "200", "-y", "50", *argv, env=env)

    def _tmux(self, *args: str, env: dict | None = None) -> str:
        return subprocess.run(["tmux", "-S", self.socket, *args], env=env or _env(),
                              capture_output=True, text=True, check=True, timeout=30).stdout

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", *keys)

    def wait_for(self, text: str, bound: float = 30) -> str:
        """The screen once it shows ``text``; the screen as it is after ``bound`` s.

        tmux drops the spaces at the end of each line of the screen.
        """
        end = time.monotonic() + bound
        while True:
            screen = self._tmux("capture-pane", "-p")
            if text in screen or time.monotonic() > end:
                return screen
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def terminal(tmp_path):
    made: list[Terminal] = []

    def start(*argv: str) -> Terminal:
        made.append(Terminal(tmp_path, list(argv)))
        return made[-1]

    yield start
    for term in made:
        term.close()


@_needs("tmux")
def test_tab_in_bash(terminal):
    term = terminal("bash", "--norc", "--noprofile")
    term.send(f"source {SHIPPED / 'byecore.bash'}; echo READY", "Enter")
    term.wait_for("READY\n")
    term.send("byecore se", "Tab")
    assert "$ byecore setup" in term.wait_for("byecore setup")  # tmux drops the space
    term.send("Tab", "Tab")  # after "setup ", two TABs list the candidates
    screen = term.wait_for("opencode")
    assert all(name in screen for name in CLIENTS), screen
    assert "not supported" not in screen


@_needs("tmux")
@_needs("zsh")
def test_tab_in_zsh(terminal):
    term = terminal("zsh", "-f")
    term.send(f"autoload -Uz compinit && compinit -u && source {SHIPPED / '_byecore'}"
              " && echo READY", "Enter")
    term.wait_for("READY\n")
    term.send("byecore se", "Tab")
    assert "byecore setup" in term.wait_for("byecore setup")
    term.send(" ", "Tab")
    screen = term.wait_for("opencode")
    assert all(name in screen for name in CLIENTS), screen
    assert "not supported" not in screen
