"""``byecore models`` against real local fake servers."""

from __future__ import annotations

import json
import socket

import pytest
from aiohttp import web

from tests.fakes import ThreadedServer

MODELS = {"object": "list", "data": [
    {"id": "gpt-5.4", "object": "model", "owned_by": "byecore"},
    {"id": "gpt-5.5", "object": "model", "owned_by": "byecore"},
]}


def _app(status=200, body=None, headers=None):
    def build():
        async def models(request):
            if status != 200:
                return web.json_response(body, status=status, headers=headers)
            if request.headers.get("Authorization") != "Bearer sk-good-0123456789":
                return web.json_response(
                    {"error": {"message": "Incorrect API key provided: sk-good-0123456789"}},
                    status=401)
            return web.json_response(body or MODELS)

        async def anthropic_models(request):
            assert request.headers["anthropic-version"]
            if request.headers.get("x-api-key") != "sk-good-0123456789":
                return web.json_response({"type": "error", "error": {
                    "type": "authentication_error", "message": "invalid x-api-key"}}, status=401)
            return web.json_response({"data": [
                {"id": "claude-sonnet-5-5", "type": "model", "display_name": "Sonnet 5.5"}],
                "has_more": False})

        app = web.Application()
        app.router.add_get("/v1/models", models)
        app.router.add_get("/anthropic/v1/models", anthropic_models)
        return app
    return build


def _add(cli, url, key="sk-good-0123456789", *extra):
    result = cli("provider", "add", "gw", "--base-url", url, "--key", key, *extra)
    assert result.exit_code == 0, result.stderr


def test_lists_live_models(cli):
    with ThreadedServer(_app()) as server:
        _add(cli, server.url, "sk-good-0123456789", "--model", "gpt-5.4", "--model", "old-1")
        result = cli("models")
        assert result.exit_code == 0, result.stderr
        assert "gpt-5.4" in result.stdout and "gpt-5.5" in result.stdout
        assert "Saved but not served: old-1" in result.stdout
        body = json.loads(cli("models", "--provider", "gw", "--json").stdout)
    assert [m["id"] for m in body["data"]["models"]] == ["gpt-5.4", "gpt-5.5"]
    assert body["data"]["url"] == f"{server.url}/v1/models"
    assert server.requests[0]["path"] == "/v1/models"


def test_messages_only_provider_is_asked_the_anthropic_way(cli):
    with ThreadedServer(_app()) as server:
        _add(cli, server.url + "/anthropic", "sk-good-0123456789", "--protocol", "messages")
        body = json.loads(cli("models", "--json").stdout)
    assert body["ok"], body
    assert body["data"]["models"] == [{"id": "claude-sonnet-5-5", "owned_by": "Sonnet 5.5"}]


def test_wrong_key_is_explained_without_echoing_it(cli):
    with ThreadedServer(_app()) as server:
        _add(cli, server.url, "sk-wrong-9876543210")
        result = cli("models")
        assert result.exit_code == 1
        assert "401" in result.stderr and "key was refused" in result.stderr
        assert "sk-wrong-9876543210" not in result.stderr


def test_upstream_echoing_the_key_is_redacted(cli):
    with ThreadedServer(_app(401, {"error": {"message": "bad key sk-good-0123456789"}})) as s:
        _add(cli, s.url)
        result = cli("models")
    assert result.exit_code == 1 and "sk-good-0123456789" not in result.stderr
    assert "sk-…89" in result.stderr


@pytest.mark.parametrize("status, words", [
    (404, "extra or a missing"), (429, "wait 7 s"), (503, "failing on its side")])
def test_http_failures_in_plain_words(cli, status, words):
    with ThreadedServer(_app(status, {"error": {"message": "nope"}},
                             {"Retry-After": "7"})) as server:
        _add(cli, server.url)
        result = cli("models")
        body = json.loads(cli("models", "--json").stdout)
    assert result.exit_code == 1 and words in result.stderr
    assert body["error"]["status"] == status


def test_non_json_answer_suggests_a_wrong_url(cli):
    def build():
        app = web.Application()
        async def page(request):
            return web.Response(text="<html>hi</html>")

        app.router.add_get("/v1/models", page)
        return app

    with ThreadedServer(build) as server:
        _add(cli, server.url)
        result = cli("models")
    assert result.exit_code == 1 and "did not answer with a model list" in result.stderr


def test_closed_port_is_a_connection_error(cli):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _add(cli, f"http://127.0.0.1:{port}")
    body = json.loads(cli("models", "--json").stdout)
    assert body["ok"] is False and body["error"]["code"] == "unreachable"
    assert "connection refused" in body["error"]["message"]


def test_no_provider_yet(cli):
    result = cli("models")
    assert result.exit_code == 1 and "byecore provider add" in result.stderr
