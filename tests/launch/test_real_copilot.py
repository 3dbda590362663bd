"""The real GitHub Copilot CLI finishes a shell-tool task through ``byecore run copilot``.

``byecore run copilot -p PROMPT --allow-all-tools`` (a real subprocess, which starts its
own proxy) runs Copilot CLI in its BYOK mode on the Responses wire, against a scripted
vendor that speaks only Anthropic Messages: the proxy must translate both ways, through
a tool call and its result. The shell holds a stale BYOK setup of the user's that would
beat byecore's variables (a bearer token, an Authorization header, a wire model, a dead
base URL) and ~/.copilot/settings.json picks another model: the run must win over both
for one process, leave HOME's files byte for byte, write no key anywhere in HOME, and
stop the proxy it started. A vendor that thinks (signed) before its tool call must get
that thinking back, signature and all, with the call's result: the reason byecore
gives Copilot the Responses wire, on which it replays reasoning (its Chat wire drops it).
Skipped only when the binary is absent (``BYECORE_CLIENT_BIN``, as for the other real
clients). Verified with @github/copilot 1.0.102.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from aiohttp import web

from tests.clients.test_real_clients import _needs
from tests.launch.harness import DEAD, STALE, check_home, run_client, secrets
from tests.launch.test_real_run import _messages_checks, _shell_turn
from tests.launch.upstreams import CALL_ID, MessagesOnlyUpstream
from tests.proxy.test_real_clients_proxy import COMMAND, FINAL, PROMPT

# What the user's shell would give Copilot without byecore: each one beats byecore's
# own variable unless the run removes it (checked with the binary, one at a time).
STALE_BYOK = {
    "COPILOT_PROVIDER_BASE_URL": f"{DEAD}/v1",
    "COPILOT_PROVIDER_API_KEY": STALE,
    "COPILOT_PROVIDER_BEARER_TOKEN": STALE,
    "COPILOT_PROVIDER_HEADERS": f"Authorization: Bearer {STALE}",
    "COPILOT_PROVIDER_WIRE_MODEL": "old-model",
    "COPILOT_PROVIDER_WIRE_API": "completions",
    "COPILOT_MODEL": "old-model",
    "COPILOT_AUTO_UPDATE": "false",  # a test run downloads no newer Copilot
}


def _copilot_arguments(params: dict) -> dict:
    props = params.get("properties", {})
    assert "command" in props, params
    return {"command": COMMAND, "description": "Write proof.txt"} if "description" in props \
        else {"command": COMMAND}


@_needs("copilot")
async def test_copilot_prompt_through_run_on_a_messages_only_upstream(cli):
    home = Path(os.environ["HOME"])
    settings = json.dumps({"model": "gpt-4.1", "banner": "never"}, indent=2).encode()
    upstream = MessagesOnlyUpstream(_shell_turn("bash", _copilot_arguments))
    outcome = await run_client(cli, "copilot", upstream, "messages", [
        "-p", PROMPT, "--allow-all-tools", "--no-auto-update"],
        seed={".copilot/settings.json": settings}, env=STALE_BYOK)
    _messages_checks(upstream, outcome)
    replays = [r["body"] for r in upstream.requests if upstream.answered(r["body"])]
    assert replays, outcome.why  # the tool's result went back, under the call's id
    assert "bash" in upstream.tools(replays[0])
    check_home(outcome, [home / ".copilot" / "providers.json"], secrets("copilot"))
    assert "GitHub Copilot CLI → byecore proxy" in outcome.err



SIGNATURE = "EqQBCkYIBxgCKkB0aGlua2luZy1zaWduZWQtYnktdGhlLXZlbmRvcg=="
THOUGHT = "The user wants proof.txt; the bash tool writes it."


class ThinkingMessagesUpstream(MessagesOnlyUpstream):
    """Streams a signed thinking block before its tool call, then FINAL once the call's
    result comes back; keeps what each replayed assistant turn carried."""

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append({"headers": dict(request.headers), "body": body})
        if not body.get("stream"):
            return web.json_response({"type": "error", "error": {
                "type": "invalid_request_error", "message": "this fake only streams"}},
                status=400)
        if self.answered(body) or "bash" not in self.tools(body):
            blocks = [("text", FINAL if self.answered(body) else "Proof")]
        else:
            blocks = [("thinking", THOUGHT),
                      ("tool_use", json.dumps(_copilot_arguments(self.tools(body)["bash"])))]
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)

        async def send(data: dict) -> None:
            await response.write(f"event: {data['type']}\ndata: {json.dumps(data)}\n\n".encode())

        await send({"type": "message_start", "message": {
            "id": f"msg_{len(self.requests)}", "type": "message", "role": "assistant",
            "model": body["model"], "content": [], "stop_reason": None,
            "stop_sequence": None, "usage": {"input_tokens": 120, "output_tokens": 1}}})
        for index, (kind, text) in enumerate(blocks):
            start, deltas = {"type": kind}, []
            if kind == "thinking":
                start.update(thinking="", signature="")
                deltas = [{"type": "thinking_delta", "thinking": text},
                          {"type": "signature_delta", "signature": SIGNATURE}]
            elif kind == "tool_use":
                start.update(id=CALL_ID, name="bash", input={})
                deltas = [{"type": "input_json_delta", "partial_json": text}]
            else:
                start["text"] = ""
                deltas = [{"type": "text_delta", "text": text}]
            await send({"type": "content_block_start", "index": index, "content_block": start})
            for delta in deltas:
                await send({"type": "content_block_delta", "index": index, "delta": delta})
            await send({"type": "content_block_stop", "index": index})
        stop = "tool_use" if blocks[-1][0] == "tool_use" else "end_turn"
        await send({"type": "message_delta", "delta": {"stop_reason": stop,
                    "stop_sequence": None}, "usage": {"output_tokens": 9}})
        await send({"type": "message_stop"})
        await response.write_eof()
        return response


@_needs("copilot")
async def test_copilot_replays_the_vendors_signed_thinking_through_run(cli):
    upstream = ThinkingMessagesUpstream(_shell_turn("bash", _copilot_arguments))
    outcome = await run_client(cli, "copilot", upstream, "messages", [
        "-p", PROMPT, "--allow-all-tools", "--no-auto-update"], env=STALE_BYOK)
    _messages_checks(upstream, outcome)
    replays = [r["body"] for r in upstream.requests if upstream.answered(r["body"])]
    assert replays, outcome.why
    turns = [m for m in replays[0]["messages"] if m["role"] == "assistant"]
    blocks = turns[-1]["content"]
    assert [b["type"] for b in blocks] == ["thinking", "tool_use"], blocks
    assert blocks[0]["signature"] == SIGNATURE and blocks[0]["thinking"] == THOUGHT
    assert blocks[1]["id"] == CALL_ID
    check_home(outcome, [], secrets("copilot"))
