"""Gemini streams both ways: SSE chunks → hub events (at every split), hub events → SSE the
google-genai SDK reads."""

from __future__ import annotations

import base64
import json

import pytest

from byecore_cli.codecs.base import UpstreamFault
from byecore_cli.codecs.gemini import CODEC
from byecore_cli.codecs.gemini.parts import minted_meta
from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.hub import (
    ErrorInfo,
    MessageStart,
    MessageStop,
    PartStart,
    PartStop,
    Reasoning,
    Request,
    Response,
    StopReason,
    StreamError,
    Text,
    Tool,
    ToolCall,
    Usage,
    UsageUpdate,
)
from byecore_cli.hub.assemble import assemble, explode
from tests.codecs.gemini_helpers import (
    assert_valid_response,
    decode_stream,
    encode_stream,
    load,
    sdk_stream,
    sse_payloads,
)

REQUEST = Request("gemini-2.5-flash", tools=[Tool("run_shell_command")])
STREAM_SIG = "CiQBVKhc7lN0cmVhbWVkLXNpZ25hdHVyZS1ieXRlcw=="


def _plain(events: list) -> list:
    """Events with made-up call ids blanked (they are random per decode)."""
    out = []
    for event in events:
        if isinstance(event, PartStart) and isinstance(event.part, ToolCall):
            event = PartStart(event.index, ToolCall("", event.part.name, event.part.arguments,
                                                    meta=event.part.meta))
        out.append(event)
    return out


def test_tool_stream_decodes_in_hub_order():
    events = decode_stream(load("stream_tools.sse"), REQUEST)
    assert isinstance(events[0], MessageStart) and events[0].id == "SfNWaaKyB_-0xN8P0ZbO0Ag"
    assert events[0].usage == Usage(input_tokens=900)  # the prompt, counted on chunk one
    starts = [e.part for e in events if isinstance(e, PartStart)]
    assert [type(p).__name__ for p in starts] == ["Reasoning", "Text", "ToolCall"]
    assert starts[2].meta == {"gemini": {"thoughtSignature": STREAM_SIG}}
    assert isinstance(events[-1], MessageStop)
    assert sum(isinstance(e, MessageStop) for e in events) == 1
    response = assemble(events)
    thought, text, call = response.parts
    assert thought.text == "**Looking around**\n\nI should list the files."
    assert text.text == "Sure — let me check the repo."
    assert json.loads(call.arguments) == {"command": "ls -la", "description": "List files"}
    assert response.stop == StopReason.TOOL_CALLS
    assert response.usage == Usage(900, 100, cache_read_tokens=512, reasoning_tokens=70)


@pytest.mark.parametrize("name", ["stream_tools.sse", "stream_text.sse"])
def test_every_split_point_gives_the_same_events(name):
    raw = load(name)
    whole = _plain(decode_stream(raw, REQUEST))
    for cut in range(1, len(raw)):
        sse, decoder = SSEDecoder(), CODEC.stream_decoder(REQUEST)
        events = []
        for piece in (raw[:cut], raw[cut:]):
            for event in sse.feed(piece):
                events += decoder.feed(event)
        for event in sse.flush():
            events += decoder.feed(event)
        assert _plain(events + decoder.flush()) == whole, cut
    assert _plain(decode_stream(raw, REQUEST, size=1)) == whole


def test_text_signature_on_an_empty_last_part_is_kept_on_the_text():
    response = assemble(decode_stream(load("stream_text.sse"), REQUEST))
    signature = {"gemini": {"thoughtSignature": "EvMBCvABAXLI2nyTextSignature"}}
    assert response.parts == [Text("Hello, world", signature)]
    assert response.usage == Usage(5, 3)


def test_gemini_stream_round_trip_is_read_by_the_sdk():
    raw = load("stream_tools.sse")
    out = encode_stream(decode_stream(raw, REQUEST), REQUEST)
    for payload in sse_payloads(out):
        assert_valid_response(payload)
    assert b"\r\n\r\n" in out and b"gemini_call_" not in out
    chunks = sdk_stream(out)
    text = "".join(p.text for c in chunks for p in (c.candidates[0].content.parts
                                                    if c.candidates[0].content else [])
                   if p.text and not p.thought)
    assert text == "Sure — let me check the repo."
    calls = [fc for c in chunks for fc in (c.function_calls or [])]
    assert [(fc.name, fc.args) for fc in calls] == [
        ("run_shell_command", {"command": "ls -la", "description": "List files"})]
    signed = [p for c in chunks if c.candidates[0].content
              for p in c.candidates[0].content.parts if p.function_call]
    assert signed[0].thought_signature == base64.b64decode(STREAM_SIG)
    last = chunks[-1]
    assert last.candidates[0].finish_reason.value == "STOP"
    assert last.usage_metadata.prompt_token_count == 900
    assert last.usage_metadata.thoughts_token_count == 70
    assert last.usage_metadata.candidates_token_count == 30


