"""A provider's quirks shape what the proxy sends it, and nothing else."""

from __future__ import annotations

import json

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


async def test_a_reshaping_quirk_takes_the_provider_off_the_byte_pass_through(
        fake, start_proxy, local_key):
    """Claude Code on a Messages-speaking local server (LM Studio's preset lists
    system_first): same protocol, but the fix must still apply."""
    strict = provider(fake.url, "messages", "chat")
    strict.quirks = ["system_first"]
    url = await start_proxy(Settings(providers={"up": strict}, default_provider="up"))
    answer = await _send(url, local_key)
    assert answer["content"][0]["text"] == "messages says: bye"
    sent = fake.last
    assert sent["path"] == "/v1/messages"
    assert sent["body"]["system"] == [{"type": "text", "text": "You are terse."}]
    assert [m["role"] for m in sent["body"]["messages"]] == ["user", "assistant", "user"]
    assert "Agents: general-purpose." in json.dumps(sent["body"]["messages"][0])


async def test_no_stream_options_alone_keeps_the_byte_pass_through(fake, start_proxy,
                                                                   local_key):
    relayed = provider(fake.url, "messages")
    relayed.quirks = ["no_stream_options"]
    url = await start_proxy(Settings(providers={"up": relayed}, default_provider="up"))
    await _send(url, local_key)
    assert fake.last["raw"] == json.dumps(BODY).encode()  # aiohttp's json= encoding
