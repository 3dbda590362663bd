"""Shared helpers for the Responses codec tests: fixtures, SDK checks, stream plumbing."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2 as httpx
import openai
from openai.types.responses import Response as SDKResponse
from openai.types.responses.response_create_params import (
    ResponseCreateParamsNonStreaming,
    ResponseCreateParamsStreaming,
)
from pydantic import BaseModel

from byecore_cli.codecs import get
from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.hub import Request
from tests.codecs.sdk_check import check

CODEC = get("responses")
FIXTURES = Path(__file__).parent / "fixtures" / "responses"
# The SDK marks a reasoning input item's ``id`` as required, yet Codex never sends one
# (its ids are skip_serializing) and the API accepts that with ``encrypted_content``.
REASONING_ID = "required by ResponseReasoningItemParam"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sdk_problems(body: dict) -> list[str]:
    params = ResponseCreateParamsStreaming if body.get("stream") else \
        ResponseCreateParamsNonStreaming
    return [p for p in check(body, params) if not (p.endswith(REASONING_ID) and ".id:" in p)]


def assert_valid_request(body: dict) -> None:
    problems = sdk_problems(body)
    assert not problems, "\n".join(problems)


def extras_anywhere(model: BaseModel, path: str = "$") -> list[str]:
    """Fields the SDK model did not define, at any depth."""
    found = [f"{path}.{k}" for k in (model.__pydantic_extra__ or {})]
    for name in type(model).model_fields:
        value = getattr(model, name)
        values = value if isinstance(value, list) else [value]
        for i, item in enumerate(values):
            if isinstance(item, BaseModel):
                found += extras_anywhere(item, f"{path}.{name}[{i}]")
    return found


def assert_valid_response(body: dict) -> SDKResponse:
    model = SDKResponse.model_validate(body)
    assert not extras_anywhere(model)
    return model


def decode_stream(data: bytes, request: Request, chunk: int | None = None) -> list:
    sse = SSEDecoder()
    decoder = CODEC.stream_decoder(request)
    pieces = [data] if chunk is None else [data[i:i + chunk] for i in range(0, len(data), chunk)]
    events = []
    for piece in pieces:
        for event in sse.feed(piece):
            events += decoder.feed(event)
    for event in sse.flush():
        events += decoder.feed(event)
    return events + decoder.flush()


def encode_stream(events: list, request: Request) -> bytes:
    encoder = CODEC.stream_encoder(request)
    return b"".join(encoder.feed(e) for e in events) + encoder.flush()


def sse_payloads(data: bytes) -> list[dict]:
    sse = SSEDecoder()
    return [json.loads(e.data) for e in sse.feed(data) + sse.flush()]


def sdk_stream(data: bytes):
    """Feed SSE bytes to the openai SDK's own Responses stream accumulator."""
    transport = httpx.MockTransport(lambda _: httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=data))
    client = openai.OpenAI(api_key="sk-test", base_url="http://upstream.test/v1",
                           http_client=httpx.Client(transport=transport))
    with client.responses.stream(model="gpt-5.5", input="hi") as stream:
        events = list(stream)
        final = stream.get_final_response()
    return events, final
