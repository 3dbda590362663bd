"""hub ``Request`` → Chat Completions request, for a Chat(-compatible) upstream.

Decisions (each hub field maps, or is dropped on purpose):

- ``Request.system`` (Anthropic ``system``, Responses ``instructions``) → ONE leading
  ``system`` message, blocks joined by a blank line (Qwen/vLLM templates want a single
  system message first).
- ``system``/``developer`` messages stay where they are. A ``developer`` message is sent as
  ``developer`` only when a Chat client sent it so (``meta["chat"]["role"]``); others
  (Codex's developer items) go as ``system``, which every Chat vendor accepts and OpenAI
  treats as developer. Content is a string for one plain text, else text parts. Images in
  system/developer/assistant turns move to a following ``user`` message.
- ``user``: text and ``image_url`` parts (base64 images as data URLs, ``detail`` kept);
  a placeholder ``Text`` carrying an original Chat part (file, audio) is sent as that part.
- ``assistant``: ``content`` is ONE string (some vendors reject arrays here), ``null`` next
  to tool calls; texts marked ``refusal`` → ``refusal``. Tool calls: ``function`` with
  the flattened name (``ToolNames``); a ``custom`` call goes as a function whose arguments
  wrap the raw input (``{"input": …}``), or as a native ``custom`` call when its tool came
  from a Chat client. Empty arguments become ``"{}"``.
- Reasoning: echoed as ``reasoning_content`` (or ``reasoning``) on the assistant message
  ONLY when the hub ``Reasoning`` part carries Chat meta (``meta["chat"]["field"]``), i.e.
  it came from a Chat upstream that emitted that field (DeepSeek/Kimi/Qwen/vLLM, which
  need it echoed in tool loops), possibly round-tripped through another client inside a
  minted signature / ``encrypted_content``. That field is not in OpenAI's schema, so
  reasoning from elsewhere (Anthropic thinking, OpenAI encrypted reasoning) is never sent:
  OpenAI's Chat API has no way to take it back, and strict vendors reject unknown fields.
  A provider quirk may add Chat meta to force the echo.
- ``tool`` messages: one per ``ToolResult``, content a string (text joined); ``is_error``
  prefixes ``Error: ``. Chat cannot carry images in a tool message: they go, labelled with
  the call id, into ONE ``user`` message right after the run of tool messages.
- Tools: functions (``strict`` kept); custom → function with one string ``input`` argument
  (grammar in the description), or native ``custom`` when from a Chat client; hosted tools
  only when a Chat client defined them (``hosted["chat"]``), others (Responses
  ``web_search``, Anthropic server tools) are dropped.
- ``tool_choice``/``parallel_tool_calls`` only when a tool is sent (OpenAI rejects them
  otherwise); a Chat client's ``allowed_tools`` choice is sent back verbatim.
- ``max_tokens``: sent as ``extras["chat"]["max_tokens_field"]`` when set (by a Chat
  client, or a provider quirk for OpenAI reasoning models), else as ``max_tokens`` — the
  field every OpenAI-compatible vendor understands.
- ``reasoning``: ``effort`` → ``reasoning_effort``; a budget alone → the effort from
  hub/reasoning.py; ``enabled=False`` or adaptive with no effort → nothing (``"none"``
  is rejected by older reasoning models; a Chat client's own ``"none"`` is an effort and
  goes back as is). ``summary`` has no Chat field (dropped).
- ``temperature``, ``top_p``, ``stop`` (list), ``user`` map directly; ``top_k`` is not a
  Chat field (dropped). ``response_format``: json_schema (``name`` defaults to
  ``"response"``, Chat requires one) and json_object.
- ``stream`` → ``stream: true`` with ``stream_options.include_usage`` always (so streamed
  usage reaches the client), unless a quirk sets ``extras["chat"]["no_stream_options"]``.
- ``cache_key`` → ``prompt_cache_key`` (OpenAI routes a conversation's requests to the
  same cache with it): Codex's own key, or Claude Code's session id; a Chat client's own
  key rides in its fields.
- ``metadata``: the hub's (Claude Code's ``user_id``…) is dropped — OpenAI takes Chat
  ``metadata`` only with ``store``; a Chat client's own ``metadata`` and other Chat-only
  fields (``extras["chat"]["fields"]``) are sent back verbatim.
"""

from __future__ import annotations

