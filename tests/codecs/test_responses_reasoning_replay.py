"""A Responses upstream's reasoning item comes back to it unchanged after a trip
through another protocol's client (an Anthropic client echoing a thinking block)."""

from __future__ import annotations

import json

import pytest

from byecore_cli.codecs import get
from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.hub import Request

RESPONSES, MESSAGES = get("responses"), get("messages")
SUMMARY_ITEM = {"type": "reasoning", "id": "rs_1", "encrypted_content": "enc-1",
                "summary": [{"type": "summary_text", "text": "I should list files."}]}
RAW_ITEM = {"type": "reasoning", "id": "rs_2", "encrypted_content": "enc-2", "summary": [],
            "content": [{"type": "reasoning_text", "text": "raw thoughts"}]}


def upstream_body(item: dict) -> dict:
    return {"id": "resp_1", "object": "response", "created_at": 1, "status": "completed",
            "model": "m", "output": [item, {
                "type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": "ok", "annotations": []}]}],
            "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}}


def replayed(content: list) -> dict:
    """The reasoning item a Responses upstream gets when an Anthropic client echoes."""
    back = MESSAGES.decode_request({"model": "m", "max_tokens": 10, "messages": [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": content},
        {"role": "user", "content": "more"}]})
    (item,) = [i for i in RESPONSES.encode_request(back)["input"]
               if i.get("type") == "reasoning"]
    return item


@pytest.mark.parametrize("original", [SUMMARY_ITEM, RAW_ITEM], ids=["summary", "raw"])
def test_whole_response_reasoning_replays_as_issued(original):
    request = Request(model="m")
    hub = RESPONSES.decode_response(upstream_body(original), request)
    client = MESSAGES.encode_response(hub, request)
    assert client["content"][0]["type"] == "thinking"
    assert replayed(client["content"]) == original


def test_streamed_summary_reasoning_replays_as_issued():
    request = Request(model="m", stream=True)
    item, text = SUMMARY_ITEM, SUMMARY_ITEM["summary"][0]["text"]
    where = {"output_index": 0, "item_id": "rs_1", "summary_index": 0}
    events = [
        {"type": "response.created", "response": {"id": "resp_1", "model": "m"}},
        {"type": "response.output_item.added", "output_index": 0,
         "item": {**item, "summary": [], "encrypted_content": None}},
        {"type": "response.reasoning_summary_part.added", **where,
         "part": {"type": "summary_text", "text": ""}},
        {"type": "response.reasoning_summary_text.delta", **where, "delta": text},
        {"type": "response.reasoning_summary_text.done", **where, "text": text},
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed", "response": {**upstream_body(item), "usage": {
            "input_tokens": 1, "output_tokens": 1, "total_tokens": 2}}}]
    raw = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()
    sse, decoder = SSEDecoder(), RESPONSES.stream_decoder(request)
    encoder = MESSAGES.stream_encoder(request)
    out = bytearray()
    for event in sse.feed(raw) + sse.flush():
        for hub_event in decoder.feed(event):
            out += encoder.feed(hub_event)
    for hub_event in decoder.flush():
        out += encoder.feed(hub_event)
    out += encoder.flush()
    thinking, signature = "", ""
    for event in SSEDecoder().feed(bytes(out)):
        data = json.loads(event.data)
        delta = data.get("delta") or {}
        thinking += delta.get("thinking", "")
        signature += delta.get("signature", "")
    assert thinking == text
    assert replayed([{"type": "thinking", "thinking": thinking, "signature": signature},
                     {"type": "text", "text": "ok"}]) == item


def test_an_item_byecore_made_for_the_client_never_goes_to_a_responses_upstream():
    """Reasoning from a Chat upstream reaches a Responses client as an item byecore made
    (packed encrypted_content, an rs_ id of its own); echoed back to a Responses upstream,
    none of it may be sent as if OpenAI had issued it."""
    from byecore_cli.hub import Reasoning, Response, Text

    hub_request = Request(model="m")
    made = RESPONSES.encode_response(Response(id="chatcmpl-1", model="m", parts=[
        Reasoning("chat thinks", meta={"chat": {"field": "reasoning_content"}}),
        Text("ok")]), hub_request)
    item = next(i for i in made["output"] if i["type"] == "reasoning")
    assert item["encrypted_content"].startswith("byecore.v1:")
    echoed = RESPONSES.decode_request({"model": "m", "input": [
        {"role": "user", "content": "hi"}, item,
        {"role": "user", "content": "again"}]})
    sent = RESPONSES.encode_request(echoed)
    assert not [i for i in sent["input"] if i.get("type") == "reasoning"]
