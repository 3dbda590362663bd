"""Gemini requests: what Gemini CLI sends → hub → a Gemini upstream, checked by google-genai."""

from __future__ import annotations

import copy
import json

import pytest

from byecore_cli.codecs.base import CodecError
from byecore_cli.codecs.gemini import CODEC, WIRE
from byecore_cli.codecs.gemini.turns import SKIP_SIGNATURE, UNANSWERED
from byecore_cli.hub import (
    Image,
    Message,
    Reasoning,
    ReasoningConfig,
    Request,
    ResponseFormat,
    Text,
    Tool,
    ToolCall,
    ToolChoice,
    ToolResult,
)
from tests.codecs.gemini_helpers import assert_valid_request, load

SIG_1 = "CiQBVKhc7mJ0eXRlc2lnbmF0dXJlLWZvci10aGUtY2FsbA=="
SIG_2 = "CiQBVKhc7nNlY29uZC1zaWduYXR1cmU="


def cli_request() -> Request:
    return CODEC.decode_request(load("gemini_cli_request.json"))


def test_model_and_stream_come_from_the_caller_not_the_body():
    body = load("gemini_cli_request.json")
    hub = CODEC.decode_request(body)
    assert (hub.model, hub.stream) == ("gemini-2.5-pro", True)
    hub = CODEC.decode_request({**body, "model": "models/gemini-3-pro-preview", "stream": False})
    assert (hub.model, hub.stream) == ("gemini-3-pro-preview", False)
    wire = CODEC.encode_request(hub)
    assert "model" not in wire and "stream" not in wire
    assert WIRE.path(hub.model, False) == "/models/gemini-3-pro-preview:generateContent"
    assert WIRE.path("models/gemini-2.5-flash", True) == \
        "/models/gemini-2.5-flash:streamGenerateContent?alt=sse"


def test_missing_model_is_a_clear_400():
    with pytest.raises(CodecError, match="URL"):
        CODEC.decode_request({"contents": []})


def test_gemini_cli_history_decodes_into_paired_turns():
    hub = cli_request()
    roles = [m.role for m in hub.messages]
    assert roles == ["user", "assistant", "user", "assistant", "tool", "assistant", "tool",
                     "user"]
    assert hub.system == [Text("You are an interactive CLI agent specializing in software "
                               "engineering tasks.")]
    thought, call = hub.messages[3].parts
    assert isinstance(thought, Reasoning) and thought.summary and "Counting" in thought.text
    assert call.name == "run_shell_command" and call.meta == {"gemini": {
        "thoughtSignature": SIG_1}}
    assert json.loads(call.arguments)["command"].startswith("find src")
    # Gemini CLI's response ids differ from the (absent) call ids: paired by name and order
    (result,) = hub.messages[4].parts
    assert result.call_id == call.id and "Output: 42" in result.text()
    first, second = hub.messages[5].parts
    ok, failed = hub.messages[6].parts
    assert (ok.call_id, failed.call_id) == (first.id, second.id)
    assert ok.text() == "print('a')" and not ok.is_error
    assert failed.is_error and "not found" in failed.text()
    assert isinstance(hub.messages[7].parts[0], Image)
    assert hub.messages[7].parts[0].media_type == "image/png"


def test_history_ids_are_the_same_on_every_request():
    """Made-up ids for id-less history calls must not change between turns, or an
    upstream's prompt cache would miss on every request."""
    ids = [[p.id for m in cli_request().messages for p in m.parts if isinstance(p, ToolCall)]
           for _ in range(2)]
    assert ids[0] == ids[1] and len(set(ids[0])) == 3


