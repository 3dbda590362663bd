"""Every pair of codecs: decode A → hub → encode B → decode B keeps the conversation.

For each request fixture of each protocol, the hub request is sent through every codec
B and read back. What must survive, whatever B is (or be degraded as B's docstring says):

- every piece of text, in order (instructions may be folded into another role, but never
  lost, and no text may appear that was not there — except B's documented wrappers);
- every tool call: name (flattened names map back to the same tool), kind, arguments;
- every tool result, still answering the same call (ids may be rewritten, consistently),
  with its text and error flag;
- every image (moved, where B cannot carry it in place, but not dropped);
- the tools offered (by wire name), tool_choice, max_tokens, temperature, top_p,
  structured output, and stop sequences where B has them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from byecore_cli import codecs
from byecore_cli.hub import Image, Request, Text, ToolCall, ToolResult
from byecore_cli.hub.tools import ToolNames, unwrap_custom_input

FIXTURES = Path(__file__).parent / "fixtures"
PROTOCOLS = codecs.PROTOCOLS
HAS_STOP = {"chat", "messages"}  # the Responses API has no stop sequences
# The most stop sequences a protocol carries (Gemini takes 5: gemini/encode.py).
MAX_STOPS = {"gemini": 5}
# Documented in their encoders: no error flag on a tool result, the text says "Error: ".
NO_ERROR_FLAG = {"chat", "responses"}
# Documented in gemini/encode.py: a JSON Schema is reduced to what Gemini's Schema holds
# (no additionalProperties, …), its properties and required list kept.
REDUCES_SCHEMA = {"gemini"}


def _fixtures():
    """Every protocol's request fixtures (``*request*.json``; a protocol that keeps model
    and stream in the URL has them injected, as the proxy does)."""
    for protocol in PROTOCOLS:
        for path in sorted((FIXTURES / protocol).glob("*request*.json")):
            body = json.loads(path.read_text())
            yield pytest.param(protocol, body, id=f"{protocol}/{path.stem}")


def through(target: str, hub: Request) -> Request:
    """``hub`` encoded for ``target``, sent as JSON, and decoded back."""
    wire = json.loads(json.dumps(codecs.get(target).encode_request(hub)))
    if codecs.wire(target).model_in_path:  # what the URL carries, as the proxy passes it
        wire = {**wire, "model": hub.model, "stream": hub.stream}
    return codecs.get(target).decode_request(wire)


def _texts(request: Request) -> list[str]:
    out = [t.text for t in request.system]
    for message in request.messages:
        for part in message.parts:
            if isinstance(part, Text):
                out.append(part.text)
            elif isinstance(part, ToolResult):
                out.append(part.text())
    return [t for t in out if t.strip()]


def _calls(request: Request, original: Request) -> list[tuple]:
    """Calls by wire name and arguments; a custom tool's input compared unwrapped.

    A protocol without custom tools carries them as a function with one string argument,
    and only the original request knows which tools were custom.
    """
    names = ToolNames(original.tools)
    out = []
    for message in request.messages:
        for part in message.parts:
            if isinstance(part, ToolCall):
                wire = names.wire(part.name, part.namespace)
                tool = names.tool(wire)
                raw = unwrap_custom_input(part.arguments) if (
                    part.kind != "custom" and tool and tool.kind == "custom") else part.arguments
                out.append((wire, _json(raw)))
    return out


def _json(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _results(request: Request) -> list[tuple]:
    """(position of the answered call, text, is_error) for each tool result.

    A result made only of images has no text to compare: a protocol that cannot carry
    images in a tool result moves them to the next user turn and leaves a note instead.
    """
    order = [p.id for m in request.messages for p in m.parts if isinstance(p, ToolCall)]
    out = []
    for message in request.messages:
        for part in message.parts:
            if isinstance(part, ToolResult):
                answered = order.index(part.call_id) if part.call_id in order else None
                text = part.text().strip()
                out.append((answered, text, part.is_error))
    return out


def _same_results(back: list[tuple], hub: list[tuple]) -> bool:
    if len(back) != len(hub):
        return False
    return all(b[0] == h[0] and b[2] == h[2] and (b[1] == h[1] or not h[1])
               for b, h in zip(back, hub, strict=True))


def _images(request: Request) -> list[str]:
    out = []
    for message in request.messages:
        for part in message.parts:
            found = [part] if isinstance(part, Image) else (
                [p for p in part.content if isinstance(p, Image)]
                if isinstance(part, ToolResult) else [])
            out += [img.url or img.data for img in found]
    return out


def _tool_names(request: Request) -> set[str]:
    names = ToolNames(request.tools)
    return {names.wire(t.name, t.namespace) for t in request.tools if t.kind != "hosted"}


def _in_order(needles: list[str], haystack: list[str]) -> list[str]:
    """The needles NOT found, in order, as substrings of the haystack's texts."""
    missing, at = [], 0
    for needle in needles:
        for i in range(at, len(haystack)):
            if needle.strip() in haystack[i]:
                at = i
                break
        else:
            missing.append(needle[:80])
    return missing


