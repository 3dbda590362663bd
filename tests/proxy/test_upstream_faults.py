"""An upstream that answers wrongly is the upstream's fault, never the client's.

Before the client has a byte: a 502 in the client's shape, or the next fallback target.
After: the client's protocol error event and a clean end. Driven with the official SDKs
(their streaming helpers too) and, where every byte matters, raw HTTP.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import anthropic
import openai
import pytest
from aiohttp import web

from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.config.models import ProxySettings, ProxyTimeouts, Settings
from byecore_cli.proxy.app import STATE, create_app
from tests.proxy.conftest import UPSTREAM_KEY, provider

HI = [{"role": "user", "content": "hi"}]
SSE = {"Content-Type": "text/event-stream"}
JSON = {"Content-Type": "application/json"}
HTML = {"Content-Type": "text/html"}
PAGE = b"<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"


def pair(fake, first: str, second: str | None = None, **proxy) -> Settings:
    """Provider a (model m1, protocol ``first``), falling back to b (m2, ``second``)."""
    providers = {"a": provider(fake.url, first, models=("m1",))}
    fallbacks = {}
    if second:
        providers["b"] = provider(fake.url, second, models=("m2",))
        fallbacks = {"a/*": ["b/m2"]}
    return Settings(providers=providers, default_provider="a",
                    proxy=ProxySettings(fallbacks=fallbacks, **proxy))


async def serve(aiohttp_server, settings: Settings):
    app = create_app(settings)
    server = await aiohttp_server(app)
    return app, str(server.make_url("")).rstrip("/")


def models_asked(fake) -> list[str]:
    return [r["body"]["model"] for r in fake.requests]


def sse(*events: tuple[str | None, object]) -> bytes:
    out = b""
    for name, data in events:
        head = f"event: {name}\n" if name else ""
        text = data if isinstance(data, str) else json.dumps(data)
        out += f"{head}data: {text}\n\n".encode()
    return out


def parse(raw: bytes):
    decoder = SSEDecoder()
    return decoder.feed(raw) + decoder.flush()


MESSAGE_START = ("message_start", {"type": "message_start", "message": {
    "id": "msg_1", "type": "message", "role": "assistant", "model": "m1", "content": [],
    "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 3,
                                                          "output_tokens": 1}}})
TEXT_START = ("content_block_start", {"type": "content_block_start", "index": 0,
                                      "content_block": {"type": "text", "text": ""}})
TEXT_DELTA = ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                      "delta": {"type": "text_delta", "text": "half"}})
CHAT_CHUNK = (None, {"id": "c1", "object": "chat.completion.chunk", "created": 1,
                     "model": "m1", "choices": [{"index": 0, "delta": {"content": "half"},
                                                 "finish_reason": None}]})


# -- 1. malformed answers on the translated path ---------------------------------------

MALFORMED_MESSAGES = [{"type": "message", "content": "oops", "stop_reason": []},
                      {"type": "message", "role": "assistant", "stop_reason": [],
                       "content": [{"type": "text", "text": 5}]}]


@pytest.mark.parametrize("answer", MALFORMED_MESSAGES)
async def test_a_malformed_answer_falls_back(fake, aiohttp_server, sdk, answer):
    fake.plan = [("raw", 200, JSON, json.dumps(answer).encode())]
    _, url = await serve(aiohttp_server, pair(fake, "messages", "messages"))
    reply = await sdk.openai(url).chat.completions.create(model="m1", messages=HI)
    assert reply.choices[0].message.content == "messages says: hi"
    assert models_asked(fake) == ["m1", "m2"]


async def test_a_malformed_answer_with_nothing_left_is_a_502_not_a_400(
        fake, aiohttp_server, sdk):
    fake.plan = [("raw", 200, JSON, b'{"id": "x", "object": "chat.completion"}')]
    _, url = await serve(aiohttp_server, pair(fake, "chat"))
    with pytest.raises(anthropic.APIStatusError) as caught:
        await sdk.anthropic(url).messages.create(model="m1", max_tokens=20, messages=HI)
    assert caught.value.status_code == 502
    assert caught.value.body["type"] == "error"
    assert caught.value.body["error"]["type"] == "api_error"


async def test_a_malformed_first_stream_event_falls_back(fake, aiohttp_server, sdk):
    fake.plan = [("raw", 200, SSE, [sse((None, {"id": "x", "choices": "nope"}))])]
    _, url = await serve(aiohttp_server, pair(fake, "chat", "chat"))
    async with sdk.anthropic(url).messages.stream(model="m1", max_tokens=20,
                                                  messages=HI) as stream:
        text = await stream.get_final_text()
    assert text == "chat says: hi" and models_asked(fake) == ["m1", "m2"]


async def test_an_invalid_json_first_stream_event_falls_back(fake, aiohttp_server, sdk):
    fake.plan = [("raw", 200, SSE, [b"event: message_start\ndata: {not json\n\n"])]
    _, url = await serve(aiohttp_server, pair(fake, "messages", "chat"))
    stream = await sdk.openai(url).chat.completions.create(model="m1", messages=HI,
                                                           stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "chat says: hi" and models_asked(fake) == ["m1", "m2"]


async def test_a_malformed_event_mid_stream_ends_it_with_an_error_event(
        fake, aiohttp_server, sdk):
    gate = asyncio.Event()  # the bad event only once the client has the good ones
    fake.plan = [("raw", 200, SSE, [sse(MESSAGE_START, TEXT_START, TEXT_DELTA), gate,
                                    b"event: content_block_delta\ndata: {not json\n\n"])]
    app, url = await serve(aiohttp_server, pair(fake, "messages", "messages"))
    stream = await sdk.openai(url).chat.completions.create(model="m1", messages=HI,
                                                           stream=True)
    seen = []
    with pytest.raises(openai.APIError):
        async for chunk in stream:
            seen += [c.delta.content for c in chunk.choices if c.delta.content]
            if seen:
                gate.set()
    assert seen == ["half"] and models_asked(fake) == ["m1"]  # no fallback after a byte
    app[STATE].usage.flush()


# -- 2. what the pass-through must not relay ---------------------------------------------

@pytest.mark.parametrize("status", [503, 502, 404, 401])
async def test_a_non_json_error_page_becomes_the_protocols_error(fake, aiohttp_server, sdk,
                                                                status):
    page = PAGE + f" key {UPSTREAM_KEY}".encode()
    fake.plan = [("raw", status, HTML, page)]
    _, url = await serve(aiohttp_server, pair(fake, "messages"))
    with pytest.raises(anthropic.APIStatusError) as caught:
        await sdk.anthropic(url).messages.create(model="m1", max_tokens=20, messages=HI)
    # the upstream's status is kept (a 503 is "overloaded", which Anthropic's API says as 529)
    assert caught.value.status_code == {503: 529}.get(status, status)
    body = caught.value.body
    assert body["type"] == "error" and isinstance(body["error"]["message"], str)
    assert "JSON" in body["error"]["message"] and "Bad Gateway" in body["error"]["message"]
    assert UPSTREAM_KEY not in json.dumps(body)


async def test_a_non_json_503_falls_back(fake, aiohttp_server, sdk):
    fake.plan = [("raw", 503, HTML, PAGE)]
    _, url = await serve(aiohttp_server, pair(fake, "chat", "chat"))
    reply = await sdk.openai(url).chat.completions.create(model="m1", messages=HI)
    assert reply.choices[0].message.content == "chat says: hi"
    assert models_asked(fake) == ["m1", "m2"]


NOT_AN_ANSWER = [(302, {"Location": "https://login.example/sso"}, b""),
                 (301, {"Location": "http://u:secret@other/v1"}, b"moved"),
                 (204, {}, b""),
                 (200, HTML, PAGE),
                 (200, JSON, b""),
                 (200, JSON, b'{"status": "ok"}')]


@pytest.mark.parametrize(("status", "headers", "body"), NOT_AN_ANSWER)
async def test_what_is_not_an_answer_falls_back(fake, aiohttp_server, sdk, status, headers,
                                               body):
    fake.plan = [("raw", status, headers, body)]
    _, url = await serve(aiohttp_server, pair(fake, "chat", "chat"))
    reply = await sdk.openai(url).chat.completions.create(model="m1", messages=HI)
    assert reply.choices[0].message.content == "chat says: hi"
    assert models_asked(fake) == ["m1", "m2"]


@pytest.mark.parametrize(("status", "headers", "body"), NOT_AN_ANSWER)
async def test_what_is_not_an_answer_is_a_502_in_shape(fake, aiohttp_server, sdk, status,
                                                      headers, body):
    fake.plan = [("raw", status, headers, body)]
    _, url = await serve(aiohttp_server, pair(fake, "messages"))
    with pytest.raises(anthropic.APIStatusError) as caught:
        await sdk.anthropic(url).messages.create(model="m1", max_tokens=20, messages=HI)
    assert caught.value.status_code == 502
    assert caught.value.body["error"]["type"] == "api_error"
    assert "secret" not in caught.value.body["error"]["message"]


async def test_an_invalid_json_line_mid_relay_ends_with_the_error_event(
        fake, aiohttp_server, sdk):
    gate = asyncio.Event()
    fake.plan = [("raw", 200, SSE, [sse(MESSAGE_START, TEXT_START, TEXT_DELTA), gate,
                                    b"event: content_block_delta\ndata: <html>oops\n\n"])]
    _, url = await serve(aiohttp_server, pair(fake, "messages", "messages"))
    client = sdk.anthropic(url)
    with pytest.raises(anthropic.APIStatusError):
        async with client.messages.stream(model="m1", max_tokens=20, messages=HI) as stream:
            async for event in stream:
                if event.type == "content_block_delta":
                    gate.set()  # the client has the good events: now the bad line
    assert models_asked(fake) == ["m1"]


async def test_an_invalid_json_first_line_on_the_relay_falls_back(fake, aiohttp_server, sdk):
    fake.plan = [("raw", 200, SSE, [b"data: {\"id\": \"c1\", \"choices\": [\n\n"])]
    _, url = await serve(aiohttp_server, pair(fake, "chat", "chat"))
    stream = await sdk.openai(url).chat.completions.create(model="m1", messages=HI,
                                                           stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "chat says: hi" and models_asked(fake) == ["m1", "m2"]


async def test_multi_line_data_is_not_mistaken_for_bad_json(fake, aiohttp_server, local_key):
    """Legal SSE that the cheap check cannot pass: the exact check lets it through."""
    split = b'data: {"type": "message_stop",\ndata:  "x": 1}\n\n'
    events = sse(MESSAGE_START, TEXT_START, TEXT_DELTA) + split
    fake.plan = [("raw", 200, SSE, [events])]
    _, url = await serve(aiohttp_server, pair(fake, "messages"))
    raw = await _post(url, local_key, "/v1/messages",
                      {"model": "m1", "max_tokens": 20, "stream": True, "messages": HI})
    assert raw == events  # byte for byte, no error appended


async def _post(url: str, key: str, path: str, body: dict) -> bytes:
    async with aiohttp.ClientSession() as session, session.post(
            url + path, json=body, headers={"Authorization": f"Bearer {key}"}) as resp:
        return await resp.read()


async def test_a_messages_stream_without_message_stop_ends_with_an_error(
        fake, aiohttp_server, sdk):
    fake.plan = [("raw", 200, SSE, [sse(MESSAGE_START, TEXT_START), sse(TEXT_DELTA)])]
    _, url = await serve(aiohttp_server, pair(fake, "messages"))
    with pytest.raises(anthropic.APIStatusError):
        async with sdk.anthropic(url).messages.stream(model="m1", max_tokens=20,
                                                      messages=HI) as stream:
            await stream.get_final_text()


async def test_a_chat_stream_without_an_end_ends_with_an_error(fake, aiohttp_server, sdk):
    fake.plan = [("raw", 200, SSE, [sse(CHAT_CHUNK), sse(CHAT_CHUNK)])]
    _, url = await serve(aiohttp_server, pair(fake, "chat"))
    stream = await sdk.openai(url).chat.completions.create(model="m1", messages=HI,
                                                           stream=True)
    with pytest.raises(openai.APIError):
        async for _ in stream:
            pass


async def test_a_chat_stream_that_finished_without_done_is_left_alone(
        fake, aiohttp_server, local_key):
    end = (None, {**CHAT_CHUNK[1], "choices": [{"index": 0, "delta": {},
                                                "finish_reason": "stop"}]})
    events = sse(CHAT_CHUNK, end)
    fake.plan = [("raw", 200, SSE, [events])]
    _, url = await serve(aiohttp_server, pair(fake, "chat"))
    raw = await _post(url, local_key, "/v1/chat/completions",
                      {"model": "m1", "stream": True, "messages": HI})
    assert raw.startswith(events) and b"error" not in raw


async def test_a_responses_stream_without_its_end_fails_the_same_response(
        fake, aiohttp_server, local_key):
    fake.plan = [("cut", 5)]
    _, url = await serve(aiohttp_server, pair(fake, "responses"))
    raw = await _post(url, local_key, "/v1/responses",
                      {"model": "m1", "stream": True, "input": "hi"})
    events = [json.loads(e.data) for e in parse(raw)]
    kinds = [e["type"] for e in events]
    assert kinds.count("response.created") == 1 and kinds[-1] == "response.failed"
    numbers = [e["sequence_number"] for e in events]
    assert numbers == list(range(len(events)))  # one response, counted on
    assert events[-1]["response"]["id"] == events[0]["response"]["id"]
    assert events[-1]["response"]["status"] == "failed"
    assert events[-1]["response"]["error"]["message"]


async def test_the_openai_sdk_sees_the_responses_failure(fake, aiohttp_server, sdk):
    fake.plan = [("cut", 5)]
    _, url = await serve(aiohttp_server, pair(fake, "responses"))
    stream = await sdk.openai(url).responses.create(model="m1", input="hi", stream=True)
    kinds = [event.type async for event in stream]
    assert kinds.count("response.created") == 1 and kinds[-1] == "response.failed"


# -- 4. answer size caps ---------------------------------------------------------------

async def test_a_body_over_the_cap_is_refused_and_falls_back(fake, aiohttp_server, sdk):
    big = json.dumps({"choices": [{"message": {"content": "x" * 300_000}}]}).encode()
    fake.plan = [("raw", 200, JSON, big)]
    _, url = await serve(aiohttp_server, pair(fake, "chat", "chat", max_answer_mb=0.1))
    reply = await sdk.openai(url).chat.completions.create(model="m1", messages=HI)
    assert reply.choices[0].message.content == "chat says: hi"
    assert models_asked(fake) == ["m1", "m2"]


async def test_a_body_over_the_cap_without_length_is_a_502(fake, aiohttp_server, sdk):
    part = b" " * 50_000
    fake.plan = [("raw", 200, JSON, [b'{"content": [', *[part] * 6, b"]}"])]
    _, url = await serve(aiohttp_server, pair(fake, "messages", max_answer_mb=0.1))
    with pytest.raises(anthropic.APIStatusError) as caught:
        await sdk.anthropic(url).messages.create(model="m1", max_tokens=20, messages=HI)
    assert caught.value.status_code == 502 and "max_answer_mb" in caught.value.message


@pytest.mark.parametrize("upstream", ["messages", "chat"])
async def test_one_stream_event_over_the_cap_ends_the_stream(fake, aiohttp_server, local_key,
                                                            upstream):
    start = sse(MESSAGE_START, TEXT_START) if upstream == "messages" else sse(CHAT_CHUNK)
    endless = b"data: {\"x\": \"" + b"y" * 40_000  # one event that never ends
    fake.plan = [("raw", 200, SSE, [start, *[endless] * 5])]
    _, url = await serve(aiohttp_server, pair(fake, upstream, max_answer_mb=0.1))
    raw = await _post(url, local_key, "/v1/messages",
                      {"model": "m1", "max_tokens": 20, "stream": True, "messages": HI})
    last = parse(raw)[-1]
    assert last.event == "error" and "max_answer_mb" in last.data
    assert len(raw) < 100_000  # the oversized event never reached the client


# -- 8. requests that cannot even be made ------------------------------------------------

async def test_credentials_in_base_url_do_not_break_requests(fake, aiohttp_server, sdk):
    settings = pair(fake, "chat")
    settings.providers["a"].base_url = fake.url.replace("http://", "http://user:pw@")
    _, url = await serve(aiohttp_server, settings)
    reply = await sdk.openai(url).chat.completions.create(model="m1", messages=HI)
    assert reply.choices[0].message.content == "chat says: hi"
    assert fake.last["headers"]["Authorization"] == f"Bearer {UPSTREAM_KEY}"


async def test_a_request_aiohttp_refuses_to_make_is_a_502_and_falls_back(
        fake, aiohttp_server, sdk, monkeypatch):
    from byecore_cli.proxy import pipeline

    real = pipeline.open_upstream
    calls = []

    async def refusing(session, url, body, headers, first_byte):
        calls.append(url)
        if len(calls) == 1:
            raise ValueError("Cannot combine AUTHORIZATION header with AUTH argument")
        return await real(session, url, body, headers, first_byte)

    monkeypatch.setattr(pipeline, "open_upstream", refusing)
    _, url = await serve(aiohttp_server, pair(fake, "chat", "chat"))
    reply = await sdk.openai(url).chat.completions.create(model="m1", messages=HI)
    assert reply.choices[0].message.content == "chat says: hi" and len(calls) == 2
    calls.clear()
    _, url = await serve(aiohttp_server, pair(fake, "chat"))
    with pytest.raises(openai.APIStatusError) as caught:
        await sdk.openai(url).chat.completions.create(model="m1", messages=HI)
    assert caught.value.status_code == 502 and "base_url" in caught.value.message


# -- 10. the usage row says what the client got -----------------------------------------

def _rows():
    import sqlite3

    from byecore_cli.paths import Paths

    db = sqlite3.connect(Paths.current().usage_db)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM requests ORDER BY id")]
    finally:
        db.close()


async def test_a_bug_answers_500_in_shape_and_logs_500(fake, aiohttp_server, sdk,
                                                       monkeypatch, caplog):
    from byecore_cli.proxy import pipeline

    async def broken(self, target, **kw):
        raise KeyError("a bug")

    monkeypatch.setattr(pipeline.Pipeline, "_upstream", broken)
    app, url = await serve(aiohttp_server, pair(fake, "chat"))
    with pytest.raises(anthropic.APIStatusError) as caught:
        await sdk.anthropic(url).messages.create(model="m1", max_tokens=20, messages=HI)
    assert caught.value.status_code == 500 and caught.value.body["type"] == "error"
    assert app[STATE].usage.flush()
    assert [r["status"] for r in _rows()] == [500]
    assert sum("internal error" in r.getMessage() for r in caplog.records) == 1


async def test_a_bug_mid_stream_ends_it_with_an_error_event_and_logs_500(
        fake, aiohttp_server, local_key, monkeypatch):
    from byecore_cli.proxy import streaming

    async def broken(upstream, first, sink, *args, **kw):
        await sink.write(first)
        raise KeyError("a bug")

    monkeypatch.setattr(streaming, "relay", broken)
    app, url = await serve(aiohttp_server, pair(fake, "messages"))
    raw = await _post(url, local_key, "/v1/messages",
                      {"model": "m1", "max_tokens": 20, "stream": True, "messages": HI})
    events = parse(raw)
    assert events[0].event == "message_start" and events[-1].event == "error"
    assert app[STATE].usage.flush()
    assert [r["status"] for r in _rows()] == [500]


async def test_a_first_read_without_a_whole_event_is_decoded_once(fake, aiohttp_server, sdk):
    """The first read is decoded before the client's stream opens; when it holds only part
    of an event, that part waits in the decoder and is not fed a second time."""
    stop = [("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                               "usage": {"output_tokens": 2}}),
            ("message_stop", {"type": "message_stop"})]
    stream = sse(MESSAGE_START, TEXT_START, TEXT_DELTA, *stop)
    gate = asyncio.Event()
    fake.plan = [("raw", 200, SSE, [stream[:30], gate, stream[30:]])]
    _, url = await serve(aiohttp_server, pair(fake, "messages"))
    chunks = await sdk.openai(url).chat.completions.create(model="m1", messages=HI,
                                                           stream=True)
    gate.set()  # the client's stream opened: the proxy has read the first 30 bytes alone
    roles, text = [], ""
    async for chunk in chunks:
        for choice in chunk.choices:
            roles += [choice.delta.role] if choice.delta.role else []
            text += choice.delta.content or ""
    assert roles == ["assistant"] and text == "half"


def test_urls_in_messages_never_show_a_password():
    from byecore_cli.proxy.upstream import shown_url

    assert shown_url("http://user:s3cret@host:8080/v1/chat") == "http://host:8080/v1/chat"
    assert shown_url("https://host/v1") == "https://host/v1"
    assert "s3cret" not in shown_url("http://:s3cret@[::1/")


async def test_a_responses_stream_that_just_stops_fails_the_same_response(
        fake, aiohttp_server, local_key):
    shell = {"id": "resp_up", "object": "response", "created_at": 1, "model": "m1",
             "status": "in_progress", "output": []}
    events = sse(("response.created", {"type": "response.created", "sequence_number": 0,
                                       "response": shell}),
                 ("response.in_progress", {"type": "response.in_progress",
                                           "sequence_number": 1, "response": shell}))
    fake.plan = [("raw", 200, SSE, [events])]  # a clean end, without response.completed
    _, url = await serve(aiohttp_server, pair(fake, "responses"))
    raw = await _post(url, local_key, "/v1/responses",
                      {"model": "m1", "stream": True, "input": "hi"})
    assert raw.startswith(events)
    last = json.loads(parse(raw)[-1].data)
    assert last["type"] == "response.failed" and last["sequence_number"] == 2
    assert last["response"]["id"] == "resp_up" and len(parse(raw)) == 3


async def test_only_a_client_that_left_is_logged_499(fake, aiohttp_server, local_key):
    fake.plan = ["hang"]
    app = create_app(pair(fake, "chat"))
    server = await aiohttp_server(app)  # handlers cancelled on disconnect, as `byecore proxy`
    url = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as s:
        asking = asyncio.ensure_future(s.post(
            url + "/v1/chat/completions", json={"model": "m1", "messages": HI},
            headers={"Authorization": f"Bearer {local_key}"}))
        await asyncio.wait_for(fake.received.wait(), 30)  # the proxy is waiting upstream
        asking.cancel()  # the client leaves: its connection closes
        with pytest.raises(asyncio.CancelledError):
            await asking
    await asyncio.wait_for(fake.cancelled.wait(), 10)  # the proxy let the upstream go
    for _ in range(50):
        app[STATE].usage.flush()
        if _rows():
            break
        await asyncio.sleep(0.05)
    assert [r["status"] for r in _rows()] == [499]


async def test_a_bug_mid_responses_relay_fails_the_response_under_way(
        fake, aiohttp_server, local_key, monkeypatch):
    """An internal error after the first byte ends the client's Responses stream with the
    ``response.failed`` of the response it has (its id, the next sequence number), not a
    second response."""
    from byecore_cli.proxy import streaming

    class Bug(Exception):
        pass

    writes = []
    write = streaming.Sink.write

    async def failing_second_write(self, data):
        writes.append(data)
        if len(writes) == 2:
            raise Bug()
        await write(self, data)

    monkeypatch.setattr(streaming.Sink, "write", failing_second_write)
    shell = {"id": "resp_up", "object": "response", "created_at": 1, "model": "m1",
             "status": "in_progress", "output": []}
    created = sse(("response.created", {"type": "response.created", "sequence_number": 0,
                                        "response": shell}))
    done = sse(("response.completed", {"type": "response.completed", "sequence_number": 1,
                                       "response": {**shell, "status": "completed"}}))
    gate = asyncio.Event()
    fake.plan = [("raw", 200, SSE, [created, gate, done])]
    app, url = await serve(aiohttp_server, pair(fake, "responses"))
    async with aiohttp.ClientSession() as session, session.post(
            url + "/v1/responses", json={"model": "m1", "stream": True, "input": "hi"},
            headers={"Authorization": f"Bearer {local_key}"}) as resp:
        raw = b""
        while not raw.endswith(b"\n\n"):
            raw += await resp.content.readany()
        assert raw == created
        gate.set()
        raw += await resp.read()
    events = [json.loads(e.data) for e in parse(raw)]
    assert [e["type"] for e in events] == ["response.created", "response.failed"]
    assert events[1]["response"]["id"] == "resp_up" and events[1]["sequence_number"] == 1
    assert "internal error" in events[1]["response"]["error"]["message"]
    assert app[STATE].usage.flush()
    assert [r["status"] for r in _rows()] == [500]


@pytest.mark.parametrize("stream", [False, True])
async def test_an_error_declared_in_a_200_keeps_its_kind_and_hides_the_key(
        fake, aiohttp_server, sdk, stream):
    """A Chat upstream's 200 carrying ``{"error": …}`` that quotes the key: the Anthropic
    client gets a rate limit (429, ``rate_limit_error``), and never the key."""
    body = {"error": {"message": f"Rate limit reached for key {UPSTREAM_KEY}",
                      "type": "requests", "code": "rate_limit_exceeded"}}
    fake.plan = [("raw", 200, JSON, json.dumps(body).encode())]
    _, url = await serve(aiohttp_server, pair(fake, "chat"))
    client = sdk.anthropic(url)
    with pytest.raises(anthropic.APIStatusError) as caught:
        if stream:
            async with client.messages.stream(model="m1", max_tokens=20,
                                              messages=HI) as events:
                await events.get_final_text()
        else:
            await client.messages.create(model="m1", max_tokens=20, messages=HI)
    assert caught.value.status_code == 429
    assert caught.value.body["error"]["type"] == "rate_limit_error"
    assert UPSTREAM_KEY not in json.dumps(caught.value.body)
    assert "Rate limit reached" in caught.value.body["error"]["message"]


async def test_first_byte_is_one_budget_for_the_headers_and_the_first_chunk(
        fake, aiohttp_server, sdk):
    """Headers at 0.6 s and the first chunk 0.6 s later: each under first_byte (1 s), both
    together over it, so the next target answers (the two waits used to add up to 2 s)."""
    async def slow(request):
        await request.read()
        await asyncio.sleep(0.6)
        answer = web.StreamResponse(headers=SSE)
        await answer.prepare(request)
        await asyncio.sleep(0.6)
        await answer.write(sse(CHAT_CHUNK))
        await answer.write_eof()
        return answer

    app = web.Application()
    app.router.add_post("/v1/chat/completions", slow)
    late = await aiohttp_server(app)
    settings = Settings(
        providers={"a": provider(str(late.make_url("")).rstrip("/"), "chat", models=("m1",)),
                   "b": provider(fake.url, "chat", models=("m2",))},
        default_provider="a",
        proxy=ProxySettings(fallbacks={"a/*": ["b/m2"]},
                            timeouts=ProxyTimeouts(first_byte=1.0)))
    _, url = await serve(aiohttp_server, settings)
    stream = await sdk.openai(url).chat.completions.create(model="m1", messages=HI,
                                                           stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "chat says: hi" and models_asked(fake) == ["m2"]
