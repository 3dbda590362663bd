"""Gemini ``GenerateContentResponse`` ↔ hub Response; the finish-reason and usage tables.

Finish reasons ("tool calls" is decided by whether calls exist: Gemini says STOP):

==============================================  =================  =====================
Gemini ``finishReason``                         hub ``StopReason``  back to Gemini
==============================================  =================  =====================
``STOP``, ``OTHER``, unspecified, unknown       END / TOOL_CALLS   ``STOP``
``MAX_TOKENS``                                  LENGTH             ``MAX_TOKENS``
``SAFETY``, ``RECITATION``, ``BLOCKLIST``,      CONTENT_FILTER     ``SAFETY``
``PROHIBITED_CONTENT``, ``SPII``, ``LANGUAGE``,
``IMAGE_*``, ``MODEL_ARMOR``; a prompt blocked
(``promptFeedback.blockReason``, no candidate)
``MALFORMED_FUNCTION_CALL``,                    END (the original  the original
``UNEXPECTED_TOOL_CALL``, ``TOO_MANY_TOOL_      in ``Response.meta``)
CALLS``, ``MISSING_THOUGHT_SIGNATURE``,
``MALFORMED_RESPONSE``
(none)                                          STOP_SEQUENCE,     ``STOP``
                                                REFUSAL, PAUSE
(none)                                          CONTEXT_OVERFLOW   ``MAX_TOKENS``
==============================================  =================  =====================

``Response.meta["gemini"]`` keeps the upstream's ``finishReason`` and ``finishMessage``
so a Gemini client gets the exact word back (a MALFORMED_FUNCTION_CALL stays one).

Usage: ``promptTokenCount`` INCLUDES ``cachedContentTokenCount``, like the hub's
``input_tokens``; ``toolUsePromptTokenCount`` is input too. ``candidatesTokenCount``
EXCLUDES ``thoughtsTokenCount``, while the hub's ``output_tokens`` includes its
``reasoning_tokens``: decoding adds them, encoding subtracts them. ``totalTokenCount`` is
recomputed. Only candidate 0 is read (requests never ask for more).

Decoding an upstream's body: an ``{"error": …}`` object raises ``UpstreamError``;
``candidates`` that is not an array, parts that are not objects, counts that are not
integers raise ``UpstreamFault``.
"""

from __future__ import annotations

import json

from byecore_cli.codecs.base import CodecError, UpstreamFault, token_count
from byecore_cli.codecs.gemini.errors import info
from byecore_cli.codecs.gemini.fields import P, get
from byecore_cli.codecs.gemini.names import GeminiNames, mint_id, wire_id
from byecore_cli.codecs.gemini.parts import (
    SIGNATURE,
    call_args,
    custom_arguments,
    decode_call,
    decode_part,
    encode_image,
    encode_text,
    mint_signature,
)
from byecore_cli.codecs.gemini.signatures import SIGNATURES
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

FILTERED = ("SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE",
            "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_OTHER", "IMAGE_RECITATION",
            "NO_IMAGE", "MODEL_ARMOR")
# Finish reasons kept as they came for a Gemini client (others become the table's word).
KNOWN = {"STOP", "OTHER", "MAX_TOKENS", *FILTERED, "MALFORMED_FUNCTION_CALL",
         "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS", "MISSING_THOUGHT_SIGNATURE",
         "MALFORMED_RESPONSE"}
STOP_IN = {"MAX_TOKENS": StopReason.LENGTH, **{r: StopReason.CONTENT_FILTER for r in FILTERED}}
STOP_OUT = {StopReason.LENGTH: "MAX_TOKENS", StopReason.CONTENT_FILTER: "SAFETY",
            StopReason.CONTEXT_OVERFLOW: "MAX_TOKENS"}


def stop_in(reason, has_calls: bool) -> StopReason:
    if reason is not None and not isinstance(reason, str):
        raise UpstreamFault("must be a string", where="finishReason")
    stop = STOP_IN.get(reason or "", StopReason.END)
    return StopReason.TOOL_CALLS if has_calls and stop == StopReason.END else stop


def stop_out(stop: StopReason, original: str | None = None) -> str:
    if original in KNOWN and stop_in(original, False) == stop_in(STOP_OUT.get(stop, "STOP"), False):
        return original
    return STOP_OUT.get(stop, "STOP")


def _count(usage: dict, key: str) -> int:
    return token_count(get(usage, key), f"usageMetadata.{key}")


def decode_usage(usage) -> Usage:
    if usage is None:
        return Usage()
    if not isinstance(usage, dict):
        raise UpstreamFault("must be an object", where="usageMetadata")
    thoughts = _count(usage, "thoughtsTokenCount")
    return Usage(input_tokens=_count(usage, "promptTokenCount")
                 + _count(usage, "toolUsePromptTokenCount"),
                 output_tokens=_count(usage, "candidatesTokenCount") + thoughts,
                 cache_read_tokens=_count(usage, "cachedContentTokenCount"),
                 reasoning_tokens=thoughts)


def encode_usage(usage: Usage) -> dict:
    out = {"promptTokenCount": usage.input_tokens,
           "candidatesTokenCount": max(0, usage.output_tokens - usage.reasoning_tokens),
           "totalTokenCount": usage.input_tokens + usage.output_tokens}
    if usage.cache_read_tokens:
        out["cachedContentTokenCount"] = usage.cache_read_tokens
    if usage.reasoning_tokens:
        out["thoughtsTokenCount"] = usage.reasoning_tokens
    return out


