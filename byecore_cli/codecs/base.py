"""What every codec provides, the two errors a decoder may raise, and how every decoder
reads an upstream's token counts.

A codec is pure: dicts and bytes in, hub values out, and back; no sockets, no aiohttp.
Names say the direction: ``decode_*`` goes wire → hub, ``encode_*`` goes hub → wire.
Response and stream coders take the hub ``Request`` they answer, because the way back
depends on it (flattened tool names, custom tools, the model name the client asked for).
"""

from __future__ import annotations

from importlib import import_module
from typing import Protocol

from byecore_cli.codecs.sse import SSEEvent
from byecore_cli.hub import ErrorInfo, Event, Request, Response


class CodecError(ValueError):
    """Input that is not a valid message of the protocol; becomes a 400 for the client.

    ``param`` names the offending field (``messages[2].content``) when known.
    """

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param

    def info(self) -> ErrorInfo:
        return ErrorInfo(400, "invalid_request", self.message, param=self.param)


class UpstreamFault(ValueError):
    """An upstream answer (body or stream event) that is not a valid message of its
    protocol: the upstream's fault, not the client's, so a 502 and the next fallback
    target instead of :class:`CodecError`'s 400. ``where`` names the field when known.
    """

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def info(self) -> ErrorInfo:
        where = f" ({self.where})" if self.where else ""
        return ErrorInfo(502, "api_error", f"the upstream's answer is malformed: "
                                           f"{self.message}{where}")


def token_count(value: object, where: str) -> int:
    """A token count from an upstream's usage, read leniently and the same way for every
    protocol: an int, or an integral float (``12.0`` from a JS-built gateway); absent
    (None) counts as 0. Anything else (a bool, a string, a negative or fractional number)
    is the upstream's fault, not the client's: :class:`UpstreamFault` naming ``where``."""
    if value is None:
        return 0
    if value.__class__ is float and value.is_integer():
        value = int(value)
    if value.__class__ is not int:  # not isinstance: True is an int to isinstance
        raise UpstreamFault("a token count must be a whole number", where=where)
    if value < 0:
        raise UpstreamFault("a token count cannot be negative", where=where)
    return value


class StreamDecoder(Protocol):
    """Upstream SSE events → hub events (see hub/events.py for the ordering rules).

    ``feed`` and ``flush`` raise ``UpstreamFault`` for an event that is not valid in the
    protocol (data that is not JSON, wrong types); an error the upstream itself reports,
    or a stream cut short, is a ``StreamError`` event instead.
    """

    def feed(self, event: SSEEvent) -> list[Event]: ...

    def flush(self) -> list[Event]:
        """The upstream closed: close what is open (or report a truncated stream)."""
        ...


class StreamEncoder(Protocol):
    """Hub events → the client's SSE bytes, ready to write."""

    def feed(self, event: Event) -> bytes: ...

    def flush(self) -> bytes: ...


class Codec:
    """One protocol's codec, built the same way for every package: its modules
    ``request`` (``decode_request``), ``encode`` (``encode_request``), ``response``
    (``decode_response``, ``encode_response``, ``decode_usage``), ``stream_decode``
    (``StreamDecoder``), ``stream_encode`` (``StreamEncoder``) and ``errors``
    (``decode_error``, ``encode_error``, ``encode_stream_error``), and its ``wire``.
    """

    def __init__(self, package: str, wire) -> None:
        self.name: str = wire.name
        self.wire = wire
        load = lambda module: import_module(f"{package}.{module}")  # noqa: E731
        self._request, self._encode, self._response = (
            load("request"), load("encode"), load("response"))
        self._decoder = load("stream_decode").StreamDecoder
        self._encoder = load("stream_encode").StreamEncoder
        self._errors = load("errors")

    def decode_request(self, body: dict) -> Request:
        try:
            return self._request.decode_request(body)
        except CodecError:
            raise
        except (KeyError, TypeError, AttributeError, ValueError) as exc:  # safety net
            raise CodecError(f"malformed {self.wire.title} request: {exc}") from exc

    def encode_request(self, request: Request) -> dict:
        return self._encode.encode_request(request)

    def decode_response(self, body: dict, request: Request) -> Response:
        return self._response.decode_response(body, request)  # UpstreamFault, never a 400

    def encode_response(self, response: Response, request: Request) -> dict:
        return self._response.encode_response(response, request)

    def stream_decoder(self, request: Request) -> StreamDecoder:
        return self._decoder(request)

    def stream_encoder(self, request: Request) -> StreamEncoder:
        return self._encoder(request)

    def decode_error(self, status: int, body: bytes) -> ErrorInfo:
        return self._errors.decode_error(status, body)

    def encode_error(self, error: ErrorInfo) -> tuple[int, dict, dict[str, str]]:
        """(status, body, headers) for this protocol; headers carry Retry-After."""
        return self._errors.encode_error(error)

    def encode_stream_error(self, error: ErrorInfo) -> bytes:
        """The SSE that ends a stream with an error, in this protocol's shape."""
        return self._errors.encode_stream_error(error)