def test_tools_settings_and_thinking():
    hub = cli_request()
    assert [t.name for t in hub.tools] == ["run_shell_command", "read_file", "glob"]
    assert hub.tools[0].parameters["required"] == ["command"]
    # the OpenAPI-style `parameters` become JSON Schema
    assert hub.tools[2].parameters == {
        "type": "object", "required": ["pattern"],
        "properties": {"pattern": {"type": "string"},
                       "case_sensitive": {"type": ["boolean", "null"]}}}
    assert hub.tool_choice == ToolChoice("auto")
    assert (hub.temperature, hub.top_p, hub.max_tokens) == (0, 1, 65536)
    assert hub.reasoning == ReasoningConfig(enabled=True, summary="auto")
    assert hub.extras["gemini"]["safetySettings"][0]["threshold"] == "BLOCK_NONE"


def test_gemini_to_gemini_round_trip_is_valid_and_keeps_signatures_exactly():
    body = load("gemini_cli_request.json")
    wire = CODEC.encode_request(CODEC.decode_request(body))
    assert_valid_request(wire)
    assert wire["tools"] == body["tools"]
    assert wire["generationConfig"] == body["generationConfig"]
    assert wire["safetySettings"] == body["safetySettings"]
    assert wire["systemInstruction"]["parts"] == body["systemInstruction"]["parts"]
    model_turns = [c for c in wire["contents"] if c["role"] == "model"]
    signed = [p.get("thoughtSignature") for c in model_turns for p in c["parts"]
              if "functionCall" in p]
    assert signed == [SIG_1, SIG_2, None]  # only the first parallel call is signed
    # no made-up id reaches Gemini, on calls or responses
    text = json.dumps(wire)
    assert "gemini_call_" not in text
    calls = [p["functionCall"] for c in model_turns for p in c["parts"] if "functionCall" in p]
    assert calls == [p["functionCall"] for c in body["contents"] if c["role"] == "model"
                     for p in c["parts"] if "functionCall" in p]
    # unsigned thought text is not sent back (Gemini needs only the signatures)
    assert not any(p.get("thought") for c in model_turns for p in c["parts"])


def test_signed_thought_parts_are_replayed_exactly():
    part = {"text": "plan", "thought": True, "thoughtSignature": "c2lnbmVkLXRob3VnaHQ="}
    body = {"model": "gemini-2.5-pro", "contents": [
        {"role": "user", "parts": [{"text": "hi"}]},
        {"role": "model", "parts": [part, {"text": "Hello."}]},
        {"role": "user", "parts": [{"text": "again"}]}]}
    wire = CODEC.encode_request(CODEC.decode_request(body))
    assert_valid_request(wire)
    assert wire["contents"] == body["contents"]


def test_snake_case_fields_are_read_too():
    body = {"model": "gemini-2.5-flash",
            "system_instruction": {"parts": [{"text": "Be brief."}]},
            "contents": [{"role": "user", "parts": [
                {"inline_data": {"mime_type": "image/jpeg", "data": "AAAA"}}]}],
            "generation_config": {"max_output_tokens": 10, "stop_sequences": ["END"]},
            "tool_config": {"function_calling_config": {"mode": "ANY",
                                                        "allowed_function_names": ["f"]}}}
    hub = CODEC.decode_request(body)
    assert hub.system == [Text("Be brief.")]
    assert hub.messages[0].parts[0] == Image(data="AAAA", media_type="image/jpeg")
    assert (hub.max_tokens, hub.stop) == (10, ["END"])
    assert hub.tool_choice == ToolChoice("tool", "f")


@pytest.mark.parametrize(("mode", "names", "choice"), [
    ("AUTO", None, ToolChoice("auto")), ("ANY", None, ToolChoice("required")),
    ("NONE", None, ToolChoice("none")), ("ANY", ["read_file"], ToolChoice("tool", "read_file"))])
def test_tool_choice_both_ways(mode, names, choice):
    calling = {"mode": mode} | ({"allowedFunctionNames": names} if names else {})
    body = {"model": "m", "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
            "tools": [{"functionDeclarations": [{"name": "read_file"}]}],
            "toolConfig": {"functionCallingConfig": calling}}
    assert CODEC.decode_request(body).tool_choice == choice
    foreign = Request("m", [Message("user", [Text("hi")])], tools=[Tool("read_file")],
                      tool_choice=choice)
    wire = CODEC.encode_request(foreign)
    assert_valid_request(wire)
    assert wire["toolConfig"] == {"functionCallingConfig": calling}


