"""Responses request → hub ``Request`` (what Codex, OpenCode and Droid send).

Field table (decode; ``request_encode.py`` is the way back):

=========================  ===========================================================
Responses                  hub
=========================  ===========================================================
instructions               ``system`` (one Text)
input (string)             one user message
input message items        messages with role user/system/developer/assistant; message
                           ``id`` in ``Message.meta`` (input roles) or ``Text.meta``
                           (assistant, with ``phase`` and ``annotations``)
reasoning item             assistant ``Reasoning`` (see ``items.py``)
function_call /            assistant ``ToolCall`` (kind function/custom, ``namespace``),
custom_tool_call           item ``id`` (``fc_…``/``ctc_…``) in meta
function_call_output /     ``ToolResult`` (kind function/custom) in a ``tool`` message;
custom_tool_call_output    client-made item ids (``fco_…``) in meta
other item types           dropped on purpose (hosted-tool calls, ``item_reference``,
                           ``compaction``…: nothing to say to another protocol, and
                           same-protocol traffic never reaches a codec)
tools: function / custom   ``Tool`` kind function / custom (``format`` kept)
tools: namespace           one ``Tool`` per member with ``namespace`` set
tools: anything else       ``Tool(kind="hosted", hosted={"responses": original})``
tool_choice                ``ToolChoice``; allowed_tools / hosted forms kept verbatim in
                           extras (mode auto/required for other protocols)
reasoning                  ``ReasoningConfig(effort, summary)``; effort "none" = off
text.format                ``ResponseFormat`` (json_schema / json_object)
max_output_tokens          ``max_tokens``
temperature, top_p,        same names
parallel_tool_calls,
metadata, user, stream
text.verbosity, store,     ``extras["responses"]`` (``EXTRA_FIELDS``); re-sent only to
include, prompt_cache_key, a Responses upstream. ``client_metadata`` (Codex-only) is kept
service_tier, …            but never re-sent: strict upstreams reject it. ``prompt_cache_key``
                           is also ``cache_key``, for a Chat upstream
=========================  ===========================================================
"""

from __future__ import annotations

from typing import Any

from byecore_cli.codecs.responses.items import (
    P,
    decode_content,
    decode_reasoning,
    fail,
    meta,
)
from byecore_cli.codecs.validate import arr, integer, number, obj, string
from byecore_cli.hub import (
    Message,
    ReasoningConfig,
    Request,
    ResponseFormat,
    Text,
    Tool,
    ToolCall,
    ToolChoice,
    ToolResult,
)

# Responses-only request fields kept in extras and re-sent to a Responses upstream.
EXTRA_FIELDS = (
    "store", "include", "prompt_cache_key", "prompt_cache_retention", "prompt_cache_options",
    "service_tier", "safety_identifier", "truncation", "max_tool_calls", "top_logprobs",
    "background", "previous_response_id", "conversation", "prompt", "stream_options",
    "context_management",
)
CLIENT_ONLY = ("client_metadata",)  # kept for the record, never re-sent
ROLES = ("user", "system", "developer", "assistant")
TOOL_FIELDS = ("type", "name", "description", "parameters", "strict", "format")


def decode_request(body: Any) -> Request:
    body = obj(body, "body")
    model = string(body.get("model"), "model")
    request = Request(model=model)
    extras: dict[str, Any] = {}
    instructions = string(body.get("instructions"), "instructions", optional=True)
    if instructions:
        request.system = [Text(instructions)]
    raw_input = body.get("input")
    if isinstance(raw_input, str):
        request.messages = [Message("user", [Text(raw_input)])]
    elif raw_input is not None:
        request.messages = decode_items(arr(raw_input, "input"))
    request.tools = decode_tools(body.get("tools"))
    request.tool_choice = decode_tool_choice(body.get("tool_choice"), extras)
    parallel = body.get("parallel_tool_calls")
    if parallel is not None and not isinstance(parallel, bool):
        raise fail("parallel_tool_calls must be a boolean", "parallel_tool_calls")
    request.parallel_tool_calls = parallel
    # optional fields: null or absent leaves them unset
    request.max_tokens = integer(body.get("max_output_tokens"), "max_output_tokens",
                                 optional=True)
    request.temperature = number(body.get("temperature"), "temperature", optional=True)
    request.top_p = number(body.get("top_p"), "top_p", optional=True)
    request.reasoning = decode_reasoning_config(body.get("reasoning"), extras)
    request.response_format = decode_text(body.get("text"), extras)
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise fail("stream must be a boolean", "stream")
    request.stream = bool(stream)
    if body.get("metadata") is not None:
        request.metadata = dict(obj(body["metadata"], "metadata"))
    request.user = string(body.get("user"), "user", optional=True)
    request.cache_key = string(body.get("prompt_cache_key"), "prompt_cache_key", optional=True)
    for key in EXTRA_FIELDS + CLIENT_ONLY:
        if body.get(key) is not None:
            extras[key] = body[key]
    if extras:
        request.extras[P] = extras
    return request


