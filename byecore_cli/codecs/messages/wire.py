"""Anthropic Messages on the wire: ``POST {anthropic base}/v1/messages``, ``x-api-key``."""

from __future__ import annotations

import re

from byecore_cli.codecs.descriptor import Wire

ANTHROPIC_VERSION = "2023-06-01"


class MessagesWire(Wire):
    name = "messages"
    title = "Anthropic Messages"
    base = "anthropic"
    endpoint = "/v1/messages"
    key_header = "x-api-key"
    models_path = "/v1/models"
    pasted_tails = ("/messages/count_tokens", "/messages")
    keepalive = b'event: ping\ndata: {"type": "ping"}\n\n'  # Anthropic SDKs know this one
    minted = b'"byecore1.'  # blocks.py MINTED, a thinking block's signature
    answer_keys = ("content",)
    terminal = re.compile(rb'"type"\s*:\s*"(?:message_stop|error)"')

    def auth_headers(self, key):
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        if key:
            headers["x-api-key"] = key
        return headers

    def decode_usage(self, raw, so_far=None):
        return self._response().decode_usage(raw, so_far)

    def event_usage(self, event, body, so_far):
        # message_start carries the input counts, message_delta the cumulative output (and,
        # from some gateways, input counts that replace the first ones)
        kind = body.get("type")
        if kind == "message_start" and isinstance(body.get("message"), dict):
            return self._lenient(body["message"].get("usage")) or so_far
        if kind == "message_delta" and body.get("usage") is not None:
            return self._lenient(body["usage"], so_far) or so_far
        return so_far


WIRE = MessagesWire()
