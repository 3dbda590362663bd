"""Chat Completions streams: upstream SSE → hub events, hub events → client SSE (SDK-read)."""

from __future__ import annotations

import json

import httpx2 as httpx
import openai
import pytest

from byecore_cli.codecs import get
from byecore_cli.codecs.base import UpstreamFault
from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.hub import (
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
from tests.codecs.chat_helpers import load

chat = get("chat")
CLIENT = Request(model="my-alias", stream=True, extras={"chat": {"include_usage": True}},
                 tools=[Tool("bash"), Tool("read")])


def decode(raw: bytes, request: Request | None = None, step: int | None = None) -> list:
    request = request or Request(model="m", stream=True)
    sse, decoder = SSEDecoder(), chat.stream_decoder(request)
    events = []
    chunks = [raw] if step is None else [raw[i:i + step] for i in range(0, len(raw), step)]
    for chunk in chunks:
        for event in sse.feed(chunk):
            events += decoder.feed(event)
    for event in sse.flush():
        events += decoder.feed(event)
    return events + decoder.flush()


def check_order(events: list) -> None:
    """The hub's stream rules (hub/events.py)."""
    assert isinstance(events[0], MessageStart)
    assert isinstance(events[-1], (MessageStop, StreamError))
    assert sum(isinstance(e, (MessageStart, MessageStop)) for e in events) <= 2
    open_index, next_index = None, 0
    for event in events[1:-1]:
        if isinstance(event, PartStart):
            assert open_index is None and event.index == next_index
            open_index, next_index = event.index, next_index + 1
        elif isinstance(event, (TextDelta, ReasoningDelta, ToolArgsDelta)):
            assert event.index == open_index
        elif isinstance(event, PartStop):
            assert event.index == open_index
            open_index = None
        else:
            assert isinstance(event, UsageUpdate)
    assert open_index is None


def encode(events: list, request: Request = CLIENT) -> bytes:
    encoder = chat.stream_encoder(request)
    return b"".join(encoder.feed(e) for e in events) + encoder.flush()


def sdk_final(raw: bytes):
    """Feed SSE bytes to the openai SDK's own stream accumulator."""
    def handler(_request):
        return httpx.Response(200, content=raw, headers={"content-type": "text/event-stream"})
    client = openai.OpenAI(api_key="k", base_url="http://gateway.test/v1",
                           http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    with client.chat.completions.stream(model="my-alias", messages=[
            {"role": "user", "content": "x"}], stream_options={"include_usage": True}) as stream:
        return stream.get_final_completion()


def chunks(raw: bytes) -> list:
    return [e.data if e.data == "[DONE]" else json.loads(e.data)
            for e in SSEDecoder().feed(raw)]


# --- decoding ---------------------------------------------------------------------------

def test_openai_text_and_sequential_calls_stream_live():
    events = decode(load("stream_openai_tools.sse"), CLIENT)
    check_order(events)
    response = assemble(events)
    assert [type(p).__name__ for p in response.parts] == ["Text", "ToolCall", "ToolCall"]
    assert response.parts[0].text == "I'll check both."
    assert json.loads(response.parts[1].arguments) == {"command": "ls", "description": "List"}
    assert json.loads(response.parts[2].arguments) == {"filePath": "/repo/a.py"}
    assert response.stop == StopReason.TOOL_CALLS
    assert response.usage == Usage(500, 40, cache_read_tokens=256)
    # sequential calls are not buffered: each fragment is its own delta
    assert sum(isinstance(e, ToolArgsDelta) for e in events) == 4


def test_every_split_point_gives_the_same_events():
    raw = load("stream_openai_tools.sse")
    whole = decode(raw, CLIENT)
    for step in (1, 7, 64):
        assert decode(raw, CLIENT, step) == whole


def test_interleaved_parallel_calls_are_serialised():
    events = decode(load("stream_interleaved.sse"))
    check_order(events)
    calls = assemble(events).parts
    assert [(c.id, c.name, json.loads(c.arguments)) for c in calls] == [
        ("call_1", "bash", {"command": "pwd"}), ("call_2", "read", {"filePath": "x"})]


def test_gemini_calls_without_index():
    events = decode(load("stream_gemini.sse"))
    check_order(events)
    response = assemble(events)
    assert [(c.id, c.arguments) for c in response.parts] == [
        ("function-call-1", '{"filePath":"a"}'), ("function-call-2", '{"filePath":"b"}')]
    assert response.stop == StopReason.TOOL_CALLS  # though the upstream said "stop"
    assert response.usage.input_tokens == 40


def test_deepseek_reasoning_content():
    events = decode(load("stream_deepseek.sse"))
    check_order(events)
    response = assemble(events)
    assert response.parts == [
        Reasoning("The user greets me.", meta={"chat": {"field": "reasoning_content"}}),
        Text("Hello!")]
    assert response.usage == Usage(30, 12, reasoning_tokens=7)
    assert response.id == "ds-1" and response.model == "deepseek-reasoner"


def test_vllm_reasoning_field_and_length():
    response = assemble(decode(load("stream_vllm.sse")))
    assert response.parts[0] == Reasoning("think", meta={"chat": {"field": "reasoning"}})
    assert response.stop == StopReason.LENGTH


def test_mid_stream_error():
    events = decode(load("stream_error.sse"))
    assert isinstance(events[-1], StreamError)
    assert events[-1].error.kind == "rate_limit"


def test_truncated_stream_is_an_error_but_missing_done_is_not():
    raw = load("stream_deepseek.sse").replace(b"data: [DONE]\n\n", b"")
    assert isinstance(decode(raw)[-1], MessageStop)
    cut = raw[: raw.index(b'"finish_reason":"stop"') - 200]
    whole_events = cut[: cut.rindex(b"\n\n") + 2]
    assert isinstance(decode(whole_events)[-1], StreamError)
    with pytest.raises(UpstreamFault, match="not JSON"):  # cut inside an event's JSON
        decode(cut)


def test_custom_tool_sent_as_function_comes_back_custom():
    request = Request(model="m", tools=[Tool("apply_patch", kind="custom"),
                                        Tool("spawn", namespace="agents__")])
    sse = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in [
        {"id": "x", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "c1",
         "type": "function", "function": {"name": "apply_patch", "arguments": '{"inp'}}]}}]},
        {"id": "x", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {
         "arguments": 'ut":"*** Begin Patch\\n"}'}}]}}]},
        {"id": "x", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "id": "c2",
         "function": {"name": "agents__spawn", "arguments": "{}"}}]}}]},
        {"id": "x", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]) + b"data: [DONE]\n\n"
    events = decode(sse, request)
    check_order(events)
    assert assemble(events).parts == [
        ToolCall("c1", "apply_patch", "*** Begin Patch\n", kind="custom"),
        ToolCall("c2", "spawn", "{}", namespace="agents__")]