@pytest.mark.parametrize(("body", "param"), [
    ({"contents": "hi"}, "contents"),
    ({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}, "contents[0].role"),
    ({"contents": [{"role": "user", "parts": [{"text": 3}]}]}, "contents[0].parts[0].text"),
    ({"contents": [], "generationConfig": {"candidateCount": 2}},
     "generationConfig.candidateCount"),
    ({"contents": [], "generationConfig": {"temperature": "hot"}},
     "generationConfig.temperature"),
    ({"contents": [], "toolConfig": {"functionCallingConfig": {"mode": "SOMETIMES"}}},
     "toolConfig.functionCallingConfig.mode"),
    ({"contents": [], "generationConfig": {"thinkingConfig": {"thinkingLevel": "HUGE"}}},
     "generationConfig.thinkingConfig.thinkingLevel"),
    ({"contents": [{"role": "model", "parts": [{"functionCall": {"args": {}}}]}]},
     "contents[0].parts[0].functionCall.name"),
])
def test_bad_input_is_a_400_naming_the_field(body, param):
    with pytest.raises(CodecError) as caught:
        CODEC.decode_request({"model": "m", **body})
    assert caught.value.param == param


def test_generation_config_from_a_foreign_request():
    request = Request("gemini-2.5-flash", [Message("user", [Text("hi")])], max_tokens=2000,
                      temperature=0.3, top_p=0.9, top_k=40, stop=list("abcdefg"),
                      response_format=ResponseFormat(schema={
                          "type": "object", "properties": {"n": {"type": "integer"}},
                          "required": ["n"], "additionalProperties": False}),
                      reasoning=ReasoningConfig(effort="low"))
    wire = CODEC.encode_request(request)
    assert_valid_request(wire)
    config = wire["generationConfig"]
    assert config["stopSequences"] == list("abcde")  # Gemini takes five at most
    assert (config["maxOutputTokens"], config["temperature"], config["topK"]) == (2000, 0.3, 40)
    assert config["responseMimeType"] == "application/json"
    assert config["responseSchema"] == {"type": "OBJECT", "required": ["n"],
                                        "properties": {"n": {"type": "INTEGER"}}}
    assert config["thinkingConfig"] == {"thinkingBudget": 1999, "includeThoughts": True}


@pytest.mark.parametrize(("model", "reasoning", "thinking"), [
    ("gemini-2.5-flash", ReasoningConfig(enabled=False), {"thinkingBudget": 0}),
    ("gemini-2.5-pro", ReasoningConfig(enabled=False), {"thinkingBudget": 128}),
    ("gemini-3-pro-preview", ReasoningConfig(enabled=False), {"thinkingLevel": "LOW"}),
    ("gemini-2.5-pro", ReasoningConfig(enabled=True, budget_tokens=5000),
     {"thinkingBudget": 5000, "includeThoughts": True}),
    ("gemini-2.5-pro", ReasoningConfig(enabled=True),
     {"thinkingBudget": -1, "includeThoughts": True}),
    ("gemini-3-pro-preview", ReasoningConfig(effort="high"),
     {"thinkingLevel": "HIGH", "includeThoughts": True}),
    ("gemini-3-flash-preview", ReasoningConfig(effort="minimal"),
     {"thinkingLevel": "LOW", "includeThoughts": True}),
    ("gemini-2.5-flash", ReasoningConfig(effort="none"), {"thinkingBudget": 0}),
])
def test_reasoning_to_thinking_config(model, reasoning, thinking):
    wire = CODEC.encode_request(Request(model, [Message("user", [Text("x")])],
                                        reasoning=reasoning))
    assert_valid_request(wire)
    assert wire["generationConfig"]["thinkingConfig"] == thinking


