"""Thousands of bad requests against a running proxy: only 4xx, always in the right shape.

A seeded generator (the same cases every run) mixes body faults (broken, truncated,
too deep, lone surrogates, bytes that are not UTF-8, bodies not compressed as declared,
wrong types), key faults, foreign Host and Origin headers, and path and method variants
over every endpoint and every path form (``/v1``, none, ``/v1/v1``; the Gemini API's
``/v1beta`` and ``/v1``). Each answer must be a 4xx whose body is the error shape that
path's clients read: Anthropic's ``{"type": "error", "error": {"type", "message"}}``,
OpenAI's ``{"error": {"message", "type", ...}}`` or Gemini's
``{"error": {"code", "message", "status"}}``.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter

import aiohttp
from yarl import URL

from byecore_cli.config.models import Settings
from byecore_cli.proxy.app import create_app
from tests.proxy.shapes import shape_of

CASES = 5000
SEED = 20261202
PREFIXES = ("/v1", "", "/v1/v1")
INFERENCE = {"/chat/completions": "chat", "/responses": "responses",
             "/messages": "messages", "/messages/count_tokens": "messages",
             "/models/demo:generateContent": "gemini",
             "/models/models%2Fdemo:streamGenerateContent?alt=sse": "gemini",
             "/models/demo:countTokens": "gemini"}
GEMINI_PREFIXES = ("/v1beta", "/v1")
WRONG_METHODS = ("GET", "PUT", "DELETE", "PATCH", "OPTIONS")
# Encodings byecore does not decode: refused with a 415 in the client's shape.
UNDECODED_ENCODINGS = ("br", "zstd")


def valid_body(protocol: str, rng: random.Random) -> dict:
    text = rng.choice(["hi", "list the files", "naïve café ☕", "{[(\"quoted\")]}", ""])
    if protocol == "gemini":  # model and stream are in the path
        return {"contents": [{"role": "user", "parts": [{"text": text or "x"}]}]}
    if protocol == "responses":
        return {"model": "demo", "input": [{"role": "user", "content": text or "x"}]}
    body = {"model": "demo", "messages": [{"role": "user", "content": text or "x"}]}
    if protocol == "messages":
        body["max_tokens"] = rng.randint(1, 100)
    if rng.random() < 0.5:
        body["stream"] = rng.random() < 0.5
    return body


def expected_shape(path: str, headers: dict) -> str:
    """The shape a client of that path reads; a shared path follows the client's headers."""
    lower = path.lower()
    if lower.startswith("/v1beta") or ("/models/" in lower and ":" in lower):
        return "gemini"
    if "messages" in lower:
        return "anthropic"
    if "chat" in lower or "responses" in lower:
        return "openai"
    if "x-goog-api-key" in headers:
        return "gemini"
    if "anthropic-version" in headers or ("x-api-key" in headers
                                          and "Authorization" not in headers):
        return "anthropic"
    return "openai"


def _nested(rng: random.Random, depth: int) -> str:
    opens, closes = [], []
    for _ in range(depth):
        if rng.random() < 0.5:
            opens.append("[")
            closes.append("]")
        else:
            opens.append('{"k":')
            closes.append("}")
    return "".join(opens) + "1" + "".join(reversed(closes))


def bad_body(protocol: str, rng: random.Random) -> tuple[str, bytes, dict]:
    """(fault name, body bytes, extra headers): a body no endpoint may accept."""
    good = valid_body(protocol, rng)
    raw = json.dumps(good, ensure_ascii=rng.random() < 0.5)
    anchor = '"text"' if protocol == "gemini" else '"demo"'  # a string to break inside
    fault = rng.choice(["truncated", "flipped", "not an object", "model", "stream", "deep",
                        "surrogate", "not utf-8", "encoding", "empty"])
    if fault == "truncated":
        return fault, raw[:rng.randrange(len(raw) - 1)].encode(), {}
    if fault == "flipped":
        for _ in range(20):
            data = bytearray(raw.encode())
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.choice(b'{}[]":,\\\x00')
            try:
                json.loads(bytes(data))
            except ValueError:
                return fault, bytes(data), {}
        return "truncated", raw[:-1].encode(), {}
    if fault == "not an object":
        return fault, json.dumps(rng.choice([[], [good], 1, "x", None, True, 1.5])).encode(), {}
    if fault in ("model", "stream") and protocol == "gemini":  # both come from the path
        if fault == "model":
            good["contents"] = rng.choice([None, 5, "", {}, True, [5], ["x"], [{"parts": 5}]])
        else:
            good["generationConfig"] = rng.choice(["yes", 5, [], {"temperature": "hot"}])
        return fault, json.dumps(good).encode(), {}
    if fault == "model":
        good["model"] = rng.choice([None, 5, "", "   ", [], {}, True, ["demo"]])
        if rng.random() < 0.3:
            del good["model"]
        return fault, json.dumps(good).encode(), {}
    if fault == "stream":
        good["stream"] = rng.choice(["yes", "true", 1, 0, [], {}, "false"])
        return fault, json.dumps(good).encode(), {}
    if fault == "deep":
        deep = _nested(rng, rng.randint(129, 4000))
        return fault, (raw[:-1] + f', "metadata": {deep}}}').encode(), {}
    if fault == "surrogate":
        lone = rng.choice(["\\ud800", "\\udbff", "\\udc00", "\\uDFFF", "\\ud83d x",
                           "\\ude00\\ud83d"])
        at = raw.index(anchor) + 1 if rng.random() < 0.3 else raw.rindex('"') - 1
        if rng.random() < 0.5 and '"messages"' in raw:
            at = raw.index('"content": "') + len('"content": "')
        return fault, (raw[:at] + lone + raw[at:]).encode(), {}
    if fault == "not utf-8":
        at = raw.index(anchor) + 2
        data = raw.encode()
        return fault, data[:at] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80"]) + data[at:], {}
    if fault == "encoding":
        encoding = rng.choice(["gzip", "deflate", *UNDECODED_ENCODINGS])
        return fault, raw.encode(), {"Content-Encoding": encoding}
    return fault, b"", {}


