"""``byecore check`` reproduces each failure mode against a local fake gateway."""

from __future__ import annotations

import json
import socket

import pytest

from tests.check.fake_gateway import KEY, Behaviour, build
from tests.fakes import ThreadedServer


def _check(cli, *args):
    result = cli("check", *args, "--timeout", "2", "--json")
    body = json.loads(result.stdout)
    return result.exit_code, body["data"] if body["ok"] else body, result


def _steps(data):
    return {s["name"]: s for s in data["steps"]}


def _save(cli, url, key=KEY, *extra):
    assert cli("provider", "add", "gw", "--base-url", url, "--key", key,
               "--protocol", "chat", "--protocol", "responses", "--protocol", "messages",
               "--model", "gpt-5.4", *extra).exit_code == 0


def test_everything_passes_against_a_healthy_gateway(cli):
    with ThreadedServer(build(Behaviour())) as gw:
        _save(cli, gw.url)
        code, data, result = _check(cli)
    assert code == 0 and data["ok"] is True
    names = [s["name"] for s in data["steps"]]
    assert names == ["GET models", "chat", "chat stream", "responses", "responses stream",
                     "messages", "messages stream"]
    assert all(s["ok"] and not s["problem"] for s in data["steps"])
    assert _steps(data)["chat stream"]["ttft_ms"] is not None


def test_human_output_shows_a_table_and_a_verdict(cli):
    with ThreadedServer(build(Behaviour())) as gw:
        _save(cli, gw.url)
        result = cli("check", "--no-stream", "--timeout", "2")
    assert result.exit_code == 0
    assert "GET models" in result.stdout and "All 4 checks passed" in result.stdout


def test_wrong_key(cli):
    with ThreadedServer(build(Behaviour())) as gw:
        _save(cli, gw.url, "sk-wrong-0000000000000000")
        code, data, result = _check(cli, "--no-stream")
    assert code == 1
    step = _steps(data)["GET models"]
    assert step["status"] == 401 and "key was refused" in step["problem"]
    assert "byecore provider add gw --replace --key-stdin" in step["fix"]
    assert "sk-wrong-0000000000000000" not in result.stdout


def test_key_with_whitespace_given_directly(cli):
    with ThreadedServer(build(Behaviour())) as gw:
        code, data, _ = _check(cli, "--base-url", gw.url, "--key", f" {KEY}\n",
                               "--model", "gpt-5.4", "--protocol", "chat", "--no-stream")
    assert code == 1
    key_step = _steps(data)["key"]
    assert key_step["ok"] is False and "spaces or line breaks" in key_step["problem"]
    assert _steps(data)["chat"]["ok"], "the trimmed key is then tried, and works"


def test_extra_v1_in_the_pasted_url_is_explained(cli):
    with ThreadedServer(build(Behaviour())) as gw:
        result = cli("check", "--base-url", gw.url + "/v1/v1", "--key", KEY, "--model",
                     "gpt-5.4", "--protocol", "chat", "--no-stream", "--timeout", "2")
    assert result.exit_code == 0
    assert "removed 2 repeated '/v1' parts" in result.stderr


def test_missing_v1_on_the_gateway_side_is_found_by_probing(cli):
    # This gateway serves OpenAI endpoints at the root, without /v1.
    with ThreadedServer(build(Behaviour(prefix=""))) as gw:
        _save(cli, gw.url)
        code, data, _ = _check(cli, "--no-stream", "--protocol", "chat")
    assert code == 1
    step = _steps(data)["GET models"]
    assert step["status"] == 404
    assert f"answers at {gw.url}/models" in step["fix"] and 'openai_path = ""' in step["fix"]


def test_unknown_model_gets_suggestions(cli):
    with ThreadedServer(build(Behaviour())) as gw:
        _save(cli, gw.url)
        code, data, _ = _check(cli, "--model", "gpt-5.44", "--no-stream", "--protocol", "chat")
    assert code == 1
    models = _steps(data)["GET models"]
    assert models["ok"] and models["warning"] and "gpt-5.4" in models["fix"]
    chat = _steps(data)["chat"]
    assert chat["status"] == 404 and "not available" in chat["problem"]


