"""Responses on the wire: ``POST {openai base}/responses``, Bearer key."""

from __future__ import annotations

import re

from byecore_cli.codecs.descriptor import Wire

# the events whose ``response`` holds the final usage
FINAL_EVENTS = frozenset(("response.completed", "response.incomplete", "response.failed"))


class ResponsesWire(Wire):
    name = "responses"
    title = "OpenAI Responses"
    base = "openai"
    endpoint = "/responses"
    models_path = "/models"
    pasted_tails = ("/responses",)
    minted = b'"byecore.v1:'  # items.py PACKED, in encrypted_content
    answer_keys = ("output",)
    terminal = re.compile(
        rb'"type"\s*:\s*"(?:response\.(?:completed|failed|incomplete)|error)"')

    def event_usage(self, event, body, so_far):
        if (event or body.get("type")) not in FINAL_EVENTS:
            return so_far
        response = body.get("response")
        if not isinstance(response, dict) or response.get("usage") is None:
            return so_far
        return self._lenient(response["usage"]) or so_far


WIRE = ResponsesWire()
