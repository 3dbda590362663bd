"""``byecore translate`` end to end: files and stdin in, translations out, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming

from byecore_cli.codecs.sse import SSEDecoder
from tests.codecs.sdk_check import check

FIXTURES = Path(__file__).parent / "codecs" / "fixtures"


def test_claude_code_request_into_chat_is_a_valid_openai_request(cli):
    path = FIXTURES / "messages" / "claude_code_request.json"
    result = cli("translate", "--from", "messages", "--to", "chat", str(path))
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    body.pop("stream", None)
    body.pop("stream_options", None)
    assert check(body, CompletionCreateParamsNonStreaming) == []
    assert "x-anthropic-billing-header" not in result.stdout


def test_codex_request_into_messages_from_stdin(cli):
    raw = (FIXTURES / "responses" / "codex_request.json").read_text()
    result = cli("translate", "--from", "responses", "--to", "messages", "-", input=raw)
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    body.pop("stream", None)
    assert check(body, MessageCreateParamsNonStreaming) == []


def test_response_translation(cli):
    path = FIXTURES / "chat" / "response_openai.json"
    result = cli("translate", "--from", "chat", "--to", "messages", "--what", "response",
                 str(path))
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["type"] == "message" and body["role"] == "assistant"


@pytest.mark.parametrize("target, final", [("messages", "message_stop"),
                                           ("responses", "response.completed")])
def test_stream_translation(cli, target, final):
    path = FIXTURES / "chat" / "stream_openai_tools.sse"
    result = cli("translate", "--from", "chat", "--to", target, "--what", "stream", str(path))
    assert result.exit_code == 0, result.stderr
    decoder = SSEDecoder()
    events = decoder.feed(result.stdout.encode()) + decoder.flush()
    assert events and json.loads(events[-1].data)["type"] == final


@pytest.mark.parametrize("raw, words", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"model": 5, "messages": "nope"}', "not a valid messages request"),
])
def test_bad_input_is_a_clear_error(cli, raw, words):
    result = cli("translate", "--from", "messages", "--to", "chat", input=raw)
    assert result.exit_code == 1
    assert words in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("what, raw, words", [
    ("response", '{"id": "x", "choices": []}', "not a valid chat response"),
    ("response", '{"choices": [{"message": {"content": 5}}]}', "not a valid chat response"),
    ("stream", "data: {not json\n\n", "not a valid chat stream"),
])
def test_malformed_answer_is_a_clear_error(cli, what, raw, words):
    result = cli("translate", "--from", "chat", "--to", "messages", "--what", what,
                 input=raw)
    assert result.exit_code == 1, result.stdout
    assert words in result.stderr and "internal error" not in result.stderr


def test_usage_errors(cli, tmp_path):
    assert cli("translate", "--from", "grpc", "--to", "chat", input="{}").exit_code == 2
    assert cli("translate", "--from", "chat", "--to", "chat", "--what", "x",
               input="{}").exit_code == 2
    missing = cli("translate", "--from", "chat", "--to", "messages", str(tmp_path / "nope"))
    assert missing.exit_code == 1 and "cannot read" in missing.stderr
    empty = cli("translate", "--from", "chat", "--to", "messages", "--what", "stream",
                input="")
    assert empty.exit_code == 1 and "no SSE events" in empty.stderr


def test_a_claude_code_request_into_gemini_is_a_valid_gemini_request(cli):
    from tests.codecs.gemini_helpers import assert_valid_request

    path = FIXTURES / "messages" / "claude_code_request.json"
    result = cli("translate", "--from", "messages", "--to", "gemini", str(path))
    assert result.exit_code == 0, result.stderr
    assert_valid_request(json.loads(result.stdout))


def test_a_gemini_request_names_its_model_with_the_option(cli):
    raw = json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    missing = cli("translate", "--from", "gemini", "--to", "chat", input=raw)
    assert missing.exit_code == 1 and "--model" in missing.stderr
    result = cli("translate", "--from", "gemini", "--to", "chat", "--model", "gemini-3-pro",
                 input=raw)
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    body.pop("stream", None)
    body.pop("stream_options", None)
    assert body["model"] == "gemini-3-pro" and check(body, CompletionCreateParamsNonStreaming) == []
