"""A multipart form read and changed byte for byte, checked against aiohttp's own parser."""

from __future__ import annotations

import hashlib

import pytest
from aiohttp import FormData, web

from byecore_cli.images.multipart import Form, FormError
from tests.images.png import make_png


async def _encode(form: FormData) -> tuple[bytes, str]:
    payload = form()

    class Sink:
        data = b""

        async def write(self, chunk):
            self.data += bytes(chunk)

    sink = Sink()
    await payload.write(sink)
    return sink.data, payload.content_type


async def _parse_with_aiohttp(body: bytes, content_type: str, aiohttp_client) -> dict:
    """What an aiohttp server (as an upstream would be) reads from ``body``."""
    seen = {}

    async def handle(request):
        for name, value in (await request.post()).items():
            seen.setdefault(name, []).append(value.file.read() if isinstance(
                value, web.FileField) else value)
        return web.Response()

    app = web.Application()
    app.router.add_post("/", handle)
    client = await aiohttp_client(app)
    await client.post("/", data=body, headers={"Content-Type": content_type})
    return seen


async def test_fields_change_and_every_other_byte_stays(aiohttp_client):
    picture = make_png(40, 30, seed=3) + b"\r\n--not-the-boundary\r\n\r\n"
    form = FormData()
    form.add_field("prompt", "kéép this")
    form.add_field("image", picture, filename="p.png", content_type="image/png")
    form.add_field("size", "auto")
    body, content_type = await _encode(form)
    parsed = Form.parse(body, content_type)
    assert parsed.value("size") == "auto" and parsed.value("prompt") == "kéép this"
    assert parsed.value("model") is None and parsed.files() == 1
    changed = parsed.changed({"size": "1024x1024", "model": "image-2"})
    image = next(p for p in parsed.parts if p.filename)
    assert picture in changed and body[:image.end] in changed  # untouched up to the image
    seen = await _parse_with_aiohttp(changed, content_type, aiohttp_client)
    assert seen["size"] == ["1024x1024"] and seen["model"] == ["image-2"]
    assert seen["prompt"] == ["kéép this"]
    assert hashlib.sha256(seen["image"][0]).digest() == hashlib.sha256(picture).digest()
    assert parsed.changed({}) is body


def test_boundaries_with_dashes_a_preamble_and_no_parts():
    boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
    body = (b"preamble\r\n--" + boundary.encode() + b"\r\nContent-Disposition: form-data; "
            b'name="n"\r\n\r\n2\r\n--' + boundary.encode() + b"--\r\n")
    form = Form.parse(body, f"multipart/form-data; boundary={boundary}")
    assert form.value("n") == "2"
    assert Form.parse(f"--{boundary}--".encode(), f"multipart/form-data; boundary={boundary}"
                      ).changed({"size": "1K"}).count(b'name="size"') == 1


@pytest.mark.parametrize(("body", "content_type", "words"), [
    (b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx", "multipart/form-data; "
     "boundary=b", "closing boundary"),
    (b"no boundary here", "multipart/form-data; boundary=b", "none of the boundary"),
    (b"{}", "application/json", "not multipart"),
    (b"--b\r\nContent-Disposition: form-data; name=\"size\"\r\n\r\n1\r\n--b\r\n"
     b"Content-Disposition: form-data; name=\"size\"\r\n\r\n2\r\n--b--", "multipart/form-data; "
     "boundary=b", "2 'size' fields"),
])
def test_broken_forms_are_refused_in_words(body, content_type, words):
    with pytest.raises(FormError, match=words):
        Form.parse(body, content_type).value("size")
