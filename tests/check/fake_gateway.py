"""A small local gateway speaking all three protocols, with switchable failures.

``build(Behaviour(...))`` is an aiohttp app for ``tests.fakes.ThreadedServer``;
``RawServer`` misbehaves below HTTP (closes at once, never answers, answers everything
with one status), where an aiohttp app cannot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
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
    cut_stream: bool = False  # send one event, then drop the connection mid-stream
    cut_body: bool = False  # promise a whole JSON body, send half, drop the connection
    drip_stream: bool = False  # send a keep-alive comment every 0.3 s, forever
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
                    if b.cut_body:
                        raw = json.dumps(BODIES[protocol]).encode()
                        resp = web.StreamResponse(headers={
                            "Content-Type": "application/json",
                            "Content-Length": str(len(raw))})
                        await resp.prepare(request)
                        await resp.write(raw[:len(raw) // 2])
                        request.transport.close()
                        return resp
                    return web.json_response(BODIES[protocol])
                resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
                await resp.prepare(request)
                events = STREAMS[protocol]
                if b.cut_stream:
                    await resp.write(_sse(*events[0]))
                    request.transport.close()  # no final event, no end of the chunked body
                    return resp
                if b.drip_stream:
                    while True:  # alive but never done: only the check's budget ends it
                        await resp.write(b": still thinking\n\n")
                        await asyncio.sleep(0.3)
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


class RawServer:
    """A TCP server on 127.0.0.1 port 0 that misbehaves below HTTP, in a thread.

    ``mode``: ``close`` reads the request and closes without a word; ``hang`` reads it
    and never answers (until the server stops); ``status:503`` answers every request
    with that status and a JSON error. ``connections`` counts what it accepted.
    """

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.connections = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)
        for conn in self._held:
            conn.close()
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.settimeout(5)
            with contextlib.suppress(OSError):
                conn.recv(65536)  # the request (its head, at least)
            if self.mode == "hang":
                self._held.append(conn)  # open and silent until the test ends
                continue
            if self.mode.startswith("status:"):
                body = json.dumps({"error": {"message": "upstream unavailable",
                                             "type": "api_error"}}).encode()
                head = (f"HTTP/1.1 {self.mode[7:]} Oops\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
                conn.sendall(head.encode() + body)
            conn.close()
