"""Content blocks ↔ hub parts, tool ids and thinking signatures, shared by the whole codec.

What rides in ``meta["messages"]`` (sent back only to an Anthropic upstream or client):

- ``cache_control`` and ``citations`` of any block; ``document`` (title, context,
  citations) of a ``document`` block;
- ``signature`` of a ``thinking`` block, ``redacted`` (the ``data``) of a
  ``redacted_thinking`` block;
- ``block``: a block the hub has no part for (``server_tool_use``,
  ``web_search_tool_result`` and the other server-tool blocks, ``search_result``,
  ``container_upload``…), kept verbatim; the hub sees it as a ``Text`` holding a
  readable rendering, so other protocols still get the content.

Documents: a ``text``-source document becomes a ``Text``; a PDF (base64 or url)
becomes an ``Image`` whose ``media_type`` is ``application/pdf`` — the hub's way to say
"a file", which the OpenAI codecs can send as a file part. ``file``-source images and
documents (Anthropic Files API ids) mean nothing to another vendor: CodecError.

Tool ids: Anthropic wants ``^[a-zA-Z0-9_-]+$``. ``safe_id`` makes any id fit,
deterministically and collision-free (bad characters → ``_`` plus a hash of the
original), and is used for both ``tool_use.id`` and ``tool_result.tool_use_id``;
``IdMap`` restores the original ids on the way back.

Thinking signatures: a thinking block byecore hands to an Anthropic client for reasoning
that came from elsewhere carries a minted signature ``byecore1.<base64 JSON>`` holding
that reasoning's foreign meta (e.g. a Responses ``encrypted_content``). When the client
echoes it back, ``reasoning_meta`` restores the foreign meta and does NOT keep the
signature, so a minted signature never reaches a real Anthropic upstream.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from urllib.parse import unquote_to_bytes

from byecore_cli.codecs.base import CodecError
from byecore_cli.hub import Image, Part, Reasoning, Request, Text, ToolCall, ToolResult, meta_for

P = "messages"
MINTED = "byecore1."
_SAFE = re.compile(r"[a-zA-Z0-9_-]+")
_BAD = re.compile(r"[^a-zA-Z0-9_-]")
_DATA_URL = re.compile(r"data:([^;,]*)((?:;[^;,]*)*),(.*)", re.S)
PDF = "application/pdf"


# --- tool ids ---------------------------------------------------------------------------

def safe_id(raw: str) -> str:
    if _SAFE.fullmatch(raw):
        return raw
    digest = hashlib.sha256(raw.encode()).hexdigest()[:10]
    cleaned = _BAD.sub("_", raw)
    return f"{cleaned}_{digest}" if cleaned else f"toolu_{digest}"


class IdMap:
    """Sanitised id → original id, for the ids a request carried (built on first use)."""

    __slots__ = ("_map", "_request")

    def __init__(self, request: Request) -> None:
        self._request = request
        self._map: dict[str, str] | None = None

    def original(self, wire_id: str) -> str:
        if self._map is None:
            self._map = {}
            for message in self._request.messages:
                for part in message.parts:
                    raw = part.id if isinstance(part, ToolCall) else (
                        part.call_id if isinstance(part, ToolResult) else None)
                    if raw is not None and not _SAFE.fullmatch(raw):
                        self._map[safe_id(raw)] = raw
        return self._map.get(wire_id, wire_id)


# --- small helpers ----------------------------------------------------------------------

def wrap_meta(values: dict) -> dict | None:
    return {P: values} if values else None


def keep(block: dict, *names: str) -> dict:
    """The listed keys of ``block`` that are present and not None."""
    return {n: block[n] for n in names if block.get(n) is not None}


def text_of(value, param: str) -> str:
    if not isinstance(value, str):
        raise CodecError(f"{param} must be a string", param=param)
    return value


def render(block: dict) -> str:
    """A readable rendering of a block the hub has no part for (for non-Anthropic targets)."""
    kind = block.get("type")
    if kind in ("server_tool_use", "mcp_tool_use"):
        args = json.dumps(block.get("input") or {}, ensure_ascii=False)
        return f"[{kind} {block.get('name', '')}: {args}]"
    content = block.get("content")
    if isinstance(content, list):
        lines = []
        for item in content:
            if isinstance(item, dict):
                title, url = item.get("title"), item.get("url")
                text = item.get("text") or item.get("source") or ""
                line = " — ".join(str(x) for x in (title, url) if x) or str(text)
                lines.append(line)
        return f"[{kind}]\n" + "\n".join(lines)
    if isinstance(content, str):
        return f"[{kind}]\n{content}"
    return f"[{kind}] " + json.dumps(block, ensure_ascii=False, separators=(",", ":"))


# --- thinking signatures ----------------------------------------------------------------

def mint_signature(meta: dict | None) -> str:
    foreign = {k: v for k, v in (meta or {}).items() if k != P}
    if not foreign:
        return MINTED
    raw = json.dumps(foreign, separators=(",", ":"), ensure_ascii=False).encode()
    return MINTED + base64.urlsafe_b64encode(raw).decode()


def reasoning_meta(signature: str | None) -> dict | None:
    """The hub meta for a thinking block's signature (see the module docstring)."""
    if not signature:
        return None
    if not signature.startswith(MINTED):
        return {P: {"signature": signature}}
    payload = signature[len(MINTED):]
    if not payload:
        return None
    try:
        foreign = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(foreign, dict):
        return None
    return {k: v for k, v in foreign.items() if k != P and isinstance(v, dict)} or None


