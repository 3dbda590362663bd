"""hub Request → Anthropic Messages request, for an Anthropic(-compatible) upstream.

Decisions (each hub field maps, or is dropped on purpose):

- ``max_tokens`` is required: without one in the hub request, ``DEFAULT_MAX_TOKENS``
  (32000, what Claude Code itself asks for an unknown model; a small default truncates
  agents). A provider quirk can clamp it per model.
- System: ``Request.system``, then every system/developer message that comes BEFORE the
  first user/assistant/tool message (text only), become the ``system`` blocks. A
  system/developer message later in the conversation (Codex's mid-conversation developer
  notes, Claude Code's mid-conversation system message) is folded, text intact, into the
  user turn at that point, wrapped in ``<system-reminder>…</system-reminder>`` — the marker
  Claude models already know — because only api.anthropic.com with the
  mid-conversation-system beta accepts ``role: "system"`` inside ``messages``.
- Turns: consecutive same-role turns are merged; ``tool`` messages become ``tool_result``
  blocks placed first in the user turn right after the assistant's ``tool_use``; a
  ``tool_use`` left unanswered gets a ``tool_result`` (``is_error``) saying so; a result
  whose call is not in the preceding assistant turn becomes user text (content kept); no
  empty text blocks.
- Tool ids go through ``safe_id`` (blocks.py) in both ``tool_use.id`` and
  ``tool_result.tool_use_id``; response/stream decoders map them back with ``IdMap``.
- Tool names: namespaced tools flattened by ``ToolNames``; custom tools become a function
  with one string argument ``input`` (grammar appended to the description); hosted tools
  are sent only when they came from an Anthropic client (``hosted["messages"]``), foreign
  ones (Responses ``web_search``…) are dropped; ``input_schema`` always has
  ``type: "object"``.
- Reasoning: hub reasoning is replayed as ``thinking``/``redacted_thinking`` only when it
  carries an Anthropic signature (``meta["messages"]``); other reasoning (DeepSeek, OpenAI)
  cannot be signed and is dropped. ``effort`` alone becomes ``thinking.enabled`` with a
  budget from hub/reasoning.py (≥ 1024, < max_tokens); an explicit budget is clamped the
  same way (thinking left off when max_tokens ≤ 1024); adaptive stays adaptive with
  ``output_config.effort`` (minimal → low). With ``enabled`` thinking, when the current
  tool loop's assistant turn does not start with a signed thinking block, thinking is
  left off for this request (Anthropic would answer 400); with thinking off, thinking
  blocks are stripped from a final assistant prefill.
- Thinking forbids forced tool use: ``required``/``tool`` degrade to ``auto``. Thinking
  also forbids ``temperature``/``top_k``, so they are not sent then; otherwise
  ``temperature`` (clamped to 0–1) and ``top_k`` are sent, and ``top_p`` only without
  ``temperature`` (new models reject both together).
- ``parallel_tool_calls=False`` → ``disable_parallel_tool_use`` (needs tools; not on
  ``none``). ``tool_choice`` is omitted when no tool is sent.
- ``response_format`` json_schema → ``output_config.format``; ``json_object`` has no
  Anthropic equivalent and is dropped. ``user`` → ``metadata.user_id``; other hub
  ``metadata`` is dropped (Anthropic's metadata has only ``user_id``).
- Prompt caching: ``cache_control`` markers (with ``ttl``, ``scope``) stay on the
  system blocks, tools and message blocks the client put them on (a folded system
  message's marker on its reminder block). A request from a client that does not speak
  Messages (Codex…; its request carries that protocol's extras or a cache key) has none,
  and Anthropic caches nothing without one: it gets
  Claude Code's layout, ``{"type": "ephemeral"}`` on the last tool, the last system block
  and the last block of the conversation (3 of the 4 allowed).
- ``extras["messages"]`` (only set when the client spoke Messages) are sent back:
  billing header block first in ``system``, ``context_management`` and the other
  passthrough fields, the rest of ``output_config``, the adaptive ``display``.
"""

from __future__ import annotations

import json

