"""Claude Code, Codex and Chat clients on a Gemini upstream, Gemini 3 included.

Each client's request (the fixtures, with the tool schemas Claude Code 2.1.332 and Codex
0.171 really send, from fixtures/gemini/client_tools.json) is decoded to the hub and
encoded for Gemini, then checked for what the Gemini API demands: the SDK's types, roles
that alternate, every call answered in the next turn under its own name, schemas with
only the keywords ``parameters`` takes, legal names, a signature on the first call of
every model step. A scripted Gemini answer (validated as a real ``GenerateContentResponse``
by google-genai) with thinking, text and two parallel calls, the first signed, is decoded
whole and streamed, re-encoded for the client and parsed by the client's own SDK; the
client's next turn, built from what the SDK parsed, must carry the signature back to
Gemini although its protocol has nowhere to put it.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from dataclasses import replace

import pytest
from anthropic.types import Message as SDKMessage

from byecore_cli import codecs
from byecore_cli.codecs.gemini import CODEC as gemini
from byecore_cli.codecs.gemini import encode as gemini_encode
from byecore_cli.codecs.gemini import response as gemini_response
from byecore_cli.codecs.gemini.signatures import SignatureCache
from byecore_cli.codecs.gemini.turns import SKIP_SIGNATURE
from byecore_cli.hub import Request, ToolCall, Usage
from byecore_cli.hub.assemble import assemble
from tests.codecs import responses_helpers
from tests.codecs.gemini_helpers import (
    assert_valid_request,
    assert_valid_response,
    decode_stream,
    encode_stream,
    load,
)
from tests.codecs.test_chat_response import validate as validate_chat
from tests.codecs.test_chat_stream import sdk_final as chat_sdk_final
from tests.codecs.test_messages_stream import sdk_final as messages_sdk_final

MODELS = ("gemini-2.5-pro", "gemini-3-pro-preview", "gemini-3-flash-preview")
GEMINI_3 = "gemini-3-pro-preview"
SIGNATURE = "CrICAdHtim9mYWtlLXNpZ25hdHVyZS1mb3ItdGVzdHP7//4="  # real base64, with + and /
TOOLS = load("client_tools.json")
# The keywords a Gemini ``parameters`` Schema may hold (the API's OpenAPI subset).
SCHEMA_KEYS = {"type", "format", "title", "description", "nullable", "enum", "maxItems",
               "minItems", "properties", "required", "minProperties", "maxProperties",
               "minLength", "maxLength", "pattern", "example", "anyOf", "propertyOrdering",
               "default", "items", "minimum", "maximum"}
LEGAL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}")
USAGE = {"promptTokenCount": 12000, "candidatesTokenCount": 120, "totalTokenCount": 12420,
         "cachedContentTokenCount": 8000, "thoughtsTokenCount": 300,
         "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12000}],
         "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 8000}]}
HUB_USAGE = Usage(input_tokens=12000, output_tokens=420, cache_read_tokens=8000,
                  reasoning_tokens=300)


def claude_code(model: str) -> tuple[dict, Request]:
    body = load("claude_code_request.json", "messages")
    body["tools"] = copy.deepcopy(TOOLS["claude_code"])
    return body, replace(codecs.get("messages").decode_request(body), model=model)


def codex(model: str) -> tuple[dict, Request]:
    body = load("codex_request.json", "responses")
    namespace = [t for t in body["tools"] if t["type"] == "namespace"]  # its history uses it
    body["tools"] = copy.deepcopy(TOOLS["codex"]) + namespace
    return body, replace(codecs.get("responses").decode_request(body), model=model)


def chat_client(model: str) -> tuple[dict, Request]:
    body = load("request_opencode.json", "chat")
    return body, replace(codecs.get("chat").decode_request(body), model=model)


CLIENTS = {"claude_code": claude_code, "codex": codex, "chat": chat_client}


# --- the request Gemini gets ----------------------------------------------------------------

def _schemas(schema: dict, path: str):
    yield path, schema
    for name, sub in (schema.get("properties") or {}).items():
        yield from _schemas(sub, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from _schemas(schema["items"], f"{path}[]")
    for i, sub in enumerate(schema.get("anyOf") or []):
        yield from _schemas(sub, f"{path}|{i}")


def gemini_problems(wire: dict, model: str) -> list[str]:
    """What the Gemini API would refuse in ``wire`` beyond the SDK types."""
    problems = []
    contents = wire["contents"]
    roles = [c["role"] for c in contents]
    if roles[:1] != ["user"] or any(a == b for a, b in zip(roles, roles[1:], strict=False)):
        problems.append(f"roles do not alternate from user: {roles}")
    for i, turn in enumerate(contents):
        calls = [p for p in turn["parts"] if "functionCall" in p]
        if turn["role"] != "model" or not calls:
            continue
        if "gemini-3" in model and not calls[0].get("thoughtSignature"):
            problems.append(f"contents[{i}]: the first call carries no thoughtSignature")
        answer = contents[i + 1]["parts"] if i + 1 < len(contents) else []
        names = [p["functionResponse"]["name"] for p in answer if "functionResponse" in p]
        if names != [c["functionCall"]["name"] for c in calls]:
            problems.append(f"contents[{i + 1}]: responses {names} do not answer the calls")
    declared = [d for t in wire.get("tools", []) for d in t.get("functionDeclarations", [])]
    for decl in declared:
        if not LEGAL_NAME.fullmatch(decl["name"]):
            problems.append(f"illegal function name {decl['name']!r}")
        for path, node in _schemas(decl.get("parameters") or {}, decl["name"]):
            if set(node) - SCHEMA_KEYS:
                problems.append(f"{path}: {sorted(set(node) - SCHEMA_KEYS)}")
            if node.get("type") == "OBJECT" and node.get("properties") == {}:
                problems.append(f"{path}: an empty properties map")
    if len({d["name"] for d in declared}) != len(declared):
        problems.append("two declarations share a name")
    if wire.get("generationConfig", {}).get("maxOutputTokens", 0) > 65536:
        problems.append("maxOutputTokens above the model's 65536")
    return problems


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("client", list(CLIENTS))
def test_client_requests_are_what_gemini_accepts(client, model):
    _, hub = CLIENTS[client](model)
    wire = gemini.encode_request(hub)
    assert_valid_request(wire)
    assert gemini_problems(wire, model) == []
    declared = {d["name"] for t in wire.get("tools", []) for d in t.get("functionDeclarations",
                                                                       [])}
    wanted = {t.name for t in hub.tools if t.kind != "hosted"}
    assert len(declared) == len(wanted)  # every function and custom tool, no hosted one


def test_real_client_schemas_keep_their_meaning():
    _, hub = claude_code(GEMINI_3)
    decls = {d["name"]: d for t in gemini.encode_request(hub)["tools"]
             for d in t["functionDeclarations"]}
    read = decls["Read"]["parameters"]["properties"]
    assert read["limit"]["minimum"] == 1  # exclusiveMinimum 0 on an integer
    assert decls["Bash"]["parameters"]["required"] == ["command"]
    assert "format: uri" in decls["WebFetch"]["parameters"]["properties"]["url"]["description"]
    to = decls["SendMessage"]["parameters"]["properties"]["to"]  # allOf of two patterns
    assert to["type"] == "STRING" and "pattern" in to
    assert "parameters" not in decls["DeferredToolPlaceholder"]  # no arguments at all
    assert gemini.encode_request(hub)["generationConfig"]["maxOutputTokens"] == 32000
    _, hub = codex(GEMINI_3)
    decls = {d["name"]: d for t in gemini.encode_request(hub)["tools"]
             for d in t["functionDeclarations"]}
    assert decls["apply_patch"]["parameters"]["required"] == ["input"]  # a custom tool
    assert "multi_agent_v1__spawn_agent" in decls
    assert "parameters" not in decls["get_goal"]


# --- a scripted Gemini answer -------------------------------------------------------------

def answer_parts(first: tuple[str, dict], second: tuple[str, dict]) -> list[dict]:
    return [{"text": "**Checking the failure**\n\nRun it, then read.", "thought": True},
            {"text": "I'll check both."},
            {"functionCall": {"name": first[0], "args": first[1]}, "thoughtSignature": SIGNATURE},
            {"functionCall": {"name": second[0], "args": second[1]}}]


def whole_answer(parts: list[dict]) -> dict:
    return {"candidates": [{"content": {"role": "model", "parts": parts},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": USAGE, "modelVersion": GEMINI_3, "responseId": "resp-1"}


def streamed_answer(parts: list[dict]) -> bytes:
    """The answer as Gemini streams it: thought and text in pieces, the calls one chunk
    each, the counts so far on every chunk, the finish and the final counts last."""
    thought, text, first, second = parts
    pieces = [[{"text": thought["text"][:12], "thought": True}],
              [{"text": thought["text"][12:], "thought": True}],
              [{"text": text["text"][:5]}], [{"text": text["text"][5:]}], [first], [second]]
    chunks = []
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        candidate = {"content": {"role": "model", "parts": piece}, "index": 0}
        if last:
            candidate["finishReason"] = "STOP"
        usage = USAGE if last else {"promptTokenCount": 12000, "totalTokenCount": 12000 + i,
                                    "candidatesTokenCount": i}
        chunks.append({"candidates": [candidate], "usageMetadata": usage,
                       "modelVersion": GEMINI_3, "responseId": "resp-1"})
    for chunk in chunks:
        assert_valid_response(chunk)
    return b"".join(b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in chunks)


CLAUDE_CALLS = (("Bash", {"command": "pytest -x -q", "description": "Run the tests"}),
                ("Read", {"file_path": "/repo/src/parse.py"}))
CODEX_CALLS = (("exec_command", {"cmd": "pytest -q"}),
               ("apply_patch", {"input": "*** Begin Patch\n*** End Patch\n"}))
CHAT_CALLS = (("bash", {"command": "ls", "description": "List"}),
              ("read", {"filePath": "/repo/a.py"}))


@pytest.fixture
def cache(monkeypatch):
    """A fresh signature cache for the test (the process-wide one is shared)."""
    fresh = SignatureCache()
    monkeypatch.setattr(gemini_response, "SIGNATURES", fresh)
    monkeypatch.setattr(gemini_encode, "SIGNATURES", fresh)
    return fresh


def gemini_decode(answer, hub: Request, streamed: bool, split: int | None = None):
    """hub events for the client's encoder (a whole answer exploded the pipeline's way)."""
    if streamed:
        return decode_stream(answer, hub, split)
    return gemini.decode_response(answer, hub)


def replayed_model_turn(wire: dict, name: str) -> tuple[dict, dict]:
    """The last model turn that calls ``name``, and the user turn after it."""
    contents = wire["contents"]
    i = max(i for i, c in enumerate(contents) if c["role"] == "model" and any(
        p.get("functionCall", {}).get("name") == name for p in c["parts"]))
    return contents[i], contents[i + 1]


def assert_signature_came_back(wire: dict, first: str, second: str, model: str) -> None:
    assert_valid_request(wire)
    assert gemini_problems(wire, model) == []
    turn, answer = replayed_model_turn(wire, first)
    calls = [p for p in turn["parts"] if "functionCall" in p]
    assert [c["functionCall"]["name"] for c in calls] == [first, second]
    assert calls[0]["thoughtSignature"] == SIGNATURE  # exactly what Gemini gave
    assert "thoughtSignature" not in calls[1]  # Gemini signs only the first parallel call
    assert "id" not in calls[0]["functionCall"]  # byecore's made-up ids never reach Gemini
    assert [p["functionResponse"]["name"] for p in answer["parts"]
            if "functionResponse" in p] == [first, second]


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_claude_code_tool_loop_on_gemini_3(streamed, cache):
    body, hub = claude_code(GEMINI_3)
    parts = answer_parts(*CLAUDE_CALLS)
    messages = codecs.get("messages")
    if streamed:
        message = messages_sdk_final(encode_stream(
            gemini_decode(streamed_answer(parts), hub, True, 7), hub, "messages"))
    else:
        answer = whole_answer(parts)
        assert_valid_response(answer)
        message = SDKMessage.model_validate(messages.encode_response(
            gemini.decode_response(answer, hub), hub))
    assert [b.type for b in message.content] == ["thinking", "text", "tool_use", "tool_use"]
    assert [(b.name, b.input) for b in message.content[2:]] == [
        (n, a) for n, a in CLAUDE_CALLS]
    assert message.stop_reason == "tool_use"
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens,
            message.usage.output_tokens) == (4000, 8000, 420)
    assert len(cache) == 1  # only the signed call is remembered
    # Claude Code's next turn: the assistant content as the SDK parsed it, then results
    body["messages"] += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True)
                                          for b in message.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": b.id,
                                      "content": "ok"} for b in message.content[2:]]}]
    again = replace(messages.decode_request(body), model=GEMINI_3)
    wire = gemini.encode_request(again)
    assert_signature_came_back(wire, "Bash", "Read", GEMINI_3)
    assert SIGNATURE not in json.dumps(messages.encode_response(
        gemini.decode_response(whole_answer(parts), hub), hub))  # never shown to the client


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_codex_tool_loop_on_gemini_3(streamed, cache):
    body, hub = codex(GEMINI_3)
    parts = answer_parts(*CODEX_CALLS)
    responses = codecs.get("responses")
    if streamed:
        _, final = responses_helpers.sdk_stream(encode_stream(
            gemini_decode(streamed_answer(parts), hub, True, 64), hub, "responses"))
    else:
        final = responses_helpers.assert_valid_response(responses.encode_response(
            gemini.decode_response(whole_answer(parts), hub), hub))
    kinds = [item.type for item in final.output]
    assert kinds == ["reasoning", "message", "function_call", "custom_tool_call"]
    call, patch = final.output[2], final.output[3]
    assert (call.name, json.loads(call.arguments)) == CODEX_CALLS[0]
    assert (patch.name, patch.input) == ("apply_patch", CODEX_CALLS[1][1]["input"])
    usage = final.usage
    assert (usage.input_tokens, usage.input_tokens_details.cached_tokens, usage.output_tokens,
            usage.output_tokens_details.reasoning_tokens) == (12000, 8000, 420, 300)
    # Codex's next turn: the output items replayed, then the two outputs
    body["input"] += [item.model_dump(exclude_none=True) for item in final.output] + [
        {"type": "function_call_output", "call_id": call.call_id, "output": "2 passed"},
        {"type": "custom_tool_call_output", "call_id": patch.call_id, "output": "Done."}]
    again = replace(responses.decode_request(body), model=GEMINI_3)
    assert_signature_came_back(gemini.encode_request(again), "exec_command", "apply_patch",
                               GEMINI_3)


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_chat_tool_loop_on_gemini_3(streamed, cache):
    body, hub = chat_client(GEMINI_3)
    parts = answer_parts(*CHAT_CALLS)
    chat = codecs.get("chat")
    if streamed:
        message = chat_sdk_final(encode_stream(
            gemini_decode(streamed_answer(parts), hub, True, 1), hub, "chat")).choices[0].message
    else:
        message = validate_chat(chat.encode_response(
            gemini.decode_response(whole_answer(parts), hub), hub)).choices[0].message
    assert [(c.function.name, json.loads(c.function.arguments))
            for c in message.tool_calls] == list(CHAT_CALLS)
    body["messages"] += [
        {"role": "assistant", "content": message.content,
         "tool_calls": [c.model_dump(exclude_none=True) for c in message.tool_calls]},
        *({"role": "tool", "tool_call_id": c.id, "content": "ok"} for c in message.tool_calls)]
    again = replace(chat.decode_request(body), model=GEMINI_3)
    assert_signature_came_back(gemini.encode_request(again), "bash", "read", GEMINI_3)


@pytest.mark.parametrize("split", [None, 1, 13, 200])
def test_whole_and_streamed_answers_decode_alike(split, cache):
    _, hub = claude_code(GEMINI_3)
    parts = answer_parts(*CLAUDE_CALLS)
    whole = gemini.decode_response(whole_answer(parts), hub)
    streamed = assemble(decode_stream(streamed_answer(parts), hub, split))
    shape = lambda r: [(type(p).__name__, getattr(p, "text", None), getattr(p, "name", None),  # noqa: E731
                        getattr(p, "arguments", None), (p.meta or {}).get("gemini"))
                       for p in r.parts]
    assert shape(streamed) == shape(whole)
    assert streamed.usage == whole.usage == HUB_USAGE  # the last chunk's counts win
    assert streamed.stop == whole.stop
    calls = [p for p in whole.parts if isinstance(p, ToolCall)]
    assert all(c.id.startswith("gemini_call_") for c in calls)
    assert len({c.id for c in calls + [p for p in streamed.parts if isinstance(p, ToolCall)]}
               ) == 4  # made-up ids never repeat


def test_a_forgotten_signature_falls_back_to_the_documented_dummy(monkeypatch):
    tiny = SignatureCache(max_entries=1)
    monkeypatch.setattr(gemini_response, "SIGNATURES", tiny)
    monkeypatch.setattr(gemini_encode, "SIGNATURES", tiny)
    body, hub = claude_code(GEMINI_3)
    parts = answer_parts(*CLAUDE_CALLS)
    message = SDKMessage.model_validate(codecs.get("messages").encode_response(
        gemini.decode_response(whole_answer(parts), hub), hub))
    gemini.decode_response(whole_answer(parts), hub)  # another answer pushes the first out
    body["messages"] += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True)
                                          for b in message.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": b.id,
                                      "content": "ok"} for b in message.content[2:]]}]
    wire = gemini.encode_request(replace(codecs.get("messages").decode_request(body),
                                         model=GEMINI_3))
    turn, _ = replayed_model_turn(wire, "Bash")
    assert [p for p in turn["parts"] if "functionCall" in p][0]["thoughtSignature"] == \
        SKIP_SIGNATURE
    assert gemini_problems(wire, GEMINI_3) == []


# --- the cache itself ---------------------------------------------------------------------

def test_the_cache_is_bounded_by_entries_and_bytes_and_checks_the_name():
    cache = SignatureCache(max_entries=3, max_bytes=10)
    for i in range(4):
        cache.remember(f"c{i}", "f", "ab")
    assert len(cache) == 3 and cache.recall("c0", "f") is None
    assert cache.recall("c1", "f") == "ab"  # now the most recently used
    assert cache.recall("c1", "other_function") is None  # an id reused for another call
    cache.remember("big", "f", "x" * 8)  # 2 + 2 + 8 > 10: the oldest two go
    assert cache.recall("c2", "f") is None and cache.recall("c3", "f") is None
    assert cache.recall("c1", "f") == "ab" and cache.recall("big", "f") == "x" * 8
    cache.remember("huge", "f", "y" * 11)  # larger than the whole budget: not kept
    assert cache.recall("huge", "f") is None and len(cache) == 2
    cache.remember("c1", "f", "cd")  # replaced, not counted twice
    assert cache.recall("c1", "f") == "cd" and len(cache) == 2


def test_the_cache_holds_under_threads():
    cache = SignatureCache(max_entries=500)

    def work(n: int) -> None:
        for i in range(2000):
            cache.remember(f"{n}-{i}", "f", "s" * (i % 7 + 1))
            cache.recall(f"{n}-{i // 2}", "f")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 500
    assert cache._bytes == sum(len(s) for _, s in cache._entries.values())
