"""Anthropic Messages request (what Claude Code, OpenCode, Droid, Aider send) → hub Request.

Field table (wire → hub):

=========================  ==================================================================
``model``                  ``model``
``max_tokens``             ``max_tokens`` (optional here: count_tokens bodies have none)
``system`` str | blocks    ``system`` Texts (``cache_control`` in meta). The Claude Code
                           ``x-anthropic-billing-header: …`` block is client-internal noise:
                           DROPPED from the hub, kept verbatim in ``extras["messages"]
                           ["billing_header"]`` so only an Anthropic encoder puts it back.
``messages[]`` user        ``user`` messages; ``tool_result`` blocks are split off, in order,
                           into ``tool`` messages of ``ToolResult`` parts
``messages[]`` assistant   one ``assistant`` message: Reasoning, Text, ToolCall in order
``messages[]`` system      ``Message(role="system")`` kept in place (mid-conversation beta)
content blocks             see blocks.py (text, image, document, thinking, redacted, server
                           blocks kept opaque); ``tool_use.input`` → JSON ``arguments``
``tools[]``                function tools (``input_schema`` → ``parameters``, ``strict``;
                           ``cache_control``, ``defer_loading``, ``eager_input_streaming``,
                           ``input_examples``, ``allowed_callers`` → meta); any other ``type``
                           (``web_search_20250305``…) → ``kind="hosted"``,
                           ``hosted={"messages": original}``
``tool_choice``            auto/any→required/tool/none; ``disable_parallel_tool_use`` →
                           ``parallel_tool_calls = not value``
``thinking``               enabled → ``ReasoningConfig(enabled, budget_tokens)``; adaptive →
                           ``adaptive=True`` (``display`` → extras); disabled → enabled=False;
                           another mode (``between_tools``) → enabled=True, original in extras
``output_config``          ``effort`` → ``reasoning.effort``; ``format`` → ``ResponseFormat``;
                           other keys → extras["messages"]["output_config"]
``metadata.user_id``       ``user``; its session (Claude Code's JSON ``session_id``, or the
                           older ``…_session_<uuid>`` string) → ``cache_key``
``stop_sequences``         ``stop``
``temperature`` ``top_p``  same (legacy fields the SDK no longer types; accepted)
``top_k``, ``stream``
``context_management``,    extras["messages"] (Anthropic-only, beta; re-sent only to an
``service_tier``,          Anthropic upstream)
``container``, top-level
``cache_control``,
``speed``,
``inference_geo``,
``diagnostics``,
``mcp_servers``
anything else              dropped on purpose
=========================  ==================================================================
"""

from __future__ import annotations

import hashlib
import json
import re

from byecore_cli.codecs.base import CodecError
from byecore_cli.codecs.messages.blocks import P, decode_block, keep, text_of
from byecore_cli.codecs.validate import arr, integer, number, obj
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
    meta_for,
)

BILLING_PREFIX = "x-anthropic-billing-header:"
# Anthropic-only top-level fields kept for an Anthropic upstream, with their JSON type;
# their insides are Anthropic's to judge.
PASSTHROUGH = {"context_management": dict, "service_tier": str, "container": (str, dict),
               "cache_control": dict, "speed": str, "inference_geo": str,
               "diagnostics": dict, "mcp_servers": list}
TOOL_META = ("cache_control", "defer_loading", "eager_input_streaming", "input_examples",
             "allowed_callers")
