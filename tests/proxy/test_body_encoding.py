"""Compressed request bodies: decoded by byecore, capped once decoded, refused in shape."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest

from byecore_cli.proxy.encoding import BodyEncodingError, decode_body
from tests.proxy.shapes import minimal, shape_of

BODY = b'{"model": "demo", "messages": []}'


@pytest.mark.parametrize("header, packed", [
    ("gzip", gzip.compress(BODY)),
    ("x-gzip", gzip.compress(BODY)),
    ("deflate", zlib.compress(BODY)),
    ("deflate", zlib.compress(BODY, wbits=-zlib.MAX_WBITS)),  # raw deflate, as some send it
    ("identity", BODY),
    ("gzip, deflate", zlib.compress(gzip.compress(BODY))),  # the last applied, undone first
])
def test_every_encoding_aiohttp_would_decode_is_decoded(header, packed):
    assert decode_body(packed, header, 1 << 20) == BODY


@pytest.mark.parametrize("header, packed, status", [
    ("gzip", BODY, 400),                       # not compressed at all
    ("gzip", gzip.compress(BODY)[:-8], 400),   # cut before its end
    ("deflate", b"\x00garbage", 400),
    ("gzip", gzip.compress(b" " * 100_000), 413),  # a small bomb past a 64 KB cap
    ("compress", BODY, 415),
])
def test_what_cannot_be_decoded_says_why(header, packed, status):
    with pytest.raises(BodyEncodingError) as caught:
        decode_body(packed, header, 64 * 1024)
    assert caught.value.status == status


@pytest.mark.parametrize("protocol, path", [("messages", "/v1/messages"),
                                            ("chat", "/v1/chat/completions")])
@pytest.mark.parametrize("encoding", ["br", "zstd", "compress"])
async def test_an_encoding_byecore_cannot_decode_is_refused_in_the_clients_shape(
        aiohttp_client, local_key, protocol, path, encoding):
    """aiohttp alone answered these with its own text/plain 400 while reading headers."""
    from byecore_cli.config.models import Settings
    from byecore_cli.proxy.app import create_app

    client = await aiohttp_client(create_app(Settings()))
    resp = await client.post(path, data=json.dumps(minimal(protocol)).encode(), headers={
        "Authorization": f"Bearer {local_key}", "Content-Encoding": encoding,
        "Content-Type": "application/json"})
    answer = await resp.json()
    assert resp.status == 415
    assert shape_of(answer) == ("anthropic" if protocol == "messages" else "openai")


async def test_a_gzip_bomb_is_a_413_not_a_memory_spike(aiohttp_client, local_key):
    from byecore_cli.config.models import ProxySettings, Settings
    from byecore_cli.proxy.app import create_app

    client = await aiohttp_client(create_app(Settings(proxy=ProxySettings(max_body_mb=1))))
    bomb = gzip.compress(b'{"model": "demo", "messages": [], "x": "' + b"a" * (8 << 20) + b'"}')
    resp = await client.post("/v1/messages", data=bomb, headers={
        "Authorization": f"Bearer {local_key}", "Content-Encoding": "gzip",
        "Content-Type": "application/json", "anthropic-version": "2023-06-01"})
    assert resp.status == 413 and shape_of(await resp.json()) == "anthropic"
