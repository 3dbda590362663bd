"""Hermes Agent (PyPI ``hermes-agent``): ``$HERMES_HOME/config.yaml``, default ``~/.hermes``.

Checked against hermes-agent 0.19.0's own code (``hermes_cli/config.py``,
``hermes_cli/runtime_provider.py``, ``hermes_constants.py``) and by running it:

- a ``custom_providers`` list item ``{name, base_url, api_key | key_env, api_mode,
  model, models: {id: {context_length}}}`` is a provider of its own; ``model.provider:
  custom:<name>`` selects it and ``model.default`` is the model it sends;
- ``api_mode: chat_completions`` keeps it on ``{base_url}/chat/completions`` (the other
  modes are ``codex_responses`` and ``anthropic_messages``); ``base_url`` is root + /v1;
- ``key_env`` names an environment variable Hermes reads the key from, so no key is
  written when the provider keeps it in one.

What byecore owns: the ``custom_providers`` item named ``byecore`` and the two keys
``model.provider`` and ``model.default``. Every other byte stays: the file is edited in
place (``clients/yamledit.py`` for the list; the two nested keys here, the same way).

What wins over the file: ``HERMES_INFERENCE_MODEL`` (and ``--provider``/``--model``) for
``hermes -z`` and ``--tui`` runs; ``HERMES_INFERENCE_PROVIDER`` only fills in a
``model.provider`` the file lacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from byecore_cli.clients import yamledit
from byecore_cli.clients.base import (
    NO_KEY,
    ClientFile,
    Current,
    Plan,
    Reading,
    Target,
    Unparsable,
    file_text,
)

PROVIDER_NAME = "byecore"
SELECTOR = f"custom:{PROVIDER_NAME}"
# What beats byecore's keys in the file (hermes-agent 0.19.0): the model variable, from
# the shell or ~/.hermes/.env. HERMES_INFERENCE_PROVIDER does not: every reader of it
# (runtime_provider, oneshot, cli) takes model.provider from config.yaml first.
OVERRIDES = {"HERMES_INFERENCE_MODEL": "model.default"}


class Hermes:
    name = "hermes"
    title = "Hermes Agent"
    protocol = "chat"
    executable = "hermes"

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        folder = Path(env["HERMES_HOME"].strip()).expanduser() if (
            env.get("HERMES_HOME", "").strip()) else home / ".hermes"
        return {"config": ClientFile("config", folder / "config.yaml", "yaml")}

    def plan(self, target: Target, current: Current) -> Plan:
        text = file_text(current.get("config"), "config")
        doc = yamledit.load(text, "config")
        if "custom_providers" in doc and not isinstance(doc["custom_providers"], list):
            raise Unparsable("config", "custom_providers is not a list (each entry needs "
                                       "a '- ' in front); fix it and run setup again")
        entry: dict[str, Any] = {"name": PROVIDER_NAME, "base_url": target.openai_base}
        notes: list[str] = []
        secret: frozenset[str] = frozenset()
        if target.key_env and not target.via_proxy:
            entry["key_env"] = target.key_env
            notes.append(f"Hermes reads the key from ${target.key_env} (key_env); no key "
                         "is written")
        else:
            entry["api_key"] = target.key or NO_KEY
            secret = frozenset({"config"})
        entry["api_mode"] = "chat_completions"
        entry["model"] = target.model
        entry["models"] = {m: {"context_length": target.limits_for(m).context_window}
                           for m in target.models}
        out = yamledit.replace_items(text, "custom_providers", _ours, [entry], "config")
        out = _set_model(out, {"provider": SELECTOR, "default": target.model})
        return Plan(files={"config": out.encode()}, secret=secret, notes=notes)

    def read(self, current: Current) -> Reading:
        doc = yamledit.load(file_text(current.get("config"), "config"), "config")
        model = doc.get("model")
        model = model if isinstance(model, dict) else {}
        providers = doc.get("custom_providers")
        entries = [e for e in providers if isinstance(e, dict)] if isinstance(
            providers, list) else []
        ours = next((e for e in entries if _ours(e)), None)
        selected = str(model.get("provider") or "")
        active = next((e for e in entries if f"custom:{e.get('name')}" == selected), None)
        reading = Reading(configured=selected == SELECTOR and ours is not None,
                          base_url=_str((active or {}).get("base_url")),
                          model=_str(model.get("default")),
                          label=selected or None)
        plain = {k: v for k, v in (ours or {}).items() if k != "api_key"}
        reading.owned = {"model.provider": model.get("provider"),
                         "model.default": model.get("default"),
                         "custom_providers.byecore": _plain(plain) if ours else None,
                         "custom_providers.byecore.api_key": (ours or {}).get("api_key")}
        if providers is not None and not isinstance(providers, list):
            reading.problems.append("custom_providers is a mapping, not a list: Hermes "
                                    "ignores it")
        if selected.startswith("custom:") and active is None:
            reading.problems.append(f"model.provider is {selected} but no custom_providers "
                                    "entry has that name")
        url = str((active or {}).get("base_url") or "")
        if url.rstrip("/").endswith("/chat/completions"):
            reading.problems.append(f"base_url {url} is an endpoint: Hermes appends "
                                    "/chat/completions itself")
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        return [f"your shell sets {name}, which wins over {key} in config.yaml for "
                "hermes -z and --tui runs" for name, key in OVERRIDES.items()
                if env.get(name, "").strip()]


def _ours(item: Any) -> bool:
    return isinstance(item, dict) and item.get("name") == PROVIDER_NAME


def _set_model(text: str, wanted: dict[str, str]) -> str:
    """Set keys of the top-level ``model`` mapping, keeping its other keys and every
    other line; a ``model: name`` string (Hermes's older form) becomes a mapping."""
    doc = yamledit.load(text, "config")
    model = doc.get("model")
    nl = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    block = "".join(f"  {k}: {yamledit.scalar(v)}{nl}" for k, v in wanted.items())
    if "model" not in doc:
        out = text if not text or text.endswith("\n") else text + nl
        out += f"model:{nl}{block}"
    elif isinstance(model, dict) and model and not model.fa.flow_style():
        edits: dict[int, str] = {}
        new = ""
        indent = " " * model.lc.key(next(iter(model)))[1]
        for key, value in wanted.items():
            if key not in model:
                new += f"{indent}{key}: {yamledit.scalar(value)}{nl}"
                continue
            if model[key] == value:
                continue
            if isinstance(model[key], (dict, list)) or model[key] is None:
                raise Unparsable("config", f"model.{key} is not a plain value; make it "
                                           f"'{key}: …' and run setup again")
            row, col = model.lc.value(key)
            line = edits.get(row, lines[row])
            edits[row] = line[:col] + yamledit.scalar(value) + line[
                yamledit._scalar_end(line, col):]
        for row, line in edits.items():
            lines[row] = line
        head = doc.lc.key("model")[0]
        lines[head] += new
        out = "".join(lines)
    elif isinstance(model, (str, type(None))) or model == {}:
        start = doc.lc.key("model")[0]
        end = yamledit._block_end(doc, "model", lines)
        out = "".join(lines[:start]) + f"model:{nl}{block}" + "".join(lines[end:])
    else:
        raise Unparsable("config", "model is not a block mapping byecore can edit; write "
                                   "it as 'model:' with one key per line")
    after = yamledit.load(out, "config")
    before_model = model if isinstance(model, dict) else {}
    expect = {**{k: v for k, v in before_model.items()}, **wanted}
    same = all(after.get(k) == doc.get(k) for k in set(doc) | set(after) if k != "model")
    if not same or dict(after.get("model") or {}) != expect:
        raise Unparsable("config", "byecore could not set model.provider and "
                                   "model.default without changing other settings")
    return out


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _plain(value: Any) -> Any:
    """ruamel's maps and lists as plain ones, for hand-edit hashes."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
