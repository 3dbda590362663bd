"""Images and reasoning, every client protocol over every upstream protocol (3 × 3).

Driven by the official openai and anthropic SDKs (their stream helpers included), against
the fake upstream of fake_upstream.py. The diagonal is the byte pass-through; the other
six go through the codecs.

- Images: a user image (base64 PNG and an https URL) in the client's own form must reach
  the upstream in the upstream's own form with the same bytes / URL; an image inside a
  tool result (Codex's ``view_image`` output, an Anthropic ``tool_result`` image) reaches
  a Responses or Messages upstream in place, and a Chat upstream in a user message right
  after the tool message (Chat tool messages cannot carry images).
- Reasoning: the upstream thinks in its own form (fake_upstream ``with_reasoning``); the
  client gets it in its own form, with the text and the reasoning-token usage. On the next
  turn, echoed back as the SDK returned it, the upstream gets its OWN opaque data back
  (Anthropic signature, Responses ``encrypted_content``, DeepSeek ``reasoning_content``)
  whenever the client protocol can carry it, and never anything minted or foreign.
"""

from __future__ import annotations

import base64
import json

import pytest

from tests.proxy.conftest import one_provider
from tests.proxy.fake_upstream import ENCRYPTED, REASONING, REASONING_TOKENS, SIGNATURE

PROTOCOLS = ("chat", "responses", "messages")
PAIRS = [(i, u) for i in PROTOCOLS for u in PROTOCOLS]
IDS = [f"{i}-over-{u}" for i, u in PAIRS]
PARAMS = {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]}

# A real 1×1 PNG.
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAA"
       "AABJRU5ErkJggg==")
DATA_URL = f"data:image/png;base64,{PNG}"
IMAGE_URL = "https://example.com/cat.png"
SENT = [("base64", "image/png", PNG), ("url", IMAGE_URL)]
# What byecore mints to carry foreign opaque data through a client (blocks.py, items.py):
# it must never reach an upstream.
MINTED = ("byecore1.", "byecore.v1:")


def test_the_png_is_real():
    assert base64.b64decode(PNG).startswith(b"\x89PNG\r\n\x1a\n")


# -- images the upstream received, in ITS protocol's form only ---------------------------


def _chat_image(part: dict):
    if part.get("type") != "image_url":
        return None
    url = part["image_url"]["url"]
    if url.startswith("data:"):
        head, data = url.split(",", 1)
        assert head.endswith(";base64")
        return ("base64", head[len("data:"):-len(";base64")], data)
    return ("url", url)


def _responses_image(part: dict):
    if part.get("type") != "input_image":
        return None
    return _chat_image({"type": "image_url", "image_url": {"url": part["image_url"]}})


def _messages_image(part: dict):
    if part.get("type") != "image":
        return None
    source = part["source"]
    if source["type"] == "base64":
        return ("base64", source["media_type"], source["data"])
    assert source["type"] == "url"
    return ("url", source["url"])


IMAGE_OF = {"chat": _chat_image, "responses": _responses_image, "messages": _messages_image}


def images_in(protocol: str, content) -> list:
    if not isinstance(content, list):
        return []
    return [found for part in content if (found := IMAGE_OF[protocol](part))]


def user_turns(protocol: str, body: dict) -> list[dict]:
    turns = body["input"] if protocol == "responses" else body["messages"]
    return [t for t in turns if t.get("role") == "user"]


# -- images ----------------------------------------------------------------------------