def test_foreign_response_streamed_to_a_gemini_client():
    response = Response("msg_1", "claude", [
        Reasoning("think", meta={"messages": {"signature": "s"}}), Text("Hi "),
        ToolCall("toolu_1", "run_shell_command", '{"command": "pwd"}')],
        StopReason.TOOL_CALLS, usage=Usage(10, 5))
    out = encode_stream(explode(response), REQUEST)
    payloads = sse_payloads(out)
    for payload in payloads:
        assert_valid_response(payload)
    parts = [p for c in payloads for p in c["candidates"][0].get("content", {}).get("parts", [])]
    # the thought's foreign signature comes last in the thought, minted (parts.py)
    minted = parts.pop(1)
    assert minted_meta(minted.pop("thoughtSignature")) == {"messages": {"signature": "s"}}
    assert minted == {"text": "", "thought": True}
    assert parts == [{"text": "think", "thought": True}, {"text": "Hi "},
                     {"functionCall": {"name": "run_shell_command", "args": {"command": "pwd"},
                                       "id": "toolu_1"}}]
    assert payloads[-1]["candidates"][0]["finishReason"] == "STOP"
    assert payloads[-1]["usageMetadata"]["totalTokenCount"] == 15
    assert all(c["modelVersion"] == "gemini-2.5-flash" and c["responseId"] == "msg_1"
               for c in payloads)
    back = assemble(decode_stream(out, REQUEST))
    assert [type(p).__name__ for p in back.parts] == ["Reasoning", "Text", "ToolCall"]
    assert back.parts[2].id == "toolu_1"


def test_usage_after_the_finish_still_counts():
    raw = (b'data: {"candidates":[{"content":{"parts":[{"text":"ok"}]},"finishReason":"STOP"}]}'
           b'\r\n\r\n'
           b'data: {"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1}}\r\n\r\n')
    events = decode_stream(raw, REQUEST)
    stop = [e for e in events if isinstance(e, MessageStop)]
    assert len(stop) == 1 and stop[0].usage == Usage(3, 1)
    assert isinstance(events[-1], MessageStop)


def test_error_chunk_and_truncation_end_the_stream_with_an_error():
    raw = (b'data: {"candidates":[{"content":{"parts":[{"text":"par"}]}}]}\r\n\r\n'
           b'data: {"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}\r\n\r\n')
    events = decode_stream(raw, REQUEST)
    assert isinstance(events[-1], StreamError) and events[-1].error.kind == "overloaded"
    cut = decode_stream(b'data: {"candidates":[{"content":{"parts":[{"text":"a"}]}}]}\n\n',
                        REQUEST)
    assert isinstance(cut[-1], StreamError) and "finishReason" in cut[-1].error.message


@pytest.mark.parametrize("data", [b"data: nope\n\n", b"data: [1]\n\n",
                                  b'data: {"candidates":[{"content":{"parts":[7]}}]}\n\n',
                                  b'data: {"candidates":"x"}\n\n'])
def test_garbage_chunks_are_upstream_faults(data):
    with pytest.raises(UpstreamFault):
        decode_stream(data, REQUEST)


def test_encoder_error_and_early_end():
    encoder = CODEC.stream_encoder(REQUEST)
    encoder.feed(MessageStart("r", "m"))
    encoder.feed(PartStart(0, Text("")))
    out = encoder.feed(StreamError(ErrorInfo(429, "rate_limit", "slow")))
    assert json.loads(out) == {"error": {"code": 429, "message": "slow",
                                         "status": "RESOURCE_EXHAUSTED"}}
    assert encoder.flush() == b""
    cut = CODEC.stream_encoder(REQUEST)
    cut.feed(MessageStart("r", "m"))
    assert json.loads(cut.flush())["error"]["status"] == "INTERNAL"


def test_usage_update_events_are_not_lost():
    events = [MessageStart("r", "m"), PartStart(0, Text("")), PartStop(0),
              UsageUpdate(Usage(8, 2)), MessageStop(StopReason.END, Usage(8, 2))]
    payloads = sse_payloads(encode_stream(events, REQUEST))
    assert payloads == [{"candidates": [{"finishReason": "STOP", "index": 0}],
                         "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 2,
                                           "totalTokenCount": 10},
                         "responseId": "r", "modelVersion": "gemini-2.5-flash"}]


