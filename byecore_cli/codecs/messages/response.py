"""Anthropic Messages responses ↔ hub Response; the stop-reason and usage tables.

Stop reasons (one table each way; "tool calls" is decided by whether calls exist):

==================================  ==========================  =============================
Anthropic ``stop_reason``           hub ``StopReason``           back to Anthropic
==================================  ==========================  =============================
``end_turn``                        END                         ``end_turn``
``tool_use``                        TOOL_CALLS                  ``tool_use``
``max_tokens``                      LENGTH                      ``max_tokens``
``stop_sequence``                   STOP_SEQUENCE               ``stop_sequence``
``pause_turn``                      PAUSE                       ``pause_turn``
``refusal``                         REFUSAL                     ``refusal``
(none)                              CONTENT_FILTER              ``refusal``
``model_context_window_exceeded``   CONTEXT_OVERFLOW            ``model_context_window_...``
==================================  ==========================  =============================

Usage: Anthropic ``input_tokens`` EXCLUDES ``cache_read_input_tokens`` and
``cache_creation_input_tokens``; the hub's includes both. Decoding adds them, encoding
subtracts them. ``output_tokens_details.thinking_tokens`` ↔ ``reasoning_tokens``;
``cache_creation.ephemeral_1h_input_tokens`` ↔ ``cache_write_1h_tokens`` (sent back as
``cache_creation`` only when an hour's writes are known).

Decoding an upstream's body: ``{"type": "error", …}`` in a 2xx raises ``UpstreamError``
(the upstream's error); a body that is not a valid message (no ``content`` array, a block
without ``type``, a ``tool_use`` whose ``input`` is not an object, ``stop_reason: []``,
counts as strings…) raises ``UpstreamFault``. Null usage, unknown stop reasons (→ END)
and unknown block types (kept opaque) are fine.

Response content: text (``citations`` kept in meta), thinking (signature in meta),
redacted_thinking, tool_use (id restored through ``IdMap``, flattened name restored to
name + namespace, a custom tool's ``{"input": …}`` unwrapped to the raw input), and
server-tool blocks kept opaque (blocks.py). Encoding for an Anthropic client reports the
model the client asked for; hub images in a response have no Anthropic block and are
described as text.
"""

from __future__ import annotations

import json
from dataclasses import replace