class CallBack:
    """The way back for a Gemini function call: a hub id, the tool's name and kind."""

    def __init__(self, request: Request) -> None:
        self.names = GeminiNames(request.tools)

    def call(self, part: dict, param: str) -> ToolCall:
        try:
            call_id, wire_name, args = decode_call(get(part, "functionCall"), param)
        except CodecError as exc:
            raise UpstreamFault(exc.message, where=exc.param) from None
        call = ToolCall(call_id or mint_id(), wire_name, args)
        tool = self.names.tool(wire_name)
        if tool is not None:
            call.name, call.namespace = tool.name, tool.namespace
            if tool.kind == "custom":
                call.kind, call.arguments = "custom", custom_arguments(args)
        signature = get(part, SIGNATURE)
        if isinstance(signature, str):
            call.meta = {P: {SIGNATURE: signature}}
            SIGNATURES.remember(call.id, wire_name, signature)  # for foreign clients
        return call


def candidate_of(body: dict) -> dict | None:
    """Candidate 0, or None; raises ``UpstreamError`` for an error body."""
    if not isinstance(body, dict):
        raise UpstreamFault("the answer must be a JSON object")
    error = body.get("error")
    if isinstance(error, dict):
        raise UpstreamError(info(error, None))
    candidates = body.get("candidates")
    if candidates is None:
        return None
    if not isinstance(candidates, list):
        raise UpstreamFault("must be an array", where="candidates")
    if candidates and not isinstance(candidates[0], dict):
        raise UpstreamFault("must be an object", where="candidates[0]")
    return candidates[0] if candidates else None


def decode_parts(candidate: dict, back: CallBack) -> list:
    content = candidate.get("content")
    if content is None:
        return []
    if not isinstance(content, dict) or not isinstance(content.get("parts", []), list):
        raise UpstreamFault("must be an object with a parts array", where="candidates[0].content")
    out = []
    for i, part in enumerate(content.get("parts") or []):
        param = f"candidates[0].content.parts[{i}]"
        if not isinstance(part, dict):
            raise UpstreamFault("must be an object", where=param)
        if get(part, "functionCall") is not None:
            out.append(back.call(part, f"{param}.functionCall"))
            continue
        try:
            out.append(decode_part(part, param))
        except CodecError as exc:
            raise UpstreamFault(exc.message, where=exc.param) from None
    return out


def finish_of(body: dict, candidate: dict | None) -> str | None:
    if candidate is None:
        feedback = get(body, "promptFeedback")
        if isinstance(feedback, dict) and get(feedback, "blockReason"):
            return "SAFETY"
        return None
    return get(candidate, "finishReason")


def finish_meta(candidate: dict | None) -> dict | None:
    """The upstream's own ``finishReason`` and ``finishMessage``, as hub meta: the stop's
    exact word for a Gemini client (``Response.meta``, ``MessageStop.meta``)."""
    kept = {k: v for k in ("finishReason", "finishMessage")
            if isinstance(v := get(candidate or {}, k), str)}
    return {P: kept} if kept else None


def decode_response(body: dict, request: Request) -> Response:
    candidate = candidate_of(body)
    parts = decode_parts(candidate, CallBack(request)) if candidate else []
    reason = finish_of(body, candidate)
    has_calls = any(isinstance(p, ToolCall) for p in parts)
    response_id, model = get(body, "responseId"), get(body, "modelVersion")
    return Response(id=response_id if isinstance(response_id, str) else "",
                    model=model if isinstance(model, str) else request.model,
                    parts=parts, stop=stop_in(reason, has_calls),
                    usage=decode_usage(get(body, "usageMetadata")),
                    meta=finish_meta(candidate))


def encode_part(part, names: GeminiNames) -> dict | None:
    """A response part → a Gemini part for a Gemini client (None: nothing to send)."""
    if isinstance(part, ToolCall):
        call: dict = {"name": names.wire(part.name, part.namespace), "args": call_args(part)}
        if wire_id(part.id):
            call["id"] = part.id
        out = {"functionCall": call}
        signature = meta_for(part, P).get(SIGNATURE)
        if signature:
            out[SIGNATURE] = signature
        return out
    if isinstance(part, Reasoning):
        out = {"text": part.text, "thought": True}
        signature = meta_for(part, P).get(SIGNATURE) or mint_signature(part.meta)
        if signature:
            out[SIGNATURE] = signature
        return out if part.text or signature else None
    if isinstance(part, Image):
        return encode_image(part)
    if isinstance(part, Text):
        return encode_text(part)
    return None


def encode_response(response: Response, request: Request) -> dict:
    names = GeminiNames(request.tools)
    parts = [w for p in response.parts if (w := encode_part(p, names))]
    candidate: dict = {"content": {"role": "model", "parts": parts},
                       "finishReason": stop_out(response.stop,
                                                meta_for(response, P).get("finishReason")),
                       "index": 0}
    message = meta_for(response, P).get("finishMessage")
    if message:
        candidate["finishMessage"] = message
    out = {"candidates": [candidate], "usageMetadata": encode_usage(response.usage),
           "modelVersion": request.model}
    if response.id:
        out["responseId"] = response.id
    return out


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
