"""The type checks every codec runs on client input, in one place (issue #11).

Each returns its value unchanged when it has the wanted JSON type and otherwise raises
:class:`CodecError` (a 400 for the client) naming the field: ``"{param} must be an
object"`` with ``param=param``. They sit on the request decoders' hot path, so each is a
plain ``isinstance`` and nothing more.

``bool`` is a subclass of ``int`` in Python but never a number in JSON: ``true`` is refused
where a number or an integer is wanted. ``optional=True`` lets ``None`` (JSON ``null`` or
an absent key read with ``.get``) through as ``None``; without it ``None`` is refused like
any other wrong type. Protocol quirks (Gemini's proto3 integers written as strings) stay in
their codec, as wrappers over these.
"""

from __future__ import annotations

from typing import Any

from byecore_cli.codecs.base import CodecError


def obj(value: Any, param: str) -> dict:
    if not isinstance(value, dict):
        raise CodecError(f"{param} must be an object", param=param)
    return value


def arr(value: Any, param: str) -> list:
    if not isinstance(value, list):
        raise CodecError(f"{param} must be an array", param=param)
    return value


def string(value: Any, param: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise CodecError(f"{param} must be a string", param=param)
    return value


def number(value: Any, param: str, *, optional: bool = False) -> int | float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CodecError(f"{param} must be a number", param=param)
    return value


def integer(value: Any, param: str, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise CodecError(f"{param} must be an integer", param=param)
    return value
