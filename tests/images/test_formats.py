"""What an image's first bytes say, checked on real PNG bytes and hand-made headers."""

from __future__ import annotations

import struct

import pytest

from byecore_cli.images import formats
from tests.images.fake_images import make_jpeg_header
from tests.images.png import make_png, read_png


def test_png_header_agrees_with_a_full_check():
    data = make_png(3840, 2160)
    assert read_png(data) == formats.png_size(data) == formats.dimensions(data) == (3840, 2160)
    with pytest.raises(ValueError):
        formats.png_size(b"GIF89a")


@pytest.mark.parametrize(("data", "kind", "size"), [
    (make_jpeg_header(1536, 1024), "jpeg", (1536, 1024)),
    (b"RIFF\0\0\0\0WEBPVP8X" + bytes(8) + (1023).to_bytes(3, "little")
     + (767).to_bytes(3, "little"), "webp", (1024, 768)),
    (b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f" + ((1023) | (511 << 14)).to_bytes(4, "little"),
     "webp", (1024, 512)),
    (b"GIF89a" + struct.pack("<HH", 16, 9), "gif", (16, 9)),
    (b"not an image at all", None, None),
])
def test_formats_and_sizes(data, kind, size):
    assert formats.sniff(data) == kind and formats.dimensions(data) == size
