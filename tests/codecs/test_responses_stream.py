"""Responses streams: the decoder on recorded and quirky upstream SSE, the encoder's event
order (what Codex and the openai SDK need), and both through the SDK's accumulator."""

from __future__ import annotations

import json

from byecore_cli.codecs.sse import encode_event
from byecore_cli.hub import (
    ErrorInfo,
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
    ToolArgsDelta,
    ToolCall,
    Usage,
    meta_for,
)
from byecore_cli.hub.assemble import assemble, explode
from byecore_cli.hub.tools import wrap_custom_input
from tests.codecs.responses_helpers import (
    CODEC,
    decode_stream,
    encode_stream,
    raw,
    sdk_stream,
    sse_payloads,
)

REQUEST = Request(model="gpt-5.5", stream=True)
PATCH = "*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n"


def sse(*payloads: dict) -> bytes:
    return b"".join(encode_event(json.dumps(p), p["type"]) for p in payloads)


# --- decoder -------------------------------------------------------------------------

def test_decoder_on_a_recorded_o3_stream():
    events = decode_stream(raw("o3_stream.sse"), REQUEST)
    kinds = [type(e).__name__ for e in events]
    assert kinds[:2] == ["MessageStart", "PartStart"] and kinds[-1] == "MessageStop"
    starts = [e for e in events if isinstance(e, PartStart)]
    assert [s.index for s in starts] == [0, 1, 2]
    assert isinstance(starts[2].part, ToolCall) and starts[2].part.arguments == ""
    assert all(e.text for e in events if isinstance(e, (TextDelta, ReasoningDelta,
                                                        ToolArgsDelta)))  # no empty deltas
    assert len([e for e in events if isinstance(e, ToolArgsDelta)]) == 3  # streamed as they come
    # the same answer as the non-streaming body, whatever the chunking
    whole = CODEC.decode_response(sse_payloads(raw("o3_stream.sse"))[-1]["response"], REQUEST)
    for chunk in (None, 1, 7):
        got = assemble(decode_stream(raw("o3_stream.sse"), REQUEST, chunk))
        assert got.parts == whole.parts and got.usage == whole.usage and got.stop == whole.stop


def test_decoder_survives_upstream_quirks():
    events = decode_stream(raw("quirks_stream.sse"), REQUEST)
    resp = assemble(events)
    call, patch, reasoning = resp.parts
    assert call.arguments == '{"task":"x"}' and call.namespace == "multi_agent_v1"
    assert patch.kind == "custom" and patch.arguments.startswith("*** Begin Patch")
    assert meta_for(reasoning, "responses") == {"id": "rs_q3", "encrypted_content": "enc-q3"}
    assert resp.stop == StopReason.TOOL_CALLS and resp.usage.total_tokens == 15


def test_items_only_in_the_final_output_and_no_created():
    data = sse({"type": "response.completed", "response": {
        "id": "resp_z", "status": "completed", "output": [
            {"type": "message", "id": "msg_z", "role": "assistant",
             "content": [{"type": "output_text", "text": "late"}]}]}})
    resp = assemble(decode_stream(data, REQUEST))
    assert resp.parts[0].text == "late" and resp.id == "resp_z"


def test_truncated_failed_and_error_streams_end_with_stream_error():
    cut = decode_stream(raw("o3_stream.sse")[:2000], REQUEST)
    assert isinstance(cut[-1], StreamError) and cut[-1].error.status == 502
    failed = decode_stream(sse({"type": "response.failed", "response": {
        "id": "r", "status": "failed",
        "error": {"code": "context_length_exceeded", "message": "Your input exceeds..."}}}),
        REQUEST)
    assert failed[-1].error.kind == "context_overflow"
    error = decode_stream(sse({"type": "error", "code": "rate_limit_exceeded",
                               "message": "Rate limit reached. Please try again in 1.5s."}),
                          REQUEST)
    assert error[-1].error.kind == "rate_limit" and error[-1].error.retry_after == 1.5


# --- encoder -------------------------------------------------------------------------

def foreign_events() -> list:
    """What an Anthropic or Chat upstream decoder hands over for a Codex turn."""
    return [
        MessageStart("msg_01", "claude-sonnet"),
        PartStart(0, Reasoning("")), ReasoningDelta(0, "Think "), ReasoningDelta(0, "hard."),
        PartStop(0, {"messages": {"signature": "sig-1"}}),
        PartStart(1, Text("")), TextDelta(1, "Hello "), TextDelta(1, "there."), PartStop(1),
        PartStart(2, ToolCall("toolu_1", "exec_command")),
        ToolArgsDelta(2, '{"cmd":'), ToolArgsDelta(2, '"ls"}'), PartStop(2),
        PartStart(3, ToolCall("toolu_2", "apply_patch", kind="custom")),
        *[ToolArgsDelta(3, c) for c in (wrap_custom_input(PATCH)[:9],
                                        wrap_custom_input(PATCH)[9:])],
        PartStop(3),
        MessageStop(StopReason.TOOL_CALLS, Usage(500, 40, cache_read_tokens=100,
                                                 reasoning_tokens=12)),
    ]


