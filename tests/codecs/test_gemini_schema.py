"""JSON Schema reduced to Gemini ``parameters``, names made legal, and both mapped back."""

from __future__ import annotations

import json

import pytest
from google.genai import types

from byecore_cli.codecs.gemini import CODEC
from byecore_cli.codecs.gemini.names import GeminiNames, legal_name
from byecore_cli.codecs.gemini.schema import reduce, to_json_schema
from byecore_cli.hub import Message, Request, Text, Tool, ToolCall, ToolResult
from tests.codecs.gemini_helpers import assert_valid_request

# What MCP servers and Claude Code tools send (zod-to-json-schema output and friends).
MCP_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "$defs": {"Range": {"type": "object", "properties": {
        "start": {"type": "integer", "exclusiveMinimum": 0},
        "end": {"type": ["integer", "null"]}}, "required": ["start", "ghost"]}},
    "properties": {
        "path": {"type": "string", "format": "uri", "description": "Where"},
        "mode": {"const": "fast"},
        "level": {"enum": [1, 2, 3], "type": "integer"},
        "range": {"$ref": "#/$defs/Range"},
        "target": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "value": {"oneOf": [{"type": "string"}, {"type": "number"}]},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 5},
        "meta": {"type": "object", "additionalProperties": {"type": "string"}},
        "both": {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}},
                           {"properties": {"b": {"type": "boolean"}}, "required": ["b"]}]},
        "when": {"type": "string", "format": "date-time"},
        "limit": {"type": "integer", "default": 10, "propertyNames": {"pattern": "x"}},
        "loose": {"type": ["string", "number"]},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 600.5},
    },
    "required": ["path", "missing"],
}


def _walk(schema):
    yield schema
    for value in (schema.get("properties") or {}).values():
        yield from _walk(value)
    if isinstance(schema.get("items"), dict):
        yield from _walk(schema["items"])
    for value in schema.get("anyOf") or []:
        yield from _walk(value)


def test_reduction_keeps_the_meaning_gemini_can_hold():
    out = reduce(MCP_SCHEMA)
    types.Schema.model_validate_json(json.dumps(out))  # the SDK type: no unknown keyword
    props = out["properties"]
    assert out["type"] == "OBJECT" and out["required"] == ["path"]
    assert props["path"] == {"type": "STRING", "description": "Where (format: uri)"}
    assert props["mode"] == {"type": "STRING", "enum": ["fast"]}
    assert props["level"] == {"type": "INTEGER", "description": "one of: 1, 2, 3"}
    assert props["range"] == {"type": "OBJECT", "required": ["start"], "properties": {
        "start": {"type": "INTEGER", "minimum": 1},  # exclusiveMinimum 0: at least 1
        "end": {"type": "INTEGER", "nullable": True}}}
    assert props["target"] == {"type": "STRING", "nullable": True}
    assert props["value"] == {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]}
    assert props["tags"] == {"type": "ARRAY", "maxItems": 5,
                             "items": {"type": "STRING", "minLength": 1}}
    assert props["meta"] == {"type": "OBJECT"}  # an empty map is refused by Gemini
    assert props["both"] == {"type": "OBJECT", "required": ["b"], "properties": {
        "a": {"type": "STRING"}, "b": {"type": "BOOLEAN"}}}
    assert props["when"] == {"type": "STRING", "format": "date-time"}
    assert props["limit"] == {"type": "INTEGER", "description": "default: 10"}
    assert props["loose"] == {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]}
    assert props["timeout"] == {"type": "NUMBER", "minimum": 0, "maximum": 600.5}  # loose
    refused = {"$schema", "$defs", "$ref", "additionalProperties", "const", "oneOf", "allOf",
               "exclusiveMinimum", "default", "propertyNames"}
    for node in _walk(out):
        assert not refused & set(node), node