def key_headers(protocol: str, key: str, rng: random.Random) -> dict:
    if protocol == "gemini" and rng.random() < 0.7:
        return {"x-goog-api-key": key}
    if protocol == "messages" and rng.random() < 0.7:
        return {"x-api-key": key, "anthropic-version": "2023-06-01"}
    return {"Authorization": f"Bearer {key}"}


def generate(rng: random.Random, key: str, port: int):
    """One case: (kind, method, path, headers, body)."""
    endpoint = rng.choice(list(INFERENCE))
    protocol = INFERENCE[endpoint]
    prefixes = GEMINI_PREFIXES if protocol == "gemini" else PREFIXES
    path = rng.choice(prefixes) + endpoint
    headers = {"Content-Type": "application/json", **key_headers(protocol, key, rng)}
    kind = rng.choice(["body"] * 5 + ["key", "host", "origin", "path", "method"])
    body = json.dumps(valid_body(protocol, rng)).encode()
    if kind == "body":
        kind, body, extra = bad_body(protocol, rng)
        headers.update(extra)
    elif kind == "key":
        headers.pop("Authorization", None)
        headers.pop("x-api-key", None)
        headers.pop("x-goog-api-key", None)
        headers.update(rng.choice([{}, {"Authorization": "Bearer bc-local-wrong"},
                                   {"Authorization": key}, {"Authorization": "Bearer "},
                                   {"x-api-key": key[:-1]}, {"Authorization": f"Basic {key}"},
                                   {"X-Api-Key": "nope"}, {"x-goog-api-key": key[1:]}]))
        if rng.random() < 0.3:  # and a bad body too: the key is checked first
            body = bad_body(protocol, rng)[1]
    elif kind == "host":
        headers["Host"] = rng.choice(["evil.example", f"evil.example:{port}", "10.9.8.7",
                                      "localhost.evil.example", "127.0.0.1.nip.io",
                                      "[2001:db8::1]:4000", "xn--80ak6aa92e.com"])
    elif kind == "origin":
        headers["Origin"] = rng.choice(["https://evil.example", "null", "file://",
                                        "http://192.0.2.99:4000", "https://localhost.evil.com",
                                        "chrome-extension://abc", "http://[2001:db8::1]"])
        if rng.random() < 0.5:
            headers["Content-Type"] = "text/plain"
    elif kind == "path":
        variants = [
            path + "/", "/" + path, path.upper(), path.replace("v1", "V1"), path + "//",
            path.replace("/", "//"), "/v2" + endpoint, path + "/extra",
            "/" + "".join(rng.choice("abcxyz/._-%20") for _ in range(rng.randint(1, 30))),
            "/v1/models/" + rng.choice(["x", "demo", ""]) + "/", "/api/v1" + endpoint,
        ]
        path = rng.choice([v for v in variants if v != path])
    else:
        method = rng.choice(WRONG_METHODS)
        path = rng.choice([path, rng.choice(PREFIXES) + "/models", "/health", "/",
                           "/v1beta/models"])
        if path.endswith("/models") or path in ("/health", "/"):
            method = rng.choice(["POST", "PUT", "DELETE"])
        return kind, method, path, headers, body
    return kind, "POST", path, headers, body


async def test_thousands_of_bad_requests_get_only_4xx_in_the_right_shape(
        aiohttp_server, local_key):
    server = await aiohttp_server(create_app(Settings()))  # the demo provider: decodes all
    rng = random.Random(SEED)
    cases = [generate(rng, local_key, server.port) for _ in range(CASES)]
    statuses: Counter = Counter()
    kinds: Counter = Counter()
    failures: list = []
    gate = asyncio.Semaphore(8)

    async def one(session, kind, method, path, headers, body):
        url = URL(f"http://127.0.0.1:{server.port}{path}", encoded=True)
        async with gate, session.request(method, url, data=body, headers=headers,
                                         skip_auto_headers=("Content-Type",)) as resp:
            payload = await resp.read()
        statuses[resp.status] += 1
        kinds[kind] += 1
        try:
            parsed = json.loads(payload)
        except ValueError:
            parsed = None
        want = expected_shape(path, headers)
        ok = 400 <= resp.status < 500 and shape_of(parsed) == want
        if not ok:
            failures.append((kind, method, path, headers.get("Host"), resp.status,
                             want, payload[:300], body[:120]))

    connector = aiohttp.TCPConnector(limit=8, force_close=False)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:
        await asyncio.gather(*(one(session, *case) for case in cases))
    print(f"\n{len(cases)} bad requests; statuses {dict(sorted(statuses.items()))}; "
          f"kinds {dict(sorted(kinds.items()))}")
    assert sum(statuses.values()) == CASES
    assert failures == [], failures[:10]
