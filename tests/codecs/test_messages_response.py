"""Anthropic Messages response bodies: decode (from an upstream), encode (to a client)."""

from __future__ import annotations

import json

import pytest
from anthropic.types import Message as SDKMessage
from pydantic import BaseModel

from byecore_cli.codecs import get
from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.codecs.messages.blocks import safe_id
from byecore_cli.hub import (
    Image,
    Message,
    Reasoning,
    Request,
    Response,
    StopReason,
    Text,
    Tool,
    ToolCall,
    Usage,
)
from tests.codecs.messages_helpers import load

CODEC = get("messages")
TOOLS = [Tool("alpha", parameters={"type": "object"}, namespace="mcp__server__"),
         Tool("apply_patch", kind="custom")]


def _extras(model) -> list:
    """Fields the SDK model did not define, at any depth."""
    found = []
    if isinstance(model, BaseModel):
        found += list((model.model_extra or {}).keys())
        for name in type(model).model_fields:
            found += _extras(getattr(model, name))
    elif isinstance(model, list):
        for item in model:
            found += _extras(item)
    return found


def _sdk_roundtrip(body: dict) -> None:
    """The SDK parses the body with no unknown field, and dumping it gives it back."""
    parsed = SDKMessage.model_validate(body)
    assert _extras(parsed) == []
    dumped = parsed.model_dump(mode="json", exclude_none=True)
    assert dumped == json.loads(json.dumps({k: v for k, v in body.items() if v is not None}))


def test_decode_restores_names_ids_custom_input_and_usage():
    request = Request("claude-sonnet-5", tools=TOOLS)
    response = CODEC.decode_response(load("anthropic_response.json"), request)
    thinking, text, call, patch = response.parts
    assert thinking.meta == {"messages": {"signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrk"}}
    assert text == Text("Reading the parser.")
    assert (call.name, call.namespace, json.loads(call.arguments)) == (
        "alpha", "mcp__server__", {"path": "src/parse.py"})
    assert (patch.kind, patch.arguments) == ("custom", "*** Begin Patch\n*** End Patch\n")
    assert response.stop == StopReason.TOOL_CALLS
    assert response.usage == Usage(input_tokens=2112, output_tokens=57, cache_read_tokens=2000,
                                   cache_write_tokens=100, reasoning_tokens=20)


def test_decode_restores_sanitised_tool_ids():
    original = "functions.Bash:0"
    request = Request("m", messages=[Message("assistant", [ToolCall(original, "Bash", "{}")])])
    body = {"content": [{"type": "tool_use", "id": safe_id(original), "name": "Bash",
                         "input": {}}], "stop_reason": "tool_use", "usage": {}}
    assert CODEC.decode_response(body, request).parts[0].id == original


def test_encode_for_a_client_parses_with_the_sdk():
    request = Request("claude-sonnet-5", tools=TOOLS)
    hub = CODEC.decode_response(load("anthropic_response.json"), request)
    body = CODEC.encode_response(hub, Request("my-alias"))
    assert body["model"] == "my-alias"
    assert body["usage"] == {"input_tokens": 12, "cache_creation_input_tokens": 100,
                             "cache_read_input_tokens": 2000, "output_tokens": 57,
                             "output_tokens_details": {"thinking_tokens": 20}}
    assert body["stop_reason"] == "tool_use"
    _sdk_roundtrip(body)
    again = CODEC.decode_response(body, request)
    assert again.parts == hub.parts and again.usage == hub.usage


def test_foreign_reasoning_gets_a_minted_signature_that_comes_back():
    foreign = {"responses": {"encrypted_content": "gAAAA-opaque", "id": "rs_1"}}
    hub = Response("resp_1", "gpt-5", parts=[Reasoning("thoughts", meta=foreign),
                                             Text("hi"), ToolCall("call_1", "f", "")],
                   usage=Usage(input_tokens=10, output_tokens=3, cache_read_tokens=4))
    body = CODEC.encode_response(hub, Request("claude-sonnet-5"))
    _sdk_roundtrip(body)
    thinking = body["content"][0]
    assert thinking["signature"].startswith("byecore1.")
    assert body["content"][2]["input"] == {} and body["stop_reason"] == "tool_use"
    assert body["usage"]["input_tokens"] == 6 and body["id"] == "msg_resp_1"
    # Claude Code echoes the block back in the next request: the foreign meta returns,
    # the minted signature does not (it must never reach a real Anthropic upstream)
    request = CODEC.decode_request({"model": "m", "messages": [
        {"role": "assistant", "content": [thinking]}]})
    assert request.messages[0].parts[0].meta == foreign
    assert "thinking" not in json.dumps(CODEC.encode_request(request)["messages"])


@pytest.mark.parametrize(("wire", "hub", "calls"), [
    ("end_turn", StopReason.END, False), ("max_tokens", StopReason.LENGTH, False),
    ("stop_sequence", StopReason.STOP_SEQUENCE, False), ("pause_turn", StopReason.PAUSE, False),
    ("refusal", StopReason.REFUSAL, False),
    ("model_context_window_exceeded", StopReason.CONTEXT_OVERFLOW, False),
    ("tool_use", StopReason.END, False), ("end_turn", StopReason.TOOL_CALLS, True),
])
def test_stop_reasons(wire, hub, calls):
    content = [{"type": "tool_use", "id": "t", "name": "f", "input": {}}] if calls else []
    decoded = CODEC.decode_response({"content": content, "stop_reason": wire}, Request("m"))
    assert decoded.stop == hub
    body = CODEC.encode_response(decoded, Request("m"))
    assert body["stop_reason"] == ("tool_use" if calls else
                                   "end_turn" if wire == "tool_use" else wire)


def test_content_filter_and_images_in_responses():
    body = CODEC.encode_response(Response("x", "m", parts=[Image(url="https://x/y.png")],
                                          stop=StopReason.CONTENT_FILTER), Request("m"))
    assert body["stop_reason"] == "refusal"
    assert body["content"][0]["type"] == "text"
    _sdk_roundtrip(body)


def test_server_tool_blocks_stay_opaque_but_readable():
    block = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1",
             "content": [{"type": "web_search_result", "title": "Python 3.14",
                          "url": "https://docs.python.org/3.14/", "encrypted_content": "e"}]}
    response = CODEC.decode_response({"content": [block], "stop_reason": "end_turn"},
                                     Request("m"))
    text = response.parts[0]
    assert "https://docs.python.org/3.14/" in text.text
    assert CODEC.encode_response(response, Request("m"))["content"] == [block]


@pytest.mark.parametrize("bad", [None, {}, {"content": "x"}, {"content": [1]},
                                 {"content": [{"type": "tool_use", "id": 1}]}])
def test_malformed_bodies_are_the_upstreams_fault(bad):
    with pytest.raises(UpstreamFault) as raised:
        CODEC.decode_response(bad, Request("m"))
    assert not isinstance(raised.value, CodecError)  # not the client's 400
