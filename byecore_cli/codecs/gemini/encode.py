"""hub Request → Gemini ``generateContent`` body, for a Gemini upstream.

The body holds neither the model nor the stream flag: the caller builds the URL from
``request.model`` and ``request.stream`` (``WIRE.path``).

Decisions (each hub field maps, or is dropped on purpose):

- System: ``Request.system`` and every system/developer message BEFORE the first
  conversation turn (text only) become ``systemInstruction``; a later one is folded into
  the user turn at that point inside ``<system-reminder>…</system-reminder>`` (Gemini has
  no system role inside ``contents``).
- Turns: user → ``user``, assistant → ``model``, tool results → ``functionResponse``
  parts of a ``user`` turn; consecutive same-role turns are merged; then every call is
  paired with its response the way Gemini demands (turns.py). Images inside a tool
  result follow the responses as ``inlineData``/``fileData`` parts (older models refuse
  parts inside a response).
- Tool names go through ``GeminiNames`` (names.py); ids byecore made up are removed,
  others are sent as ``id``; a ``functionResponse`` names its call's function.
- Thought signatures: Gemini's own, from part meta, go back on the same part, exactly;
  a call from a client that cannot carry one (Anthropic, Chat, Responses) gets the one
  Gemini gave it, from the process's signature cache (signatures.py); a model turn whose
  first call still has none gets the documented dummy (turns.py). Reasoning is
  replayed only as Gemini's own signed thought parts; thought text without a signature,
  and other protocols' reasoning, are not sent.
- Tools: a Gemini client's declarations are sent back as they came (name made legal);
  other tools' JSON Schema is reduced to ``parameters`` (schema.py), left out when the
  function takes no arguments; custom tools become a function taking one string
  ``input``; hosted tools only when a Gemini client declared them.
- ``tool_choice`` → ``toolConfig.functionCallingConfig`` (auto AUTO, required ANY, tool
  ANY + ``allowedFunctionNames``, none NONE); a Gemini client's own ``toolConfig`` wins.
  ``parallel_tool_calls`` has no Gemini equivalent and is dropped.
- ``generationConfig``: temperature, topP, topK, maxOutputTokens (at most the output
  limit of the Gemini families in ``OUTPUT_LIMITS``: Gemini answers 400 to more, and
  Claude Code asks for 128000), ``stopSequences`` (Gemini takes at most 5: the first 5
  are sent); ``response_format`` → JSON mime type with ``responseSchema`` (reduced like
  tool parameters) or, for json_object, the mime type alone. Reasoning →
  ``thinkingConfig`` (a Gemini client's own is sent back as it came): off → budget 0
  (128 for a ``pro`` model, LOW for ``gemini-3``: those cannot turn thinking off and
  answer 400 to budget 0); a budget → ``thinkingBudget`` (at most 32768 on a ``pro``
  model, 24576 on others: the 2.5 ranges); an effort → ``thinkingLevel`` (LOW or HIGH,
  what every Gemini 3 model takes) for ``gemini-3`` models, a budget from
  hub/reasoning.py for the others; on with neither → budget -1 (dynamic); thoughts are
  included whenever thinking is on and reasoning or a summary was asked for.
- ``extras["gemini"]`` (only set when the client spoke Gemini): ``safetySettings``,
  ``cachedContent``, ``labels`` and the other ``generationConfig`` keys, sent back.
  ``user`` and ``metadata`` have no Gemini field and are dropped.
"""

from __future__ import annotations

from byecore_cli.codecs.gemini.fields import P
from byecore_cli.codecs.gemini.names import GeminiNames, wire_id
from byecore_cli.codecs.gemini.parts import (
    SIGNATURE,
    call_args,
    encode_image,
    encode_reasoning,
    encode_result,
    encode_text,
)
from byecore_cli.codecs.gemini.schema import reduce
from byecore_cli.codecs.gemini.signatures import SIGNATURES
from byecore_cli.codecs.gemini.turns import HUB, pair_calls, sign_calls
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
from byecore_cli.hub.reasoning import effort_to_budget
from byecore_cli.hub.tools import custom_tool_description, custom_tool_schema

