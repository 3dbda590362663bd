"""Real PNG files for the tests, made and checked with the stdlib only (zlib, struct).

``make_png`` writes a 1-bit greyscale image (a few hundred bytes even at 4K, so the fake
upstream can answer with the exact size asked for); ``read_png`` checks a file the way
a decoder would before drawing it: the signature, every chunk's CRC, IHDR first and
IEND last, and IDAT inflating to exactly one filter byte plus the packed row per line.
"""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def make_png(width: int, height: int, seed: int = 0) -> bytes:
    row = (width + 7) // 8
    lines = b"".join(b"\x00" + bytes(((x + y + seed) * 37) & 0xFF for x in range(row))
                     if y < 8 else b"\x00" + bytes(row) for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(lines, 9))
            + _chunk(b"IEND", b""))


def read_png(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG that passes every check; AssertionError otherwise."""
    assert data.startswith(SIGNATURE), "no PNG signature"
    at, kinds, idat, header = len(SIGNATURE), [], b"", None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, f"bad CRC in {kind!r}"
        kinds.append(kind)
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    width, height, depth, colour = header[:4]
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    row = (width * depth * channels + 7) // 8
    assert len(zlib.decompress(idat)) == height * (1 + row), "IDAT does not fit IHDR"
    return width, height