@pytest.mark.parametrize(("model", "budget", "sent"), [
    ("gemini-2.5-pro", 64000, 32768), ("gemini-2.5-flash", 32000, 24576),
    ("gemini-2.5-flash-lite", 24000, 24000), ("gemini-2.5-pro", 31999, 31999),
])
def test_a_budget_beyond_the_models_range_is_its_largest(model, budget, sent):
    """Claude Code's budgets (and the "max" effort's 64000) exceed what Gemini 2.5 takes."""
    wire = CODEC.encode_request(Request(model, [Message("user", [Text("x")])],
                                        reasoning=ReasoningConfig(True, budget_tokens=budget)))
    assert wire["generationConfig"]["thinkingConfig"]["thinkingBudget"] == sent


@pytest.mark.parametrize(("model", "asked", "sent"), [
    ("gemini-2.5-pro", 128000, 65536), ("gemini-3-pro-preview", 128000, 65536),
    ("models/gemini-3-flash-preview", 65537, 65536), ("gemini-2.0-flash", 32000, 8192),
    ("gemini-3-pro-image-preview", 65536, 32768), ("gemini-2.5-flash", 32000, 32000),
    ("my-gateway-alias", 128000, 128000),  # an unknown model: as asked
])
def test_max_tokens_fit_the_models_output_limit(model, asked, sent):
    """Gemini answers 400 to a maxOutputTokens above the model's limit; Claude Code asks
    for 128000."""
    wire = CODEC.encode_request(Request(model, [Message("user", [Text("x")])],
                                        max_tokens=asked))
    assert wire["generationConfig"]["maxOutputTokens"] == sent


def test_effort_with_no_room_to_think():
    """max_tokens too small for a budget: thinking off, no thoughts asked for (Pro cannot
    turn it off: its smallest budget)."""
    for model, thinking in (("gemini-2.5-flash", {"thinkingBudget": 0}),
                            ("gemini-2.5-pro", {"thinkingBudget": 128, "includeThoughts": True})):
        wire = CODEC.encode_request(Request(model, [Message("user", [Text("x")])],
                                            max_tokens=800,
                                            reasoning=ReasoningConfig(effort="low",
                                                                      summary="auto")))
        assert wire["generationConfig"]["thinkingConfig"] == thinking


@pytest.mark.parametrize(("config", "reasoning"), [
    ({"thinkingBudget": 0}, ReasoningConfig(enabled=False)),
    ({"thinkingBudget": 2048}, ReasoningConfig(enabled=True, budget_tokens=2048)),
    ({"thinkingLevel": "LOW", "includeThoughts": True},
     ReasoningConfig(enabled=True, effort="low", summary="auto")),
])
def test_thinking_config_to_reasoning(config, reasoning):
    body = {"model": "m", "contents": [], "generationConfig": {"thinkingConfig": config}}
    assert CODEC.decode_request(body).reasoning == reasoning


def foreign_loop(signature: str | None = None, reasoning: Reasoning | None = None) -> Request:
    call = ToolCall("toolu_01", "Bash", '{"command": "ls"}',
                    meta={"gemini": {"thoughtSignature": signature}} if signature else None)
    assistant = [reasoning, call] if reasoning else [call]
    return Request("gemini-3-pro-preview", [
        Message("user", [Text("list")]), Message("assistant", assistant),
        Message("tool", [ToolResult("toolu_01", [Text("a.py")])])],
        tools=[Tool("Bash", "Run", {"type": "object", "properties": {
            "command": {"type": "string"}}, "required": ["command"]})])


