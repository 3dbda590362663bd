"""A scripted vendor that speaks only the Gemini API, as strict as Gemini 3 about replays.

``POST /v1beta/models/{model}:generateContent`` and ``…:streamGenerateContent?alt=sse``
with the key in ``x-goog-api-key``. On the first turn it asks for the client's shell
tool (``functionCall`` with a ``thoughtSignature``, and no call id, as Gemini sends
them); once the request carries a ``functionResponse`` for that tool it answers
``final``. A replayed ``functionCall`` without its exact signature is refused with
Gemini 3's 400, so a translation that loses the signature fails here as it would there.
"""

from __future__ import annotations

import json

from aiohttp import web

SIGNATURE = "CiQBcsjafSmVE0sYNjM6fGVtaW5pLXNpZ25hdHVyZS1zY3JpcHRlZA=="


class GeminiOnlyUpstream:
    def __init__(self, tool: str, arguments, *, key: str, final: str) -> None:
        self.tool, self.arguments, self.key, self.final = tool, arguments, key, final
        self.requests: list[dict] = []  # every generation request, in order
        self.other: list[str] = []  # any other path: none is expected
        self.app = web.Application()
        self.app.router.add_post("/v1beta/models/{target}", self._generate)
        self.app.router.add_route("*", "/{tail:.*}", self._other)

    async def _other(self, request: web.Request) -> web.Response:
        self.other.append(f"{request.method} {request.path_qs}")
        return _error(404, "NOT_FOUND", "not found")

    async def _generate(self, request: web.Request) -> web.StreamResponse:
        model, _, method = request.match_info["target"].rpartition(":")
        body = await request.json()
        self.requests.append({"headers": dict(request.headers), "body": body,
                              "model": model, "method": method, "query": dict(request.query)})
        if request.headers.get("x-goog-api-key") != self.key:
            return _error(401, "UNAUTHENTICATED", "API key not valid")
        contents = body.get("contents") or []
        for turn in contents:
            for part in turn.get("parts") or []:
                if "functionCall" in part and part.get("thoughtSignature") != SIGNATURE:
                    return _error(400, "INVALID_ARGUMENT", "Function call is missing a "
                                  "thought_signature in functionCall parts.")
        tools = {d["name"]: d for t in body.get("tools") or []
                 for d in t.get("functionDeclarations") or []}
        answered = any(part.get("functionResponse", {}).get("name") == self.tool
                       for turn in contents for part in turn.get("parts") or [])
        if self.tool in tools and not answered:
            schema = tools[self.tool].get("parametersJsonSchema") or \
                tools[self.tool].get("parameters") or {}
            parts = [{"functionCall": {"name": self.tool, "args": self.arguments(schema)},
                      "thoughtSignature": SIGNATURE}]
        else:
            parts = [{"text": self.final if answered else "Proof"}]
        answer = {"candidates": [{"content": {"role": "model", "parts": parts},
                                  "finishReason": "STOP", "index": 0}],
                  "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 9,
                                    "totalTokenCount": 129},
                  "modelVersion": model, "responseId": f"r{len(self.requests)}"}
        if method == "generateContent":
            return web.json_response(answer)
        if method != "streamGenerateContent" or request.query.get("alt") != "sse":
            return _error(400, "INVALID_ARGUMENT", f"unexpected method {method}")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        if "text" in parts[0]:  # text comes in pieces, the last one with the finish
            words = parts[0]["text"].split(" ")
            for word in words[:-1]:
                await _send(response, {"candidates": [{"content": {
                    "role": "model", "parts": [{"text": word + " "}]}, "index": 0}],
                    "modelVersion": model})
            answer["candidates"][0]["content"]["parts"] = [{"text": words[-1]}]
        await _send(response, answer)
        await response.write_eof()
        return response


async def _send(response: web.StreamResponse, chunk: dict) -> None:
    await response.write(f"data: {json.dumps(chunk)}\r\n\r\n".encode())


def _error(code: int, status: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message, "status": status}},
                             status=code)
