"""Chat Completions responses ↔ hub ``Response``, and the tables streams share.

Finish reasons (wire → hub, then hub → wire):

==================  ==================  =================================================
``stop``            END                 → ``stop`` (also STOP_SEQUENCE: Chat does not tell)
``length``          LENGTH              → ``length`` (also CONTEXT_OVERFLOW, PAUSE)
``tool_calls``      TOOL_CALLS          decided by whether calls exist, in both directions
``function_call``   TOOL_CALLS          (deprecated)
``content_filter``  CONTENT_FILTER      → ``content_filter``
(refusal text)      REFUSAL             → ``stop`` when the refusal is in ``refusal``,
                                        else ``content_filter``
anything else       END                 (vendor words such as ``eos``)
==================  ==================  =================================================

Usage: ``prompt_tokens`` (includes cached, like the hub) → ``input_tokens``;
``prompt_tokens_details.cached_tokens`` (or DeepSeek's ``prompt_cache_hit_tokens``) →
``cache_read_tokens``; ``prompt_tokens_details.cache_write_tokens`` → ``cache_write_tokens``;
``completion_tokens`` → ``output_tokens``; ``completion_tokens_details.reasoning_tokens``.

Reasoning: ``message.reasoning_content`` or ``message.reasoning`` (DeepSeek, Qwen, Kimi,
vLLM, OpenRouter) → a ``Reasoning`` part marked ``meta["chat"]["field"]`` so the
next request echoes it under the same field (see encode.py). Toward a Chat client,
reasoning is sent as ``reasoning_content`` (or the field it came in): not in OpenAI's
schema, but the de-facto extension Chat clients (OpenCode, the AI SDK, LiteLLM) display.

Malformed upstream answers (no ``choices``, a wrong type where the schema has one:
``content`` a number, ``finish_reason: 5``, usage counts as strings…) raise
``UpstreamFault``; an ``{"error": …}`` answer with a 2xx raises ``UpstreamError`` with the
upstream's error. Lenient where vendors are sloppy but readable: null usage and details,
unknown finish reasons (→ END), tool arguments sent as an object, text-part arrays.

Tool calls from an upstream get their request names back (``ToolNames``): a flattened
namespaced name → ``name`` + ``namespace``; a custom tool sent as a function → a
``custom`` call whose arguments are the unwrapped raw input.
"""

from __future__ import annotations

import json
import time
from typing import Any

