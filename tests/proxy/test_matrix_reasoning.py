"""Reasoning, every client protocol over every upstream protocol (N × N over
``codecs.PROTOCOLS``), driven by the official openai, anthropic and google-genai SDKs
(their stream helpers included), against the fake upstream of fake_upstream.py. The
diagonal is the byte pass-through; the rest go through the codecs.

The upstream thinks in its own form (fake_upstream ``with_reasoning``); the client gets
it in its own form, with the text and the reasoning-token usage. On the next turn, echoed
back as the SDK returned it, the upstream gets its OWN opaque data back (Anthropic
signature, Responses ``encrypted_content``, DeepSeek ``reasoning_content``, Gemini
``thoughtSignature``) whenever the client protocol can carry it, and never anything
minted or foreign.
"""

from __future__ import annotations

import base64
import json

import pytest
from google.genai import types

from byecore_cli import codecs
from byecore_cli.codecs import PROTOCOLS
from tests.proxy.conftest import one_provider
from tests.proxy.fake_upstream import (
    ENCRYPTED,
    REASONING,
    REASONING_TOKENS,
    SIGNATURE,
    SKIP,
    THOUGHT_SIGNATURE,
)
from tests.proxy.shapes import gemini_sdk_fixture  # noqa: F401 (a fixture)
from tests.proxy.test_translation import (  # noqa: F401 (fixtures)
    GEMINI_OVER_OTHERS,
    PAIRS,
    PARAMS,
    clients_fixture,
    gemini_ask,
    gemini_parts,
    gemini_tools,
    gemini_usage,
    pairs,
    prompt_usage_log_fixture,
)

# What byecore mints to carry foreign opaque data through a client (blocks.py, items.py,
# gemini/parts.py): it must never reach an upstream. Each codec's wire names its mark.
MINTED = tuple(w.minted.decode().lstrip('"') for w in map(codecs.wire, PROTOCOLS) if w.minted)
# Each protocol's own opaque reasoning data (Chat has none: its reasoning is plain text).
OPAQUE = {"responses": ENCRYPTED, "messages": SIGNATURE, "gemini": THOUGHT_SIGNATURE}
MINTED_GEMINI = codecs.wire("gemini").minted.decode().lstrip('"')  # gemini/parts.py


