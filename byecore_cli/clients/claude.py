"""Claude Code: ``$CLAUDE_CONFIG_DIR/settings.json``, default ``~/.claude/settings.json``.

byecore sets six members of the ``env`` object:
``ANTHROPIC_BASE_URL`` (the Anthropic form: root, no ``/v1`` — Claude Code appends
``/v1/messages``), ``ANTHROPIC_AUTH_TOKEN`` (sent as a bearer token with no approval
prompt, unlike ``ANTHROPIC_API_KEY``, which interactive Claude Code asks about first),
``ANTHROPIC_MODEL`` and ``ANTHROPIC_DEFAULT_{OPUS,SONNET,HAIKU}_MODEL``.

While byecore points Claude Code at a provider it also owns what would undo that:
``ANTHROPIC_API_KEY`` (Claude Code would send it, as ``x-api-key``, to byecore's base
URL beside the token: a real Anthropic key would reach the gateway) and
``CLAUDE_CODE_USE_{BEDROCK,VERTEX,FOUNDRY}`` (Claude Code then ignores the base URL) are
removed; ``ANTHROPIC_SMALL_FAST_MODEL`` and ``CLAUDE_CODE_SUBAGENT_MODEL``, when set to
a model the provider does not offer, are re-pointed at one it does. These are not in
``Reading.owned`` (a file an older byecore set up may still hold them, and that is no
hand edit); a key put back later is a ``read`` problem and the next setup removes it
again. Each change is a note in the plan; the backup taken before the write keeps the
old values and ``byecore restore claude`` puts them back. settings.json's ``env`` wins
over the shell for the names it sets (Claude Code 2.x), so ``check_env`` names only
shell variables that settings.json leaves free to act.

``setup claude --statusline`` also sets ``statusLine`` to byecore's own status line
(``byecore statusline``: model, today's cost, cache-hit rate), when the file has no
statusLine or already has byecore's; a statusLine of the user's own is kept (a note says
so) unless ``--force`` asks to replace it. It is not an owned key: a later change to it by
hand is the user's to make, and a plain ``setup claude`` leaves it alone.

Permissions, hooks, statusLine, enabledPlugins, ``model``, unknown keys, the user's
indentation and one-line arrays stay byte for byte: the file is edited in place with
``clients/jsonedit.py``, never re-dumped. Claude Code writes this file itself (``/model``,
plugins), which is why the engine re-reads it right before writing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from byecore_cli.clients import jsonedit
from byecore_cli.clients.base import (
    NO_KEY,
    ClientFile,
    Current,
    Plan,
    Reading,
    Target,
    env_folder,
    file_text,
    json_object,
)
from byecore_cli.errors import UsageError
from byecore_cli.providers.keys import mask_key

OWNED = (
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
)
# Removed while byecore is configured: each would send traffic or a key elsewhere.
REMOVED = ("ANTHROPIC_API_KEY", "CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX",
           "CLAUDE_CODE_USE_FOUNDRY")
# Secondary models: re-pointed when they name a model the provider does not offer.
SECONDARY = ("ANTHROPIC_SMALL_FAST_MODEL", "CLAUDE_CODE_SUBAGENT_MODEL")
_TIERS = ("opus", "sonnet", "haiku")
STATUSLINE_COMMAND = "byecore statusline"
STATUSLINE = {"type": "command", "command": STATUSLINE_COMMAND}


def _on(value: object) -> bool:
    """A Claude Code switch variable that is set (``1``, ``true``, ``yes``…)."""
    return value is not None and str(value).strip().lower() not in ("", "0", "false", "no")


class Claude:
    name = "claude"
    title = "Claude Code"
    protocol = "messages"
    executable = "claude"

    def __init__(self, statusline: str | None = None) -> None:
        # None: statusLine left alone; "add": byecore's unless the user has one of their
        # own; "replace": byecore's in place of theirs
        if statusline not in (None, "add", "replace"):
            raise ValueError(f"statusline: {statusline!r}")
        self.statusline = statusline

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        folder = env_folder(env, "CLAUDE_CONFIG_DIR", home / ".claude")
        return {"settings": ClientFile("settings", folder / "settings.json", "json")}

    def plan(self, target: Target, current: Current) -> Plan:
        text = file_text(current.get("settings"), "settings")
        settings = _parse(text)
        notes: list[str] = []
        key = target.key
        if key is None and target.key_env:
            raise UsageError(
                f"Claude Code cannot read the key from ${target.key_env}, and "
                f"${target.key_env} is not set in this shell",
                hint=f"export {target.key_env}=… and run again (byecore then writes its "
                     "value into settings.json, mode 0600)")
        if target.key_env and not target.via_proxy:
            notes.append(f"Claude Code cannot read ${target.key_env} from its settings, so "
                         "its current value went into settings.json (mode 0600)")
        tiers = _tier_models(target.model, target.models)
        wanted = {
            "ANTHROPIC_BASE_URL": target.anthropic_base,
            "ANTHROPIC_AUTH_TOKEN": key or NO_KEY,
            "ANTHROPIC_MODEL": target.model,
            "ANTHROPIC_DEFAULT_OPUS_MODEL": tiers["opus"],
            "ANTHROPIC_DEFAULT_SONNET_MODEL": tiers["sonnet"],
            "ANTHROPIC_DEFAULT_HAIKU_MODEL": tiers["haiku"],
        }
        env = settings.get("env") or {}
        wanted.update(_secondary_models(env, target, tiers["haiku"], notes))
        out = text if text.strip() else "{}\n"
        for name, value in wanted.items():
            if env.get(name) != value:
                out = jsonedit.set_value(out, ("env", name), value)
        for name in REMOVED:
            if name in env and (name == "ANTHROPIC_API_KEY" or _on(env[name])):
                out = jsonedit.delete(out, ("env", name))
                notes.append(_removed_note(name, env[name], target.anthropic_base))
        if self.statusline:
            out = self._with_statusline(settings, out, notes)
        notes += _duplicate_notes(text)
        return Plan(files={"settings": out.encode()}, secret=frozenset({"settings"}),
                    notes=notes)

    def _with_statusline(self, settings: dict, out: str, notes: list[str]) -> str:
        current = settings.get("statusLine")
        if _is_byecores(current):
            return out
        if current is not None and self.statusline != "replace":
            notes.append(f"settings.json already has a statusLine ({_shown(current)}): kept; "
                         "'byecore setup claude --statusline --force' replaces it")
            return out
        if current is not None:
            notes.append(f"replaced the statusLine ({_shown(current)}) with byecore's; "
                         "'byecore restore claude' puts it back")
        else:
            notes.append("added byecore's status line (model, today's cost, cache-hit rate)")
        return jsonedit.set_value(out, ("statusLine",), dict(STATUSLINE))

    def read(self, current: Current) -> Reading:
        settings = _parse(file_text(current.get("settings"), "settings"))
        env = settings.get("env") or {}
        reading = Reading(
            configured="ANTHROPIC_BASE_URL" in env,
            base_url=env.get("ANTHROPIC_BASE_URL"),
            model=env.get("ANTHROPIC_MODEL") or settings.get("model"),
            owned={f"env.{name}": env.get(name) for name in OWNED},
        )
        url = str(env.get("ANTHROPIC_BASE_URL") or "")
        if url.rstrip("/").endswith("/v1"):
            reading.problems.append(f"ANTHROPIC_BASE_URL {url} ends in /v1: Claude Code "
                                    "appends /v1/messages, so requests go to …/v1/v1/messages")
        for name in ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY"):
            value = env.get(name)
            if isinstance(value, str) and any(ch.isspace() for ch in value):
                reading.problems.append(f"env {name} has spaces or line breaks in it")
        if "ANTHROPIC_AUTH_TOKEN" in env and "ANTHROPIC_API_KEY" in env:
            reading.problems.append("env sets both ANTHROPIC_AUTH_TOKEN and ANTHROPIC_API_KEY: "
                                    "Claude Code sends that key to ANTHROPIC_BASE_URL too, "
                                    "and warns of an auth conflict")
        for name in REMOVED[1:]:
            if reading.configured and _on(env.get(name)):
                reading.problems.append(f"env sets {name}: Claude Code then ignores "
                                        "ANTHROPIC_BASE_URL")
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        problems = []
        if env.get("ANTHROPIC_API_KEY"):
            problems.append("your shell sets ANTHROPIC_API_KEY: Claude Code sends it (as "
                            "x-api-key) to the ANTHROPIC_BASE_URL in settings.json beside "
                            "byecore's token, so that key reaches the gateway")
        for name in REMOVED[1:]:
            if _on(env.get(name)):
                problems.append(f"your shell sets {name}: Claude Code then ignores "
                                "ANTHROPIC_BASE_URL")
        for name in SECONDARY:
            if env.get(name) not in (None, "", "inherit"):
                problems.append(f"your shell sets {name}: unless settings.json sets it too, "
                                "Claude Code asks the gateway for that model, which it may "
                                "not serve")
        return problems


def _tier_models(model: str, models: tuple[str, ...]) -> dict[str, str]:
    """Each Claude tier gets the chosen model, or the provider's model of that tier."""
    out = {}
    for tier in _TIERS:
        if tier in model.lower():
            out[tier] = model
        else:
            out[tier] = next((m for m in models if tier in m.lower()), model)
    return out

