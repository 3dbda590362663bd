"""Chat Completions request body → hub ``Request`` (a Chat client such as OpenCode, Droid, Aider).

Field table (every top-level field either maps to the hub or is kept for a Chat encoder):

=========================  ==============================================================
``model``                  ``Request.model`` (required string)
``messages``               ``Request.messages``, in order, roles kept (see below)
``tools``                  ``function`` → Tool(function); ``custom`` → Tool(custom) with its
                           grammar converted to the Responses shape the hub keeps
                           (``{type:"grammar", syntax, definition}``) and
                           ``meta["chat"]["native"]`` so a Chat encoder sends it back as a
                           ``custom`` tool; any other type → Tool(hosted) under ``"chat"``
``tool_choice``            ``"auto"|"none"|"required"`` → mode; ``{type:function|custom}`` →
                           mode ``tool`` + name + kind; ``allowed_tools`` → its mode, the
                           original dict kept in ``extras["chat"]["tool_choice"]``
``parallel_tool_calls``    ``Request.parallel_tool_calls``
``max_completion_tokens``  ``Request.max_tokens`` (either field; which one is remembered in
``max_tokens``             ``extras["chat"]["max_tokens_field"]``)
``temperature`` ``top_p``  same; ``top_k`` (a vLLM/Qwen extension) → ``Request.top_k``
``stop``                   string or list → ``Request.stop`` (list)
``reasoning_effort``       ``ReasoningConfig(effort, enabled = effort != "none")``
``response_format``        ``json_schema``/``json_object`` → ``ResponseFormat``; ``text``
                           (the default) is kept in extras only
``stream``                 ``Request.stream``; ``stream_options.include_usage`` →
                           ``extras["chat"]["include_usage"]`` (the stream encoder sends
                           the usage chunk only when the client asked for it)
``user``                   ``Request.user``
``metadata``               ``Request.metadata`` and, verbatim, ``extras["chat"]["fields"]``
``PASSTHROUGH`` fields     ``extras["chat"]["fields"]``: Chat-only knobs (seed, n,
                           penalties, logprobs, service_tier, store, prompt_cache_key…),
                           sent back only by a Chat encoder; ``prompt_cache_key`` is also
                           ``Request.cache_key``, for a Responses upstream
``functions``,             the deprecated function-calling API: rejected with a clear 400
``function_call``,
role ``function``
anything else              ignored (vendor extensions such as ``enable_thinking``)
=========================  ==============================================================

Messages: ``system`` and ``developer`` keep their role (a ``developer`` message is marked
``meta["chat"]["role"]`` so a Chat encoder sends it back as ``developer``, see encode.py);
content may be a string or text parts. ``user`` content parts: ``text``, ``image_url``
(a data URL is split into base64 ``data`` + ``media_type``), and ``file``/``input_audio``,
which the hub cannot hold: they become a placeholder ``Text`` (``[file: name]``) whose
``meta["chat"]["part"]`` keeps the original part for a Chat encoder. ``assistant``:
``reasoning_content`` or ``reasoning`` (DeepSeek/Qwen/Kimi/vLLM) → a leading ``Reasoning``
part marked with the field name, ``content`` → ``Text``, ``refusal`` → ``Text`` marked
``refusal``, ``tool_calls`` (``function`` and ``custom``) → ``ToolCall``. ``tool`` →
a message holding one ``ToolResult`` whose kind follows the call it answers.
"""

from __future__ import annotations

from typing import Any

from byecore_cli.codecs.base import CodecError
from byecore_cli.codecs.validate import arr, integer, number, obj, string
from byecore_cli.hub import (
    Image,
    Message,
    Reasoning,
    ReasoningConfig,
    Request,
    ResponseFormat,
    Text,
    Tool,
    ToolCall,
    ToolChoice,
    ToolResult,
)

P = "chat"

