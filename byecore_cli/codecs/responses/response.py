"""Responses ``Response`` object ↔ hub ``Response``; output items; usage; status.

Status table (hub stop → Responses; the decode direction reverses it):

================  ==========================================================
hub StopReason    Responses
================  ==========================================================
END, TOOL_CALLS,  ``status: "completed"`` (a tool turn is "completed + call items")
STOP_SEQUENCE,
REFUSAL, PAUSE
LENGTH            ``status: "incomplete"``, ``incomplete_details.reason: "max_output_tokens"``
CONTENT_FILTER    ``status: "incomplete"``, ``incomplete_details.reason: "content_filter"``
CONTEXT_OVERFLOW  ``status: "failed"``, ``error.code: "context_length_exceeded"``
================  ==========================================================

A refusal is sent as ``output_text`` (Codex drops a message holding a ``refusal`` part).
Decoding an upstream's body: ``status: "failed"``, or an ``error`` object with no
``completed``/``incomplete`` status, raises ``UpstreamError`` (the upstream's error, its
code kept in the message); a body that is not a valid Response (``output`` not an array,
an item without its fields, counts as strings…) raises ``UpstreamFault``. A missing or
null ``output``, ``usage`` or ``created_at`` is fine.

Usage: ``input_tokens`` includes cached tokens on both sides (hub and Responses), and
``total_tokens`` is always present (Codex requires it). Output items other than
reasoning, message, function_call and custom_tool_call (hosted-tool calls) are dropped
when decoding: no other protocol can show them. Images in a hub response are dropped
too (Responses has no assistant image part).
"""

from __future__ import annotations

import time
from typing import Any

from byecore_cli.codecs.base import CodecError, UpstreamFault, token_count
from byecore_cli.codecs.responses.errors import error_info, failed_error
from byecore_cli.codecs.responses.items import (
    P,
    decode_reasoning,
    encode_reasoning,
    fail,
    meta,
    output_text,
)
from byecore_cli.codecs.validate import arr, obj, string
from byecore_cli.hub import (
    ErrorInfo,
    Reasoning,
    Request,
    Response,
    StopReason,
    Text,
    ToolCall,
    Usage,
    meta_for,
)
from byecore_cli.hub.assemble import UpstreamError

INCOMPLETE = {StopReason.LENGTH: "max_output_tokens",
              StopReason.CONTENT_FILTER: "content_filter"}
INCOMPLETE_BACK = {"max_output_tokens": StopReason.LENGTH,
                   "content_filter": StopReason.CONTENT_FILTER}
PREFIX = {Text: "msg", Reasoning: "rs", ToolCall: "fc"}


# --- decode (upstream body → hub) ----------------------------------------------------

def decode_usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    details = raw.get("input_tokens_details") if isinstance(
        raw.get("input_tokens_details"), dict) else {}
    out_details = raw.get("output_tokens_details") if isinstance(
        raw.get("output_tokens_details"), dict) else {}

    def count(where: dict, key: str, path: str = "usage") -> int:
        return token_count(where.get(key), f"{path}.{key}")

    return Usage(
        input_tokens=count(raw, "input_tokens"),
        output_tokens=count(raw, "output_tokens"),
        cache_read_tokens=count(details, "cached_tokens", "usage.input_tokens_details"),
        cache_write_tokens=count(details, "cache_write_tokens", "usage.input_tokens_details"),
        reasoning_tokens=count(out_details, "reasoning_tokens", "usage.output_tokens_details"),
    )


def decode_output_item(item: Any, param: str) -> list:
    """One output item as hub parts (empty for item types no other protocol knows)."""
    item = obj(item, param)
    kind = item.get("type")
    item_id = string(item.get("id"), f"{param}.id", optional=True)
    if kind == "message":
        parts = []
        phase = item.get("phase")
        for i, raw in enumerate(arr(item.get("content") or [], f"{param}.content")):
            raw = obj(raw, f"{param}.content[{i}]")
            string(raw.get("type"), f"{param}.content[{i}].type")
            refusal = raw.get("type") == "refusal"
            text = raw.get("refusal") if refusal else raw.get("text")
            parts.append(Text(string(text, f"{param}.content[{i}].text"),
                              meta(id=item_id, phase=phase, refusal=refusal or None,
                                   annotations=raw.get("annotations") or None)))
        return parts
    if kind == "reasoning":
        return [decode_reasoning(item, param)]
    if kind in ("function_call", "custom_tool_call"):
        custom = kind == "custom_tool_call"
        field = "input" if custom else "arguments"
        return [ToolCall(
            id=string(item.get("call_id"), f"{param}.call_id"),
            name=string(item.get("name"), f"{param}.name"),
            arguments=string(item.get(field), f"{param}.{field}"),
            kind="custom" if custom else "function",
            namespace=string(item.get("namespace"), f"{param}.namespace", optional=True),
            meta=meta(id=item_id),
        )]
    if not isinstance(kind, str):
        raise fail("output item needs a type", f"{param}.type")
    return []


def failure(raw: Any) -> ErrorInfo:
    """The hub error for a failed response's ``error`` object (its code kept in the
    message too, for the user reading it)."""
    error = raw if isinstance(raw, dict) else {}
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    message = raw if isinstance(raw, str) else message  # {"error": "text"}
    code = error.get("code") if isinstance(error.get("code"), str) else None
    info = error_info(code, message or "the upstream response failed")
    if code and code not in info.message:
        info.message = f"{info.message} (code {code})"
    return info


