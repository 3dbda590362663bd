"""Real chat-completions clients reach a local gateway using only the files byecore wrote.

Each test writes the client's config through the engine into a throwaway HOME, runs
the client as a user would, and checks what arrived at a fake gateway on 127.0.0.1
(port 0). Install the clients with ``pip install aider-chat`` and ``npm i -g
opencode-ai @factory/cli``, or point ``BYECORE_CLIENT_BIN`` at a folder holding them.
Verified with aider-chat 0.86.2, opencode-ai 1.18.33 and @factory/cli 0.225.1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from byecore_cli.clients import engine
from byecore_cli.clients.aider import Aider
from byecore_cli.clients.droid import Droid, model_id
from byecore_cli.clients.opencode import OpenCode
from tests.check.fake_gateway import KEY, Behaviour, build
from tests.clients.factory import FIXTURES, make_target
from tests.fakes import ThreadedServer


def _binary(name: str) -> str | None:
    extra = os.environ.get("BYECORE_CLIENT_BIN", "")
    return shutil.which(name, path=os.pathsep.join(
        p for p in (extra, os.environ.get("PATH", "")) if p))


def _needs(name: str):
    return pytest.mark.skipif(_binary(name) is None, reason=(
        f"the {name} binary is not installed (see this module's docstring)"))


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TMPDIR")}
    env.update(HOME=str(home), NO_COLOR="1", NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    return env


def _setup(writer, url: str, home: Path, **target) -> None:
    t = make_target(root=url, openai_base=f"{url}/v1", anthropic_base=url, key=KEY,
                    **target)
    prepared = engine.prepare(writer, t, env={"HOME": str(home)}, home=home)
    engine.commit(prepared)


def _posts(server: ThreadedServer) -> list[dict]:
    return [r for r in server.requests if r["method"] == "POST"]


@pytest.fixture
def home(tmp_path) -> Path:
    path = tmp_path / "client-home"
    (path / "work").mkdir(parents=True)
    return path


@_needs("aider")
def test_aider_message_reaches_the_gateway(home):
    with ThreadedServer(build(Behaviour())) as server:
        _setup(Aider(), server.url, home)
        run = subprocess.run(
            [_binary("aider"), "--message", "say pong", "--yes-always", "--no-git",
             "--no-check-update", "--analytics-disable", "--no-pretty", "--no-stream"],
            cwd=home / "work", env=_env(home), capture_output=True, text=True, timeout=180,
            stdin=subprocess.DEVNULL)
    assert "pong" in run.stdout, run.stdout[-2000:] + run.stderr[-2000:]
    assert "Unknown context window" not in run.stdout + run.stderr  # the metadata entry
    posts = _posts(server)
    assert posts and {r["path"] for r in posts} == {"/v1/chat/completions"}
    assert {r["headers"]["Authorization"] for r in posts} == {f"Bearer {KEY}"}


@_needs("opencode")
def test_opencode_run_reaches_the_gateway(home):
    place_jsonc = home / ".config" / "opencode" / "opencode.jsonc"
    place_jsonc.parent.mkdir(parents=True)
    place_jsonc.write_bytes((FIXTURES / "opencode.jsonc").read_bytes())
    with ThreadedServer(build(Behaviour())) as server:
        _setup(OpenCode(), server.url, home)
        run = subprocess.run(
            [_binary("opencode"), "run", "say pong"], cwd=home / "work", env=_env(home),
            capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert "pong" in run.stdout, run.stdout[-2000:] + run.stderr[-2000:]
    posts = _posts(server)
    assert posts and {r["path"] for r in posts} == {"/v1/chat/completions"}
    assert {r["headers"]["Authorization"] for r in posts} == {f"Bearer {KEY}"}


@_needs("droid")
def test_droid_exec_reaches_the_gateway(home):
    settings = home / ".factory" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_bytes((FIXTURES / "droid-settings.json").read_bytes())
    with ThreadedServer(build(Behaviour())) as server:
        _setup(Droid(), server.url, home)
        listed = subprocess.run([_binary("droid"), "exec", "--help"], env=_env(home),
                                capture_output=True, text=True, timeout=120)
        run = subprocess.run(
            [_binary("droid"), "exec", "-m", model_id("gpt-5.4"), "say pong"],
            cwd=home / "work", env=_env(home), capture_output=True, text=True, timeout=240,
            stdin=subprocess.DEVNULL)
    assert model_id("gpt-5.4") in listed.stdout  # Droid parsed the JSONC and our items
    assert "pong" in run.stdout, run.stdout[-2000:] + run.stderr[-2000:]
    posts = _posts(server)
    assert posts and {r["path"] for r in posts} == {"/v1/chat/completions"}
    assert {r["headers"]["Authorization"] for r in posts} == {f"Bearer {KEY}"}
