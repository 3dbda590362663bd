"""Same protocol in and out: bytes relayed, only the model and the auth rewritten (for
Gemini, whose model is in the path, only the path and the auth)."""

from __future__ import annotations

import json
import sqlite3

import aiohttp
import pytest
from google.genai import types

from byecore_cli.codecs import PROTOCOLS
from byecore_cli.config.models import Settings
from byecore_cli.paths import Paths
from byecore_cli.proxy.app import STATE, create_app
from tests.codecs.gemini_helpers import sse_payloads
from tests.proxy.conftest import UPSTREAM_KEY, one_provider, provider
from tests.proxy.fake_upstream import THOUGHT_SIGNATURE
from tests.proxy.shapes import gemini_sdk_fixture  # noqa: F401 (a fixture)
from tests.proxy.test_translation import gemini_parts, gemini_tools


def usage_rows() -> list[dict]:
    db = sqlite3.connect(Paths.current().usage_db)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM requests ORDER BY id")]
    finally:
        db.close()


def flush_usage(app) -> None:
    assert app[STATE].usage.flush()


def assert_upstream_auth(seen: dict, local_key: str, protocol: str) -> None:
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert local_key not in json.dumps(headers) and local_key not in seen["path"]
    if protocol == "messages":
        assert headers["x-api-key"] == UPSTREAM_KEY and "authorization" not in headers
    elif protocol == "gemini":
        assert headers["x-goog-api-key"] == UPSTREAM_KEY
        assert "authorization" not in headers and "x-api-key" not in headers
    else:
        assert headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
        assert "x-api-key" not in headers


async def test_chat_non_stream_relays_the_body_unchanged(fake, start_proxy, local_key, sdk):
    url = await start_proxy(one_provider(fake, "chat"))
    client = sdk.openai(url)
    answer = await client.chat.completions.create(
        model="up-model", messages=[{"role": "user", "content": "hi there"}])
    assert answer.choices[0].message.content == "chat says: hi there"
    assert answer.usage.prompt_tokens == 11
    seen = fake.last
    assert seen["path"] == "/v1/chat/completions"
    assert seen["body"]["messages"] == [{"role": "user", "content": "hi there"}]
    assert_upstream_auth(seen, local_key, "chat")


async def test_chat_stream_and_usage_log(fake, start_proxy, local_key, aiohttp_server, sdk):
    url = await start_proxy(one_provider(fake, "chat"))
    client = sdk.openai(url)
    stream = await client.chat.completions.create(
        model="up-model", messages=[{"role": "user", "content": "stream me"}], stream=True,
        stream_options={"include_usage": True})
    text, usage = "", None
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        usage = chunk.usage or usage
    assert text == "chat says: stream me"
    assert usage.completion_tokens == 5
    assert fake.last["headers"]["Accept"] == "text/event-stream"


async def test_alias_rewrites_only_the_model_bytes(fake, start_proxy, local_key):
    settings = one_provider(fake, "chat", aliases={"gpt-*": "up/real-model"})
    url = await start_proxy(settings)
    raw = (b'{"model": "gpt-5.5", "messages": [{"role": "user", "content": "x\\u00e9"}],'
           b'  "temperature": 1.0, "extra": {"model": "gpt-5.5-nested"}}')
    async with aiohttp.ClientSession() as session, session.post(
            url + "/v1/chat/completions", data=raw,
            headers={"Authorization": f"Bearer {local_key}",
                     "Content-Type": "application/json"}) as resp:
        assert resp.status == 200
    assert fake.last["raw"] == raw.replace(b'"gpt-5.5"', b'"real-model"')


async def test_messages_stream_with_the_anthropic_helper(fake, start_proxy, local_key, sdk):
    url = await start_proxy(one_provider(fake, "messages"))
    client = sdk.anthropic(url, default_headers={"anthropic-beta": "claude-code-20250219",
                                                 "anthropic-version": "2099-01-01"})
    async with client.messages.stream(
            model="up-model", max_tokens=100,
            messages=[{"role": "user", "content": "hello claude"}]) as stream:
        text = await stream.get_final_text()
        final = await stream.get_final_message()
    assert text == "messages says: hello claude"
    assert final.usage.output_tokens == 5 and final.usage.cache_read_input_tokens == 3
    seen = fake.last
    assert seen["path"] == "/v1/messages"
    assert seen["headers"]["anthropic-beta"] == "claude-code-20250219"
    assert seen["headers"]["anthropic-version"] == "2099-01-01"  # the client's, not ours
    assert_upstream_auth(seen, local_key, "messages")


