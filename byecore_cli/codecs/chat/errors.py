"""OpenAI-style errors: ``{"error": {"message", "type", "param", "code"}}``.

Encoding (hub kind → status, ``type``, ``code``); the OpenAI SDK picks its exception by
status, clients read ``code``:

===================  ======  =========================  =========================
invalid_request      400     ``invalid_request_error``  —
authentication       401     ``authentication_error``   ``invalid_api_key``
permission           403     ``permission_error``       —
not_found            404     ``not_found_error``        ``model_not_found``
request_too_large    413     ``invalid_request_error``  ``request_too_large``
rate_limit           429     ``rate_limit_error``       ``rate_limit_exceeded``
api_error            500     ``server_error``           — (an upstream 5xx keeps its status)
overloaded           503     ``server_error``           ``server_is_overloaded`` (529 → 503)
timeout              504     ``server_error``           ``timeout`` (408 kept)
context_overflow     400     ``invalid_request_error``  ``context_length_exceeded``
===================  ======  =========================  =========================

A context overflow's message always says "maximum context length" (what OpenCode and
LiteLLM-based clients match) and the code is ``context_length_exceeded`` (what Codex
matches). ``Retry-After`` (whole seconds, rounded up) goes in the headers when known.
Mid-stream errors are one ``data: {"error": …}`` event; no ``[DONE]`` follows.

Decoding accepts OpenAI's shape, ``{"error": "text"}``, vLLM's
``{"object": "error", "message", "type", "code"}``, FastAPI's ``{"detail": …}`` and plain
text; the kind comes from the status, except that an overflow is recognised by its code
or its wording at any 4xx status.
"""

from __future__ import annotations

import json
import math

from byecore_cli.codecs.sse import encode_event
from byecore_cli.hub import ErrorInfo

KINDS = {
    "invalid_request": (400, "invalid_request_error", None),
    "authentication": (401, "authentication_error", "invalid_api_key"),
    "permission": (403, "permission_error", None),
    "not_found": (404, "not_found_error", "model_not_found"),
    "request_too_large": (413, "invalid_request_error", "request_too_large"),
    "rate_limit": (429, "rate_limit_error", "rate_limit_exceeded"),
    "api_error": (500, "server_error", None),
    "overloaded": (503, "server_error", "server_is_overloaded"),
    "timeout": (504, "server_error", "timeout"),
    "context_overflow": (400, "invalid_request_error", "context_length_exceeded"),
}
STATUS_KINDS = {
    400: "invalid_request", 401: "authentication", 402: "permission", 403: "permission",
    404: "not_found", 408: "timeout", 413: "request_too_large", 422: "invalid_request",
    429: "rate_limit", 503: "overloaded", 504: "timeout", 529: "overloaded",
}
OVERFLOW_WORDS = (
    "context_length_exceeded", "maximum context length", "context length", "context window",
    "prompt is too long", "too many tokens", "input length and max_tokens exceed",
    "reduce the length",
)


def decode_error(status: int, body: bytes | str) -> ErrorInfo:
    text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body
    message, code, param = text.strip(), None, None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, dict):
        error = value.get("error", value)
        if isinstance(error, dict):
            found = error.get("message") or error.get("detail")
            code = error.get("code") or error.get("type")
            param = error.get("param") if isinstance(error.get("param"), str) else None
        else:
            found = error
        if found is not None:
            message = found if isinstance(found, str) else json.dumps(found)
    message = message[:2000] or f"upstream error (HTTP {status})"
    kind = STATUS_KINDS.get(status) or ("api_error" if status >= 500 or status < 400
                                        else "invalid_request")
    lowered = f"{code or ''} {message}".lower()
    if 400 <= status < 500 and any(word in lowered for word in OVERFLOW_WORDS):
        kind = "context_overflow"
    return ErrorInfo(status, kind, message, param=param)


def encode_error(error: ErrorInfo) -> tuple[int, dict, dict[str, str]]:
    status, body = _status_body(error)
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(max(0, math.ceil(error.retry_after)))
    return status, body, headers


def encode_stream_error(error: ErrorInfo) -> bytes:
    return encode_event(json.dumps(_status_body(error)[1], separators=(",", ":"),
                                   ensure_ascii=False))


def _status_body(error: ErrorInfo) -> tuple[int, dict]:
    status, kind, code = KINDS.get(error.kind, KINDS["api_error"])
    if (error.kind == "api_error" and 500 <= error.status < 600 and error.status != 529) or \
            (error.kind == "timeout" and error.status in (408, 504)):
        status = error.status
    message = error.message
    if error.kind == "context_overflow" and "maximum context length" not in message.lower():
        message = f"This model's maximum context length was exceeded: {message}"
    return status, {"error": {"message": message, "type": kind, "param": error.param,
                              "code": code}}


def decode_stream_error(value: dict) -> ErrorInfo:
    """An ``{"error": …}`` chunk in a stream, or the body of a 2xx answer (no error status
    to go by). The upstream's ``code`` is kept in the message, where users look."""
    error = value.get("error")
    code = None
    if isinstance(error, dict):
        message = error.get("message")
        words = f"{error.get('code') or ''} {error.get('type') or ''}".lower()
        code = error.get("code") if isinstance(error.get("code"), (str, int)) else None
    else:
        message, words = error, ""
    message = message if isinstance(message, str) and message else json.dumps(error)[:2000]
    if code is not None and str(code) not in message:
        message = f"{message} (code {code})"
    lowered = f"{words} {message.lower()}"
    if any(word in lowered for word in OVERFLOW_WORDS):
        return ErrorInfo(400, "context_overflow", message)
    if "rate_limit" in lowered or "rate limit" in lowered:
        return ErrorInfo(429, "rate_limit", message)
    if "overloaded" in lowered:
        return ErrorInfo(503, "overloaded", message)
    kind = _kind_of(error) if isinstance(error, dict) else None
    if kind is not None:  # the same error as a body would have had
        return ErrorInfo(KINDS[kind][0], kind, message)
    return ErrorInfo(500, "api_error", message)


def _kind_of(error: dict) -> str | None:
    """The kind an error object names by its ``code`` (``invalid_api_key``), its HTTP
    status (``code: 401``, ``status``), or its ``type`` (``authentication_error``)."""
    code, kind_type = error.get("code"), error.get("type")
    for kind, (_, _, wire_code) in KINDS.items():
        if wire_code is not None and code == wire_code:
            return kind
    for number in (code, error.get("status")):
        if isinstance(number, int) and number in STATUS_KINDS:
            return STATUS_KINDS[number]
    if kind_type in ("authentication_error", "permission_error", "not_found_error",
                     "invalid_request_error"):
        return next(k for k, (_, t, _) in KINDS.items() if t == kind_type)
    return None
