"""Shared helpers for the Gemini codec tests: fixtures, SDK checks, stream plumbing.

The google-genai SDK's pydantic types forbid unknown fields at every depth (``extra=
"forbid"``) and read the REST API's camelCase names; values outside an enum only warn,
so the checks turn warnings into failures. Bodies are validated from JSON text, the
way the SDK reads the wire (bytes fields as base64).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import httpx2
from google import genai
from google.genai import types
from pydantic import TypeAdapter, ValidationError

from byecore_cli.codecs import get as get_codec
from byecore_cli.codecs.gemini import CODEC
from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.hub import Request

FIXTURES = Path(__file__).parent / "fixtures"
# The top-level fields of a generateContent body, and the SDK type of each.
REQUEST_FIELDS = {
    "contents": list[types.Content],
    "systemInstruction": types.Content,
    "tools": list[types.Tool],
    "toolConfig": types.ToolConfig,
    "generationConfig": types.GenerationConfig,
    "safetySettings": list[types.SafetySetting],
    "cachedContent": str,
    "labels": dict[str, str],
}


def load(name: str, protocol: str = "gemini"):
    path = FIXTURES / protocol / name
    return json.loads(path.read_text()) if name.endswith(".json") else path.read_bytes()


def codec(name: str):
    return CODEC if name == "gemini" else get_codec(name)


def _validate(adapter_type, value) -> list[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            TypeAdapter(adapter_type).validate_json(json.dumps(value))
    except (ValidationError, UserWarning) as exc:
        return [str(exc)]
    return []


def _schema_types(value, path: str) -> list[str]:
    """Gemini ``Schema`` types must be the upper-case enum names (the SDK would accept
    any case, the API only documents these)."""
    problems = []
    if isinstance(value, dict):
        kind = value.get("type")
        if kind is not None and kind not in ("STRING", "NUMBER", "INTEGER", "BOOLEAN",
                                             "ARRAY", "OBJECT"):
            problems.append(f"{path}.type: {kind!r}")
        for key, item in value.items():
            if key in ("properties",):
                for name, sub in item.items():
                    problems += _schema_types(sub, f"{path}.properties.{name}")
            elif key == "items":
                problems += _schema_types(item, f"{path}.items")
            elif key == "anyOf":
                for i, sub in enumerate(item):
                    problems += _schema_types(sub, f"{path}.anyOf[{i}]")
    return problems


def request_problems(body: dict) -> list[str]:
    problems = [f"$.{k}: not a generateContent field" for k in body if k not in REQUEST_FIELDS]
    if "contents" not in body:
        problems.append("$.contents: required")
    for key, value in body.items():
        if key in REQUEST_FIELDS:
            problems += [f"$.{key}: {p}" for p in _validate(REQUEST_FIELDS[key], value)]
    for i, tool in enumerate(body.get("tools") or []):
        for j, decl in enumerate(tool.get("functionDeclarations") or []):
            if "parameters" in decl:
                problems += _schema_types(decl["parameters"], f"$.tools[{i}].{j}.parameters")
    schema = (body.get("generationConfig") or {}).get("responseSchema")
    if schema is not None:
        problems += _schema_types(schema, "$.generationConfig.responseSchema")
    for i, content in enumerate(body.get("contents") or []):
        if content.get("role") not in ("user", "model"):
            problems.append(f"$.contents[{i}].role: {content.get('role')!r}")
        if not content.get("parts"):
            problems.append(f"$.contents[{i}].parts: empty")
    return problems


def assert_valid_request(body: dict) -> None:
    problems = request_problems(body)
    assert not problems, "\n".join(problems)


def assert_valid_response(body: dict) -> types.GenerateContentResponse:
    problems = _validate(types.GenerateContentResponse, body)
    assert not problems, "\n".join(problems)
    return types.GenerateContentResponse.model_validate_json(json.dumps(body))


def chunks(data: bytes, size: int | None) -> list[bytes]:
    return [data] if size is None else [data[i:i + size] for i in range(0, len(data), size)]


def decode_stream(data: bytes, request: Request, size: int | None = None,
                  protocol: str = "gemini") -> list:
    sse, decoder = SSEDecoder(), codec(protocol).stream_decoder(request)
    events = []
    for piece in chunks(data, size):
        for event in sse.feed(piece):
            events += decoder.feed(event)
    for event in sse.flush():
        events += decoder.feed(event)
    return events + decoder.flush()


def encode_stream(events: list, request: Request, protocol: str = "gemini") -> bytes:
    encoder = codec(protocol).stream_encoder(request)
    return b"".join(encoder.feed(e) for e in events) + encoder.flush()


def sse_payloads(data: bytes) -> list[dict]:
    sse = SSEDecoder()
    return [json.loads(e.data) for e in sse.feed(data) + sse.flush()]


def sdk_client(handler) -> genai.Client:
    """A google-genai client whose HTTP goes to ``handler`` (an httpx2 request → response)."""
    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    return genai.Client(api_key="test-key", http_options=types.HttpOptions(
        base_url="http://upstream.test/", httpx_client=http))


def sdk_stream(data: bytes) -> list[types.GenerateContentResponse]:
    """The chunks the google-genai SDK itself reads from these SSE bytes."""
    def handler(_request):
        return httpx2.Response(200, content=data, headers={"content-type": "text/event-stream"})
    client = sdk_client(handler)
    return list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"))
