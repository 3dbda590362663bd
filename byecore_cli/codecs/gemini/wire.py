"""Small readers shared by the Gemini codec's modules: field spellings and type checks.

The Gemini REST API is proto3 JSON: it accepts both ``lowerCamelCase`` (what the SDKs and
Gemini CLI send) and the proto's ``snake_case`` field names. ``get`` reads either; the
encoders always write camelCase. Values inside ``functionCall.args``,
``functionResponse.response`` and schemas are user data and are never renamed.
"""

from __future__ import annotations

import re

from byecore_cli.codecs.base import CodecError

P = "gemini"  # this codec's key in hub ``meta``/``extras``
_UPPER = re.compile(r"([A-Z])")


def snake(name: str) -> str:
    return _UPPER.sub(lambda m: "_" + m.group(1).lower(), name)


def get(value: dict, camel: str, default=None):
    """``value[camel]``, or its snake_case spelling; ``default`` when neither is set."""
    found = value.get(camel)
    if found is None:
        found = value.get(snake(camel))
    return default if found is None else found


def has(value: dict, camel: str) -> bool:
    return value.get(camel) is not None or value.get(snake(camel)) is not None


def obj(value, param: str) -> dict:
    if not isinstance(value, dict):
        raise CodecError(f"{param} must be an object", param=param)
    return value


def arr(value, param: str) -> list:
    if not isinstance(value, list):
        raise CodecError(f"{param} must be an array", param=param)
    return value


def text(value, param: str) -> str:
    if not isinstance(value, str):
        raise CodecError(f"{param} must be a string", param=param)
    return value


def integer(value, param: str) -> int:
    # proto3 JSON may carry integers as strings ("1024")
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise CodecError(f"{param} must be an integer", param=param)
    return value


def number(value, param: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CodecError(f"{param} must be a number", param=param)
    return value
