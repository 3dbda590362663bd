"""Nothing configured: the offline demo provider answers every protocol, tools included."""

from __future__ import annotations

import json

import aiohttp

SHELL_TOOL = {"name": "Bash", "description": "Run a command",
              "input_schema": {"type": "object", "properties": {"command": {"type": "string"}},
                               "required": ["command"]}}
OPENAI_TOOL = {"type": "function", "function": {
    "name": "exec_command", "description": "Run a command",
    "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}},
                   "required": ["cmd"]}}}
RESPONSES_TOOL = {"type": "function", "name": "exec_command", "description": "Run",
                  "parameters": OPENAI_TOOL["function"]["parameters"]}


async def test_health_and_models_with_nothing_configured(start_proxy, local_key):
    url = await start_proxy()
    async with aiohttp.ClientSession() as session:
        async with session.get(url + "/health") as resp:
            assert resp.status == 200 and (await resp.json())["providers"] == ["demo"]
        async with session.get(url + "/v1/models",
                               headers={"Authorization": f"Bearer {local_key}"}) as resp:
            body = await resp.json()
            assert body["object"] == "list" and "demo" in [m["id"] for m in body["data"]]
        async with session.get(url + "/v1/models", headers={
                "x-api-key": local_key, "anthropic-version": "2023-06-01"}) as resp:
            body = await resp.json()
            assert body["data"][0]["type"] == "model" and body["has_more"] is False
        async with session.head(url + "/api/hello") as resp:
            assert resp.status == 200


async def test_messages_demo_text_stream_and_tool_loop(start_proxy, sdk):
    url = await start_proxy()
    client = sdk.anthropic(url)
    message = await client.messages.create(
        model="claude-sonnet-5-5", max_tokens=100,
        messages=[{"role": "user", "content": "hello demo"}])
    assert "hello demo" in message.content[0].text
    assert message.model == "claude-sonnet-5-5" and message.usage.output_tokens > 0

    async with client.messages.stream(
            model="anything", max_tokens=100,
            messages=[{"role": "user", "content": "stream please"}]) as stream:
        text = await stream.get_final_text()
    assert "stream please" in text

    first = await client.messages.create(
        model="anything", max_tokens=100, tools=[SHELL_TOOL],
        messages=[{"role": "user", "content": "list files"}])
    assert first.stop_reason == "tool_use"
    call = next(b for b in first.content if b.type == "tool_use")
    assert call.name == "Bash" and call.input == {"command": "echo hello from byecore"}

    async with client.messages.stream(
            model="anything", max_tokens=100, tools=[SHELL_TOOL], messages=[
                {"role": "user", "content": "list files"},
                {"role": "assistant", "content": [b.model_dump() for b in first.content]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                              "content": "a.txt b.txt"}]}]) as stream:
        final = await stream.get_final_message()
    assert final.stop_reason == "end_turn"
    assert "a.txt b.txt" in final.content[0].text


async def test_chat_demo_with_the_openai_sdk(start_proxy, sdk):
    url = await start_proxy()
    client = sdk.openai(url)
    answer = await client.chat.completions.create(
        model="gpt-5.5", messages=[{"role": "user", "content": "hi chat"}])
    assert "hi chat" in answer.choices[0].message.content
    stream = await client.chat.completions.create(
        model="gpt-5.5", messages=[{"role": "user", "content": "hi"}], tools=[OPENAI_TOOL],
        stream=True)
    calls = {}
    async for chunk in stream:
        for tc in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            entry = calls.setdefault(tc.index, {"name": "", "args": ""})
            entry["name"] += (tc.function.name or "") if tc.function else ""
            entry["args"] += (tc.function.arguments or "") if tc.function else ""
    assert calls[0]["name"] == "exec_command"
    assert json.loads(calls[0]["args"]) == {"cmd": "echo hello from byecore"}


async def test_responses_demo_with_the_stream_helper(start_proxy, sdk):
    url = await start_proxy()
    client = sdk.openai(url)
    async with client.responses.stream(model="gpt-5.5", input="hi codex") as stream:
        final = await stream.get_final_response()
    assert "hi codex" in final.output_text
    tool_turn = await client.responses.create(model="gpt-5.5", input="run",
                                              tools=[RESPONSES_TOOL])
    call = next(i for i in tool_turn.output if i.type == "function_call")
    assert call.name == "exec_command"
    done = await client.responses.create(model="gpt-5.5", tools=[RESPONSES_TOOL], input=[
        {"role": "user", "content": "run"},
        {"type": "function_call", "call_id": call.call_id, "name": call.name,
         "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "done: 42"}])
    assert "done: 42" in done.output_text
