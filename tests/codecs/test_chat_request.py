"""Chat Completions requests: decode → hub → encode, and what reaches a Chat upstream."""

from __future__ import annotations

import json

import pytest

from byecore_cli.codecs import get
from byecore_cli.codecs.base import CodecError
from byecore_cli.hub import (
    Image,
    Message,
    Reasoning,
    ReasoningConfig,
    Request,
    ResponseFormat,
    Text,
    Tool,
    ToolCall,
    ToolChoice,
    ToolResult,
)
from tests.codecs.chat_helpers import FIXTURES, load, request_problems

chat = get("chat")
REQUESTS = sorted(p.name for p in FIXTURES.glob("request_*.json"))


@pytest.mark.parametrize("name", REQUESTS)
def test_fixture_round_trip_and_sdk_valid(name):
    body = load(name)
    hub = chat.decode_request(body)
    wire = chat.encode_request(hub)
    assert request_problems(wire) == []
    assert chat.decode_request(wire) == hub
    json.dumps(wire)  # plain JSON values only


def test_opencode_request_details():
    hub = chat.decode_request(load("request_opencode.json"))
    assistant = hub.messages[2]
    assert isinstance(assistant.parts[0], Reasoning)
    assert assistant.parts[0].meta == {"chat": {"field": "reasoning_content"}}
    assert [p.name for p in assistant.parts if isinstance(p, ToolCall)] == ["bash", "read"]
    image = hub.messages[1].parts[1]
    assert isinstance(image, Image) and image.media_type == "image/png" and image.url is None
    assert image.detail == "high" and image.data.startswith("iVBOR")
    assert hub.max_tokens == 8192 and hub.stream
    assert hub.extras["chat"]["include_usage"] is True
    wire = chat.encode_request(hub)
    assert wire["max_tokens"] == 8192 and "max_completion_tokens" not in wire
    echoed = wire["messages"][2]["reasoning_content"]
    assert echoed == "The user wants me to look at the test first."
    assert wire["messages"][2]["content"] is None  # "" next to tool calls


def test_droid_required_arguments_survive():
    hub = chat.decode_request(load("request_droid.json"))
    wire = chat.encode_request(hub)
    args = json.loads(wire["messages"][3]["tool_calls"][0]["function"]["arguments"])
    assert set(args) == {"command", "summary", "riskLevel", "riskLevelReason"}
    schema = wire["tools"][0]["function"]["parameters"]
    assert schema["required"] == ["command", "summary", "riskLevel", "riskLevelReason"]
    assert schema["properties"]["summary"]["pattern"] == "^[A-Z].{0,60}$"


def test_features_decode():
    hub = chat.decode_request(load("request_features.json"))
    assert hub.max_tokens == 2048 and hub.extras["chat"]["max_tokens_field"] == \
        "max_completion_tokens"
    assert hub.stop == ["END"] and hub.user == "u-42" and hub.top_p == 0.9
    assert hub.reasoning == ReasoningConfig(enabled=True, effort="high")
    assert hub.tool_choice == ToolChoice("tool", "get_weather", "function")
    assert hub.parallel_tool_calls is False
    assert hub.response_format == ResponseFormat("json_schema", "weather", {
        "type": "object", "properties": {"t": {"type": "number"}}, "required": ["t"],
        "additionalProperties": False}, True)
    custom = hub.tools[1]
    assert custom.kind == "custom" and custom.format == {
        "type": "grammar", "syntax": "lark", "definition": "start: /.+/"}
    assert hub.messages[0].role == "developer"
    call = hub.messages[2].parts[2]
    assert call.kind == "custom" and call.arguments.startswith("*** Begin Patch")
    assert hub.messages[4].parts[0].kind == "custom"  # the result answers a custom call
    assert hub.messages[5].parts[0].meta == {"chat": {"refusal": True}}
    assert hub.messages[1].parts[2].text == "[file: notes.pdf]"  # a placeholder others can show
    assert hub.metadata == {"team": "infra"}


