"""Where each protocol lives under a provider's root URL, and cleaning of pasted URLs.

byecore stores a provider's *root* (``https://api.byecore.com``) and derives every
endpoint from it: root + the provider's prefix for the protocol's base + the path the
protocol's wire gives (``codecs/<protocol>/wire.py``). Three per-provider prefixes
cover the vendors that do not put their APIs at the usual places:

- ``openai_path`` (default ``/v1``): the OpenAI base under the root; Chat Completions,
  Responses and the model list hang off it. Gemini's is ``/v1beta/openai``.
- ``anthropic_path`` (default empty): the Anthropic base under the root, to which the
  SDKs append ``/v1/messages``. DeepSeek's is ``/anthropic``.
- ``gemini_path`` (default ``/v1beta``): the Gemini API's versioned base, under which
  ``models/{model}:generateContent`` lives.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from byecore_cli import codecs

Protocol = str  # a name in codecs.CODECS (settings validation checks it)
PROTOCOLS: tuple[str, ...] = codecs.PROTOCOLS
PROTOCOL_TITLES = {name: codecs.wire(name).title for name in PROTOCOLS}
PROTOCOL_HELP = ", ".join(f"{n} ({t})" for n, t in PROTOCOL_TITLES.items())  # for --help
# a wire's ``base`` → the provider field holding its prefix, and that field's default
PREFIX_FIELDS = {"openai": "openai_path", "anthropic": "anthropic_path",
                 "gemini": "gemini_path"}
DEFAULT_PREFIXES = {"openai": "/v1", "anthropic": "", "gemini": "/v1beta"}
# where each base is found in the wild, for ``check`` to try when the saved one 404s
PREFIX_GUESSES = {"openai": ("/v1", "", "/v1/v1", "/api/v1"),
                  "anthropic": ("", "/v1", "/anthropic"), "gemini": ("/v1beta", "", "/v1")}

# Endpoint tails a user may paste by mistake, longest first so that
# /messages/count_tokens is removed whole rather than leaving /messages/… behind.
_ENDPOINT_TAILS = tuple(sorted(
    {tail for name in PROTOCOLS for tail in codecs.wire(name).pasted_tails}
    | {"/embeddings", "/models"}, key=len, reverse=True))


def openai_base(root: str, openai_path: str = "/v1") -> str:
    """The base URL an OpenAI SDK (and Codex, Aider, OpenCode…) wants."""
    return root + openai_path


def anthropic_base(root: str, anthropic_path: str = "") -> str:
    """The base URL an Anthropic SDK (and Claude Code's ANTHROPIC_BASE_URL) wants."""
    return root + anthropic_path


def gemini_base(root: str, gemini_path: str = "/v1beta") -> str:
    """The Gemini API's versioned base (``…/v1beta``), under which ``models/…`` live."""
    return root + gemini_path


def endpoint_url(root: str, protocol: str, *, model: str = "", stream: bool = False,
                 models: bool = False, prefixes: Mapping[str, str] | None = None) -> str:
    """Full URL of a ``protocol`` request for ``model`` (or, with ``models``, of the model
    list that protocol's clients read). ``prefixes``: the provider's prefix per base
    (``{"openai": "/v1"}``), defaults for those it leaves out."""
    wire = codecs.wire(protocol)
    prefix = (prefixes or {}).get(wire.base, DEFAULT_PREFIXES[wire.base])
    return root + prefix + (wire.models_path if models else wire.path(model, stream))


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
    while tail := next((t for t in _ENDPOINT_TAILS if path.endswith(t)), None):
        path = path[: -len(tail)]  # again: /v1beta/models is two tails
        notes.append(
            f"removed the endpoint path {tail!r}: byecore stores the root and adds "
            "each protocol's path itself"
        )
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
