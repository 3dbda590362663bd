"""OpenAI Responses (``POST /v1/responses``): what Codex CLI speaks.

Modules: ``wire`` (paths, auth, usage fields), ``request`` (client request → hub, with
the field table), ``encode`` (hub → upstream request), ``response`` (Response objects,
status and usage tables), ``stream_decode`` / ``stream_encode`` (SSE, with their
ordering rules), ``errors`` (error bodies and codes), ``items`` (content parts,
reasoning, opaque data).
"""

from __future__ import annotations

from byecore_cli.codecs.descriptor import lazy_codec
from byecore_cli.codecs.responses.wire import WIRE

__all__ = ["CODEC", "WIRE"]
__getattr__ = lazy_codec(__name__)  # CODEC, built on first use