# --- input items -------------------------------------------------------------------

def decode_items(items: list) -> list[Message]:
    messages: list[Message] = []

    def turn(role: str) -> Message:
        """The open assistant/tool turn, or a new one: consecutive items share a turn."""
        if messages and messages[-1].role == role and not messages[-1].meta:
            return messages[-1]
        messages.append(Message(role))
        return messages[-1]

    # Error paths (``input[3].call_id``) are spelt out only on failure: a Codex request
    # carries hundreds of items, and formatting each one's paths up front was a tenth of
    # the decode.
    for i, item in enumerate(items):
        if item.__class__ is not dict:
            obj(item, f"input[{i}]")
        kind = item.get("type", "message" if "role" in item else None)
        item_id = item.get("id")
        if item_id is not None:
            item_id = string(item_id, f"input[{i}].id")
        item_meta = {P: {"id": item_id}} if item_id is not None else None  # meta(id=item_id)
        if kind == "message":
            role = item.get("role")
            if role not in ROLES:
                raise fail(f"unsupported message role {role!r}", f"input[{i}].role")
            parts = decode_content(item.get("content"), f"input[{i}].content")
            if role == "assistant":
                phase = item.get("phase")
                for part in parts if item_id or phase else ():
                    own = dict((part.meta or {}).get(P) or {})
                    own.update({k: v for k, v in (("id", item_id), ("phase", phase)) if v})
                    part.meta = {P: own}
                turn("assistant").parts.extend(parts)
            else:
                messages.append(Message(role, parts, item_meta))
        elif kind == "reasoning":
            turn("assistant").parts.append(decode_reasoning(item, f"input[{i}]"))
        elif kind in ("function_call", "custom_tool_call"):
            custom = kind == "custom_tool_call"
            call_id, name = item.get("call_id"), item.get("name")
            arguments = item.get("input" if custom else "arguments")
            namespace = item.get("namespace")
            if (call_id.__class__ is not str or name.__class__ is not str
                    or arguments.__class__ is not str
                    or not (namespace is None or namespace.__class__ is str)):
                _check_call(item, i, custom)
            turn("assistant").parts.append(ToolCall(
                id=call_id, name=name, arguments=arguments,
                kind="custom" if custom else "function", namespace=namespace, meta=item_meta,
            ))
        elif kind in ("function_call_output", "custom_tool_call_output"):
            output = item.get("output")
            if output.__class__ is str:
                content = [Text(output)] if output else []
            else:
                content = decode_content(output, f"input[{i}].output")
            turn("tool").parts.append(ToolResult(
                call_id=string(item.get("call_id"), f"input[{i}].call_id"),
                content=content,
                kind="custom" if kind == "custom_tool_call_output" else "function",
                meta=item_meta,
            ))
        elif not isinstance(kind, str):
            raise fail("input item needs a type", f"input[{i}].type")
        # any other item type is dropped on purpose (see the module docstring)
    return messages


def _check_call(item: dict, i: int, custom: bool) -> None:
    """Raise the error for a malformed function/custom call item."""
    field = "input" if custom else "arguments"
    for key in ("call_id", "name", field):
        string(item.get(key), f"input[{i}].{key}")
    string(item.get("namespace"), f"input[{i}].namespace", optional=True)


# --- tools -------------------------------------------------------------------------

