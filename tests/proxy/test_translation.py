"""Every client protocol over every upstream protocol (N × N over ``codecs.PROTOCOLS``),
driven by the official SDKs: openai (Chat, Responses), anthropic (Messages), google-genai
(Gemini; every answer it reads held to its types by ``shapes.GeminiSDK``).

The diagonal is the byte pass-through; the rest go through the codecs. Each pair:
a text answer whole and streamed (with the SDK's stream helper), usage, and a two-step
tool loop whose tool result must reach the upstream in its own protocol.
"""

from __future__ import annotations

import json

import pytest
from google.genai import types

from byecore_cli.codecs import PROTOCOLS
from tests.proxy.conftest import one_provider
from tests.proxy.shapes import gemini_sdk_fixture  # noqa: F401 (a fixture)

PAIRS = [(i, u) for i in PROTOCOLS for u in PROTOCOLS]
PARAMS = {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]}


def pairs(rows: list[tuple], bugs: dict | None = None) -> list:
    """``rows`` as params, a row in ``bugs`` (row → reason) marked as that strict xfail."""
    return [pytest.param(*row, id="-over-".join(row), marks=[
        pytest.mark.xfail(strict=True, reason=bugs[row])] if row in (bugs or {}) else [])
        for row in rows]


GEMINI_OVER_OTHERS = [("gemini", u) for u in PROTOCOLS if u != "gemini"]


@pytest.fixture(name="prompt_usage_log", autouse=True)
def prompt_usage_log_fixture(monkeypatch):
    """The usage log writes each row at once: its 0.25 s batching wait, paid again at every
    proxy's shutdown, would be most of these tests' time (rows are the same either way)."""
    monkeypatch.setattr("byecore_cli.proxy.usage.BATCH_SECONDS", 0.0)


@pytest.fixture(name="clients")
def clients_fixture(sdk, gemini_sdk):
    """``clients(protocol, url)``: the official SDK client a ``protocol`` client uses."""

    def make(protocol: str, url: str):
        if protocol == "gemini":
            return gemini_sdk(url).client
        return sdk.anthropic(url) if protocol == "messages" else sdk.openai(url)

    return make


def gemini_tools(name: str = "exec_command") -> types.GenerateContentConfig:
    return types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[types.FunctionDeclaration(
            name=name, parameters_json_schema=PARAMS)])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))


async def gemini_ask(client, contents, stream: bool,
                     config: types.GenerateContentConfig | None = None) -> list:
    """The answer's chunks (one when whole), as google-genai parsed them."""
    kw = {"model": "up-model", "contents": contents, "config": config}
    if not stream:
        return [await client.models.generate_content(**kw)]
    return [c async for c in await client.models.generate_content_stream(**kw)]


def gemini_parts(chunks: list) -> list[types.Part]:
    return [p for c in chunks for cand in c.candidates or [] if cand.content
            for p in cand.content.parts or []]


def gemini_usage(chunks: list) -> tuple[int, int]:
    """(input, output) the hub's way: Gemini's candidates count leaves thoughts out."""
    u = chunks[-1].usage_metadata
    return u.prompt_token_count, u.candidates_token_count + (u.thoughts_token_count or 0)


