"""A fake LLM upstream on port 0 that speaks each protocol natively, and can misbehave.

It answers like a tiny model: with tools offered and no tool result yet, it calls the
first tool (``{"cmd": "ls"}``); after a tool result it says ``<protocol> got: <result>``;
otherwise ``<protocol> says: <last user text>``. Usage is fixed and protocol-shaped:
11 input tokens of which 3 cached, 5 output tokens of which 2 reasoning.

``plan`` holds what the next inference requests do, one entry each (then "ok"):
``"ok"``; ``("status", code, headers[, message])``; ``"hang"`` (never answers; ``cancelled`` is set
when the proxy drops the request); ``("cut", n)`` (a stream cut after n events);
``("slow", seconds)`` (a stream that goes silent before its last events);
``("raw", status, headers, body)`` (exactly these bytes; a list of bytes is sent as
that many chunks, a moment apart, then a clean end; an ``asyncio.Event`` in the list is
waited for before going on: a test sets it once the client has what came before, so
those bytes surely reached the proxy in a read of their own); ``("echo_key", "first"|"mid")``
(a 200 stream whose first event, or an event after the first two, is the protocol's
error event quoting the key the request came with, as some gateways do; ``echoed_error``).

``refuse_fields`` names request fields it rejects (``refuse_status``, 400 by default),
as strict vendors do.

``reasoning = True`` makes it think first, in its protocol's own form (``with_reasoning``):
Chat ``reasoning_content`` as DeepSeek sends it, a Responses ``reasoning`` item with a
summary and ``encrypted_content``, an Anthropic ``thinking`` block with a signature. Each
protocol's text and opaque data are distinct (``REASONING``, ``ENCRYPTED``,
``SIGNATURE``), so a test can tell whose reasoning reached which upstream.
"""

from __future__ import annotations

import asyncio
import json
import time

from aiohttp import web

TOOL_ARGS = {"cmd": "ls"}


class FakeUpstream:
    def __init__(self) -> None:
        self.plan: list = []
        self.requests: list[dict] = []
        self.cancelled = asyncio.Event()
        self.received = asyncio.Event()  # set by each inference request that arrives
        self.reasoning = False
        self.refuse_fields: set[str] = set()  # top-level body fields refused…
        self.refuse_status = 400  # …with this status
        self.app = web.Application()
        for prefix in ("/v1",):
            self.app.router.add_post(prefix + "/chat/completions", self._handler("chat"))
            self.app.router.add_post(prefix + "/responses", self._handler("responses"))
            self.app.router.add_post(prefix + "/messages", self._handler("messages"))
            self.app.router.add_post(prefix + "/messages/count_tokens", self._count)

    @property
    def last(self) -> dict:
        return self.requests[-1]

    async def _count(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"path": request.path_qs, "headers": dict(request.headers),
                              "body": body})
        return web.json_response({"input_tokens": 4242})

    def _handler(self, protocol: str):
        async def handle(request: web.Request) -> web.StreamResponse:
            raw = await request.read()
            body = json.loads(raw)
            self.requests.append({"path": request.path_qs, "headers": dict(request.headers),
                                  "body": body, "raw": raw, "protocol": protocol})
            self.received.set()
            refused = sorted(self.refuse_fields.intersection(body))
            if refused:  # a strict vendor, in xAI's words
                return web.json_response({"error": {
                    "message": f"Argument not supported: {refused[0]}",
                    "type": "invalid_request_error", "code": None}},
                    status=self.refuse_status)
            action = self.plan.pop(0) if self.plan else "ok"
            if action == "hang":
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:
                    self.cancelled.set()
                    raise
            if isinstance(action, tuple) and action[0] == "status":
                return _error(protocol, *action[1:])
            if isinstance(action, tuple) and action[0] == "raw":
                return await _raw(request, *action[1:])
            try:
                reply = _reply(protocol, body)
            except (KeyError, IndexError, TypeError, AttributeError):
                return _error(protocol, 400, {})  # what a real upstream says to a bad body
            if not body.get("stream"):
                whole = _whole(protocol, body, reply)
                return web.json_response(with_reasoning(protocol, whole) if self.reasoning
                                         else whole)
            events = _events(protocol, body, reply)
            if self.reasoning:
                events = with_reasoning_events(protocol, events)
            if isinstance(action, tuple) and action[0] == "echo_key":
                key = (request.headers.get("x-api-key")
                       or request.headers.get("Authorization", "").removeprefix("Bearer "))
                first = action[1] == "first"
                error = echoed_error(protocol, key, 0 if first else 2)
                events = [error] if first else [*events[:2], error]
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            for n, (name, data) in enumerate(events):
                if isinstance(action, tuple) and action[0] == "cut" and n == action[1]:
                    await asyncio.sleep(0.1)  # let the first events reach the reader
                    request.transport.close()  # no clean end: the connection just drops
                    return response
                if isinstance(action, tuple) and action[0] == "slow" and n == len(events) - 2:
                    try:
                        await asyncio.sleep(action[1])
                    except asyncio.CancelledError:
                        self.cancelled.set()
                        raise
                head = f"event: {name}\n" if name else ""
                await response.write(f"{head}data: {data}\n\n".encode())
            await response.write_eof()
            return response

        return handle


