"""Asking a provider what it serves (``GET …/models``), with failures in plain words.

Imported only by the commands that go online: it pulls in aiohttp.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import aiohttp

from byecore_cli import codecs
from byecore_cli.config.models import Provider
from byecore_cli.errors import UpstreamError, UpstreamUnreachable
from byecore_cli.providers.keys import redact


@dataclass
class ModelList:
    url: str
    models: list[dict]


def listing_protocol(provider: Provider) -> str:
    """Which of the provider's protocols to ask for its models: an OpenAI one when it has
    one (its list names owners), else its first."""
    return next((p for p in provider.protocols if codecs.wire(p).base == "openai"),
                provider.protocols[0])


async def list_models(name: str, provider: Provider, *, timeout: float = 20.0) -> ModelList:
    wire = codecs.wire(listing_protocol(provider))
    url = provider.models_url(wire.name)
    key = provider.resolve_key()
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    try:
        async with aiohttp.ClientSession(timeout=client_timeout) as session, session.get(
            url, headers=wire.auth_headers(provider.resolve_key())
        ) as resp:
            body = await resp.read()
            status, retry_after = resp.status, resp.headers.get("Retry-After")
    except asyncio.TimeoutError:
        raise UpstreamUnreachable(
            f"{name} did not answer within {timeout:g} s ({url})",
            provider=name, hint="check your network, or raise --timeout",
        ) from None
    except aiohttp.ClientConnectorCertificateError:
        raise UpstreamUnreachable(
            f"the TLS certificate of {url} was not accepted",
            provider=name, hint="check the base URL's host name; a corporate proxy may be "
            "intercepting TLS (set SSL_CERT_FILE to its certificate)",
        ) from None
    except aiohttp.ClientConnectorError as exc:
        local = provider.base_url.startswith(("http://localhost", "http://127."))
        raise UpstreamUnreachable(
            f"could not connect to {exc.host}:{exc.port} ({_reason(exc)})",
            provider=name,
            hint="is the local server running?" if local
            else f"check the host in the base URL ({provider.base_url}) and your network",
        ) from None
    except aiohttp.ClientError as exc:
        raise UpstreamUnreachable(
            f"the connection to {url} failed: {redact(str(exc), key)}", provider=name
        ) from None

    if status >= 400:
        raise UpstreamError(
            f"{url} answered {status}: {redact(_error_text(body), key)}",
            status=status, provider=name, hint=_hint(name, provider, status, retry_after),
        )
    try:
        models = wire.models_in(json.loads(body))
    except ValueError:
        raise UpstreamError(
            f"{url} did not answer with a model list (got: {redact(_snippet(body), key)})",
            status=status, provider=name,
            hint="the base URL may point at a website rather than the API; "
            f"see: byecore provider show {name}",
        ) from None
    return ModelList(url=url, models=sorted(models, key=lambda m: m["id"]))


def _reason(exc: aiohttp.ClientConnectorError) -> str:
    errno = getattr(exc.os_error, "errno", None)
    text = str(exc.os_error) if exc.os_error else str(exc)
    if isinstance(exc.os_error, ConnectionRefusedError) or errno == 111:
        return "connection refused: nothing is listening there"
    if "Name or service not known" in text or "nodename nor servname" in text \
            or "Temporary failure in name resolution" in text:
        return "the host name does not resolve"
    if "refused" in text.lower():
        return "connection refused"
    return text


def _error_text(body: bytes) -> str:
    try:
        payload = json.loads(body)
    except ValueError:
        return _snippet(body)
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    if isinstance(error, str):
        return error
    return _snippet(body)


def _snippet(body: bytes, limit: int = 200) -> str:
    text = body.decode("utf-8", "replace").strip().replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def _hint(name: str, provider: Provider, status: int, retry_after: str | None) -> str:
    if status in (401, 403):
        if not provider.resolve_key():
            return (f"no key is set for {name}: "
                    f"byecore provider add {name} --replace --key-stdin")
        return (f"the key was refused: check it is current and complete, then "
                f"byecore provider add {name} --replace --key-stdin")
    if status == 404:
        return (f"no model list at this address: the base URL may have an extra or a missing "
                f"/v1 (stored root: {provider.base_url})")
    if status == 429:
        wait = f" (the provider asks to wait {retry_after} s)" if retry_after else ""
        return f"rate limited or out of quota{wait}; try again later"
    if status >= 500:
        return "the provider is failing on its side; try again later"
    return f"see: byecore provider show {name}"
