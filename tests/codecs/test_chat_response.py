"""Chat Completions responses: decode from an upstream, encode for a client (SDK-validated)."""

from __future__ import annotations

import pytest
from openai.types.chat import ChatCompletion
from pydantic import BaseModel

from byecore_cli.codecs import get
from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.hub import (
    Reasoning,
    Request,
    Response,
    StopReason,
    Text,
    Tool,
    ToolCall,
    Usage,
)
from tests.codecs.chat_helpers import load

chat = get("chat")
# documented extensions: reasoning on the message; Gemini's extra_content on a tool call
# (only ever sent back to where it came from)
ALLOWED_EXTRAS = {"reasoning_content", "reasoning"}


def extras(model: BaseModel, path: str = "$") -> list[str]:
    """Every key the SDK model did not define, at any depth."""
    found = [f"{path}.{k}" for k in (model.model_extra or {})]
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, BaseModel):
                found += extras(item, f"{path}.{name}" + (f"[{i}]" if isinstance(value, list)
                                                          else ""))
    return found


def validate(body: dict) -> ChatCompletion:
    parsed = ChatCompletion.model_validate(body)
    unknown = [e for e in extras(parsed)
               if not (e.startswith("$.choices[0].message.") and
                       e.rsplit(".", 1)[1] in ALLOWED_EXTRAS)
               and not (e.startswith("$.choices[0].message.tool_calls[") and
                        e.endswith("].extra_content"))]
    assert unknown == []
    return parsed


def test_deepseek_reasoning_and_calls():
    request = Request(model="deepseek-reasoner", tools=[Tool("bash"), Tool("read")])
    response = chat.decode_response(load("response_deepseek.json"), request)
    kinds = [type(p).__name__ for p in response.parts]
    assert kinds == ["Reasoning", "Text", "ToolCall", "ToolCall"]
    assert response.parts[0].meta == {"chat": {"field": "reasoning_content"}}
    assert response.stop == StopReason.TOOL_CALLS
    assert response.usage == Usage(1200, 80, cache_read_tokens=1024, reasoning_tokens=50)
    body = chat.encode_response(response, Request(model="my-alias", tools=request.tools))
    parsed = validate(body)
    assert parsed.model == "my-alias"
    assert parsed.choices[0].finish_reason == "tool_calls"
    assert body["choices"][0]["message"]["reasoning_content"].startswith("The user asked")
    assert [c.function.name for c in parsed.choices[0].message.tool_calls] == ["bash", "read"]
    assert parsed.usage.prompt_tokens_details.cached_tokens == 1024
    assert chat.decode_response(body, request) == Response(
        response.id, "my-alias", response.parts, response.stop,
        usage=response.usage, created=response.created)


@pytest.mark.parametrize("name", ["response_openai.json", "response_refusal.json",
                                  "response_gemini.json", "response_deepseek.json"])
def test_round_trip(name):
    body = load(name)
    request = Request(model=body["model"])
    hub = chat.decode_response(body, request)
    again = chat.encode_response(hub, request)
    validate(again)
    assert chat.decode_response(again, request) == hub


def test_refusal():
    response = chat.decode_response(load("response_refusal.json"), Request(model="m"))
    assert response.stop == StopReason.REFUSAL
    refusal = Text("I'm sorry, I can't help with that.", {"chat": {"refusal": True}})
    assert response.parts == [refusal]
    body = chat.encode_response(response, Request(model="m"))
    message = body["choices"][0]["message"]
    assert message["content"] is None and message["refusal"].startswith("I'm sorry")
    assert body["choices"][0]["finish_reason"] == "stop"


def test_tool_calls_decided_by_presence():
    response = chat.decode_response(load("response_gemini.json"), Request(model="m"))
    assert response.stop == StopReason.TOOL_CALLS  # the upstream said "stop"
    assert response.parts[0].meta == {"chat": {"extra_content": {
        "google": {"thought_signature": "c2ln"}}}}
    body = {"id": "x", "choices": [{"message": {"role": "assistant", "content": "hi"},
                                    "finish_reason": "tool_calls"}]}
    assert chat.decode_response(body, Request(model="m")).stop == StopReason.END