class Thinker:
    """One client protocol asking for reasoning through its SDK.

    ``ask`` returns what the client saw: {"reasoning": text, "opaque": the signature or
    encrypted_content if the protocol has one, "text", "reasoning_tokens", "echo": the
    assistant turn as the client would send it back, "call": the tool call if any}.
    """

    def __init__(self, inbound: str, clients, url: str) -> None:
        self.inbound = inbound
        self.client = clients(inbound, url)

    async def ask(self, history: list, stream: bool, tools: bool = False) -> dict:
        return await getattr(self, "_" + self.inbound)(history, stream, tools)

    def user(self, said: str):
        if self.inbound == "gemini":
            return types.Content(role="user", parts=[types.Part(text=said)])
        return {"role": "user", "content": said}

    async def _gemini(self, history, stream, tools):
        config = gemini_tools() if tools else types.GenerateContentConfig()
        config.thinking_config = types.ThinkingConfig(include_thoughts=True,
                                                      thinking_budget=2048)
        chunks = await gemini_ask(self.client, history, stream, config)
        parts = gemini_parts(chunks)
        thoughts = [p.text for p in parts if p.thought and p.text]
        if stream:
            assert len(thoughts) > 1, "thoughts arrive as a stream of parts"
        signed = [p.thought_signature for p in parts if p.thought_signature]
        calls = [{"id": p.function_call.id, "name": p.function_call.name,
                  "args": json.dumps(p.function_call.args)} for p in parts if p.function_call]
        return {"reasoning": "".join(thoughts),
                "opaque": base64.b64encode(signed[0]).decode() if signed else None,
                "text": "".join(p.text for p in parts if p.text and not p.thought) or None,
                # What Gemini CLI does: the model's parts go back as they came.
                "echo": [types.Content(role="model", parts=parts)],
                "usage": gemini_usage(chunks),
                "reasoning_tokens": chunks[-1].usage_metadata.thoughts_token_count,
                "call": calls[0] if calls else None}

    async def _chat(self, history, stream, tools):
        kw = {"model": "up-model", "messages": history, "reasoning_effort": "high"}
        if tools:
            kw["tools"] = [{"type": "function", "function": {"name": "exec_command",
                                                             "parameters": PARAMS}}]
        if not stream:
            r = await self.client.chat.completions.create(**kw)
            msg = r.choices[0].message
            # The SDK keeps the non-OpenAI field in model_extra.
            reasoning, text, usage = msg.model_extra.get("reasoning_content"), msg.content, \
                r.usage
            calls = [{"id": tc.id, "name": tc.function.name, "args": tc.function.arguments}
                     for tc in msg.tool_calls or []]
        else:
            s = await self.client.chat.completions.create(
                **kw, stream=True, stream_options={"include_usage": True})
            reasoning, text, usage, by_index, pieces = "", "", None, {}, 0
            async for chunk in s:
                usage = chunk.usage or usage
                if not chunk.choices:
                    continue
                delta = chunk.choices[0].delta
                piece = (delta.model_extra or {}).get("reasoning_content")
                if piece:
                    reasoning += piece
                    pieces += 1
                text += delta.content or ""
                for tc in delta.tool_calls or []:
                    e = by_index.setdefault(tc.index, {"id": "", "name": "", "args": ""})
                    e["id"] += tc.id or ""
                    e["name"] += (tc.function and tc.function.name) or ""
                    e["args"] += (tc.function and tc.function.arguments) or ""
            assert pieces > 1, "reasoning arrives as a stream of deltas"
            text, calls = text or None, list(by_index.values())
        echo = {"role": "assistant", "content": text, "reasoning_content": reasoning}
        if calls:
            echo["tool_calls"] = [{"id": c["id"], "type": "function", "function": {
                "name": c["name"], "arguments": c["args"]}} for c in calls]
        return {"reasoning": reasoning, "opaque": None, "text": text, "echo": [echo],
                "usage": (usage.prompt_tokens, usage.completion_tokens),
                "reasoning_tokens": usage.completion_tokens_details.reasoning_tokens,
                "call": calls[0] if calls else None}

    async def _responses(self, history, stream, tools):
        kw = {"model": "up-model", "input": history,
              "reasoning": {"effort": "high", "summary": "auto"}}
        if tools:
            kw["tools"] = [{"type": "function", "name": "exec_command", "parameters": PARAMS}]
        if not stream:
            r = await self.client.responses.create(**kw)
        else:
            deltas = 0
            async with self.client.responses.stream(**kw) as s:
                async for event in s:
                    deltas += event.type == "response.reasoning_summary_text.delta"
                r = await s.get_final_response()
            assert deltas > 0, "the summary arrives as a stream of deltas"
        (item,) = [i for i in r.output if i.type == "reasoning"]
        calls = [{"id": i.call_id, "name": i.name, "args": i.arguments}
                 for i in r.output if i.type == "function_call"]
        return {"reasoning": "\n\n".join(s.text for s in item.summary),
                "opaque": item.encrypted_content, "text": r.output_text or None,
                # What Codex does: replay the output items as they came.
                "echo": [i.model_dump(exclude_none=True) for i in r.output],
                "usage": (r.usage.input_tokens, r.usage.output_tokens),
                "reasoning_tokens": r.usage.output_tokens_details.reasoning_tokens,
                "call": calls[0] if calls else None}

    async def _messages(self, history, stream, tools):
        kw = {"model": "up-model", "max_tokens": 4096, "messages": history,
              "thinking": {"type": "enabled", "budget_tokens": 2048}}
        if tools:
            kw["tools"] = [{"name": "exec_command", "input_schema": PARAMS}]
        if not stream:
            m = await self.client.messages.create(**kw)
        else:
            kinds = set()
            async with self.client.messages.stream(**kw) as s:
                async for event in s:
                    kinds.add(event.type)
                m = await s.get_final_message()
            assert {"thinking", "signature"} <= kinds, "thinking and signature deltas"
        thinking = [b for b in m.content if b.type == "thinking"]
        assert m.content[0].type == "thinking" and len(thinking) == 1
        texts = [b.text for b in m.content if b.type == "text"]
        uses = [b for b in m.content if b.type == "tool_use"]
        u = m.usage
        details = u.output_tokens_details
        total_in = u.input_tokens + (u.cache_read_input_tokens or 0) + \
            (u.cache_creation_input_tokens or 0)
        return {"reasoning": thinking[0].thinking, "opaque": thinking[0].signature,
                "text": "".join(texts) or None,
                "echo": [{"role": "assistant",
                          "content": [b.model_dump(exclude_none=True) for b in m.content]}],
                "usage": (total_in, u.output_tokens),
                "reasoning_tokens": details.thinking_tokens if details else None,
                "call": ({"id": uses[0].id, "name": uses[0].name,
                          "args": json.dumps(uses[0].input)} if uses else None)}

    def tool_result(self, call: dict):
        if self.inbound == "gemini":
            return types.Content(role="user", parts=[types.Part(
                function_response=types.FunctionResponse(id=call["id"], name=call["name"],
                                                         response={"output": "file.txt"}))])
        if self.inbound == "chat":
            return {"role": "tool", "tool_call_id": call["id"], "content": "file.txt"}
        if self.inbound == "responses":
            return {"type": "function_call_output", "call_id": call["id"],
                    "output": "file.txt"}
        return {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"],
                                             "content": "file.txt"}]}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize(("inbound", "upstream"), pairs(PAIRS))
