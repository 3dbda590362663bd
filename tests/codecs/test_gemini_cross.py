"""Gemini meeting the other protocols: Claude Code, Codex and Chat clients on a Gemini
upstream, and Gemini CLI (or a Gemini answer) reaching the others, each side checked by
its own official SDK."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from anthropic.types import Message as SDKMessage

from byecore_cli import codecs
from byecore_cli.codecs.gemini import CODEC as gemini
from byecore_cli.codecs.gemini.names import GeminiNames
from byecore_cli.codecs.gemini.turns import SKIP_SIGNATURE
from byecore_cli.hub import Request, Tool, ToolCall, ToolResult
from byecore_cli.hub.assemble import assemble
from tests.codecs import messages_helpers, responses_helpers
from tests.codecs.chat_helpers import request_problems as chat_request_problems
from tests.codecs.gemini_helpers import (
    assert_valid_request,
    assert_valid_response,
    decode_stream,
    encode_stream,
    load,
)
from tests.codecs.test_chat_response import validate as validate_chat_response
from tests.codecs.test_chat_stream import sdk_final as chat_sdk_final
from tests.codecs.test_messages_stream import sdk_final as messages_sdk_final

FIXTURES = Path(__file__).parent / "fixtures"
FOREIGN_LEAKS = ("cache_control", "x-anthropic-billing-header", "encrypted_content",
                 "byecore1.", "byecore.v1:", "context_management", '"web_search"', "_hub_id")


def _requests():
    for protocol in ("messages", "responses", "chat"):
        for path in sorted((FIXTURES / protocol).glob("*request*.json")):
            yield pytest.param(protocol, path.name, id=f"{protocol}/{path.stem}")


def _calls(request: Request) -> list[tuple]:
    return [(p.name, json.loads(p.arguments or "{}") if p.kind != "custom" else p.arguments)
            for m in request.messages for p in m.parts if isinstance(p, ToolCall)]


@pytest.mark.parametrize(("protocol", "name"), list(_requests()))
def test_foreign_requests_reach_gemini_valid(protocol, name):
    hub = codecs.get(protocol).decode_request(json.loads((FIXTURES / protocol / name)
                                                         .read_text()))
    wire = gemini.encode_request(hub)
    assert_valid_request(wire)
    text = json.dumps(wire)
    for leak in FOREIGN_LEAKS:
        assert leak not in text, leak
    # every model turn with calls is signed (real or the documented dummy), every call
    # is answered in the next turn, one response per call
    contents = wire["contents"]
    for i, turn in enumerate(contents):
        calls = [p for p in turn["parts"] if "functionCall" in p]
        if turn["role"] != "model" or not calls:
            continue
        assert calls[0].get("thoughtSignature") == SKIP_SIGNATURE
        answers = [p["functionResponse"] for p in contents[i + 1]["parts"]
                   if "functionResponse" in p]
        assert [a["name"] for a in answers] == [c["functionCall"]["name"] for c in calls]
    # read back as a Gemini client's request: the calls and their results survive
    back = gemini.decode_request({**wire, "model": hub.model})
    names = {d["name"] for t in wire.get("tools", []) for d in t.get("functionDeclarations", [])}
    assert all(name in names for name, _ in _calls(back))
    original = [(gemini_name(hub, n), a) for n, a in _calls(hub)]
    assert [(n, a if isinstance(a, dict) else json.loads(a)) for n, a in _calls(back)] == [
        (n, a if isinstance(a, dict) else {"input": a}) for n, a in original]
    answered = {p.call_id for m in hub.messages for p in m.parts if isinstance(p, ToolResult)}
    results = [p.text() for m in hub.messages for p in m.parts
               if isinstance(p, ToolResult) and p.call_id in answered]
    back_results = [p.text() for m in back.messages for p in m.parts
                    if isinstance(p, ToolResult)]
    for text in results:  # each result, once, in order (unanswered calls add error ones)
        assert text in back_results
        back_results = back_results[back_results.index(text) + 1:]


def gemini_name(request: Request, name: str) -> str:
    tool = next((t for t in request.tools if t.name == name), None)
    return GeminiNames(request.tools).wire(name, tool.namespace if tool else None)


def test_gemini_cli_request_reaches_every_other_upstream_valid():
    hub = gemini.decode_request(load("gemini_cli_request.json"))
    chat_wire = codecs.get("chat").encode_request(hub)
    assert chat_request_problems(chat_wire) == []
    messages_helpers.assert_valid_request(codecs.get("messages").encode_request(hub))
    responses_helpers.assert_valid_request(codecs.get("responses").encode_request(hub))
    # the tool loop survives on the way: each call answered by its result
    calls = {c["id"]: c["function"]["name"] for m in chat_wire["messages"]
             for c in m.get("tool_calls") or []}
    answered = [m["tool_call_id"] for m in chat_wire["messages"] if m["role"] == "tool"]
    assert sorted(answered) == sorted(calls) and len(calls) == 3


REQUEST = Request("my-alias", tools=[Tool("list_directory"), Tool("glob"),
                                     Tool("run_shell_command")])


def test_gemini_answer_reaches_chat_messages_and_responses_clients_valid():
    response = gemini.decode_response(load("response_tools.json"), REQUEST)
    chat = validate_chat_response(codecs.get("chat").encode_response(response, REQUEST))
    assert [c.function.name for c in chat.choices[0].message.tool_calls] == [
        "list_directory", "glob"]
    assert chat.choices[0].finish_reason == "tool_calls"
    assert chat.usage.prompt_tokens_details.cached_tokens == 1000
    body = codecs.get("messages").encode_response(response, REQUEST)
    message = SDKMessage.model_validate(body)
    assert [b.type for b in message.content] == ["thinking", "text", "tool_use", "tool_use"]
    assert message.stop_reason == "tool_use"
    assert message.usage.input_tokens == 200 and message.usage.cache_read_input_tokens == 1000
    model = responses_helpers.assert_valid_response(
        codecs.get("responses").encode_response(response, REQUEST))
    assert [i.type for i in model.output][-2:] == ["function_call", "function_call"]


def test_gemini_stream_reaches_chat_and_messages_clients():
    events = decode_stream(load("stream_tools.sse"), REQUEST)
    final = chat_sdk_final(encode_stream(events, REQUEST, protocol="chat"))
    choice = final.choices[0]
    assert choice.message.content == "Sure — let me check the repo."
    assert choice.message.tool_calls[0].function.name == "run_shell_command"
    message = messages_sdk_final(encode_stream(events, REQUEST, protocol="messages"))
    assert [b.type for b in message.content] == ["thinking", "text", "tool_use"]
    assert message.content[2].input == {"command": "ls -la", "description": "List files"}
    _, final = responses_helpers.sdk_stream(encode_stream(events, REQUEST,
                                                          protocol="responses"))
    assert final.output[-1].type == "function_call"


def test_foreign_stream_reaches_a_gemini_client():
    events = messages_helpers_stream()
    out = encode_stream(events, REQUEST)
    response = assemble(decode_stream(out, REQUEST))
    assert [type(p).__name__ for p in response.parts] == [
        type(p).__name__ for p in assemble(events).parts]
    for chunk in [json.loads(line[6:]) for line in out.decode().split("\r\n\r\n") if line]:
        assert_valid_response(chunk)


def messages_helpers_stream() -> list:
    return decode_stream(messages_helpers.load("anthropic_stream.sse"),
                         Request("claude", tools=[Tool("Edit", parameters={"type": "object"})]),
                         protocol="messages")