from byecore_cli.codecs.chat.request import REASONING_FIELDS, P
from byecore_cli.hub import Image, Reasoning, Request, Text, ToolCall, ToolResult, meta_for
from byecore_cli.hub.reasoning import budget_to_effort
from byecore_cli.hub.tools import (
    ToolNames,
    custom_tool_description,
    custom_tool_schema,
    wrap_custom_input,
)


def encode_request(request: Request) -> dict:
    mine = request.extras.get(P) or {}
    names = ToolNames(request.tools)
    native = {t.name for t in request.tools if t.kind == "custom" and meta_for(t, P).get("native")}
    body: dict = {"model": request.model, "messages": _messages(request, names, native)}
    tools = _tools(request, names, native)
    if tools:
        body["tools"] = tools
        choice = mine.get("tool_choice") or _tool_choice(request, names, native)
        if choice:
            body["tool_choice"] = choice
        if request.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = request.parallel_tool_calls
    if request.max_tokens is not None:
        body[mine.get("max_tokens_field") or "max_tokens"] = request.max_tokens
    for name in ("temperature", "top_p"):
        value = getattr(request, name)
        if value is not None:
            body[name] = value
    if request.stop:
        body["stop"] = list(request.stop)
    effort = _effort(request)
    if effort:
        body["reasoning_effort"] = effort
    fmt = request.response_format
    if fmt and fmt.type == "json_schema":
        spec: dict = {"name": fmt.name or "response"}
        if fmt.description:
            spec["description"] = fmt.description
        if fmt.schema is not None:
            spec["schema"] = fmt.schema
        if fmt.strict is not None:
            spec["strict"] = fmt.strict
        body["response_format"] = {"type": "json_schema", "json_schema": spec}
    elif fmt and fmt.type == "json_object":
        body["response_format"] = {"type": "json_object"}
    elif mine.get("response_format"):
        body["response_format"] = mine["response_format"]
    if request.user:
        body["user"] = request.user
    if request.cache_key:
        body["prompt_cache_key"] = request.cache_key
    body.update(mine.get("fields") or {})
    if request.stream:
        body["stream"] = True
        if not mine.get("no_stream_options"):
            body["stream_options"] = {"include_usage": True}
    return body


def _effort(request: Request) -> str | None:
    config = request.reasoning
    if config is None:
        return None
    if config.effort:
        return config.effort
    if config.budget_tokens and config.enabled is not False:
        return budget_to_effort(config.budget_tokens)
    return None


# --- messages ---------------------------------------------------------------------------

def _messages(request: Request, names: ToolNames, native: set[str]) -> list[dict]:
    out: list[dict] = []
    system = [t.text for t in request.system if t.text]
    if system:
        out.append({"role": "system", "content": "\n\n".join(system)})
    moved: list[dict] = []  # image parts waiting for the user message after tool messages
    for message in request.messages:
        if message.role != "tool" and moved:
            out.append({"role": "user", "content": moved})
            moved = []
        role = message.role
        if role in ("system", "developer"):
            wire = "developer" if meta_for(message, P).get("role") == "developer" else "system"
            texts = [p for p in message.parts if isinstance(p, Text)]
            if texts or not message.parts:
                out.append({"role": wire, "content": _text_content(texts) if texts else ""})
            images = [_image(p) for p in message.parts if isinstance(p, Image)]
            if images:
                out.append({"role": "user", "content": images})
        elif role == "assistant":
            _assistant(message.parts, names, native, out)
        else:
            results = [p for p in message.parts if isinstance(p, ToolResult)]
            for result in results:
                out.append(_tool_message(result, moved))
            rest = [p for p in message.parts if isinstance(p, (Text, Image))]
            if rest or (role == "user" and not results):
                if moved:
                    out.append({"role": "user", "content": moved})
                    moved = []
                out.append({"role": "user", "content": _user_content(rest) if rest else ""})
    if moved:
        out.append({"role": "user", "content": moved})
    return out


def _text_content(texts: list[Text]) -> str | list[dict]:
    # only Chat's own meta decides the form: another protocol's (an Anthropic cache marker
    # that Claude Code moves every turn) must not turn a string into a list from one turn
    # to the next, which would change the bytes of a cached prefix
    if len(texts) == 1 and not meta_for(texts[0], P):
        return texts[0].text
    return [{"type": "text", "text": t.text} for t in texts]


def _image(image: Image) -> dict:
    spec = {"url": image.data_url()}
    if image.detail:
        spec["detail"] = image.detail
    return {"type": "image_url", "image_url": spec}


