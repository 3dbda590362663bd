"""Anthropic error bodies, statuses and stream errors."""

from __future__ import annotations

import json

import pytest

from byecore_cli.codecs import get
from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.hub import ErrorInfo

CODEC = get("messages")


@pytest.mark.parametrize(("kind", "status", "wire_type"), [
    ("invalid_request", 400, "invalid_request_error"),
    ("authentication", 401, "authentication_error"),
    ("permission", 403, "permission_error"),
    ("not_found", 404, "not_found_error"),
    ("request_too_large", 413, "request_too_large"),
    ("rate_limit", 429, "rate_limit_error"),
    ("api_error", 500, "api_error"),
    ("timeout", 504, "timeout_error"),
    ("overloaded", 529, "overloaded_error"),
    ("context_overflow", 400, "invalid_request_error"),
])
def test_encode_error_table(kind, status, wire_type):
    got_status, body, _ = CODEC.encode_error(ErrorInfo(503, kind, "boom"))
    assert got_status == status
    assert body == {"type": "error", "error": {"type": wire_type, "message": body["error"][
        "message"]}}
    back = CODEC.decode_error(got_status, json.dumps(body).encode())
    assert back.kind == kind


def test_context_overflow_is_worded_for_claude_code_auto_compaction():
    _, body, _ = CODEC.encode_error(ErrorInfo(400, "context_overflow",
                                              "This model's maximum context length is 128000"))
    assert body["error"]["message"].startswith("prompt is too long: ")
    _, body, _ = CODEC.encode_error(ErrorInfo(400, "context_overflow",
                                              "prompt is too long: 210000 tokens > 200000"))
    assert body["error"]["message"] == "prompt is too long: 210000 tokens > 200000"


def test_retry_after_and_upstream_5xx_status():
    status, _, headers = CODEC.encode_error(ErrorInfo(429, "rate_limit", "slow", retry_after=1.2))
    assert (status, headers) == (429, {"retry-after": "2"})
    assert CODEC.encode_error(ErrorInfo(502, "api_error", "bad gateway"))[0] == 502


@pytest.mark.parametrize(("status", "body", "kind"), [
    (400, b'{"type":"error","error":{"type":"invalid_request_error","message":'
          b'"prompt is too long: 201000 tokens > 200000 maximum"}}', "context_overflow"),
    (400, b'{"type":"error","error":{"type":"invalid_request_error","message":'
          b'"input length and max_tokens exceed context limit: 1 + 2 > 2"}}', "context_overflow"),
    (529, b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
     "overloaded"),
    (402, b'{"type":"error","error":{"type":"billing_error","message":"pay"}}', "permission"),
    (503, b"<html>Service Unavailable</html>", "overloaded"),
    (500, b"", "api_error"),
    (418, b'{"error": "teapot"}', "api_error"),
])
def test_decode_upstream_errors(status, body, kind):
    info = CODEC.decode_error(status, body)
    assert info.kind == kind and info.status == status and info.message


def test_stream_error_event():
    raw = CODEC.encode_stream_error(ErrorInfo(500, "api_error", "upstream died"))
    (event,) = SSEDecoder().feed(raw)
    assert event.event == "error"
    assert json.loads(event.data) == {"type": "error", "error": {"type": "api_error",
                                                                 "message": "upstream died"}}