def _tool(spec: dict, param: str, namespace: str | None = None) -> Tool:
    kind = spec.get("type")
    name = string(spec.get("name"), f"{param}.name")
    description = string(spec.get("description"), f"{param}.description", optional=True)
    extra = {k: v for k, v in spec.items() if k not in TOOL_FIELDS}
    tool = Tool(name=name, description=description or "", namespace=namespace,
                meta=meta(extra=extra or None))
    if kind == "custom":
        tool.kind = "custom"
        if spec.get("format") is not None:
            tool.format = obj(spec["format"], f"{param}.format")
        return tool
    if spec.get("parameters") is not None:
        tool.parameters = obj(spec["parameters"], f"{param}.parameters")
    strict = spec.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise fail("strict must be a boolean", f"{param}.strict")
    tool.strict = strict
    return tool


def decode_tools(raw: Any) -> list[Tool]:
    if raw is None:
        return []
    tools: list[Tool] = []
    for i, spec in enumerate(arr(raw, "tools")):
        param = f"tools[{i}]"
        spec = obj(spec, param)
        kind = spec.get("type")
        if kind in ("function", "custom"):
            tools.append(_tool(spec, param))
        elif kind == "namespace":
            namespace = string(spec.get("name"), f"{param}.name")
            description = string(spec.get("description"), f"{param}.description", optional=True)
            for j, member in enumerate(arr(spec.get("tools"), f"{param}.tools")):
                sub = f"{param}.tools[{j}]"
                member = obj(member, sub)
                if member.get("type") not in ("function", "custom"):
                    raise fail("a namespace holds only function and custom tools", f"{sub}.type")
                tool = _tool(member, sub, namespace)
                if description:
                    tool.meta = {P: {**(tool.meta or {}).get(P, {}), "ns_description": description}}
                tools.append(tool)
        elif isinstance(kind, str):
            tools.append(Tool(name=spec.get("name") if isinstance(spec.get("name"), str) else kind,
                              kind="hosted", hosted={P: spec}))
        else:
            raise fail("tool needs a type", f"{param}.type")
    return tools


def decode_tool_choice(raw: Any, extras: dict) -> ToolChoice | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        if raw not in ("auto", "none", "required"):
            raise fail(f"unsupported tool_choice {raw!r}", "tool_choice")
        return ToolChoice(raw)
    raw = obj(raw, "tool_choice")
    kind = raw.get("type")
    if kind in ("function", "custom"):
        return ToolChoice("tool", string(raw.get("name"), "tool_choice.name"), kind)
    if not isinstance(kind, str):
        raise fail("tool_choice needs a type", "tool_choice.type")
    extras["tool_choice"] = raw  # allowed_tools, hosted tools: kept for Responses only
    return ToolChoice("required" if raw.get("mode") == "required" else "auto")


def decode_reasoning_config(raw: Any, extras: dict) -> ReasoningConfig | None:
    if raw is None:
        return None
    raw = obj(raw, "reasoning")
    effort = string(raw.get("effort"), "reasoning.effort", optional=True)
    summary = raw.get("summary") or raw.get("generate_summary")
    rest = {k: v for k, v in raw.items()
            if k not in ("effort", "summary", "generate_summary") and v is not None}
    if rest:
        extras["reasoning"] = rest
    return ReasoningConfig(
        enabled=None if effort is None else effort != "none",
        effort=effort,
        summary=string(summary, "reasoning.summary", optional=True),
    )


def decode_text(raw: Any, extras: dict) -> ResponseFormat | None:
    if raw is None:
        return None
    raw = obj(raw, "text")
    if raw.get("verbosity") is not None:
        extras["verbosity"] = raw["verbosity"]
    fmt = raw.get("format")
    if fmt is None:
        return None
    fmt = obj(fmt, "text.format")
    kind = fmt.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return ResponseFormat(type="json_object")
    if kind != "json_schema":
        raise fail(f"unsupported text.format type {kind!r}", "text.format.type")
    strict = fmt.get("strict")
    return ResponseFormat(
        type="json_schema",
        name=string(fmt.get("name"), "text.format.name", optional=True),
        schema=obj(fmt.get("schema"), "text.format.schema"),
        strict=strict if isinstance(strict, bool) else None,
        description=string(fmt.get("description"), "text.format.description", optional=True),
    )
