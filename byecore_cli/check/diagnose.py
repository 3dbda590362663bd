"""Turning a failed probe into what is wrong and the exact fix, in plain words.

Pure functions over what a probe saw (status, body, exception, URL); no I/O, so each
failure mode is easy to test.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
from dataclasses import dataclass
from difflib import get_close_matches
from urllib.parse import urlsplit

import aiohttp


@dataclass
class Finding:
    problem: str
    fix: str


def error_message(body: bytes) -> str:
    """The upstream's own error message, in any of the three protocols' shapes."""
    try:
        payload = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip().replace("\n", " ")
        return text[:200] + ("…" if len(text) > 200 else "")
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error.get("type") or error)
    if isinstance(error, str):
        return error
    return json.dumps(payload)[:200]


def for_status(status: int, *, protocol: str, key: str | None, model: str,
               message: str, retry_after: str | None, fix_key: str) -> Finding:
    lowered = message.lower()
    if status in (401, 403):
        if not key:
            return Finding("no key was sent, and the server wants one", fix_key)
        if key != key.strip() or any(c.isspace() for c in key):
            return Finding("the key has spaces or line breaks in it", fix_key)
        from byecore_cli import codecs

        header = codecs.wire(protocol).key_header
        return Finding(
            f"the key was refused ({status}: {message}). byecore sent it as {header}, the "
            "form this protocol uses; the key is wrong, revoked, out of credit, or belongs "
            "to another region or account",
            fix_key,
        )
    if status == 404 and ("model" in lowered and ("not" in lowered or "exist" in lowered)):
        return Finding(f"the model {model!r} is not available here ({message})",
                       "pick one from 'byecore models', or pass --model")
    if status == 404:
        return Finding(f"nothing answers at this path ({message})",
                       "the base URL probably has an extra or a missing /v1; see the "
                       "path probe below")
    if status == 400 and "model" in lowered:
        return Finding(f"the server refused the model {model!r} ({message})",
                       "pick one from 'byecore models', or pass --model")
    if status == 413:
        return Finding("the request was too large for the server", "send less")
    if status == 429:
        wait = f"; it asks to wait {retry_after} s" if retry_after else ""
        return Finding(f"rate limited or out of quota ({message}){wait}",
                       "wait and retry, or check the account's balance and limits")
    if status == 529 or status == 503:
        return Finding(f"the server is overloaded or down ({status}: {message})",
                       "retry in a minute")
    if status >= 500:
        return Finding(f"the server failed on its side ({status}: {message})",
                       "retry later; if it persists, the provider's status page may say why")
    return Finding(f"the server answered {status}: {message}", "see the message above")


def for_connection(reason: str, url: str) -> Finding:
    host = urlsplit(url).hostname or url
    if "resolve" in reason:
        return Finding(f"the host name {host} does not resolve",
                       "check the spelling of the base URL, and your DNS or VPN")
    if "refused" in reason:
        local = host in ("localhost", "127.0.0.1", "::1")
        return Finding(f"nothing is listening at {urlsplit(url).netloc}",
                       "start the local server (e.g. 'byecore proxy')" if local
                       else "check the port in the base URL")
    if "certificate" in reason or "TLS" in reason:
        return Finding(f"the TLS certificate of {host} was not accepted",
                       "check the host name; behind a corporate proxy set SSL_CERT_FILE")
    if "timed out" in reason:
        return Finding(f"{host} did not answer in time",
                       "check your network or firewall; raise --timeout for slow models")
    return Finding(f"the connection to {host} failed ({reason})", "check the base URL")


_CONNECT_TIMEOUT_ERROR = getattr(aiohttp, "ConnectionTimeoutError", ())  # aiohttp 3.10+
_PLAIN_HTTP_SIGNS = ("wrong_version_number", "wrong version number", "record layer failure",
                     "packet length too long", "http request", "unknown protocol")


def network_finding(exc: BaseException, url: str, timeout: float, answering: bool,
                    connect_timeout: float) -> tuple[str, str, bool]:
    """(problem, fix, at_connect) in plain words for a request that failed on the wire
    (an aiohttp, SSL or OS error).

    ``timeout``: the read timeout, ``connect_timeout``: the one for connecting, both to
    name in the message. ``answering``: the server had sent its status line when it
    failed. ``at_connect``: no connection could be made at all, so no other step can
    fare better.
    """
    parts = urlsplit(url)
    where, host = parts.netloc, parts.hostname or parts.netloc
    swap = "http" if parts.scheme == "https" else "https"
    other = f"{swap}://{where}"
    tls = _ssl_error(exc)
    if tls is not None and not isinstance(exc, aiohttp.ClientConnectorCertificateError):
        text = str(tls).lower()
        if parts.scheme == "https" and any(sign in text for sign in _PLAIN_HTTP_SIGNS):
            return (f"TLS handshake failed: {where} answers in plain HTTP, not HTTPS",
                    f"use {other} in the base URL", True)
        reason = getattr(tls, "reason", None) or type(tls).__name__
        return (f"TLS handshake with {where} failed ({reason})",
                "check the base URL's scheme (http or https) and port; behind a corporate "
                "proxy, set SSL_CERT_FILE to its certificate", True)
    if isinstance(exc, asyncio.TimeoutError):
        if _CONNECT_TIMEOUT_ERROR and isinstance(exc, _CONNECT_TIMEOUT_ERROR):
            return (f"could not connect to {where} within {connect_timeout:g} s",
                    "check the host and port in the base URL, and any firewall or VPN in "
                    "the way", True)
        if answering:
            return (f"{where} began to answer, then went silent for {timeout:g} s",
                    "a slow model needs a higher --timeout; otherwise a proxy in the way may "
                    "hold answers back", False)
        return (f"{where} accepted the connection but sent no answer within {timeout:g} s",
                "is the base URL the API's (not another service on that port)? a slow model "
                "needs a higher --timeout", False)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        why = getattr(exc.certificate_error, "verify_message", None)
        finding = for_connection("TLS certificate not accepted", url)
        return finding.problem + (f" ({why})" if why else ""), finding.fix, True
    if isinstance(exc, aiohttp.ClientConnectorError):
        reason = _reason(exc)
        if reason in ("connection refused", "host does not resolve"):
            finding = for_connection(reason, url)
            return finding.problem, finding.fix, True
        if not isinstance(exc.os_error, ConnectionResetError):
            why = getattr(exc.os_error, "strerror", None) or reason
            return (f"cannot connect to {where} ({why})",
                    "check the host and port in the base URL, and your network or VPN", True)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return ("the server cut the answer off before it was complete",
                "retry; if it keeps happening, a proxy, load balancer or the server drops "
                "answers midway: check its timeouts and logs", False)
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError,
                        ConnectionError)):
        if answering:
            return ("the server closed the connection in the middle of its answer",
                    "retry; if it keeps happening, check the server's or proxy's logs", False)
        hint = f" (an {parts.scheme}:// URL on an {swap.upper()} port fails this way: try " \
               f"{other})" if parts.scheme == "http" else ""
        return (f"{where} closed the connection before answering",
                f"is the base URL right, and is it an HTTP server?{hint}", False)
    if isinstance(exc, aiohttp.TooManyRedirects):
        return (f"{host} redirects in a loop", "check the base URL", False)
    if isinstance(exc, aiohttp.ClientResponseError):
        return (f"the answer from {where} is not valid HTTP",
                "is this port an HTTP API? it may be another kind of server", False)
    if isinstance(exc, aiohttp.InvalidURL):
        return (f"the URL {url} is not valid", "check the base URL", True)
    detail = str(exc) or type(exc).__name__
    return (f"the request to {where} failed: {detail}",
            "check the base URL; run again with BYECORE_DEBUG=1 to see more", False)


def _ssl_error(exc: BaseException | None) -> ssl.SSLError | None:
    """The SSL error behind an aiohttp one, however deep it is wrapped."""
    seen = 0
    while exc is not None and seen < 6:
        if isinstance(exc, ssl.SSLError):
            return exc
        inner = getattr(exc, "os_error", None)
        if isinstance(inner, ssl.SSLError):
            return inner
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def _reason(exc: BaseException) -> str:
    """The words for_connection knows, for a failed connection."""
    os_error = getattr(exc, "os_error", None)
    if isinstance(os_error, ConnectionRefusedError):
        return "connection refused"
    text = str(os_error or exc)
    if isinstance(exc, getattr(aiohttp, "ClientConnectorDNSError", ())) or any(
            w in text for w in ("resolution", "not known", "nodename", "Name or service")):
        return "host does not resolve"
    return text


def unlisted_model(model: str, served: list[str]) -> Finding:
    close = get_close_matches(model, served, n=3, cutoff=0.4)
    hint = f"did you mean {', '.join(close)}?" if close else \
        "see the full list with 'byecore models'"
    return Finding(f"the model {model!r} is not in this key's model list", hint)


def proxy_capture(base_url: str, env: dict[str, str] | None = None) -> Finding | None:
    """An HTTP(S)_PROXY that would send local traffic through a proxy server."""
    env = dict(os.environ) if env is None else env
    host = urlsplit(base_url).hostname or ""
    if host not in ("localhost", "127.0.0.1", "::1"):
        return None
    proxy = next((env[k] for k in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
                                   "ALL_PROXY", "all_proxy") if env.get(k)), None)
    if not proxy:
        return None
    no_proxy = (env.get("NO_PROXY") or env.get("no_proxy") or "").replace(" ", "").split(",")
    if any(entry in ("*", host, "localhost", "127.0.0.1") for entry in no_proxy):
        return None
    return Finding(
        f"a proxy server is set ({proxy}) and NO_PROXY does not exclude {host}: many clients "
        "will send local traffic to that proxy",
        "export NO_PROXY=localhost,127.0.0.1,::1",
    )
