"""``byecore check`` against servers that misbehave below the protocol.

Each failure must read as a sentence with a fix (never an aiohttp or SSL message on its
own), a host that is not there must be asked once rather than once per step, one problem
met by several steps must be said once, and the whole check must end on its own at the
default settings. The servers listen on 127.0.0.1 port 0 (tests/check/fake_gateway.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.check.fake_gateway import KEY, Behaviour, RawServer, build
from tests.fakes import ThreadedServer

ALL = ["GET models", "chat", "chat stream", "responses", "responses stream", "messages",
       "messages stream"]
# What a user must never be left with: library messages instead of a diagnosis.
RAW = ("Errno", "ClientOSError", "ServerDisconnected", "ClientPayloadError", "SSL:",
       "_ssl.c", "aiohttp", "Traceback", "TransferEncodingError")


def _direct(url: str, *extra: str) -> list[str]:
    return ["check", "--base-url", url, "--key", KEY, "--model", "gpt-5.4", *extra]


def _json(cli, *args):
    result = cli(*args, "--json")
    body = json.loads(result.stdout)
    assert body["ok"] is True, body  # the command ran; the check itself may have failed
    return result, body["data"]


def _no_raw_errors(text: str) -> None:
    assert not [word for word in RAW if word in text], text


def _steps(data) -> dict:
    return {s["name"]: s for s in data["steps"]}


def _run(*args: str, bound: float = 90) -> subprocess.CompletedProcess:
    """The real command in its own process: ``bound`` is how long "finishes" may take."""
    return subprocess.run([sys.executable, "-m", "byecore_cli", *args], capture_output=True,
                          text=True, timeout=bound, env=dict(os.environ))


def test_a_server_that_closes_at_once_is_asked_once_and_explained(cli):
    with RawServer("close") as server:
        result, data = _json(cli, *_direct(server.url, "--timeout", "2"))
        human = cli(*_direct(server.url, "--timeout", "2"))
        connections = server.connections
    assert result.exit_code == 1 and human.exit_code == 1
    first = data["steps"][0]
    assert first["name"] == "GET models" and not first["ok"] and not first["skipped"]
    assert "closed the connection before answering" in first["problem"]
    assert "HTTP server" in first["fix"] and "https://127.0.0.1:" in first["fix"]
    assert [s["name"] for s in data["steps"]] == ALL
    assert all(s["skipped"] and s["problem"] is None for s in data["steps"][1:])
    assert "GET models" in data["stopped"]
    # One request per run (aiohttp itself retries a GET once on a dropped connection),
    # where it used to be seven.
    assert connections <= 2 * 2, connections
    assert human.stdout.count("closed the connection") == 2  # the table row and finding
    assert "Not tried" in human.stdout and "1 of 1 checks failed; 6 not tried" in human.stdout
    _no_raw_errors(result.stdout + human.stdout + human.stderr)


def test_https_to_a_plain_http_port_says_to_use_http(cli):
    with ThreadedServer(build(Behaviour())) as gw:
        https = gw.url.replace("http://", "https://")
        result, data = _json(cli, *_direct(https, "--timeout", "2"))
        seen = len(gw.requests)
    assert result.exit_code == 1
    first = data["steps"][0]
    assert first["problem"].startswith("TLS handshake failed") and "plain HTTP" in \
        first["problem"]
    assert first["fix"] == f"use {gw.url} in the base URL"
    assert all(s["skipped"] for s in data["steps"][1:]) and seen == 0
    _no_raw_errors(result.stdout)


def test_a_stream_cut_midway_is_said_once_for_every_protocol(cli):
    with ThreadedServer(build(Behaviour(cut_stream=True))) as gw:
        result, data = _json(cli, *_direct(gw.url, "--timeout", "2"))
        human = cli(*_direct(gw.url, "--timeout", "2"))
    assert result.exit_code == 1
    steps = _steps(data)
    assert all(steps[n]["ok"] for n in ("GET models", "chat", "responses", "messages"))
    for name in ("chat stream", "responses stream", "messages stream"):
        assert "cut off after 1 event, before its final event" in steps[name]["problem"]
        assert "retry" in steps[name]["fix"] and not steps[name]["skipped"]
    [finding] = data["findings"]  # three steps, one problem
    assert finding["steps"] == ["chat stream", "responses stream", "messages stream"]
    lines = [line for line in human.stdout.splitlines() if "cut off after" in line]
    assert [line.split(":")[0] for line in lines if not line.startswith(("│", "┃"))] == [
        "chat stream, responses stream, messages stream"]
    _no_raw_errors(result.stdout + human.stdout)


def test_an_answer_cut_midway(cli):
    with ThreadedServer(build(Behaviour(cut_body=True))) as gw:
        result, data = _json(cli, *_direct(gw.url, "--no-stream", "--protocol", "chat",
                                           "--timeout", "2"))
    chat = _steps(data)["chat"]
    assert result.exit_code == 1 and chat["status"] == 200
    assert chat["problem"] == "the server cut the answer off before it was complete"
    _no_raw_errors(result.stdout)


def test_one_problem_on_every_step_is_one_line(cli):
    with RawServer("status:503") as server:
        result, data = _json(cli, *_direct(server.url, "--timeout", "2"))
        human = cli(*_direct(server.url, "--timeout", "2"))
    assert result.exit_code == 1
    assert [s["name"] for s in data["steps"]] == ALL and not data["stopped"]
    [finding] = data["findings"]
    assert finding["steps"] == ALL and "overloaded or down (503" in finding["problem"]
    said = [line for line in human.stdout.splitlines() if line.startswith("all 7 checks:")]
    assert len(said) == 1 and "overloaded or down" in said[0]
    assert human.stdout.count("fix:") == 1 and "7 of 7 checks failed" in human.stdout


def test_a_hanging_server_ends_the_check_at_the_defaults():
    """Accepts, never answers: one wait of the default timeout, then the verdict."""
    with RawServer("hang") as server:
        done = _run(*_direct(server.url), "--json")  # no --timeout: the defaults
        connections = server.connections
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)["data"]
    first = data["steps"][0]
    assert "accepted the connection but sent no answer within 10 s" in first["problem"]
    assert "--timeout" in first["fix"]
    assert all(s["skipped"] for s in data["steps"][1:]) and connections == 1
    _no_raw_errors(done.stdout + done.stderr)


def test_timeout_sets_the_wait(cli):
    with RawServer("hang") as server:
        result, data = _json(cli, *_direct(server.url, "--timeout", "0.5"))
    assert "no answer within 0.5 s" in data["steps"][0]["problem"]


def test_the_whole_check_has_a_budget():
    """A stream that trickles forever never trips the per-wait timeout; the budget ends it."""
    with ThreadedServer(build(Behaviour(drip_stream=True))) as gw:
        done = _run(*_direct(gw.url, "--protocol", "chat", "--protocol", "messages",
                             "--timeout", "1"), "--json")
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)["data"]
    steps = _steps(data)
    assert steps["GET models"]["ok"] and steps["chat"]["ok"]
    assert "ran out of time (6 s in all)" in steps["chat stream"]["problem"]
    assert "raise --timeout" in steps["chat stream"]["fix"]
    assert steps["messages"]["skipped"] and steps["messages stream"]["skipped"]
    assert "ran out" in data["stopped"]


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_nonsense_timeout_is_a_usage_error(cli, value):
    result = cli("check", "--base-url", "http://127.0.0.1:9", "--timeout", value)
    assert result.exit_code == 2
