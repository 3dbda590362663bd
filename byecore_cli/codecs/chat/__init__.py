"""OpenAI Chat Completions (``POST /v1/chat/completions``) ↔ the hub.

Modules: ``request`` (client request → hub, the field table), ``encode`` (hub → upstream
request, what is sent or dropped), ``response`` (whole responses both ways; finish
reasons and usage), ``stream_decode`` / ``stream_encode`` (SSE chunks ↔ hub events),
``errors`` (OpenAI error bodies and statuses).
"""

from __future__ import annotations

from byecore_cli.codecs.chat import errors
from byecore_cli.codecs.chat.encode import encode_request
from byecore_cli.codecs.chat.request import decode_request
from byecore_cli.codecs.chat.response import decode_response, encode_response
from byecore_cli.codecs.chat.stream_decode import ChatStreamDecoder
from byecore_cli.codecs.chat.stream_encode import ChatStreamEncoder
from byecore_cli.hub import ErrorInfo, Request, Response


class ChatCodec:
    name = "chat"

    def decode_request(self, body: dict) -> Request:
        return decode_request(body)

    def encode_request(self, request: Request) -> dict:
        return encode_request(request)

    def decode_response(self, body: dict, request: Request) -> Response:
        return decode_response(body, request)

    def encode_response(self, response: Response, request: Request) -> dict:
        return encode_response(response, request)

    def stream_decoder(self, request: Request) -> ChatStreamDecoder:
        return ChatStreamDecoder(request)

    def stream_encoder(self, request: Request) -> ChatStreamEncoder:
        return ChatStreamEncoder(request)

    def decode_error(self, status: int, body: bytes) -> ErrorInfo:
        return errors.decode_error(status, body)

    def encode_error(self, error: ErrorInfo) -> tuple[int, dict, dict[str, str]]:
        return errors.encode_error(error)

    def encode_stream_error(self, error: ErrorInfo) -> bytes:
        return errors.encode_stream_error(error)


CODEC = ChatCodec()
