"""Fixtures: a fake upstream and the proxy, both real servers on 127.0.0.1 port 0."""

from __future__ import annotations

import pytest

from byecore_cli.config.models import Provider, ProxySettings, Settings
from byecore_cli.proxy.app import create_app
from tests.proxy.fake_upstream import FakeUpstream

UPSTREAM_KEY = "sk-upstream-secret-0123456789abcdef"


@pytest.fixture
def local_key():
    from byecore_cli.clients.local_keys import get_or_create

    return get_or_create("tests")


@pytest.fixture
async def fake(aiohttp_server):
    upstream = FakeUpstream()
    server = await aiohttp_server(upstream.app)
    upstream.url = str(server.make_url("")).rstrip("/")
    return upstream


def provider(url: str, *protocols: str, models=("up-model",), key=UPSTREAM_KEY) -> Provider:
    return Provider(base_url=url, protocols=list(protocols), key=key, models=list(models))


@pytest.fixture
def start_proxy(aiohttp_server, local_key):
    """``await start_proxy(settings, open_access=False)`` → the proxy's root URL."""

    async def start(settings: Settings | None = None, *, open_access: bool = False) -> str:
        server = await aiohttp_server(create_app(settings or Settings(),
                                                 open_access=open_access))
        return str(server.make_url("")).rstrip("/")

    return start


def one_provider(fake: FakeUpstream, *protocols: str, **proxy) -> Settings:
    return Settings(providers={"up": provider(fake.url, *protocols)}, default_provider="up",
                    proxy=ProxySettings(**proxy))


@pytest.fixture
async def sdk(local_key):
    """``sdk.openai(url)`` / ``sdk.anthropic(url, **kw)``: SDK clients closed after the test."""
    from anthropic import AsyncAnthropic
    from openai import AsyncOpenAI

    made = []

    class Factory:
        def openai(self, url: str, key: str | None = None, **kw) -> AsyncOpenAI:
            client = AsyncOpenAI(base_url=url + kw.pop("suffix", "/v1"),
                                 api_key=key or local_key, max_retries=0, **kw)
            made.append(client)
            return client

        def anthropic(self, url: str, **kw) -> AsyncAnthropic:
            if "auth_token" not in kw:
                kw.setdefault("api_key", local_key)
            client = AsyncAnthropic(base_url=url, max_retries=0, **kw)
            made.append(client)
            return client

    yield Factory()
    for client in made:
        await client.close()
