"""Usage of a pass-through answer, read without a codec.

The pass-through relays the upstream's bytes as they are, so ``usage_from_body`` (a
whole answer) and ``UsageSniffer`` (a stream, event by event) read just the usage
fields of each protocol's final answer or stream events, for the usage log.
"""

from __future__ import annotations

import json
import re

from byecore_cli.codecs.chat.response import chunk_usage
from byecore_cli.codecs.sse import SSEEvent, event_spans
from byecore_cli.hub import Usage

_DECODER = json.JSONDecoder()


def usage_from_body(protocol: str, raw: bytes) -> Usage | None:
    """The usage of a whole (non-streamed) answer, without parsing the whole answer.

    An answer can be hundreds of KB of text and tool calls; its usage is one small object
    at the top level, which every protocol puts after the content. So: the last
    ``"usage": {`` in the bytes, decoded alone (a JSON string cannot hold a bare quote,
    so the key cannot come from model text); the whole body only if that fails.
    """
    end = len(raw)
    while (at := raw.rfind(b'"usage"', 0, end)) >= 0:
        colon = _OBJECT_AFTER_KEY.match(raw, at + 7)
        if colon:
            try:
                value, _ = _DECODER.raw_decode(raw[colon.end() - 1:].decode("utf-8", "replace"))
            except ValueError:
                break
            return _read(protocol, value)
        end = at
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    return _read(protocol, body.get("usage"))


def _int(src, key: str) -> int:
    value = src.get(key) if isinstance(src, dict) else None
    return value if isinstance(value, int) else 0


def _read(protocol: str, u) -> Usage | None:
    if not isinstance(u, dict):
        return None
    if protocol == "messages":
        read, write = _int(u, "cache_read_input_tokens"), _int(u, "cache_creation_input_tokens")
        return Usage(input_tokens=_int(u, "input_tokens") + read + write,
                     output_tokens=_int(u, "output_tokens"), cache_read_tokens=read,
                     cache_write_tokens=write)
    if protocol == "chat":
        return Usage(
            input_tokens=_int(u, "prompt_tokens"), output_tokens=_int(u, "completion_tokens"),
            cache_read_tokens=_int(u.get("prompt_tokens_details"), "cached_tokens"),
            reasoning_tokens=_int(u.get("completion_tokens_details"), "reasoning_tokens"))
    return Usage(
        input_tokens=_int(u, "input_tokens"), output_tokens=_int(u, "output_tokens"),
        cache_read_tokens=_int(u.get("input_tokens_details"), "cached_tokens"),
        reasoning_tokens=_int(u.get("output_tokens_details"), "reasoning_tokens"))


# A "usage" key with a value other than null. Inside JSON strings a quote is escaped, so
# model text that mentions "usage" does not match; a false match only costs a parse.
_USAGE_KEY = re.compile(rb'"usage"\s*:\s*(?!null)')
_OBJECT_AFTER_KEY = re.compile(rb'\s*:\s*\{')


class UsageSniffer:
    """Reads usage out of a relayed stream, parsing only the events that can carry it.

    The relay hands over whole events as bytes: ``may_carry`` is a byte search, and only
    the blocks it matches (a stream's first and last events or so) are decoded.
    ``hide_usage_chunk``: byecore asked a Chat upstream for usage that the client did not
    ask for, so the usage-only chunk (``choices: []``) is read and then left out.
    """

    def __init__(self, protocol: str, *, hide_usage_chunk: bool = False) -> None:
        self.protocol = protocol
        self.hide_usage_chunk = hide_usage_chunk
        self.usage: Usage | None = None
        self._messages_input: Usage | None = None
        self.may_carry = _USAGE_KEY.search

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
        data = event.data
        if '"usage"' not in data:
            return False
        if self.protocol == "chat" and ('"usage":null' in data or '"usage": null' in data):
            return False
        if self.protocol == "responses" and event.event not in (
                None, "response.completed", "response.incomplete", "response.failed"):
            return False
        try:
            body = json.loads(data)
        except ValueError:
            return False
        if not isinstance(body, dict):
            return False
        if self.protocol == "messages":
            self._messages(body)
        elif self.protocol == "chat":
            usage = chunk_usage(body)
            self.usage = _read("chat", usage) or self.usage
            return not body.get("choices") and isinstance(usage, dict)
        else:
            response = body.get("response")
            if isinstance(response, dict):
                self.usage = _read("responses", response.get("usage")) or self.usage
        return False

    def _messages(self, body: dict) -> None:
        # message_start carries the input counts, message_delta the cumulative output.
        if body.get("type") == "message_start" and isinstance(body.get("message"), dict):
            self._messages_input = _read("messages", body["message"].get("usage"))
            self.usage = self._messages_input
        elif body.get("type") == "message_delta":
            delta = body.get("usage") or {}
            start = self._messages_input or Usage()
            final = _read("messages", delta) or Usage()
            has_input = any(k in delta for k in ("input_tokens", "cache_read_input_tokens",
                                                  "cache_creation_input_tokens"))
            self.usage = Usage(
                input_tokens=final.input_tokens if has_input else start.input_tokens,
                output_tokens=final.output_tokens,
                cache_read_tokens=final.cache_read_tokens if has_input
                else start.cache_read_tokens,
                cache_write_tokens=final.cache_write_tokens if has_input
                else start.cache_write_tokens)