def test_names_restored_for_namespaced_and_custom_tools():
    request = Request(model="m", tools=[
        Tool("spawn", namespace="multi_agent_v1__"),
        Tool("apply_patch", kind="custom")])
    body = {"id": "c", "created": 1, "model": "up", "choices": [{"index": 0, "finish_reason":
            "tool_calls", "message": {"role": "assistant", "content": None, "tool_calls": [
                {"id": "a", "type": "function", "function": {
                    "name": "multi_agent_v1__spawn", "arguments": "{}"}},
                {"id": "b", "type": "function", "function": {
                    "name": "apply_patch", "arguments": '{"input":"*** Begin Patch\\n"}'}}]}}]}
    parts = chat.decode_response(body, request).parts
    assert parts == [ToolCall("a", "spawn", "{}", namespace="multi_agent_v1__"),
                     ToolCall("b", "apply_patch", "*** Begin Patch\n", kind="custom")]


def test_foreign_response_to_chat_client():
    response = Response("msg_01", "claude-sonnet-4-5", [
        Reasoning("thinking…", meta={"messages": {"signature": "sig"}}),
        Text("Running it."),
        ToolCall("toolu_1", "bash", '{"command":"ls"}'),
    ], StopReason.TOOL_CALLS, usage=Usage(100, 20, cache_read_tokens=60, cache_write_tokens=10))
    body = chat.encode_response(response, Request(model="sonnet", tools=[Tool("bash")]))
    parsed = validate(body)
    assert parsed.id == "msg_01" and parsed.model == "sonnet"
    assert body["choices"][0]["message"]["reasoning_content"] == "thinking…"
    assert parsed.usage.total_tokens == 120
    assert parsed.usage.prompt_tokens_details.cache_write_tokens == 10


def test_custom_call_to_a_native_custom_client():
    request = chat.decode_request({"model": "m", "messages": [], "tools": [
        {"type": "custom", "custom": {"name": "apply_patch"}}]})
    response = Response("r", "up", [ToolCall("c1", "apply_patch", "PATCH", kind="custom")],
                        StopReason.TOOL_CALLS)
    body = chat.encode_response(response, request)
    call = validate(body).choices[0].message.tool_calls[0]
    assert call.type == "custom" and call.custom.input == "PATCH"


@pytest.mark.parametrize(("finish", "stop"), [
    ("length", StopReason.LENGTH), ("content_filter", StopReason.CONTENT_FILTER),
    ("eos", StopReason.END), (None, StopReason.END)])
def test_finish_reasons(finish, stop):
    body = {"id": "x", "choices": [{"message": {"role": "assistant", "content": "hi"},
                                    "finish_reason": finish}]}
    assert chat.decode_response(body, Request(model="m")).stop == stop


@pytest.mark.parametrize(("stop", "finish"), [
    (StopReason.LENGTH, "length"), (StopReason.CONTEXT_OVERFLOW, "length"),
    (StopReason.STOP_SEQUENCE, "stop"), (StopReason.PAUSE, "length"),
    (StopReason.CONTENT_FILTER, "content_filter"), (StopReason.REFUSAL, "content_filter")])
def test_encoded_finish_reasons(stop, finish):
    body = chat.encode_response(Response("r", "m", [Text("x")], stop), Request(model="m"))
    assert validate(body).choices[0].finish_reason == finish


@pytest.mark.parametrize("body", [
    [], {}, {"choices": []}, {"choices": [{"message": "x"}]},
    {"error": {"message": "boom"}},
    {"choices": [{"message": {"role": "assistant", "tool_calls": [{"id": "a"}]}}]},
    {"choices": [{"message": {"role": "assistant", "tool_calls": "nope"}}]},
])
def test_bad_bodies_are_the_upstreams_fault(body):
    with pytest.raises(UpstreamFault) as raised:
        chat.decode_response(body, Request(model="m"))
    assert not isinstance(raised.value, CodecError)  # not the client's 400
