"""An upstream's token counts read the same way in every protocol, answers and streams alike.

One reader (``codecs.base.token_count``) serves chat, responses and messages: a whole
number or an integral float (``12.0``, as JS-built gateways send) is that count, an absent
count is 0, and anything else is the upstream's fault (``UpstreamFault``, a 502 and the next
fallback target), never the client's 400, and it names the field.
"""

from __future__ import annotations

import json

import pytest

from byecore_cli.codecs import get
from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.codecs.sse import SSEEvent
from byecore_cli.hub import MessageStop, Request

PROTOCOLS = ("chat", "responses", "messages")
REQUEST = Request(model="m")
# The output-token field of each protocol's usage, as the fault names it.
OUTPUT_FIELD = {"chat": "usage.completion_tokens", "responses": "usage.output_tokens",
                "messages": "usage.output_tokens"}


def _usage(protocol: str, output) -> dict:
    if protocol == "chat":
        return {"prompt_tokens": 7, "completion_tokens": output}
    return {"input_tokens": 7, "output_tokens": output}


def _body(protocol: str, output) -> dict:
    usage = _usage(protocol, output)
    if protocol == "chat":
        return {"id": "c", "model": "m", "usage": usage, "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "hi"},
             "finish_reason": "stop"}]}
    if protocol == "messages":
        return {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
                "usage": usage}
    return {"id": "resp_1", "object": "response", "status": "completed", "usage": usage,
            "output": [{"type": "message", "id": "msg_1", "role": "assistant", "content": [
                {"type": "output_text", "text": "hi", "annotations": []}]}]}


def _stream(protocol: str, output) -> list[dict]:
    usage = _usage(protocol, output)
    if protocol == "chat":
        return [{"id": "c", "choices": [{"index": 0, "delta": {"role": "assistant",
                                                               "content": "hi"}}]},
                {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                {"id": "c", "choices": [], "usage": usage}]
    if protocol == "messages":
        return [{"type": "message_start", "message": {
                    "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                    "content": [], "usage": {"input_tokens": 7, "output_tokens": 1}}},
                {"type": "content_block_start", "index": 0,
                 "content_block": {"type": "text", "text": ""}},
                {"type": "content_block_delta", "index": 0,
                 "delta": {"type": "text_delta", "text": "hi"}},
                {"type": "content_block_stop", "index": 0},
                {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                 "usage": {"output_tokens": output}},
                {"type": "message_stop"}]
    return [{"type": "response.created", "response": {"id": "resp_1", "status": "in_progress",
                                                       "output": []}},
            {"type": "response.completed", "response": _body("responses", output)}]


def _decode_stream(protocol: str, output) -> MessageStop:
    decoder = get(protocol).stream_decoder(REQUEST)
    events = []
    for payload in _stream(protocol, output):
        events += decoder.feed(SSEEvent(json.dumps(payload)))
    events += decoder.flush()
    assert isinstance(events[-1], MessageStop)
    return events[-1]


def _decode(protocol: str, side: str, output):
    if side == "answer":
        return get(protocol).decode_response(_body(protocol, output), REQUEST).usage
    return _decode_stream(protocol, output).usage


READABLE = [(12, 12), (12.0, 12), (0, 0), (0.0, 0), (None, 0)]
MALFORMED = ["12", True, False, -1, -3.0, 1.5, float("nan"), float("inf"), [12], {"n": 12}]


@pytest.mark.parametrize("side", ["answer", "stream"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(("value", "count"), READABLE)
def test_readable_counts_are_the_same_count_everywhere(protocol, side, value, count):
    usage = _decode(protocol, side, value)
    assert usage.output_tokens == count
    assert usage.input_tokens == 7


@pytest.mark.parametrize("side", ["answer", "stream"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("value", MALFORMED, ids=repr)
def test_malformed_counts_are_the_upstreams_fault_everywhere(protocol, side, value):
    with pytest.raises(UpstreamFault) as raised:
        _decode(protocol, side, value)
    fault = raised.value
    assert not isinstance(fault, CodecError)
    assert fault.where == OUTPUT_FIELD[protocol]
    info = fault.info()
    assert info.status == 502 and OUTPUT_FIELD[protocol] in info.message


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_bad_count_in_the_details_names_its_full_path(protocol):
    body = _body(protocol, 3)
    if protocol == "chat":
        body["usage"]["completion_tokens_details"] = {"reasoning_tokens": "2"}
        where = "usage.completion_tokens_details.reasoning_tokens"
    elif protocol == "responses":
        body["usage"]["output_tokens_details"] = {"reasoning_tokens": "2"}
        where = "usage.output_tokens_details.reasoning_tokens"
    else:
        body["usage"]["output_tokens_details"] = {"thinking_tokens": "2"}
        where = "usage.output_tokens_details.thinking_tokens"
    with pytest.raises(UpstreamFault) as raised:
        get(protocol).decode_response(body, REQUEST)
    assert raised.value.where == where


def test_responses_usage_in_floats_as_js_gateways_send_it():
    body = _body("responses", 5.0)
    body["usage"].update(input_tokens=1200.0, input_tokens_details={"cached_tokens": 1024.0},
                         output_tokens_details={"reasoning_tokens": 3.0})
    usage = get("responses").decode_response(body, REQUEST).usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens,
            usage.reasoning_tokens) == (1200, 5, 1024, 3)
    assert all(type(n) is int for n in (usage.input_tokens, usage.output_tokens,
                                        usage.cache_read_tokens, usage.reasoning_tokens))
