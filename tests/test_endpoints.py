from __future__ import annotations

import pytest

from byecore_cli.providers.endpoints import BadURL, endpoint_url, normalise_base_url

ROOT = "https://api.byecore.com"


@pytest.mark.parametrize("pasted", [
    "https://api.byecore.com",
    "https://api.byecore.com/",
    "https://api.byecore.com/v1",
    "https://api.byecore.com/v1/",
    "https://api.byecore.com/v1/v1",
    "https://api.byecore.com/v1/chat/completions",
    "https://api.byecore.com/v1/responses",
    "https://api.byecore.com/v1/messages",
    "https://api.byecore.com/v1/messages/count_tokens",
    "https://api.byecore.com/v1/models",
    "https://api.byecore.com/v1beta",
    "https://api.byecore.com/v1beta/models",
    "https://API.byecore.com/v1?beta=true",
    "  https://api.byecore.com/v1\n",
    "api.byecore.com/v1",
])
def test_every_common_paste_becomes_the_root(pasted):
    root, notes = normalise_base_url(pasted)
    assert root == ROOT
    assert bool(notes) == (pasted != ROOT)


def test_paths_before_the_version_are_kept():
    assert normalise_base_url("https://x.test/compatible-mode/v1/chat/completions")[0] == \
        "https://x.test/compatible-mode"
    assert normalise_base_url("https://openrouter.ai/api/v1")[0] == "https://openrouter.ai/api"


def test_localhost_without_scheme_gets_http():
    assert normalise_base_url("localhost:11434/v1")[0] == "http://localhost:11434"


@pytest.mark.parametrize("bad", ["", "   ", "ftp://x.test", "https://"])
def test_unusable_urls_are_refused(bad):
    with pytest.raises(BadURL):
        normalise_base_url(bad)


def test_endpoint_urls_use_the_path_prefixes():
    assert endpoint_url(ROOT, "chat") == f"{ROOT}/v1/chat/completions"
    assert endpoint_url(ROOT, "responses") == f"{ROOT}/v1/responses"
    assert endpoint_url(ROOT, "messages") == f"{ROOT}/v1/messages"
    gem = "https://generativelanguage.googleapis.com"
    assert endpoint_url(gem, "chat", prefixes={"openai": "/v1beta/openai"}) == \
        f"{gem}/v1beta/openai/chat/completions"
    assert endpoint_url(gem, "gemini", model="models/gemini-3-pro", stream=True) == \
        f"{gem}/v1beta/models/gemini-3-pro:streamGenerateContent?alt=sse"
    assert endpoint_url(gem, "gemini", model="a b") == f"{gem}/v1beta/models/a%20b:generateContent"
    assert endpoint_url(gem, "gemini", models=True) == f"{gem}/v1beta/models"
    ds = "https://api.deepseek.com"
    assert endpoint_url(ds, "messages", prefixes={"anthropic": "/anthropic"}) == \
        f"{ds}/anthropic/v1/messages"
    assert endpoint_url(ds, "chat", models=True, prefixes={"openai": ""}) == f"{ds}/models"
    assert endpoint_url(ds, "messages", models=True) == f"{ds}/v1/models"


def test_every_registered_protocol_has_a_whole_wire():
    """A protocol is one package plus one registry line: its wire says everything the
    rest of byecore asks of it."""
    from byecore_cli import codecs

    for name in codecs.PROTOCOLS:
        wire = codecs.wire(name)
        assert wire.name == name and wire.title and wire.answer_keys
        assert wire.base in ("openai", "anthropic", "gemini")
        assert endpoint_url(ROOT, name, model="m").startswith(ROOT + "/")
        assert wire.auth_headers("k") and not wire.auth_headers(None).get(
            "Authorization")
        assert codecs.get(name).name == name and codecs.get(name).wire is wire
