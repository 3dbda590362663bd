"""Other clients' requests and answers meeting a Chat upstream (and Chat answers reaching them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from byecore_cli import codecs
from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.hub import Image, ToolCall, ToolResult
from byecore_cli.hub.assemble import assemble
from tests.codecs.chat_helpers import load, request_problems

chat = codecs.get("chat")
FIXTURES = Path(__file__).parent / "fixtures"


def _other(name: str):
    return codecs.get(name)


def _fixtures(protocol: str) -> list[str]:
    return sorted(p.name for p in (FIXTURES / protocol).glob("*request*.json"))


@pytest.mark.parametrize(("protocol", "name"), [
    *[("messages", n) for n in _fixtures("messages")],
    *[("responses", n) for n in _fixtures("responses")]])
def test_foreign_requests_reach_chat_valid(protocol, name):
    source = _other(protocol)
    hub = source.decode_request(json.loads((FIXTURES / protocol / name).read_text()))
    wire = chat.encode_request(hub)
    assert request_problems(wire) == []
    text = json.dumps(wire)
    for foreign in ("cache_control", "x-anthropic-billing-header", "context_management",
                    "encrypted_content", "output_config", '"web_search"'):
        assert foreign not in text, foreign
    back = chat.decode_request(wire)
    # every turn's tool calls and results survive, ids and arguments intact
    # (a custom call goes as a function taking {"input": raw}: that is how it comes back)
    def calls(request):
        return [(p.id, {"input": p.arguments} if p.kind == "custom"
                 else json.loads(p.arguments or "{}"))
                for m in request.messages for p in m.parts if isinstance(p, ToolCall)]
    assert calls(back) == calls(hub)
    results = [(p.call_id, p.text()) for m in hub.messages for p in m.parts
               if isinstance(p, ToolResult) and not any(isinstance(c, Image) for c in p.content)]
    back_results = {p.call_id: p.text() for m in back.messages for p in m.parts
                    if isinstance(p, ToolResult)}
    for call_id, text in results:
        assert back_results[call_id].endswith(text)


def test_claude_code_on_deepseek_echoes_reasoning_content():
    """DeepSeek thinking mode needs reasoning_content back in the tool loop, even when the
    client in between is Claude Code (the reasoning rides in a minted signature)."""
    messages = _other("messages")
    cc_request = messages.decode_request(json.loads(
        (FIXTURES / "messages" / "minimal_request.json").read_text()))
    sse = SSEDecoder()
    decoder = chat.stream_decoder(cc_request)
    raw = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in [
        {"id": "ds", "model": "deepseek-chat", "choices": [{"index": 0, "delta": {
            "role": "assistant", "reasoning_content": "Need to list files."}}]},
        {"id": "ds", "model": "deepseek-chat", "choices": [{"index": 0, "delta": {
            "tool_calls": [{"index": 0, "id": "call_00_q", "type": "function",
                            "function": {"name": "Bash", "arguments": '{"command":"ls"}'}}]}}]},
        {"id": "ds", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]) + b"data: [DONE]\n\n"
    events = [e for s in sse.feed(raw) for e in decoder.feed(s)] + decoder.flush()
    answer = messages.encode_response(assemble(events), cc_request)
    assert answer["content"][0]["type"] == "thinking"
    follow_up = {"model": "claude-sonnet-5", "max_tokens": 1000, "messages": [
        {"role": "user", "content": "list files"},
        {"role": "assistant", "content": answer["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id":
                                      answer["content"][1]["id"], "content": "a.txt"}]}]}
    wire = chat.encode_request(messages.decode_request(follow_up))
    assistant = wire["messages"][1]
    assert assistant["reasoning_content"] == "Need to list files."
    assert assistant["tool_calls"][0]["id"] == "call_00_q"
    assert wire["messages"][2] == {"role": "tool", "tool_call_id": "call_00_q",
                                   "content": "a.txt"}
    assert request_problems(wire) == []


@pytest.mark.parametrize("protocol", ["messages", "responses"])
def test_chat_stream_reaches_other_clients(protocol):
    """A Chat upstream's stream, through the hub, into another protocol's encoder and back."""
    other = _other(protocol)
    request = chat.decode_request(load("request_opencode.json"))
    decoder = chat.stream_decoder(request)
    events = [e for s in SSEDecoder().feed(load("stream_openai_tools.sse"))
              for e in decoder.feed(s)] + decoder.flush()
    encoder = other.stream_encoder(request)
    raw = b"".join(encoder.feed(e) for e in events) + encoder.flush()
    back = other.stream_decoder(request)
    again = [e for s in SSEDecoder().feed(raw) for e in back.feed(s)] + back.flush()
    first, second = assemble(events), assemble(again)
    assert [(type(p).__name__, getattr(p, "arguments", getattr(p, "text", None)))
            for p in second.parts] == \
        [(type(p).__name__, getattr(p, "arguments", getattr(p, "text", None)))
         for p in first.parts]
