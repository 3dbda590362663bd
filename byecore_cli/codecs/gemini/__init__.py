"""The Gemini API (``generateContent``, ``streamGenerateContent?alt=sse``) ↔ the hub.

What Gemini CLI and the google-genai SDKs speak. Modules: ``wire`` (field spellings and
type checks), ``names`` (legal function names, made-up call ids), ``schema`` (JSON Schema
↔ Gemini ``Schema``), ``parts`` (parts ↔ hub parts, thought signatures), ``request``
(client request → hub, the field table), ``encode`` (hub → upstream request, its
decisions), ``turns`` (call pairing and thought signatures towards Gemini), ``response``
(bodies, finish reasons, usage), ``stream_decode`` / ``stream_encode`` (SSE chunks ↔ hub
events), ``errors`` (the Google error table), ``listing`` (``:countTokens`` bodies and
the ``GET models`` list).

Where model and stream live: not in the body but in the URL,
``/v1beta/models/{model}:generateContent`` or ``…:streamGenerateContent?alt=sse``.
The convention with the caller:

- ``decode_request(body)``: the caller injects two keys into the body it read, ``"model"``
  (from the path; ``models/`` may be left on) and ``"stream"`` (``True`` for
  ``streamGenerateContent``). Neither is a Gemini field, so they cannot clash.
- ``encode_request(request)`` returns the body WITHOUT them; the caller sends it to
  ``request_path(request.model, request.stream)`` (``models/…:generateContent`` or
  ``models/…:streamGenerateContent?alt=sse``, to append to the ``/v1beta/`` base).
"""

from __future__ import annotations

from urllib.parse import quote

from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.codecs.gemini import errors, listing
from byecore_cli.codecs.gemini.encode import encode_request
from byecore_cli.codecs.gemini.request import decode_request
from byecore_cli.codecs.gemini.response import decode_response, encode_response, usage_in
from byecore_cli.codecs.gemini.stream_decode import GeminiStreamDecoder
from byecore_cli.codecs.gemini.stream_encode import GeminiStreamEncoder
from byecore_cli.codecs.gemini.wire import get
from byecore_cli.hub import ErrorInfo, Request, Response, Usage

# Wire facts for the proxy's descriptor (not part of the Codec protocol yet):
# bytes that keep an idle Gemini stream alive. A blank line, because both Google SDKs skip
# it, while an SSE comment (": ping") makes google-genai fail (test_gemini_errors.py).
KEEPALIVE = b"\r\n\r\n"


def auth_headers(key: str) -> dict[str, str]:
    """How a Gemini upstream takes its key (it also accepts ``?key=`` and a Bearer token)."""
    return {"x-goog-api-key": key}


def usage_of(data) -> Usage | None:
    """The usage in a Gemini answer or stream chunk (None when it carries none), for the
    pass-through's usage log: one reading of ``usageMetadata`` for both paths."""
    if not isinstance(data, dict) or get(data, "usageMetadata") is None:
        return None
    try:
        return usage_in(get(data, "usageMetadata"))
    except UpstreamFault:
        return None


def request_path(model: str, stream: bool) -> str:
    """The path, under the API version root, that a request for ``model`` goes to."""
    name = quote(model.removeprefix("models/"), safe="-._~@")
    return f"models/{name}:streamGenerateContent?alt=sse" if stream else \
        f"models/{name}:generateContent"


class GeminiCodec:
    name = "gemini"

    def decode_request(self, body: dict) -> Request:
        try:
            return decode_request(body)
        except CodecError:
            raise
        except (KeyError, TypeError, AttributeError, ValueError) as exc:  # safety net
            raise CodecError(f"malformed Gemini request: {exc}") from exc

    def encode_request(self, request: Request) -> dict:
        return encode_request(request)

    def request_path(self, model: str, stream: bool) -> str:
        return request_path(model, stream)

    def decode_count_request(self, body: dict) -> Request:
        """A ``:countTokens`` body (model and stream injected as for generation)."""
        try:
            return listing.decode_count_request(body)
        except CodecError:
            raise
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise CodecError(f"malformed Gemini countTokens request: {exc}") from exc

    def encode_count_response(self, total_tokens: int, cached_tokens: int = 0) -> dict:
        return listing.encode_count_response(total_tokens, cached_tokens)

    def encode_model_list(self, models: list[str]) -> dict:
        return listing.encode_model_list(models)

    def decode_response(self, body: dict, request: Request) -> Response:
        return decode_response(body, request)  # raises UpstreamFault, never a 400

    def encode_response(self, response: Response, request: Request) -> dict:
        return encode_response(response, request)

    def stream_decoder(self, request: Request) -> GeminiStreamDecoder:
        return GeminiStreamDecoder(request)

    def stream_encoder(self, request: Request) -> GeminiStreamEncoder:
        return GeminiStreamEncoder(request)

    def decode_error(self, status: int, body: bytes) -> ErrorInfo:
        return errors.decode_error(status, body)

    def encode_error(self, error: ErrorInfo) -> tuple[int, dict, dict[str, str]]:
        return errors.encode_error(error)

    def encode_stream_error(self, error: ErrorInfo) -> bytes:
        return errors.encode_stream_error(error)


CODEC = GeminiCodec()
