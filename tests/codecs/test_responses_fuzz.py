"""Random and malformed input at every Responses decoder: success, or CodecError for a
request and UpstreamFault for an upstream's answer or stream; nothing else."""

from __future__ import annotations

import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.codecs.sse import SSEEvent
from byecore_cli.hub import Request
from tests.codecs.mutate import mutated
from tests.codecs.responses_helpers import CODEC, load, raw, sse_payloads

KEYS = ["type", "role", "content", "text", "input", "output", "call_id", "name", "arguments",
        "id", "summary", "encrypted_content", "image_url", "detail", "tools", "format",
        "namespace", "model", "instructions", "tool_choice", "reasoning", "effort", "status",
        "usage", "item", "delta", "response", "output_index", "error", "code", "message"]
TYPES = ["message", "reasoning", "function_call", "function_call_output", "custom_tool_call",
         "custom_tool_call_output", "input_text", "output_text", "input_image", "input_file",
         "summary_text", "refusal", "namespace", "function", "custom", "web_search",
         "response.output_item.added", "response.output_item.done", "response.completed",
         "response.output_text.delta", "response.function_call_arguments.done",
         "response.reasoning_summary_part.added", "response.content_part.added",
         "response.failed", "error"]
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=6) | st.sampled_from(TYPES),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(KEYS), inner, max_size=6),
    max_leaves=40)
REQUEST = Request(model="m")
SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _request_ok(body):
    try:
        hub = CODEC.decode_request(body)
    except CodecError:
        return
    CODEC.encode_request(hub)  # whatever decodes must encode


@SETTINGS
@given(values)
def test_random_request_bodies(body):
    _request_ok(body)


@SETTINGS
@given(st.data())
def test_mutated_codex_requests(data):
    _request_ok(mutated(load("codex_request.json"), data, values))


@SETTINGS
@given(st.data())
def test_mutated_response_bodies(data):
    base = sse_payloads(raw("o3_stream.sse"))[-1]["response"]
    try:
        hub = CODEC.decode_response(mutated(base, data, values), REQUEST)
    except UpstreamFault:
        return
    CODEC.encode_response(hub, REQUEST)


@SETTINGS
@given(st.data())
def test_mutated_streams(data):
    payloads = sse_payloads(raw("o3_stream.sse"))
    decoder = CODEC.stream_decoder(REQUEST)
    encoder = CODEC.stream_encoder(REQUEST)
    index = data.draw(st.integers(0, len(payloads) - 1))
    payloads[index] = mutated(payloads[index], data, values)
    try:
        for payload in payloads:
            for event in decoder.feed(SSEEvent(json.dumps(payload))):
                encoder.feed(event)
        for event in decoder.flush():
            encoder.feed(event)
    except UpstreamFault:
        return
    encoder.flush()


@SETTINGS
@given(st.lists(values, max_size=8), st.text(max_size=20))
def test_random_stream_events_and_error_bodies(payloads, text):
    decoder = CODEC.stream_decoder(REQUEST)
    with contextlib.suppress(UpstreamFault):
        for payload in payloads:
            decoder.feed(SSEEvent(json.dumps(payload)))
        decoder.feed(SSEEvent(text))
        decoder.flush()
    CODEC.decode_error(400, text.encode())
    for payload in payloads:
        CODEC.decode_error(500, json.dumps(payload).encode())
