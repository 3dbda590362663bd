"""Anthropic Messages requests: decode (what clients send) and encode (what upstreams get)."""

from __future__ import annotations

import copy
import json

import pytest

from byecore_cli.codecs import get
from byecore_cli.codecs.base import CodecError
from byecore_cli.codecs.messages.blocks import safe_id
from byecore_cli.codecs.messages.encode import DEFAULT_MAX_TOKENS, UNANSWERED
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
from tests.codecs.messages_helpers import assert_valid_request, load

CODEC = get("messages")
FIXTURES = ["claude_code_request.json", "minimal_request.json", "opencode_request.json",
            "web_search_request.json"]


@pytest.mark.parametrize("name", FIXTURES)
def test_golden_fixtures_encode_to_valid_sdk_params(name):
    request = CODEC.decode_request(load(name))
    assert_valid_request(CODEC.encode_request(request))


@pytest.mark.parametrize("name", FIXTURES)
def test_round_trip_keeps_the_hub_request(name):
    first = CODEC.decode_request(load(name))
    second = CODEC.decode_request(CODEC.encode_request(first))
    if name == "claude_code_request.json":
        # the mid-conversation system message is folded into the user turn (encode.py)
        moved = [m for m in first.messages if m.role == "system"]
        assert len(moved) == 1
        first.messages.remove(moved[0])
        folded = second.messages[0].parts.pop()
        assert folded.text == ("<system-reminder>\n" + moved[0].parts[0].text
                               + "\n</system-reminder>")
    assert second == first


def test_claude_code_request_decodes_fully():
    request = CODEC.decode_request(load("claude_code_request.json"))
    extras = request.extras["messages"]
    # the billing header is noise for other vendors: kept only for an Anthropic encoder
    assert all("billing-header" not in t.text for t in request.system)
    assert extras["billing_header"]["text"].startswith("x-anthropic-billing-header:")
    assert extras["context_management"]["edits"][0]["type"] == "clear_thinking_20251015"
    assert request.system[0].meta == {"messages": {"cache_control": {"type": "ephemeral"}}}
    assert [m.role for m in request.messages] == [
        "user", "system", "assistant", "tool", "assistant", "tool", "user"]
    assert request.messages[1].parts[0].text.startswith("Available agent types")
    thinking, text, call = request.messages[2].parts
    assert thinking == Reasoning("Let me run the test first.",
                                 meta={"messages": {"signature": "EqQBCkYIBxgCKkDsig0000=="}})
    assert json.loads(call.arguments)["command"].startswith("pytest")
    result = request.messages[3].parts[0]
    assert result.call_id == call.id and not result.is_error
    assert result.meta == {"messages": {"cache_control": {"type": "ephemeral"}}}
    assert request.messages[4].parts[0].meta["messages"]["redacted"].startswith("Emw")
    image_result = request.messages[5].parts[1]
    assert isinstance(image_result.content[0], Image)
    assert image_result.content[0].media_type == "image/png"
    assert request.reasoning == ReasoningConfig(enabled=True, effort="high", adaptive=True)
    assert request.user.startswith('{"device_id"')
    assert request.max_tokens == 32000 and request.stream
    assert request.tools[2].meta == {"messages": {"cache_control": {"type": "ephemeral"}}}


def test_documents_hosted_tools_and_tool_choice():
    request = CODEC.decode_request(load("opencode_request.json"))
    parts = request.messages[0].parts
    assert parts[1] == Image(url="https://example.com/cat.png")
    assert parts[2].media_type == "application/pdf" and parts[2].data == "JVBERi0xLjQK"
    assert parts[3].text == "README: run make"
    assert request.tool_choice == ToolChoice("auto")
    assert request.tools[1].strict is True
    assert request.temperature == 0.3 and request.stop == ["\n\nHuman:"]

    search = CODEC.decode_request(load("web_search_request.json"))
    assert search.tools[0].kind == "hosted"
    assert search.tools[0].hosted["messages"]["type"] == "web_search_20250305"
    assert search.tool_choice == ToolChoice("tool", "web_search")
    assert search.parallel_tool_calls is False
    assert search.reasoning is None


def test_forced_tool_choice_degrades_to_auto_with_thinking():
    wire = {**load("web_search_request.json"), "thinking": {"type": "enabled",
                                                             "budget_tokens": 2048}}
    request = CODEC.decode_request(wire)
    assert request.reasoning == ReasoningConfig(enabled=True, budget_tokens=2048)
    body = CODEC.encode_request(request)
    assert body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    assert body["tools"][0]["type"] == "web_search_20250305"


