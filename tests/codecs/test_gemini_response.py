"""Gemini answers ↔ hub Responses: parts, signatures, ids, finish reasons, usage."""

from __future__ import annotations

import json

import pytest

from byecore_cli.codecs.base import UpstreamFault
from byecore_cli.codecs.gemini import CODEC
from byecore_cli.codecs.gemini.names import MINTED_ID
from byecore_cli.codecs.gemini.parts import minted_meta
from byecore_cli.hub import (
    Image,
    Reasoning,
    Request,
    Response,
    StopReason,
    Text,
    Tool,
    ToolCall,
    Usage,
)
from byecore_cli.hub.assemble import UpstreamError
from tests.codecs.gemini_helpers import assert_valid_response, load

REQUEST = Request("gemini-2.5-pro", tools=[Tool("list_directory"), Tool("glob")])
SIG = "CiwBVKhc7kZpcnN0LWNhbGwtc2lnbmF0dXJlLWJ5dGVzLWhlcmU="


def test_decode_parts_ids_signatures_and_usage():
    response = CODEC.decode_response(load("response_tools.json"), REQUEST)
    thought, text, first, second = response.parts
    assert isinstance(thought, Reasoning) and thought.summary and "Planning" in thought.text
    assert text == Text("I'll look at the files.")
    assert (first.name, json.loads(first.arguments)) == ("list_directory", {"path": "/repo"})
    assert first.meta == {"gemini": {"thoughtSignature": SIG}} and second.meta is None
    assert first.id.startswith(MINTED_ID) and second.id.startswith(MINTED_ID)
    assert first.id != second.id
    assert response.stop == StopReason.TOOL_CALLS  # Gemini says STOP
    # prompt includes cached (like the hub); output = candidates + thoughts
    assert response.usage == Usage(input_tokens=1200, output_tokens=140, cache_read_tokens=1000,
                                   reasoning_tokens=100)
    assert (response.id, response.model) == ("kxtWaZ-PLrmE1MkP6vWUuAw", "gemini-2.5-pro")


def test_round_trip_to_a_gemini_client_is_valid_and_exact():
    body = load("response_tools.json")
    out = CODEC.encode_response(CODEC.decode_response(body, REQUEST), REQUEST)
    assert_valid_response(out)
    assert out["candidates"][0]["content"] == body["candidates"][0]["content"]  # no made-up id
    assert out["candidates"][0]["finishReason"] == "STOP"
    usage = out["usageMetadata"]
    assert (usage["promptTokenCount"], usage["candidatesTokenCount"],
            usage["thoughtsTokenCount"], usage["cachedContentTokenCount"],
            usage["totalTokenCount"]) == (1200, 40, 100, 1000, 1340)
    assert out["responseId"] == body["responseId"] and out["modelVersion"] == "gemini-2.5-pro"


def test_foreign_response_for_a_gemini_client():
    request = Request("gemini-2.5-flash", tools=[Tool("Bash", namespace=None)])
    response = Response("msg_1", "claude-sonnet-5", [
        Reasoning("hmm", meta={"messages": {"signature": "anthropic"}}),
        Text("Running it."), ToolCall("toolu_9", "Bash", '{"command":"ls"}'),
        Image(data="AAAA", media_type="image/png")],
        StopReason.TOOL_CALLS, usage=Usage(100, 30, cache_read_tokens=60, reasoning_tokens=10))
    out = CODEC.encode_response(response, request)
    parsed = assert_valid_response(out)
    parts = out["candidates"][0]["content"]["parts"]
    # the foreign signature rides inside one byecore mints, never as Gemini's own
    signature = parts[0].pop("thoughtSignature")
    assert parts[0] == {"text": "hmm", "thought": True}
    assert minted_meta(signature) == {"messages": {"signature": "anthropic"}}
    assert signature != "anthropic"
    assert parts[2] == {"functionCall": {"name": "Bash", "args": {"command": "ls"},
                                         "id": "toolu_9"}}
    assert parts[3] == {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}
    assert parsed.function_calls[0].name == "Bash"
    assert out["usageMetadata"] == {"promptTokenCount": 100, "candidatesTokenCount": 20,
                                    "thoughtsTokenCount": 10, "cachedContentTokenCount": 60,
                                    "totalTokenCount": 130}
    assert out["modelVersion"] == "gemini-2.5-flash"  # the model the client asked for


