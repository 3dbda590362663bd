"""What the proxy refuses before routing, and that every refusal is in the client's shape.

Requests go over raw sockets where the exact bytes matter (paths aiohttp's client would
normalise, a Host it would set itself, a body that never ends).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import socket
import sqlite3

import pytest
from pydantic import ValidationError

from byecore_cli.config.models import ProxySettings, ProxyTimeouts, Settings
from byecore_cli.paths import Paths
from byecore_cli.proxy.app import STATE, create_app
from byecore_cli.proxy.guard import REFUSALS, RefusalBudget
from tests.proxy.conftest import one_provider
from tests.proxy.shapes import minimal, shape_of

PATHS = {"chat": "/v1/chat/completions", "responses": "/v1/responses",
         "messages": "/v1/messages"}


async def send(port: int, head: str, body: bytes = b""):
    """One raw HTTP/1.1 exchange → (status, headers, parsed JSON body or raw bytes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        await writer.drain()
        # read by Content-Length: after a refusal aiohttp may keep the socket a while
        top = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)  # a safety net
        lines = top.decode("latin-1").strip().split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        payload = await reader.readexactly(int(headers.get("Content-Length", 0)))
    finally:
        writer.close()
    try:
        parsed = json.loads(payload)
    except ValueError:
        parsed = payload
    return int(lines[0].split()[1]), headers, parsed


def request(method: str, path: str, port: int, *, body: bytes = b"", headers=None,
            host: str | None = None) -> str:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}",
             "Connection: close", f"Content-Length: {len(body)}",
             *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return "\n".join(lines) + "\n"


@pytest.fixture
def serve(aiohttp_server, local_key):
    """``await serve(settings, open_access=False)`` → (port, app)."""

    async def start(settings: Settings | None = None, *, open_access: bool = False,
                    listen_host: str = "127.0.0.1"):
        app = create_app(settings or Settings(), open_access=open_access,
                         listen_host=listen_host)
        server = await aiohttp_server(app, host=listen_host)
        return server.port, app

    return start


def auth(protocol: str, key: str) -> dict:
    if protocol == "messages":
        return {"x-api-key": key, "anthropic-version": "2023-06-01"}
    return {"Authorization": f"Bearer {key}"}


async def call(port, protocol, raw: bytes, key, path=None, **headers):
    head = request("POST", path or PATHS[protocol], port, body=raw,
                   headers={"Content-Type": "application/json", **auth(protocol, key),
                            **headers})
    return await send(port, head, raw)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# -- bodies -------------------------------------------------------------------------------

@pytest.mark.parametrize("protocol", list(PATHS))
async def test_json_nested_a_thousand_deep_is_a_400_in_shape(serve, local_key, protocol):
    port, _ = await serve()
    body = json.dumps(minimal(protocol))[:-1] + f', "metadata": {nested(1000)}}}'
    status, _, answer = await call(port, protocol, body.encode(), local_key)
    assert status == 400, answer
    assert shape_of(answer) == ("anthropic" if protocol == "messages" else "openai")
    assert "deeper than" in answer["error"]["message"]


async def test_count_tokens_refuses_deep_bodies_but_counts_reasonable_ones(serve, local_key):
    port, _ = await serve()
    path = "/v1/messages/count_tokens"
    deep = '{"model": "demo", "messages": [{"role": "user", "content": "hi"}], ' \
           f'"tools": [{{"name": "t", "input_schema": {{"x": {nested(700)}}}}}]}}'
    status, _, answer = await call(port, "messages", deep.encode(), local_key, path)
    assert status == 400 and shape_of(answer) == "anthropic", answer
    # a tool schema a few dozen levels deep is normal, and brackets inside strings are text
    schema: dict = {"type": "string"}
    for _ in range(40):
        schema = {"type": "object", "properties": {"x": schema}}
    fine = {"model": "demo", "messages": [{"role": "user", "content": "[" * 500 + "}" * 500}],
            "tools": [{"name": "t", "input_schema": schema}]}
    status, _, answer = await call(port, "messages", json.dumps(fine).encode(), local_key, path)
    assert status == 200 and answer["input_tokens"] > 0