PASSTHROUGH = (
    "frequency_penalty", "presence_penalty", "logit_bias", "logprobs", "top_logprobs", "n",
    "seed", "service_tier", "store", "prompt_cache_key", "prompt_cache_retention",
    "prompt_cache_options", "safety_identifier", "verbosity", "modalities", "audio",
    "prediction", "web_search_options", "metadata",
)
REASONING_FIELDS = ("reasoning_content", "reasoning")
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")


def split_data_url(url: str) -> Image:
    """An ``image_url`` value → hub Image: base64 data URLs split into data + media type."""
    if url.startswith("data:"):
        head, sep, data = url.partition(",")
        if sep and head.endswith(";base64"):
            return Image(data=data, media_type=head[5:-7] or None)
    return Image(url=url)


def decode_request(body: Any) -> Request:
    body = obj(body, "body")
    model = string(body.get("model"), "model")
    if "functions" in body or "function_call" in body:
        raise CodecError("the deprecated `functions`/`function_call` API is not supported; "
                         "use `tools` and `tool_choice`", param="functions")
    fields = {k: body[k] for k in PASSTHROUGH if body.get(k) is not None}
    extras: dict[str, Any] = {"fields": fields}
    request = Request(model=model, extras={P: extras})
    request.messages = _messages(arr(body.get("messages"), "messages"))
    if body.get("tools") is not None:
        request.tools = [_tool(t, f"tools[{i}]")
                         for i, t in enumerate(arr(body["tools"], "tools"))]
    request.tool_choice = _tool_choice(body.get("tool_choice"), extras)
    parallel = body.get("parallel_tool_calls")
    if parallel is not None:
        if not isinstance(parallel, bool):
            raise CodecError("parallel_tool_calls must be a boolean", param="parallel_tool_calls")
        request.parallel_tool_calls = parallel
    for name in ("max_completion_tokens", "max_tokens"):
        if body.get(name) is not None:
            request.max_tokens = integer(body[name], name)
            extras["max_tokens_field"] = name
            break
    request.temperature = number(body.get("temperature"), "temperature", optional=True)
    request.top_p = number(body.get("top_p"), "top_p", optional=True)
    request.top_k = integer(body.get("top_k"), "top_k", optional=True)
    stop = body.get("stop")
    if isinstance(stop, str):
        request.stop = [stop]
    elif stop is not None:
        request.stop = [string(s, f"stop[{i}]") for i, s in enumerate(arr(stop, "stop"))]
    effort = body.get("reasoning_effort")
    if effort is not None:
        if effort not in EFFORTS:
            raise CodecError(f"reasoning_effort must be one of {', '.join(EFFORTS)}",
                             param="reasoning_effort")
        request.reasoning = ReasoningConfig(enabled=effort != "none", effort=effort)
    request.response_format = _response_format(body.get("response_format"), extras)
    stream = body.get("stream")
    request.stream = bool(stream) if isinstance(stream, bool) else False
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage") is True:
        extras["include_usage"] = True
    request.user = string(body.get("user"), "user", optional=True)
    request.cache_key = string(body.get("prompt_cache_key"), "prompt_cache_key", optional=True)
    metadata = body.get("metadata")
    if metadata is not None:
        request.metadata = dict(obj(metadata, "metadata"))
    return request


# --- messages ---------------------------------------------------------------------------

def _messages(items: list) -> list[Message]:
    out: list[Message] = []
    call_kinds: dict[str, str] = {}
    for i, item in enumerate(items):
        param = f"messages[{i}]"
        item = obj(item, param)
        role = item.get("role")
        if role in ("system", "developer"):
            parts = _text_content(item.get("content"), f"{param}.content")
            meta = {P: {"role": "developer"}} if role == "developer" else None
            out.append(Message(role, parts, meta))
        elif role == "user":
            out.append(Message("user", _user_content(item.get("content"), f"{param}.content")))
        elif role == "assistant":
            out.append(_assistant(item, param, call_kinds))
        elif role == "tool":
            call_id = string(item.get("tool_call_id"), f"{param}.tool_call_id")
            content = _text_content(item.get("content"), f"{param}.content")
            result = ToolResult(call_id, content, kind=call_kinds.get(call_id, "function"))
            out.append(Message("tool", [result]))
        elif role == "function":
            raise CodecError("role `function` (the deprecated functions API) is not supported; "
                             "use `tool` messages", param=f"{param}.role")
        else:
            raise CodecError(f"unknown message role {role!r}", param=f"{param}.role")
    return out


