"""Real clients finish a shell-tool task through ``byecore run``, editing none of HOME.

Each client runs non-interactively through ``byecore run CLIENT ARGS…`` (a real
subprocess, which starts its own proxy) against a scripted vendor that speaks only a
protocol the client does not: Codex and Gemini CLI a Chat-only one, Claude Code a
Gemini-only one, Aider, OpenCode and Droid a Messages-only one. HOME already holds the
client's config files pointing elsewhere (a dead port, a stale key): the run must win
over them for one process and leave them byte for byte, create none of the client's
config files, and write no key anywhere in HOME; the proxy it started must be gone when
it returns. Skipped only when a binary is absent (``BYECORE_CLIENT_BIN``, as for
``tests/proxy/test_real_clients_proxy.py``). Verified with Codex CLI 0.171.0, Claude
Code 2.1.332, Gemini CLI 0.61.0, aider-chat 0.86.2, opencode-ai 1.18.33 and
@factory/cli 0.225.1.
"""

from __future__ import annotations

import json

from tests.clients.test_real_clients import _needs
from tests.clients.test_real_gemini_cli import QUIET
from tests.launch.harness import (
    DEAD,
    MODEL,
    STALE,
    check_home,
    run_client,
    secrets,
    user_home,
    writer_files,
)
from tests.launch.upstreams import MessagesOnlyUpstream
from tests.proxy.gemini_upstream import GeminiOnlyUpstream
from tests.proxy.test_real_clients_proxy import (
    COMMAND,
    FINAL,
    PROMPT,
    UPSTREAM_KEY,
    ChatOnlyUpstream,
    _claude_arguments,
    _codex_arguments,
    _gemini_tool_loop_checks,
    _tool_loop_checks,
)


@_needs("codex")
async def test_codex_exec_through_run_on_a_chat_only_upstream(cli):
    config = (f'model = "gpt-4.1"\nmodel_provider = "byecore"\n\n[model_providers.byecore]\n'
              f'name = "byecore: old"\nbase_url = "{DEAD}/v1"\nwire_api = "responses"\n'
              f'experimental_bearer_token = "{STALE}"\n\n[projects."/tmp"]\n'
              'trust_level = "trusted"\n').encode()
    upstream = ChatOnlyUpstream("exec_command", _codex_arguments)
    outcome = await run_client(cli, "codex", upstream, "chat", [
        "exec", "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox",
        PROMPT], seed={".codex/config.toml": config})
    assert outcome.code == 0, outcome.why
    _tool_loop_checks(upstream, outcome.work, outcome.out, outcome.err)
    check_home(outcome, writer_files("codex"), secrets("codex"))


@_needs("claude")
async def test_claude_print_through_run_on_a_gemini_only_upstream(cli):
    settings = json.dumps({"env": {"ANTHROPIC_BASE_URL": DEAD, "ANTHROPIC_AUTH_TOKEN": STALE,
                                   "ANTHROPIC_MODEL": "claude-old"},
                           "permissions": {"allow": ["Read"]}}, indent=2).encode()
    upstream = GeminiOnlyUpstream("Bash", _claude_arguments, key=UPSTREAM_KEY, final=FINAL)
    outcome = await run_client(cli, "claude", upstream, "gemini", [
        "-p", "--allowedTools", "Bash", "--", PROMPT],
        seed={".claude/settings.json": settings})
    assert outcome.code == 0, outcome.why
    _gemini_tool_loop_checks(upstream, outcome.work, outcome.out, outcome.err)
    check_home(outcome, writer_files("claude"), secrets("claude"))


def _gemini_arguments(params: dict) -> dict:
    assert "command" in params.get("properties", {}), params
    return {"command": COMMAND}


@_needs("gemini")
async def test_gemini_cli_through_run_on_a_chat_only_upstream(cli):
    """settings.json selects no auth type: the run gets a temporary GEMINI_CLI_HOME."""
    upstream = ChatOnlyUpstream("run_shell_command", _gemini_arguments)
    outcome = await run_client(cli, "gemini", upstream, "chat", [
        "-p", PROMPT, "--yolo", "--skip-trust"], timeout=120, seed={
        ".gemini/settings.json": json.dumps(QUIET, indent=2).encode(),
        ".gemini/.env": f"GOOGLE_GEMINI_BASE_URL={DEAD}\nGEMINI_API_KEY={STALE}\n".encode()})
    assert outcome.code == 0, outcome.why
    _tool_loop_checks(upstream, outcome.work, outcome.out, outcome.err)
    check_home(outcome, writer_files("gemini"), secrets("gemini"))
    assert "temporary GEMINI_CLI_HOME" in outcome.err


