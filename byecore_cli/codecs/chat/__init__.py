"""OpenAI Chat Completions (``POST /v1/chat/completions``) ↔ the hub.

Modules: ``wire`` (paths, auth, usage fields), ``request`` (client request → hub, the
field table), ``encode`` (hub → upstream request, what is sent or dropped), ``response``
(whole responses both ways; finish reasons and usage), ``stream_decode`` /
``stream_encode`` (SSE chunks ↔ hub events), ``errors`` (OpenAI error bodies and statuses).
"""

from __future__ import annotations

from byecore_cli.codecs.chat.wire import WIRE
from byecore_cli.codecs.descriptor import lazy_codec

__all__ = ["CODEC", "WIRE"]
__getattr__ = lazy_codec(__name__)  # CODEC, built on first use
