"""Gemini ``generateContent`` request body (what Gemini CLI sends) → hub Request.

The model and the stream flag are not in a Gemini body: they are in the URL
(``models/{model}:generateContent`` or ``:streamGenerateContent?alt=sse``). The caller
injects them as two extra keys, ``"model"`` (a leading ``models/`` is dropped) and
``"stream"`` (true for ``streamGenerateContent``); see the package docstring.

Field table (wire → hub); camelCase and snake_case spellings are both read:

=============================  ==============================================================
``contents[]`` role user       ``user`` messages; ``functionResponse`` parts are split off,
                               in order, into ``tool`` messages, each paired with the call
                               it answers (same ``id``; else the first unanswered call of
                               that name in the preceding model turn; else a new id)
``contents[]`` role model      one ``assistant`` message (parts.py); a ``functionCall``
                               without an id gets one made up (names.py)
``systemInstruction``          ``system`` Texts
``tools[].functionDeclarations``  function tools: ``parametersJsonSchema`` as is, or
                               ``parameters`` converted to JSON Schema (schema.py); the
                               original declaration in ``Tool.meta["gemini"]``
other ``tools[]`` entries      ``googleSearch``, ``codeExecution``… → one hosted tool each
``toolConfig.functionCalling   AUTO → auto, ANY → required (one allowed name → that tool),
Config``                       NONE → none; the original in extras
``generationConfig``           temperature, topP, topK, maxOutputTokens, stopSequences;
                               ``candidateCount`` > 1 is refused (one answer only);
                               ``responseMimeType: application/json`` with
                               ``responseJsonSchema``/``responseSchema`` → ResponseFormat
                               json_schema (without: json_object); ``thinkingConfig``:
                               budget 0 → off, -1 → on (dynamic), N → budget_tokens,
                               ``thinkingLevel`` → effort, ``includeThoughts`` → summary
                               "auto"; other keys → extras["gemini"]["generationConfig"]
``safetySettings``,            extras["gemini"] (sent back only to a Gemini upstream)
``cachedContent``, ``labels``
=============================  ==============================================================
"""

from __future__ import annotations

from byecore_cli.codecs.base import CodecError
from byecore_cli.codecs.gemini.fields import P, arr, get, has, integer, number, obj, snake, text
from byecore_cli.codecs.gemini.names import history_id
from byecore_cli.codecs.gemini.parts import (
    SIGNATURE,
    check_role,
    decode_call,
    decode_part,
    decode_result,
)
from byecore_cli.codecs.gemini.schema import to_json_schema
from byecore_cli.hub import (
    Message,
    Reasoning,
    ReasoningConfig,
    Request,
    ResponseFormat,
    Text,
    Tool,
    ToolCall,
    ToolChoice,
    meta_for,
)

PASSTHROUGH = ("safetySettings", "cachedContent", "labels")
GENERATION_MAPPED = ("temperature", "topP", "topK", "maxOutputTokens", "stopSequences",
                     "candidateCount", "responseMimeType", "responseSchema",
                     "responseJsonSchema", "thinkingConfig")
LEVELS = {"MINIMAL": "minimal", "LOW": "low", "MEDIUM": "medium", "HIGH": "high",
          "XHIGH": "xhigh"}
JSON_MIME = "application/json"


def decode_request(body: dict) -> Request:
    body = obj(body, "body")
    model = text(body.get("model", ""), "model").removeprefix("models/")
    if not model:
        raise CodecError("the model is missing (it belongs in the URL: "
                         "/v1beta/models/{model}:generateContent)", param="model")
    extras = {k: get(body, k) for k in PASSTHROUGH if has(body, k)}
    request = Request(model=model, stream=body.get("stream") is True, extras={P: extras})
    system = get(body, "systemInstruction")
    if system is not None:
        request.system = _system(system)
    request.messages = _contents(arr(body.get("contents"), "contents"))
    for i, tool in enumerate(arr(get(body, "tools", []), "tools")):
        request.tools += _tools(obj(tool, f"tools[{i}]"), f"tools[{i}]")
    config = get(body, "toolConfig")
    if config is not None:
        calling = get(obj(config, "toolConfig"), "functionCallingConfig")
        if calling is not None:
            request.tool_choice = _choice(obj(calling, "toolConfig.functionCallingConfig"))
        extras["toolConfig"] = config
    generation = get(body, "generationConfig")
    if generation is not None:
        _generation(obj(generation, "generationConfig"), request, extras)
    return request