async def send_images(inbound: str, sdk, url: str) -> str:
    """The client sends "what is this" with a base64 PNG and an image URL; the answer."""
    if inbound == "chat":
        c = sdk.openai(url)
        r = await c.chat.completions.create(model="up-model", messages=[{
            "role": "user", "content": [
                {"type": "text", "text": "what is this"},
                {"type": "image_url", "image_url": {"url": DATA_URL}},
                {"type": "image_url", "image_url": {"url": IMAGE_URL}}]}])
        return r.choices[0].message.content
    if inbound == "responses":
        c = sdk.openai(url)
        r = await c.responses.create(model="up-model", input=[{
            "role": "user", "content": [
                {"type": "input_text", "text": "what is this"},
                {"type": "input_image", "image_url": DATA_URL, "detail": "auto"},
                {"type": "input_image", "image_url": IMAGE_URL, "detail": "auto"}]}])
        return r.output_text
    c = sdk.anthropic(url)
    m = await c.messages.create(model="up-model", max_tokens=100, messages=[{
        "role": "user", "content": [
            {"type": "text", "text": "what is this"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": PNG}},
            {"type": "image", "source": {"type": "url", "url": IMAGE_URL}}]}])
    return m.content[0].text


@pytest.mark.parametrize(("inbound", "upstream"), PAIRS, ids=IDS)
async def test_user_images(fake, start_proxy, sdk, inbound, upstream):
    url = await start_proxy(one_provider(fake, upstream))
    answer = await send_images(inbound, sdk, url)
    assert answer == f"{upstream} says: what is this"
    assert fake.last["protocol"] == upstream
    (user,) = user_turns(upstream, fake.last["body"])
    assert images_in(upstream, user["content"]) == SENT


async def send_tool_image(inbound: str, sdk, url: str) -> None:
    """A tool loop whose tool result holds text and a base64 PNG (Codex's view_image)."""
    if inbound == "responses":
        c = sdk.openai(url)
        await c.responses.create(model="up-model", tools=[
            {"type": "function", "name": "view_image", "parameters": PARAMS}], input=[
            {"role": "user", "content": "look at it"},
            {"type": "function_call", "call_id": "call_img", "name": "view_image",
             "arguments": json.dumps({"cmd": "cat.png"})},
            {"type": "function_call_output", "call_id": "call_img", "output": [
                {"type": "input_text", "text": "the image:"},
                {"type": "input_image", "image_url": DATA_URL, "detail": "auto"}]}])
        return
    c = sdk.anthropic(url)
    await c.messages.create(model="up-model", max_tokens=100, tools=[
        {"name": "view_image", "input_schema": PARAMS}], messages=[
        {"role": "user", "content": "look at it"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "call_img",
                                           "name": "view_image",
                                           "input": {"cmd": "cat.png"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_img",
                                      "content": [
                                          {"type": "text", "text": "the image:"},
                                          {"type": "image", "source": {
                                              "type": "base64", "media_type": "image/png",
                                              "data": PNG}}]}]}])


TOOL_IMAGE_PAIRS = [(i, u) for i in ("responses", "messages") for u in PROTOCOLS]


# A Chat client has no standard way to put an image in a tool result (tool message content
# is text parts only), so only Responses and Messages clients send one.
@pytest.mark.parametrize(("inbound", "upstream"), TOOL_IMAGE_PAIRS,
                         ids=[f"{i}-over-{u}" for i, u in TOOL_IMAGE_PAIRS])
async def test_image_in_tool_result(fake, start_proxy, sdk, inbound, upstream):
    url = await start_proxy(one_provider(fake, upstream))
    await send_tool_image(inbound, sdk, url)
    body = fake.last["body"]
    assert fake.last["protocol"] == upstream
    png = [("base64", "image/png", PNG)]
    if upstream == "chat":
        # Chat tool messages carry text only: the text stays in the tool message, the image
        # moves to ONE user message right after it, labelled with the call id (encode.py).
        roles = [m["role"] for m in body["messages"]]
        assert roles == ["user", "assistant", "tool", "user"]
        tool, after = body["messages"][2], body["messages"][3]
        assert tool["tool_call_id"] == "call_img"
        assert isinstance(tool["content"], str)
        assert "the image:" in tool["content"]
        assert images_in("chat", after["content"]) == png
        assert "call_img" in json.dumps(after["content"])
    elif upstream == "responses":
        (out,) = [i for i in body["input"] if i.get("type") == "function_call_output"]
        assert out["call_id"] == "call_img"
        assert images_in("responses", out["output"]) == png
        assert {"type": "input_text", "text": "the image:"} in out["output"]
        assert all(not images_in("responses", t.get("content"))
                   for t in user_turns("responses", body))
    else:
        last = body["messages"][-1]
        (result,) = [b for b in last["content"] if b["type"] == "tool_result"]
        assert result["tool_use_id"] == "call_img"
        assert images_in("messages", result["content"]) == png
        assert {"type": "text", "text": "the image:"} in result["content"]


# -- reasoning -------------------------------------------------------------------------


