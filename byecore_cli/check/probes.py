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

from byecore_cli import codecs
from byecore_cli.check import diagnose
from byecore_cli.codecs.base import CodecError, UpstreamFault
from byecore_cli.codecs.sse import SSEDecoder
from byecore_cli.hub import Message, MessageStop, Request, StreamError, Text
from byecore_cli.providers.endpoints import (
    DEFAULT_PREFIXES,
    PREFIX_FIELDS,
    PREFIX_GUESSES,
    endpoint_url,
)
from byecore_cli.providers.keys import redact

PROMPT = "Reply with the single word: pong"
IMAGE_PROMPT = "a plain blue square"
IMAGE_WAIT = 120.0  # at least, for the one image: models take tens of seconds to draw
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
    prefixes: dict[str, str] = field(default_factory=dict)  # per wire base; see endpoints
    fix_key: str = "check the key"
    # the Images API probe (opt-in: it costs money): a model, its cheapest size and price
    image_model: str | None = None
    image_size: str | None = None
    image_price: float | None = None

    def url(self, protocol: str, *, stream: bool = False, models: bool = False,
            prefixes: dict[str, str] | None = None) -> str:
        return endpoint_url(self.base_url, protocol, model=self.model, stream=stream,
                            models=models, prefixes={**self.prefixes, **(prefixes or {})})


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
    return {"content-type": "application/json",
            **codecs.wire(protocol).auth_headers(target.key)}


def _request(protocol: str, model: str, stream: bool) -> Request:
    return Request(model=model, messages=[Message("user", [Text(PROMPT)])], max_tokens=16,
                   stream=stream)


def _body(protocol: str, model: str, stream: bool) -> dict:
    """The probe's request, written by the protocol's own codec."""
    return codecs.get(protocol).encode_request(_request(protocol, model, stream))


def _shape_problem(protocol: str, payload: object) -> str | None:
    """Why ``payload`` is not an answer of ``protocol`` (its codec's reading), or None."""
    if not isinstance(payload, dict):
        return "not a JSON object"
    keys = codecs.wire(protocol).answer_keys
    if not any(key in payload for key in keys):
        return "it has no " + " or ".join(repr(key) for key in keys)
    try:
        codecs.get(protocol).decode_response(payload, _request(protocol, "", False))
    except (UpstreamFault, CodecError) as exc:
        return exc.message
    return None


class _StreamEnd:
    """Whether a stream reached its final event, read by the protocol's own decoder."""

    def __init__(self, protocol: str) -> None:
        self.decoder = codecs.get(protocol).stream_decoder(_request(protocol, "", True))
        self.done = False
        self.error: str | None = None  # an error event, or an event the codec refused

    def feed(self, event) -> None:
        self._take(lambda: self.decoder.feed(event))

    def close(self) -> None:
        """The stream closed: a decoder that still ends it (Chat without ``[DONE]``)
        counts; the error it reports for a stream cut short does not (not done)."""
        if not (self.done or self.error):
            self._take(self.decoder.flush, closing=True)

    def _take(self, step, closing: bool = False) -> None:
        try:
            events = step()
        except (UpstreamFault, CodecError) as exc:
            self.error = self.error or f"an event is not valid: {exc.message}"
            return
        for event in events:
            if isinstance(event, StreamError) and not closing:
                self.error = self.error or event.error.message
            elif isinstance(event, MessageStop):
                self.done = True


