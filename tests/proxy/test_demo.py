"""Nothing configured: the offline demo provider answers every protocol, tools included."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

SHELL_TOOL = {"name": "Bash", "description": "Run a command",
              "input_schema": {"type": "object", "properties": {"command": {"type": "string"}},
                               "required": ["command"]}}
OPENAI_TOOL = {"type": "function", "function": {
    "name": "exec_command", "description": "Run a command",
    "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}},
                   "required": ["cmd"]}}}
RESPONSES_TOOL = {"type": "function", "name": "exec_command", "description": "Run",
                  "parameters": OPENAI_TOOL["function"]["parameters"]}


async def test_health_and_models_with_nothing_configured(start_proxy, local_key):
    url = await start_proxy()
    async with aiohttp.ClientSession() as session:
        async with session.get(url + "/health") as resp:
            # health says only that the proxy is alive (what is configured needs a key)
            assert resp.status == 200 and (await resp.json())["status"] == "ok"
        async with session.get(url + "/v1/models",
                               headers={"Authorization": f"Bearer {local_key}"}) as resp:
            body = await resp.json()
            assert body["object"] == "list" and "demo" in [m["id"] for m in body["data"]]
        async with session.get(url + "/v1/models", headers={
                "x-api-key": local_key, "anthropic-version": "2023-06-01"}) as resp:
            body = await resp.json()
            assert body["data"][0]["type"] == "model" and body["has_more"] is False
        async with session.head(url + "/api/hello") as resp:
            assert resp.status == 200


async def test_messages_demo_text_stream_and_tool_loop(start_proxy, sdk):
    url = await start_proxy()
    client = sdk.anthropic(url)
    message = await client.messages.create(
        model="claude-sonnet-5-5", max_tokens=100,
        messages=[{"role": "user", "content": "hello demo"}])
    assert "hello demo" in message.content[0].text
    assert message.model == "claude-sonnet-5-5" and message.usage.output_tokens > 0

    async with client.messages.stream(
            model="anything", max_tokens=100,
            messages=[{"role": "user", "content": "stream please"}]) as stream:
        text = await stream.get_final_text()
    assert "stream please" in text

    first = await client.messages.create(
        model="anything", max_tokens=100, tools=[SHELL_TOOL],
        messages=[{"role": "user", "content": "list files"}])
    assert first.stop_reason == "tool_use"
    call = next(b for b in first.content if b.type == "tool_use")
    assert call.name == "Bash" and call.input == {"command": "echo hello from byecore"}

    async with client.messages.stream(
            model="anything", max_tokens=100, tools=[SHELL_TOOL], messages=[
                {"role": "user", "content": "list files"},
                {"role": "assistant", "content": [b.model_dump() for b in first.content]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                              "content": "a.txt b.txt"}]}]) as stream:
        final = await stream.get_final_message()
    assert final.stop_reason == "end_turn"
    assert "a.txt b.txt" in final.content[0].text


async def test_chat_demo_with_the_openai_sdk(start_proxy, sdk):
    url = await start_proxy()
    client = sdk.openai(url)
    answer = await client.chat.completions.create(
        model="gpt-5.5", messages=[{"role": "user", "content": "hi chat"}])
    assert "hi chat" in answer.choices[0].message.content
    stream = await client.chat.completions.create(
        model="gpt-5.5", messages=[{"role": "user", "content": "hi"}], tools=[OPENAI_TOOL],
        stream=True)
    calls = {}
    async for chunk in stream:
        for tc in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            entry = calls.setdefault(tc.index, {"name": "", "args": ""})
            entry["name"] += (tc.function.name or "") if tc.function else ""
            entry["args"] += (tc.function.arguments or "") if tc.function else ""
    assert calls[0]["name"] == "exec_command"
    assert json.loads(calls[0]["args"]) == {"cmd": "echo hello from byecore"}


async def test_responses_demo_with_the_stream_helper(start_proxy, sdk):
    url = await start_proxy()
    client = sdk.openai(url)
    async with client.responses.stream(model="gpt-5.5", input="hi codex") as stream:
        final = await stream.get_final_response()
    assert "hi codex" in final.output_text
    tool_turn = await client.responses.create(model="gpt-5.5", input="run",
                                              tools=[RESPONSES_TOOL])
    call = next(i for i in tool_turn.output if i.type == "function_call")
    assert call.name == "exec_command"
    done = await client.responses.create(model="gpt-5.5", tools=[RESPONSES_TOOL], input=[
        {"role": "user", "content": "run"},
        {"type": "function_call", "call_id": call.call_id, "name": call.name,
         "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "done: 42"}])
    assert "done: 42" in done.output_text


# --- Which tool the demo calls, for each real client's tool list (hub level) ---------------
#
# The demo used to call the first tool offered. Claude Code offers `Agent` first, so the
# real Claude Code spawned sub-agents that did the same, without end (2,043 requests a
# minute). These tests feed the demo each client's real tool list, play the client's side
# of the loop, and check that it calls a harmless tool at most once and then stops.

FIXTURES = Path(__file__).parent.parent / "codecs" / "fixtures"


def _schema(required: list[str], **props: str) -> dict:
    return {"type": "object", "required": required,
            "properties": {name: {"type": kind} for name, kind in props.items()}}


# Claude Code 2.1.332, `claude -p "list the files here"`: its 12 tools, in its order.
CLAUDE_CODE_TOOLS = [{"name": name, "description": name, "input_schema": schema} for
                     name, schema in [
    ("Agent", _schema(["description", "prompt"], description="string", prompt="string",
                      subagent_type="string")),
    ("Bash", _schema(["command"], command="string", timeout="number", description="string")),
    ("Edit", _schema(["file_path", "old_string", "new_string"], file_path="string",
                     old_string="string", new_string="string")),
    ("ListAgents", _schema([], channel="string", q="string")),
    ("Read", _schema(["file_path"], file_path="string", offset="integer")),
    ("ReportFindings", _schema(["findings"], findings="array")),
    ("ScheduleWakeup", _schema([], delaySeconds="number", prompt="string")),
    ("Skill", _schema(["skill"], skill="string")),
    ("ToolSearch", _schema(["query"], query="string")),
    ("Workflow", _schema([], script="string", name="string")),
    ("DeferredToolPlaceholder", {"type": "object", "properties": {}}),
    ("Write", _schema(["file_path", "content"], file_path="string", content="string")),
]]
# OpenCode 1.18.33 over Chat: 8 tools (real-client-traffic.md).
OPENCODE_TOOLS = [{"type": "function", "function": {"name": name, "parameters": schema}}
                  for name, schema in [
    ("apply_patch", _schema(["patchText"], patchText="string")),
    ("bash", _schema(["command", "description"], command="string", description="string")),
    ("glob", _schema(["pattern"], pattern="string", path="string")),
    ("grep", _schema(["pattern"], pattern="string")),
    ("read", _schema(["filePath"], filePath="string")),
    ("skill", _schema(["name"], name="string")),
    ("task", _schema(["prompt"], prompt="string", description="string")),
    ("todowrite", _schema(["todos"], todos="array")),
]]


def _fixture(protocol: str, name: str) -> dict:
    return json.loads((FIXTURES / protocol / name).read_text())


def _fresh(protocol: str, body: dict, prompt: str = "list the files here"):
    """The client's first request of a task: its tools, one user message."""
    from byecore_cli.codecs import get

    body = dict(body)
    if protocol == "responses":
        body["input"] = [{"role": "user", "content": prompt}]
    else:
        body["messages"] = [{"role": "user", "content": prompt}]
    return get(protocol).decode_request(body)


