"""Hub ``Request`` → Responses request body, for a Responses upstream.

Only fields of ``openai.types.responses.ResponseCreateParams`` are sent. Mapping and the
deliberate drops (everything else maps by name, see ``request.py``):

- ``system`` → ``instructions`` (Text blocks joined by a blank line); system/developer
  messages inside the conversation stay messages with their role.
- assistant Text → a ``message`` item: with its original ``id`` the output-message form
  (``output_text`` parts), without it the easy form with string content (an assistant
  message may not hold ``input_text``). Consecutive Texts of one original item are
  regrouped by id.
- assistant Image → moved to a following user message (Responses assistant messages
  carry no images).
- Reasoning → a ``reasoning`` item only when it carries Responses data (``id`` or
  ``encrypted_content``); reasoning from another provider is dropped, because a
  Responses upstream rejects reasoning it did not issue.
- ToolResult ``is_error`` → the output text is prefixed with ``Error: `` (no flag exists).
- Tools: namespaced tools regrouped into ``namespace`` tools; custom tools native; hosted
  tools only when a Responses client defined them; ``strict`` defaults to false (the
  Responses default is strict, which rejects most non-OpenAI schemas).
- Dropped: ``top_k`` and ``stop`` (no such fields), ``client_metadata``.
- ``max_output_tokens`` is raised to the API minimum of 16.
- ``store`` defaults to false (byecore is stateless: the client replays history). For a
  request from another protocol with reasoning on, ``include`` asks for
  ``reasoning.encrypted_content`` (so it can be replayed) and ``reasoning.summary`` for
  "auto" (so the client sees the reasoning).
- ``reasoning.effort`` from the effort, else from a thinking budget (``hub.reasoning``).
- ``cache_key`` → ``prompt_cache_key`` (Claude Code's session id, a Chat client's key),
  unless a Responses client's own is in extras.
"""

from __future__ import annotations

from byecore_cli.codecs.responses.items import (
    P,
    encode_input_part,
    encode_reasoning,
    output_text,
)
from byecore_cli.codecs.responses.request import EXTRA_FIELDS
from byecore_cli.hub import (
    Image,
    Message,
    Reasoning,
    Request,
    Text,
    Tool,
    ToolCall,
    ToolResult,
    meta_for,
)
from byecore_cli.hub.reasoning import budget_to_effort

MIN_OUTPUT_TOKENS = 16
EMPTY_SCHEMA = {"type": "object", "properties": {}}


def encode_request(request: Request) -> dict:
    body: dict = {"model": request.model}
    if request.system:
        body["instructions"] = "\n\n".join(t.text for t in request.system)
    body["input"] = encode_items(request.messages)
    extras = request.extras.get(P) or {}
    if request.tools:
        tools = encode_tools(request.tools)
        if tools:
            body["tools"] = tools
    choice = encode_tool_choice(request, extras)
    if choice is not None:
        body["tool_choice"] = choice
    if request.parallel_tool_calls is not None:
        body["parallel_tool_calls"] = request.parallel_tool_calls
    if request.max_tokens is not None:
        body["max_output_tokens"] = max(request.max_tokens, MIN_OUTPUT_TOKENS)
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    reasoning = encode_reasoning_config(request, extras)
    if reasoning:
        body["reasoning"] = reasoning
    text: dict = {}
    fmt = request.response_format
    if fmt is not None:
        if fmt.type == "json_object":
            text["format"] = {"type": "json_object"}
        else:
            out = {"type": "json_schema", "name": fmt.name or "response",
                   "schema": fmt.schema or {}}
            if fmt.description:
                out["description"] = fmt.description
            if fmt.strict is not None:
                out["strict"] = fmt.strict
            text["format"] = out
    if extras.get("verbosity") is not None:
        text["verbosity"] = extras["verbosity"]
    if text:
        body["text"] = text
    if request.stream:
        body["stream"] = True
    if request.metadata:
        body["metadata"] = {str(k): v if isinstance(v, str) else str(v)
                            for k, v in request.metadata.items()}
    if request.user:
        body["user"] = request.user
    if request.cache_key:
        body["prompt_cache_key"] = request.cache_key
    for key in EXTRA_FIELDS:
        if key in extras:
            body[key] = extras[key]
    body.setdefault("store", False)
    thinking = reasoning.get("effort") not in (None, "none") if reasoning else False
    if thinking and body["store"] is False and P not in request.extras:
        body["include"] = ["reasoning.encrypted_content"]
    return body


# --- items -------------------------------------------------------------------------

def _output(result: ToolResult) -> str | list:
    content = result.content
    prefix = "Error: " if result.is_error else ""
    if not content:
        return prefix.strip()
    if len(content) == 1 and isinstance(content[0], Text) and not meta_for(content[0], P):
        return prefix + content[0].text
    parts = [encode_input_part(p, tool_output=True) for p in content]
    if prefix:
        parts.insert(0, {"type": "input_text", "text": prefix.strip()})
    return parts


def encode_items(messages: list[Message]) -> list[dict]:
    items: list[dict] = []
    for message in messages:
        _encode_message(message, items)
    return items