async def _raw(request: web.Request, status: int, headers: dict,
               body: bytes | list) -> web.StreamResponse:
    if isinstance(body, bytes):
        return web.Response(status=status, headers=headers, body=body)
    response = web.StreamResponse(status=status, headers=headers)
    await response.prepare(request)
    for part in body:
        if isinstance(part, asyncio.Event):
            await asyncio.wait_for(part.wait(), 30)  # the test's go-ahead
            continue
        await response.write(part)
        await asyncio.sleep(0.02)  # likely separate reads; a test that needs them gates
    await response.write_eof()
    return response


def echoed_error(protocol: str, key: str, seq: int) -> tuple[str, str]:
    """The protocol's stream error event, its message quoting ``key``."""
    message = f"Incorrect API key provided: {key}"
    if protocol == "chat":
        return None, json.dumps({"error": {"message": message, "type": "invalid_request_error",
                                           "code": "invalid_api_key"}})
    if protocol == "responses":
        return "error", json.dumps({"type": "error", "code": "invalid_api_key",
                                    "message": message, "param": None,
                                    "sequence_number": seq})
    return "error", json.dumps({"type": "error", "error": {"type": "authentication_error",
                                                           "message": message}})


def _error(protocol: str, status: int, headers: dict | None = None,
           message: str | None = None) -> web.Response:
    message = message or f"fake {protocol} upstream error {status}"
    if protocol == "messages":
        kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
        body = {"type": "error", "error": {"type": kind, "message": message}}
    else:
        body = {"error": {"message": message, "type": "rate_limit_error" if status == 429
                          else "server_error", "code": None}}
    return web.json_response(body, status=status, headers=headers)


# -- what the tiny model says, per protocol ------------------------------------------


def _text_of(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict)
                        and p.get("type") in ("text", "input_text", "output_text"))
    return ""


def _reply(protocol: str, body: dict) -> dict:
    """{"text": str} or {"tool": name}, from the request in its own protocol."""
    tools = body.get("tools") or []
    if protocol == "chat":
        last = body["messages"][-1]
        if last.get("role") == "tool":
            return {"text": f"chat got: {_text_of(last.get('content'))}"}
        user = [m for m in body["messages"] if m.get("role") == "user"]
        said = _text_of(user[-1].get("content")) if user else ""
        names = [t["function"]["name"] for t in tools if t.get("type") == "function"]
    elif protocol == "responses":
        items = body["input"] if isinstance(body["input"], list) else [
            {"type": "message", "role": "user", "content": body["input"]}]
        last = items[-1]
        if last.get("type") == "function_call_output":
            out = last.get("output")
            return {"text": f"responses got: {out if isinstance(out, str) else _text_of(out)}"}
        user = [i for i in items if i.get("role") == "user"]
        said = _text_of(user[-1].get("content")) if user else ""
        names = [t["name"] for t in tools if t.get("type") == "function"]
    else:
        last = body["messages"][-1]
        results = [b for b in last.get("content") or [] if isinstance(b, dict)
                   and b.get("type") == "tool_result"] if isinstance(last.get("content"),
                                                                      list) else []
        if results:
            return {"text": f"messages got: {_text_of(results[-1].get('content'))}"}
        said = _text_of(last.get("content"))
        names = [t["name"] for t in tools if "input_schema" in t]
    if names:
        return {"tool": names[0]}
    return {"text": f"{protocol} says: {said}"}


def _whole(protocol: str, body: dict, reply: dict) -> dict:
    model, now = body["model"], int(time.time())
    if protocol == "chat":
        message = {"role": "assistant", "content": reply.get("text")}
        if "tool" in reply:
            message["tool_calls"] = [{"id": "call_1", "type": "function", "function": {
                "name": reply["tool"], "arguments": json.dumps(TOOL_ARGS)}}]
        return {"id": "chatcmpl-1", "object": "chat.completion", "created": now,
                "model": model, "choices": [{
                    "index": 0, "message": message,
                    "finish_reason": "tool_calls" if "tool" in reply else "stop"}],
                "usage": CHAT_USAGE}
    if protocol == "responses":
        return {"id": "resp_1", "object": "response", "created_at": now, "status":
                "completed", "model": model, "output": [_responses_item(reply)],
                "usage": RESPONSES_USAGE, "error": None, "incomplete_details": None,
                "instructions": None, "metadata": {}, "parallel_tool_calls": True,
                "temperature": 1.0, "tool_choice": "auto", "tools": [], "top_p": 1.0}
    content = ([{"type": "tool_use", "id": "toolu_1", "name": reply["tool"],
                 "input": TOOL_ARGS}] if "tool" in reply
               else [{"type": "text", "text": reply["text"]}])
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": "tool_use" if "tool" in reply else "end_turn",
            "stop_sequence": None, "usage": MESSAGES_USAGE}