MAX_STOPS = 5
MIN_PRO_BUDGET = 128  # Gemini 2.5 Pro cannot turn thinking off: its smallest budget
MAX_BUDGET, MAX_PRO_BUDGET = 24576, 32768  # the largest thinkingBudget 2.5 Flash / Pro take
# model name part → the maxOutputTokens the model takes (first match wins; others: as asked)
OUTPUT_LIMITS = (("-image", 32768), ("gemini-3", 65536), ("gemini-2.5", 65536),
                 ("gemini-2.0", 8192), ("gemini-1.5", 8192))
_MODES = {"auto": "AUTO", "required": "ANY", "tool": "ANY", "none": "NONE"}


def encode_request(request: Request) -> dict:
    mine = request.extras.get(P) or {}
    names = GeminiNames(request.tools)
    system, contents = _conversation(request, names)
    pair_calls(contents)
    sign_calls(contents)
    body: dict = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": system}
    tools = _tools(request, names)
    if tools:
        body["tools"] = tools
        config = mine.get("toolConfig") or _tool_config(request, names)
        if config:
            body["toolConfig"] = config
    generation = _generation(request, mine)
    if generation:
        body["generationConfig"] = generation
    for key in ("safetySettings", "cachedContent", "labels"):
        if key in mine:
            body[key] = mine[key]
    return body


# --- the conversation -------------------------------------------------------------------

def _conversation(request: Request, names: GeminiNames) -> tuple[list, list]:
    system = [p for p in map(encode_text, request.system) if p]
    called = {p.id: p for m in request.messages for p in m.parts if isinstance(p, ToolCall)}
    contents: list[dict] = []
    leading = True
    for message in request.messages:
        if message.role in ("system", "developer"):
            texts = [p.text for p in message.parts if isinstance(p, Text) and p.text]
            if leading and len(texts) == len(message.parts):
                system += [{"text": t} for t in texts]
            elif texts:
                _add(contents, "user", [{"text": REMINDER[0] + "\n\n".join(texts)
                                         + REMINDER[1]}])
            continue
        leading = False
        results = [p for p in message.parts if isinstance(p, ToolResult)]
        if results:
            _add(contents, "user", _responses(results, called, names))
        if message.role == "assistant":
            _add(contents, "model", _model_parts(message.parts, names))
        elif message.role != "tool":
            _add(contents, "user", [w for p in message.parts if (w := _plain(p))])
    return system, contents


def _plain(part) -> dict | None:
    if isinstance(part, Text):
        return encode_text(part)
    if isinstance(part, Image):
        return encode_image(part)
    return None


def _add(contents: list[dict], role: str, parts: list[dict]) -> None:
    if not parts:
        return
    if contents and contents[-1]["role"] == role:
        contents[-1]["parts"] += parts
    else:
        contents.append({"role": role, "parts": parts})


def _model_parts(parts: list, names: GeminiNames) -> list[dict]:
    out = []
    for part in parts:
        if isinstance(part, ToolCall):
            call: dict = {"name": names.wire(part.name, part.namespace),
                          "args": call_args(part)}
            if wire_id(part.id):
                call["id"] = part.id
            wire = {"functionCall": call, HUB: part.id}
            signature = meta_for(part, P).get(SIGNATURE) or \
                SIGNATURES.recall(part.id, call["name"])
            if signature:
                wire[SIGNATURE] = signature
            out.append(wire)
        elif isinstance(part, Reasoning):
            if (wire := encode_reasoning(part)) is not None:
                out.append(wire)
        elif (wire := _plain(part)) is not None:
            out.append(wire)
    return out


def _responses(results: list[ToolResult], called: dict, names: GeminiNames) -> list[dict]:
    out, media = [], []
    for result in results:
        call = called.get(result.call_id)
        name = names.wire(call.name, call.namespace) if call else "unknown_function"
        wire = encode_result(result, name, wire_id(result.call_id))
        wire[HUB] = result.call_id
        out.append(wire)
        media += [encode_image(p) for p in result.content if isinstance(p, Image)]
    return out + media


