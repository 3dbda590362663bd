"""Chat Completions on the wire: ``POST {openai base}/chat/completions``, Bearer key."""

from __future__ import annotations

import re

from byecore_cli.codecs.descriptor import Wire


class ChatWire(Wire):
    name = "chat"
    title = "OpenAI Chat Completions"
    base = "openai"
    endpoint = "/chat/completions"
    models_path = "/models"
    pasted_tails = ("/chat/completions", "/completions")
    answer_keys = ("choices",)
    # [DONE], a finish reason (a usage chunk and no [DONE] may follow), or an error chunk
    terminal = re.compile(
        rb'data: ?\[DONE\]|"finish_reason"\s*:\s*"|data: ?\{\s*"error"\s*:')

    def event_usage(self, event, body, so_far):
        # top-level, or in the first choice, where Moonshot (Kimi) puts a stream's usage
        usage = body.get("usage")
        if usage is None:
            choices = body.get("choices")
            if choices and isinstance(choices, list) and isinstance(choices[0], dict):
                usage = choices[0].get("usage")
        return so_far if usage is None else self._lenient(usage) or so_far


WIRE = ChatWire()
