"""Zed: ``$XDG_CONFIG_HOME/zed/settings.json`` (default ``~/.config/zed``), JSONC.

What byecore owns: ``language_models.openai_compatible.byecore`` (``api_url`` = root
+ ``/v1``, Zed posts to ``{api_url}/chat/completions``; ``available_models`` with
``max_tokens`` = context window and ``max_output_tokens``) and
``agent.default_model``. Not ``language_models.openai``: that is Zed's built-in
OpenAI provider, and pointing it elsewhere would take over the user's real OpenAI
setup and key.

Zed never reads a key from settings. For an ``openai_compatible`` provider it takes
the environment variable named after the provider id in upper snake case plus
``_API_KEY`` (id ``byecore`` → ``BYECORE_API_KEY``), read by the Zed process when it
starts, else the key pasted in the Agent panel, which Zed stores in the system
keychain under the provider's ``api_url``. So byecore writes no key and says which
of the two to use.
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
    Unparsable,
    file_text,
    json_object,
)

PROVIDER_ID = "byecore"
KEY_ENV = "BYECORE_API_KEY"  # Zed: f"{id}_API_KEY" in upper snake case
_PATH = ("language_models", "openai_compatible", PROVIDER_ID)


class Zed:
    name = "zed"
    title = "Zed"
    protocol = "chat"
    executable = "zed"

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else (
            home / ".config")
        return {"settings": ClientFile("settings", base / "zed" / "settings.json", "jsonc")}

    def plan(self, target: Target, current: Current) -> Plan:
        text = file_text(current.get("settings"), "settings")
        settings = _parse(text)
        entry = {
            "api_url": target.openai_base,
            "available_models": [{
                "name": m,
                "display_name": f"{m} (byecore: {target.provider})",
                "max_tokens": target.limits_for(m).context_window,
                "max_output_tokens": target.limits_for(m).max_output,
            } for m in target.models],
        }
        default = {"provider": PROVIDER_ID, "model": target.model}
        out = text if text.strip() else "{}\n"
        if _get(settings, _PATH) != entry:
            out = jsonedit.set_value(out, _PATH, entry, comments=True)
        if _get(settings, ("agent", "default_model")) != default:
            out = jsonedit.set_value(out, ("agent", "default_model"), default, comments=True)
        return Plan(files={"settings": out.encode()}, notes=[_key_note(target)])

    def read(self, current: Current) -> Reading:
        settings = _parse(file_text(current.get("settings"), "settings"))
        entry = _get(settings, _PATH)
        default = _get(settings, ("agent", "default_model"))
        default = default if isinstance(default, dict) else {}
        reading = Reading(
            configured=isinstance(entry, dict) and default.get("provider") == PROVIDER_ID,
            base_url=entry.get("api_url") if isinstance(entry, dict) else None,
            model=default.get("model"), label=default.get("provider"),
            owned={"language_models.openai_compatible.byecore": entry,
                   "agent.default_model": _get(settings, ("agent", "default_model"))},
        )
        url = str(reading.base_url or "")
        if url and "/v1" not in url:
            reading.problems.append(f"api_url {url} has no /v1: Zed posts to "
                                    f"{url.rstrip('/')}/chat/completions")
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        return []


def _key_note(target: Target) -> str:
    if target.via_proxy:
        return (f"Zed keeps no key in settings.json: start Zed with {KEY_ENV} set to "
                "byecore's local proxy key for zed, or paste that key once in the Agent "
                "panel (Zed keeps it in the system keychain)")
    source = (f"the value of ${target.key_env}" if target.key_env else
              "your provider key (byecore provider show --show-key)")
    return (f"Zed keeps no key in settings.json: it reads ${KEY_ENV} from the environment "
            f"it was started in, else the key pasted in the Agent panel (stored in the "
            f"system keychain under {target.openai_base}); set {KEY_ENV} to {source} or "
            "paste it there")


def _get(data: dict, path: tuple[str, ...]):
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data



def _parse(text: str) -> dict:
    data = json_object(text, "settings", comments=True)
    for path in (("language_models",), ("language_models", "openai_compatible"), ("agent",)):
        parent = _get(data, path[:-1]) if len(path) > 1 else data
        if isinstance(parent, dict) and path[-1] in parent and not isinstance(
                parent[path[-1]], dict):  # null too: byecore would have to replace it
            raise Unparsable("settings", f'"{".".join(path)}" is not a JSON object')
    return data
