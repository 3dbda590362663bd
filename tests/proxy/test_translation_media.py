"""Images, every client protocol over every upstream protocol (N × N over
``codecs.PROTOCOLS``; reasoning is in test_matrix_reasoning.py).

Driven by the official openai, anthropic and google-genai SDKs (their stream helpers
included), against the fake upstream of fake_upstream.py. The diagonal is the byte
pass-through; the rest go through the codecs.

- Images: a user image (base64 PNG and an https URL) in the client's own form must reach
  the upstream in the upstream's own form with the same bytes / URL; an image inside a
  tool result (Codex's ``view_image`` output, an Anthropic ``tool_result`` image) reaches
  a Responses or Messages upstream in place, a Gemini upstream right after its
  ``functionResponse`` in the same turn, and a Chat upstream in a user message right
  after the tool message (Chat tool messages cannot carry images).
"""

from __future__ import annotations

import base64
import json

import pytest
from google.genai import types

from byecore_cli.codecs import PROTOCOLS
from tests.proxy.conftest import one_provider
from tests.proxy.shapes import gemini_sdk_fixture  # noqa: F401 (a fixture)
from tests.proxy.test_translation import (  # noqa: F401 (fixtures)
    GEMINI_OVER_OTHERS,
    PAIRS,
    PARAMS,
    clients_fixture,
    gemini_ask,
    gemini_parts,
    gemini_tools,
    pairs,
    prompt_usage_log_fixture,
)

# A real 1×1 PNG.
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAA"
       "AABJRU5ErkJggg==")
DATA_URL = f"data:image/png;base64,{PNG}"
IMAGE_URL = "https://example.com/cat.png"
SENT = [("base64", "image/png", PNG), ("url", IMAGE_URL)]


def test_the_png_is_real():
    assert base64.b64decode(PNG).startswith(b"\x89PNG\r\n\x1a\n")




# -- images the upstream received, in ITS protocol's form only ---------------------------


def _chat_image(part: dict):
    if part.get("type") != "image_url":
        return None
    url = part["image_url"]["url"]
    if url.startswith("data:"):
        head, data = url.split(",", 1)
        assert head.endswith(";base64")
        return ("base64", head[len("data:"):-len(";base64")], data)
    return ("url", url)


def _responses_image(part: dict):
    if part.get("type") != "input_image":
        return None
    return _chat_image({"type": "image_url", "image_url": {"url": part["image_url"]}})


def _messages_image(part: dict):
    if part.get("type") != "image":
        return None
    source = part["source"]
    if source["type"] == "base64":
        return ("base64", source["media_type"], source["data"])
    assert source["type"] == "url"
    return ("url", source["url"])


def _gemini_image(part: dict):
    """Either spelling: google-genai writes ``inline_data``/``mime_type`` inside a part, and
    its bytes in base64's URL-safe alphabet, all of which the Gemini API reads; the data is
    compared in the standard alphabet."""
    blob = part.get("inlineData") or part.get("inline_data")
    file = part.get("fileData") or part.get("file_data")
    if blob is not None:
        data = base64.b64encode(base64.urlsafe_b64decode(blob["data"])).decode()
        return ("base64", blob.get("mimeType") or blob.get("mime_type"), data)
    return ("url", file.get("fileUri") or file.get("file_uri")) if file is not None else None


IMAGE_OF = {"chat": _chat_image, "responses": _responses_image, "messages": _messages_image,
            "gemini": _gemini_image}


def images_in(protocol: str, content) -> list:
    if not isinstance(content, list):
        return []
    return [found for part in content if (found := IMAGE_OF[protocol](part))]


def user_turns(protocol: str, body: dict) -> list[dict]:
    """The user turns, each as ``{"role", "content": [parts]}``."""
    if protocol == "gemini":
        return [{"role": "user", "content": t["parts"]} for t in body["contents"]
                if t.get("role") == "user"]
    turns = body["input"] if protocol == "responses" else body["messages"]
    return [t for t in turns if t.get("role") == "user"]


# -- images ----------------------------------------------------------------------------


