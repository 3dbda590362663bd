"""A fake OpenAI Images API upstream (aiohttp, on 127.0.0.1), billing as byecore's gateway.

``POST /v1/images/generations`` (JSON) and ``/v1/images/edits`` (multipart, read by
aiohttp's own parser, or JSON) answer with real PNGs of the size asked for (``png.py``),
``b64_json`` by default or a ``url`` under ``/files/`` (``response_format: url``, or
``urls`` set);
with ``stream: true`` (unless ``streams`` is off) they answer with the SSE events of
the openai SDK's types: ``image_generation.partial_image`` × ``partial_images``, then
``image_generation.completed`` per image (``image_edit.…`` for edits).

Billing follows the gateway's image-2 chapter: a missing, ``auto`` or unlisted size is
billed 2K, and the image is then 2048x2048. ``requests`` keeps every request (headers,
JSON or form fields, files' exact bytes) and the tier it was billed; ``plan`` holds
what the next requests do instead: ``("status", code)`` (an OpenAI-shaped error),
``("echo_key", code)`` (an error quoting the key sent, as some gateways do),
``("garbage",)`` (HTML), ``("stall",)`` (a stream that goes silent after its partials).
"""

from __future__ import annotations

import asyncio
import base64
import json
import struct

from aiohttp import web

from tests.images.png import make_png

KEY = "sk-images-upstream-0123456789abcdef"
TIERS = {"1024x1024": "1K", "2048x2048": "2K", "1536x1024": "2K", "1024x1536": "2K",
         "3840x2160": "4K", "2160x3840": "4K"}


def make_jpeg_header(width: int, height: int) -> bytes:
    """Just enough of a JPEG to be recognised and measured: SOI, SOF0, EOI."""
    sof = struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xd9"


class FakeImages:
    def __init__(self, key: str = KEY) -> None:
        self.key = key
        self.url = ""  # set once listening
        self.streams = True
        self.urls = False  # answer with URLs even when b64_json is the default
        self.plan: list[tuple] = []
        self.requests: list[dict] = []
        self.made: list[bytes] = []  # every final image sent, in order
        self.files: dict[str, bytes] = {}
        self.app = web.Application(client_max_size=64 * 2 ** 20)
        self.app.router.add_post("/v1/images/generations", self._generations)
        self.app.router.add_post("/v1/images/edits", self._edits)
        self.app.router.add_get("/files/{name}", self._file)

    @property
    def last(self) -> dict:
        return self.requests[-1]

    async def _generations(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        return await self._answer(request, "image_generation", body, {})

    async def _edits(self, request: web.Request) -> web.StreamResponse:
        if request.content_type == "application/json":
            return await self._answer(request, "image_edit", await request.json(), {})
        form = await request.post()
        fields, files = {}, []
        for name, value in form.items():
            if isinstance(value, web.FileField):
                files.append({"field": name, "filename": value.filename,
                              "content_type": value.content_type,
                              "data": value.file.read()})
            else:
                assert name not in fields, f"field {name} sent twice"
                fields[name] = value
        for name in ("n", "partial_images"):
            if name in fields:
                fields[name] = int(fields[name])
        if "stream" in fields:
            fields["stream"] = fields["stream"] == "true"
        return await self._answer(request, "image_edit", fields, {"files": files})

    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="image/png")

    async def _answer(self, request, event_prefix: str, body: dict, extra: dict):
        size = body.get("size")
        tier = TIERS.get(size) if isinstance(size, str) else None
        seen = {"path": request.path, "headers": dict(request.headers), "body": body,
                "billed": tier or "2K", **extra}
        self.requests.append(seen)
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        action = self.plan.pop(0) if self.plan else ("ok",)
        if action[0] == "status":
            return _error(action[1], f"the fake upstream refuses with {action[1]}")
        if action[0] == "echo_key":
            return _error(action[1], f"key {self.key} may not use {body.get('model')}")
        if action[0] == "garbage":
            return web.Response(status=200, text="<html>maintenance</html>",
                                content_type="text/html")
        width, height = map(int, (size if tier else "2048x2048").split("x"))
        n = body.get("n") or 1
        kind = body.get("output_format") or "png"
        images = [make_png(width, height, seed=len(self.made) + i) if kind == "png"
                  else make_jpeg_header(width, height) for i in range(n)]
        self.made += images
        usage = {"input_tokens": 12, "input_tokens_details": {"image_tokens": 0,
                                                              "text_tokens": 12},
                 "output_tokens": 100, "total_tokens": 112}
        if body.get("stream") and self.streams:
            return await self._stream(request, event_prefix, body, images, usage,
                                      f"{width}x{height}", kind, stall=action[0] == "stall")
        if body.get("response_format") == "url" or self.urls:
            data = []
            for image in images:
                name = f"{len(self.files)}.png"
                self.files[name] = image
                data.append({"url": f"{self.url}/files/{name}"})
        else:
            data = [{"b64_json": base64.b64encode(i).decode()} for i in images]
        return web.json_response({"created": 1, "data": data, "size": f"{width}x{height}",
                                  "output_format": kind, "quality": "medium",
                                  "usage": {**usage, "output_tokens": 100 * n}})

    async def _stream(self, request, prefix, body, images, usage, size, kind, stall=False):
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        common = {"background": "opaque", "created_at": 1, "output_format": kind,
                  "quality": "medium", "size": size}
        for index in range(body.get("partial_images") or 0):
            partial = make_png(*map(int, size.split("x")), seed=1000 + index)
            await response.write(_event(f"{prefix}.partial_image", {
                "type": f"{prefix}.partial_image", "partial_image_index": index,
                "b64_json": base64.b64encode(partial).decode(), **common}))
        if stall:
            await asyncio.sleep(30)
        for image in images:
            await response.write(_event(f"{prefix}.completed", {
                "type": f"{prefix}.completed", "usage": usage,
                "b64_json": base64.b64encode(image).decode(), **common}))
        await response.write_eof()
        return response


def _event(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def _error(status: int, message: str, code: str | None = None) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_request_error",
                                        "param": None, "code": code}}, status=status)
