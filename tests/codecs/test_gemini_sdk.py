"""The google-genai SDK as a real Gemini client: what it sends is decoded, and what the
codec answers is what it reads (model and stream taken from the URL, as the proxy must)."""

from __future__ import annotations

import json
import re

import httpx2
from google.genai import types

from byecore_cli.codecs.gemini import CODEC, listing
from byecore_cli.hub import (
    Reasoning,
    ReasoningConfig,
    Response,
    StopReason,
    Text,
    ToolCall,
    ToolChoice,
    ToolResult,
    Usage,
)
from byecore_cli.hub.assemble import explode
from tests.codecs.gemini_helpers import assert_valid_request, sdk_client

PATH = re.compile(r"/models/([^:/]+):(generateContent|streamGenerateContent)$")
SIG = b"\x12\x34signature-bytes"


def run(call, answer):
    """Run ``call(client)``; the fake upstream decodes each request and answers
    ``answer(hub_request)`` (a hub Response) through the codec."""
    seen = []

    def handler(http):
        match = PATH.search(http.url.path)
        stream = match.group(2) == "streamGenerateContent"
        body = json.loads(http.content)
        seen.append(body)
        hub = CODEC.decode_request({**body, "model": match.group(1), "stream": stream})
        seen.append(hub)
        response = answer(hub)
        if stream:
            assert http.url.params.get("alt") == "sse"
            encoder = CODEC.stream_encoder(hub)
            data = b"".join(encoder.feed(e) for e in explode(response)) + encoder.flush()
            return httpx2.Response(200, content=data,
                                   headers={"content-type": "text/event-stream"})
        return httpx2.Response(200, json=CODEC.encode_response(response, hub))

    return call(sdk_client(handler)), seen


CONFIG = types.GenerateContentConfig(
    system_instruction="You are terse.",
    temperature=0.2, max_output_tokens=512, stop_sequences=["END"],
    thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=1024),
    tools=[types.Tool(function_declarations=[types.FunctionDeclaration(
        name="get_weather", description="Weather for a city",
        parameters=types.Schema(type="OBJECT", properties={"city": types.Schema(type="STRING")},
                                required=["city"]))])],
    tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(
        mode="ANY", allowed_function_names=["get_weather"])),
    automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))

HISTORY = [
    types.Content(role="user", parts=[types.Part(text="Weather in Paris?")]),
    types.Content(role="model", parts=[types.Part(
        function_call=types.FunctionCall(name="get_weather", args={"city": "Paris"}),
        thought_signature=SIG)]),
    types.Content(role="user", parts=[types.Part(function_response=types.FunctionResponse(
        name="get_weather", response={"output": "sunny"}))]),
]


def answer_with_call(_hub):
    return Response("resp-1", "upstream-model", [
        Reasoning("Thinking about it"), Text("Checking. "),
        ToolCall("call_1", "get_weather", '{"city": "Lyon"}')], StopReason.TOOL_CALLS,
        usage=Usage(20, 9, cache_read_tokens=4, reasoning_tokens=3))


def test_sdk_request_is_decoded_and_resent_exactly():
    result, seen = run(lambda c: c.models.generate_content(
        model="gemini-2.5-flash", contents=HISTORY, config=CONFIG), answer_with_call)
    body, hub = seen
    assert hub.model == "gemini-2.5-flash" and hub.stream is False
    assert hub.system == [Text("You are terse.")]
    assert (hub.temperature, hub.max_tokens, hub.stop) == (0.2, 512, ["END"])
    assert hub.reasoning == ReasoningConfig(enabled=True, budget_tokens=1024, summary="auto")
    assert hub.tool_choice == ToolChoice("tool", "get_weather")
    call = hub.messages[1].parts[0]
    result_part = hub.messages[2].parts[0]
    assert isinstance(result_part, ToolResult) and result_part.call_id == call.id
    assert result_part.text() == "sunny"
    # a Gemini client on a Gemini upstream: the body goes back the way it came
    resent = CODEC.encode_request(hub)
    assert_valid_request(resent)
    assert resent["contents"] == body["contents"]
    assert resent["tools"] == body["tools"] and resent["toolConfig"] == body["toolConfig"]
    assert resent["generationConfig"] == body["generationConfig"]
    # and the SDK reads the answer
    assert result.text == "Checking. "
    assert [(f.name, f.args) for f in result.function_calls] == [("get_weather",
                                                                  {"city": "Lyon"})]
    assert result.candidates[0].content.parts[0].thought is True
    usage = result.usage_metadata
    assert (usage.prompt_token_count, usage.candidates_token_count,
            usage.thoughts_token_count, usage.cached_content_token_count) == (20, 6, 3, 4)


def test_sdk_stream_reads_the_encoded_stream():
    def call(client):
        return list(client.models.generate_content_stream(
            model="gemini-3-pro-preview", contents=HISTORY, config=CONFIG))
    chunks, seen = run(call, answer_with_call)
    assert seen[1].stream is True and seen[1].model == "gemini-3-pro-preview"
    text = "".join(c.text or "" for c in chunks)
    assert text == "Checking. "
    calls = [f for c in chunks for f in (c.function_calls or [])]
    assert [(f.name, f.args, f.id) for f in calls] == [("get_weather", {"city": "Lyon"},
                                                        "call_1")]
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert chunks[-1].usage_metadata.total_token_count == 29


def test_count_tokens_and_model_list_through_the_sdk():
    seen = []

    def handler(http):
        if http.method == "GET":
            return httpx2.Response(200, json=listing.encode_model_list(["gemini-2.5-flash",
                                                                      "models/my-alias"]))
        match = re.search(r"/models/([^:/]+):countTokens$", http.url.path)
        hub = listing.decode_count_request({**json.loads(http.content),
                                          "model": match.group(1)})
        seen.append(hub)
        return httpx2.Response(200, json=listing.encode_count_response(42, 10))

    client = sdk_client(handler)
    counted = client.models.count_tokens(model="gemini-2.5-flash", contents=HISTORY)
    assert (counted.total_tokens, counted.cached_content_token_count) == (42, 10)
    assert seen[0].model == "gemini-2.5-flash" and len(seen[0].messages) == 3
    wrapped = listing.decode_count_request({"model": "x", "generateContentRequest": {
        "model": "models/x", "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "systemInstruction": {"parts": [{"text": "sys"}]}}})
    assert wrapped.system == [Text("sys")] and wrapped.model == "x"
    models = list(client.models.list())
    assert [m.name for m in models] == ["models/gemini-2.5-flash", "models/my-alias"]
    assert "generateContent" in models[0].supported_actions
