"""The only Server-Sent Events code in byecore: an incremental decoder and an encoder.

The decoder follows the WHATWG event-stream rules that matter for LLM APIs: lines end in
LF, CR or CRLF (a CRLF split across two chunks is one line end); ``:`` starts a comment
(keep-alive); ``data`` lines of one event are joined with LF; a blank line dispatches;
``event``, ``id`` and ``retry`` fields; a single leading space after the colon is dropped.
``feed`` accepts any chunking of the bytes, down to one byte at a time, and returns the
events completed so far; ``flush`` dispatches an event left without its final blank line
(an upstream that closes early).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class SSEEvent:
    data: str
    event: str | None = None
    id: str | None = None


class SSEDecoder:
    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._pending_cr = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if self._pending_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # the LF of a CRLF whose CR ended the previous chunk
        self._pending_cr = False
        data = self._buffer + chunk
        out: list[SSEEvent] = []
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
            self._line(data[start:end], out)
            start = nxt
        self._buffer = data[start:]
        return out

    def flush(self) -> list[SSEEvent]:
        out: list[SSEEvent] = []
        if self._buffer:
            self._line(self._buffer, out)
            self._buffer = b""
        self._line(b"", out)
        return out

    def _line(self, raw: bytes, out: list[SSEEvent]) -> None:
        if not raw:
            if self._data or self._event is not None:
                out.append(SSEEvent("\n".join(self._data), self._event, self._id))
            self._data, self._event = [], None
            return
        line = raw.decode("utf-8", "replace")
        if line.startswith(":"):
            return
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        # "retry" and unknown fields are ignored, as the spec says


def encode_event(data: str, event: str | None = None) -> bytes:
    """One SSE event. ``data`` may hold line breaks: each line gets its own ``data:``."""
    head = f"event: {event}\n" if event else ""
    if "\n" in data or "\r" in data:
        body = "".join(f"data: {line}\n" for line in data.splitlines())
    else:
        body = f"data: {data}\n"
    return (head + body + "\n").encode("utf-8")


KEEPALIVE = b": keep-alive\n\n"