def _secondary_models(env: Mapping, target: Target, haiku: str, notes: list[str]) -> dict:
    """Secondary model variables the user set to a model the provider does not offer,
    re-pointed (a tier alias or ``inherit`` is left alone: Claude Code resolves it)."""
    out = {}
    for name, model in (("ANTHROPIC_SMALL_FAST_MODEL", haiku),
                        ("CLAUDE_CODE_SUBAGENT_MODEL", target.model)):
        value = env.get(name)
        if name not in env or value in target.models or value in (*_TIERS, "inherit", ""):
            continue
        out[name] = model
        notes.append(f"env {name} was {value!r}, which {target.provider} does not offer: "
                     f"now {model!r} (edit it in settings.json to choose another)")
    return out


def _removed_note(name: str, value: object, base: str) -> str:
    if name == "ANTHROPIC_API_KEY":
        shown = mask_key(str(value)) if value else "empty"
        return (f"removed ANTHROPIC_API_KEY ({shown}) from settings.json's env: Claude Code "
                f"would send that key to {base} beside byecore's token; 'byecore restore "
                "claude' puts it back")
    return (f"removed {name}={value!r} from settings.json's env: with it Claude Code ignores "
            "ANTHROPIC_BASE_URL; 'byecore restore claude' puts it back")


def _is_byecores(value: object) -> bool:
    """A statusLine that runs ``byecore statusline`` (by any path to byecore)."""
    if not isinstance(value, dict) or value.get("type") != "command":
        return False
    words = str(value.get("command") or "").split()
    return len(words) == 2 and words[1] == "statusline" and \
        Path(words[0]).name in ("byecore", "byecore.exe")


def _shown(value: object) -> str:
    if isinstance(value, dict) and isinstance(value.get("command"), str):
        return repr(value["command"])
    return "not a command"


def _duplicate_notes(text: str) -> list[str]:
    if not text.strip():
        return []
    return [f"settings.json names \"{'.'.join(path)}\" more than once; Claude Code reads only "
            f"the last, which byecore edited: remove the ignored copy at line {line}"
            for path, line in jsonedit.duplicates(text) if path[0] == "env"]


def _parse(text: str) -> dict:
    return json_object(text, "settings", objects=("env",))
