"""What the pass-through's fast path must keep: environment proxies and netrc (looked up once,
not per request), no shared cookies, whole events, and usage read from the stream's bytes."""

from __future__ import annotations

import pytest
from aiohttp import web

from byecore_cli.config.models import Settings
from byecore_cli.proxy import upstream
from tests.proxy.conftest import UPSTREAM_KEY, provider
from tests.proxy.fake_upstream import FakeUpstream


@pytest.fixture(autouse=True)
def fresh_env_routes():
    upstream._ROUTES.clear()
    yield
    upstream._ROUTES.clear()


def chat_body(text: str = "hi", **extra) -> dict:
    return {"model": "up-model", "messages": [{"role": "user", "content": text}], **extra}


async def test_http_proxy_from_the_environment_is_used(aiohttp_server, start_proxy,
                                                       local_key, monkeypatch):
    # The provider's host does not resolve: only an HTTP proxy in the environment reaches it.
    relay = FakeUpstream()
    server = await aiohttp_server(relay.app)
    monkeypatch.setenv("HTTP_PROXY", str(server.make_url("")).rstrip("/"))
    monkeypatch.setenv("NO_PROXY", "")
    settings = Settings(providers={"up": provider("http://upstream.invalid", "chat")},
                        default_provider="up")
    url = await start_proxy(settings)
    import aiohttp

    async with aiohttp.ClientSession() as s:
        for _ in range(2):
            async with s.post(url + "/v1/chat/completions", json=chat_body(),
                              headers={"Authorization": f"Bearer {local_key}"}) as r:
                assert r.status == 200, await r.text()
                assert (await r.json())["choices"][0]["message"]["content"] == "chat says: hi"
    assert len(relay.requests) == 2
    assert list(upstream._ROUTES) == ["http://upstream.invalid/v1/chat/completions"]


async def test_no_proxy_excludes_the_upstream(fake, start_proxy, local_key, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    url = await start_proxy(Settings(providers={"up": provider(fake.url, "chat")},
                                     default_provider="up"))
    import aiohttp

    async with aiohttp.ClientSession() as s, s.post(
            url + "/v1/chat/completions", json=chat_body(),
            headers={"Authorization": f"Bearer {local_key}"}) as r:
        assert r.status == 200


async def test_netrc_applies_only_without_a_provider_key(fake, start_proxy, local_key,
                                                         tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login user password pass\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    keyless = provider(fake.url, "chat")
    keyless.key = None
    settings = Settings(providers={"up": keyless, "keyed": provider(fake.url, "messages")},
                        default_provider="up")
    url = await start_proxy(settings)
    import aiohttp

    async with aiohttp.ClientSession() as s:
        async with s.post(url + "/v1/chat/completions", json=chat_body(),
                          headers={"Authorization": f"Bearer {local_key}"}) as r:
            assert r.status == 200
        assert fake.last["headers"]["Authorization"] == "Basic dXNlcjpwYXNz"  # user:pass
        async with s.post(url + "/v1/chat/completions",
                          json=chat_body(model="keyed/up-model"),
                          headers={"Authorization": f"Bearer {local_key}"}) as r:
            assert r.status == 200, await r.text()
        # the Messages provider has a key: x-api-key, and netrc's Basic auth stays out
        assert fake.last["headers"]["x-api-key"] == UPSTREAM_KEY
        assert "Authorization" not in fake.last["headers"]


async def test_upstream_cookies_are_not_replayed(aiohttp_server, start_proxy, local_key):
    fake = FakeUpstream()

    @web.middleware
    async def set_cookie(request, handler):
        response = await handler(request)
        response.set_cookie("session", "from-upstream")
        return response

    fake.app.middlewares.append(set_cookie)
    server = await aiohttp_server(fake.app)
    fake.url = str(server.make_url("")).rstrip("/")
    url = await start_proxy(Settings(providers={"up": provider(fake.url, "chat")},
                                     default_provider="up"))
    import aiohttp

    async with aiohttp.ClientSession() as s:
        for _ in range(2):
            async with s.post(url + "/v1/chat/completions", json=chat_body(),
                              headers={"Authorization": f"Bearer {local_key}"}) as r:
                assert r.status == 200
    assert "Cookie" not in fake.last["headers"]
