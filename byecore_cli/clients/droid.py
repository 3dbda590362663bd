"""Factory Droid: ``~/.factory/settings.json`` → ``customModels``.

Current Droid reads ``settings.json`` (JSONC) and still merges the legacy
``config.json`` ``custom_models``; byecore writes only the current file. It owns the
``customModels`` items whose ``id`` starts with ``custom:byecore-``, one per offered
model, and nothing else: the user's own custom models, comments and every other
setting stay as they were.

Each item has an explicit ``id`` (``custom:byecore-<model>``): without one Droid
derives the id from the display name and a duplicate counter, so a switch of
provider would rename the model and lose the user's selection. The id does not
contain the provider's name for the same reason. ``provider:
generic-chat-completion-api`` posts to ``{baseUrl}/chat/completions``; ``openai``
would mean the Responses API. ``apiKey`` is ``${VAR}`` when the provider keeps its
key in an environment variable (Droid expands it in settings.json, not in the legacy
file), otherwise the key itself, and the file becomes 0600.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from byecore_cli.clients import jsonedit
from byecore_cli.clients.base import (
    NO_KEY,
    ClientFile,
    Current,
    Plan,
    Reading,
    Target,
    Unparsable,
    file_text,
    json_object,
)

ID_PREFIX = "custom:byecore-"


def model_id(model: str) -> str:
    """The stable Droid id for ``model``: ``custom:byecore-gpt-5.4``."""
    return ID_PREFIX + re.sub(r"[^A-Za-z0-9._-]+", "-", model)


def _ours(item: object) -> bool:
    return isinstance(item, dict) and str(item.get("id", "")).startswith(ID_PREFIX)


class Droid:
    name = "droid"
    title = "Factory Droid"
    protocol = "chat"
    executable = "droid"

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        return {"settings": ClientFile("settings", home / ".factory" / "settings.json",
                                       "jsonc")}

    def plan(self, target: Target, current: Current) -> Plan:
        text = file_text(current.get("settings"), "settings")
        settings = _parse(text)
        notes = [f"pick it in droid with /model, or run: droid exec -m "
                 f"{model_id(target.model)} \"…\""]
        if target.key_env and not target.via_proxy:
            key = f"${{{target.key_env}}}"
            secret: frozenset[str] = frozenset()
            notes.append(f"Droid reads the key from ${target.key_env}; no key is written")
        else:
            key = target.key or NO_KEY  # Droid takes a missing key for a broken model
            secret = frozenset({"settings"})
        items = [{
            "id": model_id(m),
            "model": m,
            "displayName": f"{m} (byecore: {target.provider})",
            "baseUrl": target.openai_base,
            "apiKey": key,
            "provider": "generic-chat-completion-api",
            "maxContextLimit": target.limits_for(m).context_window,
            "maxOutputTokens": target.limits_for(m).max_output,
        } for m in target.models]
        out = text if text.strip() else "{}\n"
        existing = settings.get("customModels")
        if existing is None:
            out = jsonedit.set_value(out, ("customModels",), items, comments=True)
        elif [i for i in existing if _ours(i)] != items:
            out = _replace_items(out, items)
        return Plan(files={"settings": out.encode()}, secret=secret, notes=notes)

    def read(self, current: Current) -> Reading:
        settings = _parse(file_text(current.get("settings"), "settings"))
        ours = [i for i in settings.get("customModels") or [] if _ours(i)]
        first = ours[0] if ours else {}
        reading = Reading(configured=bool(ours), base_url=first.get("baseUrl"),
                          model=first.get("model"), label=first.get("displayName"))
        for item in ours:
            shown = {k: v for k, v in item.items() if k != "apiKey"}
            reading.owned[f"customModels.{item['id']}"] = shown
            reading.owned[f"customModels.{item['id']}.api_key"] = item.get("apiKey")
        for item in settings.get("customModels") or []:
            if not isinstance(item, dict):
                continue
            url = str(item.get("baseUrl") or "")
            kind = item.get("provider")
            label = item.get("displayName") or item.get("model")
            if kind == "generic-chat-completion-api" and url and "/v1" not in url:
                reading.problems.append(f"{label}: baseUrl {url} has no /v1; Droid posts to "
                                        f"{url.rstrip('/')}/chat/completions")
            if kind == "anthropic" and url.rstrip("/").endswith("/v1"):
                reading.problems.append(f"{label}: anthropic baseUrl ends in /v1; Droid "
                                        "appends /v1/messages")
            key = item.get("apiKey")
            if isinstance(key, str) and key != key.strip():
                reading.problems.append(f"{label}: apiKey has spaces around it")
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        return []


# ---- customModels items ----------------------------------------------------------------
# jsonedit edits object members; an array's items are replaced by their spans in the text.


def _item_spans(text: str) -> tuple[jsonedit.Node, list[tuple[int, int, object]]]:
    root = jsonedit.parse(text, comments=True)
    array = next(m.value for m in root.members if m.key == "customModels")
    if not text.startswith("[", array.start):
        raise Unparsable("settings", '"customModels" is not a JSON array')
    return array, [(item.start, item.end, item.value) for item in array.items]


def _replace_items(text: str, items: list[dict]) -> str:
    # drop byecore's items, last first so earlier positions stay valid
    while True:
        array, spans = _item_spans(text)
        index = next((i for i in range(len(spans) - 1, -1, -1) if _ours(spans[i][2])), None)
        if index is None:
            break
        start, end, _ = spans[index]
        if len(spans) == 1:
            text = text[: array.start + 1] + text[array.end - 1:]
        elif index + 1 < len(spans):
            text = text[:start] + text[spans[index + 1][0]:]
        else:
            text = text[: spans[index - 1][1]] + text[end:]
    array, spans = _item_spans(text)
    unit = "\t" if "\n\t" in text else "  "
    nl = "\r\n" if "\r\n" in text else "\n"
    if spans:
        indent = _line_indent(text, spans[-1][0])
        rendered = "".join(f",{nl}{indent}{_render(i, unit, indent, nl)}" for i in items)
        return text[: spans[-1][1]] + rendered + text[spans[-1][1]:]
    outer = _line_indent(text, array.start)
    indent = outer + unit
    body = f",{nl}{indent}".join(_render(i, unit, indent, nl) for i in items)
    inner = text[array.start + 1: array.end - 1]
    tail = inner if inner.strip() else nl + outer  # keep comments left in the array
    return text[: array.start + 1] + nl + indent + body + tail + text[array.end - 1:]


def _line_indent(text: str, pos: int) -> str:
    line = text[text.rfind("\n", 0, pos) + 1: pos]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _render(value: object, unit: str, indent: str, nl: str) -> str:
    return json.dumps(value, indent=unit, ensure_ascii=False).replace("\n", nl + indent)



def _parse(text: str) -> dict:
    data = json_object(text, "settings", comments=True)
    if "customModels" in data and not isinstance(data["customModels"], list):
        raise Unparsable("settings", '"customModels" is not a JSON array')
    return data
