"""The Gemini API on the wire: the model and the method in the URL, ``x-goog-api-key``.

``POST {gemini base}/models/{model}:generateContent``, or
``…:streamGenerateContent?alt=sse`` for a stream; the body carries neither (see the
package docstring for how the proxy passes them to the codec).
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from byecore_cli.codecs.descriptor import Wire


class GeminiWire(Wire):
    name = "gemini"
    title = "Google Gemini API"
    base = "gemini"
    key_header = "x-goog-api-key"
    models_path = "/models"
    pasted_tails = ("/v1beta",)
    model_in_path = True
    minted = b'"YnllY29yZS5nZW06'  # parts.MINTED, a thoughtSignature byecore minted
    usage_field = "usageMetadata"
    # A blank line: both Google SDKs skip it, while an SSE comment (": ping") makes
    # google-genai fail (test_gemini_errors.py).
    keepalive = b"\r\n\r\n"
    answer_keys = ("candidates", "promptFeedback")
    # some gateways end a stream with the error object bare, without "data:"
    stray_json_lines = True
    terminal = re.compile(rb'(?m)"finishReason"\s*:\s*"|^(?:data: ?)?\{\s*"error"\s*:')

    def path(self, model: str, stream: bool) -> str:
        name = quote(model.removeprefix("models/"), safe="-._~@")
        return (f"/models/{name}:streamGenerateContent?alt=sse" if stream
                else f"/models/{name}:generateContent")

    def relayable(self, raw: bytes) -> bool:
        # Gemini 3 refuses a model step whose first functionCall has no thoughtSignature:
        # such a call came from another protocol's upstream (or a client dropped it), and
        # the encoder gives it the value Google documents for that case (turns.py)
        if not super().relayable(raw):
            return False
        if b'"functionCall"' not in raw:
            return True
        try:
            contents = json.loads(raw).get("contents")
        except (ValueError, AttributeError):
            return True  # not ours to judge: the upstream says what is wrong with it
        return all(_first_call_signed(turn) for turn in contents or ()
                   if isinstance(turn, dict) and turn.get("role") == "model")

    def auth_headers(self, key):
        return {"x-goog-api-key": key} if key else {}

    def models_in(self, payload):
        try:
            return [{"id": str(m["name"]).removeprefix("models/"),
                     "owned_by": m.get("displayName")} for m in payload["models"]]
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError("not a model list") from exc

    def answer_usage(self, body):
        if not isinstance(body, dict):
            return None
        usage = body.get("usageMetadata", body.get("usage_metadata"))
        return None if usage is None else self._lenient(usage)

    def event_usage(self, event, body, so_far):
        # every chunk may carry the counts so far; the last one has the final figures
        return self.answer_usage(body) or so_far


def _first_call_signed(turn: dict) -> bool:
    parts = turn.get("parts")
    calls = [p for p in parts if isinstance(p, dict) and "functionCall" in p] if isinstance(
        parts, list) else []
    return not calls or bool(calls[0].get("thoughtSignature"))


WIRE = GeminiWire()
