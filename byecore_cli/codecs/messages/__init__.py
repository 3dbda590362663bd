"""Anthropic Messages (``POST /v1/messages``): the protocol Claude Code speaks.

Modules: ``blocks`` (content blocks ↔ parts, tool ids, thinking signatures), ``request``
(client request → hub, with the field table), ``encode`` (hub → upstream request, with
its decisions), ``response`` (bodies, stop reasons, usage), ``stream`` (SSE both ways),
``errors`` (the error table).
"""

from __future__ import annotations

from byecore_cli.codecs.base import CodecError
from byecore_cli.codecs.messages import errors, response, stream
from byecore_cli.codecs.messages.encode import encode_request
from byecore_cli.codecs.messages.request import decode_request
from byecore_cli.hub import ErrorInfo, Request, Response


class MessagesCodec:
    name = "messages"

    def decode_request(self, body: dict) -> Request:
        try:
            return decode_request(body)
        except CodecError:
            raise
        except (KeyError, TypeError, AttributeError, ValueError) as exc:  # safety net
            raise CodecError(f"malformed Messages request: {exc}") from exc

    def encode_request(self, request: Request) -> dict:
        return encode_request(request)

    def decode_response(self, body: dict, request: Request) -> Response:
        return response.decode_response(body, request)  # raises UpstreamFault, never a 400

    def encode_response(self, resp: Response, request: Request) -> dict:
        return response.encode_response(resp, request)

    def stream_decoder(self, request: Request) -> stream.StreamDecoder:
        return stream.StreamDecoder(request)

    def stream_encoder(self, request: Request) -> stream.StreamEncoder:
        return stream.StreamEncoder(request)

    def decode_error(self, status: int, body: bytes) -> ErrorInfo:
        return errors.decode_error(status, body)

    def encode_error(self, error: ErrorInfo) -> tuple[int, dict, dict[str, str]]:
        return errors.encode_error(error)

    def encode_stream_error(self, error: ErrorInfo) -> bytes:
        return errors.encode_stream_error(error)


CODEC = MessagesCodec()
