"""Google API error bodies ↔ hub ErrorInfo: the one error table of this codec.

=================  ======  ======================  ======================================
hub ``kind``       status  Google ``status``       decoded also from
=================  ======  ======================  ======================================
invalid_request    400     ``INVALID_ARGUMENT``    ``FAILED_PRECONDITION``, ``OUT_OF_RANGE``
context_overflow   400     ``INVALID_ARGUMENT``    its wording ("input token count … exceeds
                                                   the maximum number of tokens")
request_too_large  400     ``INVALID_ARGUMENT``    HTTP 413
authentication     401     ``UNAUTHENTICATED``
permission         403     ``PERMISSION_DENIED``
not_found          404     ``NOT_FOUND``
rate_limit         429     ``RESOURCE_EXHAUSTED``  (+ ``RetryInfo`` detail, ``retry-after``)
api_error          500     ``INTERNAL``            ``UNKNOWN``, ``ABORTED``, ``CANCELLED``…
overloaded         503     ``UNAVAILABLE``         HTTP 529
timeout            504     ``DEADLINE_EXCEEDED``
=================  ======  ======================  ======================================

Body: ``{"error": {"code": 429, "message": "…", "status": "RESOURCE_EXHAUSTED",
"details": [...]}}``. A known retry delay goes out both as a ``retry-after`` header and
as a ``google.rpc.RetryInfo`` detail (``"retryDelay": "30s"``), which Gemini CLI reads;
decoding reads the detail back. In a stream, the same JSON ends the stream as a bare
line (``encode_stream_error``); a ``data: {"error": …}`` event from an upstream is read
too (stream_decode.py). Decoding reads ``status`` first, the HTTP
status (or ``code``) second.
"""

from __future__ import annotations

import json
import math
import re

from byecore_cli.hub import ErrorInfo

OUT = {
    "invalid_request": (400, "INVALID_ARGUMENT"),
    "context_overflow": (400, "INVALID_ARGUMENT"),
    "request_too_large": (400, "INVALID_ARGUMENT"),
    "authentication": (401, "UNAUTHENTICATED"),
    "permission": (403, "PERMISSION_DENIED"),
    "not_found": (404, "NOT_FOUND"),
    "rate_limit": (429, "RESOURCE_EXHAUSTED"),
    "api_error": (500, "INTERNAL"),
    "overloaded": (503, "UNAVAILABLE"),
    "timeout": (504, "DEADLINE_EXCEEDED"),
}
IN = {"INVALID_ARGUMENT": "invalid_request", "FAILED_PRECONDITION": "invalid_request",
      "OUT_OF_RANGE": "invalid_request", "UNAUTHENTICATED": "authentication",
      "PERMISSION_DENIED": "permission", "NOT_FOUND": "not_found",
      "RESOURCE_EXHAUSTED": "rate_limit", "INTERNAL": "api_error", "UNKNOWN": "api_error",
      "ABORTED": "api_error", "CANCELLED": "api_error", "DATA_LOSS": "api_error",
      "UNAVAILABLE": "overloaded", "DEADLINE_EXCEEDED": "timeout"}
BY_STATUS = {400: "invalid_request", 401: "authentication", 403: "permission",
             404: "not_found", 408: "timeout", 413: "request_too_large", 429: "rate_limit",
             503: "overloaded", 504: "timeout", 529: "overloaded"}
OVERFLOW_WORDS = ("exceeds the maximum number of tokens", "input token count",
                  "prompt is too long", "context_length_exceeded", "context window",
                  "maximum context length")
OVERFLOW = "The input token count exceeds the maximum number of tokens allowed"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_DELAY = re.compile(r"(\d+(?:\.\d+)?)s")


def _retry_after(details) -> float | None:
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and detail.get("@type") == RETRY_INFO:
            match = _DELAY.fullmatch(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def info(error: dict, status: int | None) -> ErrorInfo:
    """A Google ``error`` object (and the HTTP status when known) → ErrorInfo."""
    message = error.get("message")
    message = message if isinstance(message, str) and message else "upstream error"
    code = error.get("code")
    status = status or (code if isinstance(code, int) and 400 <= code < 600 else None)
    kind = IN.get(error.get("status")) if isinstance(error.get("status"), str) else None
    if kind is None or (kind == "invalid_request" and status == 413):
        kind = BY_STATUS.get(status or 0, "api_error")
    if kind in ("invalid_request", "request_too_large") and \
            any(w in message.lower() for w in OVERFLOW_WORDS):
        kind = "context_overflow"
    return ErrorInfo(status or OUT[kind][0], kind, message,
                     retry_after=_retry_after(error.get("details")))


def decode_error(status: int, body: bytes) -> ErrorInfo:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, list) and data and isinstance(data[0], dict):
        data = data[0]  # a streamGenerateContent without alt=sse answers a JSON array
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return info(error, status)
    text = body.decode("utf-8", "replace").strip() if isinstance(body, bytes) else ""
    return info({"message": text[:2000] or f"upstream error (HTTP {status})"}, status)


def error_body(error: ErrorInfo) -> tuple[int, dict]:
    status, name = OUT.get(error.kind, OUT["api_error"])
    if error.kind == "api_error" and 500 <= error.status < 600 and error.status != 503:
        status = error.status
    message = error.message or name
    if error.kind == "context_overflow" and \
            not any(w in message.lower() for w in OVERFLOW_WORDS[:2]):
        message = f"{OVERFLOW}: {message}"
    body: dict = {"code": status, "message": message, "status": name}
    if error.retry_after is not None:
        delay = max(0, math.ceil(error.retry_after))
        body["details"] = [{"@type": RETRY_INFO, "retryDelay": f"{delay}s"}]
    return status, {"error": body}


def encode_error(error: ErrorInfo) -> tuple[int, dict, dict[str, str]]:
    status, body = error_body(error)
    headers = {}
    if error.retry_after is not None:
        headers["retry-after"] = str(max(0, math.ceil(error.retry_after)))
    return status, body, headers


def encode_stream_error(error: ErrorInfo) -> bytes:
    """The error that ends a stream after a 200: the bare JSON object on its own line, NOT
    a ``data:`` event. That is the form both Google SDKs look for mid-stream: @google/genai
    (Gemini CLI) parses each network read as JSON and throws an ``ApiError`` with the code
    when it holds an ``error`` (a ``data:`` event would only be read as an empty chunk);
    google-genai gathers non-``data:`` lines until the braces balance and raises it too."""
    return json.dumps(error_body(error)[1], ensure_ascii=False,
                      separators=(",", ":")).encode() + b"\n"