LEGACY_SESSION = re.compile(r"_session_([0-9A-Za-z-]{8,64})$")
SAFE_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _blocks(content, param: str) -> list:
    """``content`` as a list of blocks (a string is one text block)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return arr(content, param)


def decode_request(body: dict) -> Request:
    body = obj(body, "body")
    model = text_of(body.get("model"), "model")
    extras: dict = {}
    for key, kind in PASSTHROUGH.items():
        if body.get(key) is not None:
            if not isinstance(body[key], kind):
                raise CodecError(f"{key} has the wrong type", param=key)
            extras[key] = body[key]
    request = Request(model=model, extras={P: extras})
    if body.get("max_tokens") is not None:
        request.max_tokens = integer(body["max_tokens"], "max_tokens")
    request.system = _system(body.get("system"), extras)
    request.messages = _messages(arr(body.get("messages"), "messages"))
    request.tools = [_tool(t, f"tools[{i}]") for i, t in enumerate(arr(body.get("tools") or [],
                                                                         "tools"))]
    if body.get("tool_choice") is not None:
        request.tool_choice, request.parallel_tool_calls = _tool_choice(body["tool_choice"])
    request.reasoning = _reasoning(body, extras)
    fmt = (body.get("output_config") or {}).get("format")
    if fmt is not None:
        fmt = obj(fmt, "output_config.format")
        schema = fmt.get("schema")
        request.response_format = ResponseFormat(
            "json_schema", schema=obj(schema, "output_config.format.schema"))
    metadata = obj(body.get("metadata") or {}, "metadata")
    if metadata.get("user_id") is not None:
        request.user = text_of(metadata["user_id"], "metadata.user_id")
        request.cache_key = session_key(request.user)
    stops = arr(body.get("stop_sequences") or [], "stop_sequences")
    request.stop = [text_of(s, "stop_sequences") for s in stops]
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            setattr(request, name, number(body[name], name))
    if body.get("top_k") is not None:
        request.top_k = integer(body["top_k"], "top_k")
    request.stream = body.get("stream") is True
    return request


def _system(system, extras: dict) -> list[Text]:
    if system is None:
        return []
    out = []
    for i, block in enumerate(_blocks(system, "system")):
        block = obj(block, f"system[{i}]")
        if block.get("type") != "text":
            raise CodecError("system blocks must be text blocks", param=f"system[{i}]")
        text = text_of(block.get("text"), f"system[{i}].text")
        if text.startswith(BILLING_PREFIX):
            extras["billing_header"] = block
            continue
        out.append(decode_block(block, f"system[{i}]"))
    return out


def _messages(wire: list) -> list[Message]:
    out: list[Message] = []
    for i, message in enumerate(wire):
        param = f"messages[{i}]"
        message = obj(message, param)
        role = message.get("role")
        blocks = _blocks(message.get("content"), f"{param}.content")
        if role == "assistant":
            out.append(Message("assistant", [_assistant_part(b, f"{param}.content[{j}]")
                                             for j, b in enumerate(blocks)]))
        elif role == "user":
            _user(blocks, param, out)
        elif role == "system":
            parts = [decode_block(b, f"{param}.content[{j}]") for j, b in enumerate(blocks)]
            if any(not isinstance(p, Text) or "block" in meta_for(p, P) for p in parts):
                raise CodecError("system messages hold text only", param=f"{param}.content")
            out.append(Message("system", parts))
        else:
            raise CodecError(f"{param}.role must be user, assistant or system",
                             param=f"{param}.role")
    return out


def _user(blocks: list, param: str, out: list[Message]) -> None:
    """A user turn: tool_result blocks become ``tool`` messages, the rest ``user`` ones."""
    current: Message | None = None
    for j, block in enumerate(blocks):
        where = f"{param}.content[{j}]"
        is_result = isinstance(block, dict) and block.get("type") == "tool_result"
        role = "tool" if is_result else "user"
        if current is None or current.role != role:
            current = Message(role)
            out.append(current)
        if isinstance(block, dict) and block.get("type") == "tool_use":
            raise CodecError("tool_use blocks belong in assistant turns", param=where)
        current.parts.append(_tool_result(block, where) if is_result
                             else decode_block(block, where))


def _tool_result(block: dict, param: str) -> ToolResult:
    call_id = text_of(block.get("tool_use_id"), f"{param}.tool_use_id")
    content = block.get("content")
    parts = [] if content is None else [
        decode_block(b, f"{param}.content[{k}]")
        for k, b in enumerate(_blocks(content, f"{param}.content"))]
    return ToolResult(call_id, parts, block.get("is_error") is True,
                      meta={P: keep(block, "cache_control")} if "cache_control" in block
                      else None)


def _assistant_part(block, param: str):
    if isinstance(block, dict) and block.get("type") == "tool_use":
        call_id = text_of(block.get("id"), f"{param}.id")
        name = text_of(block.get("name"), f"{param}.name")
        args = block.get("input")
        args = {} if args is None else obj(args, f"{param}.input")
        extra = keep(block, "cache_control")
        return ToolCall(call_id, name, json.dumps(args, ensure_ascii=False),
                        meta={P: extra} if extra else None)
    if isinstance(block, dict) and block.get("type") == "tool_result":
        raise CodecError("tool_result blocks belong in user turns", param=param)
    return decode_block(block, param)


def _tool(tool, param: str) -> Tool:
    tool = obj(tool, param)
    kind = tool.get("type")
    name = tool.get("name")
    if kind not in (None, "custom"):
        return Tool(text_of(name if name is not None else kind, f"{param}.name"),
                    kind="hosted", hosted={P: tool})
    schema = obj(tool.get("input_schema") or {"type": "object", "properties": {}},
                 f"{param}.input_schema")
    description = tool.get("description") or ""
    strict = tool.get("strict")
    extra = keep(tool, *TOOL_META)
    return Tool(text_of(name, f"{param}.name"), text_of(description, f"{param}.description"),
                schema, strict=strict if isinstance(strict, bool) else None,
                meta={P: extra} if extra else None)


def _tool_choice(choice) -> tuple[ToolChoice, bool | None]:
    choice = obj(choice, "tool_choice")
    kind = choice.get("type")
    disable = choice.get("disable_parallel_tool_use")
    parallel = None if not isinstance(disable, bool) else not disable
    if kind == "auto":
        return ToolChoice("auto"), parallel
    if kind == "any":
        return ToolChoice("required"), parallel
    if kind == "none":
        return ToolChoice("none"), parallel
    if kind == "tool":
        return ToolChoice("tool", text_of(choice.get("name"), "tool_choice.name")), parallel
    raise CodecError("tool_choice.type must be auto, any, tool or none",
                     param="tool_choice.type")


def _reasoning(body: dict, extras: dict) -> ReasoningConfig | None:
    thinking = body.get("thinking")
    config = body.get("output_config")
    reasoning = None
    if thinking is not None:
        thinking = obj(thinking, "thinking")
        kind = thinking.get("type")
        if kind == "enabled":
            budget = thinking.get("budget_tokens")
            reasoning = ReasoningConfig(enabled=True, budget_tokens=None if budget is None
                                        else integer(budget, "thinking.budget_tokens"))
        elif kind == "adaptive":
            reasoning = ReasoningConfig(enabled=True, adaptive=True)
            if thinking.get("display") is not None:
                extras["thinking_display"] = thinking["display"]
        elif kind == "disabled":
            reasoning = ReasoningConfig(enabled=False)
        elif isinstance(kind, str) and kind:  # "between_tools" and later modes: thinking on
            reasoning = ReasoningConfig(enabled=True)
            extras["thinking"] = thinking
        else:
            raise CodecError("thinking.type is missing", param="thinking.type")
    if config is not None:
        config = obj(config, "output_config")
        effort = config.get("effort")
        if effort is not None:
            reasoning = reasoning or ReasoningConfig()
            reasoning.effort = text_of(effort, "output_config.effort")
        rest = {k: v for k, v in config.items() if k not in ("effort", "format")}
        if rest:
            extras["output_config"] = rest
    return reasoning



def session_key(user_id: str) -> str | None:
    """The conversation's prompt-cache key from Claude Code's ``metadata.user_id``: a JSON
    object with ``session_id`` (2.x; the same id as its ``x-claude-code-session-id``
    header, and constant across ``claude -c``), or ``user_…_account_…_session_<uuid>``
    (1.x). A session id fit for OpenAI's ``prompt_cache_key`` goes as it is, any other
    as a hash of it; another client's user id names a user, not a conversation: None."""
    session = None
    if user_id.startswith("{"):
        try:
            value = json.loads(user_id)
        except ValueError:
            value = None
        if isinstance(value, dict) and isinstance(value.get("session_id"), str):
            session = value["session_id"]
    elif match := LEGACY_SESSION.search(user_id):
        session = match.group(1)
    if not session:
        return None
    if SAFE_KEY.match(session):
        return session
    return hashlib.sha256(session.encode("utf-8", "replace")).hexdigest()[:32]