class Driver:
    """One client protocol, spoken through its official SDK."""

    def __init__(self, inbound: str, clients, url: str) -> None:
        self.inbound = inbound
        self.client = clients(inbound, url)

    async def text(self, said: str, stream: bool) -> tuple[str, dict]:
        """(answer text, usage as {input, output, cached}, input counting the cached)."""
        c = self.client
        if self.inbound == "gemini":
            chunks = await gemini_ask(c, said, stream)
            assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
            return "".join(c.text or "" for c in chunks), _u(
                *gemini_usage(chunks), chunks[-1].usage_metadata.cached_content_token_count)
        if self.inbound == "chat":
            if not stream:
                r = await c.chat.completions.create(
                    model="up-model", messages=[{"role": "user", "content": said}])
                return r.choices[0].message.content, _u(
                    r.usage.prompt_tokens, r.usage.completion_tokens,
                    r.usage.prompt_tokens_details.cached_tokens)
            s = await c.chat.completions.create(
                model="up-model", messages=[{"role": "user", "content": said}], stream=True,
                stream_options={"include_usage": True})
            text, usage = "", None
            async for chunk in s:
                if chunk.choices:
                    text += chunk.choices[0].delta.content or ""
                usage = chunk.usage or usage
            return text, _u(usage.prompt_tokens, usage.completion_tokens,
                            usage.prompt_tokens_details.cached_tokens)
        if self.inbound == "responses":
            if not stream:
                r = await c.responses.create(model="up-model", input=said)
            else:
                async with c.responses.stream(model="up-model", input=said) as s:
                    r = await s.get_final_response()
            return r.output_text, _u(r.usage.input_tokens, r.usage.output_tokens,
                                     r.usage.input_tokens_details.cached_tokens)
        kwargs = {"model": "up-model", "max_tokens": 100,
                  "messages": [{"role": "user", "content": said}]}
        if not stream:
            m = await c.messages.create(**kwargs)
        else:
            async with c.messages.stream(**kwargs) as s:
                m = await s.get_final_message()
        u = m.usage
        total_in = u.input_tokens + (u.cache_read_input_tokens or 0) + \
            (u.cache_creation_input_tokens or 0)
        return m.content[0].text, _u(total_in, u.output_tokens, u.cache_read_input_tokens)

    async def tool_loop(self, stream: bool) -> tuple[str, dict, str]:
        """(the tool call's name, its arguments, the answer after the tool result)."""
        c = self.client
        if self.inbound == "gemini":
            config = gemini_tools()
            chunks = await gemini_ask(c, "list files", stream, config)
            parts = gemini_parts(chunks)
            (call,) = [p.function_call for p in parts if p.function_call]
            history = [types.Content(role="user", parts=[types.Part(text="list files")]),
                       types.Content(role="model", parts=parts),
                       types.Content(role="user", parts=[types.Part(
                           function_response=types.FunctionResponse(
                               id=call.id, name=call.name, response={"output": "file.txt"}))])]
            answer = await gemini_ask(c, history, False, config)
            return call.name, call.args, answer[0].text
        if self.inbound == "chat":
            tools = [{"type": "function", "function": {"name": "exec_command",
                                                       "parameters": PARAMS}}]
            msgs = [{"role": "user", "content": "list files"}]
            if stream:
                s = await c.chat.completions.create(model="up-model", messages=msgs,
                                                    tools=tools, stream=True)
                calls = {}
                async for chunk in s:
                    for tc in (chunk.choices[0].delta.tool_calls or []
                               if chunk.choices else []):
                        e = calls.setdefault(tc.index, {"id": "", "name": "", "args": ""})
                        e["id"] += tc.id or ""
                        e["name"] += tc.function.name or ""
                        e["args"] += tc.function.arguments or ""
                call = calls[0]
            else:
                r = await c.chat.completions.create(model="up-model", messages=msgs,
                                                    tools=tools)
                tc = r.choices[0].message.tool_calls[0]
                call = {"id": tc.id, "name": tc.function.name, "args": tc.function.arguments}
            msgs += [{"role": "assistant", "content": None, "tool_calls": [
                {"id": call["id"], "type": "function",
                 "function": {"name": call["name"], "arguments": call["args"]}}]},
                {"role": "tool", "tool_call_id": call["id"], "content": "file.txt"}]
            r = await c.chat.completions.create(model="up-model", messages=msgs, tools=tools)
            return call["name"], json.loads(call["args"]), r.choices[0].message.content
        if self.inbound == "responses":
            tools = [{"type": "function", "name": "exec_command", "parameters": PARAMS}]
            if stream:
                async with c.responses.stream(model="up-model", input="list files",
                                              tools=tools) as s:
                    r = await s.get_final_response()
            else:
                r = await c.responses.create(model="up-model", input="list files",
                                             tools=tools)
            fc = next(i for i in r.output if i.type == "function_call")
            r2 = await c.responses.create(model="up-model", tools=tools, input=[
                {"role": "user", "content": "list files"},
                {"type": "function_call", "call_id": fc.call_id, "name": fc.name,
                 "arguments": fc.arguments},
                {"type": "function_call_output", "call_id": fc.call_id,
                 "output": "file.txt"}])
            return fc.name, json.loads(fc.arguments), r2.output_text
        tools = [{"name": "exec_command", "input_schema": PARAMS}]
        msgs = [{"role": "user", "content": "list files"}]
        if stream:
            async with c.messages.stream(model="up-model", max_tokens=100, tools=tools,
                                         messages=msgs) as s:
                m = await s.get_final_message()
        else:
            m = await c.messages.create(model="up-model", max_tokens=100, tools=tools,
                                        messages=msgs)
        assert m.stop_reason == "tool_use"
        use = next(b for b in m.content if b.type == "tool_use")
        msgs += [{"role": "assistant", "content": [b.model_dump(exclude_none=True)
                                                   for b in m.content]},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id,
                                               "content": "file.txt"}]}]
        m2 = await c.messages.create(model="up-model", max_tokens=100, tools=tools,
                                     messages=msgs)
        return use.name, use.input, m2.content[0].text


