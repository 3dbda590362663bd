"""The conversation matrix of test_matrix.py with Gemini on both sides: every request
fixture of every protocol through the Gemini codec and back, and Gemini CLI's request
through every other codec, keeping text, calls, results, images, tools and settings."""

from __future__ import annotations

import json

import pytest

from tests.codecs.gemini_helpers import FIXTURES, codec
from tests.codecs.test_matrix import (
    _calls,
    _images,
    _in_order,
    _results,
    _same_results,
    _texts,
    _tool_names,
)

OTHERS = ("chat", "responses", "messages")
NO_ERROR_FLAG = ("chat", "responses")  # protocols whose tool results have no error flag


def _pairs():
    for source in OTHERS:
        for path in sorted((FIXTURES / source).glob("*request*.json")):
            yield pytest.param(source, path.name, "gemini", id=f"{source}/{path.stem}->gemini")
    for path in sorted((FIXTURES / "gemini").glob("*request*.json")):
        for target in (*OTHERS, "gemini"):
            yield pytest.param("gemini", path.name, target, id=f"gemini/{path.stem}->{target}")


@pytest.mark.parametrize(("source", "name", "target"), list(_pairs()))
def test_conversation_survives_gemini(source, name, target):
    hub = codec(source).decode_request(json.loads((FIXTURES / source / name).read_text()))
    wire = json.loads(json.dumps(codec(target).encode_request(hub)))
    if target == "gemini":  # model and stream travel in the URL
        wire = {**wire, "model": hub.model, "stream": hub.stream}
    back = codec(target).decode_request(wire)

    assert not _in_order(_texts(hub), _texts(back)), "text lost or reordered"
    assert _calls(back, hub) == _calls(hub, hub)
    expected = _results(hub)
    if target in NO_ERROR_FLAG:  # documented in their encoders: the text says "Error: "
        expected = [(at, f"Error: {text}" if error else text, False)
                    for at, text, error in expected]
    assert _same_results(_results(back), expected), (_results(back), expected)
    assert sorted(_images(back)) == sorted(_images(hub))
    assert _tool_names(back) == _tool_names(hub)
    assert (back.model, back.stream) == (hub.model, hub.stream)
    thinking = hub.reasoning is not None and hub.reasoning.enabled is not False
    for attr in ("max_tokens", "temperature", "top_p"):
        if target == "messages" and attr != "max_tokens" and thinking:
            continue  # documented in the messages encoder
        if getattr(hub, attr) is not None:
            assert getattr(back, attr) == getattr(hub, attr), attr
    if hub.tool_choice and _tool_names(hub):
        assert back.tool_choice is not None and back.tool_choice.mode == hub.tool_choice.mode
    if hub.response_format:
        assert back.response_format is not None
    if target == "gemini" and source in ("chat", "messages"):
        assert back.stop == hub.stop[:5]
