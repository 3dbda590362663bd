"""An upstream's error reaches every client in its own protocol, over every upstream
protocol of the registry: the status its SDK raises for, and the upstream's words.

The fake upstream answers in its protocol's error shape (Google's
``{"error": {"code", "message", "status"}}`` for Gemini); the client's official SDK must
raise its error for that status (openai/anthropic ``APIStatusError``, google-genai
``APIError``), and a Gemini client's error body is Google's shape, checked by
``shapes.GeminiSDK``.
"""

from __future__ import annotations

import anthropic
import openai
import pytest
from google.genai import errors

from byecore_cli.codecs import PROTOCOLS
from tests.proxy.conftest import one_provider
from tests.proxy.shapes import gemini_sdk_fixture  # noqa: F401 (a fixture)
from tests.proxy.test_translation import (  # noqa: F401 (fixtures)
    PAIRS,
    clients_fixture,
    pairs,
    prompt_usage_log_fixture,
)

RAISED = {"chat": openai.APIStatusError, "responses": openai.APIStatusError,
          "messages": anthropic.APIStatusError, "gemini": errors.APIError}
# Documented in messages/errors.py: overloaded is Anthropic's 529 (what Claude Code retries).
STATUS = {("messages", 503): 529}


async def ask(client, inbound: str, stream: bool) -> None:
    if inbound == "gemini":
        if stream:
            async for _ in await client.models.generate_content_stream(model="up-model",
                                                                       contents="hi"):
                pass
        else:
            await client.models.generate_content(model="up-model", contents="hi")
    elif inbound == "chat":
        answer = await client.chat.completions.create(
            model="up-model", messages=[{"role": "user", "content": "hi"}], stream=stream)
        if stream:
            async for _ in answer:
                pass
    elif inbound == "responses":
        answer = await client.responses.create(model="up-model", input="hi", stream=stream)
        if stream:
            async for _ in answer:
                pass
    else:
        answer = await client.messages.create(model="up-model", max_tokens=10, stream=stream,
                                              messages=[{"role": "user", "content": "hi"}])
        if stream:
            async for _ in answer:
                pass


def status_of(error: Exception) -> int:
    return error.code if isinstance(error, errors.APIError) else error.status_code


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("status", [400, 429, 503])
@pytest.mark.parametrize(("inbound", "upstream"), pairs(PAIRS))
async def test_an_upstream_error_is_the_clients_error(fake, start_proxy, clients, inbound,
                                                      upstream, status, stream):
    fake.plan = [("status", status, {"Retry-After": "0"})]
    client = clients(inbound, await start_proxy(one_provider(fake, upstream)))
    with pytest.raises(RAISED[inbound]) as raised:
        await ask(client, inbound, stream)
    assert fake.last["protocol"] == upstream and len(fake.requests) == 1
    got = status_of(raised.value)
    if inbound == upstream or status < 500:  # relayed as it came, or a client error: exact
        assert got == (status if inbound == upstream else STATUS.get((inbound, status),
                                                                     status))
    else:  # a server error stays one (which 5xx may follow the client protocol's table)
        assert 500 <= got < 600 and got == STATUS.get((inbound, status), got)
    assert f"fake {upstream} upstream error {status}" in str(raised.value)


def test_every_protocol_has_its_sdk_error():
    assert set(RAISED) == set(PROTOCOLS)