# --- hub → Chat, for requests that came from other clients ------------------------------

def _codex_like() -> Request:
    return Request(
        model="deepseek-chat",
        system=[Text("You are Codex.")],
        messages=[
            Message("developer", [Text("<permissions>sandboxed</permissions>")]),
            Message("user", [Text("look at the screenshot and patch it")]),
            Message("assistant", [
                Reasoning("", meta={"responses": {"encrypted_content": "gAAA"}}),
                ToolCall("call_1", "view_image", '{"path":"a.png"}'),
                ToolCall("call_2", "spawn", '{"task":"x"}', namespace="multi_agent_v1__"),
            ]),
            Message("tool", [ToolResult("call_1", [Text("ok"), Image(data="AAAA",
                                                                     media_type="image/png")])]),
            Message("tool", [ToolResult("call_2", [Text("spawned")], is_error=True)]),
            Message("assistant", [ToolCall("call_3", "apply_patch", "*** Begin Patch\n",
                                           kind="custom")]),
            Message("tool", [ToolResult("call_3", [Text("applied")], kind="custom")]),
            Message("developer", [Text("mid-conversation note")]),
        ],
        tools=[
            Tool("view_image", "See an image.", {"type": "object", "properties": {}}),
            Tool("spawn", "Spawn an agent.", {"type": "object"}, namespace="multi_agent_v1__"),
            Tool("apply_patch", "Patch files.", kind="custom",
                 format={"type": "grammar", "syntax": "lark", "definition": "start: /.+/"}),
            Tool("web_search", kind="hosted",
                 hosted={"responses": {"type": "web_search", "external_web_access": True}}),
        ],
        tool_choice=ToolChoice("auto"),
        parallel_tool_calls=True,
        max_tokens=4000, top_k=40,
        reasoning=ReasoningConfig(effort="medium", summary="auto"),
        stream=True,
        metadata={"user_id": '{"device_id":"x"}'},
        extras={"responses": {"store": False, "include": ["reasoning.encrypted_content"]}},
    )


def test_foreign_request_reaches_chat_cleanly():
    wire = chat.encode_request(_codex_like())
    assert request_problems(wire) == []
    roles = [m["role"] for m in wire["messages"]]
    assert roles == ["system", "system", "user", "assistant", "tool", "tool", "user",
                     "assistant", "tool", "system"]
    assert wire["messages"][0]["content"] == "You are Codex."
    # Responses reasoning is opaque to a Chat upstream: not echoed
    assert "reasoning_content" not in wire["messages"][3]
    calls = wire["messages"][3]["tool_calls"]
    assert calls[1]["function"]["name"] == "multi_agent_v1__spawn"
    # the image of the tool result follows the run of tool messages, labelled
    assert wire["messages"][5]["content"].startswith("Error: ")
    moved = wire["messages"][6]["content"]
    assert moved[0]["text"] == "Images returned by tool call call_1:"
    assert moved[1]["image_url"]["url"] == "data:image/png;base64,AAAA"
    # custom tool as a function with one string argument, history wrapped
    patch = wire["messages"][7]["tool_calls"][0]["function"]
    assert json.loads(patch["arguments"]) == {"input": "*** Begin Patch\n"}
    tools = {t["function"]["name"]: t["function"] for t in wire["tools"]}
    assert set(tools) == {"view_image", "multi_agent_v1__spawn", "apply_patch"}  # hosted dropped
    assert tools["apply_patch"]["parameters"]["required"] == ["input"]
    assert "lark" in tools["apply_patch"]["description"]
    assert wire["stream_options"] == {"include_usage": True}
    assert wire["reasoning_effort"] == "medium"
    for dropped in ("top_k", "metadata", "store", "include"):
        assert dropped not in wire


