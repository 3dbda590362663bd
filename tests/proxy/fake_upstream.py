"""A fake LLM upstream on port 0 that speaks each protocol natively, and can misbehave.

Every protocol of ``codecs.PROTOCOLS`` at its usual path (``SPEAKS``): Chat, Responses and
Messages under ``/v1``, Gemini at ``/v1beta/models/{model}:generateContent`` and
``…:streamGenerateContent?alt=sse`` (key in ``x-goog-api-key``, errors in Google's
``{"error": {"code", "message", "status"}}``). It answers like a tiny model: with tools
offered and no tool result yet, it calls the first tool (``{"cmd": "ls"}``); after a
tool result it says ``<protocol> got: <result>``; otherwise ``<protocol> says: <last
user text>``. Usage is protocol-shaped and means the same everywhere: 11 input tokens of
which 3 cached, 5 output tokens of which 2 reasoning (``USAGE``; ``usage`` replaces a
protocol's object, to play a vendor's dialect such as DeepSeek's).

Gemini plays Gemini 3: a ``functionCall`` always carries a ``thoughtSignature``
(``THOUGHT_SIGNATURE``), and a request whose model turn starts its calls without that
exact signature (or Google's documented ``skip_thought_signature_validator``), or that
is not a valid ``generateContent`` body by the google-genai SDK's types, gets a 400.

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
summary and ``encrypted_content``, an Anthropic ``thinking`` block with a signature,
Gemini ``thought`` parts (the signature on the answer's last part, as Gemini signs a
text answer). Each protocol's text and opaque data are distinct (``REASONING``,
``ENCRYPTED``, ``SIGNATURE``, ``THOUGHT_SIGNATURE``), so a test can tell whose reasoning
reached which upstream.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time

from aiohttp import web

TOOL_ARGS = {"cmd": "ls"}
# Where each protocol is served (Gemini's model and method are in the path).
SPEAKS = {"chat": "/v1/chat/completions", "responses": "/v1/responses",
          "messages": "/v1/messages", "gemini": "/v1beta/models/{target}"}
GOOGLE_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


class FakeUpstream:
    def __init__(self) -> None:
        self.plan: list = []
        self.requests: list[dict] = []
        self.cancelled = asyncio.Event()
        self.received = asyncio.Event()  # set by each inference request that arrives
        self.reasoning = False
        self.refuse_fields: set[str] = set()  # top-level body fields refused…
        self.refuse_status = 400  # …with this status
        self.usage: dict[str, dict] = {}  # protocol → the usage object it sends instead
        # an Anthropic message_delta repeats the input counts, as the API does since 2025
        self.cumulative_delta = False
        self.app = web.Application()
        for protocol, path in SPEAKS.items():
            self.app.router.add_post(path, self._handler(protocol))
        self.app.router.add_post("/v1/messages/count_tokens", self._count)

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
            model, stream = body.get("model"), body.get("stream") is True
            if protocol == "gemini":
                model, _, method = request.match_info["target"].rpartition(":")
                if method == "countTokens":
                    return web.json_response({"totalTokens": 4242})
                stream = method == "streamGenerateContent"
                if method not in ("generateContent", "streamGenerateContent") or (
                        stream and request.query.get("alt") != "sse"):
                    return _error(protocol, 404, {}, f"no method {method} for this call")
            self.requests.append({"path": request.path_qs, "headers": dict(request.headers),
                                  "body": body, "raw": raw, "protocol": protocol,
                                  "model": model, "stream": stream})
            self.received.set()
            refused = sorted(self.refuse_fields.intersection(body))
            if refused:  # a strict vendor, in xAI's words
                message = f"Argument not supported: {refused[0]}"
                if protocol == "gemini":
                    return _error(protocol, self.refuse_status, {}, message)
                return web.json_response({"error": {
                    "message": message, "type": "invalid_request_error", "code": None}},
                    status=self.refuse_status)
            if protocol == "gemini" and (problem := gemini_refusal(body)):
                return _error(protocol, 400, {}, problem)
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
            usage = self.usage.get(protocol) or USAGE[protocol]
            if not stream:
                whole = _whole(protocol, model, reply, usage)
                return web.json_response(with_reasoning(protocol, whole) if self.reasoning
                                         else whole)
            events = _events(protocol, model, body, reply, usage, self.cumulative_delta)
            if self.reasoning:
                events = with_reasoning_events(protocol, events)
            if isinstance(action, tuple) and action[0] == "echo_key":
                key = (request.headers.get("x-api-key")
                       or request.headers.get("x-goog-api-key")
                       or request.headers.get("Authorization", "").removeprefix("Bearer "))
                first = action[1] == "first"
                error = echoed_error(protocol, key, 0 if first else 2)
                events = [error] if first else [*events[:2], error]
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            end = "\r\n\r\n" if protocol == "gemini" else "\n\n"  # as each vendor frames
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
                await response.write(f"{head}data: {data}{end}".encode())
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
    if protocol == "gemini":
        return None, json.dumps({"error": {"code": 401, "message": message,
                                           "status": "UNAUTHENTICATED"}})
    return "error", json.dumps({"type": "error", "error": {"type": "authentication_error",
                                                           "message": message}})


def _error(protocol: str, status: int, headers: dict | None = None,
           message: str | None = None) -> web.Response:
    message = message or f"fake {protocol} upstream error {status}"
    if protocol == "messages":  # the type Anthropic gives each status
        kind = {400: "invalid_request_error", 401: "authentication_error",
                403: "permission_error", 404: "not_found_error", 413: "request_too_large",
                429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
        body = {"type": "error", "error": {"type": kind, "message": message}}
    elif protocol == "gemini":
        body = {"error": {"code": status, "message": message,
                          "status": GOOGLE_STATUS.get(status, "UNKNOWN")}}
    else:
        kind = "rate_limit_error" if status == 429 else \
            "server_error" if status >= 500 else "invalid_request_error"
        body = {"error": {"message": message, "type": kind, "code": None}}
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
    elif protocol == "gemini":
        return _gemini_reply(body)
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


def _gemini_reply(body: dict) -> dict:
    contents = body["contents"]
    answers = [p["functionResponse"] for p in contents[-1]["parts"] if "functionResponse" in p]
    if answers:
        value = answers[-1].get("response") or {}
        out = value["output"] if isinstance(value.get("output"), str) else json.dumps(value)
        return {"text": f"gemini got: {out}"}
    user = [c for c in contents if c.get("role", "user") == "user"]
    said = " ".join(p["text"] for p in user[-1]["parts"] if "text" in p) if user else ""
    names = [f["name"] for t in body.get("tools") or [] for f in
             t.get("functionDeclarations") or []]
    return {"tool": names[0]} if names else {"text": f"gemini says: {said}"}


def gemini_refusal(body: dict) -> str | None:
    """Why Gemini would answer this body 400, or None: not a ``generateContent`` body by
    the SDK's types, or a model turn whose first call lacks its exact signature."""
    from tests.codecs.gemini_helpers import request_problems  # google-genai: only if used

    problems = request_problems(body)
    if problems:
        return "Invalid JSON payload received. " + "; ".join(problems)[:2000]
    for turn in body["contents"]:
        calls = [p for p in turn["parts"] if "functionCall" in p] \
            if turn.get("role") == "model" else []
        if calls and calls[0].get("thoughtSignature") not in (THOUGHT_SIGNATURE, SKIP):
            return "Function call is missing a thought_signature in functionCall parts."
        signed = [p["thoughtSignature"] for p in turn["parts"] if "thoughtSignature" in p]
        if any(s not in (THOUGHT_SIGNATURE, SKIP) for s in signed):
            return "Corrupted thought signature."
    return None


