"""One codec per wire protocol, around the hub. ``get(name)`` imports one on first use."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from byecore_cli.codecs.base import Codec

# The explicit registry: protocol name → module that defines CODEC.
CODECS = {
    "chat": "byecore_cli.codecs.chat",
    "responses": "byecore_cli.codecs.responses",
    "messages": "byecore_cli.codecs.messages",
    "gemini": "byecore_cli.codecs.gemini",
}


def get(name: str) -> Codec:
    return import_module(CODECS[name]).CODEC
