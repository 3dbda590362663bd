"""A Gemini ``streamGenerateContent?alt=sse`` stream → hub events.

Wire: every SSE ``data:`` is a whole ``GenerateContentResponse`` chunk; there is no start
or end event and no ``[DONE]``. Text and thought text arrive as deltas in parts; a
``functionCall`` part arrives whole in one chunk; ``thoughtSignature`` rides on any part
(often an empty-text part of the last chunk); ``usageMetadata`` comes on many chunks
(the last wins); ``finishReason`` on the last chunk(s). An ``{"error": …}`` chunk ends
the stream after a 200, as a ``data:`` event; so does the same object in a one-element
array (the shape of a stream asked for without ``alt=sse``). Either becomes a
``StreamError`` with the status and kind of errors.py's table.

Events: ``MessageStart`` on the first chunk (``responseId``, ``modelVersion``, and the
prompt's tokens when that chunk has usage: Gemini counts the prompt on every chunk, and
an Anthropic client reads its input tokens from the start).
Consecutive text parts (or thought parts) form one hub part; a signature is merged into
the open part's ``PartStop`` meta. A function call is a whole part at once (start, one
arguments delta, stop), its signature in its meta. ``MessageStop`` comes with the
chunk that carries ``finishReason`` when that chunk has usage too, else with the next
chunk or at ``flush`` (usage may trail the finish); usage after the stop is a
``UsageUpdate``. ``MessageStop.meta`` keeps the exact ``finishReason`` and
``finishMessage`` (response.py ``finish_meta``), as a whole answer's ``Response.meta``
does, so a MALFORMED_FUNCTION_CALL reaches a Gemini client as one, streamed or not.
A function call's signature is also remembered for clients that drop it (signatures.py).
A stream that ends without any ``finishReason`` is a ``StreamError``.
Streamed function-call arguments (``partialArgs``/``willContinue``, a Vertex feature
byecore never asks for) are not read.
"""

from __future__ import annotations

from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.codecs.gemini.errors import info
from byecore_cli.codecs.gemini.fields import P, get
from byecore_cli.codecs.gemini.parts import KEPT, decode_part
from byecore_cli.codecs.gemini.response import (
    CallBack,
    candidate_of,
    decode_usage,
    finish_meta,
    finish_of,
    stop_in,
)
from byecore_cli.codecs.sse import SSEEvent, loads
from byecore_cli.hub import (
    ErrorInfo,
    Event,
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
    Usage,
    UsageUpdate,
    meta_for,
)