async def test_messages_with_bearer_and_query_string(fake, start_proxy, local_key, sdk):
    url = await start_proxy(one_provider(fake, "messages"))
    client = sdk.anthropic(url, auth_token=local_key)
    message = await client.messages.create(
        model="up-model", max_tokens=50, messages=[{"role": "user", "content": "q"}],
        extra_query={"beta": "true"})
    assert message.content[0].text == "messages says: q"
    assert_upstream_auth(fake.last, local_key, "messages")


async def test_responses_stream_helper(fake, start_proxy, local_key, sdk):
    url = await start_proxy(one_provider(fake, "responses"))
    client = sdk.openai(url)
    async with client.responses.stream(model="up-model", input="codex here") as stream:
        async for _ in stream:
            pass
        final = await stream.get_final_response()
    assert final.output_text == "responses says: codex here"
    assert final.usage.input_tokens == 11
    assert_upstream_auth(fake.last, local_key, "responses")


async def test_forgiving_paths(fake, start_proxy, local_key, sdk):
    url = await start_proxy(one_provider(fake, "chat"))
    for base in (url, url + "/v1/v1"):
        client = sdk.openai(base, suffix="")
        answer = await client.chat.completions.create(
            model="up-model", messages=[{"role": "user", "content": "p"}])
        assert answer.choices[0].message.content == "chat says: p"


async def test_client_only_headers_stay_home(fake, start_proxy, local_key):
    url = await start_proxy(one_provider(fake, "chat"))
    async with aiohttp.ClientSession() as session, session.post(
            url + "/v1/chat/completions",
            json={"model": "up-model", "messages": [{"role": "user", "content": "h"}]},
            headers={"Authorization": f"Bearer {local_key}", "anthropic-beta": "x",
                     "Connection": "keep-alive", "Cookie": "a=b", "x-custom": "kept"}) as r:
        assert r.status == 200
    headers = {k.lower() for k in fake.last["headers"]}
    assert "anthropic-beta" not in headers and "cookie" not in headers
    assert "x-custom" in headers


async def test_usage_is_logged_for_each_protocol(fake, aiohttp_server, local_key, sdk,
                                                 gemini_sdk):
    settings = Settings(providers={
        "c": provider(fake.url, "chat", models=("m-chat",)),
        "r": provider(fake.url, "responses", models=("m-resp",)),
        "a": provider(fake.url, "messages", models=("m-msg",)),
        "g": provider(fake.url, "gemini", models=("m-gem",))}, default_provider="c")
    app = create_app(settings)
    server = await aiohttp_server(app)
    url = str(server.make_url("")).rstrip("/")
    oa = sdk.openai(url)
    await oa.chat.completions.create(model="m-chat", messages=[{"role": "user",
                                                                 "content": "1"}])
    stream = await oa.chat.completions.create(
        model="m-chat", messages=[{"role": "user", "content": "2"}], stream=True,
        stream_options={"include_usage": True})
    async for _ in stream:
        pass
    await oa.responses.create(model="m-resp", input="3")
    async with oa.responses.stream(model="m-resp", input="4") as s:
        await s.get_final_response()
    an = sdk.anthropic(url)
    await an.messages.create(model="m-msg", max_tokens=9,
                             messages=[{"role": "user", "content": "5"}])
    async with an.messages.stream(model="m-msg", max_tokens=9,
                                  messages=[{"role": "user", "content": "6"}]) as s:
        await s.get_final_message()
    gemini = gemini_sdk(url).client
    await gemini.models.generate_content(model="m-gem", contents="7")
    async for _ in await gemini.models.generate_content_stream(model="m-gem", contents="8"):
        pass
    flush_usage(app)
    rows = usage_rows()
    assert [(r["provider"], r["inbound"], r["stream"]) for r in rows] == [
        ("c", "chat", 0), ("c", "chat", 1), ("r", "responses", 0), ("r", "responses", 1),
        ("a", "messages", 0), ("a", "messages", 1), ("g", "gemini", 0), ("g", "gemini", 1)]
    assert {r["upstream_protocol"] for r in rows} == set(PROTOCOLS)
    for row in rows:
        assert row["client"] == "tests" and row["status"] == 200
        assert (row["input_tokens"], row["output_tokens"], row["cached_tokens"]) == (11, 5, 3)
        assert row["latency_ms"] >= row["ttfb_ms"] >= 0


