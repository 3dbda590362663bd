"""What each protocol's clients send the proxy and get back, shared by the proxy tests.

Request bodies and paths for every protocol of the registry, the error shape of each,
and ``GeminiSDK``: the official google-genai client pointed at the proxy the way Gemini
CLI points it (``api_version="v1beta"``), which records every exchange so that ``check``
can hold each request and each answer, whole or streamed, to the SDK's own types
(``extra="forbid"`` at every depth, enum warnings as failures; tests/codecs/gemini_helpers).
The ``gemini_sdk`` fixture (import ``gemini_sdk_fixture``) makes them and checks them all
at teardown.
"""

from __future__ import annotations

import json

import httpx2
import pytest

from byecore_cli.providers.endpoints import endpoint_url


def minimal(protocol: str, model: str = "demo") -> dict:
    """The smallest valid request body of ``protocol`` ("chat", "responses", "messages",
    "gemini"; a Gemini body names no model: that is in its path)."""
    if protocol == "gemini":
        return {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    if protocol == "responses":
        return {"model": model, "input": "hi"}
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    if protocol == "messages":
        body["max_tokens"] = 10
    return body


def client_path(protocol: str, model: str = "up-model", stream: bool = False) -> str:
    """The path ``protocol``'s clients post to: the wire's own, under the usual prefix."""
    return endpoint_url("", protocol, model=model, stream=stream)


def request(protocol: str, model: str = "up-model", stream: bool = False) -> dict:
    """``minimal``, streamed if ``stream`` (a Gemini body says so in its path)."""
    body = minimal(protocol, model)
    if stream and protocol != "gemini":
        body["stream"] = True
    return body


def shape_of(body) -> str | None:
    """'anthropic', 'openai' or 'gemini' when ``body`` is exactly that protocol's error
    shape, else None.

    Anthropic: ``{"type": "error", "error": {"type", "message"}}``;
    OpenAI: ``{"error": {"message", "type", ...}}`` with no top-level ``type``;
    Gemini: ``{"error": {"code": int, "message", "status"}}``, no ``type`` anywhere.
    """
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    error = body["error"]
    if set(body) == {"error"} and "type" not in error and type(error.get("code")) is int \
            and isinstance(error.get("message"), str) and isinstance(error.get("status"), str):
        return "gemini"
    if body.get("type") == "error" and isinstance(error.get("type"), str) \
            and isinstance(error.get("message"), str):
        return "anthropic"
    if "type" not in body and isinstance(error.get("message"), str) and "type" in error:
        return "openai"
    return None


class GeminiSDK:
    """google-genai's async client against ``url``; ``client`` is its ``.aio``."""

    def __init__(self, url: str, key: str) -> None:
        from google import genai
        from google.genai import types

        self.exchanges: list[dict] = []
        self.http = httpx2.AsyncClient(transport=_Recording(self.exchanges), timeout=30)
        self.client = genai.Client(api_key=key, http_options=types.HttpOptions(
            base_url=url, api_version="v1beta", httpx_async_client=self.http)).aio

    def check(self) -> None:
        """Every generation request valid, every answer the SDK's types accept as is."""
        from tests.codecs.gemini_helpers import (
            assert_valid_request,
            assert_valid_response,
            sse_payloads,
        )

        for seen in self.exchanges:
            if ":generateContent" in seen["url"] or ":streamGenerateContent" in seen["url"]:
                assert_valid_request(json.loads(seen["request"]))
            raw = seen["answer"]
            if seen["status"] >= 400:
                assert shape_of(json.loads(raw)) == "gemini", raw
            elif seen["type"].startswith("text/event-stream"):
                assert not any(line.startswith(b":") for line in raw.splitlines()), raw
                for payload in sse_payloads(raw):  # an error event: Google's error shape
                    if "error" in payload:
                        assert shape_of(payload) == "gemini", payload
                    else:
                        assert_valid_response(payload)
            elif ":generateContent" in seen["url"]:
                assert_valid_response(json.loads(raw))

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.http.aclose()


class _Tee(httpx2.AsyncByteStream):
    def __init__(self, stream, record: dict) -> None:
        self.stream, self.record = stream, record

    async def __aiter__(self):
        async for chunk in self.stream:
            self.record["answer"] += chunk
            yield chunk

    async def aclose(self) -> None:
        await self.stream.aclose()


class _Recording(httpx2.AsyncBaseTransport):
    """An httpx2 transport that keeps what went each way, the stream as it streamed."""

    def __init__(self, exchanges: list[dict]) -> None:
        self.exchanges = exchanges
        self.inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request):
        response = await self.inner.handle_async_request(request)
        record = {"url": str(request.url), "request": request.content, "answer": b"",
                  "status": response.status_code,
                  "type": response.headers.get("content-type", "")}
        self.exchanges.append(record)
        return httpx2.Response(response.status_code, headers=response.headers,
                               stream=_Tee(response.stream, record),
                               extensions=response.extensions)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture(name="gemini_sdk")
async def gemini_sdk_fixture(local_key):
    """``gemini_sdk(url)``: a ``GeminiSDK``; all of them checked and closed after the test."""
    made: list[GeminiSDK] = []

    def make(url: str) -> GeminiSDK:
        made.append(GeminiSDK(url, local_key))
        return made[-1]

    yield make
    for client in made:
        await client.aclose()
    for client in made:
        client.check()
