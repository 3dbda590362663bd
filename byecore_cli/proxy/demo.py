"""The built-in offline ``demo`` provider: answers any protocol with no key and no network.

It works on hub values only, so the client's own codec encodes its answer exactly as a
real upstream's would be, streaming or not. What it says:

- when tools are offered and the conversation has no tool result yet: one call to a
  *harmless* tool, so a client's tool loop can be tried end to end. It picks by name, in
  this order: a file lister (``Glob``, ``LS``, ``list_files``…, pattern ``*``), a shell
  (``Bash``, ``exec_command``, ``shell``, Droid's ``Execute``…) running
  ``echo hello from byecore``, a file reader (``Read``, ``read_file``…). Never a
  sub-agent, a writer or an unknown tool: Claude Code offers ``Agent`` first, and
  calling it spawned sub-agents that called it again, without end. When none of the
  offered tools is harmless it answers in text, unless the client forces one by name;
- once the conversation holds a tool result (or after a few assistant turns): a sentence
  quoting the start of the last result, and no further call, so every task ends after
  at most one tool round;
- otherwise: a greeting that echoes the start of the last user message.

Usage is estimated at about four characters a token.
"""

from __future__ import annotations

import json
import re
import time
import uuid

from byecore_cli.hub import (
    Event,
    Request,
    Response,
    StopReason,
    Text,
    TextDelta,
    Tool,
    ToolCall,
    ToolResult,
    Usage,
)
from byecore_cli.hub.assemble import explode

ECHO = "echo hello from byecore"
# After this many assistant turns the demo only talks: a bound even for a client whose
# tool results it cannot see as such.
MAX_TOOL_TURNS = 2
# Harmless tools by their name with case, "_" and "-" dropped; best kind first.
_LISTERS = ("glob", "ls", "listfiles", "listdir", "listdirectory", "find", "findfiles")
_SHELLS = ("bash", "shell", "execcommand", "execute", "shellcommand", "runshellcommand",
           "runterminalcmd", "runcommand", "terminal", "localshell")
_READERS = ("read", "readfile", "view", "viewfile", "cat")
_SHELL_WORDS = ("cmd", "command", "script")
_PATH_WORDS = ("path", "dir", "directory", "folder", "cwd", "workdir")
_TEXT_WORDS = ("description", "summary", "reason", "title")


def answer(request: Request) -> Response:
    results = [p for m in request.messages for p in m.parts if isinstance(p, ToolResult)]
    turns = sum(m.role == "assistant" for m in request.messages)
    tool = None
    if not results and turns < MAX_TOOL_TURNS:
        tool = _pick_tool(request)
    if tool is not None:
        arguments = (_sample_args(tool.parameters) if tool.kind == "function" else ECHO)
        parts = [Text("Let me call a tool. "),
                 ToolCall(id=f"call_demo_{uuid.uuid4().hex[:12]}", name=tool.name,
                          arguments=arguments, kind=tool.kind, namespace=tool.namespace)]
        stop = StopReason.TOOL_CALLS
    elif results:
        said = _short(results[-1].text())
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


def _pick_tool(request: Request) -> Tool | None:
    """The tool to call, or None to answer in text."""
    choice = request.tool_choice
    if choice is not None and choice.mode == "none":
        return None
    callable_ = [t for t in request.tools if t.kind in ("function", "custom")]
    if choice is not None and choice.mode == "tool" and choice.name:
        forced = next((t for t in callable_ if t.name == choice.name), None)
        if forced is not None:
            return forced  # the client asked for this one: its call, not the demo's
    # Namespaced tools are Codex's sub-agent family; freeform ones edit files.
    plain = {_key(t.name): t for t in reversed(callable_)
             if t.kind == "function" and not t.namespace}
    for kind in (_LISTERS, _SHELLS, _READERS):
        for name in kind:
            if name in plain:
                return plain[name]
    return None


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


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
    lowered = name.lower()
    if "enum" in spec and spec["enum"]:
        return spec["enum"][0]  # Droid's riskLevel: "low"
    if kind == "array":
        item = spec.get("items") or {}
        return ["echo", "hello from byecore"] if item.get("type") == "string" else []
    if kind in ("integer", "number"):
        return spec.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "object":
        return {}
    if any(word in lowered for word in _SHELL_WORDS):
        return ECHO
    if "pattern" in lowered or "glob" in lowered:
        return "*"
    if any(lowered.endswith(word) for word in _PATH_WORDS):
        return "."
    if any(word in lowered for word in _TEXT_WORDS):
        return "Say hello from the demo provider"  # Droid wants a capital first letter
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