@_needs("gemini")
async def test_gemini_cli_through_run_with_the_api_key_auth_already_selected(cli):
    """settings.json already selects gemini-api-key: environment variables alone."""
    upstream = ChatOnlyUpstream("run_shell_command", _gemini_arguments)
    chosen = {**QUIET, "security": {"auth": {"selectedType": "gemini-api-key"}}}
    outcome = await run_client(cli, "gemini", upstream, "chat", [
        "-p", PROMPT, "--yolo", "--skip-trust"], timeout=120,
        seed={".gemini/settings.json": json.dumps(chosen).encode()})
    assert outcome.code == 0, outcome.why
    _tool_loop_checks(upstream, outcome.work, outcome.out, outcome.err)
    check_home(outcome, writer_files("gemini"), secrets("gemini"))
    assert "GEMINI_CLI_HOME" not in outcome.err


# -- Chat clients on a Messages-only upstream ---------------------------------------------

def _shell_turn(tool: str, arguments):
    """Ask for ``tool`` until its result comes back, then say FINAL."""

    def turn(body: dict, upstream: MessagesOnlyUpstream):
        tools = upstream.tools(body)
        if upstream.answered(body):
            return ("text", FINAL)
        if tool in tools:
            return ("tool", tool, arguments(tools[tool]))
        return ("text", "Proof")  # a title or other side request

    return turn


def _messages_checks(upstream: MessagesOnlyUpstream, outcome) -> None:
    why = (*outcome.why, upstream.other, [
        [m["role"] for m in r["body"]["messages"]] for r in upstream.requests])
    assert outcome.code == 0, why
    assert (outcome.work / "proof.txt").read_text().strip() == "hi", why
    assert FINAL in outcome.out, why
    assert upstream.other == [], why
    assert upstream.requests, why
    for r in upstream.requests:
        assert r["headers"].get("x-api-key") == UPSTREAM_KEY
        assert r["body"]["model"] == MODEL


def _opencode_arguments(params: dict) -> dict:
    assert "command" in params.get("properties", {}), params
    return {"command": COMMAND}


@_needs("opencode")
async def test_opencode_run_through_run_on_a_messages_only_upstream(cli):
    config = json.dumps({"$schema": "https://opencode.ai/config.json", "provider": {
        "byecore": {"npm": "@ai-sdk/openai-compatible", "options": {
            "baseURL": f"{DEAD}/v1", "apiKey": STALE}, "models": {"old": {}}}},
        "model": "byecore/old"}, indent=2).encode()
    upstream = MessagesOnlyUpstream(_shell_turn("bash", _opencode_arguments))
    outcome = await run_client(cli, "opencode", upstream, "messages", ["run", PROMPT],
                               seed={".config/opencode/opencode.json": config})
    _messages_checks(upstream, outcome)
    assert any(upstream.answered(r["body"]) for r in upstream.requests)
    check_home(outcome, writer_files("opencode"), secrets("opencode"))


def _droid_arguments(params: dict) -> dict:
    props = params.get("properties", {})
    assert "command" in props, params
    args = {"command": COMMAND, "summary": "write proof.txt",
            "riskLevelReason": "writes one file in the working folder"}
    if "riskLevel" in props:
        levels = props["riskLevel"].get("enum") or ["low"]
        args["riskLevel"] = "low" if "low" in levels else levels[0]
    return {k: v for k, v in args.items() if k in props}


@_needs("droid")
async def test_droid_exec_through_run_on_a_messages_only_upstream(cli):
    home = user_home()
    settings = json.dumps({"customModels": [{
        "id": "custom:mine", "model": "old", "baseUrl": f"{DEAD}/v1", "apiKey": STALE,
        "provider": "generic-chat-completion-api"}],
        "sessionDefaultSettings": {"model": "custom:mine"}}, indent=2).encode()
    upstream = MessagesOnlyUpstream(_shell_turn("Execute", _droid_arguments))
    outcome = await run_client(cli, "droid", upstream, "messages", [
        "exec", "--skip-permissions-unsafe", PROMPT],
        seed={".factory/settings.json": settings})
    _messages_checks(upstream, outcome)
    assert any(upstream.answered(r["body"]) for r in upstream.requests)
    check_home(outcome, writer_files("droid"), secrets("droid"))
    assert (home / ".factory" / "settings.json").read_bytes() == settings


def _aider_turn(body: dict, upstream: MessagesOnlyUpstream):
    # Aider has no tools: with --edit-format whole it writes the file the answer names.
    return ("text", f"proof.txt\n```\nhi\n```\n\n{FINAL}\n")


@_needs("aider")
async def test_aider_through_run_on_a_messages_only_upstream(cli):
    conf = f"# mine\nopenai-api-base: {DEAD}/v1\nopenai-api-key: {STALE}\nmodel: gpt-4o\n"
    upstream = MessagesOnlyUpstream(_aider_turn)
    outcome = await run_client(cli, "aider", upstream, "messages", [
        "--message", "Create proof.txt holding the word hi.", "--yes-always", "--no-git",
        "--no-check-update", "--analytics-disable", "--no-pretty", "--edit-format", "whole"],
        seed={".aider.conf.yml": conf.encode()})
    _messages_checks(upstream, outcome)
    assert "Unknown context window" not in outcome.out + outcome.err  # the metadata file
    check_home(outcome, writer_files("aider"), secrets("aider"))
