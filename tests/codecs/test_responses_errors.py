"""Responses errors: HTTP bodies and statuses, Retry-After, and reading upstream errors."""

from __future__ import annotations

import json

import pytest

from byecore_cli.hub import ErrorInfo
from tests.codecs.responses_helpers import CODEC


@pytest.mark.parametrize(("kind", "status", "code"), [
    ("invalid_request", 400, None), ("authentication", 401, "invalid_api_key"),
    ("permission", 403, "permission_denied"), ("not_found", 404, "model_not_found"),
    ("request_too_large", 413, "request_too_large"), ("rate_limit", 429, "rate_limit_exceeded"),
    ("api_error", 500, "server_error"), ("overloaded", 503, None), ("timeout", 504, "timeout"),
    ("context_overflow", 400, "context_length_exceeded"),
])
def test_error_table(kind, status, code):
    got_status, body, _ = CODEC.encode_error(ErrorInfo(status, kind, "boom", param="input"))
    assert got_status == status
    assert body == {"error": {"message": "boom", "type": body["error"]["type"],
                              "param": "input", "code": code}}
    back = CODEC.decode_error(got_status, json.dumps(body).encode())
    assert back.kind == kind and back.status == status


def test_anthropic_529_becomes_503_and_rate_limits_carry_retry_after():
    assert CODEC.encode_error(ErrorInfo(529, "overloaded", "busy"))[0] == 503
    status, body, headers = CODEC.encode_error(ErrorInfo(429, "rate_limit", "slow down",
                                                         retry_after=1.2))
    assert status == 429 and headers == {"Retry-After": "2"}
    assert "try again in 1.2s" in body["error"]["message"]  # Codex reads the delay from here


@pytest.mark.parametrize(("status", "body", "kind"), [
    (400, b'{"error":{"message":"This model\'s maximum context length is 8192 tokens",'
          b'"type":"invalid_request_error","param":"messages","code":null}}', "context_overflow"),
    (400, b'{"error":{"message":"prompt is too long: 210000 tokens > 200000"}}',
     "context_overflow"),
    (401, b'{"error":{"message":"bad key","type":"invalid_request_error",'
          b'"code":"invalid_api_key"}}', "authentication"),
    (429, b'{"error":{"message":"Rate limit reached. Please try again in 20ms."}}', "rate_limit"),
    (502, b"<html>Bad Gateway</html>", "api_error"),
    (503, b"", "overloaded"),
    (404, b'{"error":"no such model"}', "not_found"),
    (418, b"[1,2]", "invalid_request"),
])
def test_decode_upstream_errors(status, body, kind):
    info = CODEC.decode_error(status, body)
    assert info.kind == kind and info.status == status and info.message
    if b"20ms" in body:
        assert info.retry_after == 0.02