def thinking_block(part: Reasoning) -> dict:
    """The block for hub reasoning: Anthropic's own, or a thinking block with a minted signature."""
    mine = meta_for(part, P)
    if "redacted" in mine:
        return {"type": "redacted_thinking", "data": mine["redacted"]}
    signature = mine.get("signature") or mint_signature(part.meta)
    return {"type": "thinking", "thinking": part.text, "signature": signature}


# --- wire block → hub part --------------------------------------------------------------

def decode_source(block: dict, param: str) -> tuple[str | None, str | None, str | None]:
    """(url, data, media_type) of an image/document ``source``."""
    source = block.get("source")
    if not isinstance(source, dict):
        raise CodecError(f"{param}.source must be an object", param=f"{param}.source")
    kind = source.get("type")
    if kind == "base64":
        return (None, text_of(source.get("data"), f"{param}.source.data"),
                text_of(source.get("media_type", "image/png"), f"{param}.source.media_type"))
    if kind == "url":
        return text_of(source.get("url"), f"{param}.source.url"), None, None
    raise CodecError(f"{param}.source.type {kind!r} cannot be translated "
                     "(only base64 and url sources are)", param=f"{param}.source")


def decode_block(block, param: str) -> Part:
    """One content block (not tool_result, not tool_use) → a hub part."""
    # tool_result content may hold tool_result/tool_use only as opaque garbage: refuse
    if isinstance(block, dict) and block.get("type") in ("tool_use", "tool_result"):
        raise CodecError(f"{param}: a {block['type']} block cannot appear here", param=param)
    if not isinstance(block, dict):
        raise CodecError(f"{param} must be an object", param=param)
    kind = block.get("type")
    if kind == "text":
        return Text(text_of(block.get("text"), f"{param}.text"),
                    wrap_meta(keep(block, "cache_control", "citations")))
    if kind == "image":
        url, data, media_type = decode_source(block, param)
        return Image(url=url, data=data, media_type=media_type,
                     meta=wrap_meta(keep(block, "cache_control")))
    if kind == "thinking":
        text = text_of(block.get("thinking", ""), f"{param}.thinking")
        signature = block.get("signature")
        return Reasoning(text, meta=reasoning_meta(signature if isinstance(signature, str)
                                                   else None))
    if kind == "redacted_thinking":
        return Reasoning("", meta={P: {"redacted": text_of(block.get("data"), f"{param}.data")}})
    if kind == "document":
        return _decode_document(block, param)
    if isinstance(kind, str) and kind:
        return Text(render(block), {P: {"block": block}})
    raise CodecError(f"{param}.type is missing", param=f"{param}.type")


def _decode_document(block: dict, param: str) -> Part:
    doc = keep(block, "title", "context", "citations")
    extra = keep(block, "cache_control")
    source = block.get("source")
    if isinstance(source, dict) and source.get("type") == "text":
        text = text_of(source.get("data"), f"{param}.source.data")
        return Text(text, {P: {**extra, "document": doc}})
    if isinstance(source, dict) and source.get("type") == "content":
        return Text(render({"type": "document", "content": source.get("content")}),
                    {P: {"block": block}})
    url, data, media_type = decode_source(block, param)
    return Image(url=url, data=data, media_type=media_type or PDF,
                 meta={P: {**extra, "document": doc}})


# --- hub part → wire block --------------------------------------------------------------

def _source(part: Image) -> dict:
    if part.data is not None:
        return {"type": "base64", "media_type": part.media_type or "image/png", "data": part.data}
    url = part.url or ""
    match = _DATA_URL.fullmatch(url)
    if match is None:
        return {"type": "url", "url": url}
    media_type, params, payload = match.groups()
    if ";base64" not in params:
        payload = base64.b64encode(unquote_to_bytes(payload)).decode()
    return {"type": "base64", "media_type": media_type or "image/png", "data": payload}


def encode_part(part: Text | Image) -> dict | None:
    """A Text or Image → its block (None for an empty text, which Anthropic rejects)."""
    if part.meta is None and part.__class__ is Text:  # most parts: plain text
        return {"type": "text", "text": part.text} if part.text else None
    mine = meta_for(part, P)
    if "block" in mine:
        return mine["block"]
    if isinstance(part, Text):
        if not part.text:
            return None
        if "document" in mine:
            block = {"type": "document",
                     "source": {"type": "text", "media_type": "text/plain", "data": part.text}}
            block.update(mine["document"])
        else:
            block = {"type": "text", "text": part.text}
            if "citations" in mine:
                block["citations"] = mine["citations"]
    else:
        source = _source(part)
        media_type = source.get("media_type") or part.media_type or ""
        if "document" in mine or media_type == PDF:
            block = {"type": "document", "source": source}
            block.update(mine.get("document") or {})
        else:
            block = {"type": "image", "source": source}
    if "cache_control" in mine:
        block["cache_control"] = mine["cache_control"]
    return block
