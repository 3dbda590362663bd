"""Pieces shared by the Responses request, response and stream coders.

Content parts (``input_text``/``output_text``/``input_image``/``input_file``) ↔ hub
``Text``/``Image``; reasoning items ↔ hub ``Reasoning``; the opaque data kept in
``meta["responses"]`` (item ``id``, ``encrypted_content``, ``phase``…).

One reasoning item is one hub ``Reasoning`` part: its summary parts are joined with a
blank line (the list itself is kept in meta when there is more than one, so it comes
back exactly), or, when the item carries raw ``content`` (``reasoning_text``), that text
with ``summary=False`` and ``raw`` in its meta: the hub's ``summary`` flag is lost when the
reasoning crosses another client (an Anthropic thinking block has no such flag), and the
upstream must get its item back in the form it issued (summary or ``reasoning_text``).

Foreign opaque data (an Anthropic thinking ``signature``, redacted thinking) has to
survive a trip through a Responses client such as Codex, which echoes only
``encrypted_content``. The encoders pack it there as ``byecore.v1:<base64 JSON>`` and the
decoders unpack it into the issuing protocol's meta, never into ``meta["responses"]``, so
it is never sent to a Responses upstream as if OpenAI had issued it.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from byecore_cli.codecs.base import CodecError
from byecore_cli.codecs.validate import arr, obj, string
from byecore_cli.hub import Image, Reasoning, Text, meta_for

P = "responses"
PACKED = "byecore.v1:"
RAW = "_raw"  # in a packed blob: the summary is really full reasoning text
DUMPS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def fail(message: str, param: str) -> CodecError:
    return CodecError(message, param=param)


def meta(**values: Any) -> dict | None:
    """``{"responses": {...}}`` with the values that are set, or None when none is."""
    kept = {k: v for k, v in values.items() if v is not None}
    return {P: kept} if kept else None


# --- content parts -------------------------------------------------------------------

def split_data_url(url: str) -> Image:
    """An ``image_url`` (https or ``data:``) as a hub Image, base64 split out."""
    if url.startswith("data:") and ";base64," in url:
        head, _, data = url.partition(";base64,")
        return Image(data=data, media_type=head[5:] or None)
    return Image(url=url)


PLAIN_TEXT = ("input_text", "output_text", "text", "summary_text", "reasoning_text")


def decode_part(part: Any, param: str) -> Text | Image:
    """One content part of a message or a tool output."""
    part = obj(part, param)
    kind = part.get("type")
    if kind in PLAIN_TEXT:
        text = part.get("text")
        if not isinstance(text, str):
            raise fail(f"{param}.text must be a string", f"{param}.text")
        annotations = part.get("annotations") if kind == "output_text" else None
        return Text(text, {P: {"annotations": annotations}} if annotations else None)
    if kind == "refusal":
        return Text(string(part.get("refusal"), f"{param}.refusal"), meta(refusal=True))
    if kind == "input_image":
        url = string(part.get("image_url"), f"{param}.image_url", optional=True)
        file_id = string(part.get("file_id"), f"{param}.file_id", optional=True)
        if not url and not file_id:
            raise fail("input_image needs image_url or file_id", param)
        image = split_data_url(url) if url else Image()
        image.detail = string(part.get("detail"), f"{param}.detail", optional=True)
        image.meta = meta(file_id=file_id)
        return image
    if kind == "input_file":
        # No hub file part: a text note for other protocols, the original part for us.
        name = part.get("filename") or part.get("file_id") or part.get("file_url") or "file"
        return Text(f"[file: {name}]", meta(part=part))
    raise fail(f"unsupported content part type {kind!r}", f"{param}.type")


def decode_content(content: Any, param: str) -> list[Text | Image]:
    """A string or a list of parts. Codex's ``encrypted_content`` parts in tool outputs
    (not part of the public API) are dropped: no protocol could use them."""
    if isinstance(content, str):
        return [Text(content)]
    out: list[Text | Image] = []
    for i, part in enumerate(arr(content, param)):
        if part.__class__ is dict:
            # The common case first (plain text), with no error path built for it: a
            # 100 KB Codex request has hundreds of these.
            kind = part.get("type")
            text = part.get("text")
            if (text.__class__ is str and kind in PLAIN_TEXT
                    and not (kind == "output_text" and part.get("annotations"))):
                out.append(Text(text))
                continue
            if kind == "encrypted_content":
                continue
        out.append(decode_part(part, f"{param}[{i}]"))
    return out


def encode_input_part(part: Text | Image, *, tool_output: bool = False) -> dict:
    """A hub Text/Image as an ``input_text``/``input_image`` (or the kept ``input_file``)."""
    own = meta_for(part, P)
    if isinstance(part, Text):
        return own.get("part") or {"type": "input_text", "text": part.text}
    out: dict = {"type": "input_image"}
    if own.get("file_id"):
        out["file_id"] = own["file_id"]
    if part.url or part.data:
        out["image_url"] = part.data_url()
    if part.detail or not tool_output:  # ``detail`` is required in message content
        out["detail"] = part.detail or "auto"
    return out


def output_text(part: Text) -> dict:
    return {"type": "output_text", "text": part.text,
            "annotations": meta_for(part, P).get("annotations") or []}


# --- reasoning -------------------------------------------------------------------------

def pack_foreign(part_meta: dict | None, raw: bool = False) -> str | None:
    """Other protocols' opaque data on a part, as an ``encrypted_content`` string.

    ``raw``: the text is full reasoning sent as a summary (see ``encode_reasoning``).
    """
    foreign = {k: v for k, v in (part_meta or {}).items() if k != P and v}
    if raw:
        foreign[RAW] = True
    if not foreign:
        return None
    return PACKED + base64.urlsafe_b64encode(DUMPS(foreign).encode()).decode()


def unpack_foreign(blob: str) -> dict | None:
    try:
        value = json.loads(base64.urlsafe_b64decode(blob[len(PACKED):].encode()))
    except (ValueError, binascii.Error):
        return None
    return value if isinstance(value, dict) else None


def decode_reasoning(item: dict, param: str) -> Reasoning:
    summary = [string(obj(s, f"{param}.summary[{i}]").get("text"), f"{param}.summary[{i}].text")
               for i, s in enumerate(arr(item.get("summary") or [], f"{param}.summary"))]
    content = [string(obj(c, f"{param}.content[{i}]").get("text"), f"{param}.content[{i}].text")
               for i, c in enumerate(arr(item.get("content") or [], f"{param}.content"))]
    blob = string(item.get("encrypted_content"), f"{param}.encrypted_content", optional=True)
    item_id = string(item.get("id"), f"{param}.id", optional=True)
    foreign = unpack_foreign(blob) if blob and blob.startswith(PACKED) else None
    if foreign is not None:
        # byecore made this item for the client (its id too): nothing in it is OpenAI's,
        # so nothing may be sent to a Responses upstream as if OpenAI had issued it.
        blob = item_id = None
        if foreign.pop(RAW, False):
            content, summary = content or summary, []
    if content:
        text, is_summary = "".join(content), False
        keep_summary = summary or None
    else:
        text, is_summary = "\n\n".join(summary), True
        keep_summary = summary if len(summary) > 1 else None
    part_meta = meta(id=item_id, encrypted_content=blob, summary=keep_summary) or {}
    if part_meta and not is_summary:
        # raw reasoning_text: remembered in our meta, which survives other clients
        part_meta[P]["raw"] = True
    if foreign:
        part_meta.update(foreign)
    return Reasoning(text, is_summary, part_meta or None)


def shown_as_summary(part: Reasoning) -> bool:
    """Toward a client: full reasoning from another protocol goes out as a summary.

    Codex shows summaries by default and raw ``reasoning_text`` only on request, so an
    Anthropic thinking block or a Chat ``reasoning_content`` is sent as a summary; a
    packed marker in ``encrypted_content`` turns it back into full reasoning when the
    client replays it. Raw reasoning a Responses upstream issued stays raw.
    """
    return part.summary or not meta_for(part, P)


def encode_reasoning(part: Reasoning, item_id: str | None, *, pack: bool = True) -> dict:
    """A hub Reasoning as a ``reasoning`` item (``summary`` is always present).

    ``pack``: put other protocols' opaque data into ``encrypted_content`` (toward a
    client, which echoes it back); never toward an upstream.
    """
    own = meta_for(part, P)
    if pack:
        as_summary = shown_as_summary(part)
    elif own.get("id") or own.get("encrypted_content"):
        as_summary = not own.get("raw")  # the form the upstream issued (decode_reasoning)
    else:
        as_summary = part.summary
    summary = own.get("summary")
    if summary is None:
        summary = [part.text] if as_summary and part.text else []
    out: dict = {"type": "reasoning"}
    if item_id:
        out["id"] = item_id
    out["summary"] = [{"type": "summary_text", "text": t} for t in summary]
    if not as_summary and part.text:
        out["content"] = [{"type": "reasoning_text", "text": part.text}]
    blob = own.get("encrypted_content") or (
        pack_foreign(part.meta, raw=as_summary and not part.summary) if pack else None)
    if blob:
        out["encrypted_content"] = blob
    return out