def test_recursive_references_end():
    schema = {"$defs": {"Node": {"type": "object", "properties": {
        "child": {"$ref": "#/$defs/Node"}}}}, "$ref": "#/$defs/Node"}
    out = reduce(schema)
    types.Schema.model_validate_json(json.dumps(out))
    assert out["properties"]["child"]["type"] == "OBJECT"
    assert "properties" not in out["properties"]["child"]


def test_gemini_parameters_back_to_json_schema():
    gemini = {"type": "OBJECT", "properties": {
        "q": {"type": "STRING", "nullable": True},
        "n": {"type": "ARRAY", "items": {"type": "INTEGER"}},
        "kind": {"type": "STRING", "format": "enum", "enum": ["a", "b"]}},
        "required": ["q"], "propertyOrdering": ["q", "n", "kind"]}
    assert to_json_schema(gemini) == {"type": "object", "required": ["q"], "properties": {
        "q": {"type": ["string", "null"]}, "n": {"type": "array", "items": {"type": "integer"}},
        "kind": {"type": "string", "enum": ["a", "b"]}}}


def test_foreign_tools_are_sent_as_reduced_parameters():
    request = Request("gemini-2.5-pro", [Message("user", [Text("hi")])], tools=[
        Tool("mcp_tool", "An MCP tool", MCP_SCHEMA),
        Tool("no_args", "Takes nothing", {"type": "object", "properties": {}}),
        Tool("apply_patch", "Patch files", kind="custom"),
        Tool("web_search", kind="hosted", hosted={"responses": {"type": "web_search"}})])
    wire = CODEC.encode_request(request)
    assert_valid_request(wire)
    decls = wire["tools"][0]["functionDeclarations"]
    assert [d["name"] for d in decls] == ["mcp_tool", "no_args", "apply_patch"]
    assert decls[0]["parameters"] == reduce(MCP_SCHEMA)
    assert "parameters" not in decls[1]
    assert decls[2]["parameters"]["properties"]["input"]["type"] == "STRING"
    assert len(wire["tools"]) == 1  # the foreign hosted tool is dropped


@pytest.mark.parametrize(("name", "legal"), [
    ("read_file", "read_file"), ("mcp.server:tool-1", "mcp.server:tool-1"),
    ("1password", "_1password"), ("-x", "_-x")])
def test_legal_names(name, legal):
    assert legal_name(name) == legal


def test_names_are_made_legal_and_mapped_back():
    tools = [Tool("9lives", parameters={"type": "object", "properties": {}}),
             Tool("spawn_agent", namespace="multi_agent_v1"),
             Tool("x" * 70), Tool("7" + "y" * 63)]
    names = GeminiNames(tools)
    wire = [names.wire(t.name, t.namespace) for t in tools]
    assert wire[0] == "_9lives" and wire[1] == "multi_agent_v1__spawn_agent"
    for name in wire:
        assert legal_name(name) == name and len(name) <= 64
    assert len(set(wire)) == 4
    request = Request("gemini-2.5-flash", [
        Message("user", [Text("go")]),
        Message("assistant", [ToolCall("c1", "spawn_agent", "{}", namespace="multi_agent_v1")]),
        Message("tool", [ToolResult("c1", [Text("done")])])], tools=tools)
    body = CODEC.encode_request(request)
    assert_valid_request(body)
    assert [d["name"] for d in body["tools"][0]["functionDeclarations"]] == wire
    assert body["contents"][1]["parts"][0]["functionCall"]["name"] == wire[1]
    assert body["contents"][2]["parts"][0]["functionResponse"]["name"] == wire[1]
    # an answer calling the legal names maps back to the tools
    answer = {"candidates": [{"content": {"role": "model", "parts": [
        {"functionCall": {"name": w, "args": {}}} for w in wire]}, "finishReason": "STOP"}]}
    calls = CODEC.decode_response(answer, request).parts
    assert [(c.name, c.namespace) for c in calls] == [(t.name, t.namespace) for t in tools]