@pytest.mark.parametrize("protocol", list(PATHS))
async def test_a_lone_surrogate_is_a_400_naming_it(fake, serve, local_key, protocol):
    # translated to another protocol, so the text is encoded again on the way up
    other = "messages" if protocol != "messages" else "chat"
    port, _ = await serve(one_provider(fake, other))
    good = json.dumps(minimal(protocol, "up-model"))
    raw = good.replace('"hi"', '"hi \\ud800 there"').encode()
    status, _, answer = await call(port, protocol, raw, local_key)
    assert status == 400, answer
    assert "surrogate" in answer["error"]["message"]
    assert fake.requests == []
    # a surrogate pair, as clients that escape everything send an emoji, is fine
    raw = good.replace('"hi"', '"hi \\ud83d\\ude00"').encode()
    status, _, answer = await call(port, protocol, raw, local_key)
    assert status == 200, answer


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_body_that_is_not_compressed_as_declared_is_a_400(serve, local_key, encoding):
    port, _ = await serve()
    raw = json.dumps(minimal("messages")).encode()
    status, _, answer = await call(port, "messages", raw, local_key,
                                   **{"Content-Encoding": encoding})
    assert status == 400 and shape_of(answer) == "anthropic", answer
    assert encoding in answer["error"]["message"]
    # compressed as declared, it works
    packed = gzip.compress(raw) if encoding == "gzip" else __import__("zlib").compress(raw)
    status, _, answer = await call(port, "messages", packed, local_key,
                                   **{"Content-Encoding": encoding})
    assert status == 200, answer


# -- paths and methods --------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "status", "shape", "hint"), [
    ("POST", "/v1/messages/", 404, "anthropic", "POST /v1/messages"),
    ("POST", "//v1/messages", 404, "anthropic", "POST /v1/messages"),
    ("POST", "/V1/messages", 404, "anthropic", "POST /v1/messages"),
    ("POST", "/v1/Chat/Completions", 404, "openai", "POST /v1/chat/completions"),
    ("GET", "/v1/messages", 405, "anthropic", "use POST"),
    ("GET", "/v1/chat/completions", 405, "openai", "use POST"),
    ("POST", "/v1/models", 405, "openai", "use GET"),
    ("DELETE", "/responses", 405, "openai", "use"),
    ("GET", "/wp-login.php", 404, "openai", "/v1/chat/completions"),
    ("POST", "/v2/messages", 404, "anthropic", "/v1/messages"),
])
async def test_unknown_paths_and_wrong_methods_answer_json_with_a_hint(
        serve, local_key, method, path, status, shape, hint):
    port, _ = await serve()
    head = request(method, path, port, headers={"Authorization": f"Bearer {local_key}"})
    got, headers, answer = await send(port, head)
    assert got == status, answer
    assert headers["Content-Type"].startswith("application/json")
    assert shape_of(answer) == shape and hint in answer["error"]["message"]
    if status == 405:
        assert headers["Allow"]


# -- a body that never finishes -------------------------------------------------------------

@pytest.mark.parametrize("framing", ["short content-length", "chunked without end"])
async def test_a_body_that_never_finishes_times_out_with_408(serve, local_key, framing):
    settings = Settings(proxy=ProxySettings(timeouts=ProxyTimeouts(client_body=0.3)))
    port, _ = await serve(settings)
    start = json.dumps(minimal("messages")).encode()[:20]
    if framing == "chunked without end":
        framing_header, body = "Transfer-Encoding: chunked", b"%x\r\n%s\r\n" % (len(start), start)
    else:
        framing_header, body = "Content-Length: 5000", start
    head = (f"POST /v1/messages HTTP/1.1\nHost: 127.0.0.1:{port}\n{framing_header}\n"
            f"Content-Type: application/json\nx-api-key: {local_key}\n")
    status, _, answer = await send(port, head, body)
    assert status == 408 and shape_of(answer) == "anthropic", answer
    assert "client_body" in answer["error"]["message"]


# -- exposure: Host and Origin -----------------------------------------------------------

@pytest.mark.parametrize("open_access", [False, True])
async def test_a_foreign_host_is_refused_with_the_setting_to_add(serve, local_key, open_access):
    port, _ = await serve(open_access=open_access)
    raw = json.dumps(minimal("messages")).encode()
    for path, shape in (("/v1/messages", "anthropic"), ("/v1/chat/completions", "openai"),
                        ("/health", "openai")):
        health = path == "/health"  # no key: the OpenAI shape, the default
        head = request("GET" if health else "POST", path, port, body=b"" if health else raw,
                       host="rebound.attacker.example:4000",
                       headers={} if health else {"x-api-key": local_key})
        status, _, answer = await send(port, head, b"" if health else raw)
        assert status == 403 and shape_of(answer) == shape, answer
        assert "allowed_hosts" in answer["error"]["message"]
        assert "rebound.attacker.example" in answer["error"]["message"]


async def test_loopback_unspecified_and_allowed_hosts_are_served(serve, local_key):
    settings = Settings(proxy=ProxySettings(allowed_hosts=["proxy.internal"]))
    port, _ = await serve(settings)
    raw = json.dumps(minimal("chat")).encode()
    hosts = ["localhost", "LOCALHOST:4000", "127.0.0.1", "127.0.0.9:1", "[::1]:4000",
             "proxy.internal", "Proxy.Internal:8080",
             "0.0.0.0", f"0.0.0.0:{port}", "[::]:4000"]  # as copied from "listening on"
    for host in hosts:
        head = request("POST", "/v1/chat/completions", port, body=raw, host=host,
                       headers={"Authorization": f"Bearer {local_key}"})
        status, _, answer = await send(port, head, raw)
        assert status == 200, (host, answer)