async def test_reasoning_reaches_the_client(fake, start_proxy, clients, inbound, upstream,
                                            stream):
    fake.reasoning = True
    url = await start_proxy(one_provider(fake, upstream))
    thinker = Thinker(inbound, clients, url)
    seen = await thinker.ask([thinker.user("hello there")], stream)
    assert fake.last["protocol"] == upstream
    assert seen["reasoning"] == REASONING[upstream]
    assert seen["text"] == f"{upstream} says: hello there"
    assert seen["usage"] == (11, 5)
    assert seen["reasoning_tokens"] == REASONING_TOKENS
    if inbound == "messages":
        # A thinking block always has a signature: Anthropic's own, or one byecore mints
        # to carry the foreign reasoning's meta (blocks.py); Claude Code drops unsigned
        # thinking.
        assert seen["opaque"]
        assert (seen["opaque"] == SIGNATURE) == (upstream == "messages")
    if inbound == "responses":
        if upstream == "responses":
            assert seen["opaque"] == ENCRYPTED
        else:
            # Foreign opaque data rides in encrypted_content, packed (items.py).
            assert seen["opaque"].startswith("byecore.v1:")
    if inbound == "gemini":
        # Gemini's own signature, on the answer's last part; other protocols' reasoning
        # rides in a thoughtSignature byecore mints (gemini/parts.py mint_signature).
        if upstream == "gemini":
            assert seen["opaque"] == THOUGHT_SIGNATURE
        else:
            assert seen["opaque"].startswith(MINTED_GEMINI)


def own_reasoning(upstream: str, body: dict) -> list:
    """The reasoning the upstream got back in the assistant turn, in its own form."""
    if upstream == "chat":
        return [m["reasoning_content"] for m in body["messages"]
                if m["role"] == "assistant" and "reasoning_content" in m]
    if upstream == "responses":
        return [i for i in body["input"] if i.get("type") == "reasoning"]
    if upstream == "gemini":  # the signatures it gave, not the documented stand-in
        return [p["thoughtSignature"] for t in body["contents"] if t["role"] == "model"
                for p in t["parts"] if p.get("thoughtSignature") not in (None, SKIP)]
    return [b for m in body["messages"] if m["role"] == "assistant"
            and isinstance(m["content"], list) for b in m["content"]
            if b["type"] in ("thinking", "redacted_thinking")]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize(("inbound", "upstream"), pairs(PAIRS))
