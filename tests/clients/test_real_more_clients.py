"""Real Hermes Agent and Kimi Code finish a shell-tool task through ``byecore setup``.

Each client runs non-interactively in a throwaway HOME against a scripted vendor on
127.0.0.1 that speaks only a protocol the client does not (the Gemini API, via
``byecore proxy``), so the run passes only if byecore set the client up to reach the
proxy and the proxy translated both ways. Binaries are found on PATH or in
``BYECORE_CLIENT_BIN`` (``.ci/run`` installs them); a test is skipped only when its
binary is absent. Verified with hermes-agent 0.19.0 (PyPI).
"""

from __future__ import annotations

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


def _terminal_arguments(params: dict) -> dict:
    assert "command" in params.get("properties", {}), params  # Hermes's terminal tool
    return {"command": COMMAND}


@_needs("hermes")
async def test_hermes_oneshot_runs_its_terminal_tool_through_the_proxy(cli):
    """The user's config.yaml selects OpenRouter with its own model.base_url; after
    ``byecore setup hermes`` the one-shot run (approvals bypassed, as ``-z`` does) goes
    to byecore's provider, translated from Chat Completions to the Gemini API."""
    home = Path(os.environ["HOME"])
    place("hermes-config.yaml", home / ".hermes" / "config.yaml")
    upstream = GeminiOnlyUpstream("terminal", _terminal_arguments, key=UPSTREAM_KEY,
                                  final=FINAL)
    argv = [_binary("hermes"), "-z", PROMPT, "--yolo"]
    work, code, out, err = await _through_proxy(cli, "hermes", upstream, argv, 120,
                                                protocol="gemini")
    assert code == 0, (out[-1500:], err[-3000:])
    _gemini_tool_loop_checks(upstream, work, out, err)