def _whole(protocol: str, model: str, reply: dict, usage: dict) -> dict:
    now = int(time.time())
    if protocol == "chat":
        message = {"role": "assistant", "content": reply.get("text")}
        if "tool" in reply:
            message["tool_calls"] = [{"id": "call_1", "type": "function", "function": {
                "name": reply["tool"], "arguments": json.dumps(TOOL_ARGS)}}]
        return {"id": "chatcmpl-1", "object": "chat.completion", "created": now,
                "model": model, "choices": [{
                    "index": 0, "message": message,
                    "finish_reason": "tool_calls" if "tool" in reply else "stop"}],
                "usage": usage}
    if protocol == "responses":
        return {"id": "resp_1", "object": "response", "created_at": now, "status":
                "completed", "model": model, "output": [_responses_item(reply)],
                "usage": usage, "error": None, "incomplete_details": None,
                "instructions": None, "metadata": {}, "parallel_tool_calls": True,
                "temperature": 1.0, "tool_choice": "auto", "tools": [], "top_p": 1.0}
    if protocol == "gemini":
        return {"candidates": [{"content": {"role": "model", "parts": _gemini_parts(reply)},
                                "finishReason": "STOP", "index": 0}],
                "usageMetadata": usage, "modelVersion": model, "responseId": "gen-1"}
    content = ([{"type": "tool_use", "id": "toolu_1", "name": reply["tool"],
                 "input": TOOL_ARGS}] if "tool" in reply
               else [{"type": "text", "text": reply["text"]}])
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": "tool_use" if "tool" in reply else "end_turn",
            "stop_sequence": None, "usage": usage}


CHAT_USAGE = {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16,
              "prompt_tokens_details": {"cached_tokens": 3},
              "completion_tokens_details": {"reasoning_tokens": 2}}
RESPONSES_USAGE = {"input_tokens": 11, "output_tokens": 5, "total_tokens": 16,
                   "input_tokens_details": {"cached_tokens": 3},
                   "output_tokens_details": {"reasoning_tokens": 2}}
