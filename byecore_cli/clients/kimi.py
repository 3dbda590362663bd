"""Kimi Code (npm ``@moonshot-ai/kimi-code``): ``$KIMI_CODE_HOME/config.toml``, default
``~/.kimi-code``.

Checked against the shipped bundle of Kimi Code 2.1.0 (``dist/main.mjs``: the
``providers``/``models`` config sections, ``defaultHomeDir``, the provider credential
rules) and its source (MoonshotAI/kimi-code ``packages/agent-core-v2/src/app/
kosongConfig/configSection.ts``), and run: ``kimi -p`` finishes a Bash tool call with
this file (2.1.0 needs Node 22.19 or newer; npm's ``node@22`` does).

- ``[providers.<id>]``: ``type`` (``openai`` is Chat Completions at ``{base_url}/chat/
  completions``; also ``openai_responses``, ``anthropic``, ``kimi``), ``base_url``, and
  either ``api_key`` or ``api_key_env`` (both at once is refused by Kimi Code);
- ``[models."<alias>"]``: ``provider`` (a providers id), ``model`` (the id sent) and
  ``max_context_size``; an alias with dots or slashes must be quoted;
- top-level ``default_model`` names an alias.

What byecore owns: ``default_model``, ``[providers.byecore]`` and the
``[models."byecore/<model>"]`` tables, one per offered model (stale ones from an
earlier setup are removed). The file is edited as text (``tomledit``) and checked by
parsing it again, so everything else comes back byte for byte.

What wins over the file: ``KIMI_MODEL_NAME`` (with ``KIMI_MODEL_API_KEY``,
``KIMI_MODEL_BASE_URL``) defines a model from the environment, and ``--model``.
"""

from __future__ import annotations

import re
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
from byecore_cli.clients.tomledit import tomllib

PROVIDER_ID = "byecore"
_ALIAS_PREFIX = f"{PROVIDER_ID}/"
_PROVIDER_KEYS = ("type", "base_url", "api_key", "api_key_env")
_BARE = re.compile(r"[A-Za-z0-9_-]+")
# Set in the shell, this makes Kimi Code build its model from KIMI_MODEL_* variables.
OVERRIDES = {"KIMI_MODEL_NAME": "default_model"}


class Kimi:
    name = "kimi"
    title = "Kimi Code"
    protocol = "chat"
    executable = "kimi"

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        folder = env_folder(env, "KIMI_CODE_HOME", home / ".kimi-code")
        return {"config": ClientFile("config", folder / "config.toml", "toml")}

    def plan(self, target: Target, current: Current) -> Plan:
        text = file_text(current.get("config"), "config")
        data = _load(text)
        provider: dict[str, Any] = {"type": "openai", "base_url": target.openai_base}
        notes: list[str] = []
        if target.key_env and not target.via_proxy:
            provider["api_key_env"] = target.key_env
            notes.append(f"Kimi Code reads the key from ${target.key_env} (api_key_env); "
                         "no key is written")
        else:
            provider["api_key"] = target.key or NO_KEY
        models = {alias(m): {"provider": PROVIDER_ID, "model": m,
                             "max_context_size": target.limits_for(m).context_window}
                  for m in target.models}
        out = _edit(text, data, alias(target.model), provider, models)
        secret = frozenset({"config"}) if "api_key" in provider else frozenset()
        return Plan(files={"config": out.encode()}, secret=secret, notes=notes)

    def read(self, current: Current) -> Reading:
        data = _load(file_text(current.get("config"), "config"))
        chosen = data.get("default_model")
        models = _dict(data.get("models"))
        entry = _dict(models.get(chosen)) if isinstance(chosen, str) else {}
        providers = _dict(data.get("providers"))
        table = _dict(providers.get(entry.get("provider")))
        ours = providers.get(PROVIDER_ID)
        reading = Reading(configured=entry.get("provider") == PROVIDER_ID and bool(ours),
                          base_url=_str(table.get("base_url")),
                          model=_str(entry.get("model")), label=_str(chosen))
        reading.owned = {"default_model": chosen,
                         "providers.byecore": {k: v for k, v in _dict(ours).items()
                                               if k != "api_key"},
                         "providers.byecore.api_key": _dict(ours).get("api_key"),
                         "models.byecore": {k: v for k, v in models.items()
                                            if k.startswith(_ALIAS_PREFIX)}}
        if isinstance(chosen, str) and chosen not in models:
            reading.problems.append(f"default_model = {chosen!r} but there is no "
                                    f'[models."{chosen}"] table')
        if table.get("api_key") and table.get("api_key_env"):
            reading.problems.append("the provider has both api_key and api_key_env, which "
                                    "Kimi Code refuses: remove one")
        url = str(table.get("base_url") or "")
        if url.rstrip("/").endswith("/chat/completions"):
            reading.problems.append(f"base_url {url} is an endpoint: Kimi Code appends "
                                    "/chat/completions itself")
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        if any(env.get(name, "").strip() for name in OVERRIDES):
            return ["your shell sets KIMI_MODEL_NAME, which makes Kimi Code use a model "
                    "defined by KIMI_MODEL_* variables instead of default_model"]
        return []


