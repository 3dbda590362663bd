"""Anthropic error bodies ↔ hub ErrorInfo: the one error table of this codec.

=================  ======  ==========================================================
hub ``kind``       status  Anthropic ``error.type``
=================  ======  ==========================================================
invalid_request    400     ``invalid_request_error``
context_overflow   400     ``invalid_request_error``, message worded "prompt is too
                           long: …" (Claude Code auto-compacts only on that wording)
authentication     401     ``authentication_error``
permission         403     ``permission_error`` (``billing_error`` 402 decodes here)
not_found          404     ``not_found_error``
request_too_large  413     ``request_too_large``
rate_limit         429     ``rate_limit_error`` + ``retry-after`` header
api_error          500     ``api_error`` (an upstream 5xx status other than 503/529 kept)
timeout            504     ``timeout_error``
overloaded         529     ``overloaded_error``
=================  ======  ==========================================================

Body: ``{"type": "error", "error": {"type", "message"}}``; in a stream, the same JSON as
an ``event: error``. Decoding an upstream error reads ``error.type`` first, the status
second, and recognises context overflow by its wording (Anthropic's "prompt is too long",
"input length and max_tokens exceed context limit", OpenAI's context_length_exceeded).
"""

from __future__ import annotations

import json
import math

from byecore_cli.codecs.sse import encode_event
from byecore_cli.hub import ErrorInfo

OUT = {
    "invalid_request": (400, "invalid_request_error"),
    "context_overflow": (400, "invalid_request_error"),
    "authentication": (401, "authentication_error"),
    "permission": (403, "permission_error"),
    "not_found": (404, "not_found_error"),
    "request_too_large": (413, "request_too_large"),
    "rate_limit": (429, "rate_limit_error"),
    "api_error": (500, "api_error"),
    "timeout": (504, "timeout_error"),
    "overloaded": (529, "overloaded_error"),
}
IN = {
    "invalid_request_error": "invalid_request",
    "authentication_error": "authentication",
    "permission_error": "permission",
    "billing_error": "permission",
    "not_found_error": "not_found",
    "request_too_large": "request_too_large",
    "rate_limit_error": "rate_limit",
    "api_error": "api_error",
    "timeout_error": "timeout",
    "overloaded_error": "overloaded",
}
BY_STATUS = {400: "invalid_request", 401: "authentication", 402: "permission",
             403: "permission", 404: "not_found", 408: "timeout", 413: "request_too_large",
             429: "rate_limit", 503: "overloaded", 504: "timeout", 529: "overloaded"}
OVERFLOW_WORDS = ("prompt is too long", "exceed context limit", "context_length_exceeded",
                  "context window", "maximum context length", "input is too long")
TOO_LONG = "prompt is too long"


def info(error_type, message, status: int | None = None) -> ErrorInfo:
    """Anthropic ``error.type``/message (and the HTTP status when known) → ErrorInfo."""
    message = message if isinstance(message, str) else "upstream error"
    kind = IN.get(error_type) if isinstance(error_type, str) else None
    if kind is None:
        kind = BY_STATUS.get(status or 0, "api_error")
    if kind in ("invalid_request", "request_too_large") and \
            any(w in message.lower() for w in OVERFLOW_WORDS):
        kind = "context_overflow"
    if status is None:
        status = OUT[kind][0]
    return ErrorInfo(status, kind, message)


def decode_error(status: int, body: bytes) -> ErrorInfo:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return info(error.get("type"), error.get("message"), status)
    text = body.decode("utf-8", "replace").strip() if isinstance(body, bytes) else ""
    return info(None, text[:2000] or f"upstream error (HTTP {status})", status)


def _shape(error: ErrorInfo) -> tuple[int, dict]:
    status, error_type = OUT.get(error.kind, OUT["api_error"])
    message = error.message or error_type
    if error.kind == "context_overflow" and TOO_LONG not in message.lower():
        message = f"{TOO_LONG}: {message}"
    if error.kind == "api_error" and 500 <= error.status < 600 and error.status not in (503, 529):
        status = error.status
    return status, {"type": "error", "error": {"type": error_type, "message": message}}


def encode_error(error: ErrorInfo) -> tuple[int, dict, dict[str, str]]:
    status, body = _shape(error)
    headers = {}
    if error.retry_after is not None:
        headers["retry-after"] = str(max(0, math.ceil(error.retry_after)))
    return status, body, headers


def encode_stream_error(error: ErrorInfo) -> bytes:
    return encode_event(json.dumps(_shape(error)[1], separators=(",", ":")), "error")
