"""Responses requests: what Codex, OpenCode and Droid send, decoded to the hub and back."""

from __future__ import annotations

import pytest

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
    meta_for,
)
from tests.codecs.responses_helpers import CODEC, assert_valid_request, load, sdk_problems

FIXTURES = ["codex_request.json", "opencode_request.json", "droid_request.json"]


def test_codex_request_decodes_to_the_hub():
    req = CODEC.decode_request(load("codex_request.json"))
    assert req.model == "gpt-5.5" and req.stream
    assert req.system[0].text.startswith("You are Codex")
    roles = [m.role for m in req.messages]
    assert roles == ["developer", "developer", "user", "user", "assistant", "tool", "assistant",
                     "tool", "assistant", "tool", "assistant", "tool", "assistant", "user"]
    user = req.messages[3].parts
    assert isinstance(user[1], Image) and user[1].media_type == "image/png"
    assert user[1].detail == "high" and user[1].data.startswith("iVBOR")
    reasoning, call = req.messages[4].parts
    assert isinstance(reasoning, Reasoning) and reasoning.summary
    assert reasoning.text.startswith("**Inspecting") and "**Planning**" in reasoning.text
    assert meta_for(reasoning, "responses")["encrypted_content"] == "gAAAAABpXz1encryptedblobAAA=="
    assert call == ToolCall("call_Q1w2E3r4", "exec_command",
                            '{"cmd":"pytest -x -q","yield_time_ms":10000}',
                            meta={"responses": {"id": "fc_0a1b2c"}})
    result = req.messages[5].parts[0]
    assert isinstance(result, ToolResult) and result.call_id == "call_Q1w2E3r4"
    assert meta_for(result, "responses") == {"id": "fco_9z8y7x"}
    assert req.messages[6].parts[0].namespace == "multi_agent_v1"
    patch = req.messages[8].parts[0]
    assert patch.kind == "custom" and patch.arguments.startswith("*** Begin Patch")
    assert req.messages[9].parts[0].kind == "custom"
    image_result = req.messages[11].parts[0]
    assert [type(p) for p in image_result.content] == [Text, Image]
    final = req.messages[12].parts[0]
    assert meta_for(final, "responses") == {"phase": "final_answer"}
    kinds = [(t.kind, t.namespace, t.name) for t in req.tools]
    assert kinds[:3] == [("function", None, "exec_command"), ("function", None, "write_stdin"),
                         ("function", None, "view_image")]
    assert [t.name for t in req.tools if t.namespace == "multi_agent_v1"] == [
        "spawn_agent", "send_input", "wait", "close_agent", "list_agents"]
    patch_tool = next(t for t in req.tools if t.name == "apply_patch")
    assert patch_tool.kind == "custom" and patch_tool.format["syntax"] == "lark"
    hosted = req.tools[-1]
    assert hosted.kind == "hosted" and hosted.hosted == {
        "responses": {"type": "web_search", "external_web_access": True}}
    assert req.tool_choice == ToolChoice("auto") and req.parallel_tool_calls is True
    assert req.reasoning == ReasoningConfig(enabled=True, effort="medium", summary="auto")
    extras = req.extras["responses"]
    assert extras["store"] is False and extras["include"] == ["reasoning.encrypted_content"]
    assert extras["verbosity"] == "low" and "client_metadata" in extras


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_encodes_to_valid_sdk_params_and_round_trips(name):
    hub = CODEC.decode_request(load(name))
    body = CODEC.encode_request(hub)
    assert_valid_request(body)
    assert "client_metadata" not in body
    hub.extras["responses"].pop("client_metadata", None)  # Codex-only: never re-sent
    assert CODEC.decode_request(body) == hub


def test_codex_encoding_keeps_namespaces_custom_and_hosted_tools():
    body = CODEC.encode_request(CODEC.decode_request(load("codex_request.json")))
    types = [t["type"] for t in body["tools"]]
    assert types == ["function", "function", "function", "namespace", "custom", "web_search"]
    assert len(body["tools"][3]["tools"]) == 5
    assert body["tools"][3]["description"] == "Spawn and manage sub-agents."
    call_output = next(i for i in body["input"] if i.get("id") == "fco_9z8y7x")
    assert call_output["type"] == "function_call_output"
    assert body["text"] == {"verbosity": "low"} and body["prompt_cache_key"]


def test_string_input_and_droid_structured_output():
    req = CODEC.decode_request({"model": "m", "input": "hello"})
    assert req.messages == [Message("user", [Text("hello")])]
    droid = CODEC.decode_request(load("droid_request.json"))
    assert droid.response_format.name == "codex_output_schema" and droid.response_format.strict
    execute = droid.tools[0]
    assert execute.parameters["required"] == ["command", "summary", "riskLevel", "riskLevelReason"]


def test_opencode_system_item_stays_a_system_message():
    req = CODEC.decode_request(load("opencode_request.json"))
    assert req.messages[0].role == "system" and req.max_tokens == 32000


