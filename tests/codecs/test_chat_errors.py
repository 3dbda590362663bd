"""OpenAI-style errors: decoding an upstream's, encoding one for a Chat client."""

from __future__ import annotations

import json

import pytest

from byecore_cli.codecs import get
from byecore_cli.hub import ErrorInfo

chat = get("chat")


@pytest.mark.parametrize(("status", "body", "kind"), [
    (400, {"error": {"message": "This model's maximum context length is 128000 tokens.",
                     "type": "invalid_request_error", "param": "messages",
                     "code": "context_length_exceeded"}}, "context_overflow"),
    (400, {"object": "error", "message": "This model's maximum context length is 32768 "
           "tokens. However, you requested 40000 tokens", "type": "BadRequestError",
           "code": 400}, "context_overflow"),
    (413, {"error": {"message": "Request too large"}}, "request_too_large"),
    (400, {"error": {"message": "Invalid value for 'temperature'", "code": None}},
     "invalid_request"),
    (401, {"error": {"message": "Incorrect API key", "code": "invalid_api_key"}},
     "authentication"),
    (402, {"error": "Insufficient Balance"}, "permission"),
    (403, "forbidden", "permission"),
    (404, {"detail": "Not Found"}, "not_found"),
    (422, {"detail": [{"loc": ["body", "messages"], "msg": "field required"}]},
     "invalid_request"),
    (429, {"error": {"message": "Rate limit reached", "type": "requests",
                     "code": "rate_limit_exceeded"}}, "rate_limit"),
    (500, "<html>oops</html>", "api_error"),
    (502, "", "api_error"),
    (503, {"error": {"message": "The server is overloaded"}}, "overloaded"),
    (504, "gateway timeout", "timeout"),
])
def test_decode(status, body, kind):
    raw = body if isinstance(body, str) else json.dumps(body)
    info = chat.decode_error(status, raw.encode())
    assert info.kind == kind and info.status == status and info.message


def test_decode_keeps_message_and_param():
    info = chat.decode_error(400, b'{"error":{"message":"bad","param":"tools[0]"}}')
    assert (info.message, info.param) == ("bad", "tools[0]")


@pytest.mark.parametrize(("info", "status", "type_", "code"), [
    (ErrorInfo(400, "invalid_request", "bad"), 400, "invalid_request_error", None),
    (ErrorInfo(401, "authentication", "no key"), 401, "authentication_error", "invalid_api_key"),
    (ErrorInfo(403, "permission", "no"), 403, "permission_error", None),
    (ErrorInfo(404, "not_found", "no model"), 404, "not_found_error", "model_not_found"),
    (ErrorInfo(413, "request_too_large", "big"), 413, "invalid_request_error",
     "request_too_large"),
    (ErrorInfo(429, "rate_limit", "slow"), 429, "rate_limit_error", "rate_limit_exceeded"),
    (ErrorInfo(502, "api_error", "upstream broke"), 502, "server_error", None),
    (ErrorInfo(529, "overloaded", "busy"), 503, "server_error", "server_is_overloaded"),
    (ErrorInfo(504, "timeout", "slow"), 504, "server_error", "timeout"),
    (ErrorInfo(400, "context_overflow", "prompt is too long: 210000 tokens > 200000 maximum"),
     400, "invalid_request_error", "context_length_exceeded"),
])
def test_encode(info, status, type_, code):
    got_status, body, headers = chat.encode_error(info)
    assert got_status == status
    assert body["error"]["type"] == type_ and body["error"]["code"] == code
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert headers == {}


def test_context_overflow_wording_and_retry_after():
    _, body, _ = chat.encode_error(ErrorInfo(400, "context_overflow", "prompt is too long"))
    assert "maximum context length" in body["error"]["message"]
    assert "prompt is too long" in body["error"]["message"]
    status, _, headers = chat.encode_error(ErrorInfo(429, "rate_limit", "slow",
                                                     retry_after=2.2))
    assert status == 429 and headers == {"Retry-After": "3"}


def test_errors_through_the_sdk():
    import httpx2 as httpx
    import openai

    status, body, headers = chat.encode_error(ErrorInfo(429, "rate_limit", "slow",
                                                        retry_after=1))

    def handler(_request):
        return httpx.Response(status, json=body, headers=headers)
    client = openai.OpenAI(api_key="k", base_url="http://gateway.test/v1", max_retries=0,
                           http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert caught.value.code == "rate_limit_exceeded"


def test_stream_error_round_trip():
    raw = chat.encode_stream_error(ErrorInfo(400, "context_overflow", "too long"))
    assert raw.startswith(b"data: {") and raw.endswith(b"\n\n")
    from byecore_cli.codecs.sse import SSEDecoder
    from byecore_cli.hub import Request
    decoder = chat.stream_decoder(Request(model="m"))
    events = [e for sse in SSEDecoder().feed(raw) for e in decoder.feed(sse)]
    assert events[-1].error.kind == "context_overflow"
