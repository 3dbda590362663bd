"""Prompt caches survive translation: a real session's turn N+1, as byecore sends it to each
upstream protocol, starts with the bytes of turn N's cacheable prefix.

The sessions (fixtures/sessions/) are real Claude Code and Codex traffic, six requests each.
Every request goes the way the proxy's translated path takes it (pipeline.py): the
client's codec decodes it, the model is replaced, the provider's quirks run, the upstream's
codec encodes it, and ``json.dumps(body, ensure_ascii=False)`` makes the bytes sent.

The cacheable prefix of a body, per upstream protocol, is the serialised body up to and
including the last element of its conversation list (``messages`` for Chat and Messages,
``input`` for Responses, ``contents`` for Gemini), without the list's closing bracket.
Because every key before the list is part of it (Chat: ``model``; Responses: ``model``,
``instructions``; Messages: ``model``, ``max_tokens``, ``system``; Gemini:
``systemInstruction`` …), "turn N+1 starts with turn N's prefix" says that those keys are
byte-identical and that turn N's conversation elements come back unchanged, in order, as
the first elements of turn N+1's. The keys after the list (tools, tool choice, settings)
are a cached prefix too for every vendor (OpenAI and Anthropic put tools first): they
must be identical from turn to turn.

For Messages the comparison leaves out ``cache_control`` markers: they say where to cache,
they are not content, and Claude Code itself moves its last breakpoint every turn (the
block that carried it in turn N comes back without it). That they reach the upstream
exactly as the client placed them is tested separately.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

import anthropic
import pytest
from openai.types.completion_usage import CompletionUsage
from openai.types.responses import ResponseUsage

from byecore_cli import codecs
from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.providers import quirks

SESSIONS = Path(__file__).parent / "fixtures" / "sessions"
CLIENTS = {"claude_code": "messages", "codex": "responses",
           "codex_developer_note": "responses"}
CONVERSATION = {"chat": "messages", "responses": "input", "messages": "messages",
                "gemini": "contents"}
# (upstream protocol, provider quirks): every protocol, and the quirk that rewrites the
# conversation itself
UPSTREAMS = [("chat", ()), ("chat", ("system_first",)), ("responses", ()),
             ("messages", ()), ("messages", ("system_first",)), ("gemini", ())]
SENTINEL = "\u0000conversation"


def turns(session: str) -> list[dict]:
    if session == "codex_developer_note":
        return with_developer_note(turns("codex"), from_turn=4)
    return json.loads((SESSIONS / f"{session}_session.json").read_text())["turns"]


def with_developer_note(history: list[dict], from_turn: int) -> list[dict]:
    """The Codex session, with the developer message Codex puts before a new user message
    when the sandbox or the model changed (``from_turn`` starts with one), kept in its
    history from then on: histories only grow at the end."""
    note = {"type": "message", "role": "developer", "content": [
        {"type": "input_text", "text": "<permissions instructions>\nsandbox_mode is now "
                                       "danger-full-access.\n</permissions instructions>"}]}
    out = []
    for n, turn in enumerate(history):
        body = copy.deepcopy(turn["body"])
        if n >= from_turn:
            at = len(history[from_turn]["body"]["input"]) - 1
            assert history[from_turn]["body"]["input"][at]["role"] == "user"
            body["input"].insert(at, note)
        out.append({**turn, "body": body})
    return out


def sent(inbound: str, body: dict, upstream: str, names=()) -> dict:
    """The body the proxy's translated path sends upstream for this client body."""
    hub = replace(codecs.get(inbound).decode_request(body), model="upstream-model")
    return codecs.get(upstream).encode_request(quirks.apply(names, hub))


