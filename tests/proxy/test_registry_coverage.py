"""Every protocol of the registry has what the N × N proxy tests need, and their reference
checks can fail.

The proxy tests iterate ``codecs.PROTOCOLS``: a new protocol adds its rows, and these say
what it must bring along (the fake upstream speaking it, its usage, its reasoning, a
minimal request its clients send and the proxy serves). The checks that make the Gemini
rows mean something (google-genai's types over every answer a Gemini client reads, and
the fake upstream refusing what Gemini refuses) are tried on bad input here.
"""

from __future__ import annotations

import base64
import json

import aiohttp
import pytest

from byecore_cli import codecs
from byecore_cli.config.models import Settings
from tests.codecs.gemini_helpers import assert_valid_response, sse_payloads
from tests.codecs.test_token_counts import DIALECTS, MEANT, figures
from tests.proxy import fake_upstream, shapes
from tests.proxy.shapes import GeminiSDK

PROTOCOLS = codecs.PROTOCOLS


def test_the_fake_upstream_has_every_protocol():
    for table in (fake_upstream.SPEAKS, fake_upstream.USAGE, fake_upstream.REASONING,
                  DIALECTS):
        assert set(table) == set(PROTOCOLS)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_fake_upstream_usage_means_the_same_everywhere(protocol):
    usage = codecs.wire(protocol).answer_usage(
        {codecs.wire(protocol).usage_field: fake_upstream.USAGE[protocol]})
    # Messages carries no reasoning count unless it thinks (with_reasoning adds one).
    assert figures(usage) == (*MEANT[:3], 0 if protocol == "messages" else MEANT[3])


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_each_protocols_minimal_request_is_served(start_proxy, local_key, protocol,
                                                        stream):
    """shapes' request and path, on the demo provider: the client's protocol back."""
    url = await start_proxy(Settings())
    async with aiohttp.ClientSession() as http, http.post(
            url + shapes.client_path(protocol, "demo", stream),
            json=shapes.request(protocol, "demo", stream),
            headers={"Authorization": f"Bearer {local_key}"}) as r:
        assert r.status == 200, await r.text()
        assert r.content_type == ("text/event-stream" if stream else "application/json")
        raw = await r.read()
    if not stream:
        body = json.loads(raw)
        assert any(key in body for key in codecs.wire(protocol).answer_keys)


# -- the Gemini checks can fail ----------------------------------------------------------

ANSWER = {"candidates": [{"content": {"role": "model", "parts": [{"text": "hi"}]},
                          "finishReason": "STOP", "index": 0}],
          "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1,
                            "totalTokenCount": 2}}
REQUEST = json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}).encode()


def _checked(answer: bytes, *, stream: bool = False, status: int = 200,
             request: bytes = REQUEST) -> None:
    client = GeminiSDK.__new__(GeminiSDK)  # only its records and its check
    method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    client.exchanges = [{"url": f"http://127.0.0.1/v1beta/models/m:{method}",
                         "request": request, "answer": answer, "status": status,
                         "type": "text/event-stream" if stream else "application/json"}]
    client.check()


def test_the_gemini_answer_check_passes_a_real_answer():
    _checked(json.dumps(ANSWER).encode())
    _checked(b"data: " + json.dumps(ANSWER).encode() + b"\r\n\r\n", stream=True)
    _checked(json.dumps({"error": {"code": 400, "message": "x",
                                   "status": "INVALID_ARGUMENT"}}).encode(), status=400)


@pytest.mark.parametrize(("answer", "stream", "status"), [
    (json.dumps({**ANSWER, "usage": {}}).encode(), False, 200),  # an unknown field
    (json.dumps({**ANSWER, "candidates": [{**ANSWER["candidates"][0],
                                           "finishReason": "DONE"}]}).encode(), False, 200),
    (b": ping\r\n\r\ndata: " + json.dumps(ANSWER).encode() + b"\r\n\r\n", True, 200),
    (b"data: " + json.dumps({**ANSWER, "x": 1}).encode() + b"\r\n\r\n", True, 200),
    (json.dumps({"error": {"message": "x", "type": "server_error"}}).encode(), False, 500),
], ids=["unknown-field", "unknown-finish", "sse-comment", "unknown-field-streamed",
        "openai-error-shape"])
def test_the_gemini_answer_check_fails_a_wrong_one(answer, stream, status):
    with pytest.raises(AssertionError):
        _checked(answer, stream=stream, status=status)


def test_the_gemini_request_check_fails_a_wrong_one():
    with pytest.raises(AssertionError):
        _checked(json.dumps(ANSWER).encode(), request=json.dumps(
            {"contents": [{"role": "assistant", "parts": [{"text": "hi"}]}]}).encode())


def test_the_fake_gemini_refuses_what_gemini_refuses():
    refusal = fake_upstream.gemini_refusal
    call = {"functionCall": {"name": "f", "args": {}}}
    user = {"role": "user", "parts": [{"text": "hi"}]}
    assert refusal({"contents": [user]}) is None
    assert "Invalid JSON" in refusal({"contents": [user], "model": "m"})
    assert refusal({"contents": [user, {"role": "model", "parts": [
        {**call, "thoughtSignature": fake_upstream.THOUGHT_SIGNATURE}]}]}) is None
    assert refusal({"contents": [user, {"role": "model", "parts": [
        {**call, "thoughtSignature": fake_upstream.SKIP}]}]}) is None
    assert "missing a thought_signature" in refusal(
        {"contents": [user, {"role": "model", "parts": [call]}]})
    other = base64.b64encode(b"another model's").decode()
    assert "Corrupted" in refusal({"contents": [user, {"role": "model", "parts": [
        {**call, "thoughtSignature": fake_upstream.THOUGHT_SIGNATURE},
        {"text": "x", "thoughtSignature": other}]}]})


@pytest.mark.parametrize("reasoning", [False, True])
@pytest.mark.parametrize("tools", [False, True])
async def test_the_fake_gemini_answers_are_valid_gemini(fake, local_key, tools, reasoning):
    """What the fake sends is itself held to google-genai's types, whole and streamed."""
    fake.reasoning = reasoning
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    if tools:
        body["tools"] = [{"functionDeclarations": [{"name": "f"}]}]
    headers = {"x-goog-api-key": "k"}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.url}/v1beta/models/m:generateContent", json=body,
                             headers=headers) as r:
            whole = assert_valid_response(await r.json())
        async with http.post(f"{fake.url}/v1beta/models/m:streamGenerateContent?alt=sse",
                             json=body, headers=headers) as r:
            chunks = [assert_valid_response(c) for c in sse_payloads(await r.read())]
    for answer in (whole, chunks[-1]):
        assert answer.candidates[0].finish_reason == "STOP"
        assert answer.usage_metadata.thoughts_token_count == 2
    parts = [p for c in chunks for p in c.candidates[0].content.parts]
    assert any(p.thought for p in parts) == reasoning
    assert any(p.function_call for p in parts) == tools
    signed = [p for p in parts if p.thought_signature]
    assert len(signed) == (1 if tools or reasoning else 0)
