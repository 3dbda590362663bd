"""API key hygiene: clean what was pasted, and never show a whole key by accident."""

from __future__ import annotations

import re


class BadKey(ValueError):
    """A key that cannot be right whatever the provider (empty, spaces inside)."""


_PREFIX = re.compile(r"^[A-Za-z]{1,8}-")


def clean_key(raw: str) -> tuple[str, list[str]]:
    """Strip what copy-and-paste adds around a key; returns ``(key, notes)``.

    Surrounding spaces and line breaks are the most common cause of a 401, so they are
    removed; so are quotes and a pasted ``Bearer `` prefix. Whitespace *inside* the key
    cannot be guessed away and is refused.
    """
    notes: list[str] = []
    key = raw.strip()
    if key != raw:
        notes.append("removed spaces or line breaks around the key")
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "'\"":
        key = key[1:-1].strip()
        notes.append("removed the quotes around the key")
    if key.lower().startswith("bearer "):
        key = key[len("bearer "):].strip()
        notes.append("removed the 'Bearer ' prefix (byecore adds the header itself)")
    if not key:
        raise BadKey("the key is empty")
    if any(ch.isspace() for ch in key):
        raise BadKey("the key has spaces or line breaks inside it; paste it again in one piece")
    return key, notes


def mask_key(key: str | None) -> str:
    """``sk-abcdef…wxyz`` → ``sk-…wxyz``: enough to tell keys apart, never the whole key."""
    if not key:
        return ""
    match = _PREFIX.match(key)
    prefix = match.group(0) if match and len(match.group(0)) < len(key) else ""
    secret = key[len(prefix):]
    shown = 4 if len(secret) >= 16 else 2 if len(secret) >= 8 else 0
    return f"{prefix}…{secret[-shown:] if shown else ''}"


def redact(data, key: str | None):
    """``data`` (bytes or str) with ``key`` masked wherever a server echoed it back: a key
    never reaches a screen, a log or a client."""
    if not key:
        return data
    if isinstance(data, bytes):
        raw = key.encode()
        return data.replace(raw, mask_key(key).encode()) if raw in data else data
    return data.replace(key, mask_key(key))
