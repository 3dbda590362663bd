"""Function names Gemini accepts, and tool-call ids Gemini does not give.

Names: Gemini wants ``[A-Za-z0-9_.:-]``, at most 64 characters, starting with a letter or
an underscore. A hub tool goes through ``hub.tools.ToolNames`` (namespaces flattened,
characters outside ``[A-Za-z0-9_-]`` replaced, long names shortened with a hash), then a
name starting with a digit or a dash gets a leading ``_`` (shortened again with a hash if
that makes it too long). The mapping is derived from the request's own tools each time,
so the way back needs no state: ``GeminiNames.tool`` finds the tool behind a wire name,
and a name the request never declared comes back as it is.

Ids: Gemini API function calls usually carry no ``id`` and function responses pair with
calls by name and order. Decoders make one up, ``gemini_call_<hex>`` (``mint_id``), so
hub tool calls always have an id (random in an answer; derived from the position and
content in a request's history, so it is the same on every request); encoders towards
Gemini drop ids they made (``wire_id``) and keep any other (Gemini CLI's own, or a
foreign protocol's: the API takes an ``id`` on both ``functionCall`` and ``functionResponse``).
"""

from __future__ import annotations

import hashlib
import re
import uuid

from byecore_cli.hub import Tool
from byecore_cli.hub.tools import MAX_NAME, ToolNames

MINTED_ID = "gemini_call_"
_LEGAL = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}")


def legal_name(name: str) -> str:
    """A name Gemini accepts, for an already flattened name (``[A-Za-z0-9_-]``)."""
    if _LEGAL.fullmatch(name):
        return name
    fixed = "_" + name if name else "_"
    if len(fixed) <= MAX_NAME:
        return fixed
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{fixed[: MAX_NAME - 9]}_{digest}"


class GeminiNames:
    """The Gemini wire name of every tool in a request, and the way back."""

    def __init__(self, tools: list[Tool]) -> None:
        self._flat = ToolNames(tools)
        self._back: dict[str, Tool] = {}
        for tool in tools:
            self._back[self.wire(tool.name, tool.namespace)] = tool

    def wire(self, name: str, namespace: str | None = None) -> str:
        return legal_name(self._flat.wire(name, namespace))

    def tool(self, wire_name: str) -> Tool | None:
        return self._back.get(wire_name)


def mint_id() -> str:
    return MINTED_ID + uuid.uuid4().hex[:24]


def history_id(turn: int, index: int, name: str, arguments: str) -> str:
    """The id of an id-less call in a request's history: derived from where it is and what
    it says, so the same history gets the same ids on every request (an upstream's
    prompt cache sees the same prefix each turn)."""
    seed = f"{turn}:{index}:{name}:{arguments}".encode()
    return MINTED_ID + hashlib.sha256(seed).hexdigest()[:24]


def wire_id(call_id: str | None) -> str | None:
    """The id to send Gemini for a hub call id (None: send none)."""
    if not call_id or call_id.startswith(MINTED_ID):
        return None
    return call_id
