"""The Gemini API (``generateContent``, ``streamGenerateContent?alt=sse``) ↔ the hub.

What Gemini CLI and the google-genai SDKs speak. Modules: ``wire`` (paths, auth, usage
fields), ``fields`` (field spellings and type checks), ``names`` (legal function names,
made-up call ids), ``schema`` (JSON Schema ↔ Gemini ``Schema``), ``parts`` (parts ↔ hub
parts, thought signatures), ``request`` (client request → hub, the field table),
``encode`` (hub → upstream request, its decisions), ``turns`` (call pairing and thought
signatures towards Gemini), ``signatures`` (the process's cache of call signatures, for
clients whose protocol cannot carry them), ``response`` (bodies, finish reasons, usage),
``stream_decode`` / ``stream_encode`` (SSE chunks ↔ hub events), ``errors`` (the Google
error table), ``listing`` (``:countTokens`` bodies and the ``GET models`` list).

Where model and stream live: not in the body but in the URL,
``/v1beta/models/{model}:generateContent`` or ``…:streamGenerateContent?alt=sse``.
The convention with the caller:

- ``decode_request(body)``: the caller injects two keys into the body it read, ``"model"``
  (from the path; ``models/`` may be left on) and ``"stream"`` (``True`` for
  ``streamGenerateContent``). Neither is a Gemini field, so they cannot clash.
- ``encode_request(request)`` returns the body WITHOUT them; the caller sends it to
  ``WIRE.path(request.model, request.stream)`` under the provider's Gemini base.
"""

from __future__ import annotations

from byecore_cli.codecs.descriptor import lazy_codec
from byecore_cli.codecs.gemini.wire import WIRE

__all__ = ["CODEC", "WIRE"]
__getattr__ = lazy_codec(__name__)  # CODEC, built on first use
