"""A small fake upstream for the export tests: one answer in each protocol's own shape.

It records every request (path, headers, JSON body) so a test can see which protocol,
model, key and URL an exported gateway really used. Answers are minimal but valid for
the official SDKs: the text names the protocol and the model, so a reply shows the route.
"""

from __future__ import annotations

import json

from aiohttp import web


def _text(protocol: str, model: str) -> str:
    return f"{protocol} upstream, model {model}"


class RecordingUpstream:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.failing: set[str] = set()  # models answered with a 503, to set off a fallback
        self.app = web.Application()
        self.app.router.add_post("/{prefix:.*}v1/chat/completions", self._chat)
        self.app.router.add_post("/{prefix:.*}v1/responses", self._responses)
        self.app.router.add_post("/{prefix:.*}v1/messages", self._messages)
        self.app.router.add_post("/{prefix:.*}v1beta/models/{target}", self._gemini)

    async def _record(self, request: web.Request, protocol: str, model: str) -> dict:
        body = await request.json()
        model = model or body.get("model")
        self.requests.append({"protocol": protocol, "path": request.path,
                              "headers": dict(request.headers), "body": body,
                              "model": model})
        if model in self.failing:
            raise web.HTTPServiceUnavailable(
                text=json.dumps({"error": {"message": f"{model} is overloaded",
                                           "type": "overloaded_error"}}),
                content_type="application/json")
        return body

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request, "chat", "")
        model = body["model"]
        if body.get("stream"):
            return await self._chat_stream(request, model)
        return web.json_response({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": _text("chat", model)}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}})

    async def _chat_stream(self, request: web.Request, model: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                "model": model}
        for delta, finish in (({"role": "assistant", "content": _text("chat", model)}, None),
                              ({}, "stop")):
            chunk = {**base, "choices": [{"index": 0, "delta": delta,
                                          "finish_reason": finish}]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _responses(self, request: web.Request) -> web.Response:
        body = await self._record(request, "responses", "")
        model = body["model"]
        return web.json_response({
            "id": "resp_1", "object": "response", "created_at": 1, "status": "completed",
            "model": model, "output": [{
                "type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": _text("responses", model),
                             "annotations": []}]}],
            "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
            "usage": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7,
                      "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens_details": {"reasoning_tokens": 0}}})

    async def _messages(self, request: web.Request) -> web.Response:
        body = await self._record(request, "messages", "")
        model = body["model"]
        return web.json_response({
            "id": "msg_1", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": _text("messages", model)}],
            "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 3, "output_tokens": 4}})

    async def _gemini(self, request: web.Request) -> web.Response:
        model, _, method = request.match_info["target"].rpartition(":")
        await self._record(request, "gemini", model)
        if method != "generateContent":
            return web.json_response({"error": {"code": 404, "status": "NOT_FOUND",
                                                "message": f"no method {method}"}}, status=404)
        return web.json_response({
            "candidates": [{"index": 0, "finishReason": "STOP", "content": {
                "role": "model", "parts": [{"text": _text("gemini", model)}]}}],
            "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 4,
                              "totalTokenCount": 7},
            "modelVersion": model})
