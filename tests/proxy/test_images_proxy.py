"""The proxy's Images API, driven by the official openai SDK, over a fake Images upstream.

A missing or ``auto`` size never reaches the upstream (which would bill it as 2K), an
unlisted size is a 400 that names the valid ones, edits keep their images byte for
byte, streams relay the SDK's own event types, and each request is one usage row.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import sqlite3

import openai
import pytest

from byecore_cli.config.models import (
    Provider,
    ProxyImages,
    ProxySettings,
    ProxyTimeouts,
    Settings,
)
from byecore_cli.paths import Paths
from byecore_cli.providers.presets import IMAGE_2
from byecore_cli.proxy.app import STATE, create_app
from tests.images.fake_images import KEY, FakeImages
from tests.images.png import make_png, read_png


@pytest.fixture
async def upstream(aiohttp_server):
    fake = FakeImages()
    server = await aiohttp_server(fake.app)
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


def settings_for(fake: FakeImages, *, images: ProxyImages | None = None,
                 aliases: dict | None = None) -> Settings:
    up = Provider(base_url=fake.url, protocols=["chat", "responses"], key=KEY,
                  models=["chat-model"], image_models={"image-2": IMAGE_2})
    return Settings(providers={"up": up}, default_provider="up", proxy=ProxySettings(
        images=images or ProxyImages(), aliases=aliases or {}))


@pytest.fixture
def proxy(aiohttp_server, local_key):
    """``await proxy(settings)`` → (root URL, the app's state)."""

    async def start(settings: Settings):
        server = await aiohttp_server(create_app(settings))
        return str(server.make_url("")).rstrip("/"), server.app[STATE]

    return start


def rows(state) -> list[dict]:
    assert state.usage.flush()
    db = sqlite3.connect(Paths.current().usage_db)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM requests ORDER BY id")]
    finally:
        db.close()


async def test_a_missing_size_is_filled_with_1k_and_logged(upstream, proxy, sdk, caplog):
    url, state = await proxy(settings_for(upstream))
    client = sdk.openai(url)
    with caplog.at_level(logging.INFO, logger="byecore.proxy"):
        answer = await client.images.generate(model="image-2", prompt="a red fox")
    sent = upstream.last
    assert sent["body"]["size"] == "1024x1024" and sent["billed"] == "1K"
    assert sent["headers"]["Authorization"] == f"Bearer {KEY}"
    assert read_png(base64.b64decode(answer.data[0].b64_json)) == (1024, 1024)
    filled = [r.getMessage() for r in caplog.records if "default_size" in r.getMessage()]
    assert len(filled) == 1 and "1024x1024" in filled[0] and "2K ($0.10)" in filled[0]
    row = rows(state)[-1]
    assert (row["inbound"], row["provider"], row["model"], row["status"]) == (
        "images", "up", "image-2", 200)
    assert row["images"] == 1 and row["cost_usd"] == pytest.approx(0.05)
    assert row["client"] == "tests" and row["input_tokens"] == 12


async def test_auto_is_filled_and_a_listed_size_goes_up_as_it_is(upstream, proxy, sdk):
    url, state = await proxy(settings_for(upstream))
    client = sdk.openai(url)
    await client.images.generate(model="image-2", prompt="p", size="auto")
    assert upstream.last["body"]["size"] == "1024x1024"
    answer = await client.images.generate(model="image-2", prompt="p", size="1536x1024", n=2)
    assert upstream.last["body"]["size"] == "1536x1024" and upstream.last["billed"] == "2K"
    assert [read_png(base64.b64decode(d.b64_json)) for d in answer.data] == [(1536, 1024)] * 2
    row = rows(state)[-1]
    assert row["images"] == 2 and row["cost_usd"] == pytest.approx(0.20)


async def test_an_unlisted_size_is_refused_with_the_valid_ones(upstream, proxy, sdk):
    url, state = await proxy(settings_for(upstream))
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.openai(url).images.generate(model="image-2", prompt="p", size="512x512")
    message = caught.value.body["message"]
    assert "512x512" in message and caught.value.body["param"] == "size"
    for shown in ("1024x1024 (1K, $0.05)", "2048x2048 (2K, $0.10)", "3840x2160 (4K, $0.20)"):
        assert shown in message
    assert upstream.requests == []
    row = rows(state)[-1]
    assert (row["status"], row["inbound"], row["images"]) == (400, "images", None)


async def test_settings_choose_the_size_and_can_turn_the_filling_off(upstream, proxy, sdk):
    url, _ = await proxy(settings_for(upstream, images=ProxyImages(default_size="1024x1536")))
    await sdk.openai(url).images.generate(model="image-2", prompt="p")
    assert upstream.last["body"]["size"] == "1024x1536"
    # a default the model does not list: its cheapest size instead
    url, _ = await proxy(settings_for(upstream, images=ProxyImages(default_size="512x512")))
    await sdk.openai(url).images.generate(model="image-2", prompt="p")
    assert upstream.last["body"]["size"] == "1024x1024"
    url, state = await proxy(settings_for(upstream, images=ProxyImages(fill_missing=False)))
    await sdk.openai(url).images.generate(model="image-2", prompt="p")
    assert "size" not in upstream.last["body"] and upstream.last["billed"] == "2K"
    assert rows(state)[-1]["cost_usd"] == pytest.approx(0.10)  # what it is billed as


async def test_edit_images_reach_the_upstream_byte_for_byte(upstream, proxy, sdk):
    url, state = await proxy(settings_for(upstream))
    first, second = make_png(64, 48, seed=1), make_png(32, 32, seed=2)
    # bytes that look like multipart framing must survive too
    second += b"\r\n--fake-boundary\r\nContent-Disposition: form-data\r\n\r\n"
    answer = await sdk.openai(url).images.edit(
        model="image-2", prompt="make it blue, ünïcode kept",
        image=[("a.png", io.BytesIO(first), "image/png"),
               ("b.png", io.BytesIO(second), "image/png")])
    sent = upstream.last
    assert [(f["field"], f["filename"]) for f in sent["files"]] == [("image[]", "a.png"),
                                                                     ("image[]", "b.png")]
    assert [hashlib.sha256(f["data"]).digest() for f in sent["files"]] == [
        hashlib.sha256(first).digest(), hashlib.sha256(second).digest()]
    assert sent["body"]["prompt"] == "make it blue, ünïcode kept"
    assert sent["body"]["size"] == "1024x1024" and sent["billed"] == "1K"
    assert read_png(base64.b64decode(answer.data[0].b64_json)) == (1024, 1024)
    assert rows(state)[-1]["cost_usd"] == pytest.approx(0.05)


async def test_edit_sizes_in_the_form_are_checked_and_auto_replaced(upstream, proxy, sdk):
    url, _ = await proxy(settings_for(upstream))
    client = sdk.openai(url)
    image = ("a.png", make_png(8, 8), "image/png")
    await client.images.edit(model="image-2", prompt="p", image=image, size="auto")
    assert upstream.last["body"]["size"] == "1024x1024"
    assert [f["field"] for f in upstream.last["files"]] == ["image"]
    await client.images.edit(model="image-2", prompt="p", image=image, size="2160x3840")
    assert upstream.last["body"]["size"] == "2160x3840" and upstream.last["billed"] == "4K"
    count = len(upstream.requests)
    with pytest.raises(openai.BadRequestError) as caught:
        await client.images.edit(model="image-2", prompt="p", image=image, size="256x256")
    assert "1024x1024 (1K, $0.05)" in caught.value.body["message"]
    assert len(upstream.requests) == count


async def test_streamed_generation_and_edit_keep_the_sdk_event_types(upstream, proxy, sdk):
    url, state = await proxy(settings_for(upstream))
    client = sdk.openai(url)
    stream = await client.images.generate(model="image-2", prompt="p", stream=True,
                                          partial_images=2)
    events = [event async for event in stream]
    assert [e.type for e in events] == ["image_generation.partial_image"] * 2 + [
        "image_generation.completed"]
    assert [e.partial_image_index for e in events[:2]] == [0, 1]
    assert read_png(base64.b64decode(events[-1].b64_json)) == (1024, 1024)
    assert upstream.last["body"]["size"] == "1024x1024"
    row = rows(state)[-1]
    assert row["stream"] == 1 and row["images"] == 1 and row["cost_usd"] == pytest.approx(0.05)
    assert row["output_tokens"] == 100
    stream = await client.images.edit(model="image-2", prompt="p", stream=True,
                                      image=("a.png", make_png(8, 8), "image/png"),
                                      partial_images=1)
    types = [event.type async for event in stream]
    assert types == ["image_edit.partial_image", "image_edit.completed"]


async def test_local_key_is_required_and_never_forwarded(upstream, proxy, sdk, local_key):
    url, state = await proxy(settings_for(upstream))
    with pytest.raises(openai.AuthenticationError):
        await sdk.openai(url, key="bc-local-wrong").images.generate(model="image-2",
                                                                    prompt="p")
    assert upstream.requests == []
    await sdk.openai(url).images.generate(model="image-2", prompt="p")
    assert local_key not in str(upstream.last["headers"])
    assert rows(state)[0]["client"] == "unknown" and rows(state)[0]["status"] == 401


async def test_upstream_errors_come_back_in_openai_shape_without_the_key(upstream, proxy,
                                                                         sdk):
    url, state = await proxy(settings_for(upstream))
    client = sdk.openai(url)
    upstream.plan = [("echo_key", 403)]
    with pytest.raises(openai.PermissionDeniedError) as caught:
        await client.images.generate(model="image-2", prompt="p")
    assert KEY not in str(caught.value.body) and "may not use image-2" in str(caught.value)
    upstream.plan = [("garbage",)]
    with pytest.raises(openai.InternalServerError) as caught:
        await client.images.generate(model="image-2", prompt="p")
    assert caught.value.status_code == 502 and "maintenance" in str(caught.value)
    assert [r["status"] for r in rows(state)] == [403, 502]


async def test_routing_provider_model_aliases_and_a_missing_model(upstream, proxy, sdk):
    url, _ = await proxy(settings_for(upstream, aliases={"gpt-image-*": "up/image-2",
                                                         "*": "up/chat-model"}))
    client = sdk.openai(url)
    await client.images.generate(model="up/image-2", prompt="p")
    assert upstream.last["body"]["model"] == "image-2"
    await client.images.generate(model="gpt-image-1", prompt="p")
    assert upstream.last["body"]["model"] == "image-2"
    await client.images.generate(model="image-2", prompt="p")  # listed: the "*" alias loses
    assert upstream.last["body"]["model"] == "image-2"
    await client.images.generate(prompt="p")  # no model: the provider's first image model
    assert upstream.last["body"]["model"] == "image-2"


async def test_paths_without_v1_and_the_hint_for_a_wrong_one(upstream, proxy, sdk):
    url, _ = await proxy(settings_for(upstream))
    await sdk.openai(url, suffix="").images.generate(model="image-2", prompt="p")
    assert upstream.last["path"] == "/v1/images/generations"
    with pytest.raises(openai.NotFoundError) as caught:
        await sdk.openai(url).post("/images/generate", cast_to=object, body={})
    assert "POST /v1/images/generations" in str(caught.value)


async def test_a_provider_without_an_openai_api_is_refused(upstream, proxy, sdk):
    settings = settings_for(upstream)
    settings.providers["up"].protocols = ["messages"]
    url, _ = await proxy(settings)
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.openai(url).images.generate(model="image-2", prompt="p")
    assert "no Images API" in str(caught.value) and upstream.requests == []


async def test_a_stream_gone_silent_ends_with_an_error_event(upstream, proxy, sdk):
    settings = settings_for(upstream)
    settings.proxy.timeouts = ProxyTimeouts(idle=0.6)
    settings.proxy.keepalive = 0.2
    url, state = await proxy(settings)
    upstream.plan = [("stall",)]
    stream = await sdk.openai(url).images.generate(model="image-2", prompt="p", stream=True,
                                                   partial_images=1)
    seen = []
    with pytest.raises(openai.APIError, match="no data for 0.6 s"):
        async for event in stream:
            seen.append(event.type)
    assert seen == ["image_generation.partial_image"]
    row = rows(state)[-1]
    assert row["status"] == 502 and row["images"] == 0 and row["cost_usd"] == 0
