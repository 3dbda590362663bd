"""Real npm coding clients finish a shell-tool task after ``byecore setup``.

Each runs non-interactively in a throwaway HOME against a scripted vendor on 127.0.0.1
that speaks only the Gemini API, so a run passes only if byecore pointed the client at
its proxy in the protocol its writer declares and the proxy translated both ways (the
tool call out, its result back). Binaries are found on PATH or in
``BYECORE_CLIENT_BIN``; a test is skipped only when its binary is absent.

Verified with @qwen-code/qwen-code 0.15.10, @mariozechner/pi-coding-agent 0.73.1
(``--offline`` turns off Pi's start-up network calls) and Kilo CLI 7.7.9: npm's
``@kilocode/cli`` 7.8.1 fails to install here (its 7.8.1 platform packages are not on
the registry this machine reaches), so ``@kilocode/cli-linux-x64@7.7.9``'s binary runs.
Qwen Code and Pi could speak the Gemini API themselves, but their writers declare Chat
Completions (each module says why), so a run goes Chat → proxy → Gemini.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.clients.conftest import place
from tests.clients.test_real_clients import _binary, _needs
from tests.proxy.gemini_upstream import GeminiOnlyUpstream
from tests.proxy.test_real_clients_proxy import (
    COMMAND,
    FINAL,
    PROMPT,
    UPSTREAM_KEY,
    _gemini_tool_loop_checks,
    _through_proxy,
)


def _command_arguments(params: dict) -> dict:
    assert "command" in params.get("properties", {}), params  # the shell tool's argument
    return {"command": COMMAND}


@_needs("qwen")
async def test_qwen_code_headless_yolo_runs_its_shell_tool_through_the_proxy(cli):
    """``qwen -p … --yolo`` after ``byecore setup qwen`` over a settings.json that
    selects the user's own Anthropic model: the run uses byecore's modelProviders
    entry (key from settings.json's env), and Qwen Code leaves byecore's keys alone."""
    home = Path(os.environ["HOME"])
    place("qwen-settings.json", home / ".qwen" / "settings.json")
    upstream = GeminiOnlyUpstream("run_shell_command", _command_arguments,
                                  key=UPSTREAM_KEY, final=FINAL)
    argv = [_binary("qwen"), "-p", PROMPT, "--yolo"]
    work, code, out, err = await _through_proxy(cli, "qwen", upstream, argv, 60,
                                                protocol="gemini")
    assert code == 0, (out[-1500:], err[-3000:])
    _gemini_tool_loop_checks(upstream, work, out, err)
    status = cli("status", "--json")
    rows = {r["client"]: r for r in json.loads(status.stdout)["data"]["clients"]}
    assert rows["qwen"]["configured"] and not rows["qwen"]["hand_edited"], rows["qwen"]


@_needs("pi")
async def test_pi_print_mode_runs_its_bash_tool_through_the_proxy(cli):
    """``pi -p … --offline --no-session`` (Pi asks no approval for its tools) after
    ``byecore setup pi`` over a models.json and settings.json that choose the user's
    Ollama model: the run uses byecore's default provider and model."""
    home = Path(os.environ["HOME"])
    place("pi-models.json", home / ".pi" / "agent" / "models.json")
    place("pi-settings.json", home / ".pi" / "agent" / "settings.json")
    upstream = GeminiOnlyUpstream("bash", _command_arguments, key=UPSTREAM_KEY, final=FINAL)
    argv = [_binary("pi"), "-p", PROMPT, "--offline", "--no-session"]
    work, code, out, err = await _through_proxy(cli, "pi", upstream, argv, 60,
                                                protocol="gemini")
    assert code == 0, (out[-1500:], err[-3000:])
    _gemini_tool_loop_checks(upstream, work, out, err)
    status = cli("status", "--json")
    rows = {r["client"]: r for r in json.loads(status.stdout)["data"]["clients"]}
    assert rows["pi"]["configured"] and not rows["pi"]["hand_edited"], rows["pi"]


@_needs("kilo")
async def test_kilo_run_auto_runs_its_bash_tool_through_the_proxy(cli):
    """``kilo run --auto …`` after ``byecore setup kilo-cli`` in a fresh home (byecore
    creates ``~/.config/kilo/kilo.jsonc``): the run uses byecore's provider and model."""
    upstream = GeminiOnlyUpstream("bash", _command_arguments, key=UPSTREAM_KEY, final=FINAL)
    argv = [_binary("kilo"), "run", "--auto", PROMPT]
    work, code, out, err = await _through_proxy(cli, "kilo-cli", upstream, argv, 60,
                                                protocol="gemini")
    assert code == 0, (out[-1500:], err[-3000:])
    _gemini_tool_loop_checks(upstream, work, out, err)
    status = cli("status", "--json")
    rows = {r["client"]: r for r in json.loads(status.stdout)["data"]["clients"]}
    assert rows["kilo-cli"]["configured"] and not rows["kilo-cli"]["hand_edited"], rows["kilo-cli"]
