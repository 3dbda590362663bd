"""Usage of a pass-through answer, read with the upstream protocol's own usage reader.

The pass-through relays the upstream's bytes as they are, so ``usage_from_body`` (a
whole answer) and ``UsageSniffer`` (a stream, event by event) find just the usage
object of the final answer or of the events that carry one, and hand it to the
protocol's wire (``Wire.answer_usage`` / ``event_usage``), which reads it the way the
codec does on the translated path: both paths log the same figures for one answer.
"""

from __future__ import annotations

import json
import re

from byecore_cli import codecs
from byecore_cli.codecs.sse import SSEEvent, event_spans
from byecore_cli.hub import Usage

_DECODER = json.JSONDecoder()
_OBJECT_AFTER_KEY = re.compile(rb'\s*:\s*\{')


def usage_from_body(protocol: str, raw: bytes) -> Usage | None:
    """The usage of a whole (non-streamed) answer, without parsing the whole answer.

    An answer can be hundreds of KB of text and tool calls; its usage is one small object
    at the top level, which every protocol puts after the content. So: the last
    ``"usage": {`` (the wire's key) in the bytes, decoded alone (a JSON string cannot
    hold a bare quote, so the key cannot come from model text); the whole body only if
    that fails.
    """
    if protocol not in codecs.CODECS:
        return None
    wire = codecs.wire(protocol)
    key = f'"{wire.usage_field}"'.encode()
    end = len(raw)
    while (at := raw.rfind(key, 0, end)) >= 0:
        colon = _OBJECT_AFTER_KEY.match(raw, at + len(key))
        if colon:
            try:
                value, _ = _DECODER.raw_decode(raw[colon.end() - 1:].decode("utf-8", "replace"))
            except ValueError:
                break
            return wire.answer_usage({wire.usage_field: value})
        end = at
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return wire.answer_usage(body)


class UsageSniffer:
    """Reads usage out of a relayed stream, parsing only the events that can carry it.

    The relay hands over whole events as bytes: ``may_carry`` is a byte search for the
    wire's usage key with a value other than null, and only the blocks it matches (a
    stream's first and last events or so) are decoded.
    ``hide_usage_chunk``: byecore asked a Chat upstream for usage that the client did not
    ask for, so the usage-only chunk (``choices: []``) is read and then left out.
    """

    def __init__(self, protocol: str, *, hide_usage_chunk: bool = False) -> None:
        self.protocol = protocol
        self.wire = codecs.wire(protocol)
        self.hide_usage_chunk = hide_usage_chunk
        self.usage: Usage | None = None
        key = re.escape(self.wire.usage_field.encode())
        # Inside JSON strings a quote is escaped, so model text that mentions the key does
        # not match; a false match only costs a parse.
        self.may_carry = re.compile(rb'"' + key + rb'"\s*:\s*(?!null)').search
        self._key = f'"{self.wire.usage_field}"'

    def feed_bytes(self, block: bytes) -> bytes:
        """Whole SSE events (the relay cuts at blank lines), as they came from upstream;
        returns what to send the client: ``block`` itself, or without a hidden chunk (the
        other events' bytes untouched)."""
        kept, hidden = [], False
        for start, end, events in event_spans(block):
            usage_only = False
            for event in events:
                usage_only = self.feed(event) or usage_only
            if usage_only and self.hide_usage_chunk:
                hidden = True
            else:
                kept.append(block[start:end])
        return b"".join(kept) if hidden else block

    def feed(self, event: SSEEvent) -> bool:
        """Read ``event``'s usage; True when it is a Chat chunk with usage and no choice."""
        if self._key not in event.data:
            return False
        try:
            body = json.loads(event.data)
        except ValueError:
            return False
        if not isinstance(body, dict):
            return False
        self.usage = self.wire.event_usage(event.event, body, self.usage)
        return (self.protocol == "chat" and not body.get("choices")
                and isinstance(body.get("usage"), dict))
