"""The proxy serves the Gemini API, driven by the official google-genai SDK.

Against the demo provider (no provider saved), and against fake upstreams speaking only
Chat Completions or only Messages: the Gemini client is always translated.
"""

from __future__ import annotations

import aiohttp
import pytest
from google import genai
from google.genai import errors, types

from tests.proxy.conftest import one_provider
from tests.proxy.fake_upstream import TOOL_ARGS

TOOL = types.Tool(function_declarations=[types.FunctionDeclaration(
    name="shell", description="run a shell command",
    parameters_json_schema={"type": "object", "properties": {"cmd": {"type": "string"}},
                            "required": ["cmd"]})])


def client(url: str, key: str, version: str | None = None) -> genai.Client:
    """google-genai asks /v1/… by default; Gemini CLI's SDK asks /v1beta/…."""
    return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=url,
                                                                    api_version=version))


@pytest.mark.parametrize("version", [None, "v1beta"])
async def test_demo_generate_stream_count_and_list(start_proxy, local_key, version):
    url = await start_proxy()
    gemini = client(url, local_key, version).aio
    answer = await gemini.models.generate_content(model="demo", contents="hello there")
    assert answer.text and answer.candidates[0].finish_reason == types.FinishReason.STOP
    assert answer.usage_metadata.prompt_token_count > 0

    chunks = [c async for c in await gemini.models.generate_content_stream(
        model="demo", contents="hello there")]
    assert "".join(c.text or "" for c in chunks) == answer.text
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP

    short = await gemini.models.count_tokens(model="demo", contents="hi")
    longer = await gemini.models.count_tokens(model="models/demo", contents="hi " * 400)
    assert 0 < short.total_tokens < longer.total_tokens

    names = [m.name async for m in await gemini.models.list()]
    assert "models/demo" in names


@pytest.mark.parametrize("protocol", ["chat", "messages"])
@pytest.mark.parametrize("stream", [False, True])
async def test_translated_text_and_function_call(start_proxy, local_key, fake, protocol,
                                                 stream):
    url = await start_proxy(one_provider(fake, protocol))
    gemini = client(url, local_key).aio

    async def ask(**config):
        kw = {"model": "up-model", "contents": "say hi",
              "config": types.GenerateContentConfig(**config)}
        if not stream:
            return [await gemini.models.generate_content(**kw)]
        return [c async for c in await gemini.models.generate_content_stream(**kw)]

    answers = await ask()
    assert "".join(a.text or "" for a in answers) == f"{protocol} says: say hi"
    assert fake.last["protocol"] == protocol and fake.last["body"]["model"] == "up-model"

    answers = await ask(tools=[TOOL], automatic_function_calling=types.
                        AutomaticFunctionCallingConfig(disable=True))
    calls = [c for a in answers for c in (a.function_calls or [])]
    assert [(c.name, c.args) for c in calls] == [("shell", TOOL_ARGS)]


async def test_wrong_key_is_a_401_client_error(start_proxy):
    url = await start_proxy()
    gemini = client(url, "bc-local-wrong").aio
    with pytest.raises(errors.ClientError) as caught:
        await gemini.models.generate_content(model="demo", contents="hi")
    assert caught.value.code == 401 and caught.value.status == "UNAUTHENTICATED"
    assert "bc-local-wrong" not in str(caught.value)