async def _chat_stream(url: str, key: str, **extra) -> tuple[list, bytes]:
    body = {"model": "up-model", "stream": True,
            "messages": [{"role": "user", "content": "count me"}], **extra}
    async with aiohttp.ClientSession() as s, s.post(
            url + "/v1/chat/completions", json=body,
            headers={"Authorization": f"Bearer {key}"}) as r:
        assert r.status == 200
        raw = await r.read()
    chunks = [json.loads(line[6:]) for line in raw.decode().splitlines()
              if line.startswith("data: {")]
    return chunks, raw


async def test_chat_stream_usage_is_logged_even_when_the_client_does_not_ask(
        fake, aiohttp_server, local_key):
    """byecore asks the upstream for usage and hides the extra chunk from the client."""
    app = create_app(one_provider(fake, "chat"))
    url = str((await aiohttp_server(app)).make_url("")).rstrip("/")
    for extra in ({}, {"stream_options": {"include_usage": False}}, {"stream_options": None}):
        chunks, raw = await _chat_stream(url, local_key, **extra)
        assert fake.last["body"]["stream_options"] == {"include_usage": True}
        assert all(c["choices"] for c in chunks), "the client got a chunk it never asked for"
        assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == \
            "chat says: count me"
        assert raw.endswith(b"data: [DONE]\n\n")
    asked, _ = await _chat_stream(url, local_key, stream_options={"include_usage": True})
    assert asked[-1]["choices"] == [] and asked[-1]["usage"]["completion_tokens"] == 5
    flush_usage(app)
    assert [r["output_tokens"] for r in usage_rows()] == [5, 5, 5, 5]


async def test_no_stream_options_quirk_sends_none(fake, aiohttp_server, local_key):
    settings = one_provider(fake, "chat")
    settings.providers["up"].quirks = ["no_stream_options"]
    app = create_app(settings)
    url = str((await aiohttp_server(app)).make_url("")).rstrip("/")
    chunks, _ = await _chat_stream(url, local_key)
    assert "stream_options" not in fake.last["body"]
    assert fake.last["raw"].startswith(b'{"model": "up-model"')
    assert all(c["choices"] for c in chunks)


@pytest.mark.parametrize("status", [400, 422])
async def test_an_upstream_that_refuses_stream_options_is_asked_once(
        fake, aiohttp_server, local_key, status):
    """byecore's own addition must never cost the client its request."""
    fake.refuse_fields, fake.refuse_status = {"stream_options"}, status
    app = create_app(one_provider(fake, "chat"))
    url = str((await aiohttp_server(app)).make_url("")).rstrip("/")
    for _ in range(2):
        chunks, _ = await _chat_stream(url, local_key)
        assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == \
            "chat says: count me"
    sent = [("stream_options" in r["body"]) for r in fake.requests]
    assert sent == [True, False, False]  # refused once, then never added again


