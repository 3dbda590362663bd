"""An upstream's token counts read the same way in every protocol, answers and streams alike.

One reader (``codecs.base.token_count``) serves every codec of the registry: a whole
number or an integral float (``12.0``, as JS-built gateways send) is that count, an absent
count is 0, and anything else is the upstream's fault (``UpstreamFault``, a 502 and the next
fallback target), never the client's 400, and it names the field.

And one meaning: each protocol's usage dialects (DeepSeek's ``prompt_cache_hit_tokens``,
Anthropic's exclusive input and cache counts, Gemini's thoughts outside its candidates
count) decode to the same hub figures, and the pass-through's readers (the wire's
``answer_usage`` / ``event_usage``, which the usage log uses) agree with the codec's.
"""

from __future__ import annotations

import json

import pytest

from byecore_cli.codecs import PROTOCOLS, get, wire
from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.codecs.sse import SSEEvent
from byecore_cli.hub import MessageStop, Request, Usage, UsageUpdate

REQUEST = Request(model="m")
# The output-token field of each protocol's usage, as the fault names it.
OUTPUT_FIELD = {"chat": "usage.completion_tokens", "responses": "usage.output_tokens",
                "messages": "usage.output_tokens",
                "gemini": "usageMetadata.candidatesTokenCount"}
# Where each protocol counts reasoning tokens (a bad one must be named in full).
REASONING_FIELD = {"chat": "usage.completion_tokens_details.reasoning_tokens",
                   "responses": "usage.output_tokens_details.reasoning_tokens",
                   "messages": "usage.output_tokens_details.thinking_tokens",
                   "gemini": "usageMetadata.thoughtsTokenCount"}


def _usage(protocol: str, output) -> dict:
    if protocol == "chat":
        return {"prompt_tokens": 7, "completion_tokens": output}
    if protocol == "gemini":
        return {"promptTokenCount": 7, "candidatesTokenCount": output}
    return {"input_tokens": 7, "output_tokens": output}


def _body(protocol: str, output) -> dict:
    return body_with(protocol, _usage(protocol, output))


def body_with(protocol: str, usage: dict) -> dict:
    """A whole text answer ("hi") of ``protocol`` carrying ``usage``."""
    if protocol == "chat":
        return {"id": "c", "model": "m", "usage": usage, "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "hi"},
             "finish_reason": "stop"}]}
    if protocol == "messages":
        return {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
                "usage": usage}
    if protocol == "gemini":
        return {"candidates": [{"content": {"role": "model", "parts": [{"text": "hi"}]},
                                "finishReason": "STOP", "index": 0}],
                "usageMetadata": usage, "modelVersion": "m", "responseId": "r"}
    return {"id": "resp_1", "object": "response", "status": "completed", "usage": usage,
            "output": [{"type": "message", "id": "msg_1", "role": "assistant", "content": [
                {"type": "output_text", "text": "hi", "annotations": []}]}]}


def _stream(protocol: str, output) -> list[dict]:
    return stream_with(protocol, _usage(protocol, output))