def _text_content(content: Any, param: str) -> list[Text]:
    if content is None:
        return []
    if isinstance(content, str):
        return [Text(content)]
    parts = []
    for i, part in enumerate(arr(content, param)):
        part = obj(part, f"{param}[{i}]")
        if part.get("type") != "text":
            raise CodecError(f"only text parts are allowed here, not {part.get('type')!r}",
                             param=f"{param}[{i}].type")
        parts.append(Text(string(part.get("text"), f"{param}[{i}].text")))
    return parts


def _user_content(content: Any, param: str) -> list:
    if isinstance(content, str):
        return [Text(content)]
    parts: list = []
    for i, part in enumerate(arr(content, param)):
        where = f"{param}[{i}]"
        part = obj(part, where)
        kind = part.get("type")
        if kind == "text":
            parts.append(Text(string(part.get("text"), f"{where}.text")))
        elif kind == "image_url":
            spec = part.get("image_url")
            if isinstance(spec, str):  # a few clients send the URL directly
                spec = {"url": spec}
            spec = obj(spec, f"{where}.image_url")
            image = split_data_url(string(spec.get("url"), f"{where}.image_url.url"))
            image.detail = string(spec.get("detail"), f"{where}.image_url.detail", optional=True)
            parts.append(image)
        elif kind == "file":
            file = obj(part.get("file"), f"{where}.file")
            name = file.get("filename") or file.get("file_id") or "attachment"
            parts.append(Text(f"[file: {name}]", {P: {"part": part}}))
        elif kind == "input_audio":
            parts.append(Text("[audio]", {P: {"part": part}}))
        else:
            raise CodecError(f"unknown content part type {kind!r}", param=f"{where}.type")
    return parts


def _assistant(item: dict, param: str, call_kinds: dict[str, str]) -> Message:
    parts: list = []
    for field in REASONING_FIELDS:
        value = item.get(field)
        if isinstance(value, str) and value:
            parts.append(Reasoning(value, meta={P: {"field": field}}))
            break
    content = item.get("content")
    if isinstance(content, str):
        if content:
            parts.append(Text(content))
    elif content is not None:
        for i, part in enumerate(arr(content, f"{param}.content")):
            where = f"{param}.content[{i}]"
            part = obj(part, where)
            if part.get("type") == "text":
                parts.append(Text(string(part.get("text"), f"{where}.text")))
            elif part.get("type") == "refusal":
                parts.append(Text(string(part.get("refusal"), f"{where}.refusal"),
                                  {P: {"refusal": True}}))
            else:
                raise CodecError(f"unknown assistant content part {part.get('type')!r}",
                                 param=f"{where}.type")
    refusal = item.get("refusal")
    if refusal:
        parts.append(Text(string(refusal, f"{param}.refusal"), {P: {"refusal": True}}))
    if item.get("function_call"):
        raise CodecError("the deprecated `function_call` is not supported; use `tool_calls`",
                         param=f"{param}.function_call")
    for i, call in enumerate(arr(item.get("tool_calls") or [], f"{param}.tool_calls")):
        parts.append(_tool_call(obj(call, f"{param}.tool_calls[{i}]"),
                                f"{param}.tool_calls[{i}]"))
        call_kinds[parts[-1].id] = parts[-1].kind
    return Message("assistant", parts)


