"""Small readers shared by the Gemini codec's modules: field spellings and type checks.

The Gemini REST API is proto3 JSON: it accepts both ``lowerCamelCase`` (what the SDKs and
Gemini CLI send) and the proto's ``snake_case`` field names. ``get`` reads either; the
encoders always write camelCase. Values inside ``functionCall.args``,
``functionResponse.response`` and schemas are user data and are never renamed.
"""

from __future__ import annotations

import re

# The shared type checks, re-exported (``x as x``) so the Gemini modules take them all from
# here. Only ``integer`` is Gemini's own (below).
from byecore_cli.codecs.validate import arr as arr
from byecore_cli.codecs.validate import integer as shared_integer
from byecore_cli.codecs.validate import number as number
from byecore_cli.codecs.validate import obj as obj
from byecore_cli.codecs.validate import string as string

text = string  # the name the Gemini modules read strings with

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


def integer(value, param: str) -> int:
    # proto3 JSON may carry integers as strings ("1024"), and JSON numbers as integral floats
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return shared_integer(value, param)
