"""OpenCode: ``$XDG_CONFIG_HOME/opencode/opencode.json`` or ``opencode.jsonc``.

OpenCode merges ``opencode.json`` and then ``opencode.jsonc`` from its config folder,
the later winning, and reads both as JSONC. byecore edits ``opencode.jsonc`` when it
exists (it would win anyway) and ``opencode.json`` otherwise, creating that one.

What byecore owns: ``provider.byecore`` and the top-level ``model``. The provider id
is always ``byecore`` whatever the upstream, so switching providers re-points the
same entry instead of piling up new ones. It uses ``@ai-sdk/openai-compatible``,
which posts to ``{baseURL}/chat/completions`` for every model id (``@ai-sdk/openai``
would send gpt-5 ids to ``/responses``). The key is ``{env:VAR}`` when the provider
keeps it in an environment variable, so no key lands in a file; otherwise it is
written and the file becomes 0600. Each model gets ``limit.context`` and
``limit.output`` so OpenCode can track context for ids models.dev does not know.

``small_model`` (titles and summaries) is left out when absent: OpenCode then picks a
small model of the main model's provider, here byecore's. When it names a model byecore's
provider does not offer (say ``anthropic/claude-haiku-4-5``), that traffic would stay on
the vendor, so byecore points it at the main model and says so; the backup keeps the old
value for ``byecore restore opencode``.

Comments, trailing commas, other providers, MCP servers and key order are edited
around with ``clients/jsonedit.py``, never re-dumped.
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

PROVIDER_ID = "byecore"


class OpenCode:
    name = "opencode"
    title = "OpenCode"
    protocol = "chat"
    executable = "opencode"
    stem = "opencode"  # the config folder's name and the files' (opencode.json[c])
    env_prefix = "OPENCODE"  # OPENCODE_CONFIG, OPENCODE_CONFIG_DIR, …
    new_file = "json"  # the role created when neither file exists
    schema = "https://opencode.ai/config.json"  # "$schema" of a file byecore creates

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else (
            home / ".config")
        folder = base / self.stem
        return {
            "json": ClientFile("json", folder / f"{self.stem}.json", "jsonc"),
            "jsonc": ClientFile("jsonc", folder / f"{self.stem}.jsonc", "jsonc"),
        }

    def plan(self, target: Target, current: Current) -> Plan:
        role = _role(current, self.new_file)
        text = file_text(current.get(role), role)
        config = _parse(text, role)
        notes: list[str] = []
        options: dict = {"baseURL": target.openai_base}
        secret: frozenset[str] = frozenset()
        if target.key_env and not target.via_proxy:
            options["apiKey"] = f"{{env:{target.key_env}}}"
            notes.append(f"{self.title} reads the key from ${target.key_env} ({{env:…}}); "
                         "no key is written to a file")
        elif target.key:
            options["apiKey"] = target.key
            secret = frozenset({role})
        entry = {
            "npm": "@ai-sdk/openai-compatible",
            "name": f"byecore: {target.provider}",
            "options": options,
            "models": {m: _model(target, m) for m in target.models},
        }
        out = text if text.strip() else f'{{\n  "$schema": "{self.schema}"\n}}\n'
        if (config.get("provider") or {}).get(PROVIDER_ID) != entry:
            out = jsonedit.set_value(out, ("provider", PROVIDER_ID), entry, comments=True)
        if config.get("model") != f"{PROVIDER_ID}/{target.model}":
            out = jsonedit.set_value(out, ("model",), f"{PROVIDER_ID}/{target.model}",
                                     comments=True)
        small = _merged(current, role, "small_model")
        offered = {f"{PROVIDER_ID}/{m}" for m in target.models}
        if small is not None and small not in offered:
            out = jsonedit.set_value(out, ("small_model",), f"{PROVIDER_ID}/{target.model}",
                                     comments=True)
            notes.append(f"small_model was {small!r}, which {target.provider} does not offer: "
                         f"now {PROVIDER_ID}/{target.model} (edit small_model in "
                         f"{self.stem}.{role} to "
                         "choose another of its models)")
        if role == "jsonc" and current.get("json") is not None:
            notes.append(f"both {self.stem}.json and {self.stem}.jsonc exist; byecore "
                         f"edited {self.stem}.jsonc, whose settings win")
        return Plan(files={role: out.encode()}, secret=secret, notes=notes)

    def read(self, current: Current) -> Reading:
        role = _role(current, self.new_file)
        config = _parse(file_text(current.get(role), role), role)
        merged_model = _merged(current, role, "model")
        providers = config.get("provider") or {}
        ours = providers.get(PROVIDER_ID) if isinstance(providers, dict) else None
        model = merged_model if isinstance(merged_model, str) else None
        active = model.split("/", 1)[0] if model else None
        table = providers.get(active) if isinstance(providers, dict) and active else None
        options = (table or {}).get("options") or {} if isinstance(table, dict) else {}
        reading = Reading(configured=isinstance(ours, dict) and active == PROVIDER_ID,
                          base_url=options.get("baseURL"), model=model,
                          label=(table or {}).get("name") if isinstance(table, dict) else None)
        ours = ours if isinstance(ours, dict) else {}
        reading.owned = {
            "model": config.get("model"),
            "provider.byecore.npm": ours.get("npm"),
            "provider.byecore.baseURL": (ours.get("options") or {}).get("baseURL"),
            # spelled with api_key so byecore's history masks it
            "provider.byecore.api_key": (ours.get("options") or {}).get("apiKey"),
            "provider.byecore.models": ours.get("models"),
        }
        url = str(options.get("baseURL") or "")
        if url and not url.rstrip("/").endswith("/v1") and "/v1" not in url:
            reading.problems.append(f"baseURL {url} has no /v1: {self.title} posts to "
                                    f"{url.rstrip('/')}/chat/completions")
        if isinstance(table, dict) and table.get("npm") == "@ai-sdk/openai":
            reading.problems.append(f"provider {active} uses @ai-sdk/openai, which sends "
                                    "gpt-5 ids to /responses")
        key = options.get("apiKey")
        if isinstance(key, str) and key != key.strip():
            reading.problems.append("options.apiKey has spaces or line breaks around it")
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        what = {f"{self.env_prefix}_CONFIG": "a config file",
                f"{self.env_prefix}_CONFIG_DIR": "a config folder",
                f"{self.env_prefix}_CONFIG_CONTENT": "inline config"}
        return [f"your shell sets {name}: {self.title} loads {thing} from it on top of the "
                "global file byecore edits, so its model and provider settings win"
                for name, thing in what.items() if env.get(name)]


def _model(target: Target, model: str) -> dict:
    limits = target.limits_for(model)
    return {"name": model, "limit": {"context": limits.context_window,
                                     "output": limits.max_output}}


def _merged(current: Current, role: str, key: str):
    """``key`` as OpenCode sees it: ``role``'s file wins, the other file fills in."""
    value = _parse(file_text(current.get(role), role), role).get(key)
    other = "json" if role == "jsonc" else "jsonc"
    if value is None and current.get(other) is not None:
        value = _parse(file_text(current.get(other), other), other).get(key)
    return value


def _role(current: Current, new_file: str = "json") -> str:
    """The file to edit: the one that exists (jsonc first), else ``new_file``."""
    for role in ("jsonc", "json"):
        if current.get(role) is not None:
            return role
    return new_file



def _parse(text: str, role: str) -> dict:
    return json_object(text, role, comments=True, objects=("provider",))