def without_cache_control(value):
    if isinstance(value, dict):
        return {k: without_cache_control(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [without_cache_control(v) for v in value]
    return value


def cacheable_prefix(upstream: str, body: dict) -> str:
    """Everything ``json.dumps`` writes before the conversation list, then the list's
    elements, without its closing bracket (see the module docstring)."""
    key = CONVERSATION[upstream]
    if upstream == "messages":
        body = without_cache_control(body)
    assert key in body, f"{upstream} body has no {key}"
    head = json.dumps({**body, key: SENTINEL}, ensure_ascii=False)
    head = head[:head.index(json.dumps(SENTINEL))]
    return head + json.dumps(body[key], ensure_ascii=False)[:-1]


def after_conversation(upstream: str, body: dict) -> dict:
    """The keys that follow the conversation list (tools, choices, settings)."""
    keys = list(body)
    rest = {k: body[k] for k in keys[keys.index(CONVERSATION[upstream]) + 1:]}
    return without_cache_control(rest) if upstream == "messages" else rest


PAIRS = [(session, n) for session in CLIENTS for n in range(len(turns(session)) - 1)]


@pytest.mark.parametrize(("upstream", "names"), UPSTREAMS,
                         ids=["+".join((u, *q)) for u, q in UPSTREAMS])
@pytest.mark.parametrize(("session", "n"), PAIRS, ids=[f"{s}-{n}" for s, n in PAIRS])
def test_turn_n_plus_1_starts_with_the_bytes_of_turn_n(session, n, upstream, names):
    inbound = CLIENTS[session]
    history = turns(session)
    before = sent(inbound, history[n]["body"], upstream, names)
    after = sent(inbound, history[n + 1]["body"], upstream, names)
    prefix = cacheable_prefix(upstream, before)
    wire = json.dumps(without_cache_control(after) if upstream == "messages" else after,
                      ensure_ascii=False)
    assert len(after[CONVERSATION[upstream]]) > len(before[CONVERSATION[upstream]])
    if not wire.startswith(prefix):
        at = next(i for i, (a, b) in enumerate(zip(prefix, wire, strict=False)) if a != b)
        pytest.fail(f"turn {n + 1} differs from turn {n} at byte {at}: "
                    f"{prefix[max(0, at - 80):at + 80]!r} became "
                    f"{wire[max(0, at - 80):at + 80]!r}")
    assert after_conversation(upstream, after) == after_conversation(upstream, before)


# --- what else a cache needs --------------------------------------------------------------

def claude_code_session_id() -> str:
    first = turns("claude_code")[0]
    return json.loads(first["body"]["metadata"]["user_id"])["session_id"]


@pytest.mark.parametrize("upstream", ["chat", "responses"])
def test_claude_codes_session_is_the_prompt_cache_key_on_openai_upstreams(upstream):
    session = claude_code_session_id()
    assert turns("claude_code")[0]["headers"]["x-claude-code-session-id"] == session
    keys = {sent("messages", t["body"], upstream)["prompt_cache_key"]
            for t in turns("claude_code")}
    assert keys == {session}


@pytest.mark.parametrize("upstream", ["chat", "responses"])
def test_codexs_own_prompt_cache_key_reaches_openai_upstreams(upstream):
    keys = {t["body"]["prompt_cache_key"] for t in turns("codex")}
    assert len(keys) == 1
    assert {sent("responses", t["body"], upstream)["prompt_cache_key"]
            for t in turns("codex")} == keys


@pytest.mark.parametrize(("user_id", "key"), [
    ('{"device_id":"d","account_uuid":"","session_id":"1e61bca9-9499-4ca6-adcb-bb28e45d515f"}',
     "1e61bca9-9499-4ca6-adcb-bb28e45d515f"),
    ("user_3f2a_account__session_0b6c2f6e-2f4e-4a36-9d27-6d1e8f0a5b11",  # Claude Code 1.x
     "0b6c2f6e-2f4e-4a36-9d27-6d1e8f0a5b11"),
    ("alice", None),  # another client's user id names a user, not a conversation
    ('{"session_id": 7}', None),
])
def test_the_session_key_comes_from_either_form_of_user_id(user_id, key):
    body = {"model": "m", "max_tokens": 10, "metadata": {"user_id": user_id},
            "messages": [{"role": "user", "content": "hi"}]}
    hub = codecs.get("messages").decode_request(body)
    assert hub.cache_key == key
    assert ("prompt_cache_key" in codecs.get("chat").encode_request(hub)) is (key is not None)


def test_a_session_id_unfit_for_a_key_goes_hashed_and_stable():
    body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}],
            "metadata": {"user_id": json.dumps({"session_id": "x" * 80 + " ü"})}}
    first, again = (codecs.get("messages").decode_request(body).cache_key for _ in range(2))
    assert first == again and len(first) == 32 and first.isalnum()


def markers(body: dict) -> list[tuple]:
    """Every cache_control of a Messages body, in order, with where it sits."""
    found = [("system", b["cache_control"]) for b in body.get("system", [])
             if "cache_control" in b]
    found += [("tool", t["name"], t["cache_control"]) for t in body.get("tools", [])
              if "cache_control" in t]
    for message in body["messages"]:
        content = message["content"]
        for block in content if isinstance(content, list) else ():
            if "cache_control" in block:
                found.append(("message", block["type"], block["cache_control"]))
    return found