def stream_with(protocol: str, usage: dict, cumulative: bool = False) -> list[dict]:
    """A streamed text answer of ``protocol`` whose usage adds up to ``usage``, spread the
    way the protocol spreads it (``cumulative``: an Anthropic message_delta that repeats
    the input counts, as the API does since 2025)."""
    if protocol == "chat":
        return [{"id": "c", "choices": [{"index": 0, "delta": {"role": "assistant",
                                                               "content": "hi"}}]},
                {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                {"id": "c", "choices": [], "usage": usage}]
    if protocol == "messages":
        start = {k: v for k, v in usage.items() if not k.startswith("output")}
        delta = {k: v for k, v in usage.items() if cumulative or k.startswith("output")}
        return [{"type": "message_start", "message": {
                    "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                    "content": [], "usage": {**start, "output_tokens": 1}}},
                {"type": "content_block_start", "index": 0,
                 "content_block": {"type": "text", "text": ""}},
                {"type": "content_block_delta", "index": 0,
                 "delta": {"type": "text_delta", "text": "hi"}},
                {"type": "content_block_stop", "index": 0},
                {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                 "usage": delta},
                {"type": "message_stop"}]
    if protocol == "gemini":  # the prompt counted on every chunk, the rest on the last
        early = {k: v for k, v in usage.items() if k in ("promptTokenCount",
                                                         "cachedContentTokenCount")}
        text = {"content": {"role": "model", "parts": [{"text": "h"}]}, "index": 0}
        return [{"candidates": [text], "usageMetadata": early, "responseId": "r"},
                {**body_with("gemini", usage), "candidates": [
                    {**text, "content": {"role": "model", "parts": [{"text": "i"}]},
                     "finishReason": "STOP"}]}]
    return [{"type": "response.created", "response": {"id": "resp_1", "status": "in_progress",
                                                       "output": []}},
            {"type": "response.completed", "response": body_with("responses", usage)}]


def _decode_stream(protocol: str, output) -> MessageStop:
    return _stop_of(protocol, _stream(protocol, output))


def _stop_of(protocol: str, payloads: list[dict]) -> MessageStop:
    decoder = get(protocol).stream_decoder(REQUEST)
    events = []
    for payload in payloads:
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
def test_a_bad_reasoning_count_names_its_full_path(protocol):
    where = REASONING_FIELD[protocol]
    usage = _usage(protocol, 3)
    *parents, key = where.split(".")[1:]
    at = usage
    for name in parents:
        at = at.setdefault(name, {})
    at[key] = "2"
    with pytest.raises(UpstreamFault) as raised:
        get(protocol).decode_response(body_with(protocol, usage), REQUEST)
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


# -- one meaning, every dialect, both readers ------------------------------------------

# 11 input tokens of which 3 read from the cache, 5 output tokens of which 2 reasoning,
# as each protocol (and vendor) says it.
DIALECTS = {
    "chat": {
        "openai": {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16,
                   "prompt_tokens_details": {"cached_tokens": 3},
                   "completion_tokens_details": {"reasoning_tokens": 2}},
        "deepseek": {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16,
                     "prompt_cache_hit_tokens": 3, "prompt_cache_miss_tokens": 8,
                     "completion_tokens_details": {"reasoning_tokens": 2}},
    },
    "responses": {
        "openai": {"input_tokens": 11, "output_tokens": 5, "total_tokens": 16,
                   "input_tokens_details": {"cached_tokens": 3},
                   "output_tokens_details": {"reasoning_tokens": 2}},
    },
    "messages": {  # input_tokens excludes both cache counts
        "anthropic": {"input_tokens": 4, "cache_read_input_tokens": 3,
                      "cache_creation_input_tokens": 4, "output_tokens": 5,
                      "output_tokens_details": {"thinking_tokens": 2}},
    },
    "gemini": {  # the prompt count includes the cache, the candidates' excludes thoughts
        "google": {"promptTokenCount": 11, "cachedContentTokenCount": 3,
                   "candidatesTokenCount": 3, "thoughtsTokenCount": 2,
                   "totalTokenCount": 16},
    },
}
MEANT = (11, 5, 3, 2)  # input, output, cached, reasoning: the usage log's columns


def figures(usage: Usage | None) -> tuple:
    assert usage is not None
    return (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens,
            usage.reasoning_tokens)


def dialects():
    for protocol in PROTOCOLS:
        for name, usage in DIALECTS[protocol].items():
            yield pytest.param(protocol, usage, id=f"{protocol}-{name}")


@pytest.mark.parametrize(("protocol", "usage"), list(dialects()))
def test_every_dialect_means_the_same_figures_to_both_readers(protocol, usage):
    """The codec (translated path) and the wire (pass-through's usage log) read one answer
    the same; and a stream carrying that usage is read the same as the answer."""
    body = body_with(protocol, usage)
    assert figures(get(protocol).decode_response(body, REQUEST).usage) == MEANT
    assert figures(wire(protocol).answer_usage(json.loads(json.dumps(body)))) == MEANT
    for cumulative in (False, True):
        payloads = stream_with(protocol, usage, cumulative)
        assert figures(_stop_of(protocol, payloads).usage) == MEANT
        so_far = None
        for payload in payloads:
            so_far = wire(protocol).event_usage(payload.get("type"), payload, so_far)
        assert figures(so_far) == MEANT


def test_every_protocol_has_its_dialects():
    assert set(DIALECTS) == set(PROTOCOLS)


def _placements():
    """Streams that put the same usage where some vendors put it."""
    chat, gemini = DIALECTS["chat"]["openai"], DIALECTS["gemini"]["google"]
    text = {"index": 0, "delta": {"content": "hi"}}
    part = {"content": {"role": "model", "parts": [{"text": "hi"}]}, "index": 0}
    return {
        ("chat", "kimi"): [{"id": "c", "choices": [text]}, {"id": "c", "choices": [
            {"index": 0, "delta": {}, "finish_reason": "stop", "usage": chat}]}],
        ("chat", "on-the-finish"): [{"id": "c", "choices": [text]}, {
            "id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "usage": chat}],
        ("chat", "on-every-chunk"): [
            {"id": "c", "choices": [text], "usage": {"prompt_tokens": 11,
                                                     "completion_tokens": 1}},
            {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
             "usage": chat}],
        ("gemini", "growing"): [
            {"candidates": [part], "usageMetadata": {"promptTokenCount": 11,
                                                     "thoughtsTokenCount": 2}},
            {"candidates": [{**part, "finishReason": "STOP"}], "usageMetadata": gemini}],
        ("gemini", "after-the-finish"): [
            {"candidates": [part]}, {"candidates": [{"finishReason": "STOP", "index": 0}]},
            {"usageMetadata": gemini}],
    }


@pytest.mark.parametrize("where", list(_placements()), ids="-".join)
def test_usage_where_vendors_put_it_is_read_the_same_by_both_readers(where):
    protocol, payloads = where[0], _placements()[where]
    decoder, events = get(protocol).stream_decoder(REQUEST), []
    for payload in payloads:
        events += decoder.feed(SSEEvent(json.dumps(payload)))
    events += decoder.flush()
    last = [e for e in events if isinstance(e, (MessageStop, UsageUpdate))][-1]
    so_far = None
    for payload in payloads:
        so_far = wire(protocol).event_usage(payload.get("type"), payload, so_far)
    assert figures(last.usage) == figures(so_far) == MEANT
