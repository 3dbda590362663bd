"""Anthropic Messages (``POST /v1/messages``): the protocol Claude Code speaks.

Modules: ``wire`` (paths, auth, usage fields), ``blocks`` (content blocks ↔ parts, tool
ids, thinking signatures), ``request`` (client request → hub, with the field table),
``encode`` (hub → upstream request, with its decisions), ``response`` (bodies, stop
reasons, usage), ``stream_decode`` / ``stream_encode`` (SSE chunks ↔ hub events),
``errors`` (the error table).
"""

from __future__ import annotations

from byecore_cli.codecs.descriptor import lazy_codec
from byecore_cli.codecs.messages.wire import WIRE

__all__ = ["CODEC", "WIRE"]
__getattr__ = lazy_codec(__name__)  # CODEC, built on first use