class StreamDecoder:
    def __init__(self, request: Request) -> None:
        self._request = request
        self._back: CallBack | None = None
        self._started = self._done = self._stopped = False
        self._finish: str | None = None  # seen, MessageStop not sent yet
        self._finish_meta: dict | None = None
        self._next = 0
        self._open: str | None = None  # "text" | "thought" | None
        self._meta: dict = {}
        self._usage = Usage()
        self._calls = False

    def feed(self, event: SSEEvent) -> list[Event]:
        if self._done:
            return []
        try:
            data = loads(event.data)
        except (ValueError, RecursionError):
            if not event.data.strip() or event.data.strip() == "[DONE]":
                return []
            raise UpstreamFault(f"an event that is not JSON: {event.data[:200]}") from None
        error = _error_of(data)
        if error is not None:
            self._done = True
            return [StreamError(error)]
        if not isinstance(data, dict):
            raise UpstreamFault(f"an event that is not a JSON object: {event.data[:200]}")
        try:
            return self._chunk(data)
        except UpstreamFault:
            raise
        except CodecError as exc:
            raise UpstreamFault(exc.message, where=exc.param) from None
        except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
            raise UpstreamFault(f"an unreadable chunk ({type(exc).__name__}: {exc})") from exc

    def flush(self) -> list[Event]:
        if self._done:
            return []
        out: list[Event] = []
        if self._stopped:
            self._done = True
            return out
        if self._finish is not None:
            self._stop(out)
            self._done = True
            return out
        self._done = True
        return out + [StreamError(ErrorInfo(502, "api_error", "the upstream stream ended "
                                            "before a finishReason"))]

    # -- internals --

    def _chunk(self, data: dict) -> list[Event]:
        out: list[Event] = []
        usage = get(data, "usageMetadata")
        if not self._started:
            self._started = True
            rid, model = get(data, "responseId"), get(data, "modelVersion")
            first = decode_usage(usage) if usage is not None else None
            out.append(MessageStart(rid if isinstance(rid, str) else "",
                                    model if isinstance(model, str) else self._request.model,
                                    usage=first and Usage(first.input_tokens,
                                                          cache_read_tokens=first.cache_read_tokens)))
        if self._stopped:
            if usage is not None:
                self._usage = decode_usage(usage)
                out.append(UsageUpdate(self._usage))
            return out
        candidate = candidate_of(data)
        if candidate is not None and self._finish is None:
            self._parts(candidate, out)
        if usage is not None:
            self._usage = decode_usage(usage)
            out.append(UsageUpdate(self._usage))
        if self._finish is not None:  # the finish came before: this chunk ends it
            self._stop(out)
            return out
        reason = finish_of(data, candidate)
        if reason is not None:
            stop_in(reason, False)  # checks its type
            self._finish = reason
            self._finish_meta = finish_meta(candidate)
            self._close(out)
            if usage is not None:
                self._stop(out)
        return out

    def _stop(self, out: list[Event]) -> None:
        self._close(out)
        out.append(MessageStop(stop_in(self._finish, self._calls), self._usage,
                               meta=self._finish_meta))
        self._stopped = True

    def _parts(self, candidate: dict, out: list[Event]) -> None:
        content = candidate.get("content")
        if content is None:
            return
        parts = content.get("parts") if isinstance(content, dict) else None
        if not isinstance(parts, list):
            if isinstance(content, dict) and parts is None:
                return
            raise UpstreamFault("must be an object with a parts array",
                                where="candidates[0].content")
        for i, part in enumerate(parts):
            where = f"candidates[0].content.parts[{i}]"
            if not isinstance(part, dict):
                raise UpstreamFault("must be an object", where=where)
            if get(part, "functionCall") is not None:
                self._call(part, where, out)
                continue
            piece = decode_part(part, where)
            if isinstance(piece, Reasoning):
                kind = "thought"
            elif isinstance(piece, Text) and "part" not in meta_for(piece, P):
                kind = "text"
            else:
                kind = None  # an image or an opaque part: a whole part at once
            if kind is not None and kind == self._open:
                self._extend(piece, kind, out)
                continue
            self._close(out)
            if kind is None:
                index, self._next = self._next, self._next + 1
                if isinstance(piece, Text):
                    out += [PartStart(index, Text("", piece.meta)), TextDelta(index, piece.text)]
                else:
                    out.append(PartStart(index, piece))
                out.append(PartStop(index))
            elif piece.text or piece.meta:
                self._open = kind
                out.append(PartStart(self._next, Text("") if kind == "text"
                                     else Reasoning("", summary=True, meta={P: {"thought": True}})))
                self._next += 1
                self._extend(piece, kind, out)

    def _extend(self, piece, kind: str, out: list[Event]) -> None:
        if piece.text:
            delta = TextDelta if kind == "text" else ReasoningDelta
            out.append(delta(self._next - 1, piece.text))
        for key in KEPT:
            value = (piece.meta or {}).get(P, {}).get(key)
            if value is not None:
                self._meta[key] = value

    def _close(self, out: list[Event]) -> None:
        if self._open is None:
            return
        self._open = None
        meta, self._meta = self._meta, {}
        out.append(PartStop(self._next - 1, {P: meta} if meta else None))

    def _call(self, part: dict, where: str, out: list[Event]) -> None:
        self._close(out)
        if self._back is None:
            self._back = CallBack(self._request)
        call = self._back.call(part, f"{where}.functionCall")
        self._calls = True
        index, self._next = self._next, self._next + 1
        arguments, call.arguments = call.arguments, ""
        out.append(PartStart(index, call))
        if arguments:
            out.append(ToolArgsDelta(index, arguments))
        out.append(PartStop(index))


def _error_of(data) -> ErrorInfo | None:
    """The error an event reports: ``{"error": {…}}``, alone or as a one-element array;
    a bare ``{"error": "words"}`` (some gateways) is read too."""
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, str) and error:
        error = {"message": error}
    return info(error, None) if isinstance(error, dict) else None