def check_order(payloads: list[dict]) -> None:
    """The ordering rules Codex relies on (see stream_encode.py)."""
    assert [p["sequence_number"] for p in payloads] == list(range(len(payloads)))
    assert payloads[0]["type"] == "response.created"
    terminal = payloads[-1]
    assert terminal["type"] in ("response.completed", "response.incomplete", "response.failed")
    state: dict[int, str] = {}
    done_items = []
    current = current_id = None
    for p in payloads[1:-1]:
        index = p.get("output_index")
        if p["type"] == "response.output_item.added":
            assert current is None and index == len(state)  # no interleaving, 0, 1, 2…
            state[index], current, current_id = "open", index, p["item"]["id"]
        elif p["type"] == "response.output_item.done":
            assert current == index and state[index] == "open"
            assert p["item"]["id"] == current_id
            state[index], current = "done", None
            done_items.append(p["item"])
        elif index is not None:
            assert index == current and p["item_id"] == current_id, p  # only the open item
    if terminal["type"] != "response.failed":
        assert current is None and terminal["response"]["output"] == done_items
        usage = terminal["response"]["usage"]
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
        assert terminal["response"]["id"] == payloads[0]["response"]["id"]


def test_encoder_order_and_custom_call_unwrapped():
    data = encode_stream(foreign_events(), REQUEST)
    payloads = sse_payloads(data)
    check_order(payloads)
    types = [p["type"] for p in payloads]
    first_custom_delta = types.index("response.custom_tool_call_input.delta")
    assert payloads[first_custom_delta]["delta"] == PATCH  # raw, unwrapped, in one piece
    assert types.count("response.function_call_arguments.delta") == 2  # not buffered
    rs, msg, fc, ctc = payloads[-1]["response"]["output"]
    assert rs["summary"][0]["text"] == "Think hard." and rs["encrypted_content"]
    assert msg["content"][0]["text"] == "Hello there."
    assert fc["arguments"] == '{"cmd":"ls"}' and fc["call_id"] == "toolu_1"
    assert ctc == {"id": ctc["id"], "type": "custom_tool_call", "call_id": "toolu_2",
                   "name": "apply_patch", "input": PATCH}
    assert payloads[-1]["response"]["model"] == "gpt-5.5"
    ids = [p["item"]["id"] for p in payloads if p["type"] == "response.output_item.added"]
    assert len(set(ids)) == 4


def test_sdk_accumulator_reads_the_encoded_stream():
    events, final = sdk_stream(encode_stream(foreign_events(), REQUEST))
    assert final.output_text == "Hello there."
    call = next(o for o in final.output if o.type == "function_call")
    assert json.loads(call.arguments) == {"cmd": "ls"}
    custom = next(o for o in final.output if o.type == "custom_tool_call")
    assert custom.input == PATCH
    assert final.usage.total_tokens == 540 and final.usage.input_tokens_details.cached_tokens == 100
    assert final.status == "completed"


def test_round_trip_through_encoder_and_decoder():
    original = decode_stream(raw("o3_stream.sse"), REQUEST)
    encoded = encode_stream(original, REQUEST)
    check_order(sse_payloads(encoded))
    _, final = sdk_stream(encoded)
    assert final.output_text == "I'll run the tests."
    again = assemble(decode_stream(encoded, REQUEST))
    before = assemble(original)
    assert again.parts == before.parts and again.usage == before.usage


def test_explode_of_a_non_streaming_upstream():
    resp = Response("r1", "m", [Text("hi"), ToolCall("c1", "f", '{"a":1}')],
                    usage=Usage(3, 4))
    payloads = sse_payloads(encode_stream(explode(resp), REQUEST))
    check_order(payloads)
    assert payloads[-1]["type"] == "response.completed"


def test_length_is_incomplete_and_errors_are_failed():
    events = [MessageStart("r", "m"), PartStart(0, Text("")), TextDelta(0, "cut"), PartStop(0),
              MessageStop(StopReason.LENGTH, Usage(1, 2))]
    last = sse_payloads(encode_stream(events, REQUEST))[-1]
    assert last["type"] == "response.incomplete"
    assert last["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    events = [MessageStart("r", "m"), PartStart(0, ToolCall("c", "f")), ToolArgsDelta(0, "{"),
              StreamError(ErrorInfo(400, "context_overflow", "prompt is too long"))]
    payloads = sse_payloads(encode_stream(events, REQUEST))
    check_order(payloads)
    assert payloads[-1]["response"]["error"]["code"] == "context_length_exceeded"
    assert "response.output_item.done" not in [p["type"] for p in payloads]  # no half call


def test_stream_that_stops_without_message_stop_fails_so_codex_retries():
    payloads = sse_payloads(encode_stream([MessageStart("r", "m"), PartStart(0, Text(""))],
                                          REQUEST))
    assert payloads[-1]["type"] == "response.failed"
    assert payloads[-1]["response"]["error"]["code"] == "server_error"


def test_encode_stream_error_before_anything_was_sent():
    payloads = sse_payloads(CODEC.encode_stream_error(
        ErrorInfo(400, "context_overflow", "input too long")))
    assert [p["type"] for p in payloads] == ["response.created", "response.failed"]
    assert payloads[1]["response"]["error"]["code"] == "context_length_exceeded"
    assert payloads[0]["response"]["id"] == payloads[1]["response"]["id"]
