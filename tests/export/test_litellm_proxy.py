"""The real LiteLLM proxy, started on what ``byecore export litellm`` wrote, answers each
protocol it serves (Chat, Responses, Messages, the Gemini API) through the routes
byecore would take: aliases, a glob alias, provider/*, the default provider's *, and a
fallback; with the keys from the environment variables the export named.

The clients are the official SDKs; the upstream is a recording fake on 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

from tests.export.upstream import RecordingUpstream
from tests.fakes import ThreadedServer

MASTER = "sk-litellm-master-test-1"
STORED = "sk-stored-in-byecore-2"
CLAUDE_KEY = "sk-ant-from-env-3"
GEMINI_KEY = "gemini-from-env-4"
RESP_KEY = "sk-resp-from-env-5"


def _settings(url: str) -> str:
    return f"""default_provider = "both"

[providers.both]
base_url = "{url}"
protocols = ["chat", "responses"]
key = "{STORED}"
models = ["b-1"]

[providers.claude]
base_url = "{url}"
protocols = ["messages"]
key_env = "CLAUDE_UP_KEY"
models = ["c-1"]

[providers.gem]
base_url = "{url}"
protocols = ["gemini"]
key_env = "GEM_UP_KEY"
models = ["g-1"]

[providers.resp]
base_url = "{url}"
protocols = ["responses"]
key_env = "RESP_UP_KEY"
models = ["r-1"]

[providers.local]
base_url = "{url}/local"
protocols = ["chat"]
models = ["l-1"]

[proxy.aliases]
sonnet = "claude/c-1"
"claude-*haiku*" = "gem/g-1"

[proxy.fallbacks]
"both/b-1" = ["claude/c-1"]
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 90  # LiteLLM imports a great deal before it listens
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise AssertionError(f"litellm exited early:\n{log.read()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health/liveliness", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.25)
    raise AssertionError("litellm did not start in 90 s")


@pytest.fixture
def gateway(litellm_bin, byecore_home, cli, tmp_path):
    """LiteLLM on the exported config, in front of a recording upstream."""
    upstream = RecordingUpstream()
    with ThreadedServer(lambda: upstream.app) as server:
        byecore_home.mkdir()
        (byecore_home / "settings.toml").write_text(_settings(server.url))
        config = tmp_path / "config.yaml"
        result = cli("export", "litellm", "--out", str(config))
        assert result.exit_code == 0, result.output
        assert "BYECORE_BOTH_API_KEY" in result.stdout  # the variable to export is named
        text = config.read_text()
        assert STORED not in text and "os.environ/BYECORE_BOTH_API_KEY" in text
        port = _free_port()
        env = {**os.environ, "LITELLM_MASTER_KEY": MASTER, "BYECORE_BOTH_API_KEY": STORED,
               "CLAUDE_UP_KEY": CLAUDE_KEY, "GEM_UP_KEY": GEMINI_KEY,
               "RESP_UP_KEY": RESP_KEY, "LITELLM_LOCAL_MODEL_COST_MAP": "True",
               "NO_PROXY": "*"}
        log = (tmp_path / "litellm.log").open("w+")
        proc = subprocess.Popen(
            [str(litellm_bin), "--config", str(config), "--host", "127.0.0.1",
             "--port", str(port), "--num_workers", "1"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(url, proc, log)
            yield url, upstream
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            log.close()


def _last(upstream: RecordingUpstream) -> dict:
    return upstream.requests[-1]


def _key_sent(request: dict) -> str:
    headers = {k.lower(): v for k, v in request["headers"].items()}
    return (headers.get("x-api-key") or headers.get("x-goog-api-key")
            or headers.get("authorization", "").removeprefix("Bearer "))


def test_real_litellm_serves_the_export(gateway):
    url, upstream = gateway
    chat = openai.OpenAI(base_url=f"{url}/v1", api_key=MASTER, max_retries=0)

    # Chat Completions, a bare name placed by byecore's router; the stored key
    answer = chat.chat.completions.create(
        model="b-1", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "chat upstream, model b-1"
    sent = _last(upstream)
    assert (sent["protocol"], sent["path"], _key_sent(sent)) == (
        "chat", "/v1/chat/completions", STORED)

    # a stream, through the same route
    stream = chat.chat.completions.create(
        model="both/b-1", stream=True, messages=[{"role": "user", "content": "hi"}])
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "chat upstream, model b-1"

    # Responses, on a Responses-only provider (openai/responses/…)
    reply = chat.responses.create(model="resp/r-1", input="hi")
    assert reply.output_text == "responses upstream, model r-1"
    sent = _last(upstream)
    assert (sent["protocol"], sent["model"], _key_sent(sent)) == ("responses", "r-1", RESP_KEY)

    # Anthropic Messages through an exact alias, with the key from its env variable
    claude = anthropic.Anthropic(base_url=url, api_key=MASTER, max_retries=0)
    message = claude.messages.create(model="sonnet", max_tokens=32,
                                     messages=[{"role": "user", "content": "hi"}])
    assert message.content[0].text == "messages upstream, model c-1"
    sent = _last(upstream)
    assert (sent["protocol"], sent["path"], _key_sent(sent)) == (
        "messages", "/v1/messages", CLAUDE_KEY)

    # the Gemini API, answered by a Gemini upstream under its /v1beta base
    gemini = genai.Client(api_key=MASTER, http_options=types.HttpOptions(
        base_url=url, api_version="v1beta"))
    result = gemini.models.generate_content(model="g-1", contents="hi")
    assert result.text == "gemini upstream, model g-1"
    sent = _last(upstream)
    assert (sent["protocol"], sent["path"], _key_sent(sent)) == (
        "gemini", "/v1beta/models/g-1:generateContent", GEMINI_KEY)

    _wildcards_default_and_fallback(chat, upstream)

    # general_settings.master_key is in force: another key is refused before any upstream
    # (with no database LiteLLM says 400 "No connected db" rather than 401)
    before = len(upstream.requests)
    with pytest.raises(openai.APIStatusError) as refused:
        openai.OpenAI(base_url=f"{url}/v1", api_key="sk-not-the-master", max_retries=0) \
            .chat.completions.create(model="b-1", messages=[{"role": "user", "content": "x"}])
    assert refused.value.status_code in (400, 401, 403)
    assert len(upstream.requests) == before


def _wildcards_default_and_fallback(chat: openai.OpenAI, upstream: RecordingUpstream) -> None:
    def ask(model: str) -> str:
        answer = chat.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hi"}])
        return answer.choices[0].message.content

    assert ask("claude-3-5-haiku-latest") == "gemini upstream, model g-1"  # a glob alias
    # provider/* passes the name through, to a keyless provider's own base
    assert ask("local/any-model") == "chat upstream, model any-model"
    sent = _last(upstream)
    assert sent["path"] == "/local/v1/chat/completions"
    # a name nothing lists goes to the default provider, unchanged
    assert ask("not-listed-anywhere") == "chat upstream, model not-listed-anywhere"
    assert _key_sent(_last(upstream)) == STORED

    upstream.failing = {"b-1"}  # both/b-1 fails: byecore's chain goes on to claude/c-1
    before = len(upstream.requests)
    assert ask("b-1") == "messages upstream, model c-1"
    # one try of b-1 (num_retries 0, as byecore tries each target once), then c-1
    assert [r["model"] for r in upstream.requests[before:]] == ["b-1", "c-1"]
    assert ask("both/b-1") == "messages upstream, model c-1"  # the group's own chain