def test_unsigned_replayed_call_gets_the_documented_dummy_signature():
    wire = CODEC.encode_request(foreign_loop())
    assert_valid_request(wire)
    call = wire["contents"][1]["parts"][0]
    assert call["thoughtSignature"] == SKIP_SIGNATURE
    # a foreign id is kept (the API pairs on it), the name names the function
    assert call["functionCall"] == {"name": "Bash", "args": {"command": "ls"}, "id": "toolu_01"}
    assert wire["contents"][2]["parts"][0]["functionResponse"] == {
        "name": "Bash", "response": {"output": "a.py"}, "id": "toolu_01"}


def test_real_signature_goes_back_exactly_and_foreign_reasoning_is_not_replayed():
    wire = CODEC.encode_request(foreign_loop(
        SIG_1, Reasoning("thinking", meta={"messages": {"signature": "anthropic-sig"}})))
    assert_valid_request(wire)
    assert wire["contents"][1]["parts"] == [
        {"functionCall": {"name": "Bash", "args": {"command": "ls"}, "id": "toolu_01"},
         "thoughtSignature": SIG_1}]
    assert "anthropic-sig" not in json.dumps(wire)


def test_every_call_answered_and_orphan_results_become_text():
    request = Request("gemini-2.5-flash", [
        Message("user", [Text("go")]),
        Message("assistant", [ToolCall("a", "f", "{}"), ToolCall("b", "f", "{}")]),
        Message("tool", [ToolResult("b", [Text("B")]), ToolResult("zzz", [Text("lost")])]),
        Message("user", [Text("and?")])], tools=[Tool("f")])
    wire = CODEC.encode_request(request)
    assert_valid_request(wire)
    answer = wire["contents"][2]["parts"]
    assert answer[0]["functionResponse"] == {"name": "f", "id": "a",
                                             "response": {"error": UNANSWERED}}
    assert answer[1]["functionResponse"]["response"] == {"output": "B"}
    assert answer[2]["text"].startswith("[tool result for call zzz]") and "lost" in \
        answer[2]["text"]
    assert answer[3] == {"text": "and?"}


def test_mid_conversation_system_message_becomes_a_reminder_and_images_stay():
    request = Request("gemini-2.5-flash", [
        Message("developer", [Text("Be terse.")]),
        Message("user", [Text("look"), Image(url="data:image/png;base64,iVBO")]),
        Message("assistant", [Text("ok")]),
        Message("system", [Text("Now in plan mode.")]),
        Message("user", [Image(url="https://example.com/cat.jpg")])])
    wire = CODEC.encode_request(request)
    assert_valid_request(wire)
    assert wire["systemInstruction"] == {"parts": [{"text": "Be terse."}]}
    assert wire["contents"][0]["parts"][1] == {"inlineData": {"mimeType": "image/png",
                                                              "data": "iVBO"}}
    last = wire["contents"][2]["parts"]
    assert "<system-reminder>" in last[0]["text"] and "plan mode" in last[0]["text"]
    assert last[1] == {"fileData": {"fileUri": "https://example.com/cat.jpg",
                                    "mimeType": "image/jpeg"}}


def test_decode_does_not_touch_its_input():
    body = load("gemini_cli_request.json")
    kept = copy.deepcopy(body)
    CODEC.encode_request(CODEC.decode_request(body))
    assert body == kept


def test_a_clients_odd_part_never_passes_for_a_call_or_response():
    """Found by the fuzz test: a part holding ``functionResponse: null`` is kept opaque,
    and the pairing only counts the calls and responses the encoder itself made."""
    body = load("gemini_cli_request.json")
    body["contents"][6]["parts"][0] = {"functionResponse": None}
    wire = CODEC.encode_request(CODEC.decode_request(body))
    answer = wire["contents"][6]["parts"]
    # the one response left answers the first read_file call (Gemini pairs by name and
    # order); the second call gets the unanswered error
    assert answer[0]["functionResponse"]["response"] == {
        "error": "File not found: /repo/src/b.py"}
    assert answer[1]["functionResponse"]["response"] == {"error": UNANSWERED}
    assert {"functionResponse": None} in answer
