"""Crush: the provider in the global ``crush.json``, the selection in the data file.

Checked against Crush's source (``internal/config/load.go`` and ``store.go``, v0.90),
Crush merges, lowest priority first: ``/etc/crush/crush.json``; the global
``crush.json`` (``$CRUSH_GLOBAL_CONFIG/crush.json``, else
``$XDG_CONFIG_HOME/crush/crush.json``, else ``~/.config/crush/crush.json``); the
``crushrc`` (Bash, since v0.88) beside it; the **data file**
(``$CRUSH_GLOBAL_DATA/crush.json``, else ``$XDG_DATA_HOME/crush/crush.json``, else
``~/.local/share/crush/crush.json``); then project files. The TUI saves the picked
model (``models.large``/``models.small``) and pasted keys into the data file, so a
selection written anywhere else is silently overridden as soon as the user has
picked a model once.

So byecore owns:
- in the global ``crush.json``: ``providers.byecore`` with ``type: openai-compat``
  (``openai`` would send ids containing gpt-4/gpt-5 to ``/responses``), ``base_url`` =
  root + ``/v1``, ``api_key`` (``$VAR`` when the key lives in an environment variable:
  Crush shell-expands it) and the models with the fields the schema requires;
- in the data file: ``models.large`` and ``models.small``.

Both are strict JSON (Crush checks them with ``json.Valid``: no comments). The crushrc
is read, never written: byecore reports when it defines the same provider.
"""

from __future__ import annotations

import re
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
_SCHEMA = "https://charm.land/crush.json"
_SMALL_HINTS = ("mini", "flash", "haiku", "small", "lite", "nano")


class Crush:
    name = "crush"
    title = "Crush"
    protocol = "chat"
    executable = "crush"

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        if env.get("CRUSH_GLOBAL_CONFIG"):
            config_dir = Path(env["CRUSH_GLOBAL_CONFIG"])
        else:
            base = env.get("XDG_CONFIG_HOME")
            config_dir = (Path(base) if base else home / ".config") / "crush"
        if env.get("CRUSH_GLOBAL_DATA"):
            data_dir = Path(env["CRUSH_GLOBAL_DATA"])
        else:
            base = env.get("XDG_DATA_HOME")
            data_dir = (Path(base) if base else home / ".local" / "share") / "crush"
        return {
            "config": ClientFile("config", config_dir / "crush.json", "json"),
            "data": ClientFile("data", data_dir / "crush.json", "json"),
            "crushrc": ClientFile("crushrc", config_dir / "crushrc", "text"),
        }

    def plan(self, target: Target, current: Current) -> Plan:
        text = file_text(current.get("config"), "config")
        config = _parse(text, "config")
        data_text = file_text(current.get("data"), "data")
        data = _parse(data_text, "data")
        notes = ["the model choice goes into Crush's data file, which Crush reads last and "
                 "where its model picker saves; a project's .crush.json can still override it"]
        provider: dict = {"name": f"byecore: {target.provider}", "type": "openai-compat",
                          "base_url": target.openai_base}
        secret: frozenset[str] = frozenset()
        if target.key_env and not target.via_proxy:
            provider["api_key"] = f"${target.key_env}"
            notes.append(f"Crush expands ${target.key_env} itself; no key is written")
        elif target.key:
            provider["api_key"] = target.key
            secret = frozenset({"config"})
        provider["models"] = [_model(target, m) for m in target.models]
        out = text if text.strip() else f'{{\n  "$schema": "{_SCHEMA}"\n}}\n'
        if (config.get("providers") or {}).get(PROVIDER_ID) != provider:
            out = jsonedit.set_value(out, ("providers", PROVIDER_ID), provider)
        selection = {"large": {"provider": PROVIDER_ID, "model": target.model},
                     "small": {"provider": PROVIDER_ID, "model": _small(target)}}
        data_out = data_text if data_text.strip() else "{}\n"
        for kind, chosen in selection.items():
            if (data.get("models") or {}).get(kind) != chosen:
                data_out = jsonedit.set_value(data_out, ("models", kind), chosen)
        overriding = (data.get("providers") or {}).get(PROVIDER_ID)
        if isinstance(overriding, dict) and overriding.get("api_key"):
            notes.append("Crush's data file holds its own api_key for the byecore provider "
                         "(pasted in Crush), which wins over the one byecore writes")
        notes += _crushrc_problems(current.get("crushrc"))
        return Plan(files={"config": out.encode(), "data": data_out.encode()},
                    secret=secret, notes=notes)

    def read(self, current: Current) -> Reading:
        config = _parse(file_text(current.get("config"), "config"), "config")
        data = _parse(file_text(current.get("data"), "data"), "data")
        large = (data.get("models") or {}).get("large") or (
            config.get("models") or {}).get("large") or {}
        active = large.get("provider") if isinstance(large, dict) else None
        providers = config.get("providers") or {}
        table = providers.get(active) if active else None
        table = table if isinstance(table, dict) else {}
        ours = providers.get(PROVIDER_ID) if isinstance(providers.get(PROVIDER_ID), dict) else {}
        reading = Reading(configured=active == PROVIDER_ID and bool(ours),
                          base_url=table.get("base_url"),
                          model=large.get("model") if isinstance(large, dict) else None,
                          label=table.get("name"))
        reading.owned = {
            "providers.byecore": {k: v for k, v in ours.items() if k != "api_key"},
            "providers.byecore.api_key": ours.get("api_key"),
            "data:models.large": (data.get("models") or {}).get("large"),
            "data:models.small": (data.get("models") or {}).get("small"),
        }
        if table.get("type") == "openai":
            reading.problems.append(f"provider {active} has type openai: Crush sends ids "
                                    "containing gpt-4/gpt-5 to /responses")
        url = str(table.get("base_url") or "")
        if url and table.get("type") in ("openai", "openai-compat") and "/v1" not in url:
            reading.problems.append(f"base_url {url} has no /v1: Crush posts to "
                                    f"{url.rstrip('/')}/chat/completions")
        reading.problems += _crushrc_problems(current.get("crushrc"))
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        return []


def _model(target: Target, model: str) -> dict:
    limits = target.limits_for(model)
    # Crush's schema requires the cost and capability fields. Costs are unknown to
    # byecore (0 shows no cost), and can_reason / supports_attachments stay false so
    # Crush never sends reasoning options or images an upstream may reject.
    return {"id": model, "name": model, "context_window": limits.context_window,
            "default_max_tokens": limits.max_output, "can_reason": False,
            "supports_attachments": False, "cost_per_1m_in": 0, "cost_per_1m_out": 0,
            "cost_per_1m_in_cached": 0, "cost_per_1m_out_cached": 0}


def _small(target: Target) -> str:
    """A cheaper model of the provider for Crush's small tasks, else the chosen one."""
    for m in target.models:
        if any(hint in m.lower() for hint in _SMALL_HINTS):
            return m
    return target.model


def _crushrc_problems(data: bytes | None) -> list[str]:
    if not data:
        return []
    text = data.decode("utf-8", "replace")
    problems = []
    if re.search(rf"^\s*provider\s+add\s+['\"]?{PROVIDER_ID}\b", text, re.M):
        problems.append("your crushrc adds a provider named byecore, which wins over the "
                        "one byecore writes into crush.json")
    return problems



def _parse(text: str, role: str) -> dict:
    # strict JSON: Crush rejects comments and trailing commas
    return json_object(text, role, objects=("providers", "models"))