async def test_reasoning_round_trip_in_a_tool_loop(fake, start_proxy, clients, inbound,
                                                   upstream, stream):
    """Turn 1: reasoning + a tool call. Turn 2: that turn echoed back + the tool result."""
    fake.reasoning = True
    url = await start_proxy(one_provider(fake, upstream))
    thinker = Thinker(inbound, clients, url)
    history = [thinker.user("list files")]
    first = await thinker.ask(history, stream, tools=True)
    assert first["reasoning"] == REASONING[upstream]
    assert first["call"]["name"] == "exec_command"
    history += [*first["echo"], thinker.tool_result(first["call"])]
    second = await thinker.ask(history, False, tools=True)
    assert second["text"] == f"{upstream} got: file.txt"

    body, raw = fake.last["body"], fake.last["raw"].decode()
    got = own_reasoning(upstream, body)
    if upstream == "chat":
        # DeepSeek needs its reasoning_content echoed in a tool loop: every client brings
        # it back (a Chat client as is; Anthropic and Responses clients inside the minted
        # signature / packed encrypted_content).
        assert got == [REASONING["chat"]]
    elif upstream == "responses":
        if inbound == "chat":
            # Documented degrade (responses/request_encode.py): a Chat client echoes only
            # reasoning_content, not encrypted_content, and the Responses encoder drops
            # reasoning OpenAI did not issue.
            assert got == []
        else:
            (item,) = got
            assert item["encrypted_content"] == ENCRYPTED
            assert item["summary"] == [{"type": "summary_text",
                                        "text": REASONING["responses"]}]
    elif upstream == "gemini":
        # Gemini 3 refuses a replayed call without its signature (the fake does too):
        # a Gemini client sends it back itself, the others' calls get it from the
        # signature cache (gemini/signatures.py). Thought text goes back only from a
        # Gemini client, relayed as its own history; byecore replays no unsigned thought.
        assert got == [THOUGHT_SIGNATURE]
        thoughts = [p for t in body["contents"] for p in t["parts"] if p.get("thought")]
        assert bool(thoughts) == (inbound == "gemini")
    elif inbound == "chat":
        # Documented degrade (messages/encode.py): a Chat client cannot carry the
        # signature, unsigned thinking cannot be replayed, and with no signed thinking at
        # the start of the tool-loop turn thinking is left off (Anthropic would answer 400).
        assert got == []
        assert (body.get("thinking") or {}).get("type") != "enabled"
    else:
        assert got == [{"type": "thinking", "thinking": REASONING["messages"],
                        "signature": SIGNATURE}]
        (turn,) = [m for m in body["messages"] if m["role"] == "assistant"]
        assert turn["content"][0]["type"] == "thinking"  # the tool-loop turn starts with it
        assert body["thinking"]["type"] == "enabled"
    # Nothing minted, and no other protocol's opaque data, ever reaches an upstream.
    assert not any(mark in raw for mark in MINTED)
    assert not any(blob in raw for owner, blob in OPAQUE.items() if owner != upstream)


# Every switch but two kinds: a Chat client moving to a Chat upstream, and a Gemini client
# moving to a Gemini upstream. There the proxy relays the client's bytes, and the
# reasoning_content or thought parts the client echoes are the client's own message
# history, which byecore cannot tell from what the client wrote. A Messages or Responses
# client moving to an upstream of its own protocol carries byecore's minted signature or
# packed encrypted_content, which makes the proxy translate instead of relay
# (each wire's ``relayable``), so nothing foreign reaches that upstream.
RELAYED_HISTORY = ("chat", "gemini")
SWITCHES = [(i, a, b) for i in PROTOCOLS for a in PROTOCOLS for b in PROTOCOLS
            if a != b and not (b == i and i in RELAYED_HISTORY)]


@pytest.mark.parametrize(("inbound", "first", "then"), SWITCHES,
                         ids=[f"{i}-from-{a}-to-{b}" for i, a, b in SWITCHES])
async def test_reasoning_from_another_upstream_is_not_replayed(fake, start_proxy, clients,
                                                               inbound, first, then):
    """The conversation moves to another upstream (a route change, a fallback): the new
    upstream gets none of the first one's reasoning, opaque or not."""
    fake.reasoning = True
    thinker = Thinker(inbound, clients, await start_proxy(one_provider(fake, first)))
    history = [thinker.user("list files")]
    turn = await thinker.ask(history, False, tools=True)
    history += [*turn["echo"], thinker.tool_result(turn["call"])]
    thinker = Thinker(inbound, clients, await start_proxy(one_provider(fake, then)))
    await thinker.ask(history, False, tools=True)
    body, raw = fake.last["body"], fake.last["raw"].decode()
    assert fake.last["protocol"] == then
    assert own_reasoning(then, body) == []
    assert not any(mark in raw for mark in MINTED)
    assert not any(blob in raw for blob in OPAQUE.values())
