"""Responses errors: the HTTP error body, ``response.failed`` codes, and the way back.

HTTP body: ``{"error": {"message", "type", "param", "code"}}``. Kind table (status is
the ErrorInfo's own, except Anthropic's 529 which OpenAI clients do not know → 503):

=================  ======  =====================  =========================  ==================
hub kind           status  type                   code                       response.failed
=================  ======  =====================  =========================  ==================
invalid_request    400     invalid_request_error  —                          invalid_prompt
authentication     401     invalid_request_error  invalid_api_key            invalid_prompt
permission         403     invalid_request_error  permission_denied          invalid_prompt
not_found          404     invalid_request_error  model_not_found            invalid_prompt
request_too_large  413     invalid_request_error  request_too_large          invalid_prompt
rate_limit         429     rate_limit_error       rate_limit_exceeded        rate_limit_exceeded
api_error          500     server_error           server_error               server_error
overloaded         503     server_error           —                          server_error
timeout            504     server_error           timeout                    server_error
context_overflow   400     invalid_request_error  context_length_exceeded    context_length_exceeded
=================  ======  =====================  =========================  ==================

Why these codes, for Codex (protocols.md C5): ``context_length_exceeded`` inside
``response.failed`` makes it compact the conversation; ``invalid_prompt`` stops it from
retrying a permanent error; ``server_error`` and ``rate_limit_exceeded`` are retried, the
latter after the delay it reads from "try again in Ns" in the message. Overloaded has no
code on purpose: ``server_is_overloaded`` would make Codex give up instead of retrying.
"""

from __future__ import annotations

import json
import math
import re
import time

from byecore_cli.codecs.responses.items import DUMPS
from byecore_cli.codecs.sse import encode_event
from byecore_cli.hub import ErrorInfo

KINDS: dict[str, tuple[int, str, str | None, str]] = {
    "invalid_request": (400, "invalid_request_error", None, "invalid_prompt"),
    "authentication": (401, "invalid_request_error", "invalid_api_key", "invalid_prompt"),
    "permission": (403, "invalid_request_error", "permission_denied", "invalid_prompt"),
    "not_found": (404, "invalid_request_error", "model_not_found", "invalid_prompt"),
    "request_too_large": (413, "invalid_request_error", "request_too_large", "invalid_prompt"),
    "rate_limit": (429, "rate_limit_error", "rate_limit_exceeded", "rate_limit_exceeded"),
    "api_error": (500, "server_error", "server_error", "server_error"),
    "overloaded": (503, "server_error", None, "server_error"),
    "timeout": (504, "server_error", "timeout", "server_error"),
    "context_overflow": (400, "invalid_request_error", "context_length_exceeded",
                         "context_length_exceeded"),
}
# response.failed / error-body codes → hub kind (the rest by HTTP status)
CODES = {
    "context_length_exceeded": "context_overflow",
    "rate_limit_exceeded": "rate_limit",
    "insufficient_quota": "rate_limit",
    "server_error": "api_error",
    "server_is_overloaded": "overloaded",
    "slow_down": "overloaded",
    "invalid_api_key": "authentication",
    "model_not_found": "not_found",
}
STATUSES = {400: "invalid_request", 401: "authentication", 403: "permission",
            404: "not_found", 408: "timeout", 413: "request_too_large", 429: "rate_limit",
            503: "overloaded", 504: "timeout", 529: "overloaded"}
KIND_STATUS = {kind: row[0] for kind, row in KINDS.items()}
OVERFLOW = re.compile(r"context[_ ]length|context window|maximum context|prompt is too long|"
                      r"too many tokens|input length and max_tokens exceed", re.I)
RETRY_IN = re.compile(r"try again in\s*(\d+(?:\.\d+)?)\s*(ms|s|seconds?)", re.I)


def _message(error: ErrorInfo) -> str:
    message = error.message or error.kind
    if error.kind == "rate_limit" and error.retry_after and not RETRY_IN.search(message):
        message += f" Please try again in {error.retry_after:g}s."
    return message


def encode_error(error: ErrorInfo) -> tuple[int, dict, dict[str, str]]:
    status, kind, code, _ = KINDS.get(error.kind, KINDS["api_error"])
    if 400 <= error.status < 600 and error.status != 529:
        status = error.status
    body = {"error": {"message": _message(error), "type": kind, "param": error.param,
                      "code": code}}
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(max(0, math.ceil(error.retry_after)))
    return status, body, headers


def failed_error(error: ErrorInfo) -> dict:
    """The ``error`` object of a ``response.failed``."""
    return {"code": KINDS.get(error.kind, KINDS["api_error"])[3], "message": _message(error)}


def encode_stream_error(error: ErrorInfo, model: str = "") -> bytes:
    """A whole error stream, for when nothing was sent yet: created, then failed.

    Errors in the middle of a stream go through the stream encoder (``StreamError``),
    which keeps the response id and sequence numbers.
    """
    base = {"id": f"resp_error_{int(time.time() * 1000)}", "object": "response",
            "created_at": int(time.time()), "model": model, "output": [],
            "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
            "status": "in_progress", "error": None, "incomplete_details": None}
    failed = {**base, "status": "failed", "error": failed_error(error)}
    return (encode_event(DUMPS({"type": "response.created", "sequence_number": 0,
                                "response": base}), "response.created")
            + encode_event(DUMPS({"type": "response.failed", "sequence_number": 1,
                                  "response": failed}), "response.failed"))


def retry_after(message: str) -> float | None:
    match = RETRY_IN.search(message)
    if not match:
        return None
    value = float(match.group(1))
    return value / 1000 if match.group(2).lower() == "ms" else value


def error_info(code: str | None, message: str, status: int | None = None,
               param: str | None = None) -> ErrorInfo:
    """An error described by a Responses code and/or an HTTP status, as hub ErrorInfo."""
    kind = CODES.get(code or "")
    if kind is None and OVERFLOW.search(message):
        kind = "context_overflow"
    if kind is None and status:
        kind = STATUSES.get(status) or ("api_error" if status >= 500 else "invalid_request")
    if kind is None:  # a response.failed code we do not know: Codex would retry it
        kind = "api_error" if not code or code.startswith("server") else "invalid_request"
    return ErrorInfo(status or KIND_STATUS[kind], kind, message,
                     retry_after=retry_after(message), param=param)


def decode_error(status: int, body: bytes) -> ErrorInfo:
    text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else str(body)
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    error = value.get("error") if isinstance(value, dict) else None
    if isinstance(error, dict):
        message = error.get("message")
        code = error.get("code") if isinstance(error.get("code"), str) else None
        param = error.get("param") if isinstance(error.get("param"), str) else None
        if not isinstance(message, str):
            message = text
        return error_info(code, message, status, param)
    if isinstance(error, str):
        return error_info(None, error, status)
    return error_info(None, text.strip() or f"upstream answered HTTP {status}", status)
