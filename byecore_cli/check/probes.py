"""The probes behind ``byecore check``: one small real request per step.

Each probe fills in a ``Step``; none raises. Steps run one after another so the live
table reads top to bottom, and a step's diagnosis can use what earlier steps learnt
(the served model list, a working path).

The whole check is bounded: each wait (a connection, an answer's first byte, the next
stream event) by ``timeout``, the run by ``BUDGET_FACTOR`` times that, and a host that
is not there (refused, no such name, TLS on a plain port, no answer at all) is asked
once, not once per step. Every network failure becomes a sentence with a fix, never an
aiohttp or SSL message on its own.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from byecore_cli.check import diagnose
from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.providers.endpoints import endpoint_url
from byecore_cli.providers.keys import redact
from byecore_cli.providers.live import ANTHROPIC_VERSION

PROMPT = "Reply with the single word: pong"
BUDGET_FACTOR = 6  # the whole check stops after this many --timeout periods
CONNECT_TIMEOUT = 5.0  # at most, whatever --timeout says: a live host connects fast


@dataclass
class Target:
    """What to check: a root URL with its path prefixes, a key, a model, the protocols."""

    name: str  # a saved provider's name, or the URL when checking one directly
    base_url: str
    key: str | None
    model: str
    protocols: list[str]
    openai_path: str = "/v1"
    anthropic_path: str = ""
    fix_key: str = "check the key"

    def url(self, what: str, openai_path: str | None = None,
            anthropic_path: str | None = None) -> str:
        return endpoint_url(
            self.base_url, what,
            openai_path=self.openai_path if openai_path is None else openai_path,
            anthropic_path=self.anthropic_path if anthropic_path is None else anthropic_path,
        )


@dataclass
class Step:
    name: str
    url: str = ""
    ok: bool = False
    status: int | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    detail: str = ""
    problem: str | None = None
    fix: str | None = None
    warning: bool = False  # passed, but with something to fix
    skipped: bool = False  # not tried: an earlier step found the host gone
    dead: bool = field(default=False, repr=False)  # no use asking this host again

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "dead"}


@dataclass
class Report:
    target: Target
    steps: list[Step] = field(default_factory=list)
    stopped: str | None = None  # why the steps marked skipped were not tried

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    def findings(self) -> list[dict]:
        """Each distinct problem once, with the steps that hit it, in order of first sight."""
        groups: dict[tuple, dict] = {}
        for step in self.steps:
            if step.problem and not step.skipped:
                group = groups.setdefault((step.problem, step.fix, step.ok), {
                    "steps": [], "problem": step.problem, "fix": step.fix,
                    "warning": step.ok})
                group["steps"].append(step.name)
        return list(groups.values())


def _headers(target: Target, protocol: str) -> dict[str, str]:
    headers = {"content-type": "application/json"}
    if protocol == "messages":
        headers["anthropic-version"] = ANTHROPIC_VERSION
        if target.key:
            headers["x-api-key"] = target.key
    elif target.key:
        headers["authorization"] = f"Bearer {target.key}"
    return headers


def _body(protocol: str, model: str, stream: bool) -> dict:
    if protocol == "chat":
        body = {"model": model, "messages": [{"role": "user", "content": PROMPT}],
                "max_tokens": 16, "stream": stream}
        if stream:
            body["stream_options"] = {"include_usage": True}
        return body
    if protocol == "messages":
        return {"model": model, "max_tokens": 16, "stream": stream,
                "messages": [{"role": "user", "content": PROMPT}]}
    return {"model": model, "input": PROMPT, "max_output_tokens": 16, "stream": stream}


def _shape_ok(protocol: str, payload: object) -> bool:
    if not isinstance(payload, dict):
        return False
    if protocol == "chat":
        choices = payload.get("choices")
        return isinstance(choices, list) and bool(choices) and "message" in choices[0]
    if protocol == "messages":
        return payload.get("type") == "message" and isinstance(payload.get("content"), list)
    return payload.get("object") == "response" and isinstance(payload.get("output"), list)


def _final_event_seen(protocol: str, event: str | None, data: str) -> bool:
    if protocol == "chat":
        return data.strip() == "[DONE]"
    if protocol == "messages":
        return event == "message_stop" or '"type":"message_stop"' in data.replace(" ", "")
    return event == "response.completed" or '"response.completed"' in data


class Prober:
    def __init__(self, target: Target, session: aiohttp.ClientSession, timeout: float) -> None:
        self.target = target
        self.session = session
        self.timeout = timeout
        self.served: list[str] | None = None
        self.answered = False  # the host has sent at least one HTTP answer
        self.silent = 0  # steps in a row that got no answer at all

    def _anthropic_only(self) -> bool:
        return "chat" not in self.target.protocols and "responses" not in self.target.protocols

    def models_step(self) -> Step:
        return Step("GET models", self.target.url(
            "anthropic-models" if self._anthropic_only() else "models"))

    def call_step(self, protocol: str, stream: bool) -> Step:
        return Step(f"{protocol}{' stream' if stream else ''}", self.target.url(protocol))

    async def models(self, step: Step) -> Step:
        t = self.target
        protocol = "messages" if self._anthropic_only() else "chat"
        got = await self._send("GET", step, protocol)
        if got is None:
            return step
        try:
            self.served = [m["id"] for m in json.loads(got)["data"]]
        except (ValueError, KeyError, TypeError):
            return self._fail(step, "the answer is not a model list",
                              "the base URL may point at a website, not the API")
        step.ok = True
        step.detail = f"{len(self.served)} models"
        if t.model and t.model not in self.served:
            finding = diagnose.unlisted_model(t.model, self.served)
            step.warning, step.problem, step.fix = True, finding.problem, finding.fix
        return step

    async def call(self, step: Step, protocol: str, stream: bool) -> Step:
        t = self.target
        body = _body(protocol, t.model, stream)
        if stream:
            return await self._stream(step, protocol, body)
        got = await self._send("POST", step, protocol, body)
        if got is None:
            return step
        try:
            payload = json.loads(got)
        except ValueError:
            payload = None
        if not _shape_ok(protocol, payload):
            return self._fail(step, f"the answer is not a {protocol} response: "
                              f"{diagnose.error_message(got)}",
                              "the URL may belong to another API, or a proxy rewrote the body")
        step.ok, step.detail = True, "answered"
        return step

    async def _send(self, method: str, step: Step, protocol: str,
                    body: dict | None = None) -> bytes | None:
        start = time.perf_counter()
        try:
            async with self.session.request(method, step.url, json=body,
                                            headers=_headers(self.target, protocol)) as resp:
                step.status = resp.status
                self.answered, self.silent = True, 0
                raw = await resp.read()
                retry_after = resp.headers.get("Retry-After")
        except Exception as exc:  # every network failure becomes a finding, never a crash
            step.latency_ms = (time.perf_counter() - start) * 1000
            self._connection_failed(step, exc)
            return None
        step.latency_ms = (time.perf_counter() - start) * 1000
        if step.status >= 400:
            await self._http_failed(step, protocol, raw, retry_after, method)
            return None
        return raw

    async def _stream(self, step: Step, protocol: str, body: dict) -> Step:
        start = time.perf_counter()
        decoder, done, events = SSEDecoder(), False, 0
        try:
            async with self.session.post(step.url, json=body,
                                         headers=_headers(self.target, protocol)) as resp:
                step.status = resp.status
                self.answered, self.silent = True, 0
                if resp.status >= 400:
                    raw = await resp.read()
                    step.latency_ms = (time.perf_counter() - start) * 1000
                    await self._http_failed(step, protocol, raw,
                                            resp.headers.get("Retry-After"), "POST")
                    return step
                async for chunk in resp.content.iter_any():
                    for event in decoder.feed(chunk):
                        events += 1
                        if step.ttft_ms is None:
                            step.ttft_ms = (time.perf_counter() - start) * 1000
                        done = done or _final_event_seen(protocol, event.event, event.data)
        except Exception as exc:
            step.latency_ms = (time.perf_counter() - start) * 1000
            if isinstance(exc, asyncio.TimeoutError) and step.status is not None:
                return self._fail(step, f"the stream went silent after {_count(events)} and "
                                  f"never finished (waited {self.timeout:g} s)",
                                  "a proxy or firewall may be buffering or cutting streams; "
                                  "a slow model needs a higher --timeout")
            if isinstance(exc, aiohttp.ClientPayloadError) and step.status is not None:
                return self._fail(step, f"the stream was cut off after {_count(events)}, "
                                  "before its final event",
                                  "retry; if it keeps happening, a proxy, load balancer or "
                                  "the server drops long answers: check its timeouts")
            return self._connection_failed(step, exc)
        step.latency_ms = (time.perf_counter() - start) * 1000
        if not events:
            return self._fail(step, "the stream carried no events",
                              "the server may not support streaming on this path")
        if not done:
            return self._fail(step, "the stream ended without its final event",
                              "the connection was cut, or a proxy truncates streams")
        step.ok, step.detail = True, f"{events} events"
        return step

    async def _http_failed(self, step: Step, protocol: str, raw: bytes,
                           retry_after: str | None, method: str) -> None:
        message = diagnose.error_message(raw)
        key = self.target.key
        message = redact(message, key)
        finding = diagnose.for_status(step.status or 0, protocol=protocol, key=key,
                                      model=self.target.model, message=message,
                                      retry_after=retry_after, fix_key=self.target.fix_key)
        step.problem, step.fix = finding.problem, finding.fix
        if step.status == 404 and "path" in finding.problem:
            found = await self._probe_paths(step, protocol, method)
            if found:
                step.fix = found

    async def _probe_paths(self, step: Step, protocol: str, method: str) -> str | None:
        """Try the other /v1 forms of the failing URL and say which one answers."""
        t = self.target
        what = step.url.removeprefix(t.base_url)
        kind = {"GET": "anthropic-models" if "anthropic" in what else "models"}.get(
            method, protocol)
        if kind in ("messages", "anthropic-models"):
            variants = [("anthropic_path", p) for p in ("", "/v1", "/anthropic")
                        if p != t.anthropic_path]
        else:
            variants = [("openai_path", p) for p in ("/v1", "", "/v1/v1", "/api/v1")
                        if p != t.openai_path]
        for field_name, prefix in variants:
            url = t.url(kind, **{field_name: prefix})
            try:
                async with self.session.request(
                    method, url, json=None if method == "GET" else _body(protocol, t.model, False),
                    headers=_headers(t, "messages" if "anthropic" in kind or kind == "messages"
                                     else "chat"),
                ) as resp:
                    if resp.status != 404:
                        base = t.base_url + prefix
                        return (f"the API answers at {url} ({resp.status}): the right base is "
                                f"{base or t.base_url} — set {field_name} = \"{prefix}\" for "
                                f"this provider in settings.toml, and use that form in clients")
            except Exception:  # a probe that fails says nothing; try the next form
                continue
        return None

    def _connection_failed(self, step: Step, exc: BaseException) -> Step:
        before = step.status is not None  # the answer had begun when it failed
        problem, fix, at_connect = diagnose.network_finding(
            exc, step.url, self.timeout, before, min(self.timeout, CONNECT_TIMEOUT))
        self.silent = 0 if before else self.silent + 1
        # Not there at all, or never answered: asking again for each step only repeats it.
        # One silent step after real answers may be a slow model; two in a row is not.
        step.dead = at_connect or (not before and (not self.answered or self.silent > 1))
        return self._fail(step, problem, fix)

    @staticmethod
    def _fail(step: Step, problem: str, fix: str) -> Step:
        step.ok, step.problem, step.fix = False, problem, fix
        return step


def _count(events: int) -> str:
    return f"{events} event{'' if events == 1 else 's'}"


async def run_checks(target: Target, *, streams: bool, timeout: float,
                     on_step: Callable[[Step], None] | None = None) -> Report:
    report = Report(target)

    def record(step: Step) -> None:
        report.steps.append(step)
        if on_step:
            on_step(step)

    capture = diagnose.proxy_capture(target.base_url)
    if capture:
        record(Step("proxy settings", ok=True, warning=True, problem=capture.problem,
                    fix=capture.fix))
    if target.key is not None and target.key != target.key.strip():
        record(Step("key", ok=False, problem="the key has spaces or line breaks around it",
                    fix=target.fix_key))
        target.key = target.key.strip()
    # sock_read bounds each wait for bytes (the first one too), so a hanging server or
    # stream ends as a finding; the budget bounds the whole run.
    client_timeout = aiohttp.ClientTimeout(total=None, connect=min(timeout, CONNECT_TIMEOUT),
                                           sock_read=timeout)
    budget = timeout * BUDGET_FACTOR
    deadline = time.monotonic() + budget
    async with aiohttp.ClientSession(timeout=client_timeout, trust_env=False) as session:
        prober = Prober(target, session, timeout)
        plan: list[tuple[Step, Callable[[Step], Awaitable[Step]]]] = [
            (prober.models_step(), prober.models)]
        for protocol in target.protocols:
            for stream in (False, True) if streams else (False,):
                plan.append((prober.call_step(protocol, stream),
                             lambda step, p=protocol, s=stream: prober.call(step, p, s)))
        for index, (step, probe) in enumerate(plan):
            if report.stopped:
                step.skipped = True
                record(step)
                continue
            try:
                await asyncio.wait_for(probe(step), max(0.01, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                Prober._fail(step, f"the check ran out of time ({budget:g} s in all) during "
                             "this step", "raise --timeout (the total is "
                             f"{BUDGET_FACTOR} times it) for a slow server")
                report.stopped = f"the check's {budget:g} s ran out"
            if index == 0 and not target.model and prober.served:
                target.model = prober.served[0]  # nothing named: try the first served model
            if step.dead and not report.stopped:
                report.stopped = f"{step.name} got no answer from the host"
            record(step)
    return report