def _encode_message(message: Message, items: list[dict]) -> None:
    role = "user" if message.role == "tool" else message.role
    content: list[dict] = []  # parts of the current user/system/developer item
    moved: list[dict] = []  # assistant images, sent after the turn as a user message

    def flush() -> None:
        if content:
            item = {"type": "message", "role": role, "content": list(content)}
            if meta_for(message, P).get("id"):
                item["id"] = meta_for(message, P)["id"]
            items.append(item)
            content.clear()

    for part in message.parts:
        own = meta_for(part, P)
        if isinstance(part, ToolResult):
            flush()
            custom = part.kind == "custom"
            item = {"type": "custom_tool_call_output" if custom else "function_call_output",
                    "call_id": part.call_id, "output": _output(part)}
            if own.get("id"):
                item["id"] = own["id"]
            items.append(item)
        elif role != "assistant":
            if isinstance(part, (Text, Image)):
                content.append(encode_input_part(part))
            # reasoning or calls outside an assistant turn have no place: skipped
        elif isinstance(part, Text):
            _assistant_text(items, part, own)
        elif isinstance(part, Image):
            moved.append(encode_input_part(part))
        elif isinstance(part, Reasoning):
            if own.get("id") or own.get("encrypted_content"):
                items.append(encode_reasoning(part, own.get("id"), pack=False))
        elif isinstance(part, ToolCall):
            items.append(encode_call(part, own.get("id")))
    flush()
    if moved:
        items.append({"type": "message", "role": "user", "content": moved})


def _assistant_text(items: list[dict], part: Text, own: dict) -> None:
    item_id = own.get("id")
    last = items[-1] if items else None
    if item_id and last and last.get("id") == item_id and last.get("type") == "message":
        last["content"].append(output_text(part))
        return
    if item_id:
        item = {"type": "message", "role": "assistant", "id": item_id, "status": "completed",
                "content": [output_text(part)]}
    else:
        item = {"type": "message", "role": "assistant", "content": part.text}
    if own.get("phase"):
        item["phase"] = own["phase"]
    items.append(item)


def encode_call(call: ToolCall, item_id: str | None) -> dict:
    if call.kind == "custom":
        item = {"type": "custom_tool_call", "call_id": call.id, "name": call.name,
                "input": call.arguments}
    else:
        item = {"type": "function_call", "call_id": call.id, "name": call.name,
                "arguments": call.arguments or "{}"}
    if call.namespace:
        item["namespace"] = call.namespace
    if item_id:
        item["id"] = item_id
    return item


# --- tools -------------------------------------------------------------------------

def _tool(tool: Tool) -> dict:
    out: dict = {"type": "custom" if tool.kind == "custom" else "function", "name": tool.name}
    if tool.description:
        out["description"] = tool.description
    if tool.kind == "custom":
        if tool.format is not None:
            out["format"] = tool.format
    else:
        out["parameters"] = tool.parameters or dict(EMPTY_SCHEMA)
        out["strict"] = bool(tool.strict)
    extra = meta_for(tool, P).get("extra")
    if extra:
        out.update({k: v for k, v in extra.items() if k not in out})
    return out


def encode_tools(tools: list[Tool]) -> list[dict]:
    out: list[dict] = []
    namespaces: dict[str, dict] = {}
    for tool in tools:
        if tool.kind == "hosted":
            original = (tool.hosted or {}).get(P)
            if original:
                out.append(original)
            continue  # another protocol's hosted tool: dropped on purpose
        if tool.namespace:
            group = namespaces.get(tool.namespace)
            if group is None:
                group = {"type": "namespace", "name": tool.namespace,
                         "description": meta_for(tool, P).get("ns_description") or "",
                         "tools": []}
                namespaces[tool.namespace] = group
                out.append(group)
            group["tools"].append(_tool(tool))
        else:
            out.append(_tool(tool))
    return out


def encode_tool_choice(request: Request, extras: dict) -> str | dict | None:
    choice = request.tool_choice
    if choice is None:
        return extras.get("tool_choice")
    if extras.get("tool_choice") is not None and choice.mode in ("auto", "required"):
        return extras["tool_choice"]
    if choice.mode == "tool" and choice.name:
        return {"type": "custom" if choice.kind == "custom" else "function", "name": choice.name}
    return choice.mode if choice.mode in ("auto", "none", "required") else "auto"


def encode_reasoning_config(request: Request, extras: dict) -> dict:
    config = request.reasoning
    if config is None:
        return {}
    out: dict = dict(extras.get("reasoning") or {})
    if config.effort:
        out["effort"] = config.effort
    elif config.enabled is False:
        out["effort"] = "none"
    elif config.budget_tokens:
        out["effort"] = budget_to_effort(config.budget_tokens)
    elif config.enabled or config.adaptive:
        out["effort"] = "medium"
    if config.summary:
        out["summary"] = config.summary
    elif out.get("effort") not in (None, "none") and P not in request.extras:
        out["summary"] = "auto"  # a client of another protocol wants to see the reasoning
    return out
