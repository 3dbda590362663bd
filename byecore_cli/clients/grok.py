"""Grok Build (xAI's ``grok``): ``$GROK_HOME/config.toml``, default ``~/.grok``.

Checked against xai-org/grok-build (commit 19d42e3, 2026-08-19): the ``[model.*]``
fields in ``crates/codegen/xai-grok-shell/src/agent/config.rs`` (``ModelInfo``,
``ConfigModelOverride``) and the user guide ``docs/user-guide/11-custom-models.md`` and
``05-configuration.md``. Not run here: Grok Build installs as a downloaded binary.

- ``[model.<id>]``: ``model`` (the id sent), ``base_url`` (root + /v1), ``name``,
  ``api_key`` or ``env_key`` (a variable's name), ``api_backend`` (``chat_completions``,
  the default, ``responses`` or ``messages``) and ``context_window`` (required for a
  model Grok does not know), ``max_completion_tokens``;
- ``[models] default = "<id>"`` is the model new sessions start with.

What byecore owns: ``[models] default`` and one ``[model."byecore/<model>"]`` table per
offered model, with ``api_backend = "responses"`` (stale ones from an earlier setup
are removed). A table of byecore's always carries its own key (or ``env_key``), so Grok
never sends the user's xAI login to the gateway. Edited as text (``tomledit``) and
checked by parsing it again; everything else comes back byte for byte.

What wins over the file: ``-m``, ``GROK_DEFAULT_MODEL``, and a ``GROK_CONFIG`` /
``GROK_CONFIG_PATH`` overlay (see ``check_env``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from byecore_cli.clients import tomledit
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
)
from byecore_cli.clients.kimi import _load, removals, table_text
from byecore_cli.clients.tomledit import tomllib

PREFIX = "byecore/"
OVERRIDES = {
    "GROK_DEFAULT_MODEL": "[models] default",
    "GROK_CONFIG": "config.toml (an overlay above it)",
    "GROK_CONFIG_PATH": "config.toml (an overlay above it)",
}


class Grok:
    name = "grok"
    title = "Grok Build"
    protocol = "responses"
    executable = "grok"

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        folder = env_folder(env, "GROK_HOME", home / ".grok")
        return {"config": ClientFile("config", folder / "config.toml", "toml")}

    def plan(self, target: Target, current: Current) -> Plan:
        text = file_text(current.get("config"), "config")
        data = _load(text)
        key: dict[str, str] = {}
        notes: list[str] = []
        if target.key_env and not target.via_proxy:
            key["env_key"] = target.key_env
            notes.append(f"Grok reads the key from ${target.key_env} (env_key); no key is "
                         "written")
        else:
            key["api_key"] = target.key or NO_KEY
        tables = {}
        for m in target.models:
            limits = target.limits_for(m)
            tables[PREFIX + m] = {"model": m, "base_url": target.openai_base,
                                  "name": f"{m} (byecore: {target.provider})", **key,
                                  "api_backend": "responses",
                                  "context_window": limits.context_window,
                                  "max_completion_tokens": limits.max_output}
        out = _edit(text, data, PREFIX + target.model, tables)
        secret = frozenset({"config"}) if "api_key" in key else frozenset()
        return Plan(files={"config": out.encode()}, secret=secret, notes=notes)

    def read(self, current: Current) -> Reading:
        data = _load(file_text(current.get("config"), "config"))
        chosen = _dict(data.get("models")).get("default")
        entries = _dict(data.get("model"))
        entry = _dict(entries.get(chosen)) if isinstance(chosen, str) else {}
        ours = {k: v for k, v in entries.items() if k.startswith(PREFIX)}
        reading = Reading(configured=isinstance(chosen, str) and chosen in ours,
                          base_url=_str(entry.get("base_url")),
                          model=_str(entry.get("model")), label=_str(chosen))
        reading.owned = {"models.default": chosen,
                         "model.byecore": {k: {f: v for f, v in _dict(t).items()
                                               if f != "api_key"} for k, t in ours.items()},
                         # one key in every table of byecore's
                         "model.byecore.api_key": next((_dict(t).get("api_key")
                                                        for t in ours.values()), None)}
        url = str(entry.get("base_url") or "")
        if url.rstrip("/").endswith(("/responses", "/chat/completions", "/messages")):
            reading.problems.append(f"base_url {url} is an endpoint: Grok appends the "
                                    "path itself (use the root plus /v1)")
        for name, table in ours.items():
            if isinstance(table, dict) and "context_window" not in table:
                reading.problems.append(f'[model."{name}"] has no context_window, which '
                                        "Grok needs for a model it does not know")
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        return [f"your shell sets {name}, which wins over {what}"
                for name, what in OVERRIDES.items() if env.get(name, "").strip()]


def _edit(text: str, data: dict, chosen: str, tables: dict[str, dict]) -> str:
    nl = tomledit.newline(text)
    stmts = tomledit.statements(text, within=("model", "models"))
    models = data.get("models")
    if models is not None and not isinstance(models, dict):
        raise Unparsable("config", "models is not a table")
    stale = [k for k in _dict(data.get("model")) if k.startswith(PREFIX)]
    rewrite = {k: _dict(data.get("model"))[k] for k in stale} != tables
    headers = [i for i, s in enumerate(stmts) if s.header]
    edits: list[tomledit.Edit] = []
    spans: list[tuple[int, int]] = []
    models_at = None
    for i, stmt in enumerate(stmts):
        full = stmt.table + (stmt.key or ())
        if stmt.header and stmt.table == ("models",) and not stmt.aot:
            models_at = i
        elif stmt.header and stmt.table[:1] == ("model",) and len(stmt.table) > 1 and \
                stmt.table[1].startswith(PREFIX):
            if rewrite:
                nxt = next((h for h in headers if h > i), None)
                spans.append((stmt.start, stmts[nxt].start if nxt is not None else len(text)))
        elif stmt.key is not None and (
                (len(stmt.table) < 2 and full[:1] == ("model",) and (
                    len(full) == 1 or full[1].startswith(PREFIX)))
                or (not stmt.table and full[:1] == ("models",))):
            raise Unparsable("config", 'byecore edits [models] and [model."byecore/…"] '
                                       "only as tables of their own; write them that way")
    edits += removals(text, spans, nl)
    new = ""
    if models_at is not None:
        edits += tomledit.table_edits(text, stmts, models_at, ("default",),
                                      _dict(models), {"default": chosen}, nl)
    else:
        new = table_text(("models",), {"default": chosen}, nl)
    for name, values in tables.items() if rewrite else ():
        new += (nl if new else "") + table_text(("model", name), values, nl)
    if new:
        edits.append(tomledit.append(text, new, nl))
    out = tomledit.splice(text, edits)
    expected: dict[tuple[str, ...], Any] = {("models", "default"): chosen}
    expected |= {("model", k): None for k in stale}
    expected |= {("model", k): v for k, v in tables.items()}
    try:
        after = tomllib.loads(out)
    except tomllib.TOMLDecodeError:
        after = None
    if after is None or not tomledit.only_changed(data, after, expected):
        raise Unparsable("config", "byecore could not add its settings to config.toml "
                                   "without changing others, so it wrote nothing; please "
                                   "report this file's shape as a bug")
    return out


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
