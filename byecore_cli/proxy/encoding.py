"""Request bodies sent compressed (``Content-Encoding``), decoded by byecore itself.

aiohttp would decode gzip and deflate on its own, but it refuses an encoding it has no
library for (br without Brotli, zstd before Python 3.14) while it is still reading the
headers, with a text/plain 400 that no handler or middleware sees. The proxy turns its
decoding off (``auto_decompress``) and decodes here, so every refusal is in the client's
protocol and the decoded size is capped like an uncompressed body. No coding client
compresses its requests with anything but gzip, if at all; br and zstd are refused (415).
"""

from __future__ import annotations

import zlib


class BodyEncodingError(ValueError):
    """``status`` 400 (not encoded as declared), 413 (too large decoded) or 415 (unknown)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def decode_body(raw: bytes, header: str, limit: int) -> bytes:
    """``raw`` with every encoding in ``header`` undone (last applied, first undone);
    at most ``limit`` bytes once decoded."""
    codings = [c.strip().lower() for c in header.split(",") if c.strip()]
    for coding in reversed(codings):
        if coding == "identity":
            continue
        decode = _DECODERS.get(coding)
        if decode is None:
            raise BodyEncodingError(415, f"Content-Encoding {coding!r} is not one byecore can "
                                         "decode: send the body uncompressed, or as gzip")
        try:
            raw = decode(raw, limit)
        except BodyEncodingError:
            raise
        except Exception as exc:  # each library has its own error type
            raise BodyEncodingError(400, f"the body is not {coding} data as its "
                                         f"Content-Encoding says ({exc})") from None
    return raw


def _zlib(wbits: int):
    def decode(raw: bytes, limit: int) -> bytes:
        inflater = zlib.decompressobj(wbits)
        out = inflater.decompress(raw, limit + 1)
        if len(out) > limit or inflater.unconsumed_tail:
            raise _too_large(limit)
        if not inflater.eof:
            raise ValueError("the data ends before its end marker")
        return out
    return decode


def _deflate(raw: bytes, limit: int) -> bytes:
    # "deflate" means zlib-wrapped data, but raw deflate is common enough to accept too
    try:
        return _zlib(zlib.MAX_WBITS)(raw, limit)
    except zlib.error:
        return _zlib(-zlib.MAX_WBITS)(raw, limit)


def _too_large(limit: int) -> BodyEncodingError:
    return BodyEncodingError(413, f"the request body is over the proxy's {limit / 2**20:g} MB "
                                  "limit once decompressed (raise [proxy] max_body_mb in "
                                  "byecore's settings)")


_DECODERS = {"gzip": _zlib(16 + zlib.MAX_WBITS), "x-gzip": _zlib(16 + zlib.MAX_WBITS),
             "deflate": _deflate}