@pytest.mark.parametrize("bad", [
    None, [], {"model": 1, "messages": []}, {"model": "m"},
    {"model": "m", "messages": [{"role": "tool", "content": "x"}]},
    {"model": "m", "messages": [{"role": "user", "content": [{"type": "image"}]}]},
    {"model": "m", "messages": [{"role": "user", "content": [{"type": "image", "source": {
        "type": "file", "file_id": "f"}}]}]},
    {"model": "m", "messages": [], "max_tokens": "10"},
    {"model": "m", "messages": [], "thinking": {"budget_tokens": 5}},
    {"model": "m", "messages": [], "tool_choice": {"type": "maybe"}},
    {"model": "m", "messages": [], "system": [{"type": "image"}]},
])
def test_garbage_is_a_codec_error(bad):
    with pytest.raises(CodecError):
        CODEC.decode_request(bad)


# --- encoding a hub request from another protocol ---------------------------------------

def _encode(**kwargs) -> dict:
    body = CODEC.encode_request(Request(model="claude-x", **kwargs))
    assert_valid_request(body)
    return body


def test_defaults_and_leading_and_mid_conversation_instructions():
    body = _encode(system=[Text("sys")], messages=[
        Message("developer", [Text("dev rules")]),
        Message("user", [Text("hi")]),
        Message("developer", [Text("switched to plan mode")]),
        Message("user", [Text("")]),
        Message("user", [Text("go")]),
    ])
    assert body["max_tokens"] == DEFAULT_MAX_TOKENS
    assert body["system"] == [{"type": "text", "text": "sys"},
                              {"type": "text", "text": "dev rules"}]
    assert body["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "hi"},
        {"type": "text", "text": "<system-reminder>\nswitched to plan mode\n</system-reminder>"},
        {"type": "text", "text": "go"}]}]


def test_tool_loop_ids_results_first_and_unanswered_calls():
    bad_id = "functions.Bash:0"
    body = _encode(tools=[Tool("Bash", parameters={"properties": {"cmd": {"type": "string"}}})],
                   messages=[
        Message("user", [Text("run it")]),
        Message("assistant", [Text("ok"), ToolCall(bad_id, "Bash", '{"cmd": "ls"}'),
                              ToolCall("call_2", "Bash", "")]),
        Message("user", [Text("and hurry")]),
        Message("tool", [ToolResult(bad_id, [Text("a.txt")], is_error=True)]),
        Message("tool", [ToolResult("call_ghost", [Text("stray")])]),
    ])
    assert body["tools"][0]["input_schema"]["type"] == "object"
    assistant, user = body["messages"][1:]
    wire_id = assistant["content"][1]["id"]
    assert wire_id == safe_id(bad_id) and wire_id.startswith("functions_Bash_0_")
    assert assistant["content"][2]["input"] == {}
    assert user["content"] == [
        {"type": "tool_result", "tool_use_id": wire_id, "content": "a.txt", "is_error": True},
        {"type": "tool_result", "tool_use_id": "call_2", "content": UNANSWERED, "is_error": True},
        {"type": "text", "text": "and hurry"},
        {"type": "text", "text": "[tool result for call call_ghost]\nstray"},
    ]


def test_trailing_tool_use_gets_answered():
    body = _encode(messages=[Message("user", [Text("x")]),
                             Message("assistant", [ToolCall("c1", "f", "{}")])])
    assert body["messages"][-1]["content"][0]["tool_use_id"] == "c1"


def test_namespaced_and_custom_tools_and_foreign_hosted_tools():
    tools = [Tool("alpha", parameters={"type": "object", "properties": {}},
                  namespace="mcp__server__"),
             Tool("apply_patch", "Apply a patch", kind="custom",
                  format={"type": "grammar", "syntax": "lark", "definition": "start: x"}),
             Tool("web_search", kind="hosted", hosted={"responses": {"type": "web_search"}})]
    body = _encode(tools=tools, tool_choice=ToolChoice("tool", "apply_patch"),
                   messages=[Message("user", [Text("x")]), Message("assistant", [
                       ToolCall("c1", "apply_patch", "*** Begin Patch\n", kind="custom"),
                       ToolCall("c2", "alpha", '{"a":1}', namespace="mcp__server__")]),
                       Message("tool", [ToolResult("c1", [Text("done")], kind="custom"),
                                        ToolResult("c2", [Text("ok")])])])
    names = [t["name"] for t in body["tools"]]
    assert names == ["mcp__server__alpha", "apply_patch"]
    assert body["tools"][1]["input_schema"]["required"] == ["input"]
    assert "start: x" in body["tools"][1]["description"]
    assert body["tool_choice"] == {"type": "tool", "name": "apply_patch"}
    calls = body["messages"][1]["content"]
    assert calls[0]["input"] == {"input": "*** Begin Patch\n"}
    assert calls[1]["name"] == "mcp__server__alpha" and calls[1]["input"] == {"a": 1}


