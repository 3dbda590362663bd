"""An upstream's malformed answer is the upstream's fault, for every codec's response side
(every protocol of ``codecs.PROTOCOLS``).

``decode_response`` and the stream decoders raise ``UpstreamFault`` (the proxy: 502, next
fallback target) on an answer or event that is not valid in its protocol — never
``CodecError`` (the client's 400) and never a bare ``KeyError``/``TypeError``. An error
object inside a 2xx raises ``UpstreamError``: an ``UpstreamFault`` whose ``info()`` is the
upstream's own error. What real vendors send sloppily but readably still decodes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from byecore_cli.codecs import PROTOCOLS, get
from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.codecs.sse import SSEDecoder, SSEEvent
from byecore_cli.hub import (
    MessageStart,
    MessageStop,
    PartStart,
    PartStop,
    Request,
    StopReason,
    StreamError,
    Text,
    TextDelta,
    Tool,
    ToolCall,
    Usage,
    UsageUpdate,
)
from byecore_cli.hub.assemble import Assembler, StreamFailed, UpstreamError, assemble
from tests.codecs.mutate import mutated, set_at

FIXTURES = Path(__file__).parent / "fixtures"
REQUEST = Request(model="m", tools=[Tool("bash"), Tool("apply_patch", kind="custom")])


def _events(path: str) -> list[SSEEvent]:
    sse = SSEDecoder()
    return sse.feed((FIXTURES / path).read_bytes()) + sse.flush()


def _json(path: str) -> dict:
    return json.loads((FIXTURES / path).read_text())


def _final_response(path: str) -> dict:
    return json.loads(_events(path)[-1].data)["response"]


BODIES = {
    "chat": ["chat/response_openai.json", "chat/response_deepseek.json",
             "chat/response_gemini.json", "chat/response_refusal.json"],
    "messages": ["messages/anthropic_response.json"],
    "responses": ["responses/o3_stream.sse", "responses/quirks_stream.sse"],
    "gemini": ["gemini/response_tools.json"],
}
STREAMS = {
    "chat": ["chat/stream_openai_tools.sse", "chat/stream_deepseek.sse",
             "chat/stream_gemini.sse", "chat/stream_interleaved.sse", "chat/stream_vllm.sse"],
    "messages": ["messages/anthropic_stream.sse"],
    "responses": ["responses/o3_stream.sse", "responses/quirks_stream.sse"],
    "gemini": ["gemini/stream_text.sse", "gemini/stream_tools.sse"],
}


def body_of(protocol: str, path: str) -> dict:
    return _final_response(path) if protocol == "responses" else _json(path)


def decode_stream(protocol: str, events: list[SSEEvent]) -> list:
    decoder = get(protocol).stream_decoder(REQUEST)
    out = []
    for event in events:
        out += decoder.feed(event)
    return out + decoder.flush()


def _sse(*payloads) -> list[SSEEvent]:
    return [SSEEvent(p if isinstance(p, str) else json.dumps(p)) for p in payloads]


def _assert_upstream_fault(call) -> UpstreamFault:
    with pytest.raises(UpstreamFault) as raised:
        call()
    assert not isinstance(raised.value, CodecError)
    assert raised.value.info().status == 502 or isinstance(raised.value, UpstreamError)
    return raised.value


# --- whole answers: malformed ------------------------------------------------------------

CHAT_OK = {"id": "c", "model": "m", "choices": [
    {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]}
MESSAGES_OK = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
               "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
               "usage": {"input_tokens": 1, "output_tokens": 2}}
RESPONSES_OK = {"id": "resp_1", "object": "response", "status": "completed", "output": [
    {"type": "message", "id": "msg_1", "role": "assistant",
     "content": [{"type": "output_text", "text": "hi", "annotations": []}]}],
    "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}}
GEMINI_OK = {"candidates": [{"content": {"role": "model", "parts": [{"text": "hi"}]},
                             "finishReason": "STOP", "index": 0}],
             "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 2}}


def _edit(base: dict, path: tuple, value) -> dict:
    return set_at(copy.deepcopy(base), path, value)


MALFORMED = [
    ("chat", {"id": "x", "object": "chat.completion"}),  # no choices
    ("chat", _edit(CHAT_OK, ("choices",), [])),
    ("chat", _edit(CHAT_OK, ("choices", 0, "message", "content"), 5)),
    ("chat", _edit(CHAT_OK, ("choices", 0, "message", "content"), [{"type": "text",
                                                                    "text": 5}])),
    ("chat", _edit(CHAT_OK, ("choices", 0, "finish_reason"), 5)),
    ("chat", _edit(CHAT_OK, ("choices", 0, "message", "refusal"), ["no"])),
    ("chat", {**CHAT_OK, "usage": {"prompt_tokens": "12", "completion_tokens": 3}}),
    ("chat", {**CHAT_OK, "usage": "lots"}),
    ("chat", _edit(CHAT_OK, ("choices", 0, "message", "tool_calls"), [
        {"id": "a", "type": "function", "function": {"name": "bash", "arguments": 5}}])),
    ("chat", _edit(CHAT_OK, ("choices", 0), "x")),
    ("messages", {**MESSAGES_OK, "stop_reason": []}),
    ("messages", {**MESSAGES_OK, "content": [{"text": "no type"}]}),
    ("messages", {**MESSAGES_OK, "content": [{"type": "tool_use", "id": "t", "name": "bash",
                                              "input": "ls"}]}),
    ("messages", {**MESSAGES_OK, "usage": {"input_tokens": "1", "output_tokens": 2}}),
    ("messages", {**MESSAGES_OK, "usage": [1, 2]}),
    ("messages", {**MESSAGES_OK, "content": "hi"}),
    ("messages", {**MESSAGES_OK, "stop_sequence": 5}),
    ("responses", {**RESPONSES_OK, "output": "hi"}),
    ("responses", {**RESPONSES_OK, "output": {"type": "message"}}),
    ("responses", {**RESPONSES_OK, "status": 5}),
    ("responses", {**RESPONSES_OK, "usage": {"input_tokens": "1", "output_tokens": 2}}),
    ("responses", _edit(RESPONSES_OK, ("output", 0, "content", 0, "text"), 5)),
    ("responses", {**RESPONSES_OK, "output": [{"type": "function_call", "call_id": "c",
                                               "name": "bash", "arguments": {"a": 1}}]}),
    ("responses", {**RESPONSES_OK, "output": [{"id": "x"}]}),
    ("responses", {**RESPONSES_OK, "output": [{"type": "message", "content": [
        {"text": "no type"}]}]}),
    ("gemini", {**GEMINI_OK, "candidates": {"content": {}}}),
    ("gemini", {**GEMINI_OK, "candidates": ["hi"]}),
    ("gemini", _edit(GEMINI_OK, ("candidates", 0, "content"), "hi")),
    ("gemini", _edit(GEMINI_OK, ("candidates", 0, "content", "parts"), {"text": "hi"})),
    ("gemini", _edit(GEMINI_OK, ("candidates", 0, "content", "parts", 0), "hi")),
    ("gemini", _edit(GEMINI_OK, ("candidates", 0, "content", "parts", 0, "text"), 5)),
    ("gemini", _edit(GEMINI_OK, ("candidates", 0, "content", "parts"), [
        {"functionCall": {"name": "bash", "args": "ls"}}])),
    ("gemini", _edit(GEMINI_OK, ("candidates", 0, "content", "parts"), [
        {"functionCall": {"args": {}}}])),
    ("gemini", _edit(GEMINI_OK, ("candidates", 0, "finishReason"), 5)),
    ("gemini", {**GEMINI_OK, "usageMetadata": {"promptTokenCount": "1"}}),
    ("gemini", {**GEMINI_OK, "usageMetadata": [1, 2]}),
]


@pytest.mark.parametrize(("protocol", "body"), MALFORMED)
def test_malformed_answers_are_upstream_faults(protocol, body):
    fault = _assert_upstream_fault(lambda: get(protocol).decode_response(body, REQUEST))
    assert fault.info().kind == "api_error"
    assert "malformed" in fault.info().message


# --- whole answers: sloppy but readable ----------------------------------------------------

LENIENT = [
    ("chat", {**CHAT_OK, "usage": None}),
    ("chat", {**CHAT_OK, "usage": {"prompt_tokens": 3, "completion_tokens": None,
                                   "prompt_tokens_details": None,
                                   "completion_tokens_details": None}}),
    ("chat", {**CHAT_OK, "usage": {"prompt_tokens": 3.0, "completion_tokens": 2}}),
    ("chat", _edit(CHAT_OK, ("choices", 0, "finish_reason"), "eos")),
    ("chat", _edit(CHAT_OK, ("choices", 0, "finish_reason"), None)),
    ("chat", {**CHAT_OK, "error": None, "system_fingerprint": None, "x_vendor": {"a": 1}}),
    ("chat", _edit(CHAT_OK, ("choices", 0, "message"), {
        "role": "assistant", "content": None, "refusal": None, "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "bash",
                                                         "arguments": {"cmd": "ls"}}}]})),
    ("chat", _edit(CHAT_OK, ("choices", 0, "message", "tool_calls"), None)),
    ("chat", _edit(CHAT_OK, ("choices", 0, "message", "content"), [
        {"type": "text", "text": "h"}, {"type": "text", "text": "i"}])),
    ("messages", {**MESSAGES_OK, "usage": None}),
    ("messages", {**MESSAGES_OK, "stop_reason": "some_new_reason"}),
    ("messages", {**MESSAGES_OK, "stop_reason": None, "stop_sequence": None}),
    ("messages", {**MESSAGES_OK, "content": [{"type": "server_tool_use", "id": "s",
                                              "name": "web_search", "input": {}}]}),
    ("responses", {**RESPONSES_OK, "usage": None, "error": None,
                   "incomplete_details": None}),
    ("responses", {"id": "resp_1", "status": "completed", "output": None}),
    ("responses", {"id": "resp_1", "status": "completed"}),
    ("responses", {**RESPONSES_OK, "status": "incomplete",
                   "incomplete_details": {"reason": "max_output_tokens"}}),
    ("gemini", {**GEMINI_OK, "usageMetadata": None, "modelVersion": None}),
    ("gemini", _edit(GEMINI_OK, ("candidates", 0, "finishReason"), "SOME_NEW_REASON")),
    ("gemini", _edit(GEMINI_OK, ("candidates", 0, "finishReason"), None)),
    ("gemini", {**GEMINI_OK, "usageMetadata": {"promptTokenCount": 3.0,
                                               "candidatesTokenCount": None}}),
    ("gemini", {"candidates": [], "promptFeedback": {"blockReason": "SAFETY"}}),
    ("gemini", {"candidates": [{"finishReason": "STOP", "index": 0}]}),
    ("gemini", _edit(GEMINI_OK, ("candidates", 0, "content", "parts"), [
        {"executableCode": {"language": "PYTHON", "code": "print(1)"}}])),
]


@pytest.mark.parametrize(("protocol", "body"), LENIENT)
def test_sloppy_but_readable_answers_still_decode(protocol, body):
    response = get(protocol).decode_response(body, REQUEST)
    assert response.stop in StopReason


def test_lenient_values_decode_as_meant():
    chat = get("chat")
    assert chat.decode_response({**CHAT_OK, "usage": {"prompt_tokens": 3.0,
                                                      "completion_tokens": 2}},
                                REQUEST).usage == Usage(3, 2)
    stop = chat.decode_response(_edit(CHAT_OK, ("choices", 0, "finish_reason"), "eos"),
                                REQUEST).stop
    assert stop == StopReason.END
    assert get("messages").decode_response({**MESSAGES_OK, "stop_reason": "new"},
                                           REQUEST).stop == StopReason.END
    incomplete = get("responses").decode_response(
        {**RESPONSES_OK, "status": "incomplete",
         "incomplete_details": {"reason": "max_output_tokens"}}, REQUEST)
    assert incomplete.stop == StopReason.LENGTH and incomplete.parts == [
        Text("hi", {"responses": {"id": "msg_1"}})]


# --- an error object in a 2xx ----------------------------------------------------------------

ERRORS_IN_SUCCESS = [
    ("chat", {"error": {"message": "Rate limit reached for requests", "type": "requests",
                        "code": "rate_limit_exceeded"}}, "rate_limit", "rate_limit_exceeded"),
    ("chat", {"error": {"message": "This model's maximum context length is 8192 tokens",
                        "code": "context_length_exceeded"}}, "context_overflow",
     "context_length_exceeded"),
    ("responses", {"error": {"message": "The server had an error", "code": "server_error"}},
     "api_error", "server_error"),
    ("responses", {"id": "resp_1", "status": "failed", "output": [], "error": {
        "code": "context_length_exceeded", "message": "Your input exceeds the context window"}},
     "context_overflow", "context_length_exceeded"),
    ("responses", {"id": "resp_1", "object": "response", "status": None, "error": {
        "code": "rate_limit_exceeded", "message": "Slow down. Please try again in 2s."}},
     "rate_limit", "rate_limit_exceeded"),
    ("messages", {"type": "error", "error": {"type": "overloaded_error",
                                             "message": "Overloaded"}}, "overloaded", None),
    ("messages", {"type": "error", "error": {"type": "invalid_request_error",
                                             "message": "prompt is too long: 210000 tokens"}},
     "context_overflow", None),
    ("gemini", {"error": {"code": 429, "message": "Resource has been exhausted",
                          "status": "RESOURCE_EXHAUSTED"}}, "rate_limit", None),
    ("gemini", {"error": {"code": 503, "message": "The model is overloaded.",
                          "status": "UNAVAILABLE"}}, "overloaded", None),
]


@pytest.mark.parametrize(("protocol", "body", "kind", "code"), ERRORS_IN_SUCCESS)
def test_an_error_in_a_success_is_the_upstreams_error(protocol, body, kind, code):
    with pytest.raises(UpstreamError) as raised:
        get(protocol).decode_response(body, REQUEST)
    fault = raised.value
    assert isinstance(fault, UpstreamFault) and isinstance(fault, StreamFailed)
    info = fault.info()
    assert info.kind == kind and info is fault.error
    message = (body["error"]["message"])
    assert message in info.message
    if code:
        assert code in info.message


def test_the_retry_delay_of_a_rate_limit_in_a_success_is_kept():
    body = {"error": {"code": "rate_limit_exceeded", "message": "Slow down. Please try "
                                                               "again in 2s."}}
    with pytest.raises(UpstreamError) as raised:
        get("responses").decode_response(body, REQUEST)
    assert raised.value.info().retry_after == 2


# --- streams -----------------------------------------------------------------------------------

NOT_JSON = ["{not json", '{"type": "message_start"', "hello", "{}}"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("data", NOT_JSON)
def test_stream_data_that_is_not_json_is_an_upstream_fault(protocol, data):
    events = _events(STREAMS[protocol][0])
    broken = [*events[:2], SSEEvent(data), *events[2:]]
    _assert_upstream_fault(lambda: decode_stream(protocol, broken))


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("data", ["5", "[1, 2]", '"text"', "null"])
def test_stream_data_that_is_not_an_object_is_an_upstream_fault(protocol, data):
    events = _events(STREAMS[protocol][0])
    broken = [*events[:2], SSEEvent(data), *events[2:]]
    _assert_upstream_fault(lambda: decode_stream(protocol, broken))


IGNORABLE = {
    "chat": ["", "  ", '{"id": "x", "choices": [], "usage": null, "x_new": 1}'],
    "messages": ["", '{"type": "ping"}', '{"type": "some_new_event", "data": [1]}', "{}"],
    "responses": ["", "[DONE]", '{"type": "response.some_new_event", "x": 1}', "{}",
                  '{"type": "response.in_progress", "response": {"id": "r"}}'],
    "gemini": ["", "[DONE]", '{"candidates": []}', '{"candidates": [{"index": 0}]}',
               '{"modelVersion": "gemini-3-pro-preview"}'],
}


@pytest.mark.parametrize(("protocol", "data"),
                         [(p, d) for p, items in IGNORABLE.items() for d in items])
def test_what_is_legitimately_ignorable_is_still_ignored(protocol, data):
    events = _events(STREAMS[protocol][0])
    whole = assemble(decode_stream(protocol, events))
    with_noise = [*events[:2], SSEEvent(data), *events[2:]]
    assert assemble(decode_stream(protocol, with_noise)) == whole


def test_sse_comments_and_chat_done_are_not_faults():
    raw = (FIXTURES / "chat/stream_openai_tools.sse").read_bytes()
    sse = SSEDecoder()
    events = sse.feed(b": keep-alive\n\n" + raw.replace(b"\n\n", b"\n\n: ping\n\n", 3))
    events += sse.flush()
    assert isinstance(decode_stream("chat", events)[-1], MessageStop)


WRONG_TYPES = [
    ("chat", [{"id": "x", "choices": [{"index": 0, "delta": {"content": 5}}]}]),
    ("chat", [{"id": "x", "choices": [{"index": 0, "delta": {"content": "a"}}]},
              {"id": "x", "choices": [{"index": 0, "delta": {}, "finish_reason": 5}]}]),
    ("chat", [{"id": "x", "choices": [], "usage": {"prompt_tokens": "3"}}]),
    ("chat", [{"id": "x", "choices": "none"}]),
    ("chat", [{"id": "x", "choices": [{"index": 0, "delta": "text"}]}]),
    ("chat", [{"id": "x", "choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "id": "c", "function": {"name": "bash", "arguments": 7}}]}}]}]),
    ("messages", [{"type": "message_start", "message": {"id": "m", "usage": {}}},
                  {"type": "message_delta", "delta": {"stop_reason": []}}]),
    ("messages", [{"type": "message_start", "message": {"id": "m"}},
                  {"type": "content_block_start", "index": 0, "content_block": {"text": ""}}]),
    ("messages", [{"type": "message_start", "message": {"id": "m"}},
                  {"type": "content_block_start", "index": 0,
                   "content_block": {"type": "text", "text": ""}},
                  {"type": "content_block_delta", "index": 0,
                   "delta": {"type": "text_delta", "text": 5}}]),
    ("messages", [{"type": "message_start", "message": {"id": "m"}},
                  {"type": "content_block_start", "index": 0, "content_block": {
                      "type": "tool_use", "id": "t", "name": "bash", "input": "ls"}}]),
    ("messages", [{"type": "message_start", "message": "m"}]),
    ("messages", [{"type": "message_start", "message": {"id": "m",
                                                        "usage": {"input_tokens": "9"}}}]),
    ("messages", [{"type": 5}]),
    ("responses", [{"type": "response.created", "response": {"id": "r"}},
                   {"type": "response.output_item.added", "output_index": 0, "item": {
                       "type": "message", "id": "m1"}},
                   {"type": "response.output_text.delta", "delta": "a"},
                   {"type": "response.output_text.delta", "delta": 5}]),
    ("responses", [{"type": "response.created", "response": {"id": "r"}},
                   {"type": "response.output_item.added", "item": "x"}]),
    ("responses", [{"type": "response.created", "response": {"id": "r"}},
                   {"type": "response.completed", "response": {"id": "r", "output": "x"}}]),
    ("responses", [{"type": "response.created", "response": {"id": "r"}},
                   {"type": "response.completed", "response": {
                       "id": "r", "output": [], "usage": {"input_tokens": "1"}}}]),
    ("responses", [{"type": "response.created", "response": "r"}]),
    ("gemini", [{"candidates": "x"}]),
    ("gemini", [{"candidates": [{"content": {"parts": [{"text": "a"}]}}]},
                {"candidates": [{"content": {"parts": [{"text": 5}]}}]}]),
    ("gemini", [{"candidates": [{"content": {"parts": "a"}}]}]),
    ("gemini", [{"candidates": [{"content": {"parts": [{"functionCall": {
        "name": "bash", "args": "ls"}}]}}]}]),
    ("gemini", [{"candidates": [{"content": {"parts": [{"text": "a"}]}}],
                 "usageMetadata": {"promptTokenCount": "9"}}]),
    ("gemini", [{"candidates": [{"content": {"parts": [{"text": "a"}]},
                                 "finishReason": 5}]}]),
]


@pytest.mark.parametrize(("protocol", "payloads"), WRONG_TYPES)
def test_stream_events_with_wrong_types_are_upstream_faults(protocol, payloads):
    _assert_upstream_fault(lambda: decode_stream(protocol, _sse(*payloads)))


def test_upstream_declared_stream_errors_stay_stream_errors():
    """An error the upstream reports mid-stream is its answer, not a malformed one."""
    chat = decode_stream("chat", _sse({"id": "x", "choices": []},
                                      {"error": {"message": "busy", "code": "server_error"}}))
    messages = decode_stream("messages", _sse({"type": "message_start", "message": {}},
                                              {"type": "error", "error": {
                                                  "type": "overloaded_error",
                                                  "message": "Overloaded"}}))
    responses = decode_stream("responses", _sse({"type": "response.failed", "response": {
        "error": {"code": "server_error", "message": "boom"}}}))
    gemini = decode_stream("gemini", _sse({"candidates": [{"content": {"parts": [
        {"text": "a"}]}}]}, {"error": {"code": 503, "message": "overloaded",
                                      "status": "UNAVAILABLE"}}))
    for events in (chat, messages, responses, gemini):
        assert isinstance(events[-1], StreamError)


# --- folding a stream: impossible orders ----------------------------------------------------

START = MessageStart("r", "m")
STOP = MessageStop(StopReason.END, Usage(1, 1))
IMPOSSIBLE = [
    [START, TextDelta(0, "x")],  # a delta for a part never started
    [START, PartStart(0, Text("")), PartStop(0), TextDelta(0, "x")],  # after its stop
    [START, PartStop(0)],
    [START, PartStart(0, Text("")), PartStop(0), PartStop(0)],
    [START, PartStart(1, Text(""))],  # out of order
    [START, PartStart(0, Text("")), PartStop(0), PartStart(0, Text(""))],  # twice
    [START, PartStart(0, Text("")), STOP],  # stopped with a part open
    [START, STOP, PartStart(0, Text(""))],
    [START, STOP, STOP],
    [START, PartStart(0, Text("")), PartStop(0), START],
    [START, PartStart(-1, ToolCall("c", "f"))],
]


@pytest.mark.parametrize("events", IMPOSSIBLE)
def test_impossible_event_orders_are_upstream_faults(events):
    _assert_upstream_fault(lambda: assemble(events))


def test_possible_orders_still_fold():
    events = [START, UsageUpdate(Usage(1)), PartStart(0, Text("")), TextDelta(0, "a"),
              PartStop(0), PartStart(1, ToolCall("c", "f")), PartStop(1), STOP,
              UsageUpdate(Usage(2, 3))]
    assembler = Assembler()
    for event in events:
        assembler.feed(event)
    response = assembler.result()
    assert response.parts == [Text("a"), ToolCall("c", "f")]
    assert response.usage == Usage(2, 3)


# --- fuzz: mutated real answers and streams, for every codec -----------------------------

KEYS = ["type", "text", "content", "id", "name", "arguments", "input", "delta", "index",
        "choices", "message", "finish_reason", "stop_reason", "usage", "output", "item",
        "response", "status", "error", "partial_json", "thinking", "signature", "tool_calls",
        "function", "content_block", "prompt_tokens", "input_tokens", "output_tokens",
        "candidates", "parts", "functionCall", "args", "finishReason", "usageMetadata",
        "thoughtSignature", "thought", "promptTokenCount", "candidatesTokenCount"]
TYPES = ["text", "tool_use", "thinking", "message", "function_call", "output_text",
         "text_delta", "input_json_delta", "message_delta", "content_block_start",
         "response.completed", "response.output_item.added", "response.output_text.delta",
         "error", "refusal", "reasoning", "custom_tool_call", "redacted_thinking", "STOP",
         "MAX_TOKENS", "MALFORMED_FUNCTION_CALL"]
values = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 10) | st.floats(allow_nan=False, width=16)
    | st.text(max_size=6) | st.sampled_from(TYPES),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=20)
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _encode_everywhere(response) -> None:
    """Whatever decodes must encode for every client protocol."""
    for protocol in PROTOCOLS:
        get(protocol).encode_response(response, REQUEST)


@FUZZ
@given(st.sampled_from([(p, f) for p, files in BODIES.items() for f in files]), st.data())
def test_mutated_answers_raise_only_upstream_faults(source, data):
    protocol, path = source
    body = mutated(body_of(protocol, path), data, values)
    try:
        response = get(protocol).decode_response(body, REQUEST)
    except UpstreamFault as fault:
        assert not isinstance(fault, CodecError)
        assert fault.info().message
        return
    _encode_everywhere(response)


def _stream_edit(events: list[SSEEvent], data) -> list[SSEEvent]:
    """One event's JSON mutated, its text cut short, or garbage put in."""
    events = list(events)
    index = data.draw(st.integers(0, len(events) - 1))
    how = data.draw(st.sampled_from(["json", "json", "cut", "insert"]))
    event = events[index]
    if how == "cut":
        events[index] = SSEEvent(event.data[:data.draw(st.integers(0, len(event.data)))],
                                 event.event)
    elif how == "insert":
        events.insert(index, SSEEvent(data.draw(st.text(max_size=12)), event.event))
    else:
        try:
            payload = json.loads(event.data)
        except ValueError:
            return events
        events[index] = SSEEvent(json.dumps(mutated(payload, data, values)), event.event)
    return events


