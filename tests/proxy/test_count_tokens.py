"""count_tokens: the upstream's count when it gives one, the local estimate when it cannot.

The upstream here is a real server on 127.0.0.1 port 0 whose count_tokens endpoint
misbehaves in the ways gateways do; the client is the official Anthropic SDK.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import anthropic
import pytest
from aiohttp import web

from byecore_cli.config.models import ProxySettings, ProxyTimeouts, Settings
from byecore_cli.proxy.tokens import estimate_tokens
from tests.proxy.conftest import UPSTREAM_KEY, provider

MESSAGES = [{"role": "user", "content": "count me " * 50}]


class CountingUpstream:
    """``mode`` picks the answer: ok, 404, html, hang, silent_body, 503, huge,
    huge_chunked, 400, 403html."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.seen: list[dict] = []
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._answer)

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        self.seen.append({"target": request.raw_path, "headers": dict(request.headers),
                          "body": await request.read()})
        mode = self.mode
        if mode == "ok":
            return web.json_response({"input_tokens": 4242})
        if mode == "proxy":
            return web.json_response({"input_tokens": 777})
        if mode == "404":
            return web.json_response({"type": "error", "error": {
                "type": "not_found_error", "message": "Not Found"}}, status=404)
        if mode == "html":
            return web.Response(text="<html>Welcome to the gateway</html>",
                                content_type="text/html")
        if mode == "hang":
            await asyncio.sleep(3600)
        if mode == "silent_body":
            answer = web.StreamResponse(headers={"Content-Type": "application/json"})
            await answer.prepare(request)
            await answer.write(b'{"input_')
            await asyncio.sleep(3600)
        if mode == "503":
            return web.Response(status=503, text="upstream overloaded")
        if mode == "huge":  # over the count's cap, said up front
            return web.json_response({"input_tokens": 1, "pad": "x" * (1 << 20)})
        if mode == "huge_chunked":  # over the cap, found out on the way
            answer = web.StreamResponse(headers={"Content-Type": "application/json"})
            await answer.prepare(request)
            for _ in range(9):
                await answer.write(b" " * (1 << 17))
            await answer.write(b'{"input_tokens": 1}')
            await answer.write_eof()
            return answer
        if mode == "400":
            return web.json_response({"type": "error", "error": {
                "type": "invalid_request_error",
                "message": f"messages: bad role; key {UPSTREAM_KEY} is fine"}}, status=400)
        if mode == "403html":
            return web.Response(status=403, text=f"<h1>Forbidden</h1> token {UPSTREAM_KEY}",
                                content_type="text/html")
        raise AssertionError(mode)


@pytest.fixture
async def counting(aiohttp_server):
    upstream = CountingUpstream()
    server = await aiohttp_server(upstream.app)
    upstream.url = str(server.make_url("")).rstrip("/")
    return upstream


def _settings(url: str, protocol: str = "messages") -> Settings:
    fast = ProxyTimeouts(first_byte=0.5, idle=0.5)
    return Settings(providers={"up": provider(url, protocol)}, default_provider="up",
                    proxy=ProxySettings(timeouts=fast))


async def _count(sdk, url: str) -> int:
    answer = await sdk.anthropic(url, timeout=20).messages.count_tokens(
        model="up-model", messages=MESSAGES)
    return answer.input_tokens


async def test_a_count_the_upstream_gives_is_passed_on(counting, start_proxy, sdk):
    url = await start_proxy(_settings(counting.url))
    assert await _count(sdk, url) == 4242
    sent = counting.seen[-1]
    assert sent["target"] == "/v1/messages/count_tokens"
    assert sent["headers"]["x-api-key"] == UPSTREAM_KEY
    assert json.loads(sent["body"])["model"] == "up-model"


@pytest.mark.parametrize("mode", ["404", "html", "hang", "silent_body", "503", "huge",
                                  "huge_chunked"])
async def test_no_count_from_upstream_means_the_local_estimate(counting, start_proxy, sdk,
                                                                mode):
    counting.mode = mode
    url = await start_proxy(_settings(counting.url))
    assert await _count(sdk, url) == estimate_tokens({"messages": MESSAGES})
    assert len(counting.seen) == 1
    await _count(sdk, url)
    # a 404 means no such endpoint: not asked again; the others may pass
    assert len(counting.seen) == (1 if mode == "404" else 2)


@pytest.mark.parametrize("mode, error_class, kind", [
    ("400", anthropic.BadRequestError, "invalid_request_error"),
    ("403html", anthropic.PermissionDeniedError, "permission_error"),
])
async def test_a_refused_count_reaches_the_client_as_an_anthropic_error(
        counting, start_proxy, sdk, mode, error_class, kind):
    counting.mode = mode
    url = await start_proxy(_settings(counting.url))
    with pytest.raises(error_class) as caught:
        await _count(sdk, url)
    body = caught.value.body
    assert body["type"] == "error" and body["error"]["type"] == kind
    assert UPSTREAM_KEY not in json.dumps(body) and UPSTREAM_KEY not in caught.value.message
    assert ("bad role" if mode == "400" else "Forbidden") in body["error"]["message"]


async def test_the_count_goes_through_the_environment_proxy(counting, aiohttp_server,
                                                            start_proxy, local_key,
                                                            monkeypatch):
    forward = CountingUpstream()  # stands in for a corporate HTTP proxy
    forward.mode = "proxy"
    proxy_server = await aiohttp_server(forward.app)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("HTTP_PROXY", str(proxy_server.make_url("")).rstrip("/"))
    url = await start_proxy(_settings(counting.url))
    # aiohttp, not the SDK: httpx would send this request itself through the proxy
    async with aiohttp.ClientSession() as session, session.post(
            url + "/v1/messages/count_tokens", json={"model": "up-model", "messages": MESSAGES},
            headers={"x-api-key": local_key, "anthropic-version": "2023-06-01"}) as resp:
        assert (await resp.json()) == {"input_tokens": 777}
    assert forward.seen[0]["target"] == counting.url + "/v1/messages/count_tokens"
    assert counting.seen == []


async def test_a_lone_surrogate_is_a_400_not_a_500(counting, start_proxy, local_key):
    url = await start_proxy(_settings(counting.url, "chat"))  # no count upstream: estimate
    raw = b'{"model": "up-model", "messages": [{"role": "user", "content": "bad \\udcff"}]}'
    async with aiohttp.ClientSession() as session, session.post(
            url + "/v1/messages/count_tokens", data=raw,
            headers={"x-api-key": local_key, "anthropic-version": "2023-06-01",
                     "Content-Type": "application/json"}) as resp:
        assert resp.status == 400
        body = await resp.json()
    assert body["type"] == "error" and "surrogate" in body["error"]["message"]


def test_the_estimate_takes_any_json():
    deep: list = []
    for _ in range(200_000):
        deep = [deep]
    assert estimate_tokens({"messages": deep}) > 1000
    odd = {"system": "s", "messages": ["just text", 3, None, True, {"content": "\udcff"}],
           "tools": {"not": "a list"}}
    assert estimate_tokens(odd) >= 1
    image = {"type": "image", "source": {"type": "base64", "data": "A" * 100_000}}
    with_image = {"messages": [{"role": "user", "content": [image]}]}
    assert 1600 <= estimate_tokens(with_image) < 1700
    assert estimate_tokens({}) == 1
    text = {"messages": [{"role": "user", "content": "x" * 400}]}
    assert estimate_tokens(text) == pytest.approx(len(json.dumps(text["messages"])) // 4,
                                                  abs=3)
