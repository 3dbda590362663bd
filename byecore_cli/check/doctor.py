"""``byecore doctor``: every client byecore knows, checked from its files to the provider.

For each client: installed (and its version), config present and valid, where it points,
the URL form and key (the writers' own ``read`` problems), shell variables that override
the files, hand edits since byecore wrote, whether the local proxy answers when the
client points at it, and whether the model exists on the provider. Every finding names
what fixes it, and ``byecore setup`` only where setup can: a file that does not parse is
fixed by editing it at the line named, a folder where a file belongs by moving the folder,
and a shell variable by unsetting it and deleting the profile line that sets it.

A writer may also have ``local_findings(env, cwd)``: (problem, fix) pairs that setup
cannot fix, once the client is set up: about the folder the client would run in (Gemini
CLI loads only the nearest env file, so a project's ``.env`` hides ``~/.gemini/.env``),
or about the user's own keys beside byecore's (an OpenClaw model policy that refuses
byecore's model).
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from byecore_cli.clients import WRITERS, engine, history
from byecore_cli.clients.base import Unparsable, Writer
from byecore_cli.config.models import Settings
from byecore_cli.errors import ByecoreError, ConfigError
from byecore_cli.providers.keys import mask_key

# Where a variable may be set for every new shell, and aider's ~/.env, which it loads.
SHELL_FILES = (".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshenv", ".zprofile",
               ".zshrc", ".zlogin", ".config/fish/config.fish", ".env")
# The variable a check_env problem is about: "your shell sets NAME…" or "NAME=… …".
_VARIABLE = re.compile(r"(?:\bsets |^)([A-Z][A-Z0-9_]*[A-Z0-9])\b")


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


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or Path.home())


def _tilde(path: Path, home: Path) -> str:
    try:
        return "~/" + str(path.relative_to(home))
    except ValueError:
        return str(path)


def shell_sources(name: str, home: Path) -> list[tuple[Path, int]]:
    """The lines of the usual shell start-up files (and ~/.env) that set ``name``."""
    setter = re.compile(r"^\s*(?:export\s+|declare\s+-x\s+|typeset\s+-x\s+|setenv\s+|"
                        r"set\s+(?:-\w+\s+)*)?" + re.escape(name) + r"(?:=|\s)")
    found = []
    for relative in SHELL_FILES:
        path = home / relative
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        found += [(path, n) for n, line in enumerate(lines, 1) if setter.match(line)]
    return found


def shown_value(name: str, value: str) -> str:
    """A variable's value fit for a report: keys masked, long values summarised."""
    if history.is_secret_name(name):
        return mask_key(value)
    if len(value) > 120:
        return f"({len(value)} characters)"
    return engine.mask_secrets(value, set())


def env_finding(problem: str, env: Mapping[str, str]) -> dict:
    """A shell variable that overrides a client's file: setup cannot help, unsetting does."""
    match = _VARIABLE.search(problem)
    if not match:
        return finding(problem, "change it in your shell profile, then open a new shell")
    name, home = match.group(1), _home(env)
    value = env.get(name)
    if value is not None and f"{name}=" not in problem:
        problem = f"{problem} (now {name}={shown_value(name, value)})"
    lines = "; ".join(f"line {n} of {_tilde(path, home)}" for path, n in shell_sources(name, home))
    if value is None:
        fix = f"delete {lines}" if lines else "remove it where it is set"
    elif lines:
        fix = f"unset {name}, and delete {lines} so new shells do not set it again"
    else:
        fix = (f"unset {name}, and remove it from the shell profile or launcher that sets "
               "it (byecore found it in none of ~/.bashrc, ~/.zshrc, ~/.profile …)")
    return finding(problem, fix)


def file_findings(writer: Writer, env: Mapping[str, str]) -> list[dict]:
    """Problems with a client's files themselves, each with what fixes it (not setup:
    setup refuses a broken file and cannot put a file where a folder is)."""
    files = engine.client_files(writer, env)
    folders = [f.path for f in files.values() if f.path.is_dir()]
    if folders:
        return [finding(f"{path} is a folder, but {writer.title} reads a file there",
                        f"move the folder away (mv {shlex.quote(str(path))} "
                        f"{shlex.quote(str(path) + '.old')}); then byecore setup {writer.name}")
                for path in folders]
    try:
        current = engine.read_files(files)
    except ConfigError as exc:
        return [finding(exc.message, f"make it readable by you (chmod u+rw "
                                     f"{shlex.quote(exc.path or '')})")]
    try:
        writer.read(current)
    except Unparsable as exc:
        path = files[exc.role].path
        where = f"{path}, line {exc.line}" if exc.line else str(path)
        edit = f"edit {path} at line {exc.line}" if exc.line else f"edit {path}"
        return [finding(f"{where}: {exc.problem}",
                        f"{edit} and fix it by hand: byecore never overwrites a file it cannot "
                        f"read ('byecore setup {writer.name} --force' would start it afresh, "
                        "keeping the broken one as a backup)")]
    return []


def diagnose_client(info: dict, settings: Settings | None, served: Mapping[str, object],
                    *, writer: Writer | None = None, env: Mapping[str, str] | None = None,
                    cwd: Path | None = None) -> list[dict]:
    name = info["client"]
    setup = f"byecore setup {name}"
    env = os.environ if env is None else env
    shell = writer.check_env(env) if writer else []
    broken = file_findings(writer, env) if writer else []
    # the writer's own problems with byecore's keys (URL form, spaces in a key) are
    # what setup rewrites; the file and shell problems are not
    out = broken or [finding(p, setup) for p in info["problems"] if p not in shell]
    # a shell variable matters to a client in use, not to one that is not even installed
    if info["installed"] or info.get("config_found"):
        out += [env_finding(p, env) for p in shell]
    local = getattr(writer, "local_findings", None)
    if local is not None and info.get("configured") and not broken:
        out += [finding(problem, fix) for problem, fix in local(env, cwd or Path.cwd())]
    if not info.get("config_found"):
        if info["installed"] and not broken:
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
        findings = diagnose_client(info, settings, served, writer=writer, env=env)
        rows.append({
            "client": info["client"], "title": info["title"], "installed": info["installed"],
            "version": version, "config_found": bool(info.get("config_found")),
            "provider": info.get("provider"), "via_proxy": info.get("via_proxy"),
            "base_url": info.get("base_url"), "model": info.get("model"),
            "findings": findings,
        })
    ok = not general and not any(r["findings"] for r in rows)
    return {"ok": ok, "general": general, "clients": rows}