@FUZZ
@given(st.sampled_from([(p, f) for p, files in STREAMS.items() for f in files]), st.data())
def test_mutated_streams_raise_only_upstream_faults(source, data):
    protocol, path = source
    events = _stream_edit(_events(path), data)
    try:
        hub_events = decode_stream(protocol, events)
    except UpstreamFault as fault:
        assert not isinstance(fault, CodecError)
        return
    for target in PROTOCOLS:  # every client's encoder takes what was decoded
        encoder = get(target).stream_encoder(REQUEST)
        for event in hub_events:
            encoder.feed(event)
        encoder.flush()
    try:
        response = assemble(hub_events)
    except StreamFailed as failed:  # the upstream's own error event, or a cut stream
        assert not isinstance(failed, UpstreamFault)
        assert isinstance(hub_events[-1], StreamError) or "ended early" in str(failed)
        return
    _encode_everywhere(response)


def _not_json(text: str) -> bool:
    if text.strip() in ("", "[DONE]") or text.lstrip().startswith('{"type"'):
        return False  # ignorable, or read by its type alone (Responses' idle events)
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


@FUZZ
@given(st.sampled_from([(p, f) for p, files in STREAMS.items() for f in files]),
       st.text(max_size=30).filter(_not_json), st.data())
def test_data_that_is_not_json_is_never_skipped(source, garbage, data):
    """Anywhere before the stream's last event, garbage data is reported, not dropped."""
    protocol, path = source
    events = _events(path)
    at = data.draw(st.integers(0, len(events) - 1))
    events.insert(at, SSEEvent(garbage, data.draw(st.sampled_from([None, "message"]))))
    _assert_upstream_fault(lambda: decode_stream(protocol, events))
