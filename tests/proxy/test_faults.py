"""Fallbacks before the first byte, honest errors after it, timeouts, keep-alives, cancels."""

from __future__ import annotations

import asyncio
import json
import socket

import aiohttp
import pytest

from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.config.models import ProxySettings, ProxyTimeouts, Settings
from tests.proxy.conftest import provider

CLAUDE = "claude-sonnet-5-5"


def two(fake, *, url_a: str | None = None, **proxy) -> Settings:
    """Provider a (model m1) falls back to provider b (model m2); both speak Messages."""
    return Settings(
        providers={"a": provider(url_a or fake.url, "messages", models=("m1",)),
                   "b": provider(fake.url, "messages", models=("m2",))},
        default_provider="a",
        proxy=ProxySettings(fallbacks={"a/*": ["b/m2"]}, **proxy))


def body(model="m1", stream=False) -> dict:
    return {"model": model, "max_tokens": 20, "stream": stream,
            "messages": [{"role": "user", "content": "hi"}]}


async def call(url: str, key: str, payload: dict, timeout: float | None = None):
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as s, \
            s.post(url + "/v1/messages", json=payload, headers={"x-api-key": key}) as resp:
        return resp.status, await resp.read(), resp.headers


def events(raw: bytes) -> list:
    decoder = SSEDecoder()
    return decoder.feed(raw) + decoder.flush()


def closed_port() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


async def test_429_with_retry_after_then_the_fallback_answers(fake, start_proxy, local_key):
    fake.plan = [("status", 429, {"Retry-After": "0"})]
    url = await start_proxy(two(fake))
    status, raw, _ = await call(url, local_key, body())
    assert status == 200 and json.loads(raw)["content"][0]["text"] == "messages says: hi"
    assert [r["body"]["model"] for r in fake.requests] == ["m1", "m2"]


async def test_500_then_fallback_and_streams_too(fake, start_proxy, local_key):
    fake.plan = [("status", 500, {})]
    url = await start_proxy(two(fake))
    status, raw, _ = await call(url, local_key, body(stream=True))
    assert status == 200
    assert [e.event for e in events(raw)][-1] == "message_stop"
    assert [r["body"]["model"] for r in fake.requests] == ["m1", "m2"]


async def test_upstream_down_falls_back(fake, start_proxy, local_key):
    url = await start_proxy(two(fake, url_a=closed_port()))
    status, raw, _ = await call(url, local_key, body())
    assert status == 200 and [r["body"]["model"] for r in fake.requests] == ["m2"]


async def test_down_with_no_fallback_is_a_502_in_the_clients_shape(start_proxy, local_key):
    settings = Settings(providers={"a": provider(closed_port(), "messages")},
                        default_provider="a")
    url = await start_proxy(settings)
    status, raw, _ = await call(url, local_key, body())
    error = json.loads(raw)
    assert status == 502 and error["type"] == "error"
    assert "could not be reached" in error["error"]["message"]


async def test_the_last_upstream_error_is_relayed_with_its_status(fake, start_proxy, local_key):
    fake.plan = [("status", 429, {"Retry-After": "0"}), ("status", 529, {})]
    url = await start_proxy(two(fake))
    status, raw, headers = await call(url, local_key, body())
    assert status == 529 and json.loads(raw)["error"]["type"] == "overloaded_error"


async def test_timeout_before_the_first_byte_moves_on(fake, start_proxy, local_key):
    fake.plan = ["hang"]
    url = await start_proxy(two(fake, timeouts=ProxyTimeouts(first_byte=0.3)))
    status, raw, _ = await call(url, local_key, body())
    assert status == 200 and [r["body"]["model"] for r in fake.requests] == ["m1", "m2"]
    await asyncio.wait_for(fake.cancelled.wait(), 10)  # the hung request was dropped


async def test_a_stream_cut_midway_ends_with_an_error_event_and_no_retry(
        fake, start_proxy, local_key):
    fake.plan = [("cut", 4)]
    url = await start_proxy(two(fake))
    status, raw, _ = await call(url, local_key, body(stream=True))
    assert status == 200
    seen = events(raw)
    assert [e.event for e in seen][:2] == ["message_start", "ping"]
    assert seen[-1].event == "error"
    assert json.loads(seen[-1].data)["error"]["type"] == "api_error"
    for event in seen:
        json.loads(event.data)  # every event whole
    assert len(fake.requests) == 1  # never a fallback after the first byte


async def test_a_slow_stream_is_kept_alive(fake, start_proxy, local_key):
    fake.plan = [("slow", 0.6)]
    url = await start_proxy(two(fake, keepalive=0.05))
    status, raw, _ = await call(url, local_key, body(stream=True))
    names = [e.event for e in events(raw)]
    assert names[-1] == "message_stop"
    assert names.count("ping") > 1  # the upstream's own ping, then ours during the silence