class Thinker:
    """One client protocol asking for reasoning through its SDK.

    ``ask`` returns what the client saw: {"reasoning": text, "opaque": the signature or
    encrypted_content if the protocol has one, "text", "reasoning_tokens", "echo": the
    assistant turn as the client would send it back, "call": the tool call if any}.
    """

    def __init__(self, inbound: str, sdk, url: str) -> None:
        self.inbound = inbound
        self.client = sdk.anthropic(url) if inbound == "messages" else sdk.openai(url)

    async def ask(self, history: list, stream: bool, tools: bool = False) -> dict:
        return await getattr(self, "_" + self.inbound)(history, stream, tools)

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

    def tool_result(self, call: dict) -> dict:
        if self.inbound == "chat":
            return {"role": "tool", "tool_call_id": call["id"], "content": "file.txt"}
        if self.inbound == "responses":
            return {"type": "function_call_output", "call_id": call["id"],
                    "output": "file.txt"}
        return {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"],
                                             "content": "file.txt"}]}


def user(said: str) -> dict:
    return {"role": "user", "content": said}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize(("inbound", "upstream"), PAIRS, ids=IDS)
async def test_reasoning_reaches_the_client(fake, start_proxy, sdk, inbound, upstream,
                                            stream):
    fake.reasoning = True
    url = await start_proxy(one_provider(fake, upstream))
    seen = await Thinker(inbound, sdk, url).ask([user("hello there")], stream)
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


def own_reasoning(upstream: str, body: dict) -> list:
    """The reasoning the upstream got back in the assistant turn, in its own form."""
    if upstream == "chat":
        return [m["reasoning_content"] for m in body["messages"]
                if m["role"] == "assistant" and "reasoning_content" in m]
    if upstream == "responses":
        return [i for i in body["input"] if i.get("type") == "reasoning"]
    return [b for m in body["messages"] if m["role"] == "assistant"
            and isinstance(m["content"], list) for b in m["content"]
            if b["type"] in ("thinking", "redacted_thinking")]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize(("inbound", "upstream"), PAIRS, ids=IDS)
async def test_reasoning_round_trip_in_a_tool_loop(fake, start_proxy, sdk, inbound,
                                                   upstream, stream):
    """Turn 1: reasoning + a tool call. Turn 2: that turn echoed back + the tool result."""
    fake.reasoning = True
    url = await start_proxy(one_provider(fake, upstream))
    thinker = Thinker(inbound, sdk, url)
    history = [user("list files")]
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
    foreign = {"chat": (ENCRYPTED, SIGNATURE), "responses": (SIGNATURE,),
               "messages": (ENCRYPTED,)}[upstream]
    assert not any(blob in raw for blob in foreign)


# Every switch but one kind: a Chat client moving to a Chat upstream. There the proxy
# relays the client's bytes, and the reasoning_content the client echoes is the client's
# own message history, which byecore cannot tell from text the client wrote. A Messages or
# Responses client moving to an upstream of its own protocol carries byecore's minted
# signature or packed encrypted_content, which makes the proxy translate instead of relay
# (proxy/router.py carries_minted), so nothing foreign reaches that upstream.
SWITCHES = [(i, a, b) for i in PROTOCOLS for a in PROTOCOLS for b in PROTOCOLS
            if a != b and not (b == i == "chat")]


@pytest.mark.parametrize(("inbound", "first", "then"), SWITCHES,
                         ids=[f"{i}-from-{a}-to-{b}" for i, a, b in SWITCHES])
async def test_reasoning_from_another_upstream_is_not_replayed(fake, start_proxy, sdk,
                                                               inbound, first, then):
    """The conversation moves to another upstream (a route change, a fallback): the new
    upstream gets none of the first one's reasoning, opaque or not."""
    fake.reasoning = True
    thinker = Thinker(inbound, sdk, await start_proxy(one_provider(fake, first)))
    history = [user("list files")]
    turn = await thinker.ask(history, False, tools=True)
    history += [*turn["echo"], thinker.tool_result(turn["call"])]
    thinker = Thinker(inbound, sdk, await start_proxy(one_provider(fake, then)))
    await thinker.ask(history, False, tools=True)
    body, raw = fake.last["body"], fake.last["raw"].decode()
    assert fake.last["protocol"] == then
    assert own_reasoning(then, body) == []
    assert not any(mark in raw for mark in MINTED)
    assert ENCRYPTED not in raw and SIGNATURE not in raw