async def send_images(inbound: str, clients, url: str) -> str:
    """The client sends "what is this" with a base64 PNG and an image URL; the answer."""
    c = clients(inbound, url)
    if inbound == "gemini":
        chunks = await gemini_ask(c, [types.Content(role="user", parts=[
            types.Part(text="what is this"),
            types.Part(inline_data=types.Blob(mime_type="image/png",
                                              data=base64.b64decode(PNG))),
            types.Part(file_data=types.FileData(file_uri=IMAGE_URL,
                                                mime_type="image/png"))])], False)
        return chunks[0].text
    if inbound == "chat":
        r = await c.chat.completions.create(model="up-model", messages=[{
            "role": "user", "content": [
                {"type": "text", "text": "what is this"},
                {"type": "image_url", "image_url": {"url": DATA_URL}},
                {"type": "image_url", "image_url": {"url": IMAGE_URL}}]}])
        return r.choices[0].message.content
    if inbound == "responses":
        r = await c.responses.create(model="up-model", input=[{
            "role": "user", "content": [
                {"type": "input_text", "text": "what is this"},
                {"type": "input_image", "image_url": DATA_URL, "detail": "auto"},
                {"type": "input_image", "image_url": IMAGE_URL, "detail": "auto"}]}])
        return r.output_text
    m = await c.messages.create(model="up-model", max_tokens=100, messages=[{
        "role": "user", "content": [
            {"type": "text", "text": "what is this"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": PNG}},
            {"type": "image", "source": {"type": "url", "url": IMAGE_URL}}]}])
    return m.content[0].text


@pytest.mark.parametrize(("inbound", "upstream"), pairs(PAIRS))
async def test_user_images(fake, start_proxy, clients, inbound, upstream):
    url = await start_proxy(one_provider(fake, upstream))
    answer = await send_images(inbound, clients, url)
    assert answer == f"{upstream} says: what is this"
    assert fake.last["protocol"] == upstream
    (user,) = user_turns(upstream, fake.last["body"])
    assert images_in(upstream, user["content"]) == SENT


# The id each upstream gives its first call (a Gemini call has none).
CALL_ID = {"chat": "call_1", "responses": "call_1", "messages": "toolu_1", "gemini": None}


async def send_tool_image(inbound: str, clients, url: str, upstream: str) -> str | None:
    """A tool loop whose tool result holds text and a base64 PNG (Codex's view_image);
    the call id the upstream should see answered."""
    c = clients(inbound, url)
    if inbound == "gemini":  # a real first turn: Gemini 3 wants its call's signature back
        config = gemini_tools("view_image")
        parts = gemini_parts(await gemini_ask(c, "look at it", False, config))
        (call,) = [p.function_call for p in parts if p.function_call]
        result = types.FunctionResponse(
            id=call.id, name=call.name, response={"output": "the image:"},
            parts=[types.FunctionResponsePart(inline_data=types.FunctionResponseBlob(
                mime_type="image/png", data=base64.b64decode(PNG)))])
        await gemini_ask(c, [types.Content(role="user", parts=[types.Part(text="look at it")]),
                             types.Content(role="model", parts=parts),
                             types.Content(role="user", parts=[
                                 types.Part(function_response=result)])], False, config)
        return CALL_ID[upstream]
    if inbound == "responses":
        await c.responses.create(model="up-model", tools=[
            {"type": "function", "name": "view_image", "parameters": PARAMS}], input=[
            {"role": "user", "content": "look at it"},
            {"type": "function_call", "call_id": "call_img", "name": "view_image",
             "arguments": json.dumps({"cmd": "cat.png"})},
            {"type": "function_call_output", "call_id": "call_img", "output": [
                {"type": "input_text", "text": "the image:"},
                {"type": "input_image", "image_url": DATA_URL, "detail": "auto"}]}])
        return "call_img"
    await c.messages.create(model="up-model", max_tokens=100, tools=[
        {"name": "view_image", "input_schema": PARAMS}], messages=[
        {"role": "user", "content": "look at it"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "call_img",
                                           "name": "view_image",
                                           "input": {"cmd": "cat.png"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_img",
                                      "content": [
                                          {"type": "text", "text": "the image:"},
                                          {"type": "image", "source": {
                                              "type": "base64", "media_type": "image/png",
                                              "data": PNG}}]}]}])
    return "call_img"


# A Chat client has no standard way to put an image in a tool result (tool message content
# is text parts only), so every other client sends one.
TOOL_IMAGE_PAIRS = [(i, u) for i in PROTOCOLS if i != "chat" for u in PROTOCOLS]


@pytest.mark.parametrize(("inbound", "upstream"), pairs(TOOL_IMAGE_PAIRS))
async def test_image_in_tool_result(fake, start_proxy, clients, inbound, upstream):
    url = await start_proxy(one_provider(fake, upstream))
    call_id = await send_tool_image(inbound, clients, url, upstream)
    body = fake.last["body"]
    assert fake.last["protocol"] == upstream
    png = [("base64", "image/png", PNG)]
    if upstream == "chat":
        # Chat tool messages carry text only: the text stays in the tool message, the image
        # moves to ONE user message right after it, labelled with the call id (encode.py).
        roles = [m["role"] for m in body["messages"]]
        assert roles == ["user", "assistant", "tool", "user"]
        tool, after = body["messages"][2], body["messages"][3]
        assert tool["tool_call_id"] == call_id
        assert isinstance(tool["content"], str)
        assert "the image:" in tool["content"]
        assert images_in("chat", after["content"]) == png
        assert call_id in json.dumps(after["content"])
    elif upstream == "responses":
        (out,) = [i for i in body["input"] if i.get("type") == "function_call_output"]
        assert out["call_id"] == call_id
        assert images_in("responses", out["output"]) == png
        assert {"type": "input_text", "text": "the image:"} in out["output"]
        assert all(not images_in("responses", t.get("content"))
                   for t in user_turns("responses", body))
    elif upstream == "gemini":
        # The response first, then the image: inside the functionResponse from a Gemini
        # client (relayed as sent), right after it in the same turn when translated
        # (encode.py: older models refuse parts inside a response).
        turn = body["contents"][-1]
        (answer,) = [p["functionResponse"] for p in turn["parts"] if "functionResponse" in p]
        assert answer["name"] == "view_image" and answer.get("id") == (
            None if inbound == "gemini" else call_id)
        assert answer["response"] == {"output": "the image:"}
        assert images_in("gemini", answer.get("parts")) + images_in("gemini", turn["parts"]) \
            == png
        assert "functionResponse" in turn["parts"][0]
    else:
        last = body["messages"][-1]
        (result,) = [b for b in last["content"] if b["type"] == "tool_result"]
        assert result["tool_use_id"] == call_id
        assert images_in("messages", result["content"]) == png
        assert {"type": "text", "text": "the image:"} in result["content"]