def test_effort_becomes_a_budget_under_max_tokens():
    body = _encode(max_tokens=8000, reasoning=ReasoningConfig(effort="high"),
                   temperature=0.2, top_k=5, tools=[Tool("f")],
                   tool_choice=ToolChoice("required"), messages=[Message("user", [Text("x")])])
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 7999}
    assert body["tool_choice"] == {"type": "auto"}
    assert "temperature" not in body and "top_k" not in body and "output_config" not in body
    small = _encode(max_tokens=1000, reasoning=ReasoningConfig(effort="low"),
                    messages=[Message("user", [Text("x")])])
    assert "thinking" not in small
    off = _encode(reasoning=ReasoningConfig(effort="none"), messages=[Message("user", [Text("x")])])
    assert off["thinking"] == {"type": "disabled"}


def test_thinking_needs_a_signed_block_in_the_current_tool_loop():
    loop = [Message("user", [Text("x")]),
            Message("assistant", [Reasoning("deepseek thoughts"), ToolCall("c1", "f", "{}")]),
            Message("tool", [ToolResult("c1", [Text("r")])])]
    body = _encode(reasoning=ReasoningConfig(enabled=True, budget_tokens=2000), messages=loop)
    assert "thinking" not in body  # unsigned reasoning is dropped, so thinking must be off
    assert body["messages"][1]["content"][0]["type"] == "tool_use"
    signed = copy.deepcopy(loop)
    signed[1].parts[0].meta = {"messages": {"signature": "sig"}}
    body = _encode(reasoning=ReasoningConfig(enabled=True, budget_tokens=2000), messages=signed)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2000}
    assert body["messages"][1]["content"][0] == {"type": "thinking",
                                                 "thinking": "deepseek thoughts",
                                                 "signature": "sig"}


def test_sampling_formats_images_and_user():
    body = _encode(temperature=1.7, top_p=0.9, stop=["END"], user="u1",
                   response_format=ResponseFormat(schema={"type": "object"}),
                   parallel_tool_calls=False, tools=[Tool("f")],
                   messages=[Message("user", [
                       Image(url="data:image/jpeg;base64,/9j/AA=="),
                       Image(url="data:image/png,hi%20there"),
                       Image(data="JVBER", media_type="application/pdf")])])
    assert body["temperature"] == 1.0 and "top_p" not in body
    assert body["stop_sequences"] == ["END"] and body["metadata"] == {"user_id": "u1"}
    assert body["output_config"] == {"format": {"type": "json_schema",
                                                "schema": {"type": "object"}}}
    assert body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    content = body["messages"][0]["content"]
    assert content[0]["source"] == {"type": "base64", "media_type": "image/jpeg",
                                    "data": "/9j/AA=="}
    assert content[1]["source"]["data"] == "aGkgdGhlcmU="
    assert content[2]["type"] == "document"
    json_object = _encode(response_format=ResponseFormat("json_object"),
                          messages=[Message("user", [Text("x")])])
    assert "output_config" not in json_object


def test_safe_id_is_deterministic_and_keeps_valid_ids():
    assert safe_id("toolu_01-AZ") == "toolu_01-AZ"
    assert safe_id("a.b") == safe_id("a.b") != safe_id("a:b")
    assert safe_id("ü") .startswith("_")


@pytest.mark.parametrize("target", ["chat", "responses"])
def test_claude_code_noise_never_reaches_other_protocols(target):
    request = CODEC.decode_request(load("claude_code_request.json"))
    wire = json.dumps(get(target).encode_request(request))
    for noise in ("x-anthropic-billing-header", "cache_control", "context_management",
                  "output_config", "adaptive", "EqQBCkYIBxgCKkDsig0000"):
        assert noise not in wire
    assert "Available agent types" in wire  # the mid-conversation system text survives


def test_thinking_modes_the_hub_has_no_word_for_pass_through():
    wire = {"model": "m", "max_tokens": 4000, "thinking": {"type": "between_tools"},
            "messages": [{"role": "user", "content": "x"}]}
    request = CODEC.decode_request(wire)
    assert request.reasoning == ReasoningConfig(enabled=True)
    body = CODEC.encode_request(request)
    assert body["thinking"] == {"type": "between_tools"}
    assert_valid_request(body)


def test_blank_or_non_object_arguments_become_valid_input():
    body = _encode(messages=[Message("user", [Text("x")]), Message("assistant", [
        ToolCall("c1", "f", "  "), ToolCall("c2", "f", "[1]"), ToolCall("c3", "f", "{oops")])])
    inputs = [b["input"] for b in body["messages"][1]["content"]]
    assert inputs == [{}, {"_raw": "[1]"}, {"_raw": "{oops"}]


def test_well_formed_tool_loop_keeps_its_turns():
    """Results that already answer the calls in order go through as they are."""
    body = _encode(messages=[
        Message("user", [Text("go")]),
        Message("assistant", [ToolCall("c1", "f", "{}"), ToolCall("c2", "f", "{}")]),
        Message("tool", [ToolResult("c1", [Text("one")]), ToolResult("c2", [Text("two")])]),
        Message("user", [Text("thanks")]),
    ])
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "c1", "content": "one"},
        {"type": "tool_result", "tool_use_id": "c2", "content": "two"},
        {"type": "text", "text": "thanks"},
    ]
