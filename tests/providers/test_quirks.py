"""Provider quirks: each fix does what it says, leaves the client's request alone, and the
settings file knows exactly the quirks that exist."""

from __future__ import annotations

import copy
from typing import get_args

from byecore_cli import codecs
from byecore_cli.config.models import QuirkName
from byecore_cli.hub import REMINDER, Image, Message, Request, Text
from byecore_cli.providers import quirks
from byecore_cli.providers.presets import PRESETS
from tests.codecs.chat_helpers import request_problems
from tests.codecs.messages_helpers import load as load_messages
from tests.codecs.responses_helpers import load as load_responses

CHAT = codecs.get("chat")


def test_settings_accept_exactly_the_quirks_that_exist():
    assert set(get_args(QuirkName)) == set(quirks.QUIRKS)
    assert all(set(p.quirks) <= set(quirks.QUIRKS) for p in PRESETS)
    assert all(quirks.describe().values())


def test_system_first_on_claude_code_traffic():
    """Claude Code's mid-conversation system message becomes user text, intact."""
    hub = codecs.get("messages").decode_request(load_messages("claude_code_request.json"))
    before = copy.deepcopy(hub)
    fixed = quirks.apply(["system_first"], hub)
    assert hub == before  # a fallback chain reuses the client's request
    hub_roles = [m.role for m in fixed.messages]
    assert "user" not in [b for a, b in zip(hub_roles, hub_roles[1:], strict=False) if a == b]
    body = CHAT.encode_request(fixed)
    roles = [m["role"] for m in body["messages"]]
    assert roles[0] == "system" and roles.count("system") == 1
    said = [m["content"] if isinstance(m["content"], str) else
            " ".join(p.get("text", "") for p in m["content"] or []) for m in body["messages"]]
    mid = "Available agent types for the Agent tool:"
    carrier = [s for s in said[1:] if mid in s]
    assert len(carrier) == 1 and REMINDER[0] + mid in carrier[0]
    assert request_problems(body) == []


def test_system_first_joins_codex_developer_messages():
    hub = codecs.get("responses").decode_request(load_responses("codex_request.json"))
    leading = [p.text for m in hub.messages[:2] for p in m.parts]
    body = CHAT.encode_request(quirks.apply(["system_first"], hub))
    first, second = body["messages"][:2]
    assert first["role"] == "system" and second["role"] == "user"
    assert first["content"] == "\n\n".join([t.text for t in hub.system] + leading)
    assert [m["role"] for m in body["messages"]].count("system") == 1


def test_system_first_keeps_images_and_alone_turns():
    hub = Request(model="m", messages=[
        Message("user", [Text("look")]),
        Message("assistant", [Text("ok")]),
        Message("system", [Text("be brief"), Image(url="https://x/y.png")]),
    ])
    out = quirks.system_first(hub)
    assert out.system == []
    last = out.messages[-1]
    assert last.role == "user"
    assert last.parts[0].text == REMINDER[0] + "be brief" + REMINDER[1]
    assert last.parts[1].url == "https://x/y.png"


def test_no_stream_options_and_max_completion_tokens():
    hub = Request(model="m", stream=True, max_tokens=300,
                  messages=[Message("user", [Text("hi")])])
    plain = CHAT.encode_request(hub)
    assert plain["stream_options"] == {"include_usage": True}
    assert plain["max_tokens"] == 300
    fixed = CHAT.encode_request(quirks.apply(["no_stream_options", "max_completion_tokens"],
                                             hub))
    assert "stream_options" not in fixed and "max_tokens" not in fixed
    assert fixed["max_completion_tokens"] == 300
    assert hub.extras == {}


def test_system_first_keeps_the_system_prompts_cache_marker():
    marker = {"messages": {"cache_control": {"type": "ephemeral"}}}
    hub = Request(model="m", system=[Text("a"), Text("b", marker)],
                  messages=[Message("developer", [Text("c")]), Message("user", [Text("hi")])])
    body = codecs.get("messages").encode_request(quirks.system_first(hub))
    assert body["system"] == [{"type": "text", "text": "a\n\nb\n\nc",
                               "cache_control": {"type": "ephemeral"}}]
