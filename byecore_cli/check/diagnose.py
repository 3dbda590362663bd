"""Turning a failed probe into what is wrong and the exact fix, in plain words.

Pure functions over what a probe saw (status, body, exception, URL); no I/O, so each
failure mode is easy to test.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from difflib import get_close_matches
from urllib.parse import urlsplit


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
        header = "x-api-key (or Authorization: Bearer)" if protocol == "messages" \
            else "Authorization: Bearer"
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