def test_wire_facts_for_the_proxy():
    from byecore_cli.codecs.gemini import WIRE

    raw = load("stream_tools.sse")
    with_pings = raw.replace(b"\r\n\r\ndata:", b"\r\n\r\n" + WIRE.keepalive + b"data:")
    assert with_pings != raw
    assert _plain(decode_stream(with_pings, REQUEST)) == _plain(decode_stream(raw, REQUEST))
    assert len(sdk_stream(with_pings)) == len(sdk_stream(raw))
    assert WIRE.auth_headers("k") == {"x-goog-api-key": "k"}
    last = sse_payloads(raw)[-1]
    assert WIRE.answer_usage(last) == Usage(900, 100, cache_read_tokens=512,
                                            reasoning_tokens=70)
    assert WIRE.answer_usage({"candidates": []}) is None
    assert WIRE.answer_usage({"usageMetadata": {"promptTokenCount": "x"}}) is None


def _finish_chunks(reason: str, message: str | None = None) -> bytes:
    last: dict = {"content": {"role": "model", "parts": []}, "finishReason": reason, "index": 0}
    if message:
        last["finishMessage"] = message
    chunks = [{"candidates": [{"content": {"role": "model", "parts": [{"text": "Let me"}]},
                               "index": 0}], "responseId": "r1"},
              {"candidates": [last], "responseId": "r1",
               "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2}}]
    return b"".join(b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in chunks)


@pytest.mark.parametrize(("reason", "stop"), [
    ("MALFORMED_FUNCTION_CALL", StopReason.END),
    ("UNEXPECTED_TOOL_CALL", StopReason.END),
    ("SAFETY", StopReason.CONTENT_FILTER),
    ("RECITATION", StopReason.CONTENT_FILTER),
    ("PROHIBITED_CONTENT", StopReason.CONTENT_FILTER),
    ("MAX_TOKENS", StopReason.LENGTH),
    ("STOP", StopReason.END),
])
def test_streamed_and_whole_finish_reasons_agree_and_go_back_exactly(reason, stop):
    raw = _finish_chunks(reason, "Malformed function call: print(x" if "CALL" in reason
                         else None)
    events = decode_stream(raw, REQUEST)
    streamed = [e for e in events if isinstance(e, MessageStop)]
    assert len(streamed) == 1 and streamed[0].stop == stop
    # the same answer as one body (the last chunk's candidate, the text folded in)
    body = sse_payloads(raw)[-1]
    body["candidates"][0]["content"]["parts"] = [{"text": "Let me"}]
    whole = CODEC.decode_response(body, REQUEST)
    assert whole.stop == stop and whole.meta == streamed[0].meta
    assert assemble(events).stop == stop
    # back to a Gemini client: the upstream's own word, streamed and whole
    sent = sse_payloads(encode_stream(events, REQUEST))
    for chunk in sent:
        assert_valid_response(chunk)
    assert sent[-1]["candidates"][0]["finishReason"] == reason
    assert sent[-1]["candidates"][0].get("finishMessage") == body["candidates"][0].get(
        "finishMessage")
    assert CODEC.encode_response(whole, REQUEST)["candidates"][0]["finishReason"] == reason


@pytest.mark.parametrize(("line", "status", "kind", "retry"), [
    (b'data: {"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED",'
     b'"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"17s"}]}}',
     429, "rate_limit", 17.0),
    (b'data: [{"error":{"code":503,"message":"The model is overloaded.","status":'
     b'"UNAVAILABLE"}}]', 503, "overloaded", None),
    (b'data: {"error":{"code":500,"message":"An internal error has occurred.",'
     b'"status":"INTERNAL"}}', 500, "api_error", None),
    (b'data: {"error":"upstream gateway timeout"}', 500, "api_error", None),
])
def test_an_error_event_mid_stream_keeps_its_status_and_kind(line, status, kind, retry):
    raw = b'data: {"candidates":[{"content":{"parts":[{"text":"par"}]}}]}\r\n\r\n' + line + \
        b"\r\n\r\n"
    events = decode_stream(raw, REQUEST)
    assert isinstance(events[-1], StreamError), events
    error = events[-1].error
    assert (error.status, error.kind, error.retry_after) == (status, kind, retry)
    assert not any(isinstance(e, MessageStop) for e in events)


def test_a_bare_error_line_is_read_once_the_sse_layer_passes_it_on():
    """Some gateways end the stream with the error JSON on its own line(s), no ``data:``.
    sse.py drops such lines today; the decoder reads them whenever they reach it as an
    event's data, pretty-printed or not."""
    from byecore_cli.codecs.sse import SSEEvent

    decoder = CODEC.stream_decoder(REQUEST)
    decoder.feed(SSEEvent('{"candidates":[{"content":{"parts":[{"text":"a"}]}}]}'))
    bare = json.dumps({"error": {"code": 429, "message": "quota", "status":
                                 "RESOURCE_EXHAUSTED"}}, indent=2)
    events = decoder.feed(SSEEvent(bare))
    assert [type(e) for e in events] == [StreamError]
    assert (events[0].error.status, events[0].error.kind) == (429, "rate_limit")
    assert decoder.flush() == []
