"""One codec per wire protocol, around the hub: the registry.

A protocol is one package here (its ``wire.py`` descriptor and its codec modules, laid
out as ``base.Codec`` describes) plus one line in ``CODECS``. ``wire(name)`` is light
(settings and the CLI use it); ``get(name)`` imports the codec on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from byecore_cli.codecs.base import Codec
    from byecore_cli.codecs.descriptor import Wire

# The explicit registry: protocol name → package that defines WIRE and CODEC.
CODECS = {
    "chat": "byecore_cli.codecs.chat",
    "responses": "byecore_cli.codecs.responses",
    "messages": "byecore_cli.codecs.messages",
    "gemini": "byecore_cli.codecs.gemini",
}
PROTOCOLS = tuple(CODECS)


def get(name: str) -> Codec:
    return import_module(CODECS[name]).CODEC


def wire(name: str) -> Wire:
    return import_module(CODECS[name]).WIRE
