"""``byecore check --images``: opt-in, one image at the cheapest size, and it says so."""

from __future__ import annotations

import json

import pytest

from tests.check.fake_gateway import Behaviour, build
from tests.fakes import ThreadedServer
from tests.images.fake_images import KEY, FakeImages


@pytest.fixture
def gateway(cli):
    """A gateway that speaks Chat and the Images API, saved as 'gw' (byecore preset)."""
    fake = FakeImages()

    def make():
        app = build(Behaviour(key=KEY))()
        app.router.add_post("/v1/images/generations", fake._generations)
        return app

    with ThreadedServer(make) as server:
        fake.url = server.url
        assert cli("provider", "add", "gw", "--preset", "byecore", "--base-url", server.url,
                   "--key", KEY, "--protocol", "chat").exit_code == 0
        yield fake


def _check(cli, *args):
    result = cli("check", "--no-stream", "--timeout", "5", "--json", *args)
    assert KEY not in result.stdout + result.stderr
    return result.exit_code, json.loads(result.stdout)


def test_a_check_makes_no_image_unless_asked(cli, gateway):
    code, body = _check(cli)
    assert code == 0 and gateway.requests == []
    assert [s["name"] for s in body["data"]["steps"]] == ["GET models", "chat"]


def test_images_makes_one_image_at_the_cheapest_size(cli, gateway):
    code, body = _check(cli, "--images")
    assert code == 0, body
    step = body["data"]["steps"][-1]
    assert step["name"] == "images (image-2, 1024x1024)" and step["ok"]
    assert step["detail"] == "1 image, 1024x1024 PNG, $0.05"
    assert len(gateway.requests) == 1 and gateway.last["billed"] == "1K"
    assert gateway.last["body"] == {"model": "image-2", "prompt": "a plain blue square",
                                    "size": "1024x1024", "n": 1}
    assert body["data"]["target"]["image_model"] == "image-2"


def test_images_failures_are_findings(cli, gateway):
    gateway.plan = [("echo_key", 403)]
    code, body = _check(cli, "--images")
    assert code == 1
    step = body["data"]["steps"][-1]
    assert not step["ok"] and step["status"] == 403 and step["fix"]
    gateway.plan = [("garbage",)]
    code, body = _check(cli, "--images")
    assert code == 1 and "not an Images API answer" in body["data"]["steps"][-1]["problem"]


def test_images_needs_an_image_model(cli, gateway):
    assert cli("provider", "add", "plain", "--base-url", gateway.url, "--key", KEY,
               "--protocol", "chat").exit_code == 0
    code, body = _check(cli, "-p", "plain", "--images")
    assert code == 2 and "lists an image model" in body["error"]["message"]
    code, body = _check(cli, "--base-url", gateway.url, "--images")
    assert code == 2 and "saved provider" in body["error"]["message"]


def test_help_says_it_costs_money(cli):
    result = cli("check", "--help")
    assert "--images" in result.stdout and "costs money" in " ".join(result.stdout.split())