def alias(model: str) -> str:
    """The ``[models]`` alias byecore gives ``model``."""
    return _ALIAS_PREFIX + model


def table_header(parts: tuple[str, ...]) -> str:
    """``[a."b/c"]``: a TOML header, each part quoted when it is not a bare key."""
    return "[" + ".".join(p if _BARE.fullmatch(p) else tomledit.render(p)
                          for p in parts) + "]"


def table_text(parts: tuple[str, ...], values: Mapping[str, Any], nl: str) -> str:
    """A new table: its header, then one ``key = value`` line per value (ints bare)."""
    return table_header(parts) + nl + "".join(
        f"{k} = {v if isinstance(v, int) and not isinstance(v, bool) else tomledit.render(v)}"
        f"{nl}" for k, v in values.items())


def _edit(text: str, data: dict, chosen: str, provider: dict[str, Any],
          models: dict[str, dict]) -> str:
    nl = tomledit.newline(text)
    stmts = tomledit.statements(text, within=("providers", "models"))
    edits: list[tomledit.Edit] = []
    root = [s for s in stmts if not s.table and not s.header]
    line = next((s for s in root if s.key == ("default_model",)), None)
    if line is not None:
        if data.get("default_model") != chosen:
            edits.append((line.value_at, line.body_end, tomledit.render(chosen)))
    elif not text.strip():
        edits.append((0, len(text), f"default_model = {tomledit.render(chosen)}{nl}{nl}"))
    elif "default_model" in data:
        raise Unparsable("config", "default_model is not a plain line at the top of the "
                                   "file; make it one")
    else:
        edits.append(tomledit.top_insert(text, root, f"default_model = "
                                                     f"{tomledit.render(chosen)}{nl}", nl))
    ours = _dict(data.get("providers")).get(PROVIDER_ID)
    stale = [k for k in _dict(data.get("models")) if k.startswith(_ALIAS_PREFIX)]
    # tables already as wanted stay where they are (an unchanged file stays unchanged)
    rewrite = {k: _dict(data.get("models"))[k] for k in stale} != models
    headers = [i for i, s in enumerate(stmts) if s.header]
    provider_at = None
    removed: list[tuple[int, int]] = []  # byecore's old [models."byecore/…"] tables
    for i, stmt in enumerate(stmts):
        full = stmt.table + (stmt.key or ())
        if stmt.header and stmt.table == ("providers", PROVIDER_ID) and not stmt.aot:
            provider_at = i
        elif stmt.header and len(stmt.table) > 1 and stmt.table[0] == "models" and \
                stmt.table[1].startswith(_ALIAS_PREFIX) and rewrite:
            nxt = next((h for h in headers if h > i), None)
            removed.append((stmt.start, stmts[nxt].start if nxt is not None else len(text)))
        elif stmt.key is not None and len(stmt.table) < 2 and (
                full[:2] == ("providers", PROVIDER_ID) or full in (("providers",),
                                                                   ("models",))
                or (full[:1] == ("models",) and full[1].startswith(_ALIAS_PREFIX))):
            raise Unparsable("config", "byecore edits [providers.byecore] and [models."
                                       '"byecore/…"] only as tables of their own; write '
                                       "them that way (or remove them)")
    edits += removals(text, removed, nl)
    if provider_at is not None:
        edits += tomledit.table_edits(text, stmts, provider_at, _PROVIDER_KEYS,
                                      _dict(ours), provider, nl)
        new = ""
    else:
        new = table_text(("providers", PROVIDER_ID), provider, nl)
    for name, values in models.items() if rewrite else ():
        new += (nl if new else "") + table_text(("models", name), values, nl)
    if new:
        edits.append(tomledit.append(text, new, nl))
    out = tomledit.splice(text, edits)
    kept = {k: v for k, v in _dict(ours).items() if k not in _PROVIDER_KEYS}
    expected: dict[tuple[str, ...], Any] = {("default_model",): chosen,
                                             ("providers", PROVIDER_ID): kept | provider}
    expected |= {("models", k): None for k in stale}
    expected |= {("models", k): v for k, v in models.items()}
    try:
        after = tomllib.loads(out)
    except tomllib.TOMLDecodeError:
        after = None
    if after is None or not tomledit.only_changed(data, after, expected):
        raise Unparsable("config", "byecore could not add its settings to config.toml "
                                   "without changing others, so it wrote nothing; please "
                                   "report this file's shape as a bug")
    return out


def removals(text: str, spans: list[tuple[int, int]], nl: str) -> list[tomledit.Edit]:
    """Edits deleting ``spans`` (adjacent ones merged); a run that ends the file takes
    the blank lines before it too, so the tables appended after it sit as before."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for span in merged:
        if span[1] == len(text):
            while text[:span[0]].endswith(nl + nl):
                span[0] -= len(nl)
    return [(start, end, "") for start, end in merged]


def _load(text: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        raise Unparsable("config", f"this is not valid TOML ({str(exc).split(' (at ')[0]})",
                         int(where.group(1)) if where else None) from None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
