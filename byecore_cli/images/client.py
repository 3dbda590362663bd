"""The OpenAI Images API, for ``byecore image``: generations, edits, streamed partials.

``POST {openai base}/images/generations`` (JSON) or ``/images/edits`` (a multipart form:
``image``, or ``image[]`` for several, as the openai SDK sends them), the provider's key
as ``Authorization: Bearer``. An answer's images come as ``b64_json`` or as a ``url``,
which is downloaded (without the key: it is another host's). With ``stream``, the
answer is server-sent events: ``image_generation.partial_image`` and
``image_generation.completed`` (``image_edit.…`` for edits), as in the openai SDK's
``types/image_gen_stream_event.py`` and ``types/image_edit_stream_event.py``; a provider
that does not stream answers with JSON, which is read the same way.

Every failure is an ``UpstreamError`` in plain words, the key masked.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from byecore_cli.check import diagnose
from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.config.models import Provider
from byecore_cli.errors import UpstreamError, UpstreamUnreachable
from byecore_cli.images import formats
from byecore_cli.providers.endpoints import openai_base
from byecore_cli.providers.keys import redact

MAX_ANSWER = 512 * 2 ** 20  # ten 4K PNGs as base64 fit; a runaway answer does not
MAX_DOWNLOAD = 128 * 2 ** 20
CONNECT_TIMEOUT = 10.0


@dataclass
class Picture:
    data: bytes  # empty until a URL answer is downloaded
    url: str | None = None  # where the provider put it, when it answered with a URL
    revised_prompt: str | None = None
    index: int | None = None  # a partial image's partial_image_index


@dataclass
class Answer:
    images: list[Picture] = field(default_factory=list)
    usage: dict | None = None
    streamed: bool = False
    size: str | None = None  # what the provider says it made
    output_format: str | None = None


def images_url(provider: Provider, kind: str) -> str:
    return openai_base(provider.base_url, provider.openai_path) + f"/images/{kind}"


class ImagesClient:
    def __init__(self, name: str, provider: Provider, *, timeout: float) -> None:
        self.name, self.provider, self.timeout = name, provider, timeout
        self.key = provider.resolve_key()

    async def run(self, fields: dict, images: list[tuple[str, bytes]] | None = None,
                  mask: tuple[str, bytes] | None = None,
                  on_partial: Callable[[Picture], None] | None = None) -> Answer:
        """``fields``: the request's parameters; ``images`` (file name, bytes): an edit."""
        kind = "edits" if images else "generations"
        url = images_url(self.provider, kind)
        headers = {"Accept": "text/event-stream" if fields.get("stream") else
                   "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        timeout = aiohttp.ClientTimeout(total=None, connect=min(self.timeout, CONNECT_TIMEOUT),
                                        sock_read=self.timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                body = _form(fields, images, mask) if images else None
                async with session.post(url, json=None if images else fields, data=body,
                                        headers=headers, allow_redirects=False) as resp:
                    if not 200 <= resp.status < 300:
                        raw = await resp.content.read(2 ** 20)
                        raise self._refused(url, resp.status, raw,
                                            resp.headers.get("Retry-After"))
                    if resp.headers.get("Content-Type", "").startswith("text/event-stream"):
                        answer = await self._events(resp, on_partial)
                    else:
                        answer = self._json(await _read(resp, MAX_ANSWER, url))
                    for picture in answer.images:
                        if picture.url and not picture.data:
                            picture.data = await self._download(session, picture.url)
                    return answer
        except (UpstreamError, asyncio.CancelledError):
            raise
        except Exception as exc:  # every network failure in plain words
            problem, fix, _ = diagnose.network_finding(exc, url, self.timeout, False,
                                                       min(self.timeout, CONNECT_TIMEOUT))
            raise UpstreamUnreachable(redact(problem, self.key), provider=self.name,
                                      hint=fix) from None

    def _refused(self, url: str, status: int, raw: bytes, retry_after: str | None):
        message = redact(diagnose.error_message(raw), self.key)
        if status in (401, 403):
            hint = (f"no key is set for {self.name}: byecore provider set-key {self.name}"
                    if not self.key else f"the key was refused: byecore provider set-key "
                    f"{self.name} (or check the key's access to image models)")
        elif status == 404:
            hint = (f"no Images API at {url}, or no such model there: see the provider's "
                    "documentation, and byecore image --sizes")
        elif status == 429:
            hint = "rate limited or out of credit" + (
                f" (the provider asks to wait {retry_after} s)" if retry_after else "")
        elif 300 <= status < 400:
            hint = "byecore does not follow redirects: check the provider's base_url"
        elif status >= 500:
            hint = "the provider is failing on its side; try again later"
        else:
            hint = "see the message; byecore image --help lists the options"
        return UpstreamError(f"{self.name} answered HTTP {status}: {message}", status=status,
                             provider=self.name, hint=hint)

    def _json(self, raw: bytes) -> Answer:
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list):
            raise UpstreamError(f"{self.name} answered without images (no 'data' list): "
                                f"{redact(diagnose.error_message(raw), self.key)[:200]}",
                                provider=self.name,
                                hint="the base URL may point at something other than an "
                                "OpenAI-style Images API")
        answer = Answer(usage=payload.get("usage"), size=payload.get("size"),
                        output_format=payload.get("output_format"))
        for item in data:
            item = item if isinstance(item, dict) else {}
            if isinstance(item.get("b64_json"), str):
                picture = Picture(self._decode(item["b64_json"]))
            elif isinstance(item.get("url"), str):
                picture = Picture(b"", url=item["url"])  # fetched next
            else:
                raise UpstreamError(f"{self.name} answered an image with neither b64_json "
                                    "nor url", provider=self.name)
            picture.revised_prompt = item.get("revised_prompt")
            answer.images.append(picture)
        return answer

    async def _events(self, resp, on_partial) -> Answer:
        answer, decoder = Answer(streamed=True), SSEDecoder()

        def take(events) -> None:
            for event in events:
                if event.data.strip() in ("", "[DONE]"):
                    continue
                try:
                    payload = json.loads(event.data)
                except ValueError:
                    continue  # not an event of the Images API
                kind = str(payload.get("type") or event.event or "")
                if kind == "error" or "error" in payload:
                    error = payload.get("error", payload)
                    raise UpstreamError(f"{self.name}'s stream ended with an error: "
                                        + redact(diagnose.error_message(
                                            json.dumps({"error": error}).encode()), self.key),
                                        provider=self.name)
                if not isinstance(payload.get("b64_json"), str):
                    continue
                picture = Picture(self._decode(payload["b64_json"]))
                if kind.endswith(".partial_image"):
                    picture.index = payload.get("partial_image_index")
                    if on_partial is not None:
                        on_partial(picture)
                elif kind.endswith(".completed"):
                    answer.images.append(picture)
                    answer.usage = payload.get("usage") or answer.usage
                    answer.size = payload.get("size") or answer.size
                    answer.output_format = payload.get("output_format") or answer.output_format

        size = 0
        async for chunk in resp.content.iter_any():
            size += len(chunk)
            if size > MAX_ANSWER:
                raise UpstreamError(f"{self.name}'s stream is over {MAX_ANSWER >> 20} MB: "
                                    "stopped", provider=self.name)
            take(decoder.feed(chunk))
        take(decoder.flush())
        if not answer.images:
            raise UpstreamError(f"{self.name}'s stream ended without a completed image",
                                provider=self.name, hint="try again without --stream")
        return answer

    def _decode(self, text: str) -> bytes:
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise UpstreamError(f"{self.name} sent an image whose base64 does not decode",
                                provider=self.name) from None

    async def _download(self, session: aiohttp.ClientSession, url: str) -> bytes:
        if not url.startswith(("https://", "http://")):
            raise UpstreamError(f"{self.name} answered an image URL byecore cannot fetch "
                                f"({url[:60]!r})", provider=self.name)
        async with session.get(url) as resp:  # no key: the URL is its own credential
            if resp.status >= 400:
                raise UpstreamError(f"downloading the image from {url.split('?')[0]} "
                                    f"failed: HTTP {resp.status}", provider=self.name,
                                    hint="image URLs expire after a while: generate again")
            return await _read(resp, MAX_DOWNLOAD, url)


async def _read(resp, cap: int, url: str) -> bytes:
    parts, size = [], 0
    async for chunk in resp.content.iter_any():
        size += len(chunk)
        if size > cap:
            raise UpstreamError(f"the answer from {url.split('?')[0]} is over {cap >> 20} MB")
        parts.append(chunk)
    return b"".join(parts)


def _form(fields: dict, images: list[tuple[str, bytes]],
          mask: tuple[str, bytes] | None) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in fields.items():
        if value is None:
            continue
        form.add_field(name, json.dumps(value) if isinstance(value, bool) else str(value))
    field_name = "image" if len(images) == 1 else "image[]"
    files = [(field_name, name, data) for name, data in images]
    if mask:
        files.append(("mask", *mask))
    for field_name, filename, data in files:
        form.add_field(field_name, data, filename=Path(filename).name,
                       content_type=f"image/{formats.sniff(data) or 'png'}")
    return form
