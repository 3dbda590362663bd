"""Qwen Code, Pi, Kilo CLI and Cline CLI finish a shell-tool task through ``byecore run``.

Each real client runs non-interactively through ``byecore run CLIENT …`` (a real
subprocess that starts its own proxy) against a vendor speaking only the Gemini API,
with HOME already holding the user's own config for another provider: Qwen Code and Pi
read a borrowed folder (``QWEN_HOME``, ``PI_CODING_AGENT_DIR``) with copies of their
files, Kilo CLI an inline config (``KILO_CONFIG_CONTENT``), Cline CLI a providers file
of byecore's (``CLINE_PROVIDER_SETTINGS_PATH``). The user's files stay byte for byte, no
key lands in HOME, and the proxy is gone afterwards. Verified with
@qwen-code/qwen-code 0.15.10, @mariozechner/pi-coding-agent 0.73.1, Kilo CLI 7.7.9 (its
binary package, see ``tests/clients/test_real_npm_clients.py``) and cline 3.0.65.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess

from tests.clients.conftest import FIXTURES
from tests.clients.test_real_clients import _binary, _needs
from tests.clients.test_real_more_clients import _run_commands_arguments
from tests.clients.test_real_npm_clients import _command_arguments
from tests.launch.harness import (
    DEAD,
    STALE,
    check_home,
    free_port,
    hub_daemons,
    run_client,
    run_env,
    secrets,
    user_home,
    writer_files,
)
from tests.proxy.gemini_upstream import GeminiOnlyUpstream
from tests.proxy.test_real_clients_proxy import (
    FINAL,
    PROMPT,
    UPSTREAM_KEY,
    _gemini_tool_loop_checks,
)


async def _through_run(cli, client: str, tool: str, args: list[str],
                       seed: dict[str, bytes]):
    upstream = GeminiOnlyUpstream(tool, _command_arguments, key=UPSTREAM_KEY, final=FINAL)
    outcome = await run_client(cli, client, upstream, "gemini", args, seed=seed,
                               timeout=120)
    assert outcome.code == 0, outcome.why
    _gemini_tool_loop_checks(upstream, outcome.work, outcome.out, outcome.err)
    check_home(outcome, writer_files(client), secrets(client))
    return outcome


@_needs("qwen")
async def test_qwen_code_headless_through_run_on_a_gemini_only_upstream(cli):
    seed = {".qwen/settings.json": (FIXTURES / "qwen-settings.json").read_bytes()}
    outcome = await _through_run(cli, "qwen", "run_shell_command",
                                 ["-p", PROMPT, "--yolo"], seed)
    assert "temporary QWEN_HOME" in outcome.err
    # the chat it recorded in a folder it created during the run is the user's
    assert list((user_home() / ".qwen" / "projects").rglob("chats/*.jsonl")), outcome.why


@_needs("pi")
async def test_pi_print_mode_through_run_on_a_gemini_only_upstream(cli):
    seed = {".pi/agent/models.json": (FIXTURES / "pi-models.json").read_bytes(),
            ".pi/agent/settings.json": (FIXTURES / "pi-settings.json").read_bytes()}
    outcome = await _through_run(cli, "pi", "bash", ["-p", PROMPT, "--offline"], seed)
    assert "temporary PI_CODING_AGENT_DIR" in outcome.err
    # the session, in a sessions folder it created during the run, is the user's
    assert list((user_home() / ".pi" / "agent" / "sessions").rglob("*.jsonl")), outcome.why


@_needs("kilo")
async def test_kilo_run_through_run_on_a_gemini_only_upstream(cli):
    """A Kilo home it has started in before: on a first start Kilo itself adds "$schema"
    and migrates a bash permission into kilo.jsonc (leaving .bash-permission-migrated),
    whoever launches it."""
    mine = (b'{\n  "$schema": "https://app.kilo.ai/config.json",\n  // mine\n  "model": '
            b'"anthropic/claude-old",\n  "provider": {"anthropic": {"options": {"baseURL": '
            b'"http://127.0.0.1:9", "apiKey": "sk-old-stale"}}}\n}\n')
    await _through_run(cli, "kilo-cli", "bash", ["run", "--auto", PROMPT],
                       {".config/kilo/kilo.jsonc": mine,
                        ".config/kilo/.bash-permission-migrated": b""})


@_needs("cline")
async def test_cline_cli_through_run_beside_the_users_own_hub_daemon(cli):
    """Cline runs tasks in a shared background daemon that reads the providers file of
    whoever started it: here the user's, on a dead port with a stale key, already
    running. The run must reach byecore's proxy anyway (Cline's local backend), start
    no daemon of its own, and leave the user's providers.json byte for byte; Cline's
    sessions, logs and databases are the user's records and may change."""
    home = user_home()
    data = home / ".cline" / "data"
    providers = data / "settings" / "providers.json"
    providers.parent.mkdir(parents=True)
    providers.write_text(json.dumps({
        "version": 1, "lastUsedProvider": "openai-compatible", "modes": {},
        "providers": {"openai-compatible": {"settings": {
            "provider": "openai-compatible", "apiKey": STALE, "model": "old",
            "baseUrl": f"{DEAD}/v1"}, "updatedAt": "2026-11-30T08:00:00.000Z",
            "tokenSource": "manual"}}}, indent=2))
    port = free_port()
    env = run_env(home, CLINE_HUB_PORT=str(port))
    daemon = subprocess.Popen(
        [_binary("cline"), "--cline-hub-daemon", "--cwd", str(home), "--host", "127.0.0.1",
         "--port", str(port), "--pathname", "/hub"], env={**env, "CLINE_RUN_AS_HUB_DAEMON": "1"},
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        for _ in range(300):  # the user's daemon answers on its port
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the user's Cline hub daemon did not start")
        theirs = hub_daemons(home)
        assert theirs
        upstream = GeminiOnlyUpstream("run_commands", _run_commands_arguments,
                                      key=UPSTREAM_KEY, final=FINAL)
        outcome = await run_client(cli, "cline-cli", upstream, "gemini", [PROMPT],
                                   timeout=120, env={"CLINE_HUB_PORT": str(port)})
        assert hub_daemons(home) == theirs  # none of the run's own
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(daemon.pid, signal.SIGKILL)
        daemon.wait()
    assert outcome.code == 0, outcome.why
    _gemini_tool_loop_checks(upstream, outcome.work, outcome.out, outcome.err)
    records = tuple(data / name for name in ("db", "logs", "locks", "sessions", "cache"))
    check_home(outcome, [], secrets("cline-cli"), records)
