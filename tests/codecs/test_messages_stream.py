"""Anthropic Messages streams: upstream SSE → hub events, hub events → client SSE."""

from __future__ import annotations

import json

import anthropic
import httpx2
import pytest

from byecore_cli.codecs import get
from byecore_cli.codecs.base import UpstreamFault
from byecore_cli.codecs.messages.blocks import safe_id
from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.hub import (
    ErrorInfo,
    Message,
    MessageStart,
    MessageStop,
    PartStart,
    PartStop,
    Reasoning,
    ReasoningDelta,
    Request,
    Response,
    StopReason,
    StreamError,
    Text,
    TextDelta,
    Tool,
    ToolArgsDelta,
    ToolCall,
    Usage,
    UsageUpdate,
)
from byecore_cli.hub.assemble import assemble, explode
from tests.codecs.messages_helpers import load

CODEC = get("messages")
REQUEST = Request("claude-sonnet-5", tools=[Tool("Edit", parameters={"type": "object"})])


def decode(raw: bytes, request: Request = REQUEST, chunk: int | None = None) -> list:
    sse, decoder = SSEDecoder(), CODEC.stream_decoder(request)
    events = []
    pieces = [raw] if chunk is None else [raw[i:i + chunk] for i in range(0, len(raw), chunk)]
    for piece in pieces:
        for event in sse.feed(piece):
            events += decoder.feed(event)
    for event in sse.flush():
        events += decoder.feed(event)
    return events + decoder.flush()


def encode(events: list, request: Request = REQUEST) -> bytes:
    encoder = CODEC.stream_encoder(request)
    return b"".join(encoder.feed(e) for e in events) + encoder.flush()


def wire_events(raw: bytes) -> list[tuple[str, dict]]:
    sse = SSEDecoder()
    return [(e.event, json.loads(e.data)) for e in sse.feed(raw) + sse.flush()]


def sdk_final(raw: bytes):
    """Feed the bytes to the anthropic SDK's own stream accumulator."""
    def handler(_request):
        return httpx2.Response(200, content=raw, headers={"content-type": "text/event-stream"})
    client = anthropic.Anthropic(api_key="k", http_client=httpx2.Client(
        transport=httpx2.MockTransport(handler)))
    with client.messages.stream(model="m", max_tokens=10,
                                messages=[{"role": "user", "content": "x"}]) as stream:
        return stream.get_final_message()


# --- decoder ------------------------------------------------------------------------------

def test_decoder_follows_the_hub_ordering_rules():
    events = decode(load("anthropic_stream.sse"))
    assert isinstance(events[0], MessageStart)
    assert events[0].usage == Usage(input_tokens=31672, output_tokens=2, cache_read_tokens=30000,
                                    cache_write_tokens=1200)
    opened = None
    for event in events[1:-1]:
        if isinstance(event, PartStart):
            assert opened is None
            opened = event.index
        elif isinstance(event, PartStop):
            assert event.index == opened
            opened = None
        elif isinstance(event, (TextDelta, ReasoningDelta, ToolArgsDelta)):
            assert event.index == opened and event.text
    assert isinstance(events[-1], MessageStop)
    response = assemble(events)
    thinking, text, call = response.parts
    assert thinking.meta == {"messages": {"signature":
                                          "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds=="}}
    assert text.text == "The split drops a trailing empty field. Fixing:"
    assert json.loads(call.arguments)["new_string"] == "s.split(',', -1)"
    assert response.stop == StopReason.TOOL_CALLS
    assert response.usage.output_tokens == 89 and response.usage.input_tokens == 31672


@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_decoder_is_independent_of_chunking(chunk):
    assert decode(load("anthropic_stream.sse"), chunk=chunk) == decode(load("anthropic_stream.sse"))


def test_tool_arguments_stream_incrementally():
    deltas = [e.text for e in decode(load("anthropic_stream.sse")) if isinstance(e, ToolArgsDelta)]
    assert len(deltas) == 3


def _sse(*payloads) -> bytes:
    return b"".join(f"event: {p['type']}\ndata: {json.dumps(p)}\n\n".encode() for p in payloads)


START = {"type": "message_start", "message": {"id": "msg_1", "model": "m", "content": [],
                                              "usage": {"input_tokens": 5, "output_tokens": 1}}}
STOP = [{"type": "message_delta", "delta": {"stop_reason": "end_turn"},
         "usage": {"output_tokens": 4}}, {"type": "message_stop"}]


def test_missing_signature_empty_tool_input_and_custom_tools():
    request = Request("m", tools=[Tool("apply_patch", kind="custom")],
                      messages=[Message("assistant", [ToolCall("call.1", "apply_patch", "")])])
    raw = _sse(START,
               {"type": "content_block_start", "index": 0,
                "content_block": {"type": "thinking", "thinking": ""}},
               {"type": "content_block_delta", "index": 0,
                "delta": {"type": "thinking_delta", "thinking": "hmm"}},
               {"type": "content_block_stop", "index": 0},
               {"type": "content_block_start", "index": 1,
                "content_block": {"type": "tool_use", "id": "t1", "name": "noargs", "input": {}}},
               {"type": "content_block_stop", "index": 1},
               {"type": "content_block_start", "index": 2, "content_block": {
                   "type": "tool_use", "id": safe_id("call.1"), "name": "apply_patch",
                   "input": {}}},
               {"type": "content_block_delta", "index": 2,
                "delta": {"type": "input_json_delta", "partial_json": '{"input": "*** Be'}},
               {"type": "content_block_delta", "index": 2,
                "delta": {"type": "input_json_delta", "partial_json": 'gin Patch\\n"}'}},
               {"type": "content_block_stop", "index": 2}, *STOP)
    response = assemble(decode(raw, request))
    thinking, empty, patch = response.parts
    assert thinking == Reasoning("hmm")
    assert empty.arguments == "{}"
    assert (patch.id, patch.kind, patch.arguments) == ("call.1", "custom", "*** Begin Patch\n")
    assert response.stop == StopReason.TOOL_CALLS


