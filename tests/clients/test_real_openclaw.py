"""The real OpenClaw finishes a shell-tool task after ``byecore setup openclaw``.

``openclaw agent exec --json …`` is OpenClaw's headless one-shot run: no Gateway, no
onboarding, no prompts, tools working in the current folder, a JSON envelope on stdout.
It runs in a throwaway HOME whose ``~/.openclaw/openclaw.json`` is the user's own JSON5
file (comments, unquoted names, single quotes, hex, trailing commas; its own Ollama
model as the primary). The vendor on 127.0.0.1 speaks only Anthropic Messages, so the
run passes only if byecore pointed OpenClaw at its proxy as ``openai-completions`` and
the proxy translated both ways: the fake asks for OpenClaw's ``exec`` tool, checks the
command's output comes back as the tool result, then answers ``FINAL``.

OpenClaw needs Node >= 24.16. Binaries are found on PATH or in ``BYECORE_CLIENT_BIN``:
``openclaw``, and ``node24`` (a link to Node 24's ``node``), which the run puts first on
PATH as ``node`` when present. The test is skipped only when ``openclaw`` is absent.
Verified with openclaw 2026.9.6 on Node 24.21.0.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import json5

from tests.clients.conftest import FIXTURES, place
from tests.clients.test_real_clients import _binary, _client_env, _needs
from tests.launch.upstreams import MessagesOnlyUpstream
from tests.proxy.test_real_clients_proxy import FINAL, UPSTREAM_KEY, _through_proxy

MARK = "tool-ran-5c2e"  # what the command prints: it must come back as the tool result
COMMAND = f"echo hi > proof.txt && echo {MARK}"
PROMPT = f"Run the shell command `{COMMAND}`, then say you are done."


def _node24_first(tmp: Path) -> str:
    """PATH with BYECORE_CLIENT_BIN's ``node24`` first, as ``node`` (OpenClaw's
    ``#!/usr/bin/env node`` then finds it); PATH unchanged without one."""
    path = os.environ.get("PATH", "")
    node24 = _binary("node24")
    if node24 is None:
        return path
    folder = tmp / "node24-bin"
    folder.mkdir()
    (folder / "node").symlink_to(node24)
    return os.pathsep.join((str(folder), path))


def _tool_result(body: dict) -> str:
    """The text of the last tool_result the request carries ("" if none)."""
    for message in reversed(body["messages"]):
        for block in message.get("content") if isinstance(message.get("content"),
                                                          list) else []:
            if block.get("type") == "tool_result":
                content = block.get("content")
                if isinstance(content, list):
                    return "".join(c.get("text", "") for c in content)
                return str(content or "")
    return ""


def _turn(body: dict, upstream: MessagesOnlyUpstream):
    tools = upstream.tools(body)
    if upstream.answered(body):
        return ("text", FINAL if MARK in _tool_result(body) else "the tool result is missing")
    if "exec" in tools:
        assert "command" in tools["exec"].get("properties", {}), tools["exec"]
        return ("tool", "exec", {"command": COMMAND})
    return ("text", "Proof")  # a side request without tools


@_needs("openclaw")
async def test_openclaw_agent_exec_runs_its_exec_tool_through_the_proxy(cli, monkeypatch,
                                                                       tmp_path):
    home = Path(os.environ["HOME"])
    config = home / ".openclaw" / "openclaw.json"
    mine = place("openclaw.json5", config)
    monkeypatch.setenv("PATH", _node24_first(tmp_path))
    upstream = MessagesOnlyUpstream(_turn)
    argv = [_binary("openclaw"), "agent", "exec", "--json", PROMPT]
    written: list[bytes] = []

    def cli_noting_setup(*args, **kwargs):  # what byecore wrote, before OpenClaw runs
        result = cli(*args, **kwargs)
        if args[0] == "setup":
            written.append(config.read_bytes())
        return result

    work, code, out, err = await _through_proxy(cli_noting_setup, "openclaw", upstream,
                                                argv, 240, protocol="messages")
    why = (out[-2000:], err[-3000:], upstream.other,
           [[m["role"] for m in r["body"]["messages"]] for r in upstream.requests])
    assert code == 0, why
    envelope = json.loads(out)
    assert envelope["ok"] and envelope["final"].strip() == FINAL, why
    assert envelope["provider"] == "byecore" and "exec" in envelope["toolSummary"]["tools"]
    assert (work / "proof.txt").read_text().strip() == "hi"  # the tool really ran
    replays = [r["body"] for r in upstream.requests if upstream.answered(r["body"])]
    assert replays and MARK in _tool_result(replays[0]), why
    assert upstream.other == []
    for r in upstream.requests:  # translated: the vendor's key and model, Messages only
        assert r["headers"].get("x-api-key") == UPSTREAM_KEY
        assert r["body"]["model"] == "vendor-model-1"

    # the user's file: every line but the primary model kept, the rest still theirs
    after = config.read_text()
    assert all(line in after.splitlines() for line in mine.decode().splitlines()
               if "primary:" not in line)
    data, old = json5.loads(after), json5.loads(mine)
    assert data["models"]["providers"]["ollama-local"] == old["models"]["providers"][
        "ollama-local"]
    assert data["agents"]["defaults"]["model"]["fallbacks"] == ["ollama-local/llama3.3:70b"]
    assert data["agents"]["defaults"]["model"]["primary"].startswith("byecore/")
    assert written == [after.encode()]  # OpenClaw did not rewrite it during the run
    status = cli("status", "--json")
    rows = {r["client"]: r for r in json.loads(status.stdout)["data"]["clients"]}
    assert rows["openclaw"]["configured"] and not rows["openclaw"]["hand_edited"], rows

    # OpenClaw's own schema check (it refuses to start on an unknown key)
    checked = subprocess.run([_binary("openclaw"), "config", "validate"], cwd=work,
                             env=_client_env(home), capture_output=True, text=True,
                             timeout=120, stdin=subprocess.DEVNULL)
    assert checked.returncode == 0 and "Config valid" in checked.stdout, (
        checked.stdout[-1500:], checked.stderr[-1500:])
    assert config.read_bytes() == written[0]  # nor did validate
    assert (FIXTURES / "openclaw.json5").read_bytes() == mine