from byecore_cli.codecs.messages.blocks import P, encode_part, safe_id, thinking_block
from byecore_cli.codecs.messages.request import PASSTHROUGH
from byecore_cli.hub import (
    REMINDER,
    Image,
    Reasoning,
    Request,
    Text,
    ToolCall,
    ToolResult,
    meta_for,
)
from byecore_cli.hub.reasoning import MIN_BUDGET, effort_to_budget
from byecore_cli.hub.tools import (
    ToolNames,
    custom_tool_description,
    custom_tool_schema,
    wrap_custom_input,
)

DEFAULT_MAX_TOKENS = 32000
BREAKPOINT = {"type": "ephemeral"}
# blocks that may carry cache_control (thinking blocks may not)
CACHEABLE = frozenset(("text", "image", "document", "tool_use", "tool_result"))
UNANSWERED = "No result was provided for this tool call."
_EFFORTS = {"minimal": "low", "low": "low", "medium": "medium", "high": "high",
            "xhigh": "xhigh", "max": "max"}
_CHOICES = {"auto": "auto", "required": "any", "tool": "tool"}


def encode_request(request: Request) -> dict:
    mine = request.extras.get(P) or {}
    names = ToolNames(request.tools)
    max_tokens = request.max_tokens if request.max_tokens is not None else DEFAULT_MAX_TOKENS
    system, turns = _conversation(request, names, mine)
    thinking, effort = _thinking(request, max_tokens, mine)
    if thinking and thinking.get("type") == "enabled" and not _loop_starts_with_thinking(turns):
        thinking = None
    thinking_on = bool(thinking) and thinking.get("type") != "disabled"
    if not thinking_on and turns and turns[-1]["role"] == "assistant":
        turns[-1]["content"] = [b for b in turns[-1]["content"]
                                if b["type"] not in ("thinking", "redacted_thinking")]
        if not turns[-1]["content"]:
            turns.pop()

    body: dict = {"model": request.model, "max_tokens": max_tokens}
    if system:
        body["system"] = system
    body["messages"] = turns
    tools = _tools(request, names)
    if tools:
        body["tools"] = tools
        choice = _tool_choice(request, names, thinking_on)
        if choice:
            body["tool_choice"] = choice
    if thinking:
        body["thinking"] = thinking
    output_config = dict(mine.get("output_config") or {})
    if effort:
        output_config["effort"] = effort
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_schema" and fmt.schema is not None:
        output_config["format"] = {"type": "json_schema", "schema": fmt.schema}
    if output_config:
        body["output_config"] = output_config
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    if not thinking_on:
        if request.temperature is not None:
            body["temperature"] = min(max(request.temperature, 0.0), 1.0)
        elif request.top_p is not None:
            body["top_p"] = request.top_p
        if request.top_k is not None:
            body["top_k"] = request.top_k
    if request.user:
        body["metadata"] = {"user_id": request.user}
    for key in PASSTHROUGH:
        if key in mine:
            body[key] = mine[key]
    if request.stream:
        body["stream"] = True
    if P not in request.extras and (request.extras or request.cache_key):
        _add_breakpoints(body)  # decoded from a protocol that has no cache markers
    return body


def _add_breakpoints(body: dict) -> None:
    """Cache markers where Claude Code puts them, for a client that cannot say where (its
    protocol has no markers): the tools, the system prompt and the conversation so far,
    each cached up to its end. Fresh dicts: the blocks may be shared with the hub."""
    tools = body.get("tools")
    if tools and not tools[-1].get("defer_loading"):  # a deferred tool takes no marker
        tools[-1] = {**tools[-1], "cache_control": dict(BREAKPOINT)}
    system = body.get("system")
    if system:
        system[-1] = {**system[-1], "cache_control": dict(BREAKPOINT)}
    turns = body["messages"]
    if turns:
        content = turns[-1]["content"]
        for i in range(len(content) - 1, -1, -1):
            if content[i]["type"] in CACHEABLE:
                content[i] = {**content[i], "cache_control": dict(BREAKPOINT)}
                break


_load_object = json.JSONDecoder().decode  # json.loads minus its per-call argument checks


# --- the conversation -------------------------------------------------------------------