@pytest.mark.parametrize("n", range(len(turns("claude_code"))))
def test_cache_control_with_ttl_reaches_a_messages_upstream_as_the_client_placed_it(n):
    body = copy.deepcopy(turns("claude_code")[n]["body"])
    hour = {"type": "ephemeral", "ttl": "1h", "scope": "global"}
    for block in [*body["system"], *(b for m in body["messages"] if isinstance(
            m["content"], list) for b in m["content"])]:
        if "cache_control" in block:
            block["cache_control"] = dict(hour)
    body["tools"][-1]["cache_control"] = {"type": "ephemeral", "ttl": "1h"}
    wire = sent("messages", body, "messages")
    assert markers(wire) == markers(body)
    assert len(markers(wire)) >= 3  # system, tool and this turn's breakpoint


def test_a_codex_session_on_a_messages_upstream_gets_claude_codes_breakpoints():
    for turn in turns("codex"):
        wire = sent("responses", turn["body"], "messages")
        last = wire["messages"][-1]["content"][-1]
        assert markers(wire) == [("system", {"type": "ephemeral"}),
                                 ("tool", wire["tools"][-1]["name"], {"type": "ephemeral"}),
                                 ("message", last["type"], {"type": "ephemeral"})]


def test_claude_codes_mid_conversation_system_message_stays_where_it_was():
    body = turns("claude_code")[2]["body"]
    said = body["messages"][1]["content"]
    said = said if isinstance(said, str) else said[0]["text"]
    chat = sent("messages", body, "chat")["messages"]
    assert [m["role"] for m in chat[:3]] == ["system", "user", "system"]
    assert chat[2]["content"] == said
    items = sent("messages", body, "responses")["input"]
    assert [(i.get("type"), i.get("role")) for i in items[:2]] == [
        ("message", "user"), ("message", "system")]
    anthropic = sent("messages", body, "messages")
    assert said not in json.dumps(anthropic["system"])
    assert said in anthropic["messages"][0]["content"][-1]["text"]


def test_system_text_goes_unchanged():
    body = turns("claude_code")[3]["body"]
    texts = [b["text"] for b in body["system"]
             if not b["text"].startswith("x-anthropic-billing-header:")]
    assert sent("messages", body, "chat")["messages"][0] == {
        "role": "system", "content": "\n\n".join(texts)}
    assert sent("messages", body, "responses")["instructions"] == "\n\n".join(texts)
    assert sent("messages", body, "messages")["system"] == body["system"]


# --- cache figures reach the client, in its own usage fields --------------------------------

def _sse(events: list[tuple[str | None, dict]]) -> bytes:
    return b"".join((f"event: {n}\n" if n else "").encode() + f"data: {json.dumps(d)}\n\n"
                    .encode() for n, d in events)


