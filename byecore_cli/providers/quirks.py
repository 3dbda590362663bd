"""Provider quirks: small named fixes, hub request → hub request, that a provider lists.

A quirk is one vendor's departure from its protocol, fixed once here instead of by
``if provider == …`` anywhere else. A provider lists the quirks it needs in
``settings.toml`` (``quirks = ["system_first"]``; a preset row may bring some). They run
after routing picks the provider and before its codec encodes. A quirk that reshapes
requests in the client's own protocol (``RESHAPES``) takes that provider off the byte
pass-through: its same-protocol requests go through the codecs too, so the fix applies.
``no_stream_options`` needs no codec: the pass-through itself leaves out the
``stream_options`` it would otherwise add to log a stream's usage.

Each function returns a new request and leaves its argument alone: a fallback chain
sends the same client request to several providers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from byecore_cli.hub import REMINDER, Image, Message, Request, Text

Quirk = Callable[[Request], Request]


def system_first(request: Request) -> Request:
    """One system message, first; later system/developer messages become user text.

    The chat templates of many open models (served by vLLM, Ollama, LM Studio…) accept a
    system message only at the start, and some only one. Claude Code puts one mid-way
    through a conversation, and Codex opens with several developer messages. The leading
    ones are joined into the system prompt; a later one is wrapped in
    ``<system-reminder>`` and joins the neighbouring user turn, its text intact.
    """
    texts = [t.text for t in request.system if t.text]
    # a cache marker on the system prompt now marks the joined one (Anthropic upstreams)
    meta = next((t.meta for t in reversed(request.system) if t.meta), None)
    messages: list[Message] = []
    leading = True
    for message in request.messages:
        instruction = message.role in ("system", "developer")
        if instruction and leading and all(isinstance(p, Text) for p in message.parts):
            texts += [p.text for p in message.parts if p.text]
            continue
        leading = leading and instruction
        if not instruction:
            messages.append(message)
            continue
        said = "\n\n".join(p.text for p in message.parts if isinstance(p, Text) and p.text)
        parts = [Text(REMINDER[0] + said + REMINDER[1])] if said else []
        parts += [p for p in message.parts if isinstance(p, Image)]
        if parts:
            messages.append(Message("user", parts))
    return replace(request, system=[Text("\n\n".join(texts), meta)] if texts else [],
                   messages=_join_user_turns(messages))


def _join_user_turns(messages: list[Message]) -> list[Message]:
    """Adjacent user messages as one: templates that need alternating roles reject two."""
    out: list[Message] = []
    for message in messages:
        if out and message.role == "user" and out[-1].role == "user":
            out[-1] = Message("user", [*out[-1].parts, *message.parts], out[-1].meta)
        else:
            out.append(message)
    return out


def no_stream_options(request: Request) -> Request:
    """Never send ``stream_options`` (servers that reject the field); streamed usage then
    reaches the client and the usage log only if the server sends it unasked."""
    return _chat_extras(request, no_stream_options=True)


def max_completion_tokens(request: Request) -> Request:
    """Send the output limit as ``max_completion_tokens``, for servers that refuse
    ``max_tokens`` (OpenAI's reasoning models do)."""
    return _chat_extras(request, max_tokens_field="max_completion_tokens")


def _chat_extras(request: Request, **values) -> Request:
    chat = {**(request.extras.get("chat") or {}), **values}
    return replace(request, extras={**request.extras, "chat": chat})


QUIRKS: dict[str, Quirk] = {q.__name__: q for q in (
    system_first, no_stream_options, max_completion_tokens)}


# The client protocols whose requests a quirk changes when relayed to the same protocol.
RESHAPES: dict[str, tuple[str, ...]] = {
    "system_first": ("chat", "responses", "messages"),
    "max_completion_tokens": ("chat",),
}


def reshapes(names: Iterable[str], protocol: str) -> bool:
    """Whether a provider with these quirks needs ``protocol`` requests re-encoded."""
    return any(protocol in RESHAPES.get(name, ()) for name in names)


def apply(names: Iterable[str], request: Request) -> Request:
    for name in names:
        request = QUIRKS[name](request)
    return request


def describe() -> dict[str, str]:
    """Each quirk's name and the first line of what it does, for ``provider presets``."""
    return {name: " ".join((fn.__doc__ or "").split("\n\n")[0].split()).replace("``", "")
            for name, fn in QUIRKS.items()}
