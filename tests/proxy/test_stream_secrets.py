"""An upstream key echoed inside a streamed error event never reaches the client.

Some gateways quote the key they were sent in an error ("Incorrect API key provided:
sk-..."). Non-stream errors were always masked; these are the stream's error events, on
every pair of client protocol and upstream protocol (pass-through and translated), when
the error is the stream's first event and when it comes after others.
"""

from __future__ import annotations

import aiohttp
import pytest

from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.providers.keys import mask_key
from tests.proxy.conftest import UPSTREAM_KEY, one_provider

PROTOCOLS = ("chat", "responses", "messages")
PATHS = {"chat": "/v1/chat/completions", "responses": "/v1/responses",
         "messages": "/v1/messages"}


def request(protocol: str) -> dict:
    if protocol == "responses":
        return {"model": "up-model", "stream": True, "input": "hi"}
    body = {"model": "up-model", "stream": True,
            "messages": [{"role": "user", "content": "hi"}]}
    if protocol == "messages":
        body["max_tokens"] = 20
    return body


@pytest.mark.parametrize("where", ["first", "mid"])
@pytest.mark.parametrize("upstream", PROTOCOLS)
@pytest.mark.parametrize("client", PROTOCOLS)
async def test_a_key_echoed_in_a_stream_error_is_masked(fake, start_proxy, local_key,
                                                       client, upstream, where):
    fake.plan = [("echo_key", where)]
    url = await start_proxy(one_provider(fake, upstream))
    async with aiohttp.ClientSession() as session, session.post(
            url + PATHS[client], json=request(client),
            headers={"Authorization": f"Bearer {local_key}"}) as resp:
        raw = await resp.read()
    assert fake.requests and fake.last["protocol"] == upstream  # the echo really happened
    assert UPSTREAM_KEY.encode() not in raw
    assert UPSTREAM_KEY[8:24].encode() not in raw  # not even a good part of it
    decoder = SSEDecoder()
    events = decoder.feed(raw) + decoder.flush()
    text = " ".join(e.data for e in events) if events else raw.decode()
    # the client is told what happened, with the key masked as byecore shows keys
    assert "Incorrect API key provided" in text and mask_key(UPSTREAM_KEY) in text
