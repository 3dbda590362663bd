"""Qwen Code, Pi and Kilo CLI finish a shell-tool task through ``byecore run``.

Each real client runs non-interactively through ``byecore run CLIENT …`` (a real
subprocess that starts its own proxy) against a vendor speaking only the Gemini API,
with HOME already holding the user's own config for another provider: Qwen Code and Pi
read a borrowed folder (``QWEN_HOME``, ``PI_CODING_AGENT_DIR``) with copies of their
files, Kilo CLI an inline config (``KILO_CONFIG_CONTENT``). The user's files stay byte
for byte, no key lands in HOME, and the proxy is gone afterwards. Verified with
@qwen-code/qwen-code 0.15.10, @mariozechner/pi-coding-agent 0.73.1 and Kilo CLI 7.7.9
(its binary package, see ``tests/clients/test_real_npm_clients.py``).
"""

from __future__ import annotations

from tests.clients.conftest import FIXTURES
from tests.clients.test_real_clients import _needs
from tests.clients.test_real_npm_clients import _command_arguments
from tests.launch.harness import check_home, run_client, secrets, writer_files
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


@_needs("pi")
async def test_pi_print_mode_through_run_on_a_gemini_only_upstream(cli):
    seed = {".pi/agent/models.json": (FIXTURES / "pi-models.json").read_bytes(),
            ".pi/agent/settings.json": (FIXTURES / "pi-settings.json").read_bytes()}
    outcome = await _through_run(cli, "pi", "bash", ["-p", PROMPT, "--offline"], seed)
    assert "temporary PI_CODING_AGENT_DIR" in outcome.err


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