@pytest.mark.parametrize("target", PROTOCOLS)
@pytest.mark.parametrize("source, body", list(_fixtures()))
def test_conversation_survives(source, body, target):
    hub = codecs.get(source).decode_request(body)
    back = through(target, hub)

    assert not _in_order(_texts(hub), _texts(back)), "text lost or reordered"
    assert _calls(back, hub) == _calls(hub, hub)
    expected = _results(hub)
    if target in NO_ERROR_FLAG:
        expected = [(at, f"Error: {text}" if error else text, False)
                    for at, text, error in expected]
    assert _same_results(_results(back), expected), (_results(back), expected)
    assert sorted(_images(back)) == sorted(_images(hub))
    assert _tool_names(back) == _tool_names(hub)
    assert (back.model, back.stream) == (hub.model, hub.stream)
    thinking = hub.reasoning is not None and hub.reasoning.enabled is not False
    for attr in ("max_tokens", "temperature", "top_p"):
        if target == "messages" and attr != "max_tokens" and (
                thinking or (attr == "top_p" and hub.temperature is not None)):
            # Documented in the messages encoder: Claude refuses sampling changes with
            # thinking on, and temperature together with top_p.
            continue
        if getattr(hub, attr) is not None:
            assert getattr(back, attr) == getattr(hub, attr), attr
    if hub.tool_choice and _tool_names(hub):
        expected = hub.tool_choice.mode
        if target == "messages" and thinking and expected in ("required", "tool"):
            expected = "auto"  # documented: Claude refuses forced tool use while thinking
        assert back.tool_choice is not None and back.tool_choice.mode == expected
    if hub.response_format:
        assert back.response_format is not None
        schema, sent = back.response_format.schema, hub.response_format.schema
        if target in REDUCES_SCHEMA and isinstance(sent, dict):
            assert set(schema["properties"]) == set(sent["properties"])
            assert schema.get("required") == sent.get("required")
        else:
            assert schema == sent
    if target in HAS_STOP | set(MAX_STOPS) and source in HAS_STOP | set(MAX_STOPS):
        assert back.stop == hub.stop[:MAX_STOPS.get(target)]


def test_the_fixtures_cover_the_hard_cases():
    """The matrix is only as good as its inputs: make sure they hold the hard parts."""
    hubs = [codecs.get(p).decode_request(b) for p, b in
            ((v.values[0], v.values[1]) for v in _fixtures())]
    parts = [p for h in hubs for m in h.messages for p in m.parts]
    assert any(isinstance(p, ToolCall) and p.kind == "custom" for p in parts) or any(
        t.kind == "custom" for h in hubs for t in h.tools), "a custom (freeform) tool"
    assert any(t.namespace for h in hubs for t in h.tools), "a namespaced tool"
    assert any(isinstance(p, ToolResult) for p in parts), "a tool result"
    assert any(isinstance(p, Image) for p in parts) or _images_anywhere(hubs), "an image"
    assert any(m.role in ("system", "developer") for h in hubs for m in h.messages[1:]), \
        "an instruction in the middle of the conversation"
    assert any(len(h.tools) >= 5 for h in hubs), "a realistic tool list"


def _images_anywhere(hubs: list[Request]) -> bool:
    return any(_images(h) for h in hubs)
