"""Every client protocol over every upstream protocol (3 × 3), driven by the official SDKs.

The diagonal is the byte pass-through; the other six go through the codecs. Each pair:
a text answer whole and streamed (with the SDK's stream helper), usage, and a two-step
tool loop whose tool result must reach the upstream in its own protocol.
"""

from __future__ import annotations

import json

import pytest

from tests.proxy.conftest import one_provider

PROTOCOLS = ("chat", "responses", "messages")
PAIRS = [(i, u) for i in PROTOCOLS for u in PROTOCOLS]
PARAMS = {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]}


class Driver:
    """One client protocol, spoken through its official SDK."""

    def __init__(self, inbound: str, sdk, url: str) -> None:
        self.inbound = inbound
        self.client = sdk.anthropic(url) if inbound == "messages" else sdk.openai(url)

    async def text(self, said: str, stream: bool) -> tuple[str, dict]:
        """(answer text, usage as {input, output})."""
        c = self.client
        if self.inbound == "chat":
            if not stream:
                r = await c.chat.completions.create(
                    model="up-model", messages=[{"role": "user", "content": said}])
                return r.choices[0].message.content, _u(r.usage.prompt_tokens,
                                                        r.usage.completion_tokens)
            s = await c.chat.completions.create(
                model="up-model", messages=[{"role": "user", "content": said}], stream=True,
                stream_options={"include_usage": True})
            text, usage = "", None
            async for chunk in s:
                if chunk.choices:
                    text += chunk.choices[0].delta.content or ""
                usage = chunk.usage or usage
            return text, _u(usage.prompt_tokens, usage.completion_tokens)
        if self.inbound == "responses":
            if not stream:
                r = await c.responses.create(model="up-model", input=said)
            else:
                async with c.responses.stream(model="up-model", input=said) as s:
                    r = await s.get_final_response()
            return r.output_text, _u(r.usage.input_tokens, r.usage.output_tokens)
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
        return m.content[0].text, _u(total_in, u.output_tokens)

    async def tool_loop(self, stream: bool) -> tuple[str, dict, str]:
        """(the tool call's name, its arguments, the answer after the tool result)."""
        c = self.client
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


def _u(i: int, o: int) -> dict:
    return {"input": i, "output": o}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize(("inbound", "upstream"), PAIRS, ids=[f"{i}-over-{u}" for i, u in PAIRS])
async def test_text_and_usage(fake, start_proxy, sdk, inbound, upstream, stream):
    url = await start_proxy(one_provider(fake, upstream))
    text, usage = await Driver(inbound, sdk, url).text("hello there", stream)
    assert text == f"{upstream} says: hello there"
    assert fake.last["protocol"] == upstream
    assert usage == {"input": 11, "output": 5}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize(("inbound", "upstream"), PAIRS, ids=[f"{i}-over-{u}" for i, u in PAIRS])
async def test_two_step_tool_loop(fake, start_proxy, sdk, inbound, upstream, stream):
    url = await start_proxy(one_provider(fake, upstream))
    name, args, answer = await Driver(inbound, sdk, url).tool_loop(stream)
    assert (name, args) == ("exec_command", {"cmd": "ls"})
    assert answer == f"{upstream} got: file.txt"


@pytest.mark.parametrize(("inbound", "upstream"), [p for p in PAIRS if p[0] != p[1]])
async def test_translated_requests_carry_no_client_headers(fake, start_proxy, sdk, local_key,
                                                           inbound, upstream):
    url = await start_proxy(one_provider(fake, upstream))
    await Driver(inbound, sdk, url).text("h", False)
    headers = {k.lower(): v for k, v in fake.last["headers"].items()}
    assert local_key not in json.dumps(headers)
    assert not any(k.startswith("x-stainless") for k in headers)
    assert ("anthropic-version" in headers) == (upstream == "messages")


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
