"""Continue: ``~/.continue/config.yaml`` (``$CONTINUE_GLOBAL_DIR`` moves the folder).

What byecore owns: the ``models`` items whose ``name`` ends in `` (byecore)``, one per
offered model, chosen one first (Continue picks the first chat model by default), and
the required top-level ``name``/``version``/``schema`` only when they are missing.
Comments, the user's own models, rules, MCP servers and context providers stay byte
for byte: the file is edited in place with ``clients/yamledit.py``.

Each item: ``provider: openai`` (posts to ``{apiBase}chat/completions``), ``apiBase``
= root + ``/v1``, roles, and the context window and output limit. Continue sends ids
matching ``^(gpt-5|o[0-9])`` to ``{apiBase}responses``: the IDE extension only for
the official OpenAI URL and never with ``useResponsesApi: false`` (written for such
ids), but the ``cn`` CLI 1.5.47 does it for any apiBase whatever the setting
(checked in its published bundle), which a note says.

The key: ``${{ secrets.VAR }}`` when the provider keeps it in an environment variable.
``cn`` resolves that from its environment, but the IDE extension only from
``~/.continue/.env``, so byecore also writes that one line there (0600) when the
variable is set now. Otherwise the key itself goes into config.yaml (0600).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from byecore_cli.clients import yamledit
from byecore_cli.clients.base import (
    ClientFile,
    Current,
    Plan,
    Reading,
    Target,
    Unparsable,
    env_folder,
    file_text,
)

SUFFIX = " (byecore)"
_RESPONSES_IDS = re.compile(r"^(gpt-5|o[0-9])", re.I)  # Continue's own routing rule
_TOP = {"name": "Local Config", "version": "1.0.0", "schema": "v1"}


def _ours(item: object) -> bool:
    return isinstance(item, dict) and str(item.get("name", "")).endswith(SUFFIX)


class Continue:
    name = "continue"
    title = "Continue"
    protocol = "chat"
    executable = "cn"

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        folder = env_folder(env, "CONTINUE_GLOBAL_DIR", home / ".continue")
        return {"config": ClientFile("config", folder / "config.yaml", "yaml"),
                "env": ClientFile("env", folder / ".env", "text")}

    def plan(self, target: Target, current: Current) -> Plan:
        text = file_text(current.get("config"), "config")
        doc = yamledit.load(text, "config")
        if doc.get("models") is not None and not isinstance(doc["models"], list):
            raise Unparsable("config", "models is not a list")
        notes: list[str] = []
        files: dict[str, bytes | None] = {}
        secret: set[str] = set()
        if target.key_env and not target.via_proxy:
            key: str | None = f"${{{{ secrets.{target.key_env} }}}}"
            if target.key is not None:
                env_text = file_text(current.get("env"), "env")
                files["env"] = _set_env_line(env_text, target.key_env, target.key).encode()
                secret.add("env")
                notes.append(f"the Continue IDE extension reads secrets only from "
                             f"~/.continue/.env, so the current value of "
                             f"${target.key_env} went there (mode 0600)")
            else:
                notes.append(f"set {target.key_env}=… in ~/.continue/.env for the IDE "
                             "extension (the cn CLI also reads your shell)")
        else:
            key = target.key
            if key:
                secret.add("config")
        items = []
        for m in target.models:
            limits = target.limits_for(m)
            item: dict = {"name": m + SUFFIX, "provider": "openai", "model": m,
                          "apiBase": target.openai_base}
            if key:
                item["apiKey"] = key
            item["roles"] = ["chat", "edit", "apply", "summarize"]
            item["defaultCompletionOptions"] = {"contextLength": limits.context_window,
                                                "maxTokens": limits.max_output}
            if _RESPONSES_IDS.match(m):
                item["useResponsesApi"] = False
            items.append(item)
        if any(_RESPONSES_IDS.match(m) for m in target.models):
            notes.append("Continue's cn CLI (1.5.47) sends gpt-5*/o1-9 model ids to "
                         f"{target.openai_base}/responses whatever useResponsesApi says; "
                         "the IDE extension keeps them on chat completions")
        out = text
        for key_name, value in _TOP.items():
            if key_name not in doc:
                out = yamledit.set_top(out, key_name, value, "config")
        out = _put_first(out, items)
        files["config"] = out.encode()
        return Plan(files=files, secret=frozenset(secret), notes=notes)

    def read(self, current: Current) -> Reading:
        doc = yamledit.load(file_text(current.get("config"), "config"), "config")
        models = doc.get("models") or []
        listed = isinstance(models, list)
        models = models if listed else []
        ours = [i for i in models if _ours(i)]
        first = ours[0] if ours else {}
        reading = Reading(configured=bool(ours), base_url=first.get("apiBase"),
                          model=first.get("model"), label=first.get("name"))
        for item in ours:
            shown = {k: v for k, v in item.items() if k != "apiKey"}
            reading.owned[f"models.{item['name']}"] = _plain(shown)
            reading.owned[f"models.{item['name']}.api_key"] = item.get("apiKey")
        if not listed:
            reading.problems.append("models in config.yaml is not a list: Continue needs "
                                    "one (- item lines)")
        for k in ("name", "version"):  # required by Continue's schema; "schema" is not
            if current.get("config") is not None and k not in doc:
                reading.problems.append(f"config.yaml has no top-level {k}, which Continue "
                                        "requires")
        for item in models:
            if isinstance(item, dict) and item.get("provider") == "openai":
                url = str(item.get("apiBase") or "")
                if url and "/v1" not in url:
                    reading.problems.append(f"{item.get('name')}: apiBase {url} has no /v1")
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        return []


def _put_first(text: str, items: list[dict]) -> str:
    """byecore's items first in ``models`` (Continue's default chat model is the first);
    the user's items follow, unchanged."""
    current = list(yamledit.load(text, "config").get("models") or [])
    if current[: len(items)] == items and not any(_ours(i) for i in current[len(items):]):
        return text
    text = yamledit.replace_items(text, "models", _ours, [], "config")
    if not yamledit.load(text, "config").get("models"):
        return yamledit.replace_items(text, "models", _ours, items, "config")
    return _prepend(text, items)


def _prepend(text: str, items: list[dict]) -> str:
    doc = yamledit.load(text, "config")
    seq = doc["models"]
    if seq.fa.flow_style():  # rewritten as a block list, byecore's items first
        return yamledit.replace_items(text, "models", _ours, items, "config", first=True)
    lines = text.splitlines(keepends=True)
    start = seq.lc.item(0)[0]
    dash_col = len(lines[start]) - len(lines[start].lstrip(" "))
    while start - 1 > doc.lc.key("models")[0] and lines[start - 1].lstrip().startswith("#"):
        start -= 1  # a comment right above the first item is about that item: keep them together
    block = yamledit.dump_items("models", items, dash_col, seq.lc.item(0)[1],
                                 "\r\n" if "\r\n" in text else "\n")
    out = "".join(lines[:start]) + block + "".join(lines[start:])
    after = yamledit.load(out, "config")
    if list(after["models"]) != items + list(seq) or any(
            after.get(k) != v for k, v in doc.items() if k != "models"):
        raise Unparsable("config", "byecore could not add its models to config.yaml safely")
    return out


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _set_env_line(text: str, name: str, value: str) -> str:
    line = f"{name}={value}"
    pattern = re.compile(rf"^{re.escape(name)}=.*$", re.M)
    if pattern.search(text):
        return pattern.sub(lambda _: line, text, count=1)
    if text and not text.endswith("\n"):
        text += "\n"
    return text + line + "\n"
