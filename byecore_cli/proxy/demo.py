"""The built-in offline ``demo`` provider: answers any protocol with no key and no network.

It works on hub values only, so the client's own codec encodes its answer exactly as a
real upstream's would be, streaming or not. What it says:

- when tools are offered and the last message is not a tool result: a call to the first
  function tool, with arguments made from its JSON schema (a shell-like tool gets
  ``echo hello from byecore``), so a client's tool loop can be tried end to end;
- after a tool result: a sentence quoting the start of that result;
- otherwise: a greeting that echoes the start of the last user message.

Usage is estimated at about four characters a token.
"""

from __future__ import annotations

import json
import time
import uuid

from byecore_cli.hub import (
    Event,
    Request,
    Response,
    StopReason,
    Text,
    TextDelta,
    ToolCall,
    ToolResult,
    Usage,
)
from byecore_cli.hub.assemble import explode

_SHELL_WORDS = ("cmd", "command", "script")


def answer(request: Request) -> Response:
    last = request.messages[-1] if request.messages else None
    last_results = [p for p in (last.parts if last else []) if isinstance(p, ToolResult)]
    tools = [t for t in request.tools if t.kind in ("function", "custom")]
    choice = request.tool_choice.mode if request.tool_choice else "auto"
    parts: list = []
    if tools and not last_results and choice != "none":
        tool = tools[0]
        if choice == "tool" and request.tool_choice and request.tool_choice.name:
            tool = next((t for t in tools if t.name == request.tool_choice.name), tool)
        arguments = (_sample_args(tool.parameters) if tool.kind == "function"
                     else "echo hello from byecore")
        parts = [Text("Let me call a tool. "),
                 ToolCall(id=f"call_demo_{uuid.uuid4().hex[:12]}", name=tool.name,
                          arguments=arguments, kind=tool.kind, namespace=tool.namespace)]
        stop = StopReason.TOOL_CALLS
    elif last_results:
        said = _short(last_results[-1].text())
        parts = [Text(f"The tool answered: {said}. That is all the demo provider does; "
                      "save a real provider with: byecore provider add")]
        stop = StopReason.END
    else:
        said = _short(_last_user_text(request))
        parts = [Text("Hello from byecore's demo provider! It answers offline, so you can try "
                      f"clients end to end. You said: {said}")]
        stop = StopReason.END
    prompt = sum(len(p.text) for m in request.messages for p in m.parts
                 if isinstance(p, Text)) + sum(len(t.text) for t in request.system)
    out = sum(len(p.text) for p in parts if isinstance(p, Text))
    usage = Usage(input_tokens=max(1, prompt // 4), output_tokens=max(1, out // 4))
    return Response(id=f"demo-{uuid.uuid4().hex[:16]}", model=request.model, parts=parts,
                    stop=stop, usage=usage, created=int(time.time()))


def events(request: Request) -> list[Event]:
    """The answer as a stream; text arrives a few words at a time, like a real model's."""
    out: list[Event] = []
    for event in explode(answer(request)):
        if isinstance(event, TextDelta) and len(event.text) > 24:
            words = event.text.split(" ")
            for i in range(0, len(words), 4):
                chunk = " ".join(words[i:i + 4]) + (" " if i + 4 < len(words) else "")
                out.append(TextDelta(event.index, chunk))
        else:
            out.append(event)
    return out


def _sample_args(schema: dict | None) -> str:
    props = (schema or {}).get("properties") or {}
    required = (schema or {}).get("required") or list(props)[:1]
    args = {}
    for name in required:
        spec = props.get(name) or {}
        args[name] = _sample_value(name, spec)
    return json.dumps(args)


def _sample_value(name: str, spec: dict):
    kind = spec.get("type")
    if "enum" in spec and spec["enum"]:
        return spec["enum"][0]
    if kind == "array":
        item = spec.get("items") or {}
        return ["echo", "hello from byecore"] if item.get("type") == "string" else []
    if kind in ("integer", "number"):
        return spec.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "object":
        return {}
    if any(word in name.lower() for word in _SHELL_WORDS):
        return "echo hello from byecore"
    return "hello from byecore"


def _last_user_text(request: Request) -> str:
    for message in reversed(request.messages):
        if message.role == "user":
            text = " ".join(p.text for p in message.parts if isinstance(p, Text)).strip()
            if text:
                return text
    return "(nothing)"


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