def _conversation(request: Request, names: ToolNames, mine: dict) -> tuple[list, list]:
    system: list[dict] = []
    if "billing_header" in mine:
        system.append(mine["billing_header"])
    system += [b for b in map(encode_part, request.system) if b]
    turns: list[dict] = []
    leading = True
    for message in request.messages:
        if message.role in ("system", "developer"):
            if leading and all(isinstance(p, Text) for p in message.parts):
                system += [b for b in map(encode_part, message.parts) if b]
            else:
                _add(turns, "user", _reminder(message.parts))
            continue
        leading = False
        if message.role == "tool":
            _add(turns, "user", [_tool_result(p) for p in message.parts
                                 if p.__class__ is ToolResult])
            continue
        results = [_tool_result(p) for p in message.parts if p.__class__ is ToolResult]
        if results:
            _add(turns, "user", results)
        if message.role == "assistant":
            _add(turns, "assistant", _assistant(message.parts, names))
        else:
            _add(turns, "user", [b for p in message.parts
                                 if isinstance(p, (Text, Image)) and (b := encode_part(p))])
    _pair_tools(turns)
    return system, turns


def _add(turns: list[dict], role: str, blocks: list[dict]) -> None:
    if not blocks:
        return
    if turns and turns[-1]["role"] == role:
        turns[-1]["content"] += blocks
    else:
        turns.append({"role": role, "content": blocks})


def _reminder(parts: list) -> list[dict]:
    texts = [p for p in parts if isinstance(p, Text) and p.text]
    blocks = [{"type": "text", "text": REMINDER[0] + "\n\n".join(p.text for p in texts)
               + REMINDER[1]}] if texts else []
    # the client's cache marker on the message (Claude Code's breakpoint) stays with it
    marker = next((c for p in reversed(texts) if (c := meta_for(p, P).get("cache_control"))),
                  None)
    if marker is not None:
        blocks[0]["cache_control"] = marker
    return blocks + [b for p in parts if isinstance(p, Image) and (b := encode_part(p))]


def _assistant(parts: list, names: ToolNames) -> list[dict]:
    blocks = []
    for part in parts:
        if isinstance(part, ToolCall):
            blocks.append(_tool_use(part, names))
        elif isinstance(part, Reasoning):
            mine = meta_for(part, P)
            if "signature" in mine or "redacted" in mine:
                blocks.append(thinking_block(part))
        elif isinstance(part, (Text, Image)):
            block = encode_part(part)
            if block:
                blocks.append(block)
    return blocks


def _tool_use(part: ToolCall, names: ToolNames) -> dict:
    arguments = wrap_custom_input(part.arguments) if part.kind == "custom" else part.arguments
    try:
        value = _load_object(arguments) if arguments else {}
    except ValueError:
        value = {"_raw": arguments} if arguments.strip() else {}
    if not isinstance(value, dict):
        value = {"_raw": arguments}
    block = {"type": "tool_use", "id": safe_id(part.id),
             "name": names.wire(part.name, part.namespace), "input": value}
    if part.meta:
        mine = meta_for(part, P)
        if "cache_control" in mine:
            block["cache_control"] = mine["cache_control"]
    return block


def _tool_result(part: ToolResult) -> dict:
    block: dict = {"type": "tool_result", "tool_use_id": safe_id(part.call_id)}
    content = [b for b in map(encode_part, part.content) if b]
    if len(content) == 1 and content[0]["type"] == "text" and len(content[0]) == 2:
        block["content"] = content[0]["text"]  # a lone plain text: the string form
    elif content:
        block["content"] = content
    if part.is_error:
        block["is_error"] = True
    if part.meta:
        mine = meta_for(part, P)
        if "cache_control" in mine:
            block["cache_control"] = mine["cache_control"]
    return block


def _pair_tools(turns: list[dict]) -> None:
    """Every tool_use answered in the next user turn; results without a call become text."""
    calls: list[str] = []
    i = 0
    while i < len(turns):
        turn = turns[i]
        if turn["role"] == "assistant":
            calls = [b["id"] for b in turn["content"] if b["type"] == "tool_use"]
            if calls and (i + 1 == len(turns) or turns[i + 1]["role"] != "user"):
                turns.insert(i + 1, {"role": "user", "content": []})
            i += 1
            continue
        content = turn["content"]
        if _answers_in_order(content, calls):
            calls = []
            i += 1
            continue
        results, rest = [], []
        for block in content:
            if block["type"] != "tool_result":
                rest.append(block)
            elif block["tool_use_id"] in calls:
                results.append(block)
            else:
                rest += _orphan(block)
        answered = {b["tool_use_id"] for b in results}
        missing = [{"type": "tool_result", "tool_use_id": c, "content": UNANSWERED,
                    "is_error": True} for c in calls if c not in answered]
        turn["content"] = results + missing + rest
        calls = []
        i += 1


