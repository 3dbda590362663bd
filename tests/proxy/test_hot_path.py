"""What the pass-through's fast path must keep: environment proxies and netrc (looked up once,
not per request), no shared cookies, whole events, and usage read from the stream's bytes."""

from __future__ import annotations

import pytest
from aiohttp import web

from byecore_cli.config.models import Settings
from byecore_cli.proxy import upstream
from tests.proxy.conftest import UPSTREAM_KEY, provider
from tests.proxy.fake_upstream import FakeUpstream


@pytest.fixture(autouse=True)
def fresh_env_routes():
    upstream._ROUTES.clear()
    yield
    upstream._ROUTES.clear()


class Reads:
    """An upstream response whose body comes in these reads (``content.readany``)."""

    def __init__(self, reads: list[bytes]) -> None:
        self._reads = list(reads)
        self.content = self

    async def readany(self) -> bytes:
        return self._reads.pop(0) if self._reads else b""

    def close(self) -> None:
        pass


class Written:
    """A client response that keeps what is written to it, write by write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    async def write(self, data: bytes) -> None:
        self.writes.append(data)


def chat_body(text: str = "hi", **extra) -> dict:
    return {"model": "up-model", "messages": [{"role": "user", "content": text}], **extra}


async def test_http_proxy_from_the_environment_is_used(aiohttp_server, start_proxy,
                                                       local_key, monkeypatch):
    # The provider's host does not resolve: only an HTTP proxy in the environment reaches it.
    relay = FakeUpstream()
    server = await aiohttp_server(relay.app)
    monkeypatch.setenv("HTTP_PROXY", str(server.make_url("")).rstrip("/"))
    monkeypatch.setenv("NO_PROXY", "")
    settings = Settings(providers={"up": provider("http://upstream.invalid", "chat")},
                        default_provider="up")
    url = await start_proxy(settings)
    import aiohttp

    async with aiohttp.ClientSession() as s:
        for _ in range(2):
            async with s.post(url + "/v1/chat/completions", json=chat_body(),
                              headers={"Authorization": f"Bearer {local_key}"}) as r:
                assert r.status == 200, await r.text()
                assert (await r.json())["choices"][0]["message"]["content"] == "chat says: hi"
    assert len(relay.requests) == 2
    assert list(upstream._ROUTES) == ["http://upstream.invalid/v1/chat/completions"]


async def test_no_proxy_excludes_the_upstream(fake, start_proxy, local_key, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    url = await start_proxy(Settings(providers={"up": provider(fake.url, "chat")},
                                     default_provider="up"))
    import aiohttp

    async with aiohttp.ClientSession() as s, s.post(
            url + "/v1/chat/completions", json=chat_body(),
            headers={"Authorization": f"Bearer {local_key}"}) as r:
        assert r.status == 200


async def test_netrc_applies_only_without_a_provider_key(fake, start_proxy, local_key,
                                                         tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login user password pass\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    keyless = provider(fake.url, "chat")
    keyless.key = None
    settings = Settings(providers={"up": keyless, "keyed": provider(fake.url, "messages")},
                        default_provider="up")
    url = await start_proxy(settings)
    import aiohttp

    async with aiohttp.ClientSession() as s:
        async with s.post(url + "/v1/chat/completions", json=chat_body(),
                          headers={"Authorization": f"Bearer {local_key}"}) as r:
            assert r.status == 200
        assert fake.last["headers"]["Authorization"] == "Basic dXNlcjpwYXNz"  # user:pass
        async with s.post(url + "/v1/chat/completions",
                          json=chat_body(model="keyed/up-model"),
                          headers={"Authorization": f"Bearer {local_key}"}) as r:
            assert r.status == 200, await r.text()
        # the Messages provider has a key: x-api-key, and netrc's Basic auth stays out
        assert fake.last["headers"]["x-api-key"] == UPSTREAM_KEY
        assert "Authorization" not in fake.last["headers"]


async def test_upstream_cookies_are_not_replayed(aiohttp_server, start_proxy, local_key):
    fake = FakeUpstream()

    @web.middleware
    async def set_cookie(request, handler):
        response = await handler(request)
        response.set_cookie("session", "from-upstream")
        return response

    fake.app.middlewares.append(set_cookie)
    server = await aiohttp_server(fake.app)
    fake.url = str(server.make_url("")).rstrip("/")
    url = await start_proxy(Settings(providers={"up": provider(fake.url, "chat")},
                                     default_provider="up"))
    import aiohttp

    async with aiohttp.ClientSession() as s:
        for _ in range(2):
            async with s.post(url + "/v1/chat/completions", json=chat_body(),
                              headers={"Authorization": f"Bearer {local_key}"}) as r:
                assert r.status == 200
    assert "Cookie" not in fake.last["headers"]


def test_usage_sniffer_reads_only_blocks_with_a_usage_value():
    from byecore_cli.proxy.sniff import UsageSniffer

    sniffer = UsageSniffer("chat")
    text = b'data: {"choices":[{"delta":{"content":"the \\"usage\\": 7"}}],"usage":null}\n\n'
    assert not sniffer.may_carry(text)  # quoted in model text, or null: no parse
    final = (b'data: {"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":5,'
             b'"prompt_tokens_details":{"cached_tokens":3}}}\n\ndata: [DONE]\n\n')
    assert sniffer.may_carry(final)
    sniffer.feed_bytes(text + final)
    assert (sniffer.usage.input_tokens, sniffer.usage.output_tokens,
            sniffer.usage.cache_read_tokens) == (11, 5, 3)


def test_messages_usage_from_start_and_delta_blocks():
    from byecore_cli.proxy.sniff import UsageSniffer

    sniffer = UsageSniffer("messages")
    sniffer.feed_bytes(b'event: message_start\r\ndata: {"type":"message_start","message":'
                       b'{"usage":{"input_tokens":8,"cache_read_input_tokens":3}}}\r\n\r\n')
    sniffer.feed_bytes(b'event: message_delta\ndata: {"type":"message_delta",'
                       b'"usage":{"output_tokens":5}}\n\n')
    assert (sniffer.usage.input_tokens, sniffer.usage.output_tokens) == (11, 5)


async def test_relay_cuts_whole_events_and_sniffs_split_usage():
    """Chunks split mid-event (even inside the usage key) still reach the client as whole
    events, and the usage is read; a last event without its blank line is completed."""
    from byecore_cli.proxy import streaming
    from byecore_cli.proxy.sniff import UsageSniffer

    stream = (b'data: {"choices":[{"delta":{"content":"hi"}}],"usage":null}\n\n'
              b'data: {"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":5}}\n\n'
              b'data: [DONE]')
    chunks = [stream[i:i + 7] for i in range(0, len(stream), 7)]
    upstream, client = Reads(chunks[1:]), Written()
    sniffer = UsageSniffer("chat")
    await streaming.relay(upstream, chunks[0], streaming.Sink(client, "chat"), sniffer,
                          idle=30, keepalive=10)
    written = client.writes
    assert b"".join(written) == stream + b"\n\n"
    assert all(w.endswith(b"\n\n") for w in written)
    assert (sniffer.usage.input_tokens, sniffer.usage.output_tokens) == (11, 5)


def test_usage_from_a_whole_body_reads_only_the_usage_object():
    import json

    from byecore_cli.proxy.sniff import usage_from_body

    text = 'a "usage": {"prompt_tokens": 999} quoted by the model ' * 2000
    body = {"id": "x", "choices": [{"message": {"content": text}}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 5,
                      "completion_tokens_details": {"reasoning_tokens": 2}},
            "system_fingerprint": "fp"}
    for raw in (json.dumps(body).encode(), json.dumps(body, indent=2).encode()):
        usage = usage_from_body("chat", raw)
        assert (usage.input_tokens, usage.output_tokens, usage.reasoning_tokens) == (11, 5, 2)
    messages = {"content": [{"type": "text", "text": "hi"}],
                "usage": {"input_tokens": 8, "cache_read_input_tokens": 3, "output_tokens": 5}}
    assert usage_from_body("messages", json.dumps(messages).encode()).input_tokens == 11
    assert usage_from_body("chat", b'{"usage": null}') is None
    assert usage_from_body("chat", b"not json") is None
    assert usage_from_body("chat", b'{"usage": {"prompt_tokens": 1') is None  # cut short


async def test_access_log_line(aiohttp_server, fake, local_key, caplog):
    import logging

    import aiohttp

    from byecore_cli.proxy.app import AccessLog, create_app

    access = logging.getLogger("byecore.access")
    server = await aiohttp_server(
        create_app(Settings(providers={"up": provider(fake.url, "chat")},
                            default_provider="up")),
        access_log_class=AccessLog, access_log=access)
    url = str(server.make_url("")).rstrip("/")
    with caplog.at_level(logging.INFO, logger="byecore.access"):
        async with aiohttp.ClientSession() as s, s.post(
                url + "/v1/chat/completions?beta=true", json=chat_body(),
                headers={"Authorization": f"Bearer {local_key}",
                         "User-Agent": "test-client/1.0"}) as r:
            size = len(await r.read())
            assert r.status == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "byecore.access"]
    assert len(lines) == 1
    assert lines[0].startswith('127.0.0.1 "POST /v1/chat/completions?beta=true" 200 ')
    assert int(lines[0].split()[4]) >= size  # bytes sent, headers included (as aiohttp's %b)
    assert lines[0].endswith('ms "test-client/1.0"')
    assert local_key not in lines[0]
    quiet = logging.getLogger("byecore.quiet-access")
    quiet.setLevel(logging.WARNING)
    assert not AccessLog(quiet, "").enabled  # aiohttp then skips the call altogether


def test_usage_sniffer_reads_moonshot_usage_in_the_choice():
    from byecore_cli.proxy.sniff import UsageSniffer

    sniffer = UsageSniffer("chat")
    final = (b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop",'
             b'"usage":{"prompt_tokens":9,"completion_tokens":2}}]}\n\ndata: [DONE]\n\n')
    assert sniffer.may_carry(final)
    sniffer.feed_bytes(final)
    assert (sniffer.usage.input_tokens, sniffer.usage.output_tokens) == (9, 2)


def test_sniffer_hides_only_the_usage_chunk_it_was_told_to():
    from byecore_cli.proxy.sniff import UsageSniffer

    stop = (b': upstream comment\r\nid: 7\r\n'
            b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}'
            b'\r\n\r\n')
    done = b"data: [DONE]\r\n\r\n"
    for usage_chunk in (b'data: {"choices":[],"usage":{"prompt_tokens":4,'
                        b'"completion_tokens":1}}\r\n\r\n',
                        b'data: {"id":"x","usage":{"prompt_tokens":4,"completion_tokens":1}}'
                        b'\n\n'):  # some servers leave "choices" out altogether
        block = stop + usage_chunk + done
        assert UsageSniffer("chat").feed_bytes(block) == block
        hiding = UsageSniffer("chat", hide_usage_chunk=True)
        assert hiding.feed_bytes(block) == stop + done  # the rest byte for byte
        assert hiding.usage.output_tokens == 1


async def test_a_cr_only_stream_is_relayed_event_by_event_and_sniffed():
    """CR alone is a legal SSE line end: each event goes out as it comes (nothing piles up
    waiting for an LF), split CRs included, and the usage in it is read."""
    from byecore_cli.proxy import streaming
    from byecore_cli.proxy.sniff import UsageSniffer

    events = [b'data: {"choices":[{"delta":{"content":"hi"}}],"usage":null}\r\r',
              b'data: {"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":5}}\r\r',
              b"data: [DONE]\r\r"]
    upstream, client = Reads([events[1][:-1], events[1][-1:] + events[2]]), Written()
    sniffer = UsageSniffer("chat")
    await streaming.relay(upstream, events[0], streaming.Sink(client, "chat"), sniffer,
                          idle=30, keepalive=10)
    written = client.writes
    assert b"".join(written) == b"".join(events)
    # the first event went out on its own read; the CR that ended the second came later
    assert written == [events[0], events[1] + events[2]]
    assert (sniffer.usage.input_tokens, sniffer.usage.output_tokens) == (11, 5)


CHUNK = b'{"choices":[{"index":0,"delta":{"content":"hi"}}]}'


@pytest.mark.parametrize("block", [
    b"data: " + CHUNK + b"\n\n" + b"event: x\ndata: " + CHUNK + b"\n\n",
    b"data: " + CHUNK + b"\r\n\r\n" + b"event: x\r\ndata: " + CHUNK + b"\r\n\r\n",
    b"data:" + CHUNK + b"\n\n" + b"data: " + CHUNK + b"\n\n",
    b"data:" + CHUNK + b"\r\n\r\n",
])
def test_plain_json_data_lines_take_the_cheap_path(block):
    """LF, CRLF throughout, ``data:{`` without the space: a few byte counts, no decode."""
    from byecore_cli.proxy import streaming

    assert streaming._plain(block)


@pytest.mark.parametrize("block", [
    b"data: " + CHUNK + b"\r\r",  # CR alone ends lines
    b"data: " + CHUNK + b"\r\n\n",  # CRLF and LF mixed
    b"data: " + CHUNK + b"\n\ndata: [DONE]\n\n",
    b'data: {"a":\ndata: 1}\n\n',  # multi-line data
    b"data: {not json\r\n\r\n",
])
def test_anything_else_gets_the_exact_check(block):
    from byecore_cli.proxy import streaming

    assert not streaming._plain(block)


@pytest.mark.parametrize(("text", "lone"), [
    ("hi \\ud83d\\ude00 there", False),  # an emoji as its pair
    ("\\uD83D\\uDE00\\ud83d\\ude00", False),  # two pairs, upper-case hex
    ("a \\\\ud800 b", False),  # an escaped backslash, then text
    ("hi \\ud800 there", True),  # a high one alone
    ("hi \\udc00 there", True),  # a low one alone
    ("\\ud83d\\ud83d\\ude00", True),  # high, high, low
    ("\\ud83d\\ude00\\ude00", True),  # a pair, then a low one
    ("at the end \\udbff", True),
    ("\\udfff", True),
    ("\\\\ud800\\udc00", True),  # text that looks like a high one, then a real low one
    ("\\ud800\\\\udc00", True),  # a real high one, then text that looks like a low one
])
def test_only_unpaired_surrogate_escapes_are_found(text, lone):
    import json

    from byecore_cli.proxy.routes import has_lone_surrogate

    raw = b'{"model": "m", "messages": [{"role": "user", "content": "' + text.encode() + b'"}]}'
    assert has_lone_surrogate(raw, json.loads(raw)) is lone