CLIENTS = {
    # client: (protocol, first request body, the tool the demo should call, its arguments)
    "claude code 2.1.332": ("messages", {"model": "m", "max_tokens": 32000,
                                         "tools": CLAUDE_CODE_TOOLS},
                            "Bash", {"command": "echo hello from byecore"}),
    "claude code fixture": ("messages", _fixture("messages", "claude_code_request.json"),
                            "Bash", {"command": "echo hello from byecore"}),
    "codex": ("responses", _fixture("responses", "codex_request.json"), "exec_command",
              {"cmd": "echo hello from byecore"}),
    "opencode chat": ("chat", {"model": "m", "tools": OPENCODE_TOOLS}, "glob",
                      {"pattern": "*"}),
    "opencode chat fixture": ("chat", _fixture("chat", "request_opencode.json"), "bash",
                              None),
    "opencode messages": ("messages", _fixture("messages", "opencode_request.json"), "bash",
                          None),
    "opencode responses": ("responses", _fixture("responses", "opencode_request.json"),
                           "bash", None),
    "droid chat": ("chat", _fixture("chat", "request_droid.json"), "Execute", None),
    "droid responses": ("responses", _fixture("responses", "droid_request.json"), "Execute",
                        None),
}


def _play(request, limit: int = 10) -> list:
    """Play the client: run every call the demo makes (answering it) until it stops."""
    from byecore_cli.hub import Message, Text, ToolCall, ToolResult
    from byecore_cli.proxy import demo

    answers = []
    for _ in range(limit):
        reply = demo.answer(request)
        answers.append(reply)
        calls = [p for p in reply.parts if isinstance(p, ToolCall)]
        if not calls:
            return answers
        request.messages.append(Message("assistant", list(reply.parts)))
        request.messages.append(Message("user", [
            ToolResult(call_id=c.id, content=[Text(f"ran {c.name}: a.txt b.txt")])
            for c in calls]))
    raise AssertionError(f"the demo was still calling tools after {limit} turns")