def test_reasoning_echoed_only_with_chat_meta():
    request = Request(model="m", messages=[
        Message("user", [Text("q")]),
        Message("assistant", [Reasoning("thought", meta={"chat": {"field": "reasoning"}}),
                              Text("a")]),
        Message("assistant", [Reasoning("signed", meta={"messages": {"signature": "s"}}),
                              Text("b")]),
    ])
    wire = chat.encode_request(request)
    assert wire["messages"][1]["reasoning"] == "thought"
    assert "reasoning_content" not in wire["messages"][2] and "reasoning" not in \
        wire["messages"][2]
    assert request_problems(wire) == []


def test_no_tools_means_no_tool_choice():
    request = Request(model="m", messages=[Message("user", [Text("q")])],
                      tools=[Tool("web_search", kind="hosted", hosted={"messages": {}})],
                      tool_choice=ToolChoice("required"), parallel_tool_calls=False)
    wire = chat.encode_request(request)
    assert "tools" not in wire and "tool_choice" not in wire and "parallel_tool_calls" not in wire


@pytest.mark.parametrize(("config", "expected"), [
    (ReasoningConfig(budget_tokens=24000), "high"),
    (ReasoningConfig(budget_tokens=2000), "low"),
    (ReasoningConfig(enabled=False), None),
    (ReasoningConfig(adaptive=True), None),
    (ReasoningConfig(effort="none", enabled=False), "none"),
])
def test_reasoning_effort(config, expected):
    wire = chat.encode_request(Request(model="m", reasoning=config))
    assert wire.get("reasoning_effort") == expected


def test_json_object_and_forced_custom_tool():
    request = Request(model="m", messages=[Message("user", [Text("q")])],
                      tools=[Tool("apply_patch", kind="custom")],
                      tool_choice=ToolChoice("tool", "apply_patch", "custom"),
                      response_format=ResponseFormat("json_object"))
    wire = chat.encode_request(request)
    assert wire["tool_choice"] == {"type": "function", "function": {"name": "apply_patch"}}
    assert wire["response_format"] == {"type": "json_object"}
    assert request_problems(wire) == []


def test_json_schema_gets_a_name():
    wire = chat.encode_request(Request(model="m", response_format=ResponseFormat(
        schema={"type": "object"})))
    assert wire["response_format"]["json_schema"] == {"name": "response",
                                                      "schema": {"type": "object"}}


def test_quirk_knobs():
    request = Request(model="o3", max_tokens=100, stream=True, extras={"chat": {
        "max_tokens_field": "max_completion_tokens", "no_stream_options": True}})
    wire = chat.encode_request(request)
    assert wire["max_completion_tokens"] == 100 and "stream_options" not in wire


def test_system_image_moves_to_user():
    wire = chat.encode_request(Request(model="m", messages=[
        Message("system", [Text("look"), Image(url="https://x/y.png")])]))
    assert wire["messages"] == [
        {"role": "system", "content": "look"},
        {"role": "user", "content": [{"type": "image_url",
                                      "image_url": {"url": "https://x/y.png"}}]}]


@pytest.mark.parametrize(("body", "param"), [
    ([], "body"),
    ({"messages": []}, "model"),
    ({"model": "m"}, "messages"),
    ({"model": "m", "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
    ({"model": "m", "messages": [{"role": "function", "name": "f", "content": "x"}]},
     "messages[0].role"),
    ({"model": "m", "messages": [], "functions": []}, "functions"),
    ({"model": "m", "messages": [{"role": "user", "content": [{"type": "video"}]}]},
     "messages[0].content[0].type"),
    ({"model": "m", "messages": [{"role": "tool", "content": "x"}]},
     "messages[0].tool_call_id"),
    ({"model": "m", "messages": [], "tool_choice": {"type": "magic"}}, "tool_choice"),
    ({"model": "m", "messages": [], "max_tokens": "many"}, "max_tokens"),
])
def test_bad_requests_raise_codec_error(body, param):
    with pytest.raises(CodecError) as caught:
        chat.decode_request(body)
    assert caught.value.param == param
