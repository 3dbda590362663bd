"""The hub's own helpers: assembling streams, tool names, reasoning budgets."""

from __future__ import annotations

import pytest

from byecore_cli.hub import (
    MessageStart,
    MessageStop,
    PartStart,
    PartStop,
    Reasoning,
    Response,
    StopReason,
    StreamError,
    Text,
    TextDelta,
    Tool,
    ToolArgsDelta,
    ToolCall,
    Usage,
)
from byecore_cli.hub.assemble import StreamFailed, assemble, explode
from byecore_cli.hub.reasoning import MIN_BUDGET, budget_to_effort, effort_to_budget
from byecore_cli.hub.tools import ToolNames, unwrap_custom_input, wrap_custom_input


def _response():
    return Response(
        id="r1", model="m",
        parts=[Reasoning("think", meta={"messages": {"signature": "sig"}}), Text("hi"),
               ToolCall("c1", "f", '{"a": 1}')],
        stop=StopReason.TOOL_CALLS,
        usage=Usage(input_tokens=10, output_tokens=5, cache_read_tokens=2),
    )


def test_explode_then_assemble_is_identity():
    assert assemble(explode(_response())) == _response()


def test_assemble_joins_deltas_and_merges_stop_meta():
    events = [MessageStart("r", "m"), PartStart(0, ToolCall("c", "f")),
              ToolArgsDelta(0, '{"a"'), ToolArgsDelta(0, ": 1}"),
              PartStop(0, {"responses": {"id": "fc_1"}}), PartStart(1, Text("")),
              TextDelta(1, "a"), TextDelta(1, "b"), PartStop(1),
              MessageStop(StopReason.TOOL_CALLS, Usage(1, 2))]
    out = assemble(events)
    assert out.parts == [ToolCall("c", "f", '{"a": 1}', meta={"responses": {"id": "fc_1"}}),
                         Text("ab")]
    assert out.usage.total_tokens == 3


def test_assemble_reports_errors_and_truncation():
    from byecore_cli.hub import ErrorInfo

    with pytest.raises(StreamFailed):
        assemble([MessageStart("r", "m"), StreamError(ErrorInfo(500, "api_error", "x"))])
    with pytest.raises(StreamFailed, match="ended early"):
        assemble([MessageStart("r", "m"), PartStart(0, Text("")), PartStop(0)])


def test_tool_names_flatten_within_64_and_map_back():
    long_ns = "mcp__a_very_long_server_name_that_keeps_going_and_going__"
    tools = [Tool("spawn", namespace="multi_agent_v1"), Tool("x" * 40, namespace=long_ns),
             Tool("exec_command"), Tool("alpha", namespace="mcp__server__")]
    names = ToolNames(tools)
    assert names.wire("spawn", "multi_agent_v1") == "multi_agent_v1__spawn"
    assert names.wire("alpha", "mcp__server__") == "mcp__server__alpha"
    assert names.tool("multi_agent_v1__spawn") is tools[0]
    wire = names.wire("x" * 40, long_ns)
    assert len(wire) <= 64
    assert names.tool(wire) is tools[1]
    assert names.tool("exec_command") is tools[2] and names.tool("nope") is None


def test_custom_input_round_trip():
    patch = '*** Begin Patch\n*** Add File: a.txt\n+"quoted"\n*** End Patch'
    assert unwrap_custom_input(wrap_custom_input(patch)) == patch
    assert unwrap_custom_input("not json") == "not json"


@pytest.mark.parametrize("effort", ["minimal", "low", "medium", "high", "xhigh", "max"])
def test_effort_budget_respects_anthropic_limits(effort):
    budget = effort_to_budget(effort, 32000)
    assert MIN_BUDGET <= budget < 32000
    assert effort_to_budget(effort, 1000) is None
    assert budget_to_effort(effort_to_budget(effort, None)) == effort


def test_an_assembled_or_exploded_answer_keeps_the_exact_finish_reason():
    """A Gemini stream under a non-streaming Gemini client (and the other way round) keeps
    MALFORMED_FUNCTION_CALL, which the hub's stop reasons alone would turn into STOP."""
    import json

    from byecore_cli import codecs
    from byecore_cli.codecs.sse import SSEDecoder
    from byecore_cli.hub import Request
    from byecore_cli.hub.assemble import Assembler, explode

    gemini = codecs.get("gemini")
    request = Request(model="gemini-2.5-pro", stream=True)
    chunk = {"candidates": [{"content": {"role": "model", "parts": [{"text": "hm"}]},
                             "finishReason": "MALFORMED_FUNCTION_CALL", "index": 0}],
             "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1}}
    decoder, assembler = gemini.stream_decoder(request), Assembler()
    for event in SSEDecoder().feed(f"data: {json.dumps(chunk)}\r\n\r\n".encode()):
        for hub in decoder.feed(event):
            assembler.feed(hub)
    for hub in decoder.flush():
        assembler.feed(hub)
    response = assembler.result()
    body = gemini.encode_response(response, request)
    assert body["candidates"][0]["finishReason"] == "MALFORMED_FUNCTION_CALL"
    encoder = gemini.stream_encoder(request)
    streamed = b"".join(encoder.feed(e) for e in explode(response)) + encoder.flush()
    assert b'"finishReason": "MALFORMED_FUNCTION_CALL"' in streamed.replace(b'":"', b'": "')