def _tool_call(call: dict, param: str) -> ToolCall:
    call_id = string(call.get("id"), f"{param}.id")
    meta = {P: {"extra_content": call["extra_content"]}} if "extra_content" in call else None
    if call.get("type") == "custom":
        custom = obj(call.get("custom"), f"{param}.custom")
        return ToolCall(call_id, string(custom.get("name"), f"{param}.custom.name"),
                        string(custom.get("input"), f"{param}.custom.input"), "custom", meta=meta)
    function = obj(call.get("function"), f"{param}.function")
    arguments = function.get("arguments")
    return ToolCall(call_id, string(function.get("name"), f"{param}.function.name"),
                    "" if arguments is None else string(arguments, f"{param}.function.arguments"),
                    meta=meta)


# --- tools and options ------------------------------------------------------------------

def _tool(tool: Any, param: str) -> Tool:
    tool = obj(tool, param)
    kind = tool.get("type")
    if kind == "function":
        fn = obj(tool.get("function"), f"{param}.function")
        parameters = fn.get("parameters")
        strict = fn.get("strict")
        return Tool(string(fn.get("name"), f"{param}.function.name"),
                    string(fn.get("description"), f"{param}.function.description",
                           optional=True) or "",
                    obj(parameters, f"{param}.function.parameters")
                    if parameters is not None else None,
                    strict=strict if isinstance(strict, bool) else None)
    if kind == "custom":
        custom = obj(tool.get("custom"), f"{param}.custom")
        fmt = custom.get("format")
        if isinstance(fmt, dict) and fmt.get("type") == "grammar":
            grammar = obj(fmt.get("grammar"), f"{param}.custom.format.grammar")
            fmt = {"type": "grammar", "syntax": grammar.get("syntax"),
                   "definition": grammar.get("definition")}
        elif fmt is not None:
            fmt = obj(fmt, f"{param}.custom.format")
        return Tool(string(custom.get("name"), f"{param}.custom.name"),
                    string(custom.get("description"), f"{param}.custom.description",
                           optional=True) or "",
                    kind="custom", format=fmt, meta={P: {"native": True}})
    name = string(kind, f"{param}.type")
    if not name:
        raise CodecError("a tool needs a type", param=f"{param}.type")
    return Tool(name, kind="hosted", hosted={P: tool})  # a vendor's own tool, kept verbatim


def _tool_choice(choice: Any, extras: dict) -> ToolChoice | None:
    if choice is None:
        return None
    if choice in ("auto", "none", "required"):
        return ToolChoice(choice)
    choice = obj(choice, "tool_choice")
    kind = choice.get("type")
    if kind in ("function", "custom"):
        named = obj(choice.get(kind), f"tool_choice.{kind}")
        return ToolChoice("tool", string(named.get("name"), f"tool_choice.{kind}.name"), kind)
    if kind == "allowed_tools":
        allowed = obj(choice.get("allowed_tools"), "tool_choice.allowed_tools")
        extras["tool_choice"] = choice
        return ToolChoice("required" if allowed.get("mode") == "required" else "auto")
    raise CodecError(f"unknown tool_choice {kind!r}", param="tool_choice")


def _response_format(value: Any, extras: dict) -> ResponseFormat | None:
    if value is None:
        return None
    value = obj(value, "response_format")
    kind = value.get("type")
    if kind == "json_object":
        return ResponseFormat("json_object")
    if kind == "json_schema":
        spec = obj(value.get("json_schema"), "response_format.json_schema")
        schema = spec.get("schema")
        strict = spec.get("strict")
        return ResponseFormat(
            "json_schema", string(spec.get("name"), "response_format.json_schema.name",
                                  optional=True),
            obj(schema, "response_format.json_schema.schema") if schema is not None else None,
            strict if isinstance(strict, bool) else None,
            string(spec.get("description"), "response_format.json_schema.description",
                   optional=True))
    if kind == "text":
        extras["response_format"] = {"type": "text"}
        return None
    raise CodecError(f"unknown response_format type {kind!r}", param="response_format.type")
