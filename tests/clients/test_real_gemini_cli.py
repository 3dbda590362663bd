"""The real Gemini CLI runs its shell tool to completion through ``byecore proxy``.

Gemini CLI speaks only the Gemini API. The upstream here is a scripted fake vendor on
127.0.0.1 port 0 that speaks only one other protocol — Chat Completions in one test,
Anthropic Messages in the other — and knows one trick: when the request offers Gemini
CLI's shell tool (``run_shell_command``) it asks for ``echo byecore-tool-ok >
proof.txt``; once the request carries that call's result it answers ``FINAL``. The
provider is saved with that single protocol, so ``byecore setup gemini`` must point
Gemini CLI at the local proxy, which translates the Gemini API to it and back.

Gemini CLI runs as a user would run it headless: ``gemini -p … --yolo --skip-trust``
(``--yolo`` approves the tool; ``--skip-trust`` because Gemini CLI reads
``~/.gemini/.env`` only in folders it trusts) in a throwaway HOME whose settings.json
already turns off update checks and usage statistics; byecore must keep those keys.
Skipped only when the binary is absent: ``npm i -g @google/gemini-cli`` or set
``BYECORE_CLIENT_BIN``, as ``.ci/run`` does. Verified with @google/gemini-cli 0.61.0.

A provider that speaks the Gemini API itself is set up directly, and one test checks
that Gemini CLI then reaches it under the provider's own Gemini path. Another reads
byecore's ``.env`` edits with the ``dotenv`` parser bundled in that same Gemini CLI (run
with node), so quoting is checked against the real reader.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

from aiohttp import web

from byecore_cli.clients.gemini import dotenv_set, parse_dotenv
from byecore_cli.config.store import SettingsStore
from byecore_cli.paths import Paths
from byecore_cli.proxy.app import create_app
from tests.clients.factory import FIXTURES
from tests.clients.test_real_clients import _binary, _client_env, _needs
from tests.proxy.test_real_clients_proxy import _run

UPSTREAM_KEY = "sk-vendor-only-0123456789abcdefSECRET"
CALL_ID = "call_gemini_proof_41"
TOOL = "run_shell_command"
COMMAND = "echo byecore-tool-ok > proof.txt"
FINAL = "FINAL: proof.txt is written"
PROMPT = "Run the shell command `echo byecore-tool-ok > proof.txt`, then say you are done."
# What a careful user (and CI) puts in settings.json before byecore: no network chatter.
QUIET = {"general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
         "privacy": {"usageStatisticsEnabled": False}, "telemetry": {"enabled": False}}


class OneProtocolUpstream:
    """A vendor speaking only ``protocol`` ("chat" or "messages"), streamed or not."""

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self.requests: list[dict] = []  # every inference request, in order
        self.other: list[str] = []  # any other path: this vendor serves none
        self.app = web.Application()
        path = "/v1/chat/completions" if protocol == "chat" else "/v1/messages"
        self.app.router.add_post(path, self._inference)
        self.app.router.add_route("*", "/{tail:.*}", self._other)

    async def _other(self, request: web.Request) -> web.Response:
        self.other.append(f"{request.method} {request.path_qs}")
        return web.json_response({"error": {"message": "not found"}}, status=404)

    def _tools(self, body: dict) -> dict[str, dict]:
        if self.protocol == "chat":
            return {t["function"]["name"]: t["function"].get("parameters") or {}
                    for t in body.get("tools") or [] if t.get("type") == "function"}
        return {t["name"]: t.get("input_schema") or {} for t in body.get("tools") or []}

    def answered(self, body: dict) -> bool:
        if self.protocol == "chat":
            return any(m.get("role") == "tool" and m.get("tool_call_id") == CALL_ID
                       for m in body["messages"])
        return any(isinstance(m.get("content"), list) and any(
            b.get("type") == "tool_result" and b.get("tool_use_id") == CALL_ID
            for b in m["content"]) for m in body["messages"] if m.get("role") == "user")

    async def _inference(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append({"headers": dict(request.headers), "body": body})
        tools = self._tools(body)
        if TOOL in tools and not self.answered(body):
            assert "command" in tools[TOOL].get("properties", {}), tools[TOOL]
            turn = ("tool", json.dumps({"command": COMMAND}))
        else:
            turn = ("text", FINAL if self.answered(body) else "Proof")
        if self.protocol == "chat":
            return await self._chat(request, body, *turn)
        return await self._messages(request, body, *turn)

    async def _chat(self, request, body, kind: str, payload: str) -> web.StreamResponse:
        base = {"id": f"chatcmpl-{len(self.requests)}", "created": int(time.time()),
                "model": body["model"]}
        if kind == "tool":
            call = {"id": CALL_ID, "type": "function",
                    "function": {"name": TOOL, "arguments": payload}}
            message, finish = {"role": "assistant", "content": None,
                               "tool_calls": [call]}, "tool_calls"
            deltas = [{"role": "assistant", "content": None, "tool_calls": [{
                "index": 0, "id": CALL_ID, "type": "function",
                "function": {"name": TOOL, "arguments": ""}}]}]
            deltas += [{"tool_calls": [{"index": 0, "function": {
                "arguments": payload[i:i + 9]}}]} for i in range(0, len(payload), 9)]
        else:
            message, finish = {"role": "assistant", "content": payload}, "stop"
            deltas = [{"role": "assistant", "content": ""}]
            deltas += [{"content": word + " "} for word in payload.split(" ")]
        usage = {"prompt_tokens": 120, "completion_tokens": 9, "total_tokens": 129}
        if not body.get("stream"):
            return web.json_response({**base, "object": "chat.completion", "choices": [{
                "index": 0, "message": message, "finish_reason": finish}], "usage": usage})
        chunks = [{**base, "object": "chat.completion.chunk", "choices": [{
            "index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
        chunks.append({**base, "object": "chat.completion.chunk", "choices": [{
            "index": 0, "delta": {}, "finish_reason": finish}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            chunks.append({**base, "object": "chat.completion.chunk", "choices": [],
                           "usage": usage})
        return await _sse(request, [(None, c) for c in chunks] + [(None, "[DONE]")])

    async def _messages(self, request, body, kind: str, payload: str) -> web.StreamResponse:
        if kind == "tool":
            block = {"type": "tool_use", "id": CALL_ID, "name": TOOL,
                     "input": json.loads(payload)}
            start = {**block, "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": payload[i:i + 9]}
                      for i in range(0, len(payload), 9)]
            stop = "tool_use"
        else:
            block, start = {"type": "text", "text": payload}, {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": word + " "}
                      for word in payload.split(" ")]
            stop = "end_turn"
        message = {"id": f"msg_{len(self.requests)}", "type": "message",
                   "role": "assistant", "model": body["model"], "content": [block],
                   "stop_reason": stop, "stop_sequence": None,
                   "usage": {"input_tokens": 120, "output_tokens": 9}}
        if not body.get("stream"):
            return web.json_response(message)
        events = [("message_start", {"type": "message_start", "message": {
                      **message, "content": [], "stop_reason": None,
                      "usage": {"input_tokens": 120, "output_tokens": 1}}}),
                  ("content_block_start", {"type": "content_block_start", "index": 0,
                                           "content_block": start})]
        events += [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                            "delta": d}) for d in deltas]
        events += [("content_block_stop", {"type": "content_block_stop", "index": 0}),
                   ("message_delta", {"type": "message_delta", "delta": {
                       "stop_reason": stop, "stop_sequence": None},
                       "usage": {"output_tokens": 9}}),
                   ("message_stop", {"type": "message_stop"})]
        return await _sse(request, events)


async def _sse(request: web.Request, events: list[tuple[str | None, object]]
               ) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})
    await response.prepare(request)
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data)
        await response.write(((f"event: {name}\n" if name else "") + f"data: {text}\n\n")
                             .encode())
    await response.write_eof()
    return response


async def _gemini_through_proxy(cli, upstream: OneProtocolUpstream
                                ) -> tuple[Path, int, str, str]:
    """Save the one-protocol provider, ``byecore setup gemini``, serve the proxy, run
    ``gemini -p`` in ``$HOME/work``."""
    home = Path(os.environ["HOME"])
    work = home / "work"
    work.mkdir(parents=True)
    settings_file = home / ".gemini" / "settings.json"
    settings_file.parent.mkdir(parents=True)
    settings_file.write_text(json.dumps(QUIET, indent=2) + "\n")
    (home / ".gemini" / ".env").write_text("# mine: Gemini CLI opens no browser\n"
                                           "NO_BROWSER=true\n")
    up_runner = web.AppRunner(upstream.app)
    await up_runner.setup()
    proxy_runner = None
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        await web.TCPSite(up_runner, "127.0.0.1", 0).start()
        up_port = up_runner.addresses[0][1]
        added = cli("provider", "add", "vendor", "--preset", "none", "--base-url",
                    f"http://127.0.0.1:{up_port}", "--protocol", upstream.protocol,
                    "--model", "vendor-model-1", "--key-stdin", input=UPSTREAM_KEY)
        assert added.exit_code == 0, added.output

        listener.bind(("127.0.0.1", 0))  # held from here on: no other process can take it
        port = listener.getsockname()[1]
        store = SettingsStore(Paths.current().settings)
        _, doc = store.load()
        doc["proxy"] = {"port": port}
        settings = store.save(doc)

        set_up = cli("setup", "gemini", "--json")
        assert set_up.exit_code == 0, set_up.output
        data = json.loads(set_up.stdout)["data"]
        assert data["via_proxy"], data  # Gemini CLI speaks only the Gemini API
        assert any("local proxy" in n and "translates" in n for n in data["notes"])
        written = json.loads(settings_file.read_text())
        assert written == {**QUIET, "security": {"auth": {"selectedType": "gemini-api-key"}}}
        env = {k: e.value for k, e in parse_dotenv((home / ".gemini" / ".env").read_text())
               .items()}
        assert env["GOOGLE_GEMINI_BASE_URL"] == f"http://127.0.0.1:{port}"
        assert env["NO_BROWSER"] == "true"

        proxy_runner = web.AppRunner(create_app(settings), handler_cancellation=True)
        await proxy_runner.setup()
        await web.SockSite(proxy_runner, listener).start()
        argv = [_binary("gemini"), "-p", PROMPT, "--yolo", "--skip-trust"]
        code, out, err = await _run(argv, work, _client_env(home), 60)
    finally:
        if proxy_runner is not None:
            await proxy_runner.cleanup()
        await up_runner.cleanup()
        listener.close()
    return work, code, out, err


def _tool_loop_checks(upstream: OneProtocolUpstream, work: Path, code: int, out: str,
                      err: str) -> None:
    why = (code, out[-1500:], err[-3000:], upstream.other,
           [[m.get("role") for m in r["body"]["messages"]] for r in upstream.requests])
    assert code == 0, why
    assert (work / "proof.txt").read_text().strip() == "byecore-tool-ok", why
    assert FINAL in out, why
    assert upstream.other == [], why
    answers = [r["body"] for r in upstream.requests if upstream.answered(r["body"])]
    assert answers, why  # the upstream saw the tool's result
    for body in (r["body"] for r in upstream.requests):
        assert body["model"] == "vendor-model-1", body["model"]


@_needs("gemini")
async def test_gemini_cli_runs_a_tool_through_the_proxy_on_a_chat_only_upstream(cli):
    upstream = OneProtocolUpstream("chat")
    work, code, out, err = await _gemini_through_proxy(cli, upstream)
    _tool_loop_checks(upstream, work, code, out, err)
    assert all(r["headers"].get("Authorization") == f"Bearer {UPSTREAM_KEY}"
               for r in upstream.requests)
    replayed = next(r["body"]["messages"] for r in upstream.requests
                    if upstream.answered(r["body"]))
    asked = [m for m in replayed if m.get("role") == "assistant" and m.get("tool_calls")]
    results = [m for m in replayed if m.get("role") == "tool"]
    assert [c["id"] for c in asked[-1]["tool_calls"]] == [CALL_ID]
    assert json.loads(asked[-1]["tool_calls"][0]["function"]["arguments"]) == {
        "command": COMMAND}
    assert [m["tool_call_id"] for m in results] == [CALL_ID]
    assert replayed.index(asked[-1]) < replayed.index(results[0])


@_needs("gemini")
async def test_gemini_cli_runs_a_tool_through_the_proxy_on_a_messages_only_upstream(cli):
    upstream = OneProtocolUpstream("messages")
    work, code, out, err = await _gemini_through_proxy(cli, upstream)
    _tool_loop_checks(upstream, work, code, out, err)
    assert all(r["headers"].get("x-api-key") == UPSTREAM_KEY for r in upstream.requests)
    replayed = next(r["body"]["messages"] for r in upstream.requests
                    if upstream.answered(r["body"]))
    blocks = [(m["role"], b) for m in replayed if isinstance(m["content"], list)
              for b in m["content"]]
    uses = [b for role, b in blocks if role == "assistant" and b["type"] == "tool_use"]
    results = [b for role, b in blocks if role == "user" and b["type"] == "tool_result"]
    assert [(b["id"], b["name"], b["input"]) for b in uses] == [
        (CALL_ID, TOOL, {"command": COMMAND})]
    assert [b["tool_use_id"] for b in results] == [CALL_ID]
    assert blocks.index(("assistant", uses[0])) < blocks.index(("user", results[0]))


def _bundled_dotenv_parser() -> str:
    """The JavaScript of the dotenv ``parse`` that Gemini CLI bundles, run by node."""
    bundle = Path(os.path.realpath(_binary("gemini"))).parent
    for path in sorted(bundle.glob("*.js")):
        found = re.search(r"var LINE = (/\(\?:\^\|\^\).*?/mg);\n\s*function \w+\(src\) \{\n"
                          r"(.*?return obj;\n\s*\})", path.read_text(errors="replace"), re.S)
        if found:
            return (f"const LINE = {found.group(1)};\nfunction parse(src) {{\n"
                    f"{found.group(2)}\nprocess.stdout.write(JSON.stringify(parse("
                    "require('fs').readFileSync(0, 'utf8'))));")
    raise AssertionError(f"no bundled dotenv parser in {bundle}: has Gemini CLI changed?")


@_needs("gemini")
def test_the_env_file_reads_the_same_with_gemini_clis_own_dotenv_parser():
    script = _bundled_dotenv_parser()
    text = (FIXTURES / "gemini-env").read_text()
    for name, value in (("GEMINI_MODEL", "vendor/model:1"), ("GEMINI_API_KEY", "sk-a#b'c"),
                        ("GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:4000"),
                        ("NOTE", 'say "hi" # not a comment'), ("EMPTY", "")):
        text = dotenv_set(text, name, value)
    real = json.loads(subprocess.run(["node", "-e", script], input=text, text=True,
                                     capture_output=True, timeout=30, check=True).stdout)
    ours = {name: e.value for name, e in parse_dotenv(text).items()}
    assert ours == real
    assert real["GEMINI_API_KEY"] == "sk-a#b'c" and real["EMPTY"] == ""
    assert real["NOTE"] == 'say "hi" # not a comment'
    assert real["GREETING"] == "first line\nsecond line"


@_needs("gemini")
async def test_gemini_cli_talks_to_a_gemini_provider_directly_under_its_own_path(cli):
    """A provider that speaks the Gemini API needs no proxy: the base URL byecore writes is
    the root plus the provider's Gemini path without its version, which the SDK adds."""
    home = Path(os.environ["HOME"])
    (home / "work").mkdir(parents=True)
    (home / ".gemini").mkdir()
    (home / ".gemini" / "settings.json").write_text(json.dumps(QUIET))
    seen: list[tuple[str, str | None]] = []

    async def gemini_api(request: web.Request) -> web.StreamResponse:
        seen.append((request.path_qs, request.headers.get("x-goog-api-key")))
        if not re.fullmatch(r"/gemini/v1beta/models/[\w.-]+:streamGenerateContent",
                            request.path):
            return web.json_response({"error": {"code": 404, "message": "not found",
                                                "status": "NOT_FOUND"}}, status=404)
        chunk = {"candidates": [{"content": {"role": "model", "parts": [
            {"text": "PONG from the Gemini gateway"}]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 5,
                              "totalTokenCount": 10}}
        return await _sse(request, [(None, chunk)])

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", gemini_api)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        root = f"http://127.0.0.1:{runner.addresses[0][1]}"
        added = cli("provider", "add", "gg", "--preset", "none", "--base-url", root,
                    "--protocol", "gemini", "--model", "gemini-2.5-pro", "--key-stdin",
                    input=UPSTREAM_KEY)
        assert added.exit_code == 0, added.output
        store = SettingsStore(Paths.current().settings)
        _, doc = store.load()
        doc["providers"]["gg"]["gemini_path"] = "/gemini/v1beta"
        store.save(doc)
        set_up = cli("setup", "gemini", "--json")
        assert set_up.exit_code == 0, set_up.output
        assert not json.loads(set_up.stdout)["data"]["via_proxy"]
        argv = [_binary("gemini"), "-p", "say PONG", "--skip-trust"]
        code, out, err = await _run(argv, home / "work", _client_env(home), 60)
    finally:
        await runner.cleanup()
    assert code == 0 and "PONG from the Gemini gateway" in out, (out[-1500:], err[-3000:])
    assert seen == [("/gemini/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
                     UPSTREAM_KEY)]
