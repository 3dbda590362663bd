"""A provider's quirks shape what the proxy sends it, and nothing else."""

from __future__ import annotations

import aiohttp

from byecore_cli.config.models import Settings
from tests.proxy.conftest import provider

BODY = {"model": "up-model", "max_tokens": 100, "system": "You are terse.",
        "messages": [{"role": "user", "content": "hi"},
                     {"role": "system", "content": "Agents: general-purpose."},
                     {"role": "assistant", "content": "hello"},
                     {"role": "user", "content": "bye"}]}


async def _send(url: str, key: str) -> dict:
    async with aiohttp.ClientSession() as s, s.post(
            url + "/v1/messages", json=BODY, headers={"x-api-key": key}) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def test_system_first_reaches_the_upstream(fake, start_proxy, local_key):
    strict = provider(fake.url, "chat")
    strict.quirks = ["system_first"]
    url = await start_proxy(Settings(providers={"up": strict}, default_provider="up"))
    await _send(url, local_key)
    sent = fake.last["body"]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[0]["content"] == "You are terse."
    assert "Agents: general-purpose." in str(sent[1]["content"])


async def test_without_the_quirk_the_system_message_stays_in_place(fake, start_proxy,
                                                                    local_key):
    url = await start_proxy(Settings(providers={"up": provider(fake.url, "chat")},
                                     default_provider="up"))
    await _send(url, local_key)
    roles = [m["role"] for m in fake.last["body"]["messages"]]
    assert roles == ["system", "user", "system", "assistant", "user"]
