"""Routing rules, count_tokens, models, and the proxy/usage commands."""

from __future__ import annotations

import json

import aiohttp
import pytest

from byecore_cli.config.models import ProxySettings, Settings
from byecore_cli.errors import NotFound
from byecore_cli.proxy.router import Router, detect_signals
from tests.proxy.conftest import one_provider, provider


def settings(**proxy) -> Settings:
    return Settings(
        providers={
            "oa": provider("https://oa.test", "responses", "chat", models=("gpt-5.5",)),
            "an": provider("https://an.test", "messages", models=("claude-opus-5",)),
            "ds": provider("https://ds.test", "chat", models=("deepseek-flash",)),
        },
        default_provider="oa", proxy=ProxySettings(**proxy))


def route(s: Settings, model: str, inbound: str = "chat", signals=frozenset()):
    return [(t.name, t.protocol, t.passthrough) for t in Router(s).route(model, inbound,
                                                                         signals)]


def test_order_provider_model_then_aliases_then_lists_then_default():
    s = settings(aliases={"claude-*haiku*": "ds/deepseek-flash", "fast": "deepseek-flash",
                          "an/*": "oa/gpt-5.5"})
    assert route(s, "an/claude-opus-5", "messages") == [("an/claude-opus-5", "messages", True)]
    assert route(s, "claude-haiku-5-5", "messages") == [("ds/deepseek-flash", "chat", False)]
    assert route(s, "fast") == [("ds/deepseek-flash", "chat", True)]
    assert route(s, "claude-opus-5", "responses") == [("an/claude-opus-5", "messages", False)]
    assert route(s, "anything-else", "responses") == [("oa/anything-else", "responses", True)]
    # an OpenRouter-style id whose prefix is not a provider is just a model name
    assert route(s, "meta/llama-4") == [("oa/meta/llama-4", "chat", True)]


def test_unknown_model_without_a_default_lists_the_routable_ones():
    s = settings()
    s.default_provider = None
    with pytest.raises(NotFound) as caught:
        Router(s).route("nope", "chat")
    assert "gpt-5.5" in caught.value.message and "claude-opus-5" in caught.value.message


def test_nothing_saved_means_the_demo_provider():
    router = Router(Settings())
    target = router.route("claude-sonnet-5-5", "messages")[0]
    assert (target.provider, target.config) == ("demo", None)
    assert "demo" in router.models()


def test_fallback_chain_is_bounded_and_deduplicated():
    s = settings(fallbacks={"oa/*": ["an/claude-opus-5", "oa/gpt-5.5", "ds/deepseek-flash",
                                     "an/claude-opus-5"]}, max_attempts=3)
    assert [n for n, *_ in route(s, "gpt-5.5")] == [
        "oa/gpt-5.5", "an/claude-opus-5", "ds/deepseek-flash"]


def test_scenarios_use_current_claude_code_signals():
    s = settings(scenarios={"subagent": "ds/deepseek-flash", "web_search": "an/claude-opus-5",
                            "image": "oa/gpt-5.5"})
    body = {"model": "claude-opus-5", "thinking": {"type": "adaptive"},
            "system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=2"},
                       {"type": "text", "text": "You are... cc_is_subagent=true"}],
            "messages": [{"role": "user", "content": [{"type": "tool_result",
                                                       "tool_use_id": "t", "content": [
                                                           {"type": "image"}]}]}]}
    signals = detect_signals("messages", body, {}, 100, 60000)
    assert signals == {"subagent", "image"}  # thinking is not a signal any more
    assert route(s, "claude-opus-5", "messages", frozenset({"subagent"}))[0][0] == \
        "ds/deepseek-flash"
    web = {"model": "m", "messages": [], "tools": [{"type": "web_search_20250305"}]}
    assert detect_signals("messages", web, {"x-claude-code-agent-id": "a1"}, 10, 60000) == {
        "web_search", "subagent"}
    assert detect_signals("messages", {"messages": []}, {}, 400_000, 60000) == {"long_context"}
    assert detect_signals("chat", web, {}, 10, 60000) == frozenset()


def test_settings_reject_unknown_scenarios():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="unknown scenario"):
        ProxySettings(scenarios={"thinking": "a/b"})


async def test_count_tokens_forwarded_or_estimated(fake, start_proxy, local_key):
    url = await start_proxy(Settings(
        providers={"an": provider(fake.url, "messages", models=("m-an",)),
                   "oa": provider(fake.url, "chat", models=("m-oa",))}, default_provider="oa"))
    headers = {"x-api-key": local_key, "anthropic-version": "2023-06-01"}
    async with aiohttp.ClientSession() as session:
        payload = {"model": "m-an", "messages": [{"role": "user", "content": "hi"}]}
        async with session.post(url + "/v1/messages/count_tokens?beta=true", json=payload,
                                headers=headers) as resp:
            assert (await resp.json()) == {"input_tokens": 4242}
        assert fake.last["path"] == "/v1/messages/count_tokens"
        payload = {"model": "m-oa", "messages": [{"role": "user", "content": "x" * 400}]}
        async with session.post(url + "/v1/messages/count_tokens", json=payload,
                                headers=headers) as resp:
            estimate = (await resp.json())["input_tokens"]
        assert 100 <= estimate <= 130
    assert len(fake.requests) == 1


