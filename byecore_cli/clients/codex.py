"""Codex CLI: ``$CODEX_HOME/config.toml`` (and ``auth.json``), default ``~/.codex``.

What byecore owns in ``config.toml``: the top-level ``model_provider`` and ``model``,
and a ``[model_providers.byecore]`` table. The id is always ``byecore`` whatever the
upstream, because Codex files its resume history under the provider id: one stable id
keeps the history in one place across switches. The table's ``name`` is never
``OpenAI`` (that name turns on OpenAI-only calls such as ``/responses/compact``).
Everything else — ``[projects]``, ``[mcp_servers]``, ``[profiles]``, comments, order —
is the user's and comes back byte for byte (tomlkit).

The key (checked against Codex 0.171.0's own config fields):

- provider keeps its key in an environment variable -> ``env_key = "VAR"``; no key in
  any file;
- ``auth.json`` absent or an API-key file -> ``OPENAI_API_KEY`` in ``auth.json`` with
  ``requires_openai_auth = true`` (the way gateways document it);
- ``auth.json`` holds a ChatGPT login -> the login is left untouched and the provider
  gets its own ``experimental_bearer_token``: Codex prefers it to ``auth.json``, so
  the ChatGPT token is never sent to a third-party URL, and the login is still there
  when the user switches back to OpenAI.

Never written: ``wire_api = "chat"`` (current Codex refuses to load it),
``disable_response_storage`` and a top-level ``network_access`` (ignored, with a
warning).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from byecore_cli.clients import jsonedit
from byecore_cli.clients.base import (
    ClientFile,
    Current,
    Plan,
    Reading,
    Target,
    Unparsable,
    file_text,
)

PROVIDER_ID = "byecore"
_TABLE_KEYS = ("name", "base_url", "wire_api", "env_key", "experimental_bearer_token",
               "requires_openai_auth")
_BUILTIN = ("openai", "ollama", "lmstudio", "amazon-bedrock", "oss")
_NO_KEY = "byecore-no-key"  # keyless local providers: still never fall back to a login


class Codex:
    name = "codex"
    title = "Codex CLI"
    protocol = "responses"
    executable = "codex"

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        folder = Path(env["CODEX_HOME"]).expanduser() if env.get("CODEX_HOME") else (
            home / ".codex")
        return {
            "config": ClientFile("config", folder / "config.toml", "toml"),
            "auth": ClientFile("auth", folder / "auth.json", "json"),
        }

    # ---- plan -------------------------------------------------------------------------

    def plan(self, target: Target, current: Current) -> Plan:
        import tomlkit

        text = file_text(current.get("config"), "config")
        doc = _parse_toml(text)
        auth_text = file_text(current.get("auth"), "auth")
        auth = _parse_auth(auth_text)
        kind = _auth_kind(auth)
        notes: list[str] = []

        _set_top(doc, "model", target.model)
        _set_top(doc, "model_provider", PROVIDER_ID)
        providers = doc.get("model_providers")
        if providers is None:
            doc["model_providers"] = tomlkit.table(is_super_table=True)
            providers = doc["model_providers"]
        if PROVIDER_ID not in providers:
            providers[PROVIDER_ID] = tomlkit.table()
        table = providers[PROVIDER_ID]
        wanted: dict[str, Any] = {
            "name": f"byecore: {target.provider}",
            "base_url": target.openai_base,
            "wire_api": "responses",
        }
        new_auth = auth_text
        secret: set[str] = set()
        if target.key_env and not target.via_proxy:
            wanted["env_key"] = target.key_env
            notes.append(f"Codex reads the key from ${target.key_env} (env_key); "
                         "no key is written to a file")
        elif target.key is None:
            wanted["experimental_bearer_token"] = _NO_KEY
            secret.add("config")
        elif kind in ("absent", "apikey"):
            wanted["requires_openai_auth"] = True
            new_auth = _set_auth_key(auth_text, target.key)
            secret.add("auth")
        else:
            wanted["experimental_bearer_token"] = target.key
            secret.add("config")
            notes.append("auth.json holds a ChatGPT login: byecore leaves it untouched and "
                         "gives the provider its own key (experimental_bearer_token in "
                         "config.toml), so the login is never sent to "
                         f"{target.openai_base}")
        for key in _TABLE_KEYS:
            if key in wanted:
                if table.get(key) != wanted[key]:
                    table[key] = wanted[key]
            elif key in table:
                del table[key]
        if "experimental_bearer_token" in table:
            secret.add("config")
        files: dict[str, bytes | None] = {"config": tomlkit.dumps(doc).encode()}
        if new_auth != auth_text:
            files["auth"] = new_auth.encode()
        return Plan(files=files, secret=frozenset(secret), notes=notes)

    # ---- read -------------------------------------------------------------------------

    def read(self, current: Current) -> Reading:
        doc = _parse_toml(file_text(current.get("config"), "config")).unwrap()
        auth = _parse_auth(file_text(current.get("auth"), "auth"))
        providers = doc.get("model_providers") or {}
        ours = providers.get(PROVIDER_ID) if isinstance(providers, dict) else None
        active = doc.get("model_provider", "openai")
        table = providers.get(active) if isinstance(providers, dict) else None
        reading = Reading(configured=active == PROVIDER_ID and isinstance(ours, dict),
                          model=doc.get("model"))
        if isinstance(table, dict):
            reading.base_url = table.get("base_url")
            reading.label = table.get("name")
        elif active in _BUILTIN:
            reading.label = f"built-in {active}"
        reading.owned = {"model_provider": doc.get("model_provider"), "model": doc.get("model")}
        if isinstance(ours, dict):
            for key in _TABLE_KEYS:
                reading.owned[f"model_providers.{PROVIDER_ID}.{key}"] = ours.get(key)
            if ours.get("requires_openai_auth") and auth:
                reading.owned["auth.OPENAI_API_KEY"] = auth.get("OPENAI_API_KEY")
        reading.problems = _problems(doc, active, table, auth)
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        problems = []
        home = env.get("CODEX_HOME")
        if home and not Path(home).expanduser().is_dir():
            problems.append(f"CODEX_HOME={home} does not exist: Codex refuses to start "
                            "until that folder is created")
        return problems


def _set_top(doc, key: str, value: Any) -> None:
    """Set a top-level key in place, or add it after the last top-level key.

    tomlkit's own placement would put a new key after a comment that introduces the
    first table, separating the user's comment from its table.
    """
    from tomlkit.items import AoT, Comment, Table

    if key in doc:
        if doc[key] != value:
            doc[key] = value
        return
    body = doc.body
    plain = [i for i, (k, v) in enumerate(body) if k is not None
             and not isinstance(v, (Table, AoT))]
    if plain:
        at = plain[-1] + 1
    else:
        at = 0
        while at < len(body) and isinstance(body[at][1], Comment):
            at += 1
    if at >= len(body):
        doc[key] = value
    else:
        doc._insert_at(at, key, value)


def _problems(doc: dict, active: str, table: Any, auth: dict | None) -> list[str]:
    problems = []
    providers = doc.get("model_providers") or {}
    for pid, t in (providers.items() if isinstance(providers, dict) else []):
        if isinstance(t, dict) and t.get("wire_api") == "chat":
            problems.append(f'[model_providers.{pid}] has wire_api = "chat", which current '
                            'Codex refuses to load; it must be "responses"')
    for key in ("disable_response_storage", "network_access"):
        if key in doc:
            problems.append(f"top-level {key} is obsolete: Codex ignores it with a warning")
    if active not in _BUILTIN and not isinstance(table, dict):
        problems.append(f"model_provider = {active!r} but there is no "
                        f"[model_providers.{active}] table")
    if isinstance(table, dict):
        url = str(table.get("base_url") or "")
        trimmed = url.rstrip("/")
        if trimmed.endswith(("/responses", "/chat/completions", "/v1/v1")):
            problems.append(f"base_url {url} is not a base URL: Codex appends /responses "
                            f"itself (use the root plus /v1)")
        if table.get("name") == "OpenAI":
            problems.append('the provider\'s name is "OpenAI": Codex then calls '
                            "/responses/compact, which gateways rarely serve")
        token = table.get("experimental_bearer_token")
        if isinstance(token, str) and any(ch.isspace() for ch in token):
            problems.append("experimental_bearer_token has spaces or line breaks in it")
        if table.get("requires_openai_auth") and _auth_kind(auth) == "chatgpt" \
                and not table.get("env_key") and not table.get("experimental_bearer_token"):
            problems.append("requires_openai_auth with a ChatGPT login in auth.json: Codex "
                            f"sends your ChatGPT token to {url or 'this provider'}")
    key = (auth or {}).get("OPENAI_API_KEY")
    if isinstance(key, str) and key != key.strip():
        problems.append("auth.json's OPENAI_API_KEY has spaces or line breaks around it")
    profile = doc.get("profile")
    profiles = doc.get("profiles") or {}
    if profile and isinstance(profiles, dict) and isinstance(profiles.get(profile), dict):
        shadow = [k for k in ("model", "model_provider") if k in profiles[profile]]
        if shadow:
            problems.append(f"profile = {profile!r} sets {', '.join(shadow)}, which "
                            "override the top-level ones byecore writes")
    return problems



def _parse_toml(text: str):
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        reason = str(exc).split(" at line ")[0]
        raise Unparsable("config", f"this is not valid TOML ({reason})",
                         getattr(exc, "line", None)) from None


def _parse_auth(text: str) -> dict | None:
    if not text.strip():
        return None
    try:
        data = jsonedit.loads(text)
    except jsonedit.JsonSyntaxError as exc:
        raise Unparsable("auth", f"this is not valid JSON ({exc.problem})", exc.line) from None
    if not isinstance(data, dict):
        raise Unparsable("auth", "expected a JSON object", 1)
    return data


def _auth_kind(auth: dict | None) -> str:
    """absent, apikey (a key and no login) or chatgpt (a login, or anything unknown)."""
    if auth is None:
        return "absent"
    has_login = bool(auth.get("tokens")) or auth.get("auth_mode") not in (None, "apikey")
    if not has_login and isinstance(auth.get("OPENAI_API_KEY"), str):
        return "apikey"
    return "chatgpt"


def _set_auth_key(text: str, key: str) -> str:
    if not text.strip():
        return json.dumps({"OPENAI_API_KEY": key}, indent=2) + "\n"
    return jsonedit.set_value(text, ("OPENAI_API_KEY",), key)
