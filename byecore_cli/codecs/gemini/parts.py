"""Gemini ``Part`` objects ↔ hub parts, and where thought signatures ride.

============================================  ============================================
Gemini part                                   hub part
============================================  ============================================
``{text}``                                    ``Text``
``{text, thought: true}``                     ``Reasoning(summary=True)`` (Gemini's
                                              "thought summaries")
``{inlineData: {mimeType, data}}``            ``Image(data, media_type)`` (any mime type:
                                              the hub's Image also carries PDFs)
``{fileData: {mimeType, fileUri}}``           ``Image(url, media_type)``
``{functionCall: {id?, name, args}}``         ``ToolCall`` (id made up when absent)
``{functionResponse: {id?, name, response,    ``ToolResult``: ``{"output": str}`` → text,
parts?}}``                                    ``{"error": str}`` → text + ``is_error``,
                                              other objects → their JSON; ``parts``'
                                              inline data → images
anything else (``executableCode``,            ``Text`` with a readable rendering; the
``codeExecutionResult``…)                     original in ``meta["gemini"]["part"]``
============================================  ============================================

A thought part's hub Reasoning is marked ``meta["gemini"]["thought"]``, so it is replayed
only to Gemini. ``thoughtSignature`` on any part goes to
``meta["gemini"]["thoughtSignature"]`` of the hub part made from it, and back on the
same part, byte for byte; other protocols never see it. ``partMetadata`` and
``videoMetadata`` are kept the same way.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
from urllib.parse import unquote_to_bytes

from byecore_cli.codecs.base import CodecError
from byecore_cli.codecs.gemini.fields import P, get, obj, text
from byecore_cli.hub import Image, Part, Reasoning, Text, ToolCall, ToolResult, meta_for
from byecore_cli.hub.tools import unwrap_custom_input, wrap_custom_input

SIGNATURE = "thoughtSignature"
KEPT = (SIGNATURE, "partMetadata", "videoMetadata")
_DATA_URL = re.compile(r"data:([^;,]*)((?:;[^;,]*)*),(.*)", re.S)


def kept_meta(part: dict, **more) -> dict | None:
    """The opaque per-part fields (signature…) as hub meta, plus ``more``."""
    values = {k: v for k in KEPT if (v := get(part, k)) is not None}
    values.update({k: v for k, v in more.items() if v is not None})
    return {P: values} if values else None


# A thoughtSignature byecore minted for reasoning from another protocol: base64 (the SDKs
# hold signatures as bytes) of MINT_PREFIX and that reasoning's foreign meta as JSON.
# Gemini clients echo a signature byte for byte, so the upstream's own reasoning
# (Anthropic's signed thinking, Responses' encrypted_content) comes back on the next turn.
MINT_PREFIX = b"byecore.gem:"  # 12 bytes: its base64 is a fixed 16 characters
MINTED = base64.b64encode(MINT_PREFIX).decode()


def mint_signature(meta: dict | None) -> str | None:
    """A signature carrying ``meta``'s other protocols' entries; None when it has none."""
    foreign = {k: v for k, v in (meta or {}).items() if k != P}
    if not foreign:
        return None
    raw = json.dumps(foreign, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.b64encode(MINT_PREFIX + raw).decode()


def minted_meta(signature) -> dict | None:
    """The foreign meta a minted signature carries; None for any other signature."""
    if not isinstance(signature, str) or not signature.startswith(MINTED):
        return None
    try:
        raw = base64.b64decode(signature, validate=True)
        foreign = json.loads(raw[len(MINT_PREFIX):])
    except ValueError:
        return None
    if not isinstance(foreign, dict):
        return None
    return {k: v for k, v in foreign.items() if k != P and isinstance(v, dict)} or None


def standard_base64(data: str) -> str:
    """``data`` in base64's standard alphabet: google-genai writes bytes URL-safe
    (``-``, ``_``), which Gemini reads but Chat, Responses and Anthropic refuse."""
    return data.replace("-", "+").replace("_", "/") if "-" in data or "_" in data else data


def render(part: dict) -> str:
    """A readable rendering of a part the hub has no type for."""
    code = get(part, "executableCode")
    if isinstance(code, dict):
        return f"```{str(code.get('language', '')).lower()}\n{code.get('code', '')}\n```"
    result = get(part, "codeExecutionResult")
    if isinstance(result, dict):
        return f"[code execution {result.get('outcome', '')}]\n{result.get('output', '')}"
    return "[gemini part] " + json.dumps(part, ensure_ascii=False, separators=(",", ":"))


def decode_part(part, param: str) -> Part:
    """A content part that is not a function call or response → a hub part."""
    part = obj(part, param)
    if "text" in part:
        value = text(part["text"], f"{param}.text")
        if part.get("thought") is True:
            foreign = minted_meta(get(part, SIGNATURE))
            if foreign is not None:  # reasoning byecore gave this client from elsewhere
                return Reasoning(value, summary=True, meta=foreign)
            return Reasoning(value, summary=True, meta=kept_meta(part, thought=True))
        return Text(value, kept_meta(part))
    blob = get(part, "inlineData")
    if blob is not None:
        blob = obj(blob, f"{param}.inlineData")
        return Image(data=standard_base64(text(get(blob, "data"),
                                                f"{param}.inlineData.data")),
                     media_type=get(blob, "mimeType") or "application/octet-stream",
                     meta=kept_meta(part))
    file = get(part, "fileData")
    if file is not None:
        file = obj(file, f"{param}.fileData")
        return Image(url=text(get(file, "fileUri"), f"{param}.fileData.fileUri"),
                     media_type=get(file, "mimeType"), meta=kept_meta(part))
    if part.get("thought") is True or get(part, SIGNATURE) is not None:
        foreign = minted_meta(get(part, SIGNATURE))
        if foreign is not None:
            return Reasoning("", summary=True, meta=foreign)
        return Reasoning("", summary=True, meta=kept_meta(part, thought=True))  # a signature
    return Text(render(part), {P: {"part": part}})


def decode_call(call, param: str) -> tuple[str | None, str, str]:
    """``functionCall`` → (id or None, wire name, JSON arguments)."""
    call = obj(call, param)
    name = text(call.get("name"), f"{param}.name")
    args = call.get("args")
    args = {} if args is None else obj(args, f"{param}.args")
    call_id = call.get("id")
    return (call_id if isinstance(call_id, str) and call_id else None, name,
            json.dumps(args, ensure_ascii=False))


def decode_result(response, param: str) -> ToolResult:
    """``functionResponse`` → a ToolResult with an empty ``call_id`` (the caller pairs it)."""
    response = obj(response, param)
    text(response.get("name"), f"{param}.name")
    value = response.get("response")
    value = {} if value is None else obj(value, f"{param}.response")
    is_error = False
    if set(value) == {"output"} and isinstance(value["output"], str):
        content: list = [Text(value["output"])]
    elif set(value) == {"error"} and isinstance(value["error"], str):
        content, is_error = [Text(value["error"])], True
    elif set(value) == {"content"} and isinstance(value["content"], str):
        content = [Text(value["content"])]
    else:
        content = [Text(json.dumps(value, ensure_ascii=False))] if value else []
    for i, item in enumerate(response.get("parts") or []):
        piece = decode_part(item, f"{param}.parts[{i}]")
        if isinstance(piece, (Text, Image)):
            content.append(piece)
    return ToolResult("", content, is_error, meta={P: {"response": value}})


# --- hub → wire ---------------------------------------------------------------------------

def _with_kept(out: dict, part) -> dict:
    mine = meta_for(part, P)
    for key in KEPT:
        if key in mine:
            out[key] = mine[key]
    return out


def encode_text(part: Text) -> dict | None:
    mine = meta_for(part, P)
    if "part" in mine:
        return mine["part"]
    if not part.text and SIGNATURE not in mine:
        return None
    return _with_kept({"text": part.text}, part)


def encode_reasoning(part: Reasoning) -> dict | None:
    """A thought part to replay to Gemini: only Gemini's own, and only signed ones (the
    API does not need thought text back, only the signatures; foreign reasoning cannot
    be replayed at all)."""
    mine = meta_for(part, P)
    if SIGNATURE not in mine:
        return None
    return _with_kept({"text": part.text, "thought": True}, part)


def encode_image(part: Image) -> dict:
    if part.data is not None:
        blob = {"mimeType": part.media_type or "image/png", "data": part.data}
        return _with_kept({"inlineData": blob}, part)
    url = part.url or ""
    match = _DATA_URL.fullmatch(url)
    if match is not None:
        media_type, params, payload = match.groups()
        if ";base64" not in params:
            payload = base64.b64encode(unquote_to_bytes(payload)).decode()
        return _with_kept({"inlineData": {"mimeType": media_type or "image/png",
                                          "data": payload}}, part)
    file = {"fileUri": url}
    media_type = part.media_type or mimetypes.guess_type(url.split("?")[0])[0]
    if media_type:
        file["mimeType"] = media_type
    return _with_kept({"fileData": file}, part)


def call_args(call: ToolCall) -> dict:
    """A hub call's arguments as the object Gemini wants (never anything but an object)."""
    raw = wrap_custom_input(call.arguments) if call.kind == "custom" else call.arguments
    try:
        value = json.loads(raw) if raw and raw.strip() else {}
    except ValueError:
        return {"_raw": raw}
    return value if isinstance(value, dict) else {"_raw": raw}


def custom_arguments(arguments: str) -> str:
    return unwrap_custom_input(arguments)


def encode_result(result: ToolResult, name: str, call_id: str | None) -> dict:
    mine = meta_for(result, P)
    value = mine.get("response")
    if not isinstance(value, dict):
        words = result.text()
        value = {"error": words} if result.is_error else {"output": words}
    out: dict = {"name": name, "response": value}
    if call_id:
        out["id"] = call_id
    return {"functionResponse": out}


def check_role(role, param: str) -> str:
    if role in (None, "user", "model", "function"):
        return role or "user"
    raise CodecError(f"{param} must be user or model", param=param)