def test_errors_mid_stream_and_truncation():
    raw = _sse(START, {"type": "content_block_start", "index": 0,
                       "content_block": {"type": "text", "text": ""}},
               {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    events = decode(raw)
    assert events[-1] == StreamError(ErrorInfo(529, "overloaded", "Overloaded"))
    truncated = decode(_sse(START, {"type": "content_block_start", "index": 0,
                                    "content_block": {"type": "text", "text": "hi"}}))
    assert isinstance(truncated[-1], StreamError) and truncated[-1].error.status == 502
    # an upstream that closes after message_delta but before message_stop still completes
    closed_early = decode(_sse(START, STOP[0]))
    assert isinstance(closed_early[-1], MessageStop)
    with pytest.raises(UpstreamFault, match="not JSON"):
        decode(b"data: {not json\n\n")


def test_pings_unknown_events_and_stray_deltas_are_ignored():
    raw = _sse(START, {"type": "ping"}, {"type": "content_block_delta", "index": 9,
                                         "delta": {"type": "text_delta", "text": "x"}},
               {"type": "brand_new_event"}, *STOP)
    events = decode(raw)
    assert [type(e) for e in events] == [MessageStart, UsageUpdate, MessageStop]


# --- encoder ------------------------------------------------------------------------------

def _hub_response() -> Response:
    return Response("resp_9", "gpt-5", parts=[
        Reasoning("think", meta={"responses": {"encrypted_content": "blob"}}),
        Text("Hello "), ToolCall("call_1", "Edit", '{"file_path": "a.py"}'),
        ToolCall("call_2", "apply_patch", "*** Begin Patch\n\"q\"", kind="custom")],
        usage=Usage(input_tokens=100, output_tokens=20, cache_read_tokens=60))


def test_encoder_event_order_indexes_and_signature():
    events = explode(_hub_response())
    events.insert(4, TextDelta(1, "world"))  # more deltas for the open text part
    frames = wire_events(encode(events))
    names = [name for name, _ in frames]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert frames[0][1]["message"]["usage"] == {"input_tokens": 40,
                                                "cache_creation_input_tokens": 0,
                                                "cache_read_input_tokens": 60, "output_tokens": 0}
    assert frames[0][1]["message"]["model"] == "claude-sonnet-5"
    open_index, expected = None, 0
    for name, data in frames:
        if name == "content_block_start":
            assert open_index is None and data["index"] == expected
            open_index = data["index"]
        elif name == "content_block_delta":
            assert data["index"] == open_index
        elif name == "content_block_stop":
            assert data["index"] == open_index
            open_index, expected = None, expected + 1
    assert expected == 4
    thinking_deltas = [d["delta"]["type"] for n, d in frames
                       if n == "content_block_delta" and d["index"] == 0]
    assert thinking_deltas == ["thinking_delta", "signature_delta"]
    assert frames[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_encoded_stream_is_accepted_by_the_sdk_accumulator():
    message = sdk_final(encode(explode(_hub_response())))
    thinking, text, edit, patch = message.content
    assert thinking.signature.startswith("byecore1.") and thinking.thinking == "think"
    assert text.text == "Hello "
    assert edit.input == {"file_path": "a.py"}
    assert patch.input == {"input": "*** Begin Patch\n\"q\""}
    assert message.stop_reason == "tool_use"
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens,
            message.usage.output_tokens) == (40, 60, 20)


def test_anthropic_stream_round_trips_through_the_hub():
    raw = load("anthropic_stream.sse")
    message = sdk_final(encode(decode(raw)))
    thinking, text, call = message.content
    assert thinking.signature == "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds=="
    assert call.input["file_path"] == "/repo/src/parse.py"
    assert message.usage.cache_creation_input_tokens == 1200
    assert message.usage.input_tokens == 472 and message.usage.output_tokens == 89
    assert assemble(decode(encode(decode(raw)))).parts == assemble(decode(raw)).parts


def test_encoder_errors_and_early_end():
    events = [MessageStart("r", "m"), PartStart(0, Text("")), TextDelta(0, "partial"),
              StreamError(ErrorInfo(500, "overloaded", "busy"))]
    frames = wire_events(encode(events))
    assert frames[-1] == ("error", {"type": "error", "error": {"type": "overloaded_error",
                                                               "message": "busy"}})
    early = wire_events(encode(events[:3]))
    assert early[-2][0] == "content_block_stop" and early[-1][0] == "error"
    # events before message_start still produce a valid opening
    assert wire_events(encode([PartStart(0, Text("")), MessageStop(StopReason.END)]))[0][0] \
        == "message_start"


def test_redacted_thinking_and_opaque_blocks_are_whole():
    block = {"type": "web_search_tool_result", "tool_use_id": "s", "content": []}
    events = [MessageStart("r", "m"),
              PartStart(0, Reasoning("", meta={"messages": {"redacted": "abc"}})), PartStop(0),
              PartStart(1, Text("", {"messages": {"block": block}})), TextDelta(1, "[x]"),
              PartStop(1), MessageStop(StopReason.END)]
    frames = wire_events(encode(events))
    starts = [d["content_block"] for n, d in frames if n == "content_block_start"]
    assert starts == [{"type": "redacted_thinking", "data": "abc"}, block]
    assert not [d for n, d in frames if n == "content_block_delta"]