@pytest.mark.parametrize("client", CLIENTS)
def test_the_demo_calls_one_harmless_tool_then_answers(client):
    from byecore_cli.hub import StopReason, Text, ToolCall

    protocol, body, tool, arguments = CLIENTS[client]
    request = _fresh(protocol, body)
    offered = {t.name: t for t in request.tools}
    answers = _play(request)
    assert len(answers) == 2, [a.parts for a in answers]  # one tool round, then text
    first, last = answers
    call = next(p for p in first.parts if isinstance(p, ToolCall))
    assert call.name == tool and first.stop is StopReason.TOOL_CALLS
    args = json.loads(call.arguments)
    if arguments is not None:
        assert args == arguments
    schema = offered[tool].parameters or {}
    assert set(schema.get("required") or []) <= set(args)  # a call the client accepts
    for name, value in args.items():
        enum = (schema.get("properties") or {}).get(name, {}).get("enum")
        assert enum is None or value in enum
    assert last.stop is StopReason.END
    assert "a.txt b.txt" in "".join(p.text for p in last.parts if isinstance(p, Text))


def test_droid_execute_gets_its_required_risk_fields():
    import re

    request = _fresh("chat", _fixture("chat", "request_droid.json"))
    call = _play(request)[0].parts[-1]
    args = json.loads(call.arguments)
    assert args["command"] == "echo hello from byecore" and args["riskLevel"] == "low"
    assert re.match(r"^[A-Z].{0,60}$", args["summary"])  # Droid's own pattern
    assert args["riskLevelReason"]


@pytest.mark.parametrize("names", [
    ["Agent", "Write", "Edit"],  # sub-agents and writers only
    ["get_weather"],  # an unknown tool may do anything
    ["Task", "todowrite", "apply_patch"],
])
def test_with_no_harmless_tool_the_demo_answers_in_text(names):
    from byecore_cli.hub import StopReason, ToolCall

    tools = [{"name": n, "input_schema": _schema(["x"], x="string")} for n in names]
    request = _fresh("messages", {"model": "m", "max_tokens": 10, "tools": tools})
    reply = _play(request)
    assert len(reply) == 1 and reply[0].stop is StopReason.END
    assert not any(isinstance(p, ToolCall) for p in reply[0].parts)


def test_a_conversation_that_already_used_a_tool_gets_no_new_call():
    """A second question after a tool round: the demo talks; it never loops."""
    from byecore_cli.hub import StopReason, ToolCall

    body = _fixture("chat", "request_droid.json")  # ends with a tool result, then a new ask
    body["messages"] = body["messages"] + [{"role": "assistant", "content": "two files"},
                                           {"role": "user", "content": "and now?"}]
    from byecore_cli.codecs import get

    reply = _play(get("chat").decode_request(body))
    assert len(reply) == 1 and reply[0].stop is StopReason.END
    assert not any(isinstance(p, ToolCall) for p in reply[0].parts)


def test_many_assistant_turns_without_visible_results_still_end():
    """A client whose results the demo cannot see as tool results (sent as plain text)."""
    from byecore_cli.hub import Message, StopReason, Text
    from byecore_cli.proxy import demo

    request = _fresh("messages", {"model": "m", "max_tokens": 10, "tools": CLAUDE_CODE_TOOLS})
    for _ in range(3):  # more than the demo allows itself
        request.messages += [Message("assistant", [Text("calling")]),
                             Message("user", [Text("here is what it printed")])]
    assert demo.answer(request).stop is StopReason.END


def test_a_tool_the_client_forces_by_name_is_called():
    from byecore_cli.hub import ToolCall

    request = _fresh("messages", {"model": "m", "max_tokens": 10, "tools": CLAUDE_CODE_TOOLS,
                                  "tool_choice": {"type": "tool", "name": "ToolSearch"}})
    call = next(p for p in _play(request)[0].parts if isinstance(p, ToolCall))
    assert call.name == "ToolSearch"