from byecore_cli.codecs.base import CodecError, UpstreamFault, token_count
from byecore_cli.codecs.chat.encode import _call
from byecore_cli.codecs.chat.errors import decode_stream_error
from byecore_cli.codecs.chat.request import REASONING_FIELDS, P
from byecore_cli.hub import (
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
from byecore_cli.hub.tools import ToolNames, unwrap_custom_input

FINISH = {
    "stop": StopReason.END,
    "length": StopReason.LENGTH,
    "tool_calls": StopReason.TOOL_CALLS,
    "function_call": StopReason.TOOL_CALLS,
    "content_filter": StopReason.CONTENT_FILTER,
}
STOPS = {
    StopReason.END: "stop",
    StopReason.STOP_SEQUENCE: "stop",
    StopReason.TOOL_CALLS: "tool_calls",
    StopReason.LENGTH: "length",
    StopReason.CONTEXT_OVERFLOW: "length",
    StopReason.PAUSE: "length",
    StopReason.CONTENT_FILTER: "content_filter",
    StopReason.REFUSAL: "content_filter",
}


def final_stop(finish: Any, has_calls: bool, refused: bool) -> StopReason:
    stop = FINISH.get(finish, StopReason.END) if isinstance(finish, str) else StopReason.END
    if has_calls and stop == StopReason.END:
        return StopReason.TOOL_CALLS
    if not has_calls and stop == StopReason.TOOL_CALLS:
        return StopReason.END
    if refused and stop == StopReason.END:
        return StopReason.REFUSAL
    return stop


def finish_reason(stop: StopReason, has_calls: bool, refusal_field: bool) -> str:
    if has_calls and stop in (StopReason.END, StopReason.TOOL_CALLS, StopReason.STOP_SEQUENCE):
        return "tool_calls"
    if stop == StopReason.REFUSAL and refusal_field:
        return "stop"
    reason = STOPS.get(stop, "stop")
    return "stop" if reason == "tool_calls" else reason


def _details(usage: dict, key: str) -> dict:
    value = usage.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UpstreamFault("must be an object", where=f"usage.{key}")
    return value


def chunk_usage(chunk: dict) -> Any:
    """A chunk's usage object: top-level, or inside the first choice, where Moonshot (Kimi)
    puts the usage of a stream."""
    usage = chunk.get("usage")
    if usage is None:
        choices = chunk.get("choices")
        if choices and isinstance(choices, list) and isinstance(choices[0], dict):
            return choices[0].get("usage")
    return usage


def decode_usage(usage: Any) -> Usage:
    """An upstream's usage object (None: no usage); wrong types raise ``UpstreamFault``."""
    if usage is None:
        return Usage()
    if not isinstance(usage, dict):
        raise UpstreamFault("usage must be an object", where="usage")
    prompt = _details(usage, "prompt_tokens_details")
    completion = _details(usage, "completion_tokens_details")
    def count(where: dict, key: str, path: str = "usage") -> int:
        return token_count(where.get(key), f"{path}.{key}")

    return Usage(
        input_tokens=count(usage, "prompt_tokens"),
        output_tokens=count(usage, "completion_tokens"),
        cache_read_tokens=count(prompt, "cached_tokens", "usage.prompt_tokens_details")
        or count(usage, "prompt_cache_hit_tokens"),  # DeepSeek's name for the same count
        cache_write_tokens=count(prompt, "cache_write_tokens", "usage.prompt_tokens_details"),
        reasoning_tokens=count(completion, "reasoning_tokens", "usage.completion_tokens_details"),
    )


def encode_usage(usage: Usage) -> dict:
    out: dict = {"prompt_tokens": usage.input_tokens, "completion_tokens": usage.output_tokens,
                 "total_tokens": usage.total_tokens}
    details: dict = {"cached_tokens": usage.cache_read_tokens}
    if usage.cache_write_tokens:
        details["cache_write_tokens"] = usage.cache_write_tokens
    out["prompt_tokens_details"] = details
    out["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return out


class CallNames:
    """The way back from an upstream's tool-call name to the request's tool."""

    def __init__(self, request: Request) -> None:
        self._names = ToolNames(request.tools)

    def lookup(self, wire: str) -> tuple[str, str | None, bool]:
        """(name, namespace, is_custom) for a wire name."""
        tool = self._names.tool(wire)
        if tool is None:
            return wire, None, False
        return tool.name, tool.namespace, tool.kind == "custom"

    def call(self, call_id: str, wire: str, arguments: str, native_custom: bool,
             meta: dict | None = None) -> ToolCall:
        name, namespace, custom = self.lookup(wire)
        if native_custom:
            return ToolCall(call_id, name, arguments, "custom", namespace, meta)
        if custom:
            return ToolCall(call_id, name, unwrap_custom_input(arguments), "custom",
                            namespace, meta)
        return ToolCall(call_id, name, arguments, "function", namespace, meta)


def decode_response(body: Any, request: Request) -> Response:
    """An upstream's answer; ``UpstreamFault`` (or ``UpstreamError``) when it is not one."""
    try:
        return _decode_response(body, request)
    except UpstreamFault:
        raise
    except (CodecError, KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        raise UpstreamFault(f"unreadable answer ({type(exc).__name__}: {exc})") from exc


def _decode_response(body: Any, request: Request) -> Response:
    if not isinstance(body, dict):
        raise UpstreamFault("the answer must be a JSON object")
    error = body.get("error")
    choices = body.get("choices")
    if error and not choices:
        raise UpstreamError(decode_stream_error(body))
    if not isinstance(choices, list) or not choices:
        raise UpstreamFault("the answer has no choices", where="choices")
    choice = choices[0]
    if not isinstance(choice, dict):
        raise UpstreamFault("must be an object", where="choices[0]")
    message = choice.get("message")
    if not isinstance(message, dict):
        raise UpstreamFault("must be an object", where="choices[0].message")
    parts: list = []
    for field in REASONING_FIELDS:
        value = message.get(field)
        if isinstance(value, str) and value:
            parts.append(Reasoning(value, meta={P: {"field": field}}))
            break
    content = message.get("content")
    if isinstance(content, list):  # a few vendors answer with text parts
        content = "".join(_part_text(p, i) for i, p in enumerate(content))
    if isinstance(content, str):
        if content:
            parts.append(Text(content))
    elif content is not None:
        raise UpstreamFault("must be a string or null", where="choices[0].message.content")
    refusal = message.get("refusal")
    if isinstance(refusal, str):
        if refusal:
            parts.append(Text(refusal, {P: {"refusal": True}}))
    elif refusal is not None:
        raise UpstreamFault("must be a string or null", where="choices[0].message.refusal")
    names = CallNames(request)
    calls = message.get("tool_calls")
    if calls is not None:
        if not isinstance(calls, list):
            raise UpstreamFault("must be an array", where="choices[0].message.tool_calls")
        for i, raw in enumerate(calls):
            parts.append(_decode_call(raw, i, names))
    has_calls = any(isinstance(p, ToolCall) for p in parts)
    finish = choice.get("finish_reason")
    if finish is not None and not isinstance(finish, str):
        raise UpstreamFault("must be a string", where="choices[0].finish_reason")
    stop = final_stop(finish, has_calls, bool(refusal))
    created = body.get("created")
    return Response(
        id=str(body.get("id") or ""), model=str(body.get("model") or request.model),
        parts=parts, stop=stop, usage=decode_usage(body.get("usage")),
        created=created if isinstance(created, int) else None)


def _part_text(part: Any, i: int) -> str:
    """The text of one part of an array ``content`` (non-text parts have none)."""
    where = f"choices[0].message.content[{i}]"
    if not isinstance(part, dict):
        raise UpstreamFault("must be an object", where=where)
    text = part.get("text")
    if text is None or isinstance(text, str):
        return text or ""
    raise UpstreamFault("must be a string", where=f"{where}.text")


def _decode_call(raw: Any, i: int, names: CallNames) -> ToolCall:
    where = f"choices[0].message.tool_calls[{i}]"
    if not isinstance(raw, dict):
        raise UpstreamFault("a tool call must be an object", where=where)
    call_id = raw.get("id")
    call_id = call_id if isinstance(call_id, str) and call_id else f"call_{i}"
    meta = {P: {"extra_content": raw["extra_content"]}} if "extra_content" in raw else None
    native = raw.get("type") == "custom"
    spec = raw.get("custom" if native else "function")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise UpstreamFault("a tool call needs a name", where=where)
    arguments = spec.get("input" if native else "arguments")
    if isinstance(arguments, (dict, list)):  # a few vendors send an object
        arguments = json.dumps(arguments, ensure_ascii=False)
    elif arguments is None:
        arguments = ""
    elif not isinstance(arguments, str):
        raise UpstreamFault("must be a string", where=f"{where}.function.arguments")
    return names.call(call_id, spec["name"], arguments, native, meta)


def encode_response(response: Response, request: Request) -> dict:
    names = ToolNames(request.tools)
    native = {t.name for t in request.tools if t.kind == "custom" and meta_for(t, P).get("native")}
    texts, refusals, calls = [], [], []
    reasoning: dict[str, list[str]] = {}
    for part in response.parts:
        if isinstance(part, Text):
            (refusals if meta_for(part, P).get("refusal") else texts).append(part.text)
        elif isinstance(part, Reasoning):
            if part.text:
                field = meta_for(part, P).get("field")
                field = field if field in REASONING_FIELDS else REASONING_FIELDS[0]
                reasoning.setdefault(field, []).append(part.text)
        elif isinstance(part, ToolCall):
            calls.append(_call(part, names, native))
    message: dict = {"role": "assistant",
                     "content": "".join(texts) if texts or not (calls or refusals) else None,
                     "refusal": "".join(refusals) if refusals else None}
    for field, chunks in reasoning.items():
        message[field] = "".join(chunks)
    if calls:
        message["tool_calls"] = calls
    return {
        "id": chat_id(response.id),
        "object": "chat.completion",
        "created": response.created or int(time.time()),
        "model": request.model or response.model,
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": finish_reason(response.stop, bool(calls),
                                                    bool(refusals))}],
        "usage": encode_usage(response.usage),
    }


def chat_id(upstream_id: str) -> str:
    """The upstream's id as it is (ids are opaque to clients); a made-up one if none."""
    return upstream_id or "chatcmpl-byecore"
