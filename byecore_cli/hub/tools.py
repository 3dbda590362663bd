"""Tool names and freeform tools, for protocols that know neither namespaces nor custom tools.

Chat Completions and Anthropic Messages have only flat function tools with names of at
most 64 characters from ``[A-Za-z0-9_-]``. A Responses ``namespace`` tool's functions are
flattened to ``<namespace>__<name>`` (no extra ``__`` when the namespace ends in ``_``,
as MCP's ``mcp__server__`` does), shortened
with a hash suffix when too long; ``ToolNames`` maps both ways. A ``custom`` tool becomes a
function taking one string argument, ``input``.
"""

from __future__ import annotations

import hashlib
import json
import re

from byecore_cli.hub.request import Tool

MAX_NAME = 64
CUSTOM_ARG = "input"
_BAD = re.compile(r"[^A-Za-z0-9_-]")


def _flat(namespace: str | None, name: str) -> str:
    # MCP namespaces end in "__" already (mcp__server__); others (multi_agent_v1) need it,
    # or the model would see an unreadable multi_agent_v1spawn_agent.
    sep = "" if not namespace or namespace.endswith("_") else "__"
    joined = _BAD.sub("_", f"{namespace or ''}{sep}{name}")
    if len(joined) <= MAX_NAME:
        return joined
    digest = hashlib.sha256(joined.encode()).hexdigest()[:8]
    return f"{joined[: MAX_NAME - 9]}_{digest}"


class ToolNames:
    """The flat wire name of every tool in a request, and the way back."""

    def __init__(self, tools: list[Tool]) -> None:
        self._to_wire: dict[tuple[str | None, str], str] = {}
        self._from_wire: dict[str, Tool] = {}
        for tool in tools:
            wire = _flat(tool.namespace, tool.name)
            self._to_wire[(tool.namespace, tool.name)] = wire
            self._from_wire[wire] = tool

    def wire(self, name: str, namespace: str | None = None) -> str:
        return self._to_wire.get((namespace, name)) or _flat(namespace, name)

    def tool(self, wire_name: str) -> Tool | None:
        """The request's tool behind a wire name (None for a name the request never had)."""
        return self._from_wire.get(wire_name)


def custom_tool_schema() -> dict:
    return {
        "type": "object",
        "properties": {CUSTOM_ARG: {"type": "string", "description": "The raw input."}},
        "required": [CUSTOM_ARG],
        "additionalProperties": False,
    }


def custom_tool_description(tool: Tool) -> str:
    """A custom tool's description, plus its grammar so a function-only model can follow it."""
    text = tool.description or ""
    grammar = (tool.format or {}).get("definition")
    if grammar:
        syntax = (tool.format or {}).get("syntax", "")
        text += f"\n\nThe `{CUSTOM_ARG}` argument must follow this {syntax} grammar:\n{grammar}"
    return text


def wrap_custom_input(raw: str) -> str:
    return json.dumps({CUSTOM_ARG: raw}, ensure_ascii=False)


def unwrap_custom_input(arguments: str) -> str:
    """The raw input from a function-style call; the text itself if it is not our wrapper."""
    try:
        value = json.loads(arguments)
    except ValueError:
        return arguments
    # Only our own wrapper is unwrapped: guessing at other one-key objects would corrupt
    # a custom tool whose raw input happens to be JSON.
    if isinstance(value, dict) and isinstance(value.get(CUSTOM_ARG), str):
        return value[CUSTOM_ARG]
    return arguments