def _user_content(parts: list) -> str | list[dict]:
    if len(parts) == 1 and isinstance(parts[0], Text) and not meta_for(parts[0], P):
        return parts[0].text
    out = []
    for part in parts:
        if isinstance(part, Image):
            out.append(_image(part))
        else:
            original = meta_for(part, P).get("part")
            out.append(original if isinstance(original, dict)
                       else {"type": "text", "text": part.text})
    return out


def _assistant(parts: list, names: ToolNames, native: set[str], out: list[dict]) -> None:
    message: dict = {"role": "assistant"}
    texts, refusals, reasoning, calls, images = [], [], {}, [], []
    for part in parts:
        if isinstance(part, Text):
            (refusals if meta_for(part, P).get("refusal") else texts).append(part.text)
        elif isinstance(part, Reasoning):
            field = meta_for(part, P).get("field")
            if field in REASONING_FIELDS and part.text:
                reasoning.setdefault(field, []).append(part.text)
        elif isinstance(part, ToolCall):
            calls.append(_call(part, names, native))
        elif isinstance(part, Image):
            images.append(_image(part))
    message["content"] = "".join(texts) if texts or not (calls or refusals) else None
    if refusals:
        message["refusal"] = "".join(refusals)
    for field, chunks in reasoning.items():
        message[field] = "".join(chunks)
    if calls:
        message["tool_calls"] = calls
    out.append(message)
    if images:
        out.append({"role": "user", "content": images})


def _call(call: ToolCall, names: ToolNames, native: set[str]) -> dict:
    wire = names.wire(call.name, call.namespace)
    if call.kind == "custom" and call.name in native and not call.namespace:
        out = {"id": call.id, "type": "custom", "custom": {"name": wire, "input": call.arguments}}
    else:
        arguments = wrap_custom_input(call.arguments) if call.kind == "custom" \
            else call.arguments or "{}"
        out = {"id": call.id, "type": "function",
               "function": {"name": wire, "arguments": arguments}}
    extra = meta_for(call, P).get("extra_content")
    if extra is not None:
        out["extra_content"] = extra
    return out


def _tool_message(result: ToolResult, moved: list[dict]) -> dict:
    text = result.text()
    images = [_image(p) for p in result.content if isinstance(p, Image)]
    if images:
        moved.append({"type": "text", "text": f"Images returned by tool call {result.call_id}:"})
        moved.extend(images)
        if not text:
            text = "(the images are in the next user message)"
    if result.is_error and not text.startswith("Error"):
        text = f"Error: {text}"
    return {"role": "tool", "tool_call_id": result.call_id, "content": text}


# --- tools ------------------------------------------------------------------------------

def _tools(request: Request, names: ToolNames, native: set[str]) -> list[dict]:
    out = []
    for tool in request.tools:
        if tool.kind == "hosted":
            original = (tool.hosted or {}).get(P)
            if original:
                out.append(original)
            continue
        wire = names.wire(tool.name, tool.namespace)
        if tool.kind == "custom" and tool.name in native and not tool.namespace:
            custom: dict = {"name": wire}
            if tool.description:
                custom["description"] = tool.description
            if tool.format:
                custom["format"] = _custom_format(tool.format)
            out.append({"type": "custom", "custom": custom})
            continue
        fn: dict = {"name": wire}
        if tool.kind == "custom":
            fn["description"] = custom_tool_description(tool)
            fn["parameters"] = custom_tool_schema()
        else:
            if tool.description:
                fn["description"] = tool.description
            if tool.parameters is not None:
                fn["parameters"] = tool.parameters
            if tool.strict is not None:
                fn["strict"] = tool.strict
        out.append({"type": "function", "function": fn})
    return out


def _custom_format(fmt: dict) -> dict:
    if fmt.get("type") == "grammar":
        return {"type": "grammar", "grammar": {"syntax": fmt.get("syntax"),
                                               "definition": fmt.get("definition")}}
    return {"type": "text"}


def _tool_choice(request: Request, names: ToolNames, native: set[str]) -> str | dict | None:
    choice = request.tool_choice
    if choice is None:
        return None
    if choice.mode != "tool":
        return choice.mode
    tool = next((t for t in request.tools if t.name == choice.name), None)
    wire = names.wire(choice.name or "", tool.namespace if tool else None)
    if choice.kind == "custom" and choice.name in native:
        return {"type": "custom", "custom": {"name": wire}}
    return {"type": "function", "function": {"name": wire}}