def _answers_in_order(content: list[dict], calls: list[str]) -> bool:
    """Whether ``content`` is already the results for ``calls``, in order, then no others:
    what a well-formed tool loop gives, so the usual turn needs no rebuilding."""
    n = len(calls)
    if len(content) < n:
        return False
    for block, call in zip(content, calls, strict=False):  # content may run on
        if block["type"] != "tool_result" or block["tool_use_id"] != call:
            return False
    return not any(b["type"] == "tool_result" for b in content[n:])


def _orphan(block: dict) -> list[dict]:
    content = block.get("content")
    head = f"[tool result for call {block['tool_use_id']}]"
    if isinstance(content, str):
        return [{"type": "text", "text": f"{head}\n{content}"}]
    return [{"type": "text", "text": head}] + list(content or [])


def _loop_starts_with_thinking(turns: list[dict]) -> bool:
    """False when the current tool loop's assistant turn lacks a leading thinking block."""
    if len(turns) < 2 or turns[-1]["role"] != "user" or turns[-2]["role"] != "assistant":
        return True
    if not any(b["type"] == "tool_result" for b in turns[-1]["content"]):
        return True
    first = turns[-2]["content"][0]["type"]
    return first in ("thinking", "redacted_thinking")


# --- tools and settings -----------------------------------------------------------------

def _tools(request: Request, names: ToolNames) -> list[dict]:
    out = []
    for tool in request.tools:
        if tool.kind == "hosted":
            original = (tool.hosted or {}).get(P)
            if original:
                out.append(original)
            continue
        if tool.kind == "custom":
            schema, description = custom_tool_schema(), custom_tool_description(tool)
        else:
            schema, description = tool.parameters, tool.description
            if not isinstance(schema, dict):
                schema = {"type": "object", "properties": {}}
            elif schema.get("type") != "object":
                schema = {**schema, "type": "object"}
        block = {"name": names.wire(tool.name, tool.namespace), "input_schema": schema}
        if description:
            block["description"] = description
        if tool.strict is not None:
            block["strict"] = tool.strict
        block.update(meta_for(tool, P))
        out.append(block)
    return out


def _tool_choice(request: Request, names: ToolNames, thinking_on: bool) -> dict | None:
    choice = request.tool_choice
    mode = choice.mode if choice else None
    if thinking_on and mode in ("required", "tool"):
        mode = "auto"
    if mode == "none":
        return {"type": "none"}
    if mode is None and request.parallel_tool_calls is not False:
        return None
    out: dict = {"type": _CHOICES.get(mode or "auto", "auto")}
    if out["type"] == "tool":
        out["name"] = names.wire(choice.name or "")
    if request.parallel_tool_calls is False:
        out["disable_parallel_tool_use"] = True
    return out


def _thinking(request: Request, max_tokens: int, mine: dict) -> tuple[dict | None, str | None]:
    reasoning = request.reasoning
    if reasoning is None:
        return None, None
    if reasoning.enabled is False or reasoning.effort == "none":
        return {"type": "disabled"}, None
    effort = _EFFORTS.get(reasoning.effort or "")
    if reasoning.adaptive:
        thinking = {"type": "adaptive"}
        if mine.get("thinking_display"):
            thinking["display"] = mine["thinking_display"]
        return thinking, effort
    budget = reasoning.budget_tokens
    if budget is None and mine.get("thinking"):  # a mode the hub has no word for
        return mine["thinking"], effort
    if budget is None:
        if reasoning.effort is None and not reasoning.enabled:
            return None, None
        budget = effort_to_budget(reasoning.effort or "medium", max_tokens)
        effort = None  # the budget says it; older models reject output_config.effort
    elif max_tokens <= MIN_BUDGET:
        budget = None
    else:
        budget = max(MIN_BUDGET, min(budget, max_tokens - 1))
    if budget is None:
        return None, effort
    return {"type": "enabled", "budget_tokens": budget}, effort
