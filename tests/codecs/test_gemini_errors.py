"""Google API errors both ways, including the one google-genai raises mid-stream."""

from __future__ import annotations

import json

import httpx2
import pytest
from google.genai import errors as sdk_errors

from byecore_cli.codecs.gemini import CODEC
from byecore_cli.hub import ErrorInfo
from tests.codecs.gemini_helpers import sdk_client, sdk_stream


@pytest.mark.parametrize(("kind", "status", "name"), [
    ("invalid_request", 400, "INVALID_ARGUMENT"), ("authentication", 401, "UNAUTHENTICATED"),
    ("permission", 403, "PERMISSION_DENIED"), ("not_found", 404, "NOT_FOUND"),
    ("rate_limit", 429, "RESOURCE_EXHAUSTED"), ("api_error", 500, "INTERNAL"),
    ("overloaded", 503, "UNAVAILABLE"), ("timeout", 504, "DEADLINE_EXCEEDED")])
def test_error_table_both_ways(kind, status, name):
    wire_status, body, headers = CODEC.encode_error(ErrorInfo(status, kind, "it broke"))
    assert (wire_status, body) == (status, {"error": {"code": status, "message": "it broke",
                                                      "status": name}})
    assert headers == {}
    back = CODEC.decode_error(wire_status, json.dumps(body).encode())
    assert (back.status, back.kind, back.message) == (status, kind, "it broke")


def test_retry_delay_goes_as_header_and_retry_info():
    status, body, headers = CODEC.encode_error(ErrorInfo(429, "rate_limit", "slow down",
                                                         retry_after=12.2))
    assert headers == {"retry-after": "13"}
    assert body["error"]["details"] == [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                         "retryDelay": "13s"}]
    assert CODEC.decode_error(status, json.dumps(body).encode()).retry_after == 13


def test_context_overflow_is_recognised_and_worded():
    real = {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message":
                      "The input token count (1200000) exceeds the maximum number of tokens "
                      "allowed (1048576)."}}
    assert CODEC.decode_error(400, json.dumps(real).encode()).kind == "context_overflow"
    _, body, _ = CODEC.encode_error(ErrorInfo(400, "context_overflow", "prompt is too long"))
    assert "exceeds the maximum number of tokens" in body["error"]["message"]
    assert CODEC.decode_error(400, json.dumps(body).encode()).kind == "context_overflow"


@pytest.mark.parametrize(("status", "body", "kind"), [
    (400, b'{"error":{"code":400,"message":"x","status":"FAILED_PRECONDITION"}}',
     "invalid_request"),
    (503, b"<html>Service Unavailable</html>", "overloaded"),
    (413, b'{"error":{"code":413,"message":"too big","status":"INVALID_ARGUMENT"}}',
     "request_too_large"),
    (500, b'[{"error":{"code":500,"message":"x","status":"INTERNAL"}}]', "api_error"),
    (429, b"", "rate_limit")])
def test_decoding_odd_bodies(status, body, kind):
    info = CODEC.decode_error(status, body)
    assert (info.status, info.kind) == (status, kind)
    assert info.message


def test_the_sdk_raises_our_error_body_as_the_right_api_error():
    status, body, headers = CODEC.encode_error(ErrorInfo(404, "not_found", "no such model"))
    client = sdk_client(lambda _r: httpx2.Response(status, json=body, headers=headers))
    with pytest.raises(sdk_errors.ClientError) as caught:
        client.models.generate_content(model="gemini-x", contents="hi")
    assert (caught.value.code, caught.value.status, caught.value.message) == (
        404, "NOT_FOUND", "no such model")


def test_stream_error_is_raised_by_the_sdk_after_chunks():
    raw = CODEC.encode_stream_error(ErrorInfo(503, "overloaded", "try later"))
    # a bare JSON line, the form @google/genai (Gemini CLI) parses as an ApiError
    assert json.loads(raw) == {"error": {"code": 503, "message": "try later",
                                         "status": "UNAVAILABLE"}}
    chunk = b'data: {"candidates":[{"content":{"parts":[{"text":"par"}]}}]}\r\n\r\n'
    for data in (raw, chunk + raw):
        with pytest.raises(sdk_errors.ServerError) as caught:
            sdk_stream(data)
        assert (caught.value.code, caught.value.status) == (503, "UNAVAILABLE")


@pytest.mark.parametrize(("ping", "safe"), [(b"\r\n\r\n", True), (b": keep-alive\n\n", False)])
def test_which_keep_alive_bytes_a_gemini_stream_may_carry(ping, safe):
    """A fact for whoever wires the proxy's pings: google-genai fails on an SSE comment."""
    chunk = b'data: {"candidates":[{"content":{"parts":[{"text":"hi"}]}}]}\r\n\r\n'
    try:
        chunks = sdk_stream(ping + chunk)
    except sdk_errors.UnknownApiResponseError:
        assert not safe
    else:
        assert safe and chunks[0].text == "hi"
