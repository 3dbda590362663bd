"""A Gemini upstream that ends its stream with an error reaches the client as that error.

Google ends a failing stream with ``data: {"error": …}``; some gateways write the error
object bare, without ``data:``, even pretty-printed over several lines. Either way the
client (here Claude Code's protocol, through the anthropic SDK) gets an error event
with the upstream's own kind and message, not "the stream ended early".
"""

from __future__ import annotations

import json

import anthropic
import pytest
from aiohttp import web

from byecore_cli.config.models import Settings
from tests.proxy.conftest import UPSTREAM_KEY, provider

CHUNK = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]},
                         "index": 0}], "modelVersion": "gemini-2.5-pro"}
ERROR = {"error": {"code": 429, "message": "Resource has been exhausted (quota).",
                   "status": "RESOURCE_EXHAUSTED"}}
ENDINGS = {
    "data line": f"data: {json.dumps(ERROR)}\r\n\r\n",
    "bare line": json.dumps(ERROR) + "\n\n",
    "bare, pretty-printed": json.dumps(ERROR, indent=2) + "\n\n",
}


def _gemini_vendor(ending: str) -> web.Application:
    async def generate(request: web.Request) -> web.StreamResponse:
        assert request.headers["x-goog-api-key"] == UPSTREAM_KEY
        assert request.match_info["target"] == "gemini-2.5-pro:streamGenerateContent"
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(f"data: {json.dumps(CHUNK)}\r\n\r\n".encode())
        await response.write(ending.encode())
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/v1beta/models/{target}", generate)
    return app


@pytest.mark.parametrize("ending", sorted(ENDINGS))
async def test_an_error_ending_a_gemini_stream_reaches_a_messages_client_as_itself(
        aiohttp_server, start_proxy, sdk, ending):
    vendor = await aiohttp_server(_gemini_vendor(ENDINGS[ending]))
    settings = Settings(providers={"g": provider(str(vendor.make_url("")).rstrip("/"),
                                                 "gemini", models=("gemini-2.5-pro",))},
                        default_provider="g")
    url = await start_proxy(settings)
    client = sdk.anthropic(url)
    texts = []
    with pytest.raises(anthropic.APIStatusError) as failed:
        async with client.messages.stream(model="gemini-2.5-pro", max_tokens=50, messages=[
                {"role": "user", "content": "hi"}]) as stream:
            async for text in stream.text_stream:
                texts.append(text)
    assert texts == ["Hel"]  # what came before the error reached the client
    body = failed.value.body
    assert body["error"]["type"] == "rate_limit_error", body
    assert "Resource has been exhausted" in body["error"]["message"]
    assert UPSTREAM_KEY not in json.dumps(body)
