"""Random and malformed input at the Messages decoders: success, or CodecError for a
request and UpstreamFault for an upstream's answer or stream; nothing else."""

from __future__ import annotations

import contextlib
import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from byecore_cli.codecs import get
from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.codecs.sse import SSEEvent
from byecore_cli.hub import Request, meta_for
from tests.codecs.messages_helpers import assert_valid_request, load
from tests.codecs.mutate import paths, set_at

CODEC = get("messages")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["type", "text", "content", "role", "source", "id", "name", "input",
                         "tool_use_id", "signature", "data", "thinking", "model", "messages",
                         "system", "tools", "tool_choice", "max_tokens", "url", "media_type",
                         "input_schema", "budget_tokens", "effort", "format", "schema"]),
        inner, max_size=5),
    max_leaves=30)
BLOCK_TYPES = ["text", "image", "document", "thinking", "redacted_thinking", "tool_use",
               "tool_result", "server_tool_use", "web_search_tool_result"]


REAL = load("claude_code_request.json")
REAL_PATHS = list(paths(REAL))


# Data the codec keeps verbatim for an Anthropic upstream, which judges it itself: a
# mutation there may legitimately come out invalid, the rest of the request may not.
OPAQUE = {"context_management", "cache_control", "citations", "container", "diagnostics",
          "mcp_servers", "output_config", "billing_header"}


def _opaque(request) -> bool:
    """A block kept verbatim, at the top of a message or inside a tool result."""
    def kept(part) -> bool:
        meta = meta_for(part, "messages")
        return "block" in meta or "document" in meta or any(
            kept(inner) for inner in getattr(part, "content", None) or ()
            if not isinstance(inner, str))

    return any(kept(p) for m in request.messages for p in m.parts)


def _decode_ok_or_codec_error(body, path=()):
    try:
        request = CODEC.decode_request(body)
    except CodecError:
        return
    encoded = CODEC.encode_request(request)
    # a thinking mode the codec does not know is kept verbatim too (request.py)
    verbatim = "thinking" in request.extras.get("messages", {})
    if not _opaque(request) and not verbatim and not OPAQUE.intersection(map(str, path)):
        assert_valid_request(encoded)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(json_values)
def test_random_bodies(body):
    _decode_ok_or_codec_error(body)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(REAL_PATHS), json_values)
def test_mutated_claude_code_request(path, new):
    _decode_ok_or_codec_error(set_at(copy.deepcopy(REAL), path, new), path)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.fixed_dictionaries({"type": st.sampled_from(BLOCK_TYPES)},
                                      optional={"text": json_values, "source": json_values,
                                                "id": json_values, "input": json_values,
                                                "content": json_values,
                                                "signature": json_values}), max_size=4),
       st.sampled_from(["user", "assistant", "system"]))
def test_random_content_blocks(blocks, role):
    _decode_ok_or_codec_error({"model": "m", "max_tokens": 10,
                               "messages": [{"role": role, "content": blocks}]})


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(json_values)
def test_random_response_bodies(body):
    with contextlib.suppress(UpstreamFault):
        CODEC.decode_response(body, Request("m"))


EVENT_TYPES = ["message_start", "content_block_start", "content_block_delta",
               "content_block_stop", "message_delta", "message_stop", "ping", "error"]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.tuples(st.sampled_from(EVENT_TYPES), json_values), max_size=12))
def test_random_streams_never_crash(items):
    decoder = CODEC.stream_decoder(Request("m"))
    encoder = CODEC.stream_encoder(Request("m"))
    try:
        for kind, payload in items:
            data = payload if isinstance(payload, dict) else {"x": payload}
            data = {**data, "type": kind}
            for event in decoder.feed(SSEEvent(json.dumps(data), kind)):
                encoder.feed(event)
        for event in decoder.flush():
            encoder.feed(event)
    except UpstreamFault:
        return
    encoder.flush()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.integers(min_value=100, max_value=599))
def test_random_error_bodies(body, status):
    assert CODEC.decode_error(status, body).kind