MESSAGES_USAGE = {"input_tokens": 8, "output_tokens": 5, "cache_read_input_tokens": 3,
                  "cache_creation_input_tokens": 0}
# Gemini: the prompt count includes the cached tokens, the candidates' excludes thoughts.
GEMINI_USAGE = {"promptTokenCount": 11, "cachedContentTokenCount": 3,
                "candidatesTokenCount": 3, "thoughtsTokenCount": 2, "totalTokenCount": 16,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 11}]}
USAGE = {"chat": CHAT_USAGE, "responses": RESPONSES_USAGE, "messages": MESSAGES_USAGE,
         "gemini": GEMINI_USAGE}
# A Gemini 3 thought signature (base64, as the API sends it), and Google's documented
# stand-in for a call from another model's history.
THOUGHT_SIGNATURE = base64.b64encode(b"gemini-thought-signature-opaque-1").decode()
SKIP = "skip_thought_signature_validator"


def _gemini_parts(reply: dict) -> list[dict]:
    if "tool" in reply:  # Gemini 3 signs every first call, thinking shown or not
        return [{"functionCall": {"name": reply["tool"], "args": TOOL_ARGS},
                 "thoughtSignature": THOUGHT_SIGNATURE}]
    return [{"text": reply["text"]}]


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


def _events(protocol: str, model: str, body: dict, reply: dict, usage: dict,
            cumulative: bool = False) -> list[tuple[str | None, str]]:
    d = json.dumps
    now = int(time.time())
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
            out.append(chunk(None, usage=usage))
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
                                                   "usage": usage})]
        return out
    if protocol == "gemini":
        return _gemini_events(model, reply, usage)

    def ev(kind, **fields):
        return kind, d({"type": kind, **fields})

    start_usage = {**{k: v for k, v in usage.items() if k != "output_tokens_details"},
                   "output_tokens": 1}
    delta_usage = {k: v for k, v in usage.items() if cumulative or k.startswith("output")}
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
               usage=delta_usage),
            ev("message_stop")]
    return out


def _gemini_events(model: str, reply: dict, usage: dict) -> list[tuple[None, str]]:
    """Whole ``GenerateContentResponse`` chunks: text in pieces (a function call whole,
    in one chunk), the prompt counted on every chunk, the full usage and the finish on
    the last."""
    early = {k: usage[k] for k in ("promptTokenCount", "cachedContentTokenCount")
             if k in usage}
    early["totalTokenCount"] = early.get("promptTokenCount", 0)

    def chunk(parts: list[dict], last: bool) -> tuple[None, str]:
        candidate = {"content": {"role": "model", "parts": parts}, "index": 0}
        if last:
            candidate["finishReason"] = "STOP"
        return None, json.dumps({"candidates": [candidate],
                                 "usageMetadata": usage if last else early,
                                 "modelVersion": model, "responseId": "gen-1"})

    if "tool" in reply:
        return [chunk(_gemini_parts(reply), True)]
    pieces = _split(reply["text"])
    return [chunk([{"text": p}], n == len(pieces) - 1) for n, p in enumerate(pieces)]


# -- reasoning, when ``FakeUpstream.reasoning`` is set ---------------------------------

REASONING = {p: f"{p} thinks: the user wants an answer" for p in ("chat", "responses",
                                                                  "messages", "gemini")}
ENCRYPTED = "enc-openai-opaque-1"  # a Responses reasoning item's encrypted_content
SIGNATURE = "sig-anthropic-opaque-1"  # an Anthropic thinking block's signature
REASONING_TOKENS = 2


def with_reasoning(protocol: str, whole: dict) -> dict:
    """A whole response with the protocol's reasoning before its content."""
    if protocol == "chat":
        whole["choices"][0]["message"]["reasoning_content"] = REASONING["chat"]
    elif protocol == "responses":
        whole["output"].insert(0, _reasoning_item())
    elif protocol == "gemini":
        parts = whole["candidates"][0]["content"]["parts"]
        parts[-1].setdefault("thoughtSignature", THOUGHT_SIGNATURE)  # a text answer's last
        parts.insert(0, {"text": REASONING["gemini"], "thought": True})
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
    if protocol == "gemini":
        first = json.loads(events[0][1])
        think = [(None, d({**first, "candidates": [{
            "content": {"role": "model", "parts": [{"text": piece, "thought": True}]},
            "index": 0}]})) for piece in _split(REASONING["gemini"])]
        last = json.loads(events[-1][1])
        parts = last["candidates"][0]["content"]["parts"]
        if "functionCall" not in parts[0]:  # a streamed text answer: signed on an empty part
            parts.append({"text": "", "thoughtSignature": THOUGHT_SIGNATURE})
        return [*think, *events[:-1], (None, d(last))]
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
