"""An upstream key echoed inside a streamed error event never reaches the client.

Some gateways quote the key they were sent in an error ("Incorrect API key provided:
sk-..."). Non-stream errors were always masked; these are the stream's error events, on
every pair of client protocol and upstream protocol (pass-through and translated), when
the error is the stream's first event and when it comes after others.
"""

from __future__ import annotations

import aiohttp
import pytest
from google.genai import errors

from byecore_cli.codecs import PROTOCOLS
from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.providers.keys import mask_key
from tests.proxy import shapes
from tests.proxy.conftest import UPSTREAM_KEY, one_provider
from tests.proxy.shapes import gemini_sdk_fixture  # noqa: F401 (a fixture)
from tests.proxy.test_translation import prompt_usage_log_fixture  # noqa: F401 (a fixture)


@pytest.mark.parametrize("where", ["first", "mid"])
@pytest.mark.parametrize("upstream", PROTOCOLS)
@pytest.mark.parametrize("client", PROTOCOLS)
async def test_a_key_echoed_in_a_stream_error_is_masked(fake, start_proxy, local_key,
                                                       client, upstream, where):
    fake.plan = [("echo_key", where)]
    url = await start_proxy(one_provider(fake, upstream))
    async with aiohttp.ClientSession() as session, session.post(
            url + shapes.client_path(client, stream=True),
            json=shapes.request(client, stream=True),
            headers={"Authorization": f"Bearer {local_key}"}) as resp:
        raw = await resp.read()
    assert fake.requests and fake.last["protocol"] == upstream  # the echo really happened
    assert fake.last["stream"]
    assert UPSTREAM_KEY.encode() not in raw
    assert UPSTREAM_KEY[8:24].encode() not in raw  # not even a good part of it
    decoder = SSEDecoder()
    events = decoder.feed(raw) + decoder.flush()
    # a Gemini stream ends with a bare JSON error line, not an event: the raw text has all
    text = " ".join(e.data for e in events) + " " + raw.decode()
    # the client is told what happened, with the key masked as byecore shows keys
    assert "Incorrect API key provided" in text and mask_key(UPSTREAM_KEY) in text


@pytest.mark.parametrize("upstream", PROTOCOLS)
async def test_google_genai_raises_the_masked_error(fake, start_proxy, gemini_sdk, upstream):
    """What the Gemini client itself makes of it: an APIError, the key masked, and the
    kind of error the upstream reported."""
    fake.plan = [("echo_key", "mid")]
    gemini = gemini_sdk(await start_proxy(one_provider(fake, upstream))).client
    with pytest.raises(errors.APIError) as raised:
        async for _ in await gemini.models.generate_content_stream(model="up-model",
                                                                   contents="hi"):
            pass
    assert fake.last["protocol"] == upstream
    assert mask_key(UPSTREAM_KEY) in raised.value.message
    assert UPSTREAM_KEY[8:24] not in str(raised.value)
    assert (raised.value.code, raised.value.status) == (401, "UNAUTHENTICATED")
