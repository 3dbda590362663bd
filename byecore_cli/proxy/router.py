"""Which upstream answers a request: model name → (provider, upstream model, protocol).

The order, first match wins:

1. a scenario route (``[proxy.scenarios]``) when the request shows that signal: a
   Claude Code subagent (``x-claude-code-agent-id`` header or ``cc_is_subagent=true`` in
   the system prompt), a server-side web search tool, an image in the last user turn,
   or a prompt estimated above ``long_context_tokens``;
2. ``provider/model`` naming a saved provider (or ``demo``) directly;
3. ``[proxy.aliases]``: glob patterns in the order written (``"claude-*haiku*" =
   "deepseek/deepseek-flash"``); the target is ``provider/model`` or a bare model name
   that steps 4–5 then place;
4. the providers' model lists (the default provider's first);
5. the default provider, with the name unchanged;
6. with no provider saved at all, the built-in offline ``demo`` provider.

The upstream protocol is the client's own when the provider speaks it (the byte
pass-through), else the first protocol the provider lists (translated by the codecs).
``[proxy.fallbacks]`` maps a glob on the chosen ``provider/model`` to the targets tried
next; the chain is cut at ``max_attempts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from byecore_cli.config.models import Provider, Settings
from byecore_cli.errors import NotFound

DEMO = "demo"
DEMO_MODELS = ("demo", "demo-claude")


@dataclass(frozen=True, slots=True)
class Target:
    provider: str
    model: str
    protocol: str  # the upstream's protocol for this request
    config: Provider | None  # None for the demo provider
    via: str  # how it was chosen, for --check-config and logs
    inbound: str  # the client's protocol
    relay: bool = True  # False: same protocol, but the body must go through the codecs

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.model}"

    @property
    def passthrough(self) -> bool:
        return self.config is not None and self.inbound == self.protocol and self.relay


class Router:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.proxy = settings.proxy
        providers = settings.providers
        order = list(providers)
        if settings.default_provider in providers:
            order.remove(settings.default_provider)
            order.insert(0, settings.default_provider)
        self._order = order
        self._owner: dict[str, str] = {}  # model id → first provider listing it
        for name in order:
            saved = providers[name]
            for model in [*saved.models, *([saved.default_model] if saved.default_model else [])]:
                self._owner.setdefault(model, name)

    @property
    def demo_only(self) -> bool:
        return not self.settings.providers

    def route(self, model: str, inbound: str, signals: frozenset[str] = frozenset()
              ) -> list[Target]:
        """The targets to try in order (the first, then its fallbacks); NotFound if none."""
        first = None
        for scenario in signals:
            pattern = self.proxy.scenarios.get(scenario)
            if pattern:
                first = self.place(pattern, inbound, via=f"scenario {scenario}")
                break
        if first is None:
            first = self._resolve(model, inbound)
        chain = [first]
        for pattern, targets in self.proxy.fallbacks.items():
            if fnmatchcase(first.name, pattern):
                for text in targets:
                    nxt = self.place(text, inbound, via=f"fallback for {pattern}")
                    if nxt.name not in {t.name for t in chain}:
                        chain.append(nxt)
                break
        return chain[: self.proxy.max_attempts]

    def _resolve(self, model: str, inbound: str) -> Target:
        direct = self._direct(model, inbound)
        if direct:
            return direct
        for pattern, target in self.proxy.aliases.items():
            if fnmatchcase(model, pattern):
                return self.place(target, inbound, via=f"alias {pattern}")
        return self.place(model, inbound, via="")

    def _direct(self, text: str, inbound: str, via: str = "provider/model") -> Target | None:
        provider, sep, model = text.partition("/")
        if sep and model and (provider in self.settings.providers or provider == DEMO):
            return self._target(provider, model, inbound, via)
        return None

    def place(self, text: str, inbound: str, *, via: str) -> Target:
        """A target for ``provider/model`` or a bare model name (lists, then the default)."""
        direct = self._direct(text, inbound, via or "provider/model")
        if direct:
            return direct
        owner = self._owner.get(text)
        if owner:
            return self._target(owner, text, inbound, via or f"{owner}'s model list")
        if self.settings.default_provider:
            return self._target(self.settings.default_provider, text, inbound,
                                via or "default provider")
        if self.demo_only:
            return self._target(DEMO, text, inbound, via or "demo (no provider saved)")
        raise NotFound(
            f"no route for model {text!r}; routable models: {', '.join(self.models()[:20])}",
            hint="use provider/model, add the model to a provider, set a default provider "
                 "(byecore provider default NAME) or add a [proxy.aliases] entry",
        )

    def _target(self, provider: str, model: str, inbound: str, via: str) -> Target:
        if provider == DEMO:
            return Target(DEMO, model, inbound, None, via, inbound)
        saved = self.settings.providers[provider]
        protocol = inbound if inbound in saved.protocols else saved.protocols[0]
        return Target(provider, model, protocol, saved, via, inbound)

    def models(self) -> list[str]:
        """Every model name a client can ask for by itself (globs left out)."""
        names = [p for p in self.proxy.aliases if not any(c in p for c in "*?[")]
        names += list(self._owner)
        if self.demo_only:
            names += list(DEMO_MODELS)
        return list(dict.fromkeys(names))

    def owner(self, model: str) -> str:
        return self._owner.get(model) or (DEMO if self.demo_only else "alias")


def detect_signals(protocol: str, body: dict, headers, body_size: int,
                   long_context_tokens: int) -> frozenset[str]:
    """The Claude Code scenario signals a request carries (only for Messages requests).

    Signals chosen from what current Claude Code sends; the old ones (a ``thinking`` field,
    ``haiku`` in the model name) are deliberately not used: ``thinking`` is on almost every
    request now, and the haiku tier takes whatever name the user configured.
    """
    if protocol != "messages":
        return frozenset()
    found = set()
    if headers.get("x-claude-code-agent-id") or _subagent_flag(body.get("system")):
        found.add("subagent")
    tools = body.get("tools")
    if isinstance(tools, list) and any(
            isinstance(t, dict) and str(t.get("type", "")).startswith("web_search")
            for t in tools):
        found.add("web_search")
    messages = body.get("messages")
    if isinstance(messages, list) and messages and _has_image(messages[-1]):
        found.add("image")
    if body_size // 4 > long_context_tokens:  # ~4 bytes a token: a cheap estimate
        found.add("long_context")
    return frozenset(found)


def _subagent_flag(system) -> bool:
    if isinstance(system, str):
        return "cc_is_subagent=true" in system
    if isinstance(system, list):
        return any(isinstance(b, dict) and "cc_is_subagent=true" in str(b.get("text", ""))
                   for b in system)
    return False


def _has_image(message) -> bool:
    if not isinstance(message, dict) or message.get("role") != "user":
        return False
    content = message.get("content")
    if not isinstance(content, list):
        return False
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "image":
            return True
        if block.get("type") == "tool_result" and isinstance(block.get("content"), list) \
                and any(isinstance(b, dict) and b.get("type") == "image"
                        for b in block["content"]):
            return True
    return False