from byecore_cli.codecs.base import CodecError, UpstreamFault, token_count
from byecore_cli.codecs.messages.blocks import (
    IdMap,
    P,
    decode_block,
    encode_part,
    keep,
    text_of,
    thinking_block,
)
from byecore_cli.codecs.messages.errors import info
from byecore_cli.hub import (
    Image,
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
from byecore_cli.hub.tools import CUSTOM_ARG, ToolNames

STOP_IN = {
    "end_turn": StopReason.END,
    "tool_use": StopReason.TOOL_CALLS,
    "max_tokens": StopReason.LENGTH,
    "stop_sequence": StopReason.STOP_SEQUENCE,
    "pause_turn": StopReason.PAUSE,
    "refusal": StopReason.REFUSAL,
    "model_context_window_exceeded": StopReason.CONTEXT_OVERFLOW,
}
STOP_OUT = {v: k for k, v in STOP_IN.items()}
STOP_OUT[StopReason.CONTENT_FILTER] = "refusal"


def stop_in(reason, has_calls: bool) -> StopReason:
    """``stop_reason`` → hub (unknown words → END; not a string → ``UpstreamFault``)."""
    if reason.__class__ is not str and reason is not None:
        raise UpstreamFault("must be a string", where="stop_reason")
    stop = STOP_IN.get(reason, StopReason.END)
    if has_calls and stop == StopReason.END:
        return StopReason.TOOL_CALLS
    if not has_calls and stop == StopReason.TOOL_CALLS:
        return StopReason.END
    return stop


def stop_out(stop: StopReason, has_calls: bool) -> str:
    if has_calls and stop in (StopReason.END, StopReason.TOOL_CALLS):
        return "tool_use"
    if stop == StopReason.TOOL_CALLS:
        return "end_turn"
    return STOP_OUT.get(stop, "end_turn")


def decode_usage(usage, base: Usage | None = None) -> Usage:
    """Anthropic usage (exclusive input) → hub usage (inclusive); fields absent keep ``base``."""
    out = Usage() if base is None else replace(base)
    if not isinstance(usage, dict):
        if usage is not None:
            raise UpstreamFault("must be an object", where="usage")
        return out
    def count(key: str) -> int:
        return token_count(usage.get(key), f"usage.{key}")

    if "cache_read_input_tokens" in usage or "cache_creation_input_tokens" in usage \
            or "input_tokens" in usage:
        read = count("cache_read_input_tokens") if "cache_read_input_tokens" in usage \
            else out.cache_read_tokens
        write = count("cache_creation_input_tokens") \
            if "cache_creation_input_tokens" in usage else out.cache_write_tokens
        plain = count("input_tokens") if usage.get("input_tokens") is not None \
            else out.input_tokens - out.cache_read_tokens - out.cache_write_tokens
        out.input_tokens, out.cache_read_tokens, out.cache_write_tokens = \
            plain + read + write, read, write
    creation = usage.get("cache_creation")
    if isinstance(creation, dict):  # the 5-minute and 1-hour parts of the cache writes
        out.cache_write_1h_tokens = min(out.cache_write_tokens, token_count(
            creation.get("ephemeral_1h_input_tokens"),
            "usage.cache_creation.ephemeral_1h_input_tokens"))
    elif creation is not None:
        raise UpstreamFault("must be an object", where="usage.cache_creation")
    if "output_tokens" in usage:
        out.output_tokens = count("output_tokens")
    details = usage.get("output_tokens_details")
    if isinstance(details, dict):
        out.reasoning_tokens = token_count(details.get("thinking_tokens"),
                                           "usage.output_tokens_details.thinking_tokens")
    elif details is not None:
        raise UpstreamFault("must be an object", where="usage.output_tokens_details")
    return out


def encode_usage(usage: Usage) -> dict:
    out = {
        "input_tokens": max(0, usage.input_tokens - usage.cache_read_tokens
                            - usage.cache_write_tokens),
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
        "output_tokens": usage.output_tokens,
    }
    if usage.cache_write_1h_tokens:  # the split is known: Claude Code prices the two apart
        hour = min(usage.cache_write_1h_tokens, usage.cache_write_tokens)
        out["cache_creation"] = {"ephemeral_5m_input_tokens": usage.cache_write_tokens - hour,
                                 "ephemeral_1h_input_tokens": hour}
    if usage.reasoning_tokens:
        out["output_tokens_details"] = {"thinking_tokens": usage.reasoning_tokens}
    return out


class ToolBack:
    """The way back for tool calls: original id, name, namespace and kind."""

    __slots__ = ("ids", "names")

    def __init__(self, request: Request) -> None:
        self.ids = IdMap(request)
        self.names = ToolNames(request.tools)

    def call(self, wire_id: str, wire_name: str) -> ToolCall:
        tool = self.names.tool(wire_name)
        call = ToolCall(self.ids.original(wire_id), wire_name)
        if tool is not None:
            call.name, call.namespace = tool.name, tool.namespace
            if tool.kind == "custom":
                call.kind = "custom"
        return call

    @staticmethod
    def arguments(call: ToolCall, args: str) -> str:
        if call.kind != "custom":
            return args or "{}"
        try:
            value = json.loads(args)
        except ValueError:
            return args
        if isinstance(value, dict) and isinstance(value.get(CUSTOM_ARG), str):
            return value[CUSTOM_ARG]
        return args


def decode_response(body: dict, request: Request) -> Response:
    """An upstream's answer; ``UpstreamFault`` (or ``UpstreamError``) when it is not one."""
    try:
        return _decode_response(body, request)
    except UpstreamFault:
        raise
    except CodecError as exc:  # the block readers (blocks.py) are shared with requests
        raise UpstreamFault(exc.message, where=exc.param) from None
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        raise UpstreamFault(f"unreadable answer ({type(exc).__name__}: {exc})") from exc


def _decode_response(body: dict, request: Request) -> Response:
    if not isinstance(body, dict):
        raise UpstreamFault("the answer must be a JSON object")
    if body.get("type") == "error":
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        raise UpstreamError(info(error.get("type"), error.get("message")))
    content = body.get("content")
    if not isinstance(content, list):
        raise UpstreamFault("must be an array", where="content")
    back = ToolBack(request)
    parts = []
    for i, block in enumerate(content):
        if isinstance(block, dict) and block.get("type") == "tool_use":
            call = back.call(text_of(block.get("id"), f"content[{i}].id"),
                             text_of(block.get("name"), f"content[{i}].name"))
            args = block.get("input")
            if args is None:
                args = {}
            elif not isinstance(args, dict):
                raise UpstreamFault("must be an object", where=f"content[{i}].input")
            call.arguments = back.arguments(call, json.dumps(args, ensure_ascii=False))
            extra = keep(block, "caller")
            call.meta = {P: extra} if extra else None
            parts.append(call)
        else:
            parts.append(decode_block(block, f"content[{i}]"))
    has_calls = any(isinstance(p, ToolCall) for p in parts)
    stop_sequence = body.get("stop_sequence")
    if stop_sequence is not None and not isinstance(stop_sequence, str):
        raise UpstreamFault("must be a string", where="stop_sequence")
    return Response(
        id=body.get("id") if isinstance(body.get("id"), str) else "",
        model=body.get("model") if isinstance(body.get("model"), str) else request.model,
        parts=parts,
        stop=stop_in(body.get("stop_reason"), has_calls),
        stop_sequence=stop_sequence if isinstance(stop_sequence, str) else None,
        usage=decode_usage(body.get("usage")),
    )


def message_id(response_id: str) -> str:
    return response_id if response_id.startswith("msg_") else f"msg_{response_id or 'byecore'}"


def encode_block(part, names: ToolNames) -> dict | None:
    """A response part → its Anthropic content block (None when there is nothing to send)."""
    if isinstance(part, Reasoning):
        return thinking_block(part)
    if isinstance(part, ToolCall):
        args = part.arguments if part.kind != "custom" else json.dumps(
            {CUSTOM_ARG: part.arguments}, ensure_ascii=False)
        try:
            value = json.loads(args) if args.strip() else {}
        except ValueError:
            value = {"_raw": args}
        return {"type": "tool_use", "id": part.id, "name": names.wire(part.name, part.namespace),
                "input": value if isinstance(value, dict) else {"_raw": args}}
    if isinstance(part, Image):
        return {"type": "text", "text": f"[image: {part.url or part.media_type or 'inline'}]"}
    if isinstance(part, Text):
        mine = meta_for(part, P)
        if "block" in mine:
            return mine["block"]
        return encode_part(Text(part.text, {P: keep(mine, "citations")}))
    return None


def encode_response(response: Response, request: Request) -> dict:
    names = ToolNames(request.tools)
    content = [b for b in (encode_block(p, names) for p in response.parts) if b]
    has_calls = any(b["type"] == "tool_use" for b in content)
    return {
        "id": message_id(response.id),
        "type": "message",
        "role": "assistant",
        "model": request.model,
        "content": content,
        "stop_reason": stop_out(response.stop, has_calls),
        "stop_sequence": response.stop_sequence,
        "usage": encode_usage(response.usage),
    }