@pytest.mark.parametrize("data", ["not json", "[1,2]", '{"choices":"x"}',
                                  '{"choices":[{"delta":{"tool_calls":[1,{"index":"a"}]}}]}'])
def test_garbage_chunks_are_upstream_faults(data):
    decoder = chat.stream_decoder(Request(model="m"))
    from byecore_cli.codecs.sse import SSEEvent
    with pytest.raises(UpstreamFault):
        decoder.feed(SSEEvent(data))


# --- encoding ---------------------------------------------------------------------------

def test_encoded_stream_read_by_the_sdk():
    upstream = assemble(decode(load("stream_openai_tools.sse"), CLIENT))
    raw = encode(explode(upstream))
    final = sdk_final(raw)
    message = final.choices[0].message
    assert final.model == "my-alias"
    assert message.content == "I'll check both."
    assert [(c.id, c.function.name, json.loads(c.function.arguments))
            for c in message.tool_calls] == [
        ("call_A", "bash", {"command": "ls", "description": "List"}),
        ("call_B", "read", {"filePath": "/repo/a.py"})]
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.usage.prompt_tokens == 500 and final.usage.total_tokens == 540


def test_chunk_order_on_the_wire():
    raw = encode(decode(load("stream_openai_tools.sse"), CLIENT))
    parsed = chunks(raw)
    assert parsed[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert parsed[-1] == "[DONE]"
    usage_chunk, finish_chunk = parsed[-2], parsed[-3]
    assert usage_chunk["choices"] == [] and usage_chunk["usage"]["total_tokens"] == 540
    assert finish_chunk["choices"][0]["finish_reason"] == "tool_calls"
    calls = [c["choices"][0]["delta"]["tool_calls"][0] for c in parsed[1:-3]
             if "tool_calls" in c["choices"][0]["delta"]]
    assert calls[0] == {"index": 0, "id": "call_A", "type": "function",
                        "function": {"name": "bash", "arguments": ""}}
    assert [c["index"] for c in calls] == [0, 0, 0, 1, 1, 1]
    assert all(set(c) == {"index", "function"} for c in calls[1:3])
    assert all(c["model"] == "my-alias" and c["object"] == "chat.completion.chunk"
               for c in parsed[:-1])


def test_no_usage_chunk_unless_asked():
    request = Request(model="m", stream=True)
    parsed = chunks(encode(decode(load("stream_deepseek.sse")), request))
    assert parsed[-1] == "[DONE]" and parsed[-2]["choices"][0]["finish_reason"] == "stop"
    assert all(c == "[DONE]" or c["choices"] for c in parsed)


def test_reasoning_and_round_trip_through_encoder():
    events = decode(load("stream_deepseek.sse"))
    raw = encode(events)
    deltas = [c["choices"][0]["delta"] for c in chunks(raw)[:-1] if c["choices"]]
    assert deltas[1] == {"reasoning_content": "The user "}
    again = decode(raw, CLIENT)
    check_order(again)
    first, second = assemble(events), assemble(again)
    assert second.parts == first.parts and second.usage == first.usage
    final = sdk_final(raw)
    assert final.choices[0].message.content == "Hello!"


@pytest.mark.parametrize("name", ["stream_interleaved.sse", "stream_gemini.sse",
                                  "stream_vllm.sse", "stream_openai_tools.sse"])
def test_stream_round_trip(name):
    events = decode(load(name), CLIENT)
    again = decode(encode(events), CLIENT)
    check_order(again)
    a, b = assemble(events), assemble(again)
    assert (a.parts, a.stop, a.usage) == (b.parts, b.stop, b.usage)


def test_custom_call_wrapped_on_the_fly_for_a_function_client():
    request = Request(model="m", stream=True)  # the client's apply_patch is a function
    raw = encode([MessageStart("r", "up"),
                  PartStart(0, ToolCall("c1", "apply_patch", kind="custom")),
                  ToolArgsDelta(0, '*** Begin Patch\n"quoted"\n'), ToolArgsDelta(0, "é\\"),
                  PartStop(0), MessageStop(StopReason.TOOL_CALLS)], request)
    call = sdk_final(raw).choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments) == {"input": '*** Begin Patch\n"quoted"\né\\'}


def test_refusal_stream_and_error_event():
    response = Response("r", "m", [Text("No.", {"chat": {"refusal": True}})], StopReason.REFUSAL)
    raw = encode(explode(response))
    final = sdk_final(raw)
    assert final.choices[0].message.refusal == "No."
    assert final.choices[0].finish_reason == "stop"
    from byecore_cli.hub import ErrorInfo
    raw = encode([MessageStart("r", "m"), StreamError(ErrorInfo(429, "rate_limit", "slow"))])
    last = chunks(raw)[-1]
    assert last == {"error": {"message": "slow", "type": "rate_limit_error", "param": None,
                              "code": "rate_limit_exceeded"}}
    assert b"[DONE]" not in raw
    with pytest.raises(openai.APIError):
        sdk_final(raw)


def test_moonshot_usage_inside_the_last_choice():
    """Kimi's API puts the stream's usage in ``choices[0].usage``, with no top-level key."""
    raw = (b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'
           b'data: {"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop",'
           b'"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}]}\n\n'
           b'data: [DONE]\n\n')
    stop = decode(raw)[-1]
    assert isinstance(stop, MessageStop)
    assert (stop.usage.input_tokens, stop.usage.output_tokens) == (9, 2)
