"""Hub events → a Gemini ``streamGenerateContent?alt=sse`` stream, for a Gemini client.

Each chunk is a whole ``GenerateContentResponse`` written as ``data: {…}\\r\\n\\r\\n``, as
the Gemini API writes them (the google-genai SDK and Gemini CLI read ``data:`` lines),
with ``responseId`` and ``modelVersion`` (the model the client asked for) on every chunk.
A text or reasoning delta is one chunk with one part (``thought: true`` for reasoning);
a function call is sent whole when its part stops, with its ``thoughtSignature``; a
signature known only at a part's stop goes on an empty part of the same kind. The last
chunk carries ``finishReason`` (a Gemini upstream's own, with its ``finishMessage``,
when ``MessageStop.meta`` kept it) and ``usageMetadata``. An error ends the stream as a bare
``{"error": …}`` line, the form the Google SDKs raise (errors.py); so does a stream cut
short. No keep-alive comment may be written into this stream: google-genai (Python)
fails on any line that is neither ``data:`` nor JSON (``: ping`` included); only blank
lines are safe for both SDKs.
"""

from __future__ import annotations

import json

from byecore_cli.codecs.gemini.errors import encode_stream_error
from byecore_cli.codecs.gemini.fields import P
from byecore_cli.codecs.gemini.names import GeminiNames
from byecore_cli.codecs.gemini.parts import SIGNATURE, mint_signature
from byecore_cli.codecs.gemini.response import encode_part, encode_usage, stop_out
from byecore_cli.hub import (
    ErrorInfo,
    Event,
    Image,
    MessageStart,
    MessageStop,
    PartStart,
    PartStop,
    Reasoning,
    ReasoningDelta,
    Request,
    StreamError,
    Text,
    TextDelta,
    ToolArgsDelta,
    ToolCall,
    Usage,
    UsageUpdate,
    meta_for,
)

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class StreamEncoder:
    def __init__(self, request: Request) -> None:
        self._model = request.model
        self._names = GeminiNames(request.tools)
        self._id = ""
        self._done = False
        self._index: int | None = None
        self._part = None
        self._args: list[str] = []
        self._usage = Usage()

    def feed(self, event: Event) -> bytes:
        if self._done:
            return b""
        if isinstance(event, TextDelta):
            if event.index == self._index and isinstance(self._part, Text) and event.text:
                return self._chunk([{"text": event.text}])
            return b""
        if isinstance(event, ReasoningDelta):
            if event.index == self._index and isinstance(self._part, Reasoning) and event.text:
                return self._chunk([{"text": event.text, "thought": True}])
            return b""
        if isinstance(event, ToolArgsDelta):
            if event.index == self._index and isinstance(self._part, ToolCall):
                self._args.append(event.text)
            return b""
        if isinstance(event, PartStart):
            return self._close(None) + self._start(event)
        if isinstance(event, PartStop):
            return self._close(event.meta) if event.index == self._index else b""
        if isinstance(event, MessageStart):
            self._id = event.id
            if event.usage is not None:
                self._usage = event.usage
            return b""
        if isinstance(event, UsageUpdate):
            self._usage = event.usage
            return b""
        if isinstance(event, MessageStop):
            out = self._close(None)
            self._done = True
            mine = meta_for(event, P)  # a Gemini upstream's exact word, kept
            candidate = {"finishReason": stop_out(event.stop, mine.get("finishReason")),
                         "index": 0}
            if mine.get("finishMessage"):
                candidate["finishMessage"] = mine["finishMessage"]
            return out + self._write({"candidates": [candidate],
                                      "usageMetadata": encode_usage(event.usage)})
        if isinstance(event, StreamError):
            self._done = True
            return self._close(None) + encode_stream_error(event.error)
        return b""

    def flush(self) -> bytes:
        if self._done:
            return b""
        self._done = True
        return self._close(None) + encode_stream_error(
            ErrorInfo(502, "api_error", "the upstream stream ended early"))

    # -- internals --

    def _write(self, payload: dict) -> bytes:
        if self._id:
            payload["responseId"] = self._id
        payload["modelVersion"] = self._model
        return b"data: " + _dumps(payload).encode() + b"\r\n\r\n"

    def _chunk(self, parts: list[dict]) -> bytes:
        return self._write({"candidates": [{"content": {"role": "model", "parts": parts},
                                            "index": 0}]})

    def _start(self, event: PartStart) -> bytes:
        part = event.part
        if isinstance(part, Image):
            return self._chunk([encode_part(part, self._names)])
        if isinstance(part, Text) and "part" in meta_for(part, P):
            return self._chunk([meta_for(part, P)["part"]])
        if not isinstance(part, (Text, Reasoning, ToolCall)):
            return b""
        self._index, self._part, self._args = event.index, part, [part.arguments] \
            if isinstance(part, ToolCall) else []
        return b""

    def _close(self, meta: dict | None) -> bytes:
        if self._index is None:
            return b""
        part, self._index, self._part = self._part, None, None
        signature = ((meta or {}).get(P) or {}).get(SIGNATURE) or \
            meta_for(part, P).get(SIGNATURE)
        if not signature and isinstance(part, Reasoning):  # foreign: carried in a minted one
            signature = mint_signature({**(part.meta or {}), **(meta or {})})
        if isinstance(part, ToolCall):
            call = ToolCall(part.id, part.name, "".join(self._args), part.kind,
                            part.namespace, {P: {SIGNATURE: signature}} if signature else None)
            return self._chunk([encode_part(call, self._names)])
        if not signature:
            return b""
        wire = {"text": "", SIGNATURE: signature}
        if isinstance(part, Reasoning):
            wire["thought"] = True
        return self._chunk([wire])
