"""Real Hermes Agent, Kimi Code and Cline CLI finish a shell-tool task after setup.

Each client runs non-interactively in a throwaway HOME against a scripted vendor on
127.0.0.1 that speaks only the Gemini API, which neither client speaks, so a run
passes only if byecore pointed the client at its proxy and the proxy translated both
ways (the tool call out, its result back). Binaries are found on PATH or in
``BYECORE_CLIENT_BIN`` (``.ci/run`` installs them); a test is skipped only when its
binary is absent. Verified with hermes-agent 0.19.0 (PyPI), @moonshot-ai/kimi-code
2.1.0 on npm's node 22.23.3, and cline 3.0.65 (npm). Grok Build and Goose install as
binary downloads: they are checked against their source (test_grok.py, test_goose.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from pathlib import Path

import pytest

from tests.clients.conftest import place
from tests.clients.test_real_clients import _binary, _needs
from tests.launch.harness import hub_daemons
from tests.proxy.gemini_upstream import GeminiOnlyUpstream
from tests.proxy.test_real_clients_proxy import (
    COMMAND,
    FINAL,
    PROMPT,
    UPSTREAM_KEY,
    _gemini_tool_loop_checks,
    _through_proxy,
)


def _terminal_arguments(params: dict) -> dict:
    assert "command" in params.get("properties", {}), params  # Hermes's terminal tool
    return {"command": COMMAND}


@_needs("hermes")
@pytest.mark.parametrize("existing", ["hermes-config.yaml", None])
async def test_hermes_oneshot_runs_its_terminal_tool_through_the_proxy(cli, existing):
    """The user's config.yaml selects OpenRouter with its own model.base_url (or there
    is none yet); after ``byecore setup hermes`` the one-shot run (approvals bypassed,
    as ``-z`` does) goes to byecore's provider, translated from Chat Completions to the
    Gemini API, and Hermes leaves byecore's keys as written."""
    home = Path(os.environ["HOME"])
    if existing:
        place(existing, home / ".hermes" / "config.yaml")
    upstream = GeminiOnlyUpstream("terminal", _terminal_arguments, key=UPSTREAM_KEY,
                                  final=FINAL)
    argv = [_binary("hermes"), "-z", PROMPT, "--yolo"]
    config = home / ".hermes" / "config.yaml"
    work, code, out, err = await _through_proxy(cli, "hermes", upstream, argv, 120,
                                                protocol="gemini")
    assert code == 0, (out[-1500:], err[-3000:])
    _gemini_tool_loop_checks(upstream, work, out, err)
    status = cli("status", "--json")  # Hermes left byecore's keys as they were written
    rows = {r["client"]: r for r in json.loads(status.stdout)["data"]["clients"]}
    assert rows["hermes"]["configured"] and not rows["hermes"]["hand_edited"], (
        rows["hermes"], config.read_text())


def _run_commands_arguments(params: dict) -> dict:
    props = params.get("properties", {})
    assert "commands" in props, params  # Cline's run_commands takes a list of commands
    return {"commands": [COMMAND]}


@_needs("cline")
async def test_cline_cli_runs_its_command_tool_after_the_printed_cline_auth(cli):
    """The paste guide for Cline CLI is a command: run exactly what ``byecore setup
    cline-cli --via-proxy --show-key`` prints, then a task with Cline's default
    auto-approval, through the proxy to a Gemini-only vendor."""
    import shlex
    import socket
    import subprocess

    from aiohttp import web

    from byecore_cli.config.store import SettingsStore
    from byecore_cli.paths import Paths
    from byecore_cli.proxy.app import create_app
    from tests.clients.test_real_clients import _client_env
    from tests.proxy.test_real_clients_proxy import _run

    home = Path(os.environ["HOME"])
    work = home / "work"
    work.mkdir(parents=True)
    upstream = GeminiOnlyUpstream("run_commands", _run_commands_arguments,
                                  key=UPSTREAM_KEY, final=FINAL)
    up_runner = web.AppRunner(upstream.app)
    await up_runner.setup()
    listener = socket.socket()
    proxy_runner = None
    try:
        await web.TCPSite(up_runner, "127.0.0.1", 0).start()
        added = cli("provider", "add", "vendor", "--preset", "none", "--base-url",
                    f"http://127.0.0.1:{up_runner.addresses[0][1]}", "--protocol",
                    "gemini", "--model", "vendor-model-1", "--key-stdin",
                    input=UPSTREAM_KEY)
        assert added.exit_code == 0, added.output
        listener.bind(("127.0.0.1", 0))
        store = SettingsStore(Paths.current().settings)
        _, doc = store.load()
        doc["proxy"] = {"port": listener.getsockname()[1]}
        settings = store.save(doc)
        guide = cli("setup", "cline-cli", "--via-proxy", "--show-key", "--json")
        assert guide.exit_code == 0, guide.output
        command = json.loads(guide.stdout)["data"]["command"]
        env = _client_env(home)
        auth = subprocess.run([_binary("cline"), *command[1:]], cwd=work, env=env,
                              capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
        assert auth.returncode == 0, (shlex.join(command), auth.stdout, auth.stderr)
        proxy_runner = web.AppRunner(create_app(settings), handler_cancellation=True)
        await proxy_runner.setup()
        await web.SockSite(proxy_runner, listener).start()
        code, out, err = await _run([_binary("cline"), PROMPT], work, env, 120)
    finally:
        for pid in hub_daemons(home):  # the task ran in a hub daemon that outlives cline
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if proxy_runner is not None:
            await proxy_runner.cleanup()
        await up_runner.cleanup()
        listener.close()
    assert code == 0, (out[-1500:], err[-3000:])
    _gemini_tool_loop_checks(upstream, work, out, err)


def _bash_arguments(params: dict) -> dict:
    assert "command" in params.get("properties", {}), params  # Kimi Code's Bash tool
    return {"command": COMMAND}


@_needs("kimi")
async def test_kimi_code_prompt_mode_runs_its_bash_tool_through_the_proxy(cli, monkeypatch):
    """``kimi -p …`` (prompt mode runs tools without asking) after ``byecore setup
    kimi``. Kimi Code 2.1 needs Node 22.19+: a ``node`` in ``BYECORE_CLIENT_BIN`` comes
    first on its PATH (``.ci/run`` puts npm's node@22 there)."""
    home = Path(os.environ["HOME"])
    place("kimi-config.toml", home / ".kimi-code" / "config.toml")
    upstream = GeminiOnlyUpstream("Bash", _bash_arguments, key=UPSTREAM_KEY, final=FINAL)
    argv = [_binary("kimi"), "-p", PROMPT]
    extra = os.environ.get("BYECORE_CLIENT_BIN", "")
    monkeypatch.setenv("PATH", os.pathsep.join(
        p for p in (extra, os.environ.get("PATH", "")) if p))  # the client's PATH too
    work, code, out, err = await _through_proxy(cli, "kimi", upstream, argv, 120,
                                                protocol="gemini")
    assert code == 0, (out[-1500:], err[-3000:])
    _gemini_tool_loop_checks(upstream, work, out, err)
