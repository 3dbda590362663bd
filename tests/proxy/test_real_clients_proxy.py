"""The real Codex CLI and Claude Code finish a tool-using task through ``byecore proxy``,
and the real Aider streams through its pass-through.

The upstream is a scripted fake vendor on 127.0.0.1 port 0 that speaks only Chat
Completions (streamed like an OpenAI-compatible API): on the first turn it asks for the
client's own shell tool to run ``echo hi > proof.txt``; once the request carries the
tool's result (a ``role: "tool"`` message answering that call) it replies with
``FINAL``. The provider is saved with the single protocol ``chat``, so ``byecore setup``
must point each client at the local proxy, which translates Responses (Codex) and
Anthropic Messages (Claude Code) to Chat and back.

The proxy runs in-process (``create_app``) on a socket bound to port 0 beforehand, and
``[proxy] port`` is set to that port so that ``byecore setup`` writes it into the client's
config, as it would for a user who moved the proxy off 4000. Clients run in a throwaway
HOME; a test is skipped only when the client's binary is absent (set
``BYECORE_CLIENT_BIN``, as ``.ci/run`` does). Verified with Codex CLI 0.171.0,
Claude Code 2.1.332 and aider-chat 0.86.2. The same tool loop runs for Codex and Claude
Code against a vendor that speaks only the Gemini API (``gemini_upstream.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest
from aiohttp import web

from byecore_cli.config.store import SettingsStore
from byecore_cli.paths import Paths
from byecore_cli.proxy.app import create_app
from tests.clients.test_real_clients import _binary, _client_env, _needs
from tests.proxy.gemini_upstream import SIGNATURE, GeminiOnlyUpstream

UPSTREAM_KEY = "sk-chat-only-0123456789abcdefSECRET"
CALL_ID = "call_proof_7f3a"
COMMAND = "echo hi > proof.txt"
FINAL = "FINAL: proof.txt is written"
PROMPT = "Run the shell command `echo hi > proof.txt`, then say you are done."


class ChatOnlyUpstream:
    """A Chat Completions vendor that knows one trick: call the shell tool, then finish.

    ``tool`` is the shell tool's name and ``arguments(params)`` builds its arguments
    from the JSON schema the client sent (so a renamed argument fails loudly here).
    A request without that tool (a title or other side call) gets a short text answer.
    """

    def __init__(self, tool: str, arguments) -> None:
        self.tool, self.arguments = tool, arguments
        self.requests: list[dict] = []  # every inference request, in order
        self.other: list[str] = []  # any other path: a Chat-only vendor has none
        self.app = web.Application()
        self.app.router.add_post("/v1/chat/completions", self._chat)
        self.app.router.add_route("*", "/{tail:.*}", self._other)

    async def _other(self, request: web.Request) -> web.Response:
        self.other.append(f"{request.method} {request.path_qs}")
        return web.json_response({"error": {"message": "not found", "type":
                                            "invalid_request_error"}}, status=404)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append({"headers": dict(request.headers), "body": body})
        tools = {t["function"]["name"]: t["function"] for t in body.get("tools") or []
                 if t.get("type") == "function"}
        answered = any(m.get("role") == "tool" and m.get("tool_call_id") == CALL_ID
                       for m in body["messages"])
        if self.tool in tools and not answered:
            args = json.dumps(self.arguments(tools[self.tool].get("parameters") or {}))
            deltas = [{"role": "assistant", "content": None, "tool_calls": [{
                "index": 0, "id": CALL_ID, "type": "function",
                "function": {"name": self.tool, "arguments": ""}}]}]
            deltas += [{"tool_calls": [{"index": 0, "function": {"arguments": args[i:i + 7]}}]}
                       for i in range(0, len(args), 7)]
            finish = "tool_calls"
        else:
            text = FINAL if answered else "Proof"
            deltas = [{"role": "assistant", "content": ""}]
            deltas += [{"content": word + " "} for word in text.split(" ")]
            finish = "stop"
        if not body.get("stream"):
            return web.json_response({"error": {"message": "this fake only streams"}},
                                     status=400)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache"})
        await response.prepare(request)
        base = {"id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": body["model"],
                "system_fingerprint": "fp_fake"}

        async def send(data) -> None:
            text = data if isinstance(data, str) else json.dumps(data)
            await response.write(f"data: {text}\n\n".encode())

        for delta in deltas:
            await send({**base, "choices": [{"index": 0, "delta": delta,
                                             "finish_reason": None}]})
        await send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            await send({**base, "choices": [], "usage": {
                "prompt_tokens": 120, "completion_tokens": 9, "total_tokens": 129}})
        await send("[DONE]")
        await response.write_eof()
        return response


def _codex_arguments(params: dict) -> dict:
    assert "cmd" in params.get("properties", {}), params  # exec_command takes a string cmd
    return {"cmd": COMMAND}


def _claude_arguments(params: dict) -> dict:
    assert "command" in params.get("properties", {}), params
    return {"command": COMMAND, "description": "Write proof.txt"}


async def _run(argv: list[str], cwd: Path, env: dict, timeout: float) -> tuple[int, str, str]:
    """Run a client in its own process group; whatever it leaves behind is killed."""
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        start_new_session=True)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        pytest.fail(f"{Path(argv[0]).name} did not finish within {timeout:g} s")
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.returncode is None:
            await proc.wait()
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


async def _through_proxy(cli, client: str, upstream, argv: list[str],
                         timeout: float, *, translates: bool = True, protocol: str = "chat"
                         ) -> tuple[Path, int, str, str]:
    """Save the provider (speaking only ``protocol``), set ``client`` up, serve the
    proxy, run ``argv``.

    ``translates=False``: a Chat client, set up with ``--via-proxy`` (the pass-through).
    """
    home = Path(os.environ["HOME"])
    work = home / "work"
    work.mkdir(parents=True)
    up_runner = web.AppRunner(upstream.app)
    await up_runner.setup()
    proxy_runner = None
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        up_site = web.TCPSite(up_runner, "127.0.0.1", 0)
        await up_site.start()
        up_port = up_runner.addresses[0][1]
        added = cli("provider", "add", "vendor", "--preset", "none", "--base-url",
                    f"http://127.0.0.1:{up_port}", "--protocol", protocol, "--model",
                    "vendor-model-1", "--key-stdin", input=UPSTREAM_KEY)
        assert added.exit_code == 0, added.output

        listener.bind(("127.0.0.1", 0))  # held from here on: no other process can take it
        port = listener.getsockname()[1]
        store = SettingsStore(Paths.current().settings)
        _, doc = store.load()
        doc["proxy"] = {"port": port}
        settings = store.save(doc)

        set_up = cli("setup", client, "--json", *(() if translates else ("--via-proxy",)))
        assert set_up.exit_code == 0, set_up.output
        data = json.loads(set_up.stdout)["data"]
        assert data["via_proxy"], data  # one foreign protocol: the client must use the proxy
        if translates:
            assert any("local proxy" in note and "translates" in note
                       for note in data["notes"])

        proxy_runner = web.AppRunner(create_app(settings), handler_cancellation=True)
        await proxy_runner.setup()
        await web.SockSite(proxy_runner, listener).start()
        code, out, err = await _run(argv, work, _client_env(home), timeout)
    finally:
        if proxy_runner is not None:
            await proxy_runner.cleanup()
        await up_runner.cleanup()
        listener.close()
    return work, code, out, err


def _tool_loop_checks(upstream: ChatOnlyUpstream, work: Path, out: str, err: str) -> None:
    why = (out[-1500:], err[-3000:], upstream.other, [
        [m.get("role") for m in r["body"]["messages"]] for r in upstream.requests])
    assert (work / "proof.txt").is_file(), why  # the client really ran the tool
    assert (work / "proof.txt").read_text().strip() == "hi"
    assert FINAL in out, why
    assert upstream.other == []
    assert all(r["headers"].get("Authorization") == f"Bearer {UPSTREAM_KEY}"
               for r in upstream.requests)
    calls = [r["body"] for r in upstream.requests
             if any(m.get("role") == "tool" for m in r["body"]["messages"])]
    assert calls, why
    replayed = calls[0]["messages"]
    results = [m for m in replayed if m.get("role") == "tool"]
    assert [m["tool_call_id"] for m in results] == [CALL_ID]
    asked = [m for m in replayed if m.get("role") == "assistant" and m.get("tool_calls")]
    assert asked and asked[-1]["tool_calls"][0]["id"] == CALL_ID
    assert replayed.index(asked[-1]) < replayed.index(results[0])
    for body in (r["body"] for r in upstream.requests):
        assert body["model"] == "vendor-model-1"


@_needs("codex")
async def test_codex_exec_runs_a_tool_through_the_proxy_on_a_chat_only_upstream(cli):
    upstream = ChatOnlyUpstream("exec_command", _codex_arguments)
    argv = [_binary("codex"), "exec", "--skip-git-repo-check",
            "--dangerously-bypass-approvals-and-sandbox", PROMPT]
    work, code, out, err = await _through_proxy(cli, "codex", upstream, argv, 180)
    assert code == 0, (out[-1500:], err[-3000:])
    _tool_loop_checks(upstream, work, out, err)


@_needs("claude")
async def test_claude_print_runs_a_tool_through_the_proxy_on_a_chat_only_upstream(cli):
    upstream = ChatOnlyUpstream("Bash", _claude_arguments)
    argv = [_binary("claude"), "-p", "--allowedTools", "Bash", "--", PROMPT]
    work, code, out, err = await _through_proxy(cli, "claude", upstream, argv, 180)
    assert code == 0, (out[-1500:], err[-3000:])
    _tool_loop_checks(upstream, work, out, err)


@_needs("aider")
async def test_aider_streams_through_the_pass_through_and_its_tokens_are_counted(cli):
    """A Chat client over a Chat upstream: bytes relayed, and the usage log still learns
    the tokens of a stream whatever the client asked for (the upstream here sends usage
    only when asked, as OpenAI's API does)."""
    upstream = ChatOnlyUpstream("no-such-tool", _codex_arguments)
    argv = [_binary("aider"), "--message", "say the word", "--yes-always", "--no-git",
            "--no-check-update", "--analytics-disable", "--no-pretty"]
    work, code, out, err = await _through_proxy(cli, "aider", upstream, argv, 180,
                                                translates=False)
    assert code == 0, (out[-1500:], err[-3000:])
    assert "Proof" in out, (out[-1500:], err[-3000:])
    streamed = [r["body"] for r in upstream.requests if r["body"].get("stream")]
    assert streamed, "aider streams by default"
    assert all(b["stream_options"]["include_usage"] for b in streamed)
    assert all(b["model"] == "vendor-model-1" for b in streamed)
    used = cli("usage", "--by", "client", "--json")
    assert used.exit_code == 0, used.output
    rows = json.loads(used.stdout)["data"]["rows"]
    assert [r["client"] for r in rows] == ["aider"]
    assert rows[0]["output_tokens"] == 9 * len(upstream.requests)


# -- a Gemini-only upstream: Claude Code and Codex translated to the Gemini API ---------

def _gemini_tool_loop_checks(upstream: GeminiOnlyUpstream, work: Path, out: str,
                             err: str) -> None:
    why = (out[-1500:], err[-3000:], upstream.other, [
        (r["method"], [c.get("role") for c in r["body"].get("contents") or []])
        for r in upstream.requests])
    assert (work / "proof.txt").is_file(), why  # the client really ran the tool
    assert (work / "proof.txt").read_text().strip() == "hi"
    assert FINAL in out, why
    assert upstream.other == []
    for r in upstream.requests:  # the provider's key, the Gemini way, and nothing else
        assert r["headers"].get("x-goog-api-key") == UPSTREAM_KEY
        assert "Authorization" not in r["headers"] and "x-api-key" not in r["headers"]
        assert r["model"] == "vendor-model-1" and "model" not in r["body"]
    replays = [r["body"]["contents"] for r in upstream.requests if any(
        "functionResponse" in part for c in r["body"]["contents"] for part in c["parts"])]
    assert replays, why
    turns = replays[0]
    calls = [(i, part) for i, c in enumerate(turns) for part in c["parts"]
             if "functionCall" in part]
    answers = [(i, part) for i, c in enumerate(turns) for part in c["parts"]
               if "functionResponse" in part]
    assert [p["functionCall"]["name"] for _, p in calls] == [upstream.tool]
    assert calls[0][1]["thoughtSignature"] == SIGNATURE  # given back exactly, as Gemini 3 wants
    assert turns[calls[0][0]]["role"] == "model" and turns[answers[0][0]]["role"] == "user"
    assert [p["functionResponse"]["name"] for _, p in answers] == [upstream.tool]
    assert calls[0][0] < answers[0][0]


@_needs("codex")
async def test_codex_exec_runs_a_tool_through_the_proxy_on_a_gemini_only_upstream(cli):
    upstream = GeminiOnlyUpstream("exec_command", _codex_arguments, key=UPSTREAM_KEY,
                                  final=FINAL)
    argv = [_binary("codex"), "exec", "--skip-git-repo-check",
            "--dangerously-bypass-approvals-and-sandbox", PROMPT]
    work, code, out, err = await _through_proxy(cli, "codex", upstream, argv, 180,
                                                protocol="gemini")
    assert code == 0, (out[-1500:], err[-3000:])
    _gemini_tool_loop_checks(upstream, work, out, err)


@_needs("claude")
async def test_claude_print_runs_a_tool_through_the_proxy_on_a_gemini_only_upstream(cli):
    upstream = GeminiOnlyUpstream("Bash", _claude_arguments, key=UPSTREAM_KEY, final=FINAL)
    argv = [_binary("claude"), "-p", "--allowedTools", "Bash", "--", PROMPT]
    work, code, out, err = await _through_proxy(cli, "claude", upstream, argv, 180,
                                                protocol="gemini")
    assert code == 0, (out[-1500:], err[-3000:])
    _gemini_tool_loop_checks(upstream, work, out, err)