async def test_key_in_query_and_errors_in_gemini_shape(start_proxy, local_key):
    url = await start_proxy()
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    async with aiohttp.ClientSession() as http:
        # the key as ?key=, the model URL-escaped with its models/ prefix
        async with http.post(f"{url}/v1/models/models%2Fdemo:generateContent?key={local_key}",
                             json=body) as r:
            assert r.status == 200 and (await r.json())["candidates"]
        async with http.post(f"{url}/v1beta/models/demo:generateContent", json=body,
                             headers={"Authorization": f"Bearer {local_key}"}) as r:
            assert r.status == 200
        for method, path, status in [
                ("POST", "/v1beta/nothing/here", 404),
                ("POST", "/v1beta/models/demo:explode", 404),
                ("PUT", "/v1beta/models/demo:generateContent", 405),
                ("POST", "/v1beta/models/demo:streamGenerateContent", 400),  # no alt=sse
                ("POST", "/v1beta/models/demo:generateContent", 401)]:
            headers = {} if status == 401 else {"x-goog-api-key": local_key}
            async with http.request(method, url + path, json=body, headers=headers) as r:
                error = (await r.json())["error"]
                assert r.status == status and error["code"] == status, path
                assert isinstance(error["status"], str) and error["message"], path
        async with http.post(f"{url}/v1beta/models/demo:generateContent", data=b"{nope",
                             headers={"x-goog-api-key": local_key}) as r:
            error = (await r.json())["error"]
            assert r.status == 400 and error["status"] == "INVALID_ARGUMENT"
            assert "JSON" in error["message"]
        async with http.post(f"{url}/v1beta/models/demo:streamGenerateContent",
                             json=body, headers={"x-goog-api-key": local_key}) as r:
            assert "alt=sse" in (await r.json())["error"]["message"]


async def test_a_slow_stream_is_kept_alive_with_blank_lines(start_proxy, local_key, fake):
    fake.plan = [("slow", 0.6), ("slow", 0.6)]
    url = await start_proxy(one_provider(fake, "chat", keepalive=0.05))
    async with aiohttp.ClientSession() as http, http.post(
            f"{url}/v1beta/models/up-model:streamGenerateContent?alt=sse",
            json={"contents": [{"parts": [{"text": "hi"}]}]},
            headers={"x-goog-api-key": local_key}) as r:
        raw = await r.read()
    assert r.status == 200 and r.content_type == "text/event-stream"
    assert b": keep-alive" not in raw  # no SSE comment pings
    assert b"\r\n\r\n\r\n\r\n" in raw  # a blank-line keep-alive after a whole event
    # and google-genai, which fails on an SSE comment, reads it to the end
    chunks = [c async for c in await client(url, local_key).aio.models.
              generate_content_stream(model="up-model", contents="hi")]
    assert "".join(c.text or "" for c in chunks) == "chat says: hi"


@pytest.mark.parametrize("version", [None, "v1beta"])
async def test_model_list_and_get_for_gemini_clients(start_proxy, local_key, fake, version):
    url = await start_proxy(one_provider(fake, "messages"))
    gemini = client(url, local_key, version).aio
    assert [m.name async for m in await gemini.models.list()] == ["models/up-model"]
    model = await gemini.models.get(model="up-model")
    assert model.name == "models/up-model" and "generateContent" in model.supported_actions
    async with aiohttp.ClientSession() as http:
        # /v1/models is shared with OpenAI clients: a Gemini key header or ?key= picks the shape
        async with http.get(f"{url}/v1/models?key={local_key}") as r:
            assert (await r.json())["models"][0]["name"] == "models/up-model"
        async with http.get(f"{url}/v1/models", headers={"x-goog-api-key": "wrong"}) as r:
            assert r.status == 401 and (await r.json())["error"]["status"] == "UNAUTHENTICATED"
        async with http.get(f"{url}/v1beta/models/up-model:generateContent",
                            headers={"x-goog-api-key": local_key}) as r:
            assert r.status == 405 and (await r.json())["error"]["code"] == 405


async def test_a_key_sent_in_the_query_never_reaches_the_access_log(
        aiohttp_server, local_key, caplog):
    import logging

    from byecore_cli.config.models import Settings
    from byecore_cli.proxy.app import AccessLog, create_app

    server = await aiohttp_server(create_app(Settings()), access_log_class=AccessLog,
                                  access_log=logging.getLogger("byecore.access"))
    url = str(server.make_url("")).rstrip("/")
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    with caplog.at_level(logging.INFO, logger="byecore.access"):
        async with aiohttp.ClientSession() as http, http.post(
                f"{url}/v1beta/models/demo:streamGenerateContent?alt=sse&key={local_key}",
                json=body) as r:
            assert r.status == 200
            await r.read()
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "byecore.access"]
    assert any("alt=sse&key=[...]" in line for line in lines), lines
    assert local_key not in caplog.text