class Prober:
    def __init__(self, target: Target, session: aiohttp.ClientSession, timeout: float) -> None:
        self.target = target
        self.session = session
        self.timeout = timeout
        self.served: list[str] | None = None
        self.answered = False  # the host has sent at least one HTTP answer
        self.silent = 0  # steps in a row that got no answer at all

    def _listing(self) -> str:
        """The protocol whose model list is asked: an OpenAI one when checked, else the
        first (as ``byecore models`` does)."""
        return next((p for p in self.target.protocols if codecs.wire(p).base == "openai"),
                    self.target.protocols[0])

    def models_step(self) -> Step:
        return Step("GET models", self.target.url(self._listing(), models=True))

    def call_step(self, protocol: str, stream: bool) -> Step:
        return Step(f"{protocol}{' stream' if stream else ''}",
                    self.target.url(protocol, stream=stream))

    async def models(self, step: Step) -> Step:
        t = self.target
        protocol = self._listing()
        got = await self._send("GET", step, protocol)
        if got is None:
            return step
        try:
            self.served = [m["id"] for m in codecs.wire(protocol).models_in(json.loads(got))]
        except ValueError:
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
        step.url = t.url(protocol, stream=stream)  # the model may be known only now
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
        problem = _shape_problem(protocol, payload)
        if problem is not None:
            return self._fail(step, f"the answer is not a valid {codecs.wire(protocol).title} "
                              f"answer ({problem}): {diagnose.error_message(got)}",
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
        decoder, end, events = SSEDecoder(), _StreamEnd(protocol), 0
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
                        end.feed(event)
                for event in decoder.flush():
                    end.feed(event)
                end.close()
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
        if end.error:
            return self._fail(step, f"the stream ended with an error: {end.error}",
                              "see the message; the request itself was accepted")
        if not end.done:
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
        """Try the other usual prefixes of the failing URL's base and say which answers."""
        t = self.target
        base = codecs.wire(protocol).base
        current = t.prefixes.get(base, DEFAULT_PREFIXES[base])
        field_name = PREFIX_FIELDS[base]
        for prefix in (p for p in PREFIX_GUESSES[base] if p != current):
            url = t.url(protocol, models=method == "GET", prefixes={base: prefix})
            try:
                async with self.session.request(
                    method, url, json=None if method == "GET" else _body(protocol, t.model, False),
                    headers=_headers(t, protocol),
                ) as resp:
                    if resp.status != 404:
                        return (f"the API answers at {url} ({resp.status}): the right base is "
                                f"{t.base_url + prefix} — set {field_name} = \"{prefix}\" for "
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


class ImageProbe:
    """One image at the cheapest size (n=1) from ``{openai base}/images/generations``,
    checked to be an image; asked only with ``check --images``, since it is billed."""

    def __init__(self, prober: Prober) -> None:
        self.prober, self.target = prober, prober.target

    def step(self) -> Step:
        t = self.target
        base = t.base_url + t.prefixes.get("openai", DEFAULT_PREFIXES["openai"])
        return Step(f"images ({t.image_model}, {t.image_size})", base + "/images/generations")

    async def run(self, step: Step) -> Step:
        from byecore_cli.images import formats
        from byecore_cli.images.catalog import price_text

        t, prober = self.target, self.prober
        body = {"model": t.image_model, "prompt": IMAGE_PROMPT, "size": t.image_size, "n": 1}
        wait = max(prober.timeout, IMAGE_WAIT)
        start = time.perf_counter()
        try:
            async with prober.session.post(
                    step.url, json=body, headers=_headers(t, "chat"),
                    timeout=aiohttp.ClientTimeout(total=None, sock_read=wait,
                                                  connect=min(wait, CONNECT_TIMEOUT))) as resp:
                step.status = resp.status
                prober.answered, prober.silent = True, 0
                raw = await resp.read()
                retry_after = resp.headers.get("Retry-After")
        except Exception as exc:
            step.latency_ms = (time.perf_counter() - start) * 1000
            return prober._connection_failed(step, exc)
        step.latency_ms = (time.perf_counter() - start) * 1000
        if step.status == 404:
            return Prober._fail(step, f"no Images API at {step.url} (404), or no model "
                                f"{t.image_model!r} there: "
                                f"{redact(diagnose.error_message(raw), t.key)}",
                                "leave image_models out of this provider's settings if it "
                                "serves no images, or correct the model's name there")
        if step.status >= 400:
            finding = diagnose.for_status(
                step.status, protocol="chat", key=t.key, model=t.image_model or "",
                message=redact(diagnose.error_message(raw), t.key), retry_after=retry_after,
                fix_key=t.fix_key)
            return Prober._fail(step, finding.problem, finding.fix)
        picture = _first_image(raw)
        if isinstance(picture, str):
            return Prober._fail(step, f"the answer is not an Images API answer ({picture})",
                                "the URL may belong to another API, or a proxy rewrote it")
        cost = f", {price_text(t.image_price)}" if t.image_price is not None else ""
        if picture is None:
            step.ok, step.detail = True, f"1 image as a URL{cost}"
            return step
        kind, size = formats.sniff(picture), formats.dimensions(picture)
        if kind is None:
            return Prober._fail(step, "the image it sent is not a PNG, JPEG, WebP or GIF",
                                "see the provider's documentation for its Images API")
        shown = f"{size[0]}x{size[1]} " if size else ""
        step.ok, step.detail = True, f"1 image, {shown}{kind.upper()}{cost}"
        if size and f"{size[0]}x{size[1]}" != t.image_size:
            step.warning = True
            step.problem = (f"asked for {t.image_size}, got {size[0]}x{size[1]}: the "
                            "provider may bill this as another size")
            step.fix = "compare with its price list; correct image_models in settings.toml"
        return step


def _first_image(raw: bytes) -> bytes | str | None:
    """The first image's bytes, None for a URL answer, or why it is no answer at all."""
    import base64
    import binascii

    try:
        payload = json.loads(raw)
    except ValueError:
        return "not JSON"
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list) or not data or not isinstance(data[0], dict):
        return "it has no 'data' list of images"
    if isinstance(data[0].get("url"), str) and not data[0].get("b64_json"):
        return None
    try:
        return base64.b64decode(data[0].get("b64_json") or "", validate=True) or "no b64_json"
    except (binascii.Error, ValueError):
        return "its b64_json does not decode"


def _count(events: int) -> str:
    return f"{events} event{'' if events == 1 else 's'}"


async def run_checks(target: Target, *, streams: bool, timeout: float,
                     on_step: Callable[[Step], None] | None = None,
                     images: bool = False) -> Report:
    """``images``: also make one image (``target.image_model``), which is billed."""
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
        if images and target.image_model:
            image_probe = ImageProbe(prober)
            plan.append((image_probe.step(), image_probe.run))
        for index, (step, probe) in enumerate(plan):
            if report.stopped:
                step.skipped = True
                record(step)
                continue
            left = deadline - time.monotonic()
            if step.name.startswith("images ("):  # one image takes longer than a reply
                left = max(left, IMAGE_WAIT + CONNECT_TIMEOUT)
            try:
                await asyncio.wait_for(probe(step), max(0.01, left))
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