async def test_unknown_model_is_404_but_400_for_codex(fake, start_proxy, local_key):
    s = one_provider(fake, "chat")
    s.default_provider = None
    url = await start_proxy(s)
    async with aiohttp.ClientSession() as session:
        for path, body, want in (
                ("/v1/chat/completions", {"model": "x", "messages": []}, 404),
                ("/v1/responses", {"model": "x", "input": "hi"}, 400)):
            async with session.post(url + path, json=body,
                                    headers={"Authorization": f"Bearer {local_key}"}) as r:
                assert r.status == want
                assert "up-model" in (await r.json())["error"]["message"]


async def test_translated_upstream_errors_keep_status_and_retry_after(fake, start_proxy, sdk):
    import anthropic

    fake.plan = [("status", 429, {"Retry-After": "7"})]
    url = await start_proxy(one_provider(fake, "chat"))
    with pytest.raises(anthropic.RateLimitError) as caught:
        await sdk.anthropic(url).messages.create(
            model="up-model", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.body["error"]["type"] == "rate_limit_error"
    assert "fake chat upstream error 429" in caught.value.body["error"]["message"]


def test_check_config_explains_routes(cli, byecore_home):
    byecore_home.mkdir()
    (byecore_home / "settings.toml").write_text(
        'default_provider = "oa"\n[providers.oa]\nbase_url = "https://oa.test"\n'
        'protocols = ["chat"]\nmodels = ["gpt-5.5"]\n'
        '[proxy.aliases]\n"claude-*" = "gpt-5.5"\n'
        '[proxy.fallbacks]\n"oa/*" = ["nowhere/x"]\n')
    body = json.loads(cli("proxy", "--check-config", "--json").stdout)
    routes = {(r["model"], r["inbound"]): r for r in body["data"]["routes"]}
    first = routes[("claude-sonnet-4-5", "messages")]["targets"][0]
    assert first == {"target": "oa/gpt-5.5", "protocol": "chat", "via": "alias claude-*",
                     "mode": "translated"}
    assert routes[("gpt-5.5", "chat")]["targets"][0]["mode"] == "pass-through"
    # "nowhere/x" is no provider, so it is a bare model name for the default provider
    assert routes[("gpt-5.5", "chat")]["targets"][1]["target"] == "oa/nowhere/x"


def test_show_key_is_stable_and_private(cli, byecore_home):
    first = cli("proxy", "--show-key").stdout.strip()
    assert first.startswith("bc-local-") and cli("proxy", "--show-key").stdout.strip() == first
    assert (byecore_home / "local-keys.toml").stat().st_mode & 0o777 == 0o600


def test_usage_command_groups_totals(cli, byecore_home):
    from byecore_cli.paths import Paths
    from byecore_cli.proxy.usage import UsageLog

    assert "No requests" in cli("usage").stdout
    log = UsageLog(Paths.current().usage_db)
    base = {"inbound": "messages", "upstream_protocol": "chat", "stream": 1, "status": 200,
            "latency_ms": 10.0, "ttfb_ms": 2.0, "requested_model": "x"}
    import time

    from byecore_cli.hub import Usage
    for client, model, tokens in (("codex", "m1", 10), ("claude", "m1", 20),
                                  ("claude", "m2", 5)):
        log.record({**base, "ts": time.time(), "client": client, "provider": "p",
                    "model": model, "usage": Usage(input_tokens=tokens, output_tokens=1)})
    log.close()
    body = json.loads(cli("usage", "--by", "client", "--since", "1h", "--json").stdout)
    rows = {r["client"]: r for r in body["data"]["rows"]}
    assert rows["claude"]["requests"] == 2 and rows["claude"]["input_tokens"] == 25
    by_model = json.loads(cli("usage", "--json").stdout)["data"]["rows"]
    assert [r["model"] for r in by_model] == ["p/m1", "p/m2"]
    assert cli("usage", "--by", "client").exit_code == 0
    assert cli("usage", "--since", "yesterday-ish").exit_code == 2


def test_minted_markers_match_what_the_codecs_mint():
    """The router spots byecore-minted reasoning by bytes; the codecs define what they mint."""
    from byecore_cli import codecs
    from byecore_cli.codecs.gemini.parts import MINTED as GEMINI_MINTED
    from byecore_cli.codecs.messages.blocks import MINTED
    from byecore_cli.codecs.responses.items import PACKED

    minted = {name: codecs.wire(name).minted for name in codecs.PROTOCOLS}
    assert minted == {"messages": f'"{MINTED}'.encode(), "responses": f'"{PACKED}'.encode(),
                      "chat": None, "gemini": f'"{GEMINI_MINTED}'.encode()}
    assert not codecs.wire("messages").relayable(b'{"signature":"' + MINTED.encode() + b'a"}')
    assert codecs.wire("chat").relayable(b'"' + MINTED.encode())


def test_a_gemini_body_with_an_unsigned_first_call_is_translated_not_relayed():
    """Gemini 3 refuses it; the encoder signs it (codecs/gemini/turns.py sign_calls)."""
    import json

    from byecore_cli import codecs

    def body(*model_turns):
        return json.dumps({"contents": [{"role": "model", "parts": p}
                                        for p in model_turns]}).encode()

    call = {"functionCall": {"name": "ls", "args": {}}}
    signed = {**call, "thoughtSignature": "c2ln"}
    wire = codecs.wire("gemini")
    assert wire.relayable(body([{"text": "hi"}], [signed, call]))  # only the first counts
    assert not wire.relayable(body([signed], [{"text": "x"}, call, signed]))
    assert wire.relayable(b'{"contents": "functionCall" broken')  # the upstream judges
