"""Qwen Code: ``~/.qwen/settings.json`` (``$QWEN_HOME/settings.json`` when that is set).

Checked against ``@qwen-code/qwen-code`` 0.15.10 (its bundle ``cli.js``):

- The user settings file is ``getGlobalQwenDir()/settings.json``: ``$QWEN_HOME`` or
  ``~/.qwen``. It is parsed as ``JSON.parse(stripJsonComments(text))``, so comments are
  allowed and the file is edited in place with ``clients/jsonedit.py``.
- ``modelProviders`` maps an auth type (``openai``, ``anthropic``, ``gemini``,
  ``vertex-ai``) to a bare array of models ``{id, name, baseUrl, envKey,
  generationConfig}``; ``findModelConfig`` takes the first entry whose ``id`` is the
  model. The key is never in an entry: ``envKey`` names an environment variable.
- ``security.auth.selectedType`` picks the auth type, ``model.name`` the model.
- ``loadEnvironment`` copies ``settings.env`` into the process environment for every
  variable the shell does not already have, so a stored key goes there (mode 0600).

Qwen Code speaks Chat Completions (``openai``), Anthropic Messages and the Gemini API.
byecore uses ``openai``: it is Qwen Code's main path (its own models and tool calling
are built and tested on it), and it posts to ``{baseUrl}/chat/completions``.

What byecore owns: the entries of ``modelProviders.openai`` whose ``name`` starts with
``byecore:`` (put first, so they win over a user's entry with the same id; the user's
other entries stay), ``security.auth.selectedType``, ``model.name``, and
``env.BYECORE_QWEN_KEY`` when the key has to be stored.
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
    Unparsable,
    env_folder,
    file_text,
    json_object,
    member,
)

AUTH_TYPE = "openai"
KEY_VAR = "BYECORE_QWEN_KEY"  # settings.env holds a stored key under this name
_MARK = "byecore:"


class Qwen:
    name = "qwen"
    title = "Qwen Code"
    protocol = "chat"
    executable = "qwen"

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        folder = env_folder(env, "QWEN_HOME", home / ".qwen")
        return {"settings": ClientFile("settings", folder / "settings.json", "jsonc")}

    def plan(self, target: Target, current: Current) -> Plan:
        text = file_text(current.get("settings"), "settings")
        settings = _parse(text)
        notes: list[str] = []
        secret: frozenset[str] = frozenset()
        if target.key_env and not target.via_proxy:
            env_key, stored = target.key_env, None
            notes.append(f"Qwen Code reads the key from ${env_key} (envKey); no key is "
                         "written to a file")
        else:
            # Qwen Code refuses to start without a key
            env_key, stored = KEY_VAR, target.key or NO_KEY
            secret = frozenset({"settings"})
        ours = [{"id": m, "name": f"{_MARK} {target.provider}", "baseUrl": target.openai_base,
                 "envKey": env_key,
                 "generationConfig": {"contextWindowSize":
                                      target.limits_for(m).context_window}}
                for m in target.models]
        theirs = [e for e in _openai_models(settings) if not _is_ours(e)]
        out = text if text.strip() else "{}\n"
        if _openai_models(settings) != ours + theirs:
            out = jsonedit.set_value(out, ("modelProviders", AUTH_TYPE), ours + theirs,
                                     comments=True)
        if member(settings, "security", "auth", "selectedType") != AUTH_TYPE:
            out = jsonedit.set_value(out, ("security", "auth", "selectedType"), AUTH_TYPE,
                                     comments=True)
        if member(settings, "model", "name") != target.model:
            out = jsonedit.set_value(out, ("model", "name"), target.model, comments=True)
        if stored is not None and member(settings, "env", KEY_VAR) != stored:
            out = jsonedit.set_value(out, ("env", KEY_VAR), stored, comments=True)
        elif stored is None and member(settings, "env", KEY_VAR) is not None:
            out = jsonedit.delete(out, ("env", KEY_VAR), comments=True)
        return Plan(files={"settings": out.encode()}, secret=secret, notes=notes)

    def read(self, current: Current) -> Reading:
        settings = _parse(file_text(current.get("settings"), "settings"))
        model = member(settings, "model", "name")
        chosen = member(settings, "security", "auth", "selectedType")
        entries = _openai_models(settings)
        active = next((e for e in entries if e.get("id") == model), None)
        reading = Reading(
            configured=chosen == AUTH_TYPE and active is not None and _is_ours(active),
            base_url=(active or {}).get("baseUrl"),
            model=model if isinstance(model, str) else None,
            label=(active or {}).get("name"))
        reading.owned = {
            "modelProviders.openai[byecore]": [e for e in entries if _is_ours(e)],
            "security.auth.selectedType": chosen,
            "model.name": model,
            # spelled with api_key so byecore's history masks it
            f"env.{KEY_VAR}.api_key": member(settings, "env", KEY_VAR),
        }
        if chosen not in (None, AUTH_TYPE) and any(_is_ours(e) for e in entries):
            reading.problems.append(f"security.auth.selectedType is {chosen!r}: Qwen Code "
                                    "then ignores byecore's modelProviders.openai entries")
        url = str((active or {}).get("baseUrl") or "")
        if url and "/v1" not in url:
            reading.problems.append(f"baseUrl {url} has no /v1: Qwen Code posts to "
                                    f"{url.rstrip('/')}/chat/completions")
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        if env.get(KEY_VAR):
            return [f"your shell sets {KEY_VAR}, which wins over the key byecore wrote "
                    "into settings.json's env (Qwen Code never replaces a variable the "
                    "shell has)"]
        return []


def _parse(text: str) -> dict:
    settings = json_object(text, "settings", comments=True,
                           objects=("modelProviders", "security", "model", "env"))
    models = (settings.get("modelProviders") or {}).get(AUTH_TYPE)
    if models is not None and not isinstance(models, list):
        raise Unparsable("settings", '"modelProviders.openai" is not a JSON array')
    auth = (settings.get("security") or {}).get("auth")
    if auth is not None and not isinstance(auth, dict):
        raise Unparsable("settings", '"security.auth" is not a JSON object')
    return settings


def _openai_models(settings: dict) -> list:
    return list((settings.get("modelProviders") or {}).get(AUTH_TYPE) or [])


def _is_ours(entry: object) -> bool:
    return isinstance(entry, dict) and str(entry.get("name", "")).startswith(_MARK)
