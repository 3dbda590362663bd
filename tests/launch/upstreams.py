"""A scripted vendor that speaks only Anthropic Messages (streamed or not), for the Chat
clients ``byecore run`` launches (Aider, OpenCode, Droid): the proxy must translate.

``turn(body)`` decides each answer from the request: ``("tool", name, arguments)`` asks
for a tool call (id ``CALL_ID``), ``("text", words)`` answers in text. ``answered(body)``
says whether the request carries the result of a call it replays. Every request is kept (headers and
body) in ``requests``; any other path is recorded in ``other`` and refused, as a vendor
that serves only ``/v1/messages`` would.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from aiohttp import web

CALL_ID = "toolu_run_proof_5c2e"

Turn = tuple


class MessagesOnlyUpstream:
    def __init__(self, turn: Callable[[dict, MessagesOnlyUpstream], Turn]) -> None:
        self.turn = turn
        self.requests: list[dict] = []
        self.other: list[str] = []
        self.app = web.Application()
        self.app.router.add_post("/v1/messages", self._messages)
        self.app.router.add_route("*", "/{tail:.*}", self._other)

    @staticmethod
    def tools(body: dict) -> dict[str, dict]:
        return {t["name"]: t.get("input_schema") or {} for t in body.get("tools") or []}

    @staticmethod
    def answered(body: dict) -> bool:
        """A tool result answers a tool call replayed before it, under the same id (some
        clients rename the ids they are given, as Droid does: ``call_…_0``)."""
        asked: set[str] = set()
        for message in body["messages"]:
            blocks = message.get("content") if isinstance(message.get("content"), list) else []
            for block in blocks:
                if message.get("role") == "assistant" and block.get("type") == "tool_use":
                    asked.add(block.get("id"))
                if (message.get("role") == "user" and block.get("type") == "tool_result"
                        and block.get("tool_use_id") in asked):
                    return True
        return False

    async def _other(self, request: web.Request) -> web.Response:
        self.other.append(f"{request.method} {request.path_qs}")
        return web.json_response({"type": "error", "error": {
            "type": "not_found_error", "message": "not found"}}, status=404)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append({"headers": dict(request.headers), "body": body})
        kind, *rest = self.turn(body, self)
        if kind == "tool":
            name, arguments = rest
            block = {"type": "tool_use", "id": CALL_ID, "name": name, "input": arguments}
            start = {**block, "input": {}}
            payload = json.dumps(arguments)
            deltas = [{"type": "input_json_delta", "partial_json": payload[i:i + 9]}
                      for i in range(0, len(payload), 9)]
            stop = "tool_use"
        else:
            text = rest[0]
            block, start = {"type": "text", "text": text}, {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": piece}
                      for piece in text.splitlines(keepends=True) or [""]]
            stop = "end_turn"
        message = {"id": f"msg_{len(self.requests)}", "type": "message", "role": "assistant",
                   "model": body["model"], "content": [block], "stop_reason": stop,
                   "stop_sequence": None, "usage": {"input_tokens": 120, "output_tokens": 9}}
        if not body.get("stream"):
            return web.json_response(message)
        events = [("message_start", {"type": "message_start", "message": {
                      **message, "content": [], "stop_reason": None,
                      "usage": {"input_tokens": 120, "output_tokens": 1}}}),
                  ("content_block_start", {"type": "content_block_start", "index": 0,
                                           "content_block": start})]
        events += [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                            "delta": d}) for d in deltas]
        events += [("content_block_stop", {"type": "content_block_stop", "index": 0}),
                   ("message_delta", {"type": "message_delta", "delta": {
                       "stop_reason": stop, "stop_sequence": None},
                       "usage": {"output_tokens": 9}}),
                   ("message_stop", {"type": "message_stop"})]
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for name, data in events:
            await response.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        await response.write_eof()
        return response
