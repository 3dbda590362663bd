"""Whole-document translation between protocols: what ``byecore translate`` runs.

Requests go decode → hub → encode. Responses and streams need the request they answer;
with none at hand, a minimal one with the body's model stands in (tool names then pass
through as they are).
"""

from __future__ import annotations

import json

from byecore_cli import codecs
from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.hub import Request


class TranslateError(ValueError):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def _json(raw: bytes) -> dict:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise TranslateError(f"the input is not valid JSON ({exc})",
                             hint="pass a JSON body, or --what stream for SSE text") from None
    if not isinstance(value, dict):
        raise TranslateError("the input must be a JSON object")
    return value


def translate_bytes(raw: bytes, source: str, target: str, what: str, *,
                    model: str | None = None) -> str:
    """``model``: set on a request that names none (Gemini's lives in the URL)."""
    src, dst = codecs.get(source), codecs.get(target)
    try:
        if what == "request":
            body = _json(raw)
            if model and not body.get("model"):
                body["model"] = model
            request = src.decode_request(body)
            return json.dumps(dst.encode_request(request), indent=2, ensure_ascii=False)
        if what == "response":
            body = _json(raw)
            request = Request(model=str(body.get("model") or ""))
            response = src.decode_response(body, request)
            return json.dumps(dst.encode_response(response, request), indent=2,
                              ensure_ascii=False)
        return _stream(raw, src, dst)
    except (CodecError, UpstreamFault) as exc:
        at = exc.param if isinstance(exc, CodecError) else exc.where
        where = f" (at {at})" if at else ""
        hint = "name the model with --model" if at == "model" and what == "request" else None
        raise TranslateError(f"this is not a valid {source} {what}: {exc.message}{where}",
                             hint=hint) from None


def _stream(raw: bytes, src, dst) -> str:
    request = Request(model="", stream=True)
    sse, decoder, encoder = SSEDecoder(), src.stream_decoder(request), dst.stream_encoder(request)
    out = bytearray()
    events = sse.feed(raw) + sse.flush()
    if not events:
        raise TranslateError("the input holds no SSE events",
                             hint="a stream looks like lines of 'data: {...}' separated by "
                             "blank lines")
    for event in events:
        for hub_event in decoder.feed(event):
            out += encoder.feed(hub_event)
    for hub_event in decoder.flush():
        out += encoder.feed(hub_event)
    out += encoder.flush()
    return out.decode("utf-8")