CHAT_USAGE = {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16,
              "prompt_tokens_details": {"cached_tokens": 3},
              "completion_tokens_details": {"reasoning_tokens": 2}}
RESPONSES_USAGE = {"input_tokens": 11, "output_tokens": 5, "total_tokens": 16,
                   "input_tokens_details": {"cached_tokens": 3},
                   "output_tokens_details": {"reasoning_tokens": 2}}
MESSAGES_USAGE = {"input_tokens": 8, "output_tokens": 5, "cache_read_input_tokens": 3,
                  "cache_creation_input_tokens": 0}


def _responses_item(reply: dict) -> dict:
    if "tool" in reply:
        return {"type": "function_call", "id": "fc_1", "call_id": "call_1",
                "name": reply["tool"], "arguments": json.dumps(TOOL_ARGS),
                "status": "completed"}
    return {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": reply["text"], "annotations": []}]}


def _split(text: str) -> list[str]:
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


def _events(protocol: str, body: dict, reply: dict) -> list[tuple[str | None, str]]:
    d = json.dumps
    model, now = body["model"], int(time.time())
    if protocol == "chat":
        base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": now,
                "model": model}

        def chunk(delta, finish=None, usage=None):
            out = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            if usage is not None:
                out = {**base, "choices": [], "usage": usage}
            return None, d(out)

        out = [chunk({"role": "assistant", "content": ""})]
        if "tool" in reply:
            args = d(TOOL_ARGS)
            out.append(chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                              "function": {"name": reply["tool"],
                                                           "arguments": ""}}]}))
            out += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})
                    for part in (args[:5], args[5:])]
            out.append(chunk({}, "tool_calls"))
        else:
            out += [chunk({"content": piece}) for piece in _split(reply["text"])]
            out.append(chunk({}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            out.append(chunk(None, usage=CHAT_USAGE))
        return [*out, (None, "[DONE]")]
    if protocol == "responses":
        item = _responses_item(reply)
        shell = {"id": "resp_1", "object": "response", "created_at": now, "model": model,
                 "status": "in_progress", "output": [], "usage": None}
        seq = iter(range(1000))

        def ev(kind, **fields):
            return kind, d({"type": kind, "sequence_number": next(seq), **fields})

        out = [ev("response.created", response=shell),
               ev("response.in_progress", response=shell)]
        if "tool" in reply:
            out += [ev("response.output_item.added", output_index=0,
                       item={**item, "arguments": "", "status": "in_progress"}),
                    ev("response.function_call_arguments.delta", output_index=0,
                       item_id="fc_1", delta=item["arguments"]),
                    ev("response.function_call_arguments.done", output_index=0,
                       item_id="fc_1", arguments=item["arguments"])]
        else:
            part = {"type": "output_text", "text": "", "annotations": []}
            out += [ev("response.output_item.added", output_index=0,
                       item={**item, "content": [], "status": "in_progress"}),
                    ev("response.content_part.added", output_index=0, item_id="msg_1",
                       content_index=0, part=part)]
            out += [ev("response.output_text.delta", output_index=0, item_id="msg_1",
                       content_index=0, delta=piece) for piece in _split(reply["text"])]
            out += [ev("response.output_text.done", output_index=0, item_id="msg_1",
                       content_index=0, text=reply["text"]),
                    ev("response.content_part.done", output_index=0, item_id="msg_1",
                       content_index=0, part={**part, "text": reply["text"]})]
        out += [ev("response.output_item.done", output_index=0, item=item),
                ev("response.completed", response={**shell, "status": "completed",
                                                   "output": [item],
                                                   "usage": RESPONSES_USAGE})]
        return out

    def ev(kind, **fields):
        return kind, d({"type": kind, **fields})

    start_usage = {**MESSAGES_USAGE, "output_tokens": 1}
    out = [ev("message_start", message={
        "id": "msg_1", "type": "message", "role": "assistant", "model": model,
        "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage}),
        ev("ping")]
    if "tool" in reply:
        args = d(TOOL_ARGS)
        out += [ev("content_block_start", index=0, content_block={
            "type": "tool_use", "id": "toolu_1", "name": reply["tool"], "input": {}})]
        out += [ev("content_block_delta", index=0, delta={"type": "input_json_delta",
                                                          "partial_json": p})
                for p in ("", args[:5], args[5:])]
    else:
        out += [ev("content_block_start", index=0, content_block={"type": "text",
                                                                  "text": ""})]
        out += [ev("content_block_delta", index=0, delta={"type": "text_delta", "text": p})
                for p in _split(reply["text"])]
    out += [ev("content_block_stop", index=0),
            ev("message_delta", delta={"stop_reason": "tool_use" if "tool" in reply
                                       else "end_turn", "stop_sequence": None},
               usage={"output_tokens": 5}),
            ev("message_stop")]
    return out


# -- reasoning, when ``FakeUpstream.reasoning`` is set ---------------------------------

REASONING = {p: f"{p} thinks: the user wants an answer" for p in ("chat", "responses",
                                                                  "messages")}
ENCRYPTED = "enc-openai-opaque-1"  # a Responses reasoning item's encrypted_content
SIGNATURE = "sig-anthropic-opaque-1"  # an Anthropic thinking block's signature
REASONING_TOKENS = 2


def with_reasoning(protocol: str, whole: dict) -> dict:
    """A whole response with the protocol's reasoning before its content."""
    if protocol == "chat":
        whole["choices"][0]["message"]["reasoning_content"] = REASONING["chat"]
    elif protocol == "responses":
        whole["output"].insert(0, _reasoning_item())
    else:
        whole["content"].insert(0, {"type": "thinking", "thinking": REASONING["messages"],
                                    "signature": SIGNATURE})
        whole["usage"] = {**whole["usage"], "output_tokens_details": {
            "thinking_tokens": REASONING_TOKENS}}
    return whole


def _reasoning_item() -> dict:
    return {"type": "reasoning", "id": "rs_1", "encrypted_content": ENCRYPTED,
            "summary": [{"type": "summary_text", "text": REASONING["responses"]}]}


def with_reasoning_events(protocol: str, events: list) -> list:
    """The stream of ``_events`` with the protocol's reasoning streamed first."""
    d = json.dumps
    if protocol == "chat":
        first, *rest = events
        base = {k: v for k, v in json.loads(first[1]).items() if k != "choices"}
        think = [(None, d({**base, "choices": [{"index": 0, "delta": {
            "reasoning_content": piece}, "finish_reason": None}]}))
            for piece in _split(REASONING["chat"])]
        return [first, *think, *rest]
    if protocol == "responses":
        parsed = [json.loads(data) for _, data in events]
        head, rest = parsed[:2], parsed[2:]  # response.created, response.in_progress
        for e in rest:
            if "output_index" in e:
                e["output_index"] += 1
            if e["type"] == "response.completed":
                e["response"]["output"].insert(0, _reasoning_item())
        item, text = _reasoning_item(), REASONING["responses"]
        where = {"output_index": 0, "item_id": "rs_1"}
        part = {"type": "summary_text", "text": ""}
        think = [{"type": "response.output_item.added", "output_index": 0,
                  "item": {**item, "summary": [], "encrypted_content": None}},
                 {"type": "response.reasoning_summary_part.added", **where,
                  "summary_index": 0, "part": part}]
        think += [{"type": "response.reasoning_summary_text.delta", **where,
                   "summary_index": 0, "delta": piece} for piece in _split(text)]
        think += [{"type": "response.reasoning_summary_text.done", **where,
                   "summary_index": 0, "text": text},
                  {"type": "response.reasoning_summary_part.done", **where,
                   "summary_index": 0, "part": {**part, "text": text}},
                  {"type": "response.output_item.done", "output_index": 0, "item": item}]
        out = [*head, *think, *rest]
        for n, e in enumerate(out):
            e["sequence_number"] = n
        return [(e["type"], d(e)) for e in out]
    parsed = [json.loads(data) for _, data in events]
    head, rest = parsed[:2], parsed[2:]  # message_start, ping
    for e in rest:
        if "index" in e:
            e["index"] += 1
        if e["type"] == "message_delta":
            e["usage"]["output_tokens_details"] = {"thinking_tokens": REASONING_TOKENS}
    think = [{"type": "content_block_start", "index": 0,
              "content_block": {"type": "thinking", "thinking": "", "signature": ""}}]
    think += [{"type": "content_block_delta", "index": 0,
               "delta": {"type": "thinking_delta", "thinking": piece}}
              for piece in _split(REASONING["messages"])]
    think += [{"type": "content_block_delta", "index": 0,
               "delta": {"type": "signature_delta", "signature": SIGNATURE}},
              {"type": "content_block_stop", "index": 0}]
    return [(e["type"], d(e)) for e in [*head, *think, *rest]]
