"""``byecore doctor``: every client byecore knows, checked from its files to the provider.

For each client: installed (and its version), config present and valid, where it points,
the URL form and key (the writers' own ``read`` problems), shell variables that override
the files, hand edits since byecore wrote, whether the local proxy answers when the
client points at it, and whether the model exists on the provider. Every finding names
the command that fixes it.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from collections.abc import Mapping
from urllib.parse import urlsplit

from byecore_cli.clients import WRITERS, engine
from byecore_cli.config.models import Settings
from byecore_cli.errors import ByecoreError


def finding(problem: str, fix: str) -> dict:
    return {"problem": problem, "fix": fix}


def client_version(executable: str, env: Mapping[str, str]) -> str | None:
    try:
        out = subprocess.run([executable, "--version"], capture_output=True, text=True,
                             timeout=10, env=dict(env), stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0].strip() if lines else None


def port_open(url: str, timeout: float = 1.0) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout):
            return True
    except OSError:
        return False


def _is_local(url: str | None) -> bool:
    return bool(url) and (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def served_models(settings: Settings, names: set[str], timeout: float) -> dict[str, object]:
    """Each provider's live model ids, or the error met asking for them."""
    from byecore_cli.providers.live import list_models

    async def one(name: str):
        try:
            found = await list_models(name, settings.providers[name], timeout=timeout)
            return name, [m["id"] for m in found.models]
        except ByecoreError as exc:
            return name, exc

    async def every():
        return dict(await asyncio.gather(*(one(n) for n in sorted(names))))

    return asyncio.run(every()) if names else {}


def diagnose_client(info: dict, settings: Settings | None,
                    served: Mapping[str, object]) -> list[dict]:
    name = info["client"]
    setup = f"byecore setup {name}"
    out = [finding(problem, setup) for problem in info["problems"]]
    if not info.get("config_found"):
        if info["installed"]:
            out.append(finding(f"{info['title']} is installed but has no config",
                               f"{setup} (point it at a saved provider)"))
        return out
    for edit in info["hand_edited"]:
        out.append(finding(
            f"{edit.get('key', 'a setting')} in {edit.get('path', 'its config')} was changed "
            "by hand since byecore wrote it",
            f"{setup} --force puts byecore's value back; or leave it if you meant it"))
    provider = info.get("provider")
    if info["set_up_by_byecore"] and settings is not None and provider \
            and provider not in settings.providers:
        out.append(finding(f"it points at provider {provider!r}, which is no longer saved",
                           f"byecore provider add {provider}, or {setup} --provider NAME"))
    base = info.get("base_url")
    points_at_proxy = info.get("via_proxy") or (_is_local(base) and ":4000" in (base or ""))
    if points_at_proxy and not port_open(base or "http://127.0.0.1:4000"):
        out.append(finding("it points at byecore's local proxy, which is not running",
                           "byecore proxy (leave it running while you use the client)"))
    model = info.get("model") or ""
    if provider and not info.get("via_proxy") and provider in served:
        known = served[provider]
        bare = model.split("/", 1)[1] if model.startswith(f"{provider}/") else model
        if isinstance(known, ByecoreError):
            out.append(finding(f"could not ask {provider} for its models: {known.message}",
                               f"byecore check --provider {provider}"))
        elif bare and bare not in known:
            out.append(finding(f"the model {bare!r} is not served by {provider}",
                               f"{setup} --model ID (see: byecore models --provider {provider})"))
    return out


def run_doctor(*, env: Mapping[str, str] | None = None, online: bool = True,
               timeout: float = 10.0) -> dict:
    env = os.environ if env is None else env
    general: list[dict] = []
    settings: Settings | None = None
    try:
        from byecore_cli.config.store import SettingsStore
        from byecore_cli.paths import Paths

        settings, _ = SettingsStore(Paths.current().settings).load()
    except ByecoreError as exc:
        general.append(finding(exc.message, exc.hint or "fix byecore's settings file"))
    if settings is not None and not settings.providers:
        general.append(finding("no provider is saved yet", "byecore provider add byecore"))

    infos = [engine.inspect(writer, env) for writer in WRITERS.values()]
    wanted = {i["provider"] for i in infos if i.get("provider") and not i.get("via_proxy")}
    served = served_models(settings, wanted & set(settings.providers), timeout) \
        if online and settings else {}
    rows = []
    for writer, info in zip(WRITERS.values(), infos, strict=True):
        version = client_version(writer.executable, env) if info["installed"] else None
        findings = diagnose_client(info, settings, served)
        rows.append({
            "client": info["client"], "title": info["title"], "installed": info["installed"],
            "version": version, "config_found": bool(info.get("config_found")),
            "provider": info.get("provider"), "via_proxy": info.get("via_proxy"),
            "base_url": info.get("base_url"), "model": info.get("model"),
            "findings": findings,
        })
    ok = not general and not any(r["findings"] for r in rows)
    return {"ok": ok, "general": general, "clients": rows}
