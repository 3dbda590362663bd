"""A small local gateway speaking all three protocols, with switchable failures."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from aiohttp import web

KEY = "sk-good-0123456789abcdef"


@dataclass
class Behaviour:
    key: str = KEY
    models: tuple[str, ...] = ("gpt-5.4", "gpt-5.5", "gpt-5.3-codex")
    prefix: str = "/v1"  # where the OpenAI endpoints live
    anthropic_prefix: str = ""
    status: int | None = None  # answer every POST with this status
    retry_after: str | None = None
    hang_stream: bool = False  # send one event, then go silent
    truncate_stream: bool = False  # close without the final event
    malformed: bool = False  # answer POSTs with a body of the wrong shape


def _sse(event: str | None, data: dict | str) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return (f"event: {event}\n" if event else "").encode() + f"data: {text}\n\n".encode()


STREAMS = {
    "chat": [(None, {"id": "c1", "object": "chat.completion.chunk", "created": 1,
                     "model": "m", "choices": [{"index": 0, "delta": {"content": "pong"},
                                                "finish_reason": None}]}),
             (None, {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
                     "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
             (None, "[DONE]")],
    "messages": [("message_start", {"type": "message_start", "message": {
                      "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                      "content": [], "stop_reason": None, "stop_sequence": None,
                      "usage": {"input_tokens": 5, "output_tokens": 0}}}),
                 ("content_block_start", {"type": "content_block_start", "index": 0,
                                          "content_block": {"type": "text", "text": ""}}),
                 ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                          "delta": {"type": "text_delta", "text": "pong"}}),
                 ("content_block_stop", {"type": "content_block_stop", "index": 0}),
                 ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                                    "usage": {"output_tokens": 1}}),
                 ("message_stop", {"type": "message_stop"})],
    "responses": [("response.created", {"type": "response.created", "sequence_number": 0,
                                        "response": {"id": "resp_1", "object": "response"}}),
                  ("response.output_text.delta", {"type": "response.output_text.delta",
                                                  "sequence_number": 1, "delta": "pong"}),
                  ("response.completed", {"type": "response.completed", "sequence_number": 2,
                                          "response": {"id": "resp_1", "object": "response",
                                                       "output": []}})],
}

BODIES = {
    "chat": {"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
             "choices": [{"index": 0, "message": {"role": "assistant", "content": "pong"},
                          "finish_reason": "stop"}]},
    "messages": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                 "content": [{"type": "text", "text": "pong"}], "stop_reason": "end_turn",
                 "usage": {"input_tokens": 5, "output_tokens": 1}},
    "responses": {"id": "resp_1", "object": "response", "status": "completed",
                  "output": [{"type": "message", "role": "assistant",
                              "content": [{"type": "output_text", "text": "pong"}]}]},
}


def build(b: Behaviour):
    def make() -> web.Application:
        def error(protocol: str, status: int, message: str, kind: str) -> web.Response:
            headers = {"Retry-After": b.retry_after} if b.retry_after else None
            if protocol == "messages":
                body = {"type": "error", "error": {"type": kind, "message": message}}
            else:
                body = {"error": {"message": message, "type": kind, "code": kind}}
            return web.json_response(body, status=status, headers=headers)

        def authorised(request, protocol: str) -> bool:
            if protocol == "messages":
                got = request.headers.get("x-api-key")
            else:
                got = request.headers.get("Authorization", "").removeprefix("Bearer ")
            return got == b.key

        async def models(request):
            if not authorised(request, "chat"):
                return error("chat", 401, "Incorrect API key provided", "invalid_api_key")
            return web.json_response({"object": "list", "data": [
                {"id": m, "object": "model", "owned_by": "fake"} for m in b.models]})

        def endpoint(protocol: str):
            async def handle(request):
                if not authorised(request, protocol):
                    return error(protocol, 401, "invalid key", "authentication_error")
                if b.status:
                    return error(protocol, b.status, "something went wrong", "api_error")
                body = await request.json()
                if body["model"] not in b.models:
                    return error(protocol, 404, f"The model `{body['model']}` does not exist",
                                 "model_not_found")
                if b.malformed:
                    return web.json_response({"hello": "world"})
                if not body.get("stream"):
                    return web.json_response(BODIES[protocol])
                resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
                await resp.prepare(request)
                events = STREAMS[protocol]
                if b.hang_stream:
                    await resp.write(_sse(*events[0]))
                    await asyncio.sleep(3)  # longer than the test's --timeout 1
                    return resp
                if b.truncate_stream:
                    events = events[:-1]
                for event in events:
                    await resp.write(_sse(*event))
                await resp.write_eof()
                return resp
            return handle

        app = web.Application()
        app.router.add_get(f"{b.prefix}/models", models)
        app.router.add_post(f"{b.prefix}/chat/completions", endpoint("chat"))
        app.router.add_post(f"{b.prefix}/responses", endpoint("responses"))
        app.router.add_post(f"{b.anthropic_prefix}/v1/messages", endpoint("messages"))
        return app
    return make
