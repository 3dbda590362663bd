"""Claude Code: ``$CLAUDE_CONFIG_DIR/settings.json``, default ``~/.claude/settings.json``.

byecore owns six members of the ``env`` object and nothing else:
``ANTHROPIC_BASE_URL`` (the Anthropic form: root, no ``/v1`` — Claude Code appends
``/v1/messages``), ``ANTHROPIC_AUTH_TOKEN`` (sent as a bearer token with no approval
prompt, unlike ``ANTHROPIC_API_KEY``, which interactive Claude Code asks about first),
``ANTHROPIC_MODEL`` and ``ANTHROPIC_DEFAULT_{OPUS,SONNET,HAIKU}_MODEL``.

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
    ClientFile,
    Current,
    Plan,
    Reading,
    Target,
    file_text,
    json_object,
)
from byecore_cli.errors import UsageError

OWNED = (
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
)
_TIERS = ("opus", "sonnet", "haiku")
_NO_KEY = "byecore-no-key"


class Claude:
    name = "claude"
    title = "Claude Code"
    protocol = "messages"
    executable = "claude"

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        folder = Path(env["CLAUDE_CONFIG_DIR"]).expanduser() if env.get(
            "CLAUDE_CONFIG_DIR") else home / ".claude"
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
            "ANTHROPIC_AUTH_TOKEN": key or _NO_KEY,
            "ANTHROPIC_MODEL": target.model,
            "ANTHROPIC_DEFAULT_OPUS_MODEL": tiers["opus"],
            "ANTHROPIC_DEFAULT_SONNET_MODEL": tiers["sonnet"],
            "ANTHROPIC_DEFAULT_HAIKU_MODEL": tiers["haiku"],
        }
        env = settings.get("env") or {}
        out = text if text.strip() else "{}\n"
        for name, value in wanted.items():
            if env.get(name) != value:
                out = jsonedit.set_value(out, ("env", name), value)
        if "ANTHROPIC_API_KEY" in env:
            notes.append("settings.json's env also sets ANTHROPIC_API_KEY: Claude Code sends "
                         "both credentials and warns; remove it if the gateway objects")
        return Plan(files={"settings": out.encode()}, secret=frozenset({"settings"}),
                    notes=notes)

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
                                    "Claude Code warns of an auth conflict")
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        problems = []
        if env.get("ANTHROPIC_API_KEY"):
            problems.append("your shell sets ANTHROPIC_API_KEY: Claude Code sees it next to "
                            "the ANTHROPIC_AUTH_TOKEN in settings.json and warns of an auth "
                            "conflict (unset ANTHROPIC_API_KEY)")
        for name in ("ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_MODEL"):
            if env.get(name):
                problems.append(f"your shell sets {name}: settings.json's value wins inside "
                                "Claude Code, but other tools see the shell's")
        for name in ("CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX"):
            if env.get(name) not in (None, "", "0", "false"):
                problems.append(f"your shell sets {name}: Claude Code then ignores "
                                "ANTHROPIC_BASE_URL")
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



def _parse(text: str) -> dict:
    return json_object(text, "settings", objects=("env",))
