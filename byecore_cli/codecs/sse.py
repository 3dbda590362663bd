"""The only Server-Sent Events code in byecore: an incremental decoder and an encoder.

The decoder follows the WHATWG event-stream rules that matter for LLM APIs: lines end in
LF, CR or CRLF (a CRLF split across two chunks is one line end); ``:`` starts a comment
(keep-alive); ``data`` lines of one event are joined with LF; a blank line dispatches;
``event``, ``id`` and ``retry`` fields; a single leading space after the colon is dropped.
``feed`` accepts any chunking of the bytes, down to one byte at a time, and returns the
events completed so far; ``flush`` dispatches an event left without its final blank line
(an upstream that closes early).

``event_ends``/``last_event_end`` are the framer for code that passes an event stream
on as bytes (the pass-through relay, its usage sniffer): where whole events end, by the
same line-end rules, without decoding anything; ``event_spans`` decodes such a block
event by event, keeping each one's bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(slots=True)
class SSEEvent:
    data: str
    event: str | None = None
    id: str | None = None


# The event name given to lines outside any field (``stray=True``), e.g. a gateway that
# ends a Gemini stream with its error object written bare, without ``data:``.
STRAY = "byecore.stray"


class SSEDecoder:
    """``stray``: keep a line that begins a JSON value (``{`` or ``[``) outside any field,
    and the lines after it up to the blank line, as one event named ``STRAY`` instead of
    dropping them as the SSE spec says (pretty-printed JSON too)."""

    def __init__(self, stray: bool = False) -> None:
        self.stray = stray
        self._buffer = b""
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._pending_cr = False
        self._data_size = 0  # characters in ``_data``: an event still being gathered

    @property
    def buffered(self) -> int:
        """Roughly how much of an unfinished event is held (to cap one event's size)."""
        return len(self._buffer) + self._data_size

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if self._pending_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # the LF of a CRLF whose CR ended the previous chunk
        self._pending_cr = False
        seen = len(self._buffer)
        data = self._buffer + chunk if seen else chunk
        out: list[SSEEvent] = []
        if b"\r" not in data:
            # The fast path: LF-only line ends, which is what LLM APIs send. Everything up to
            # the last blank line is decoded at once and cut into events; the rest waits in
            # the buffer (which never holds a blank line, so the search starts at its end).
            end = data.rfind(b"\n\n", seen - 1 if seen else 0)
            if end == -1:
                self._buffer = data
                return out
            self._buffer = data[end + 2:]
            text = data[:end].decode("utf-8", "replace")
            if "\n\n" not in text:  # one event per chunk: how streaming upstreams flush
                self._block(text, out)
            else:
                for block in text.split("\n\n"):
                    self._block(block, out)
            return out
        start = 0
        length = len(data)
        while True:
            lf = data.find(b"\n", start)
            cr = data.find(b"\r", start)
            if lf == -1 and cr == -1:
                break
            if cr == -1 or (lf != -1 and lf < cr):
                end, nxt = lf, lf + 1
            elif cr + 1 < length:
                end, nxt = cr, cr + 2 if data[cr + 1:cr + 2] == b"\n" else cr + 1
            else:  # a CR at the very end: its LF may be in the next chunk
                end, nxt = cr, cr + 1
                self._pending_cr = True
            self._field(data[start:end].decode("utf-8", "replace"), out)
            start = nxt
        self._buffer = data[start:]
        return out

    def flush(self) -> list[SSEEvent]:
        out: list[SSEEvent] = []
        if self._buffer:  # whole lines (fast path) and/or a line without its end
            self._block(self._buffer.decode("utf-8", "replace"), out)
            self._buffer = b""
        else:
            self._dispatch(out)
        return out

    def _block(self, block: str, out: list[SSEEvent]) -> None:
        """LF-separated lines followed by a blank line."""
        if not self._data and self._event is None:  # the usual shapes, without a line loop
            if block.startswith("data: ") and "\n" not in block:
                out.append(SSEEvent(block[6:], None, self._id))
                return
            if block.startswith("event: "):
                nl = block.find("\n")
                if block.startswith("data: ", nl + 1) and block.find("\n", nl + 1) == -1:
                    out.append(SSEEvent(block[nl + 7:], block[7:nl], self._id))
                    return
        for line in block.split("\n"):
            self._field(line, out)
        self._dispatch(out)

    def _dispatch(self, out: list[SSEEvent]) -> None:
        if self._data or self._event is not None:
            out.append(SSEEvent("\n".join(self._data), self._event, self._id))
        self._data, self._event, self._data_size = [], None, 0

    def _field(self, line: str, out: list[SSEEvent]) -> None:
        if not line:
            self._dispatch(out)
            return
        if self.stray and (self._event == STRAY or (line[0] in "{[" and not self._data)):
            self._event = STRAY
            self._data.append(line)
            self._data_size += len(line) + 1
            return
        if line[0] == ":":
            return
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._data_size += len(value) + 1
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        # "retry" and unknown fields are ignored, as the spec says


# A blank line: a line end right after another one. A CR followed by LF is one line end,
# so ``\r(?!\n)`` keeps "\r\n" from counting twice; a CR that ends the buffer counts as a
# whole line end (its LF, if one follows in the next chunk, then starts the next block,
# where a lone line end is an empty line that dispatches nothing).
_LINE_END = rb"(?:\r\n|\r(?!\n)|\n)"
_BLANK_LINE = re.compile(_LINE_END + _LINE_END)


def _blank_line(data: bytes) -> bytes | None:
    """The one form a blank line takes in ``data`` when its line ends are all alike:
    LF only (the usual stream) or CRLF throughout (some servers); None for the rest."""
    crs = data.count(b"\r")
    if not crs:
        return b"\n\n"
    if crs == data.count(b"\r\n") == data.count(b"\n"):
        return b"\r\n\r\n"
    return None


def event_ends(data: bytes) -> list[int]:
    """Offsets just past each blank line in ``data``, which starts at an event boundary:
    ``data[a:b]`` between two of them (or 0 and the first) is whole events."""
    blank = _blank_line(data)
    if blank is not None:  # plain byte searches
        ends, at, size = [], data.find(blank), len(blank)
        while at >= 0:
            ends.append(at + size)
            at = data.find(blank, at + size)
        return ends
    return [m.end() for m in _BLANK_LINE.finditer(data)]


def last_event_end(data: bytes) -> int:
    """Where the last whole event in ``data`` ends (0: none is whole yet)."""
    if data.find(b"\r") < 0:  # per relayed block: the usual case without a call
        at = data.rfind(b"\n\n")
        return at + 2 if at >= 0 else 0
    blank = _blank_line(data)
    if blank is not None:
        at = data.rfind(blank)
        return at + len(blank) if at >= 0 else 0
    ends = event_ends(data)
    return ends[-1] if ends else 0


def event_spans(block: bytes) -> Iterator[tuple[int, int, list[SSEEvent]]]:
    """Each event of ``block`` (whole events, as the relay cuts them) with its bytes:
    ``(start, end, events)``, ``block[start:end]`` being the event and its blank line
    (or the rest of ``block``, when the last one has none) and ``events`` what it
    decodes to. For code that passes events on as bytes and reads only a few."""
    start = 0
    for end in [*event_ends(block), len(block)]:
        if end <= start:
            continue
        decoder = SSEDecoder()
        yield start, end, [*decoder.feed(block[start:end]), *decoder.flush()]
        start = end


_raw_decode = json.JSONDecoder().raw_decode


def loads(data: str):
    """``json.loads`` of an event's data, minus its wrappers (a third of its cost on the
    small events most of a stream is made of). Raises ``ValueError`` as it does."""
    if data[:1] != "{":
        return json.loads(data)  # rare: leading whitespace, [DONE], …
    value, end = _raw_decode(data)
    if end != len(data) and data[end:].strip(" \t\n\r"):
        raise ValueError("extra data after the JSON value")
    return value


def encode_event(data: str, event: str | None = None) -> bytes:
    """One SSE event. ``data`` may hold line breaks: each line gets its own ``data:``."""
    head = f"event: {event}\n" if event else ""
    if "\n" in data or "\r" in data:
        body = "".join(f"data: {line}\n" for line in data.splitlines())
    else:
        body = f"data: {data}\n"
    return (head + body + "\n").encode("utf-8")


KEEPALIVE = b": keep-alive\n\n"
