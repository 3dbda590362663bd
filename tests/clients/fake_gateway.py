"""A tiny local gateway (127.0.0.1, port 0) that answers "PONG" in each protocol's stream.

Real clients are pointed at it by the config byecore wrote; it records the method,
path and auth headers of every request, so tests can see what the client sent.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = "PONG"


def _sse(events: list[tuple[str, dict]]) -> bytes:
    return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
                    for name, data in events)


def _responses_stream() -> bytes:
    message = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": REPLY, "annotations": []}]}
    usage = {"input_tokens": 10, "output_tokens": 2, "total_tokens": 12,
             "input_tokens_details": {"cached_tokens": 0},
             "output_tokens_details": {"reasoning_tokens": 0}}
    return _sse([
        ("response.created", {"type": "response.created", "response": {
            "id": "resp_1", "object": "response", "status": "in_progress", "output": []}}),
        ("response.output_item.added", {"type": "response.output_item.added",
                                        "output_index": 0, "item": {**message, "content": []}}),
        ("response.output_text.delta", {"type": "response.output_text.delta",
                                        "item_id": "msg_1", "output_index": 0,
                                        "content_index": 0, "delta": REPLY}),
        ("response.output_item.done", {"type": "response.output_item.done",
                                       "output_index": 0, "item": message}),
        ("response.completed", {"type": "response.completed", "response": {
            "id": "resp_1", "object": "response", "status": "completed",
            "output": [message], "usage": usage}}),
    ])


def _messages_stream(model: str) -> bytes:
    return _sse([
        ("message_start", {"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": REPLY}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                              "stop_sequence": None},
                           "usage": {"output_tokens": 2}}),
        ("message_stop", {"type": "message_stop"}),
    ])


class FakeGateway:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                gateway._record(self, None)
                self._send(200, "application/json", json.dumps(
                    {"object": "list", "data": [], "models": []}).encode())

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                gateway._record(self, body)
                path = self.path.split("?")[0]
                if path.endswith("/responses"):
                    self._send(200, "text/event-stream", _responses_stream())
                elif path.endswith("/v1/messages"):
                    if body.get("stream"):
                        self._send(200, "text/event-stream",
                                   _messages_stream(body.get("model", "")))
                    else:
                        self._send(200, "application/json", json.dumps({
                            "id": "msg_2", "type": "message", "role": "assistant",
                            "model": body.get("model", ""), "stop_reason": "end_turn",
                            "content": [{"type": "text", "text": REPLY}],
                            "usage": {"input_tokens": 1, "output_tokens": 1}}).encode())
                else:
                    self._send(404, "application/json", b'{"error": "not here"}')

            def _send(self, status: int, kind: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _record(self, handler, body) -> None:
        self.requests.append({
            "method": handler.command, "path": handler.path,
            "authorization": handler.headers.get("authorization"),
            "x-api-key": handler.headers.get("x-api-key"),
            "model": (body or {}).get("model"),
        })

    def __enter__(self) -> FakeGateway:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