async def test_a_400_that_merely_mentions_stream_options_changes_nothing(
        fake, aiohttp_server, local_key):
    echo = 'prompt too long; request was {"stream_options": {"include_usage": true}}'
    fake.plan = [("status", 400, {}, echo), ("status", 400, {}, "prompt too long")]
    app = create_app(one_provider(fake, "chat"))
    url = str((await aiohttp_server(app)).make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as s, s.post(
            url + "/v1/chat/completions", json={"model": "up-model", "stream": True,
                                                "messages": [{"role": "user", "content": "x"}]},
            headers={"Authorization": f"Bearer {local_key}"}) as r:
        assert r.status == 400
        assert (await r.json())["error"]["message"] == "prompt too long"
    await _chat_stream(url, local_key)
    sent = [("stream_options" in r["body"]) for r in fake.requests]
    assert sent == [True, False, True]  # the retry failed too: not the field's fault


REWRITES = [
    # the top-level value written with an escaped slash, a nested one without
    (b'{"model":"org\\/m","messages":[{"role":"assistant","content":[{"type":"tool_use",'
     b'"id":"t","name":"pick","input":{"model":"org/m"}}]}]}', "org/m",
     b'{"model":"up/new","messages":[{"role":"assistant","content":[{"type":"tool_use",'
     b'"id":"t","name":"pick","input":{"model":"org/m"}}]}]}'),
    # the nested one first, the top-level one after it (how the OpenAI SDK orders keys)
    (b'{"messages":[{"role":"user","content":"hi"}],"tools":[{"input":{"model":"a"}}],'
     b'"model":"a","stream":true}', "a",
     b'{"messages":[{"role":"user","content":"hi"}],"tools":[{"input":{"model":"a"}}],'
     b'"model":"up/new","stream":true}'),
    (b'{"metadata": {"model": "a"}, "model" : "a" , "x": {"model":"a"}}', "a",
     b'{"metadata": {"model": "a"}, "model" : "up/new" , "x": {"model":"a"}}'),
    ('{"messages":[{"content":"\u00e9\u4e2d \\"model\\": \\"a\\""}],"t":{"model":"a"},'
     '"model":"a"}'.encode(), "a",
     '{"messages":[{"content":"\u00e9\u4e2d \\"model\\": \\"a\\""}],"t":{"model":"a"},'
     '"model":"up/new"}'.encode()),
    (b' {\n  "model": "a\\u002fb",\n  "m": {"model": "a/b"}\n}', "a/b",
     b' {\n  "model": "up/new",\n  "m": {"model": "a/b"}\n}'),
]


@pytest.mark.parametrize(("raw", "old", "expected"), REWRITES)
def test_rewrite_model_changes_only_the_top_level_model(raw, old, expected):
    from byecore_cli.proxy.pipeline import rewrite_model

    assert json.loads(raw)["model"] == old
    assert rewrite_model(raw, old, "up/new") == expected  # byte for byte


@pytest.mark.parametrize("raw", [
    b'{"mod\\u0065l": "a", "metadata": {"model": "a"}}',
    b'{"stream": true, "\\u006dodel": "a", "tools": [{"input": {"model": "a"}}]}',
])
def test_an_escaped_top_level_model_key_is_the_one_rewritten(raw):
    """The only literal ``"model":`` is a nested one when the top-level key is spelt with
    escapes: the body is then rewritten as parsed, never the nested value."""
    from byecore_cli.proxy.pipeline import rewrite_model

    body = json.loads(rewrite_model(raw, "a", "up/new"))
    assert body["model"] == "up/new"
    nested = body.get("metadata") or body["tools"][0]["input"]
    assert nested == {"model": "a"}


async def test_a_deep_body_goes_through_as_is_but_is_refused_where_it_is_decoded(
        fake, start_proxy, local_key):
    """Only byecore's codecs recurse over a body: the pass-through sends a body deeper
    than they take on byte for byte, a translated target refuses it (400, the client's
    shape) before anything goes upstream."""
    deep = "[" * 300 + "]" * 300
    raw = (b'{"model": "up-model", "messages": [{"role": "user", "content": "hi"}], '
           b'"metadata": {"x": ' + deep.encode() + b"}}")
    url = await start_proxy(one_provider(fake, "chat"))
    async with aiohttp.ClientSession() as session:
        async with session.post(url + "/v1/chat/completions", data=raw, headers={
                "Authorization": f"Bearer {local_key}",
                "Content-Type": "application/json"}) as resp:
            assert resp.status == 200, await resp.text()
        assert fake.last["raw"] == raw and len(fake.requests) == 1
        async with session.post(url + "/v1/messages", data=raw.replace(
                b'"hi"}]', b'"hi"}], "max_tokens": 5'), headers={
                "x-api-key": local_key, "Content-Type": "application/json"}) as resp:
            answer = await resp.json()
            assert resp.status == 400, answer
        assert answer["type"] == "error" and "deeper than" in answer["error"]["message"]
        assert len(fake.requests) == 1  # nothing went up for the refused one


def _chat_events(line_end: bytes, head: bytes) -> list[bytes]:
    chunk = b'{"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-model",' \
            b'"choices":[{"index":0,"delta":{"content":"%s"},"finish_reason":null}]}'
    usage = b'{"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-model",' \
            b'"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":5}}'
    events = [head + chunk % word.encode() for word in ("one ", "two ", "three")]
    events += [head + usage, head + b"[DONE]"]
    return [event + line_end * 2 for event in events]


@pytest.mark.parametrize(("line_end", "head"), [(b"\r\n", b"data: "), (b"\n", b"data:"),
                                                (b"\r\n", b"data:")])
async def test_crlf_and_no_space_streams_are_relayed_as_sent_and_their_usage_read(
        fake, aiohttp_server, local_key, sdk, line_end, head):
    """Servers that end lines in CRLF, or write ``data:{`` without the space, take the
    relay's cheap path: the client gets the upstream's bytes, split events and all."""
    events = _chat_events(line_end, head)
    stream = b"".join(events)
    reads = [stream[:40], stream[40:-20], stream[-20:]]  # events split across reads
    fake.plan = [("raw", 200, {"Content-Type": "text/event-stream"}, reads)]
    app = create_app(one_provider(fake, "chat"))
    url = str((await aiohttp_server(app)).make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as s, s.post(
            url + "/v1/chat/completions", json={
                "model": "up-model", "stream": True, "stream_options": {"include_usage": True},
                "messages": [{"role": "user", "content": "count me"}]},
            headers={"Authorization": f"Bearer {local_key}"}) as r:
        assert r.status == 200
        assert await r.read() == stream
    # and the SDK reads it as the three words and the usage
    fake.plan = [("raw", 200, {"Content-Type": "text/event-stream"}, [stream])]
    chunks = await sdk.openai(url).chat.completions.create(
        model="up-model", messages=[{"role": "user", "content": "x"}], stream=True,
        stream_options={"include_usage": True})
    seen = [c async for c in chunks]
    assert "".join(c.choices[0].delta.content for c in seen if c.choices) == "one two three"
    flush_usage(app)
    assert [(r["status"], r["input_tokens"], r["output_tokens"]) for r in usage_rows()] == \
        [(200, 11, 5)] * 2


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_gemini_relays_the_body_and_puts_the_routed_model_in_the_path(
        fake, start_proxy, local_key, gemini_sdk, stream):
    settings = one_provider(fake, "gemini", aliases={"gem-*": "up/real-model"})
    client = gemini_sdk(await start_proxy(settings))
    config = types.GenerateContentConfig(temperature=0.5, max_output_tokens=99)
    if stream:
        chunks = [c async for c in await client.client.models.generate_content_stream(
            model="gem-pro", contents="hi there", config=config)]
    else:
        chunks = [await client.client.models.generate_content(
            model="gem-pro", contents="hi there", config=config)]
    assert "".join(c.text for c in chunks) == "gemini says: hi there"
    seen = fake.last
    assert seen["path"] == ("/v1beta/models/real-model:streamGenerateContent?alt=sse" if stream
                            else "/v1beta/models/real-model:generateContent")
    (sent,) = [e["request"] for e in client.exchanges if "gem-pro" in e["url"]]
    assert seen["raw"] == sent  # byte for byte: the model is in the path, not the body
    assert_upstream_auth(seen, local_key, "gemini")


async def test_a_gemini_key_in_the_query_stays_home(fake, start_proxy, local_key):
    url = await start_proxy(one_provider(fake, "gemini"))
    async with aiohttp.ClientSession() as session, session.post(
            f"{url}/v1beta/models/up-model:streamGenerateContent?alt=sse&key={local_key}",
            json={"contents": [{"role": "user", "parts": [{"text": "q"}]}]}) as r:
        assert r.status == 200
        chunks = sse_payloads(await r.read())
    assert "".join(p["text"] for c in chunks for p in c["candidates"][0]["content"]["parts"]) \
        == "gemini says: q"
    assert fake.last["path"] == "/v1beta/models/up-model:streamGenerateContent?alt=sse"
    assert_upstream_auth(fake.last, local_key, "gemini")


async def test_a_gemini_client_can_move_a_tool_loop_onto_a_gemini_upstream(
        fake, start_proxy, gemini_sdk):
    """A route change or a fallback mid-loop: the call came from a Chat upstream, its
    result goes to a Gemini one."""
    config = gemini_tools()
    first = gemini_sdk(await start_proxy(one_provider(fake, "chat"))).client
    answer = await first.models.generate_content(model="up-model", contents="list files",
                                                 config=config)
    parts = gemini_parts([answer])
    (call,) = [p.function_call for p in parts if p.function_call]
    history = [types.Content(role="user", parts=[types.Part(text="list files")]),
               types.Content(role="model", parts=parts),
               types.Content(role="user", parts=[types.Part(function_response=types.
                             FunctionResponse(id=call.id, name=call.name,
                                              response={"output": "file.txt"}))])]
    then = gemini_sdk(await start_proxy(one_provider(fake, "gemini"))).client
    answer = await then.models.generate_content(model="up-model", contents=history,
                                                config=config)
    assert answer.text == "gemini got: file.txt"
    assert THOUGHT_SIGNATURE not in fake.last["raw"].decode()
