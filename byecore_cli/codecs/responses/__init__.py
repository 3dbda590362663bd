"""OpenAI Responses (``POST /v1/responses``): what Codex CLI speaks.

Modules: ``request.py`` (decode, with the field table), ``request_encode.py`` (toward a
Responses upstream), ``response.py`` (Response objects, status and usage tables),
``stream_decode.py`` / ``stream_encode.py`` (SSE, with their ordering rules),
``errors.py`` (error bodies and codes), ``items.py`` (content parts, reasoning, opaque
data).
"""

from __future__ import annotations

from byecore_cli.codecs.responses import errors
from byecore_cli.codecs.responses.request import decode_request
from byecore_cli.codecs.responses.request_encode import encode_request
from byecore_cli.codecs.responses.response import decode_response, encode_response
from byecore_cli.codecs.responses.stream_decode import StreamDecoder
from byecore_cli.codecs.responses.stream_encode import StreamEncoder
from byecore_cli.hub import ErrorInfo, Request


class ResponsesCodec:
    name = "responses"

    decode_request = staticmethod(decode_request)
    encode_request = staticmethod(encode_request)
    decode_response = staticmethod(decode_response)
    encode_response = staticmethod(encode_response)

    @staticmethod
    def stream_decoder(request: Request) -> StreamDecoder:
        return StreamDecoder(request)

    @staticmethod
    def stream_encoder(request: Request) -> StreamEncoder:
        return StreamEncoder(request)

    @staticmethod
    def decode_error(status: int, body: bytes) -> ErrorInfo:
        return errors.decode_error(status, body)

    @staticmethod
    def encode_error(error: ErrorInfo) -> tuple[int, dict, dict[str, str]]:
        return errors.encode_error(error)

    @staticmethod
    def encode_stream_error(error: ErrorInfo) -> bytes:
        return errors.encode_stream_error(error)


CODEC = ResponsesCodec()