@pytest.mark.parametrize(("reason", "stop", "back"), [
    ("STOP", StopReason.END, "STOP"), ("MAX_TOKENS", StopReason.LENGTH, "MAX_TOKENS"),
    ("SAFETY", StopReason.CONTENT_FILTER, "SAFETY"),
    ("RECITATION", StopReason.CONTENT_FILTER, "RECITATION"),
    ("PROHIBITED_CONTENT", StopReason.CONTENT_FILTER, "PROHIBITED_CONTENT"),
    ("MALFORMED_FUNCTION_CALL", StopReason.END, "MALFORMED_FUNCTION_CALL"),
    ("OTHER", StopReason.END, "OTHER"), (None, StopReason.END, "STOP"),
    ("SOMETHING_NEW", StopReason.END, "STOP")])
def test_finish_reasons_both_ways(reason, stop, back):
    candidate = {"content": {"role": "model", "parts": [{"text": "x"}]}}
    if reason:
        candidate["finishReason"] = reason
        candidate["finishMessage"] = "why"
    response = CODEC.decode_response({"candidates": [candidate]}, REQUEST)
    assert response.stop == stop
    out = CODEC.encode_response(response, REQUEST)
    if back != "STOP" or reason in (None, "STOP"):
        assert_valid_response(out)
    assert out["candidates"][0]["finishReason"] == back


@pytest.mark.parametrize(("stop", "reason"), [
    (StopReason.END, "STOP"), (StopReason.LENGTH, "MAX_TOKENS"),
    (StopReason.CONTENT_FILTER, "SAFETY"), (StopReason.REFUSAL, "STOP"),
    (StopReason.STOP_SEQUENCE, "STOP"), (StopReason.CONTEXT_OVERFLOW, "MAX_TOKENS")])
def test_hub_stops_to_gemini(stop, reason):
    out = CODEC.encode_response(Response("r", "m", [Text("x")], stop), REQUEST)
    assert_valid_response(out)
    assert out["candidates"][0]["finishReason"] == reason


def test_blocked_prompt_is_a_content_filter_stop():
    body = {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
            "usageMetadata": {"promptTokenCount": 7, "totalTokenCount": 7}}
    response = CODEC.decode_response(body, REQUEST)
    assert (response.parts, response.stop, response.usage.input_tokens) == (
        [], StopReason.CONTENT_FILTER, 7)


def test_error_body_in_a_200_is_the_upstreams_error():
    body = {"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}
    with pytest.raises(UpstreamError) as caught:
        CODEC.decode_response(body, REQUEST)
    assert (caught.value.info().kind, caught.value.info().message) == ("rate_limit",
                                                                       "Quota exceeded")


@pytest.mark.parametrize("body", [
    [], {"candidates": {}}, {"candidates": ["x"]},
    {"candidates": [{"content": {"parts": ["text"]}}]},
    {"candidates": [{"content": {"parts": [{"text": 5}]}}]},
    {"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": []}}]}}]},
    {"candidates": [{"finishReason": 3}]},
    {"candidates": [], "usageMetadata": {"promptTokenCount": "many"}},
    {"candidates": [], "usageMetadata": {"thoughtsTokenCount": -3}},
])
def test_malformed_answers_are_upstream_faults(body):
    with pytest.raises(UpstreamFault):
        CODEC.decode_response(body, REQUEST)


def test_code_execution_parts_are_kept_for_gemini_and_readable_elsewhere():
    part = {"executableCode": {"language": "PYTHON", "code": "print(1)"}}
    body = {"candidates": [{"content": {"role": "model", "parts": [part]},
                            "finishReason": "STOP"}]}
    response = CODEC.decode_response(body, REQUEST)
    assert response.parts[0].text == "```python\nprint(1)\n```"
    out = CODEC.encode_response(response, REQUEST)
    assert_valid_response(out)
    assert out["candidates"][0]["content"]["parts"] == [part]
