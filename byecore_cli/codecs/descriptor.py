"""What the rest of byecore knows about a protocol: one ``Wire`` descriptor per codec.

A codec turns bodies into hub values; its ``Wire`` holds the facts around the bodies
that the proxy, ``check``, the settings and the CLI need: where requests go (``path``
under one of a provider's base prefixes), how a key is sent, where the model and the
stream flag live, where an answer or a stream event carries its usage, what keeps an
idle stream open, which event ends one, and the markers byecore's own codecs mint.
Nothing outside a codec package spells a protocol's paths, headers or usage fields.

Light on purpose: settings validation and every CLI command read the wires, so this
module and each package's ``wire.py`` import no hub and no codec; the usage readers
import their codec's ``response`` module when first called (the proxy has it loaded).
"""

from __future__ import annotations

import re
from importlib import import_module

from byecore_cli.codecs.sse import KEEPALIVE


class Wire:
    name: str  # the protocol's registry name: "chat"
    title: str  # for people: "OpenAI Chat Completions"
    base: str  # which of a provider's prefixes paths hang off: "openai", "anthropic", "gemini"
    endpoint: str  # the request path under that base, when it holds no model (``path``)
    models_path: str  # GET: the model list under that base
    pasted_tails: tuple[str, ...] = ()  # endpoint paths a user may paste with a base URL
    key_header = "Authorization: Bearer"  # for people: how ``auth_headers`` sends a key
    model_in_path = False  # True: model and stream are in the URL, not in the body
    usage_field = "usage"  # the top-level key of an answer's usage
    stray_json_lines = False  # SSEDecoder(stray=…): JSON written outside ``data:`` counts
    keepalive: bytes = KEEPALIVE  # written to an idle client stream
    minted: bytes | None = None  # in a body only if byecore's codec minted opaque data
    answer_keys: tuple[str, ...]  # a whole answer has one of these top-level keys
    # matches an event that ends a stream (an error too); quotes inside JSON strings are
    # escaped, so model text cannot fake the ``"type":"…"`` forms
    terminal: re.Pattern[bytes]

    def path(self, model: str, stream: bool) -> str:
        """Where a request for ``model`` goes, under the base."""
        return self.endpoint

    def relayable(self, raw: bytes) -> bool:
        """Whether a client's body may go to an upstream of this protocol as it is. Not
        when it holds what byecore's codec minted when the client received reasoning from
        another protocol: the upstream would reject the foreign opaque data, while
        decoding restores what it wraps and the encoder sends each upstream its own."""
        return self.minted is None or self.minted not in raw

    def auth_headers(self, key: str | None) -> dict[str, str]:
        """The headers that carry ``key`` (and the protocol's version, if it has one)."""
        return {"Authorization": f"Bearer {key}"} if key else {}

    def models_in(self, payload: object) -> list[dict]:
        """``{"id", "owned_by"}`` for each model of a ``models_path`` answer;
        ``ValueError`` when it is not a model list."""
        try:
            return [{"id": str(m["id"]), "owned_by": m.get("owned_by") or m.get("display_name")}
                    for m in payload["data"]]  # type: ignore[index]
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError("not a model list") from exc

    # -- usage, read the way the codec reads it ------------------------------------------

    def decode_usage(self, raw: object, so_far=None):
        """The hub ``Usage`` of a usage object (``UpstreamFault`` for wrong types)."""
        return self._response().decode_usage(raw)

    def answer_usage(self, body: object):
        """The usage of a whole answer; None when it carries none or cannot be read."""
        if not isinstance(body, dict) or body.get(self.usage_field) is None:
            return None
        return self._lenient(body[self.usage_field])

    def event_usage(self, event: str | None, body: dict, so_far):
        """The usage so far after one stream event (``so_far`` when it carries none)."""
        usage = body.get(self.usage_field)
        return so_far if usage is None else self._lenient(usage) or so_far

    def _lenient(self, raw: object, so_far=None):
        from byecore_cli.codecs.base import UpstreamFault

        try:
            return self.decode_usage(raw, so_far)
        except UpstreamFault:  # the log keeps the row, without the tokens it cannot read
            return None

    def _response(self):
        return import_module(f"byecore_cli.codecs.{self.name}.response")


def lazy_codec(package: str):
    """A package's ``__getattr__`` that builds its ``CODEC`` on first use, so that
    reading ``WIRE`` (settings, the CLI) does not import the codec and the hub."""

    def __getattr__(name: str):
        if name != "CODEC":
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        from byecore_cli.codecs.base import Codec

        module = import_module(package)
        module.CODEC = Codec(package, module.WIRE)
        return module.CODEC

    return __getattr__