def test_hub_request_from_another_protocol_encodes_strictly():
    """What a Chat or Anthropic client's request becomes for a Responses upstream."""
    req = Request(
        model="gpt-5.5",
        system=[Text("Be brief."), Text("Use tools.")],
        messages=[
            Message("user", [Text("look"), Image(url="https://x.test/a.png")]),
            Message("assistant", [
                Reasoning("thinking...", meta={"messages": {"signature": "sig"}}),
                Text("calling"), Image(data="AAAA", media_type="image/jpeg"),
                ToolCall("toolu_1", "search", '{"q":"x"}', namespace="mcp__web__"),
                ToolCall("toolu_2", "apply_patch", "*** Begin Patch", kind="custom")]),
            Message("tool", [ToolResult("toolu_1", [Text("boom")], is_error=True),
                             ToolResult("toolu_2", [Text("ok"), Image(url="https://x.test/b")],
                                        kind="custom")]),
            Message("system", [Text("mid-conversation note")]),
        ],
        tools=[Tool("search", "Search", {"type": "object"}, namespace="mcp__web__"),
               Tool("apply_patch", "Patch", kind="custom",
                    format={"type": "grammar", "syntax": "lark", "definition": "start: x"}),
               Tool("web_search", kind="hosted", hosted={"messages": {"type": "web_search_2025"}}),
               Tool("plain")],
        tool_choice=ToolChoice("tool", "plain"),
        max_tokens=8, temperature=0.5, top_k=5, stop=["END"],
        reasoning=ReasoningConfig(enabled=True, budget_tokens=10000),
        response_format=ResponseFormat(schema={"type": "object"}),
        metadata={"user_id": "u1", "n": 3}, stream=True,
    )
    body = CODEC.encode_request(req)
    assert_valid_request(body)
    assert body["instructions"] == "Be brief.\n\nUse tools."
    assert "top_k" not in body and "stop" not in body
    assert body["max_output_tokens"] == 16
    assert body["reasoning"] == {"effort": "medium", "summary": "auto"}
    assert body["include"] == ["reasoning.encrypted_content"] and body["store"] is False
    assert body["tool_choice"] == {"type": "function", "name": "plain"}
    assert body["metadata"] == {"user_id": "u1", "n": "3"}
    assert [t["type"] for t in body["tools"]] == ["namespace", "custom", "function"]
    assert body["tools"][2]["strict"] is False
    types = [i["type"] for i in body["input"]]
    # foreign reasoning dropped; the assistant image moved to a user message after the turn
    assert types == ["message", "message", "function_call", "custom_tool_call",
                     "message", "function_call_output", "custom_tool_call_output", "message"]
    assert body["input"][1] == {"type": "message", "role": "assistant", "content": "calling"}
    assert body["input"][4]["role"] == "user"
    assert body["input"][4]["content"][0]["image_url"] == "data:image/jpeg;base64,AAAA"
    assert body["input"][5]["output"] == "Error: boom"
    assert body["input"][6]["output"][1] == {"type": "input_image", "image_url": "https://x.test/b"}
    assert body["input"][7]["role"] == "system"
    assert "byecore" not in str(body)  # foreign opaque data never goes to an upstream


def test_tool_choice_forms():
    for raw in ("none", "required", {"type": "custom", "name": "apply_patch"},
                {"type": "allowed_tools", "mode": "required", "tools": [{"type": "function",
                                                                        "name": "a"}]}):
        body = CODEC.encode_request(CODEC.decode_request(
            {"model": "m", "input": "x", "tool_choice": raw}))
        assert body["tool_choice"] == raw
        assert not sdk_problems(body)


@pytest.mark.parametrize("body", [
    None, [], "x", {}, {"model": 3}, {"model": "m", "input": 5},
    {"model": "m", "input": [3]}, {"model": "m", "input": [{"role": "robot", "content": "x"}]},
    {"model": "m", "input": [{"type": "message", "role": "user", "content": [{"type": "x"}]}]},
    {"model": "m", "input": [{"type": "function_call", "name": "a"}]},
    {"model": "m", "input": [{"type": "function_call_output", "call_id": "c"}]},
    {"model": "m", "input": [{"type": "message", "role": "user", "content": [
        {"type": "input_image"}]}]},
    {"model": "m", "tools": [{"type": "function"}]}, {"model": "m", "tools": {}},
    {"model": "m", "tools": [{"type": "namespace", "name": "n", "tools": [{"type": "mcp"}]}]},
    {"model": "m", "tool_choice": "sometimes"}, {"model": "m", "tool_choice": {"name": "a"}},
    {"model": "m", "reasoning": "high"}, {"model": "m", "text": {"format": {"type": "xml"}}},
    {"model": "m", "max_output_tokens": "9"}, {"model": "m", "stream": "yes"},
])
def test_garbage_is_a_codec_error(body):
    with pytest.raises(CodecError):
        CODEC.decode_request(body)


def test_unknown_item_types_are_dropped_on_purpose():
    req = CODEC.decode_request({"model": "m", "input": [
        {"type": "web_search_call", "id": "ws_1", "status": "completed",
         "action": {"type": "search", "query": "x"}},
        {"type": "item_reference", "id": "msg_1"},
        {"type": "message", "role": "user", "content": "hi"}]})
    assert [m.role for m in req.messages] == ["user"]


@pytest.mark.parametrize(("item", "param"), [
    ({"type": "function_call", "call_id": "c", "name": "f", "arguments": 3},
     "input[1].arguments"),
    ({"type": "custom_tool_call", "call_id": "c", "name": "f"}, "input[1].input"),
    ({"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}",
      "namespace": 5}, "input[1].namespace"),
    ({"type": "function_call_output", "call_id": 7, "output": "x"}, "input[1].call_id"),
    ({"type": "function_call_output", "call_id": "c", "output": [{"type": "input_text"}]},
     "input[1].output[0].text"),
    ({"type": "message", "role": "user", "content": ["hi"]}, "input[1].content[0]"),
    ({"type": "message", "role": "user", "id": 4, "content": "hi"}, "input[1].id"),
    ("not an item", "input[1]"),
])
def test_bad_items_are_named_by_their_path(item, param):
    """The item decoder spells out error paths only when it fails; they must still be right."""
    good = {"type": "message", "role": "user", "content": "hi"}
    with pytest.raises(CodecError) as caught:
        CODEC.decode_request({"model": "m", "input": [good, item]})
    assert caught.value.param == param
