"""Where each protocol lives under a provider's root URL, and cleaning of pasted URLs.

byecore stores a provider's *root* (``https://api.byecore.com``) and derives every
endpoint from it. Two per-provider path prefixes cover the vendors that do not put
their APIs at the usual places:

- ``openai_path`` (default ``/v1``): the OpenAI base under the root; Chat Completions,
  Responses and the model list hang off it. Gemini's is ``/v1beta/openai``.
- ``anthropic_path`` (default empty): the Anthropic base under the root, to which the
  SDKs append ``/v1/messages``. DeepSeek's is ``/anthropic``.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit, urlunsplit

Protocol = Literal["chat", "responses", "messages", "gemini"]
PROTOCOLS: tuple[Protocol, ...] = ("chat", "responses", "messages", "gemini")
PROTOCOL_TITLES = {
    "chat": "OpenAI Chat Completions",
    "responses": "OpenAI Responses",
    "messages": "Anthropic Messages",
    "gemini": "Google Gemini API",
}

# Endpoint tails a user may paste by mistake, longest first so that
# /messages/count_tokens is removed whole rather than leaving /messages/… behind.
_ENDPOINT_TAILS = (
    "/messages/count_tokens",
    "/chat/completions",
    "/completions",
    "/responses",
    "/messages",
    "/embeddings",
    "/models",
)


def openai_base(root: str, openai_path: str = "/v1") -> str:
    """The base URL an OpenAI SDK (and Codex, Aider, OpenCode…) wants."""
    return root + openai_path


def anthropic_base(root: str, anthropic_path: str = "") -> str:
    """The base URL an Anthropic SDK (and Claude Code's ANTHROPIC_BASE_URL) wants."""
    return root + anthropic_path


def gemini_base(root: str, gemini_path: str = "/v1beta") -> str:
    """The Gemini API's versioned base (``…/v1beta``), under which ``models/…`` live."""
    return root + gemini_path


def endpoint_url(
    root: str, what: str, *, openai_path: str = "/v1", anthropic_path: str = ""
) -> str:
    """Full URL of ``what``: a protocol name, or ``models``/``anthropic-models``."""
    tails = {
        "chat": "/chat/completions",
        "responses": "/responses",
        "models": "/models",
    }
    if what in tails:
        return openai_base(root, openai_path) + tails[what]
    if what == "messages":
        return anthropic_base(root, anthropic_path) + "/v1/messages"
    if what == "anthropic-models":
        return anthropic_base(root, anthropic_path) + "/v1/models"
    raise ValueError(f"unknown endpoint kind {what!r}")


class BadURL(ValueError):
    """A base URL that cannot be made into a root (no host, a scheme other than http/https)."""


def normalise_base_url(raw: str) -> tuple[str, list[str]]:
    """Turn whatever a user pasted into a provider root, and say what changed.

    Accepts the root, the root plus ``/v1``, trailing slashes, surrounding spaces, and a
    full endpoint pasted by mistake (``…/v1/chat/completions``, ``…/v1/messages``).
    Returns ``(root, notes)``; each note is a plain sentence for the user.
    """
    notes: list[str] = []
    text = raw.strip()
    if text != raw:
        notes.append("removed spaces around the URL")
    if not text:
        raise BadURL("the base URL is empty")
    if "://" not in text:
        host = text.split("/", 1)[0].split(":", 1)[0]
        scheme = "http" if host in ("localhost", "127.0.0.1", "[::1]") else "https"
        text = f"{scheme}://{text}"
        notes.append(f"added the missing {scheme}:// scheme")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise BadURL(f"the base URL must start with http:// or https://, not {parts.scheme}://")
    if not parts.hostname:
        raise BadURL(f"the base URL {raw.strip()!r} has no host name")
    if parts.query or parts.fragment:
        notes.append("dropped the query string: byecore adds what each request needs")
    path = parts.path.rstrip("/")
    if parts.path.endswith("/"):
        notes.append("removed the trailing slash")
    for tail in _ENDPOINT_TAILS:
        if path.endswith(tail):
            path = path[: -len(tail)]
            notes.append(
                f"removed the endpoint path {tail!r}: byecore stores the root and adds "
                "each protocol's path itself"
            )
            break
    versions = 0
    while path.endswith("/v1"):
        path = path[: -len("/v1")]
        versions += 1
    if versions:
        notes.append(
            "removed '/v1' (stored once as the root; byecore adds /v1 where each "
            "client needs it)" if versions == 1 else f"removed {versions} repeated '/v1' parts"
        )
    root = urlunsplit((parts.scheme, parts.netloc.lower(), path, "", ""))
    return root, notes
