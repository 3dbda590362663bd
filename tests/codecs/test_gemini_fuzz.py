"""Random and malformed input at the Gemini decoders: success, or CodecError for a request
and UpstreamFault for an upstream's answer or stream chunk; nothing else."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.codecs.gemini import CODEC
from byecore_cli.codecs.sse import SSEEvent
from byecore_cli.hub import Request, Tool
from byecore_cli.hub.assemble import Assembler, StreamFailed
from tests.codecs.gemini_helpers import load
from tests.codecs.mutate import paths, set_at

KEYS = ["contents", "role", "parts", "text", "thought", "thoughtSignature", "functionCall",
        "functionResponse", "name", "args", "id", "response", "inlineData", "fileData",
        "mimeType", "data", "fileUri", "tools", "functionDeclarations", "parameters",
        "parametersJsonSchema", "toolConfig", "functionCallingConfig", "mode",
        "generationConfig", "thinkingConfig", "thinkingBudget", "candidates", "content",
        "finishReason", "usageMetadata", "promptTokenCount", "error", "type", "properties"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner,
                                                                max_size=5),
    max_leaves=30)
REQUEST_FIXTURE = load("gemini_cli_request.json")
RESPONSE_FIXTURE = load("response_tools.json")
FUZZ = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
HUB = Request("gemini-2.5-pro", tools=[Tool("list_directory"), Tool("glob")])


def _request_ok_or_codec_error(body) -> None:
    try:
        request = CODEC.decode_request(body)
    except CodecError:
        return
    json.dumps(CODEC.encode_request(request))  # whatever decodes also encodes


def _response_ok_or_fault(body) -> None:
    try:
        response = CODEC.decode_response(body, HUB)
    except UpstreamFault:
        return
    CODEC.encode_response(response, HUB)


@FUZZ
@given(json_values)
def test_random_request_bodies(body):
    _request_ok_or_codec_error({"model": "m", **body} if isinstance(body, dict) else body)


@FUZZ
@given(st.sampled_from(list(paths(REQUEST_FIXTURE))), json_values)
def test_mutated_gemini_cli_request(path, new):
    _request_ok_or_codec_error(set_at(copy.deepcopy(REQUEST_FIXTURE), path, new))


@FUZZ
@given(st.sampled_from(list(paths(RESPONSE_FIXTURE))), json_values)
def test_mutated_response(path, new):
    _response_ok_or_fault(set_at(copy.deepcopy(RESPONSE_FIXTURE), path, new))


@FUZZ
@given(st.lists(json_values, max_size=5))
def test_random_stream_chunks(chunks):
    decoder = CODEC.stream_decoder(HUB)
    try:
        for chunk in chunks:
            decoder.feed(SSEEvent(json.dumps(chunk)))
        decoder.flush()
    except UpstreamFault:
        pass


parts = st.lists(st.dictionaries(st.sampled_from(["text", "thought", "thoughtSignature",
                                                  "functionCall", "inlineData",
                                                  "executableCode"]), json_values, max_size=3),
                 max_size=3)
shaped_chunk = st.fixed_dictionaries({}, optional={
    "candidates": st.lists(st.fixed_dictionaries({}, optional={
        "content": st.fixed_dictionaries({"parts": parts}),
        "finishReason": st.sampled_from(["STOP", "MAX_TOKENS", "SAFETY", 3, None])}),
        max_size=2),
    "usageMetadata": st.dictionaries(st.sampled_from(["promptTokenCount",
                                                      "candidatesTokenCount"]), json_values),
    "error": json_values})


@FUZZ
@given(st.lists(shaped_chunk, max_size=5))
def test_shaped_stream_chunks(chunks):
    """Whatever decodes follows the hub's event order (the assembler checks it)."""
    decoder = CODEC.stream_decoder(HUB)
    events = []
    try:
        for chunk in chunks:
            events += decoder.feed(SSEEvent(json.dumps(chunk)))
        events += decoder.flush()
    except UpstreamFault:
        return
    assembler = Assembler()
    try:
        for event in events:
            assembler.feed(event)
        assembler.result()
    except StreamFailed:
        pass