def _system(system) -> list[Text]:
    if isinstance(system, str):  # the REST API takes a bare string too
        return [Text(system)]
    parts = arr(obj(system, "systemInstruction").get("parts", []), "systemInstruction.parts")
    out = []
    for i, part in enumerate(parts):
        value = decode_part(part, f"systemInstruction.parts[{i}]")
        if not isinstance(value, Text):
            raise CodecError("systemInstruction holds text only",
                             param=f"systemInstruction.parts[{i}]")
        out.append(value)
    return out


def _contents(contents: list) -> list[Message]:
    out: list[Message] = []
    open_calls: list[ToolCall] = []  # the last model turn's calls still unanswered
    for i, content in enumerate(contents):
        param = f"contents[{i}]"
        content = obj(content, param)
        role = check_role(content.get("role"), f"{param}.role")
        parts = arr(content.get("parts", []), f"{param}.parts")
        if role == "model":
            message = Message("assistant")
            open_calls = []
            for j, part in enumerate(parts):
                where = f"{param}.parts[{j}]"
                call = get(obj(part, where), "functionCall")
                if call is None:
                    _append_model_part(message.parts, decode_part(part, where))
                    continue
                call_id, name, args = decode_call(call, f"{where}.functionCall")
                hub = ToolCall(call_id or history_id(i, j, name, args), name, args,
                               meta=_signature(part))
                message.parts.append(hub)
                open_calls.append(hub)
            out.append(message)
            continue
        current: Message | None = None
        for j, part in enumerate(parts):
            where = f"{param}.parts[{j}]"
            response = get(obj(part, where), "functionResponse")
            kind = "tool" if response is not None else "user"
            if current is None or current.role != kind:
                current = Message(kind)
                out.append(current)
            if response is None:
                current.parts.append(decode_part(part, where))
                continue
            result = decode_result(response, f"{where}.functionResponse")
            result.call_id = _pair(response, open_calls) or \
                history_id(i, j, str(response.get("name")), "")
            current.parts.append(result)
    return out


def _signature(part: dict) -> dict | None:
    signature = get(part, "thoughtSignature")
    return {P: {"thoughtSignature": signature}} if isinstance(signature, str) else None


def _pair(response: dict, open_calls: list[ToolCall]) -> str | None:
    """The hub id of the call a functionResponse answers (removed from ``open_calls``)."""
    wanted = response.get("id")
    for match in ([c for c in open_calls if c.id == wanted] if wanted else []) or \
            [c for c in open_calls if c.name == response.get("name")]:
        open_calls.remove(match)
        return match.id
    return wanted if isinstance(wanted, str) and wanted else None


def _tools(tool: dict, param: str) -> list[Tool]:
    out = []
    for key, value in tool.items():
        if key not in ("functionDeclarations", "function_declarations"):
            out.append(Tool(key, kind="hosted", hosted={P: {key: value}}))
            continue
        for i, decl in enumerate(arr(value, f"{param}.{key}")):
            where = f"{param}.functionDeclarations[{i}]"
            decl = obj(decl, where)
            name = text(decl.get("name"), f"{where}.name")
            description = text(decl.get("description") or "", f"{where}.description")
            if has(decl, "parametersJsonSchema"):
                schema = obj(get(decl, "parametersJsonSchema"), f"{where}.parametersJsonSchema")
            elif has(decl, "parameters"):
                schema = to_json_schema(obj(get(decl, "parameters"), f"{where}.parameters"))
            else:
                schema = {"type": "object", "properties": {}}
            out.append(Tool(name, description, schema, meta={P: {"declaration": decl}}))
    return out