@pytest.mark.parametrize("status, words", [(429, "wait 12 s"), (500, "failed on its side"),
                                           (529, "overloaded")])
def test_rate_limit_and_server_errors(cli, status, words):
    with ThreadedServer(build(Behaviour(status=status, retry_after="12"))) as gw:
        _save(cli, gw.url)
        code, data, _ = _check(cli, "--no-stream", "--protocol", "messages")
    assert code == 1
    step = _steps(data)["messages"]
    assert step["status"] == status and words in step["problem"]


def test_hanging_stream(cli):
    with ThreadedServer(build(Behaviour(hang_stream=True))) as gw:
        _save(cli, gw.url)
        code, data, _ = _check(cli, "--protocol", "chat", "--timeout", "1")
    assert code == 1
    assert "went silent" in _steps(data)["chat stream"]["problem"]


def test_truncated_stream(cli):
    with ThreadedServer(build(Behaviour(truncate_stream=True))) as gw:
        _save(cli, gw.url)
        code, data, _ = _check(cli, "--protocol", "responses")
    assert code == 1
    assert "without its final event" in _steps(data)["responses stream"]["problem"]


def test_malformed_body(cli):
    with ThreadedServer(build(Behaviour(malformed=True))) as gw:
        _save(cli, gw.url)
        code, data, _ = _check(cli, "--no-stream", "--protocol", "responses")
    assert code == 1
    assert "not a valid OpenAI Responses answer (it has no 'output')" in \
        _steps(data)["responses"]["problem"]


def test_closed_port(cli):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _save(cli, f"http://127.0.0.1:{port}")
    code, data, _ = _check(cli, "--no-stream")
    assert code == 1
    step = _steps(data)["GET models"]
    assert "nothing is listening" in step["problem"] and "byecore proxy" in step["fix"]


def test_http_proxy_that_captures_localhost_is_flagged(cli, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://corp-proxy.invalid:3128")
    with ThreadedServer(build(Behaviour())) as gw:
        _save(cli, gw.url)
        code, data, _ = _check(cli, "--no-stream", "--protocol", "chat")
    assert code == 0, "a warning is not a failure"
    step = _steps(data)["proxy settings"]
    assert step["warning"] and "NO_PROXY" in step["fix"]


def test_usage_errors(cli):
    assert cli("check", "--protocol", "grpc").exit_code == 2
    assert cli("check", "--proxy", "--base-url", "http://x.test").exit_code == 2
    no_provider = cli("check")
    assert no_provider.exit_code == 1 and "byecore check --base-url" in no_provider.stderr


def test_check_proxy_passes_against_the_demo_provider(cli):
    """A fresh machine: no provider saved, no key made yet; the proxy's demo answers."""
    from byecore_cli.config.models import Settings
    from byecore_cli.proxy.app import create_app

    with ThreadedServer(lambda: create_app(Settings())) as proxy:
        code, data, result = _check(cli, "--proxy", "--port", str(proxy.port))
    assert code == 0, result.stdout
    names = [s["name"] for s in data["steps"]]
    assert names == ["GET models", "chat", "chat stream", "responses", "responses stream",
                     "messages", "messages stream", "gemini", "gemini stream"]
    assert all(s["ok"] for s in data["steps"])


def test_check_proxy_says_when_it_is_not_running(cli):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, data, _ = _check(cli, "--proxy", "--port", str(port), "--no-stream")
    assert code == 1
    step = _steps(data)["GET models"]
    assert "nothing is listening" in step["problem"] and "byecore proxy" in step["fix"]


def test_check_proxy_uses_the_configured_port(cli, byecore_home):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    byecore_home.mkdir()
    (byecore_home / "settings.toml").write_text(f"[proxy]\nport = {port}\n")
    code, data, _ = _check(cli, "--proxy", "--no-stream")
    assert code == 1
    assert f"127.0.0.1:{port}" in _steps(data)["GET models"]["url"]
