"""Responses response bodies: decode from an upstream, encode for a client, SDK-validated."""

from __future__ import annotations

import pytest

from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.hub import (
    Reasoning,
    Request,
    Response,
    StopReason,
    Text,
    ToolCall,
    Usage,
    meta_for,
)
from byecore_cli.hub.assemble import StreamFailed
from tests.codecs.responses_helpers import CODEC, assert_valid_response, raw, sse_payloads

REQUEST = Request(model="gpt-5.5")


def final_body() -> dict:
    """The final Response object of the recorded o3 stream."""
    return sse_payloads(raw("o3_stream.sse"))[-1]["response"]


def test_decode_an_upstream_response():
    resp = CODEC.decode_response(final_body(), REQUEST)
    reasoning, text, call = resp.parts
    assert isinstance(reasoning, Reasoning) and reasoning.summary
    assert meta_for(reasoning, "responses")["encrypted_content"] == "gAAAAB-opaque"
    assert len(meta_for(reasoning, "responses")["summary"]) == 2
    assert text == Text("I'll run the tests.", {"responses": {"id": "msg_68a1"}})
    assert call.id == "call_abc" and call.arguments == '{"cmd":"pytest -q"}'
    assert resp.stop == StopReason.TOOL_CALLS
    assert resp.usage == Usage(1200, 80, cache_read_tokens=1024, reasoning_tokens=48)
    assert resp.id == "resp_68a1" and resp.created == 1760000000


def test_encoded_response_validates_and_round_trips():
    hub = CODEC.decode_response(final_body(), REQUEST)
    body = CODEC.encode_response(hub, REQUEST)
    model = assert_valid_response(body)
    assert body["model"] == "gpt-5.5"  # the name the client asked for
    assert model.output_text == "I'll run the tests."
    assert model.usage.total_tokens == 1280
    assert model.output[0].summary[1].text.startswith("**Deciding**")
    again = CODEC.decode_response(body, REQUEST)
    assert again.parts == hub.parts and again.usage == hub.usage and again.stop == hub.stop


def test_response_from_another_protocol():
    """An Anthropic-style answer for Codex: thinking with a signature, a custom call."""
    hub = Response(id="msg_01", model="claude", parts=[
        Reasoning("let me think", meta={"messages": {"signature": "EqQBCkYI"}}),
        Text("Patching."),
        ToolCall("toolu_1", "apply_patch", "*** Begin Patch\n*** End Patch\n", kind="custom"),
        ToolCall("toolu_2", "spawn_agent", "", namespace="multi_agent_v1"),
    ], stop=StopReason.TOOL_CALLS, usage=Usage(100, 20, cache_read_tokens=60))
    body = CODEC.encode_response(hub, REQUEST)
    assert_valid_response(body)
    assert body["id"] == "resp_msg_01" and body["status"] == "completed"
    rs, msg, patch, call = body["output"]
    assert rs["summary"] == [{"type": "summary_text", "text": "let me think"}]
    assert rs["encrypted_content"].startswith("byecore.v1:")
    assert patch["type"] == "custom_tool_call" and patch["input"].startswith("*** Begin")
    assert call["arguments"] == "{}" and call["namespace"] == "multi_agent_v1"
    assert len({i["id"] for i in body["output"]}) == 4
    # Codex replays the reasoning item: the signature comes back for the Anthropic codec only
    replay = CODEC.decode_request({"model": "m", "input": [
        {k: v for k, v in rs.items() if k != "id"}]})
    thinking = replay.messages[0].parts[0]
    assert thinking.text == "let me think" and not thinking.summary  # full thinking again
    assert meta_for(thinking, "messages") == {"signature": "EqQBCkYI"}
    assert meta_for(thinking, "responses") == {}


def test_chat_reasoning_content_survives_a_codex_round_trip():
    hub = Response(id="c1", model="deepseek", parts=[Reasoning("step 1"), Text("done")])
    item = CODEC.encode_response(hub, REQUEST)["output"][0]
    assert item["summary"][0]["text"] == "step 1"  # shown by Codex by default
    item.pop("id")  # Codex never sends item ids
    back = CODEC.decode_request({"model": "m", "input": [item]}).messages[0].parts[0]
    assert back == Reasoning("step 1", summary=False, meta=None)


@pytest.mark.parametrize(("stop", "status", "detail"), [
    (StopReason.LENGTH, "incomplete", {"reason": "max_output_tokens"}),
    (StopReason.CONTENT_FILTER, "incomplete", {"reason": "content_filter"}),
    (StopReason.END, "completed", None),
    (StopReason.PAUSE, "completed", None),
])
def test_status_table(stop, status, detail):
    body = CODEC.encode_response(Response("r", "m", [Text("x")], stop=stop), REQUEST)
    assert body["status"] == status and body["incomplete_details"] == detail
    assert_valid_response(body)
    assert CODEC.decode_response(body, REQUEST).stop in (stop, StopReason.END)


def test_context_overflow_is_a_failed_response_codex_compacts_on():
    body = CODEC.encode_response(Response("r", "m", stop=StopReason.CONTEXT_OVERFLOW), REQUEST)
    assert body["status"] == "failed"
    assert body["error"]["code"] == "context_length_exceeded"
    with pytest.raises(StreamFailed) as failed:
        CODEC.decode_response(body, REQUEST)
    assert failed.value.error.kind == "context_overflow"


def test_refusal_and_hosted_items_from_upstream():
    body = {"id": "resp_1", "status": "completed", "output": [
        {"type": "web_search_call", "id": "ws_1", "status": "completed"},
        {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
         "content": [{"type": "refusal", "refusal": "I can't help with that."}]}]}
    resp = CODEC.decode_response(body, REQUEST)
    assert resp.stop == StopReason.REFUSAL and resp.parts[0].text.startswith("I can't")
    out = CODEC.encode_response(resp, REQUEST)
    assert out["output"][0]["content"][0]["type"] == "output_text"  # Codex drops refusal parts


@pytest.mark.parametrize("body", [
    None, [], {"output": 3}, {"output": [3]}, {"output": [{"type": "message", "content": 1}]},
    {"output": [{"type": "function_call", "name": "x"}]}, {"output": [{}]},
    {"output": [], "usage": {"input_tokens": "many"}},
])
def test_malformed_upstream_body_is_the_upstreams_fault(body):
    with pytest.raises(UpstreamFault) as raised:
        CODEC.decode_response(body, REQUEST)
    assert not isinstance(raised.value, CodecError)  # not the client's 400