def decode_stop(status: Any, incomplete: Any, parts: list) -> StopReason:
    if status == "incomplete":
        reason = incomplete.get("reason") if isinstance(incomplete, dict) else None
        return INCOMPLETE_BACK.get(reason, StopReason.LENGTH)
    if any(isinstance(p, ToolCall) for p in parts):
        return StopReason.TOOL_CALLS
    if any(meta_for(p, P).get("refusal") for p in parts):
        return StopReason.REFUSAL
    return StopReason.END


def decode_response(body: Any, request: Request) -> Response:
    """An upstream's answer; ``UpstreamFault`` (or ``UpstreamError``) when it is not one."""
    try:
        return _decode_response(body, request)
    except UpstreamFault:
        raise
    except CodecError as exc:  # the shared item readers (items.py) speak CodecError
        raise UpstreamFault(exc.message, where=exc.param) from None
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        raise UpstreamFault(f"unreadable answer ({type(exc).__name__}: {exc})") from exc


def _decode_response(body: Any, request: Request) -> Response:
    body = obj(body, "body")
    status = body.get("status")
    error = body.get("error")
    if status == "failed" or (error and status not in ("completed", "incomplete")):
        raise UpstreamError(failure(error))
    if status is not None and not isinstance(status, str):
        raise UpstreamFault("must be a string", where="status")
    parts: list = []
    output = body.get("output")
    for i, item in enumerate(arr(output, "output") if output is not None else ()):
        parts.extend(decode_output_item(item, f"output[{i}]"))
    created = body.get("created_at")
    return Response(
        id=string(body.get("id"), "id", optional=True) or "",
        model=string(body.get("model"), "model", optional=True) or request.model,
        parts=parts,
        stop=decode_stop(status, body.get("incomplete_details"), parts),
        usage=decode_usage(body.get("usage")),
        created=int(created) if isinstance(created, (int, float)) else None,
    )


# --- encode (hub → client body) ------------------------------------------------------

def response_id(raw: str) -> str:
    return raw if raw.startswith("resp_") else f"resp_{raw or int(time.time() * 1000)}"


def item_id(part: Any, base: str, index: int) -> str:
    own = meta_for(part, P).get("id")
    if own:
        return own
    prefix = "ctc" if isinstance(part, ToolCall) and part.kind == "custom" else PREFIX[type(part)]
    return f"{prefix}_{base}_{index}"


def encode_usage(usage: Usage) -> dict:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cache_read_tokens,
                                 "cache_write_tokens": usage.cache_write_tokens},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


def encode_call(part: ToolCall, iid: str, *, done: bool = True) -> dict:
    if part.kind == "custom":
        item = {"id": iid, "type": "custom_tool_call", "call_id": part.id, "name": part.name,
                "input": part.arguments if done else ""}
    else:
        item = {"id": iid, "type": "function_call", "status": "completed" if done else
                "in_progress", "call_id": part.id, "name": part.name,
                "arguments": (part.arguments or "{}") if done else ""}
    if part.namespace:
        item["namespace"] = part.namespace
    return item


def encode_message(part: Text, iid: str, content: list, *, done: bool = True) -> dict:
    item = {"id": iid, "type": "message", "role": "assistant",
            "status": "completed" if done else "in_progress", "content": content}
    phase = meta_for(part, P).get("phase")
    if phase:
        item["phase"] = phase
    return item


def encode_output(parts: list, base: str) -> list[dict]:
    items: list[dict] = []
    for index, part in enumerate(parts):
        iid = item_id(part, base, index)
        if isinstance(part, Text):
            last = items[-1] if items else None
            if last and last["id"] == iid and last["type"] == "message":
                last["content"].append(output_text(part))
            else:
                items.append(encode_message(part, iid, [output_text(part)]))
        elif isinstance(part, Reasoning):
            items.append(encode_reasoning(part, iid))
        elif isinstance(part, ToolCall):
            items.append(encode_call(part, iid))
    return items


def envelope(rid: str, request: Request, created: int, status: str) -> dict:
    """The Response object without output and usage (shared with the stream encoder)."""
    return {"id": rid, "object": "response", "created_at": created, "status": status,
            "error": None, "incomplete_details": None, "model": request.model, "output": [],
            "parallel_tool_calls": request.parallel_tool_calls is not False,
            "tool_choice": "auto", "tools": [], "max_output_tokens": request.max_tokens}


def finish(body: dict, stop: StopReason, usage: Usage, message: str = "") -> None:
    """Set status, incomplete_details / error and usage on a final Response object."""
    if stop == StopReason.CONTEXT_OVERFLOW:
        body["status"] = "failed"
        body["error"] = failed_error(ErrorInfo(
            400, "context_overflow", message or "the prompt does not fit the model's context"))
    elif stop in INCOMPLETE:
        body["status"] = "incomplete"
        body["incomplete_details"] = {"reason": INCOMPLETE[stop]}
    else:
        body["status"] = "completed"
    body["usage"] = encode_usage(usage)


def encode_response(response: Response, request: Request) -> dict:
    rid = response_id(response.id)
    body = envelope(rid, request, response.created or int(time.time()), "completed")
    body["output"] = encode_output(response.parts, rid[5:])
    finish(body, response.stop, response.usage)
    return body