def test_the_address_a_connection_came_in_on_is_its_own_host():
    from byecore_cli.proxy.guard import host_allowed, own_names

    names = own_names()
    assert host_allowed("192.0.2.7", "192.0.2.7:4000", "192.0.2.7", names, [])
    assert not host_allowed("192.0.2.8", "192.0.2.8:4000", "192.0.2.7", names, [])
    assert host_allowed("fe80::1", "[fe80::1]:4000", "fe80::1%eth0", names, [])
    assert not host_allowed("example.com", "example.com", "192.0.2.7", names, [])
    assert host_allowed("example.com", "example.com:4000", None, names, ["example.com:4000"])


def own_hosts(port: int) -> list[str]:
    name = socket.gethostname().lower()
    return [name, f"{name.partition('.')[0]}.local:{port}"]


@pytest.mark.parametrize("open_access", [False, True])
async def test_on_loopback_the_machines_own_names_are_refused(serve, local_key, open_access):
    """A LAN attacker can answer mDNS for "<hostname>.local" with 127.0.0.1: a page of
    theirs then sends that name as Host, and its own origin as Origin."""
    port, _ = await serve(open_access=open_access)
    for host in own_hosts(port):
        head = request("GET", "/v1/models", port, host=host,
                       headers={"Origin": f"http://{host}",
                                "Authorization": f"Bearer {local_key}"})
        status, _, answer = await send(port, head)
        assert status == 403 and shape_of(answer) == "openai", (host, answer)
        assert "allowed_hosts" in answer["error"]["message"]


async def test_own_names_are_served_when_listening_beyond_loopback(serve, local_key):
    port, _ = await serve(listen_host="0.0.0.0")
    for host in own_hosts(port):
        head = request("GET", "/v1/models", port, host=host,
                       headers={"Authorization": f"Bearer {local_key}"})
        status, _, answer = await send(port, head)
        assert status == 200, (host, answer)