async def test_a_stalled_stream_times_out_cleanly(fake, start_proxy, local_key):
    fake.plan = [("slow", 30)]
    url = await start_proxy(two(fake, timeouts=ProxyTimeouts(idle=0.3)))
    status, raw, _ = await call(url, local_key, body(stream=True))
    last = events(raw)[-1]
    assert last.event == "error" and json.loads(last.data)["error"]["type"] == "timeout_error"
    await asyncio.wait_for(fake.cancelled.wait(), 10)  # the stalled request was dropped


@pytest.mark.parametrize("stream", [False, True])
async def test_a_client_that_goes_away_cancels_the_upstream(fake, start_proxy, local_key,
                                                            stream):
    fake.plan = ["hang"]
    url = await start_proxy(two(fake))
    with pytest.raises(asyncio.TimeoutError):
        await call(url, local_key, body(stream=stream), timeout=0.3)
    await asyncio.wait_for(fake.cancelled.wait(), 10)
    assert len(fake.requests) == 1


async def test_a_client_closing_after_the_last_event_is_normal(fake, start_proxy, local_key):
    url = await start_proxy(two(fake))
    async with aiohttp.ClientSession() as session:
        resp = await session.post(url + "/v1/messages", json=body(stream=True),
                                  headers={"x-api-key": local_key})
        async for line in resp.content:
            if line.startswith(b"event: message_stop"):
                break
        resp.close()  # like Codex after response.completed: no wait for the terminator
    status, raw, _ = await call(url, local_key, body())
    assert status == 200  # the proxy is fine and serves the next request


async def test_a_rate_limited_target_cools_down_across_requests(fake, start_proxy, local_key):
    """After a 429 the next requests go to the fallback first, until Retry-After passes."""
    fake.plan = [("status", 429, {"retry-after-ms": "600"})]
    url = await start_proxy(two(fake))
    for _ in range(2):
        status, _, _ = await call(url, local_key, body())
        assert status == 200
    assert [r["body"]["model"] for r in fake.requests] == ["m1", "m2", "m2"]
    await asyncio.sleep(0.7)
    status, _, _ = await call(url, local_key, body())
    assert status == 200 and fake.requests[-1]["body"]["model"] == "m1"


def test_cooldown_rules():
    from byecore_cli.hub import ErrorInfo
    from byecore_cli.proxy.cooldown import DEFAULT_SECONDS, MAX_SECONDS, Cooldowns
    from byecore_cli.proxy.router import Target

    now = [100.0]
    cool = Cooldowns(clock=lambda: now[0])
    a, b = (Target(p, "m", "chat", None, "test", "chat") for p in ("a", "b"))
    cool.note("a/m", ErrorInfo(503, "api_error", "busy"))  # no Retry-After: not a signal
    cool.note("a/m", ErrorInfo(500, "api_error", "oops", retry_after=5))
    assert cool.order([a, b]) == [a, b]
    cool.note("a/m", ErrorInfo(429, "rate_limit", "slow down"))  # no Retry-After: 10 s
    assert cool.order([a, b]) == [b, a]
    assert cool.order([a]) == [a]
    cool.note("b/m", ErrorInfo(529, "overloaded", "busy", retry_after=10_000))
    assert cool.order([a, b]) == [a, b]  # everything cools: the configured order stands
    cool.answered("b/m")
    assert cool.order([a, b]) == [b, a]
    now[0] += DEFAULT_SECONDS - 0.1
    assert cool.order([a, b]) == [b, a]
    now[0] += 0.1
    assert cool.order([a, b]) == [a, b]
    cool.note("b/m", ErrorInfo(529, "overloaded", "busy", retry_after=10_000))
    now[0] += MAX_SECONDS - 0.1
    assert cool.order([b, a]) == [a, b]  # capped at five minutes…
    now[0] += 0.1
    assert cool.order([b, a]) == [b, a]  # …not the hours it asked for


async def test_only_a_good_answer_ends_a_cooldown_early(fake, start_proxy, local_key):
    fake.plan = [("status", 429, {"Retry-After": "30"}), "ok",  # a cools; b answers
                 ("status", 500, {}), ("status", 400, {}),  # b fails; a says 400
                 "ok"]
    url = await start_proxy(two(fake))
    statuses = [(await call(url, local_key, body()))[0] for _ in range(3)]
    assert statuses == [200, 400, 200]
    # a's 400 did not end its cooldown: the third request still went to b first
    assert [r["body"]["model"] for r in fake.requests] == ["m1", "m2", "m2", "m1", "m2"]