def _u(i: int, o: int, cached: int | None) -> dict:
    return {"input": i, "output": o, "cached": cached}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize(("inbound", "upstream"), PAIRS, ids=[f"{i}-over-{u}" for i, u in PAIRS])
async def test_text_and_usage(fake, start_proxy, clients, inbound, upstream, stream):
    url = await start_proxy(one_provider(fake, upstream))
    text, usage = await Driver(inbound, clients, url).text("hello there", stream)
    assert text == f"{upstream} says: hello there"
    assert fake.last["protocol"] == upstream
    assert usage == {"input": 11, "output": 5, "cached": 3}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize(("inbound", "upstream"), PAIRS, ids=[f"{i}-over-{u}" for i, u in PAIRS])
async def test_two_step_tool_loop(fake, start_proxy, clients, inbound, upstream, stream):
    url = await start_proxy(one_provider(fake, upstream))
    name, args, answer = await Driver(inbound, clients, url).tool_loop(stream)
    assert (name, args) == ("exec_command", {"cmd": "ls"})
    assert answer == f"{upstream} got: file.txt"


@pytest.mark.parametrize(("inbound", "upstream"), [p for p in PAIRS if p[0] != p[1]])
async def test_translated_requests_carry_no_client_headers(fake, start_proxy, clients,
                                                           local_key, inbound, upstream):
    url = await start_proxy(one_provider(fake, upstream))
    await Driver(inbound, clients, url).text("h", False)
    headers = {k.lower(): v for k, v in fake.last["headers"].items()}
    assert local_key not in json.dumps(headers)
    assert not any(k.startswith(("x-stainless", "x-goog-api-client")) for k in headers)
    assert ("anthropic-version" in headers) == (upstream == "messages")
    # the upstream's key, in the one header its protocol reads it from
    keys = {k for k in ("authorization", "x-api-key", "x-goog-api-key") if k in headers}
    assert keys == {{"messages": "x-api-key", "gemini": "x-goog-api-key"}.get(
        upstream, "authorization")}


async def test_a_chat_upstream_that_refuses_stream_options_still_streams(
        fake, start_proxy, local_key, sdk):
    """The Chat encoder asks for usage; a vendor that refuses the field is asked without."""
    fake.refuse_fields = {"stream_options"}
    url = await start_proxy(one_provider(fake, "chat"))
    client = sdk.anthropic(url)
    for _ in range(2):
        async with client.messages.stream(
                model="up-model", max_tokens=50,
                messages=[{"role": "user", "content": "no usage"}]) as stream:
            assert await stream.get_final_text() == "chat says: no usage"
    assert [("stream_options" in r["body"]) for r in fake.requests] == [True, False, False]
