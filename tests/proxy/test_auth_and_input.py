"""Local keys, where the proxy may listen, and bad input: always the client's protocol."""

from __future__ import annotations

import asyncio
import collections
import copy
import json
import random

import aiohttp
import pytest

from byecore_cli.codecs import PROTOCOLS
from byecore_cli.config.models import ProxySettings, Settings
from byecore_cli.errors import UsageError
from byecore_cli.proxy.auth import check_bind
from tests.proxy import shapes
from tests.proxy.conftest import one_provider

# Each protocol's ways of sending a key that is not byecore's, beside the shared ones.
WRONG_KEYS = {"gemini": ({"x-goog-api-key": "bc-local-wrong"},)}


def error_shape(protocol: str, body: dict) -> str:
    """The error type, read the way that protocol's clients read it (Gemini's ``status``)."""
    assert shapes.shape_of(body) == {"messages": "anthropic", "gemini": "gemini"}.get(
        protocol, "openai"), body
    return body["error"]["status" if protocol == "gemini" else "type"]


def minimal(protocol: str, model: str = "up-model") -> dict:
    return shapes.minimal(protocol, model)  # the fake upstream's model by default


async def post(url: str, protocol: str, body, headers=None, raw: bytes | None = None):
    async with aiohttp.ClientSession() as session, session.post(
            url + shapes.client_path(protocol), data=raw if raw is not None else json.dumps(body),
            headers={"Content-Type": "application/json", **(headers or {})}) as resp:
        return resp.status, await resp.json(content_type=None), dict(resp.headers)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_missing_and_wrong_keys_get_401_in_the_clients_protocol(
        fake, start_proxy, local_key, protocol):
    url = await start_proxy(one_provider(fake, "chat"))
    for headers in ({}, {"Authorization": "Bearer bc-local-wrong"},
                    {"x-api-key": "bc-local-wrong"}, {"Authorization": local_key},
                    *WRONG_KEYS.get(protocol, ())):
        status, body, _ = await post(url, protocol, minimal(protocol), headers)
        assert status == 401
        kind = error_shape(protocol, body).lower()
        assert "authenticat" in kind or "invalid" in kind
        assert local_key not in json.dumps(body)
    assert fake.requests == []


@pytest.mark.parametrize("header", ["Authorization", "x-api-key"])
async def test_each_header_form_is_accepted(fake, start_proxy, local_key, header):
    url = await start_proxy(one_provider(fake, "messages"))
    value = f"Bearer {local_key}" if header == "Authorization" else local_key
    status, body, _ = await post(url, "messages", minimal("messages"), {header: value})
    assert status == 200 and body["content"][0]["text"] == "messages says: hi"


async def test_open_needs_no_key_on_loopback(fake, start_proxy):
    url = await start_proxy(one_provider(fake, "chat"), open_access=True)
    status, body, _ = await post(url, "chat", minimal("chat"))
    assert status == 200 and body["choices"][0]["message"]["content"] == "chat says: hi"


def test_bind_rules():
    check_bind("127.0.0.1", True, {})
    check_bind("::1", False, {})
    check_bind("localhost", True, {})
    with pytest.raises(UsageError, match="loopback"):
        check_bind("0.0.0.0", True, {"a": "bc-local-x"})
    with pytest.raises(UsageError, match="without local access keys"):
        check_bind("192.168.1.5", False, {})
    check_bind("0.0.0.0", False, {"a": "bc-local-x"})


def test_cli_refuses_open_on_a_public_address(cli):
    result = cli("proxy", "--host", "0.0.0.0", "--open")
    assert result.exit_code == 2 and "loopback" in result.stderr


async def test_a_key_made_while_running_works_without_a_restart(fake, start_proxy, local_key):
    from byecore_cli.clients.local_keys import get_or_create

    url = await start_proxy(one_provider(fake, "chat"))
    new = get_or_create("later-client")
    # The proxy looks at the keys file at most once a second: poll until it has.
    for _ in range(50):
        status, _, _ = await post(url, "chat", minimal("chat"),
                                  {"Authorization": f"Bearer {new}"})
        if status == 200:
            break
        await asyncio.sleep(0.1)
    assert status == 200


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_bad_bodies_are_400_never_500(fake, start_proxy, local_key, protocol):
    url = await start_proxy(one_provider(fake, *PROTOCOLS))
    auth = {"Authorization": f"Bearer {local_key}"}
    cases = [b"", b"{", b"[]", b"null", b'"text"', b"{\"model\": 5}", b'{"model": ""}',
             json.dumps({**minimal(protocol), "stream": "yes"}).encode(),
             b"\xff\xfe", b'{"model": "up-model"}']
    for raw in cases:
        status, body, _ = await post(url, protocol, None, auth, raw=raw)
        assert 400 <= status < 500, (raw, status, body)
        assert error_shape(protocol, body)


async def test_oversize_body_is_413(fake, start_proxy, local_key):
    settings = one_provider(fake, "messages", max_body_mb=0.01)
    url = await start_proxy(settings)
    body = minimal("messages")
    body["messages"][0]["content"] = "x" * 20000
    status, body, _ = await post(url, "messages", body, {"x-api-key": local_key})
    assert status == 413 and body["error"]["type"] == "request_too_large"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_thousands_of_mangled_bodies_get_no_5xx(fake, start_proxy, local_key, protocol):
    """Random mutations of a valid request: wrong types, missing and junk fields."""
    url = await start_proxy(Settings(proxy=ProxySettings()))  # the demo provider decodes all
    rng = random.Random(1234)
    junk = [None, 0, -1, 1.5, "", "x", [], {}, [1], {"a": 1}, True, [{"type": "bogus"}],
            [{"role": "user"}], [{"role": "user", "content": 5}], {"type": "image"}]
    base = minimal(protocol, "demo")
    base.update({"tools": [{"functionDeclarations": [{"name": "t"}]}] if protocol == "gemini"
                 else [{"type": "function", "name": "t", "function": {"name": "t"}}]})
    answered = collections.Counter()
    async with aiohttp.ClientSession() as session:
        for _ in range(1500 if protocol == "messages" else 700):
            body = json.loads(json.dumps(base))
            for _ in range(rng.randint(1, 3)):
                target = body
                keys = list(body) + ["messages", "input", "system", "tool_choice",
                                     "max_tokens", "thinking", "reasoning", "stream",
                                     "contents", "systemInstruction", "generationConfig",
                                     "toolConfig"]
                key = rng.choice(keys)
                if isinstance(target.get(key), list) and target[key] and rng.random() < .5:
                    target[key][0] = copy.deepcopy(rng.choice(junk))
                else:
                    target[key] = copy.deepcopy(rng.choice(junk))
            async with session.post(url + shapes.client_path(protocol, "demo"), json=body,
                                    headers={"x-api-key": local_key}) as resp:
                text = await resp.text()
                assert resp.status < 500, (body, resp.status, text)
                answered[resp.status] += 1
    assert answered[200] > 100, answered  # the mutations still reach the codecs' insides
