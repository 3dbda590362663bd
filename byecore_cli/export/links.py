"""Import links for two desktop switchers: CC Switch (``ccswitch://``) and Claude Code
Router (``ccr://``).

CC Switch, as its deep-link parser and importer read (farion1231/cc-switch,
``src-tauri/src/deeplink/parser.rs`` and ``provider.rs``; user manual 5.3):
``ccswitch://v1/import?resource=provider&app=APP&name=…&endpoint=…&apiKey=…&model=…``.
``app`` is one of the apps below; ``endpoint`` becomes that app's base URL as it is
(Claude Code's ``ANTHROPIC_BASE_URL``, Codex's ``base_url`` with ``wire_api =
"responses"``, Gemini CLI's ``GOOGLE_GEMINI_BASE_URL``; OpenCode, OpenClaw and Hermes
speak Chat Completions, Grok Build Responses). Its importer refuses a link without
``apiKey``, so a link made without the key says so.

Claude Code Router (musistudio/claude-code-router, ``docs/…/provider-deeplink.md`` and
``packages/core/src/contracts/deep-link.ts``): ``ccr://provider?name=…&base_url=…&
protocol=…&models=a,b&api_key=…``, the names exactly those (no ``baseUrl`` or
``apiKey`` aliases); ``protocol`` one of ``PROTOCOL_NAMES``' values. CCR derives each
protocol's base from ``base_url`` (``providers/url.ts``): the OpenAI base with its
version for Chat and Responses, the root for Messages, the root or a nested versioned
base for Gemini.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from byecore_cli.config.models import Provider
from byecore_cli.errors import UsageError
from byecore_cli.providers.endpoints import anthropic_base, gemini_base, openai_base

# CC Switch app → the protocol its provider entry speaks (what the importer writes)
CCSWITCH_APPS = {"claude": "messages", "codex": "responses", "gemini": "gemini",
                 "opencode": "chat", "openclaw": "chat", "hermes": "chat",
                 "grokbuild": "responses"}
# byecore protocol → CCR's name for it
PROTOCOL_NAMES = {"chat": "openai_chat_completions", "responses": "openai_responses",
                  "messages": "anthropic_messages", "gemini": "gemini_generate_content"}
KEYLESS = "no-key-needed"  # for a local provider: CC Switch will not import an empty key


@dataclass
class Link:
    tool: str  # "ccswitch" or "ccr"
    provider: str
    url: str
    params: dict[str, str]
    protocol: str  # the byecore protocol the imported entry speaks
    app: str | None = None
    with_key: bool = False
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"tool": self.tool, "provider": self.provider, "app": self.app,
                "protocol": self.protocol, "with_key": self.with_key, "link": self.url,
                "params": self.params, "notes": self.notes}


def _key(name: str, provider: Provider, with_key: bool) -> str | None:
    """The key to put in a link (None: none), or a UsageError saying why it cannot."""
    if not with_key:
        return None
    key = provider.resolve_key()
    if key:
        return key
    if provider.key_env:
        raise UsageError(f"--with-key: {name}'s key is read from ${provider.key_env}, "
                         "which is not set here",
                         hint=f"export {provider.key_env}=… and run again, or leave out "
                              "--with-key")
    return None  # a keyless (local) provider


def _models(provider: Provider) -> list[str]:
    first = [provider.default_model] if provider.default_model else []
    return list(dict.fromkeys([*first, *provider.models]))


def ccswitch(name: str, provider: Provider, app: str | None, with_key: bool) -> Link:
    if app is None:
        app = next((a for a in ("claude", "codex", "gemini", "opencode")
                    if CCSWITCH_APPS[a] in provider.protocols), None)
        if app is None:  # unreachable: every protocol has an app above
            raise UsageError(f"{name} speaks no protocol a CC Switch app uses")
    if app not in CCSWITCH_APPS:
        raise UsageError(f"CC Switch has no app {app!r} for providers",
                         hint="use one of: " + ", ".join(CCSWITCH_APPS))
    protocol = CCSWITCH_APPS[app]
    if protocol not in provider.protocols:
        fits = [a for a, p in CCSWITCH_APPS.items() if p in provider.protocols]
        raise UsageError(
            f"CC Switch's {app} provider speaks {protocol}, which {name} does not "
            f"(it speaks {', '.join(provider.protocols)})",
            hint=(f"export it for {', '.join(fits)} (--app {fits[0]}), or " if fits else "")
            + f"point {app} at byecore proxy instead: byecore setup {app} --via-proxy")
    if protocol == "messages":
        endpoint = anthropic_base(provider.base_url, provider.anthropic_path)
    elif protocol == "gemini":
        from byecore_cli.clients.gemini import sdk_base

        endpoint, version = sdk_base(gemini_base(provider.base_url, provider.gemini_path))
    else:
        endpoint = openai_base(provider.base_url, provider.openai_path)
    params = {"resource": "provider", "app": app, "name": name, "endpoint": endpoint}
    models = _models(provider)
    if models:
        params["model"] = models[0]
    params["notes"] = "exported by byecore"
    key = _key(name, provider, with_key)
    notes = []
    if key:
        params["apiKey"] = key
    elif not provider.resolve_key() and not provider.key_env:
        params["apiKey"] = KEYLESS
        notes.append(f"{name} needs no key: the link carries {KEYLESS!r}, since CC Switch "
                     "will not import a provider without one")
    else:
        notes.append("the link carries no key, and CC Switch refuses to import a provider "
                     "link without apiKey: run again with --with-key to include it (then "
                     "share the link only over a private channel)")
    if protocol == "gemini" and version != "v1beta":
        notes.append(f"{name}'s Gemini API version is {version}: set "
                     f"GOOGLE_GENAI_API_VERSION={version} for Gemini CLI too")
    url = "ccswitch://v1/import?" + urlencode(params, quote_via=quote)
    return Link("ccswitch", name, url, params, protocol, app=app, with_key=bool(key),
                notes=notes)


def ccr(name: str, provider: Provider, protocol: str | None, with_key: bool) -> Link:
    if protocol is None:  # CCR serves Claude Code: Messages upstream needs no translation
        protocol = "messages" if "messages" in provider.protocols else provider.protocols[0]
    if protocol not in PROTOCOL_NAMES:
        raise UsageError(f"unknown protocol {protocol!r}",
                         hint="use one of: " + ", ".join(PROTOCOL_NAMES))
    if protocol not in provider.protocols:
        raise UsageError(f"{name} does not speak {protocol}",
                         hint=f"it speaks {', '.join(provider.protocols)}: pass one of "
                              "those with --protocol")
    if protocol == "messages":
        base = anthropic_base(provider.base_url, provider.anthropic_path)
    elif protocol == "gemini":
        base = gemini_base(provider.base_url, provider.gemini_path)
    else:
        base = openai_base(provider.base_url, provider.openai_path)
    params = {"name": name, "base_url": base, "protocol": PROTOCOL_NAMES[protocol]}
    models = _models(provider)
    if models:
        params["models"] = ",".join(models)
    key = _key(name, provider, with_key)
    notes = []
    if key:
        params["api_key"] = key
    elif provider.resolve_key() or provider.key_env:
        notes.append("the link carries no key: enter it in Claude Code Router after "
                     "importing, or run again with --with-key")
    others = [p for p in provider.protocols if p != protocol]
    if others:
        notes.append(f"a CCR provider has one protocol: this one uses {protocol}; "
                     f"{name} also speaks {', '.join(others)} (--protocol to choose)")
    url = "ccr://provider?" + urlencode(params, quote_via=quote)
    return Link("ccr", name, url, params, protocol, with_key=bool(key), notes=notes)
