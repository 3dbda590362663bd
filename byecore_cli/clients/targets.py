"""From "provider P, model M" to a ``Target``: where one client should point.

Protocol fit is decided here, once for every client: a client speaks exactly one
protocol (Codex: Responses; Claude Code: Anthropic Messages; Gemini CLI: the Gemini
API; most others: Chat Completions). When the provider does not speak it, a direct
config could never work, so the client goes through byecore's local proxy instead,
with a note saying why.

The proxy's address is the running proxy's (``Paths.proxy_runtime``, written by
``byecore proxy`` while it serves) when one runs, else the ``[proxy] port`` setting;
a note says which.
"""

from __future__ import annotations

from byecore_cli.clients import local_keys
from byecore_cli.clients.base import Target, Writer
from byecore_cli.config.models import Settings
from byecore_cli.errors import NotFound, UsageError
from byecore_cli.providers.endpoints import (
    PROTOCOL_TITLES,
    anthropic_base,
    gemini_base,
    openai_base,
)


def proxy_root(settings: Settings) -> str:
    """Where ``byecore proxy`` listens with no ``--port``: ``[proxy] port`` (4000 unless set)."""
    return f"http://127.0.0.1:{settings.proxy.port}"


def proxy_address(settings: Settings) -> tuple[str, str]:
    """The root a client should use for the local proxy, and a sentence saying why."""
    from byecore_cli.proxy import runtime  # light: no aiohttp

    running = runtime.running_proxy()
    if running is None:
        return proxy_root(settings), (
            f"no byecore proxy is running, so the client points at the [proxy] port setting, "
            f"{settings.proxy.port} (start it there with: byecore proxy)")
    return runtime.client_url(running["host"], running["port"]), (
        f"the client points at the byecore proxy running now on port {running['port']} "
        f"(pid {running['pid']}); if you restart it on another port, run setup again")


def build_target(writer: Writer, settings: Settings, provider_name: str | None,
                 model: str | None, *, via_proxy: bool = False,
                 dry_run: bool = False) -> tuple[Target, list[str]]:
    """The target and notes for the user; ``dry_run`` never makes a local key."""
    name = provider_name or settings.default_provider
    if not name:
        raise NotFound("no provider saved yet",
                       hint="add one first: byecore provider add byecore")
    if name not in settings.providers:
        saved = ", ".join(settings.providers) or "none yet"
        raise NotFound(f"no saved provider named {name!r}",
                       hint=f"saved providers: {saved} (see 'byecore provider list')")
    provider = settings.providers[name]
    chosen = model or provider.default_model or (provider.models[0] if provider.models
                                                 else None)
    if not chosen:
        raise UsageError(f"{name} has no default model, so byecore cannot choose one",
                         hint=f"pass --model, e.g. byecore setup {writer.name} --model ID "
                              f"(see 'byecore models --provider {name}')")
    models = tuple(dict.fromkeys([chosen, *provider.models]))
    notes: list[str] = []
    if not via_proxy and writer.protocol not in provider.protocols:
        via_proxy = True
        notes.append(
            f"{writer.title} speaks only {PROTOCOL_TITLES[writer.protocol]} and {name} does "
            f"not, so {writer.title} goes through byecore's local proxy, which translates "
            f"(start it with: byecore proxy)")
    if via_proxy:
        key = local_keys.peek(writer.name) if dry_run else local_keys.get_or_create(
            writer.name)
        key = key or local_keys.PREFIX + "new-key-made-on-write"
        root, where = proxy_address(settings)
        notes.append(where)
        return Target(
            provider=name, model=f"{name}/{chosen}", models=tuple(f"{name}/{m}" for m in models),
            root=root, openai_base=openai_base(root),
            anthropic_base=anthropic_base(root), key=key, key_env=None, via_proxy=True,
            gemini_base=gemini_base(root),
        ), notes
    return Target(
        provider=name, model=chosen, models=models, root=provider.base_url,
        openai_base=openai_base(provider.base_url, provider.openai_path),
        anthropic_base=anthropic_base(provider.base_url, provider.anthropic_path),
        key=provider.resolve_key(), key_env=None if provider.key else provider.key_env,
        gemini_base=gemini_base(provider.base_url, provider.gemini_path),
    ), notes