async def test_a_lan_address_of_this_machine_works_when_listening_everywhere(
        serve, local_key):
    """``--host 0.0.0.0``: what a LAN user types, the machine's address, is served."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        except OSError as exc:
            pytest.skip(f"this machine has no default route, so no LAN address ({exc})")
        address = probe.getsockname()[0]
    port, _ = await serve(listen_host="0.0.0.0")
    head = request("GET", "/v1/models", port, host=f"{address}:{port}",
                   headers={"Authorization": f"Bearer {local_key}"})
    reader, writer = await asyncio.open_connection(address, port)
    writer.write(head.replace("\n", "\r\n").encode() + b"\r\n")
    data = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    assert data.startswith(b"HTTP/1.1 200"), data[:300]


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://evil.example:4000",
                                    "chrome-extension://abcdef"])
async def test_a_foreign_origin_is_refused_even_with_a_valid_key(serve, local_key, origin):
    port, _ = await serve()
    raw = json.dumps(minimal("chat")).encode()
    # the simple cross-origin POST a page can send without a preflight
    status, _, answer = await call(port, "chat", raw, local_key, Origin=origin,
                                   **{"Content-Type": "text/plain"})
    assert status == 403 and shape_of(answer) == "openai", answer
    status, _, answer = await call(port, "messages", json.dumps(minimal("messages")).encode(),
                                   local_key, Origin=origin)
    assert status == 403 and shape_of(answer) == "anthropic", answer


async def test_loopback_origins_are_served(serve, local_key):
    port, _ = await serve()
    raw = json.dumps(minimal("chat")).encode()
    for origin in ("http://localhost:3000", "http://127.0.0.1:5173", "http://[::1]",
                   "http://0.0.0.0:5173"):
        status, _, answer = await call(port, "chat", raw, local_key, Origin=origin)
        assert status == 200, (origin, answer)


async def test_an_origin_in_allowed_origins_is_served_only_as_written(serve, local_key):
    settings = Settings(proxy=ProxySettings(allowed_origins=[
        "vscode-webview://1a2b3c", "HTTPS://App.Example:8443", "http://tool.example:80"]))
    port, _ = await serve(settings)
    raw = json.dumps(minimal("chat")).encode()
    for origin in ("vscode-webview://1a2b3c", "https://app.example:8443",
                   "http://tool.example"):
        status, _, answer = await call(port, "chat", raw, local_key, Origin=origin)
        assert status == 200, (origin, answer)
    for origin in ("vscode-webview://1a2b3c4", "vscode-file://1a2b3c", "https://app.example",
                   "http://app.example:8443", "https://tool.example", "null"):
        status, _, answer = await call(port, "chat", raw, local_key, Origin=origin)
        assert status == 403 and shape_of(answer) == "openai", (origin, answer)


@pytest.mark.parametrize("origin", ["vscode-webview://abc", "app://obsidian.md"])
async def test_a_refused_origin_names_the_setting_that_allows_it(serve, local_key, origin):
    port, _ = await serve()
    raw = json.dumps(minimal("messages")).encode()
    status, _, answer = await call(port, "messages", raw, local_key, Origin=origin)
    assert status == 403 and shape_of(answer) == "anthropic", answer
    assert f'allowed_origins = ["{origin}"]' in answer["error"]["message"]


@pytest.mark.parametrize("entry", ["null", "http://localhost:3000/", "https://*.example.com",
                                   "localhost:3000", "vscode-webview://", "*",
                                   "http://user@example.com"])
def test_allowed_origins_takes_only_exact_origins(entry):
    with pytest.raises(ValidationError, match="allowed_origins") as caught:
        ProxySettings(allowed_origins=[entry])
    assert ("any web page" if entry == "null" else "scheme://host") in str(caught.value)


async def test_health_says_only_that_it_is_alive(fake, serve):
    port, _ = await serve(one_provider(fake, "chat"))
    status, _, answer = await send(port, request("GET", "/health", port))
    assert status == 200 and answer == {"status": "ok", "service": "byecore proxy"}
    assert "up" not in json.dumps(answer)


# -- the usage log ----------------------------------------------------------------------------

async def test_requests_refused_before_routing_are_in_the_usage_log(serve, local_key):
    port, app = await serve(Settings(proxy=ProxySettings(max_body_mb=0.01)))
    raw = json.dumps(minimal("messages")).encode()
    big = json.dumps(minimal("messages") | {"system": "x" * 20000}).encode()
    await call(port, "messages", raw, "bc-local-wrong")                    # 401, unknown
    await call(port, "messages", b"{", local_key)                         # 400, tests
    await call(port, "messages", raw, local_key, Origin="https://evil.example")  # 403
    await send(port, request("POST", "/v1/messages/", port, body=raw,
                             headers={"x-api-key": local_key}), raw)      # 404, tests
    await send(port, request("GET", "/v1/messages", port))                # 405, unknown
    await call(port, "messages", big, local_key)                          # 413, tests
    assert app[STATE].usage.flush()
    db = sqlite3.connect(Paths.current().usage_db)
    rows = db.execute("SELECT client, inbound, status FROM requests ORDER BY id").fetchall()
    db.close()
    assert rows == [("unknown", "messages", 401), ("tests", "messages", 400),
                    ("tests", "messages", 403), ("tests", "messages", 404),
                    ("unknown", "messages", 405), ("tests", "messages", 413)]


def usage_rows(app) -> list[tuple]:
    assert app[STATE].usage.flush()
    db = sqlite3.connect(Paths.current().usage_db)
    try:
        return db.execute("SELECT client, status FROM requests ORDER BY id").fetchall()
    finally:
        db.close()


async def test_a_flood_of_refusals_is_thinned_in_the_usage_log(serve, local_key, caplog):
    """Any web page can POST to loopback in a loop: usage.db must not grow with it."""
    port, app = await serve()
    now = [1000.0]  # the budget's clock, moved by hand: the test does not depend on speed
    app[STATE].extra[REFUSALS] = RefusalBudget(rate=5, burst=20, interval=60,
                                               clock=lambda: now[0])
    raw = json.dumps(minimal("chat")).encode()
    caplog.set_level(logging.WARNING, "byecore.proxy")
    for _ in range(100):
        await call(port, "chat", raw, local_key, Origin="https://evil.example")
    for _ in range(30):
        await call(port, "chat", raw, "bc-local-wrong")
    assert usage_rows(app) == [("tests", 403)] * 20 + [("unknown", 401)] * 20
    said = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    assert len(said) == 2 and "left out 1 refused requests (client tests, HTTP 403)" in said[0]
    assert "(client unknown, HTTP 401)" in said[1]
    now[0] += 1.0  # a second later, five more rows of each kind are allowed
    for _ in range(8):
        await call(port, "chat", raw, local_key, Origin="https://evil.example")
    assert usage_rows(app)[40:] == [("tests", 403)] * 5
    now[0] += 60.0  # the count of those left out since is said once the interval is over
    await call(port, "chat", raw, local_key, Origin="https://evil.example")
    said = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    assert "left out 82 refused requests (client tests, HTTP 403)" in said[-1]
    assert usage_rows(app)[45:] == [("tests", 403)]
