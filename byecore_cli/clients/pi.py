"""Pi (``pi``): ``~/.pi/agent/models.json`` and ``~/.pi/agent/settings.json``.

Both live in ``$PI_CODING_AGENT_DIR`` when that is set. Checked against
``@mariozechner/pi-coding-agent`` 0.73.1 (``dist/config.js`` ``getAgentDir``,
``dist/core/model-registry.js``, ``dist/core/resolve-config-value.js``,
``dist/core/settings-manager.js``, ``docs/models.md``, ``docs/settings.md``):

- ``models.json`` is read as ``JSON.parse(stripJsonComments(text))``: comments are
  allowed, so it is edited in place. ``providers.<id>`` is ``{baseUrl, api, apiKey,
  models: [{id, name, contextWindow, maxTokens, …}]}``.
- ``apiKey`` is resolved as: ``!command`` runs a command; otherwise the environment
  variable of that name when it is set, else the text itself. So a key kept in an
  environment variable is written as just its name, and a stored key as itself (the
  file is then 0600).
- ``settings.json`` is strict JSON (``JSON.parse``); ``defaultProvider`` and
  ``defaultModel`` choose what a run without ``--model`` uses.

Pi speaks ``openai-completions``, ``openai-responses``, ``anthropic-messages`` and
``google-generative-ai``. byecore uses ``openai-completions`` (``{baseUrl}/chat/
completions``): Pi's docs call it the most compatible, it needs no stored response
state, and byecore's proxy serves it as a pass-through for Chat providers.

What byecore owns: ``providers.byecore`` in models.json, and ``defaultProvider`` /
``defaultModel`` in settings.json.
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

PROVIDER_ID = "byecore"
API = "openai-completions"


class Pi:
    name = "pi"
    title = "Pi"
    protocol = "chat"
    executable = "pi"

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        folder = env_folder(env, "PI_CODING_AGENT_DIR", home / ".pi" / "agent")
        return {"models": ClientFile("models", folder / "models.json", "jsonc"),
                "settings": ClientFile("settings", folder / "settings.json", "json")}

    def plan(self, target: Target, current: Current) -> Plan:
        text = file_text(current.get("models"), "models")
        models = _models(text)
        settings_text = file_text(current.get("settings"), "settings")
        settings = _settings(settings_text)
        notes: list[str] = []
        secret: frozenset[str] = frozenset()
        if target.key_env and not target.via_proxy:
            key = target.key_env
            notes.append(f"Pi reads the key from ${key} (apiKey names it); no key is "
                         "written to a file. If it is unset, Pi sends the name itself")
        else:
            key = target.key or NO_KEY  # Pi wants an apiKey for a custom provider
            secret = frozenset({"models"})
        entry = {"baseUrl": target.openai_base, "api": API, "apiKey": key,
                 "models": [_model(target, m) for m in target.models]}
        out = text if text.strip() else "{}\n"
        if (models.get("providers") or {}).get(PROVIDER_ID) != entry:
            out = jsonedit.set_value(out, ("providers", PROVIDER_ID), entry, comments=True)
        settings_out = settings_text if settings_text.strip() else "{}\n"
        for key_name, value in (("defaultProvider", PROVIDER_ID),
                                ("defaultModel", target.model)):
            if settings.get(key_name) != value:
                settings_out = jsonedit.set_value(settings_out, (key_name,), value)
        return Plan(files={"models": out.encode(), "settings": settings_out.encode()},
                    secret=secret, notes=notes)

    def read(self, current: Current) -> Reading:
        models = _models(file_text(current.get("models"), "models"))
        settings = _settings(file_text(current.get("settings"), "settings"))
        ours = (models.get("providers") or {}).get(PROVIDER_ID)
        ours = ours if isinstance(ours, dict) else {}
        provider, model = settings.get("defaultProvider"), settings.get("defaultModel")
        reading = Reading(configured=bool(ours) and provider == PROVIDER_ID,
                          base_url=ours.get("baseUrl") if provider == PROVIDER_ID else None,
                          model=model if isinstance(model, str) else None)
        reading.owned = {
            "models:providers.byecore.baseUrl": ours.get("baseUrl"),
            "models:providers.byecore.api": ours.get("api"),
            # spelled with api_key so byecore's history masks it
            "models:providers.byecore.api_key": ours.get("apiKey"),
            "models:providers.byecore.models": ours.get("models"),
            "settings:defaultProvider": provider,
            "settings:defaultModel": model,
        }
        if ours and ours.get("api") not in (None, API):
            reading.problems.append(f"providers.byecore.api is {ours.get('api')!r}: byecore "
                                    f"set it up for {API}")
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        return []


def _model(target: Target, model: str) -> dict:
    limits = target.limits_for(model)
    return {"id": model, "name": model, "contextWindow": limits.context_window,
            "maxTokens": limits.max_output}


def _models(text: str) -> dict:
    return json_object(text, "models", comments=True, objects=("providers",))


def _settings(text: str) -> dict:
    return json_object(text, "settings")
