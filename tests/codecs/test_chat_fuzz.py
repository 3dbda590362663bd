"""Random and malformed input at the Chat decoders: success, or CodecError for a request
and UpstreamFault for an upstream's answer; never a crash."""

from __future__ import annotations

import contextlib
import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from byecore_cli.codecs import get
from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.codecs.sse import SSEEvent
from byecore_cli.hub import ErrorInfo, Request, Tool
from tests.codecs.chat_helpers import load, request_problems
from tests.codecs.mutate import paths, set_at

chat = get("chat")
KEYS = ["type", "text", "content", "role", "id", "name", "arguments", "function", "tool_calls",
        "tool_call_id", "image_url", "url", "detail", "index", "delta", "choices", "message",
        "finish_reason", "usage", "reasoning_content", "refusal", "custom", "input", "model",
        "messages", "tools", "tool_choice", "stop", "json_schema", "schema", "error"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(KEYS), inner, max_size=5),
    max_leaves=30)
FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


REAL = load("request_features.json")
REAL_PATHS = list(paths(REAL))
# kept verbatim for a Chat upstream, which judges them itself
OPAQUE = {"metadata", "parameters", "file", "schema", "seed", "n", "store",
          "prompt_cache_key", "format"}


@FAST
@given(json_values)
def test_random_requests(body):
    try:
        hub = chat.decode_request(body)
    except CodecError:
        return
    chat.encode_request(hub)


@FAST
@given(st.sampled_from(REAL_PATHS), json_values)
def test_mutated_real_request(path, value):
    body = set_at(copy.deepcopy(REAL), path, value)
    try:
        hub = chat.decode_request(body)
    except CodecError:
        return
    wire = chat.encode_request(hub)
    # a tool of a type the codec does not know is a vendor's own, kept verbatim
    vendor_tool = any(tool.kind == "hosted" for tool in hub.tools)
    if not OPAQUE & {str(p) for p in path} and not vendor_tool:
        assert request_problems(wire) == [], path


@FAST
@given(json_values)
def test_random_responses(body):
    with contextlib.suppress(UpstreamFault):
        chat.decode_response(body, Request(model="m", tools=[Tool("x", kind="custom")]))


@FAST
@given(st.lists(json_values | st.sampled_from(["[DONE]", "", "not json"]), max_size=8))
def test_random_streams(chunks):
    decoder = chat.stream_decoder(Request(model="m", tools=[Tool("x", kind="custom")]))
    encoder = chat.stream_encoder(Request(model="m"))
    events = []
    try:
        for chunk in chunks:
            data = chunk if isinstance(chunk, str) and chunk in ("[DONE]", "", "not json") \
                else json.dumps(chunk)
            events += decoder.feed(SSEEvent(data))
        events += decoder.flush()
    except UpstreamFault:
        return
    for event in events:
        encoder.feed(event)
    encoder.flush()


@FAST
@given(st.integers(100, 599), st.binary(max_size=64) | json_values.map(
    lambda v: json.dumps(v).encode()))
def test_random_errors(status, body):
    info = chat.decode_error(status, body)
    assert isinstance(info, ErrorInfo) and info.message
    chat.encode_error(info)


def _vendor_tool(path, value) -> bool:
    """A tool of a type Chat does not define is a vendor's own, sent back verbatim."""
    return path[:1] == ("tools",) and (len(path) == 2 and isinstance(value, dict)
                                       or path[2:] == ("type",))


SAMPLES = [None, True, 0, -1, 1.5, "", "abc", [], {}, [{}], {"type": "text"}]


def test_every_path_of_a_real_request_with_every_kind_of_value():
    """Exhaustive where hypothesis samples: each field of a real request, each JSON kind."""
    failures = []
    for path in REAL_PATHS:
        for value in SAMPLES:
            body = set_at(copy.deepcopy(REAL), path, copy.deepcopy(value))
            try:
                wire = chat.encode_request(chat.decode_request(body))
            except CodecError:
                continue
            if not OPAQUE & {str(p) for p in path} and not _vendor_tool(path, value):
                problems = request_problems(wire)
                if problems:
                    failures.append((path, value, problems))
    assert failures == []