def _choice(calling: dict) -> ToolChoice:
    mode = calling.get("mode") or "AUTO"
    allowed = get(calling, "allowedFunctionNames") or []
    if mode in ("ANY", "VALIDATED") and isinstance(allowed, list) and len(allowed) == 1:
        return ToolChoice("tool", text(allowed[0], "allowedFunctionNames[0]"))
    if mode == "ANY":
        return ToolChoice("required")
    if mode == "NONE":
        return ToolChoice("none")
    if mode in ("AUTO", "VALIDATED", "MODE_UNSPECIFIED"):
        return ToolChoice("auto")
    raise CodecError("toolConfig.functionCallingConfig.mode must be AUTO, ANY, NONE or "
                     "VALIDATED", param="toolConfig.functionCallingConfig.mode")


def _generation(config: dict, request: Request, extras: dict) -> None:
    for camel, attr, read in (("temperature", "temperature", number), ("topP", "top_p", number),
                              ("topK", "top_k", integer),
                              ("maxOutputTokens", "max_tokens", integer)):
        if has(config, camel):
            value = read(get(config, camel), f"generationConfig.{camel}")
            setattr(request, attr, int(value) if attr == "top_k" else value)
    if has(config, "stopSequences"):
        stops = arr(get(config, "stopSequences"), "generationConfig.stopSequences")
        request.stop = [text(s, "generationConfig.stopSequences") for s in stops]
    if has(config, "candidateCount") and \
            integer(get(config, "candidateCount"), "generationConfig.candidateCount") != 1:
        raise CodecError("candidateCount must be 1: byecore returns one candidate",
                         param="generationConfig.candidateCount")
    mime = get(config, "responseMimeType")
    schema = get(config, "responseJsonSchema")
    if schema is None and has(config, "responseSchema"):
        schema = to_json_schema(obj(get(config, "responseSchema"),
                                    "generationConfig.responseSchema"))
    if mime == JSON_MIME or schema is not None:
        request.response_format = ResponseFormat("json_schema", schema=schema) \
            if isinstance(schema, dict) else ResponseFormat("json_object")
    thinking = get(config, "thinkingConfig")
    if thinking is not None:
        request.reasoning = _thinking(obj(thinking, "generationConfig.thinkingConfig"))
        extras["thinkingConfig"] = thinking
    rest = {k: v for k, v in config.items()
            if k not in GENERATION_MAPPED and k not in {snake(n) for n in GENERATION_MAPPED}}
    if rest:
        extras["generationConfig"] = rest
    if mime is not None and mime != JSON_MIME:
        extras.setdefault("generationConfig", {})["responseMimeType"] = mime


def _thinking(config: dict) -> ReasoningConfig:
    reasoning = ReasoningConfig()
    where = "generationConfig.thinkingConfig"
    if has(config, "thinkingBudget"):
        budget = integer(get(config, "thinkingBudget"), f"{where}.thinkingBudget")
        if budget == 0:
            reasoning.enabled = False
        elif budget < 0:
            reasoning.enabled = True  # dynamic: the model decides
        else:
            reasoning.enabled, reasoning.budget_tokens = True, budget
    level = get(config, "thinkingLevel")
    if level is not None:
        if level not in LEVELS and level != "THINKING_LEVEL_UNSPECIFIED":
            raise CodecError(f"{where}.thinkingLevel must be one of {', '.join(LEVELS)}",
                             param=f"{where}.thinkingLevel")
        reasoning.effort = LEVELS.get(level)
        reasoning.enabled = reasoning.enabled if reasoning.enabled is not None else True
    if get(config, "includeThoughts") is True:
        reasoning.summary = "auto"
    return reasoning


def _append_model_part(parts: list, part) -> None:
    """A streamed answer's thought text came in parts of its own, and the signature byecore
    minted for it (foreign reasoning) in a last, empty one: put the text back with it, so
    the reasoning returns to its upstream whole."""
    if isinstance(part, Reasoning) and not part.text and part.meta and P not in part.meta:
        start = len(parts)
        while start and isinstance(parts[start - 1], Reasoning) and \
                not meta_for(parts[start - 1], P).get(SIGNATURE):
            start -= 1
        if start < len(parts):
            text = "".join(p.text for p in parts[start:])
            parts[start:] = [Reasoning(text, summary=True, meta=part.meta)]
            return
    parts.append(part)