# --- tools and settings -----------------------------------------------------------------

def _tools(request: Request, names: GeminiNames) -> list[dict]:
    declarations, hosted = [], []
    for tool in request.tools:
        wire_name = names.wire(tool.name, tool.namespace)
        if tool.kind == "hosted":
            if (tool.hosted or {}).get(P):
                hosted.append(tool.hosted[P])
            continue
        original = meta_for(tool, P).get("declaration")
        if original:
            declarations.append({**original, "name": wire_name})
            continue
        if tool.kind == "custom":
            schema, description = custom_tool_schema(), custom_tool_description(tool)
        else:
            schema, description = tool.parameters, tool.description
        decl: dict = {"name": wire_name}
        if description:
            decl["description"] = description
        parameters = reduce(schema) if isinstance(schema, dict) else {}
        if parameters.get("properties"):
            decl["parameters"] = {**parameters, "type": "OBJECT"}
        declarations.append(decl)
    return ([{"functionDeclarations": declarations}] if declarations else []) + hosted


def _tool_config(request: Request, names: GeminiNames) -> dict | None:
    choice = request.tool_choice
    if choice is None:
        return None
    calling: dict = {"mode": _MODES.get(choice.mode, "AUTO")}
    if choice.mode == "tool" and choice.name:
        calling["allowedFunctionNames"] = [names.wire(choice.name)]
    return {"functionCallingConfig": calling}


def _generation(request: Request, mine: dict) -> dict:
    out: dict = dict(mine.get("generationConfig") or {})
    for attr, key in (("temperature", "temperature"), ("top_p", "topP"), ("top_k", "topK"),
                      ("max_tokens", "maxOutputTokens")):
        value = getattr(request, attr)
        if value is not None:
            out[key] = value
    if "maxOutputTokens" in out:
        limit = next((n for part, n in OUTPUT_LIMITS if part in request.model), None)
        if limit is not None and out["maxOutputTokens"] > limit:
            out["maxOutputTokens"] = limit
    if request.stop:
        out["stopSequences"] = list(request.stop[:MAX_STOPS])
    fmt = request.response_format
    if fmt is not None:
        out["responseMimeType"] = "application/json"
        if fmt.type == "json_schema" and isinstance(fmt.schema, dict):
            out["responseSchema"] = reduce(fmt.schema)
    thinking = mine.get("thinkingConfig") or _thinking(request)
    if thinking:
        out["thinkingConfig"] = thinking
    return out


def _thinking(request: Request) -> dict | None:
    reasoning = request.reasoning
    if reasoning is None:
        return None
    out: dict = {}
    gemini_3 = "gemini-3" in request.model
    if reasoning.enabled is False or reasoning.effort == "none":
        if gemini_3:  # Gemini 3 cannot think less than LOW (MINIMAL is Flash only)
            return {"thinkingLevel": "LOW"}
        return {"thinkingBudget": MIN_PRO_BUDGET if "pro" in request.model else 0}
    if reasoning.budget_tokens is not None:
        out["thinkingBudget"] = reasoning.budget_tokens
    elif reasoning.effort is not None:
        if gemini_3:
            out["thinkingLevel"] = "LOW" if reasoning.effort in ("minimal", "low") else "HIGH"
        else:
            out["thinkingBudget"] = effort_to_budget(reasoning.effort, request.max_tokens) or 0
    elif reasoning.enabled:
        out["thinkingBudget"] = -1
    if out.get("thinkingBudget") == 0 and "pro" in request.model:
        out["thinkingBudget"] = MIN_PRO_BUDGET
    if out.get("thinkingBudget", 0) > 0:
        out["thinkingBudget"] = min(out["thinkingBudget"],
                                    MAX_PRO_BUDGET if "pro" in request.model else MAX_BUDGET)
    if out.get("thinkingBudget") != 0 and (reasoning.summary is not None or reasoning.enabled
                                           or reasoning.effort):
        out["includeThoughts"] = True
    return out or None