# Each upstream's stream of a short answer whose prompt was 10,000 tokens, 6,000 of them
# read from the cache and (where the protocol says so) 1,000 written to it.
UPSTREAM_STREAMS = {
    "chat": (_sse([(None, {"id": "c1", "object": "chat.completion.chunk", "model": "m",
                           "choices": [{"index": 0, "delta": {"role": "assistant",
                                                              "content": "ok"}}]}),
                   (None, {"id": "c1", "object": "chat.completion.chunk", "model": "m",
                           "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
                   (None, {"id": "c1", "object": "chat.completion.chunk", "model": "m",
                           "choices": [], "usage": {
                               "prompt_tokens": 10000, "completion_tokens": 5,
                               "total_tokens": 10005, "prompt_tokens_details": {
                                   "cached_tokens": 6000, "cache_write_tokens": 1000}}})])
             + b"data: [DONE]\n\n", 1000),
    "responses": (_sse([
        ("response.created", {"type": "response.created", "response": {
            "id": "r1", "object": "response", "status": "in_progress", "output": []}}),
        ("response.output_item.added", {"type": "response.output_item.added",
                                        "output_index": 0, "item": {
                                            "type": "message", "id": "m1", "role": "assistant",
                                            "status": "in_progress", "content": []}}),
        ("response.output_text.delta", {"type": "response.output_text.delta", "item_id": "m1",
                                        "output_index": 0, "content_index": 0, "delta": "ok"}),
        ("response.completed", {"type": "response.completed", "response": {
            "id": "r1", "object": "response", "status": "completed", "output": [
                {"type": "message", "id": "m1", "role": "assistant", "status": "completed",
                 "content": [{"type": "output_text", "text": "ok", "annotations": []}]}],
            "usage": {"input_tokens": 10000, "output_tokens": 5, "total_tokens": 10005,
                      "input_tokens_details": {"cached_tokens": 6000,
                                               "cache_write_tokens": 1000},
                      "output_tokens_details": {"reasoning_tokens": 0}}}})]), 1000),
    "messages": (_sse([
        ("message_start", {"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {
                "input_tokens": 3000, "cache_read_input_tokens": 6000,
                "cache_creation_input_tokens": 1000, "output_tokens": 1,
                "cache_creation": {"ephemeral_5m_input_tokens": 0,
                                   "ephemeral_1h_input_tokens": 1000}}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": "ok"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                              "stop_sequence": None},
                           "usage": {"output_tokens": 5}}),
        ("message_stop", {"type": "message_stop"})]), 1000),
    "gemini": (_sse([(None, {"candidates": [{"content": {"role": "model", "parts": [
        {"text": "ok"}]}, "finishReason": "STOP", "index": 0}], "usageMetadata": {
            "promptTokenCount": 10000, "candidatesTokenCount": 5, "totalTokenCount": 10005,
            "cachedContentTokenCount": 6000}, "modelVersion": "m"})]), 0),
}


def relay(upstream: str, client: str, request, stream: bytes) -> list[dict]:
    """The client's stream events (JSON) for an upstream stream, through the codecs."""
    decoder = codecs.get(upstream).stream_decoder(request)
    encoder = codecs.get(client).stream_encoder(request)
    out = b""
    for event in SSEDecoder().feed(stream):
        for hub_event in decoder.feed(event):
            out += encoder.feed(hub_event)
    for hub_event in decoder.flush():
        out += encoder.feed(hub_event)
    out += encoder.flush()
    return [json.loads(e.data) for e in SSEDecoder().feed(out) if e.data != "[DONE]"]


@pytest.mark.parametrize("upstream", list(UPSTREAM_STREAMS))
def test_claude_code_sees_the_upstreams_cache_reads_and_writes(upstream):
    stream, written = UPSTREAM_STREAMS[upstream]
    request = codecs.get("messages").decode_request(turns("claude_code")[1]["body"])
    events = relay(upstream, "messages", request, stream)
    # read the way Claude Code's SDK reads them
    final = anthropic.types.MessageDeltaUsage.model_validate(
        [e for e in events if e["type"] == "message_delta"][-1]["usage"])
    assert final.cache_read_input_tokens == 6000
    assert final.cache_creation_input_tokens == written
    assert final.input_tokens == 10000 - 6000 - written  # Anthropic's input excludes both
    start = anthropic.types.Usage.model_validate(events[0]["message"]["usage"])
    if upstream == "messages":  # the upstream told it at the start: so does the client
        assert (start.cache_read_input_tokens, start.input_tokens) == (6000, 3000)
        assert start.cache_creation == anthropic.types.CacheCreation(
            ephemeral_5m_input_tokens=0, ephemeral_1h_input_tokens=1000)


@pytest.mark.parametrize("upstream", list(UPSTREAM_STREAMS))
def test_codex_sees_the_upstreams_cache_reads(upstream):
    stream, written = UPSTREAM_STREAMS[upstream]
    request = codecs.get("responses").decode_request(turns("codex")[1]["body"])
    events = relay(upstream, "responses", request, stream)
    usage = ResponseUsage.model_validate(
        [e for e in events if e["type"] == "response.completed"][0]["response"]["usage"])
    assert usage.input_tokens == 10000  # OpenAI's input includes the cached part
    assert usage.input_tokens_details.cached_tokens == 6000
    assert (usage.input_tokens_details.cache_write_tokens or 0) == written


@pytest.mark.parametrize("upstream", list(UPSTREAM_STREAMS))
def test_a_chat_client_sees_the_upstreams_cache_reads(upstream):
    stream, written = UPSTREAM_STREAMS[upstream]
    body = {"model": "m", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "hi"}]}
    request = codecs.get("chat").decode_request(body)
    usage = CompletionUsage.model_validate(
        [e for e in relay(upstream, "chat", request, stream) if e.get("usage")][-1]["usage"])
    assert usage.prompt_tokens == 10000
    assert usage.prompt_tokens_details.cached_tokens == 6000
    assert (usage.prompt_tokens_details.cache_write_tokens or 0) == written
