"""Whatever an upstream puts in Retry-After, the fallback still fires and cooldowns stay
within their cap: the header is a hint, never a reason to fail a request."""

from __future__ import annotations

import math
import time

import pytest

from byecore_cli.config.models import ProxySettings, Settings
from byecore_cli.hub import ErrorInfo
from byecore_cli.proxy.app import STATE, create_app
from byecore_cli.proxy.cooldown import MAX_SECONDS, Cooldowns
from tests.proxy.conftest import provider

ODD = [("Retry-After", "inf"), ("Retry-After", "1e400"), ("Retry-After", "nan"),
       ("Retry-After", "-5"), ("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"),
       ("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"), ("Retry-After", "soon, maybe"),
       ("retry-after-ms", "inf"), ("retry-after-ms", "-1e999"), ("retry-after-ms", "nan")]


def translated_pair(fake) -> Settings:
    """A Chat client's request goes to a (Messages: translated), then falls back to b."""
    return Settings(
        providers={"a": provider(fake.url, "messages", models=("m1",)),
                   "b": provider(fake.url, "messages", models=("m2",))},
        default_provider="a", proxy=ProxySettings(fallbacks={"a/*": ["b/m2"]}))


@pytest.mark.parametrize(("header", "value"), ODD)
@pytest.mark.parametrize("status", [429, 503])
async def test_an_odd_retry_after_still_falls_back(fake, aiohttp_server, sdk, header, value,
                                                  status):
    fake.plan = [("status", status, {header: value})]
    app = create_app(translated_pair(fake))
    server = await aiohttp_server(app)
    client = sdk.openai(str(server.make_url("")).rstrip("/"))
    answer = await client.chat.completions.create(
        model="m1", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "messages says: hi"
    assert [r["body"]["model"] for r in fake.requests] == ["m1", "m2"]
    cooling = app[STATE].cooldowns._until
    for until in cooling.values():
        assert math.isfinite(until)
        assert until - time.monotonic() <= MAX_SECONDS


@pytest.mark.parametrize(("header", "value"), ODD)
async def test_an_odd_retry_after_on_the_last_target_is_a_429_with_a_sane_header(
        fake, aiohttp_server, sdk, header, value):
    """No fallback left: the client gets the 429 itself, with a Retry-After it can read."""
    import openai

    fake.plan = [("status", 429, {header: value})]
    settings = Settings(providers={"a": provider(fake.url, "messages", models=("m1",))},
                        default_provider="a")
    server = await aiohttp_server(create_app(settings))
    client = sdk.openai(str(server.make_url("")).rstrip("/"))
    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(
            model="m1", messages=[{"role": "user", "content": "hi"}])
    retry = caught.value.response.headers.get("retry-after")
    assert retry is None or (retry.isdigit() and int(retry) <= 3600)


@pytest.mark.parametrize("wait", [math.inf, -math.inf, math.nan, -5.0, 1e300, None])
def test_a_cooldown_is_never_longer_than_its_cap_nor_endless(wait):
    now = [1000.0]
    cool = Cooldowns(clock=lambda: now[0])
    cool.note("a/m", ErrorInfo(429, "rate_limit", "slow down", retry_after=wait))
    a, b = type("T", (), {"name": "a/m"})(), type("T", (), {"name": "b/m"})()
    assert cool.order([a, b]) == [b, a] or wait is not None and wait <= 0
    now[0] += MAX_SECONDS + 0.001
    assert cool.order([a, b]) == [a, b]  # over by the cap at the latest, NaN or not


def test_retry_after_parsing_is_total():
    from byecore_cli.proxy.upstream import retry_after as _retry_after

    for header, value in ODD:
        seconds = _retry_after({header: value})
        assert seconds is None or 0 <= seconds <= 3600
    assert _retry_after({"Retry-After": "7"}) == 7.0
    assert _retry_after({"retry-after-ms": "1500"}) == 1.5
    assert _retry_after({"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}) == 3600
