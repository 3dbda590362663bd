"""Codex CLI: ``$CODEX_HOME/config.toml`` (and ``auth.json``), default ``~/.codex``.

What byecore owns in ``config.toml``: the top-level ``model_provider`` and ``model``,
and a ``[model_providers.byecore]`` table. The id is always ``byecore`` whatever the
upstream, because Codex files its resume history under the provider id: one stable id
keeps the history in one place across switches. The table's ``name`` is never
``OpenAI`` (that name turns on OpenAI-only calls such as ``/responses/compact``).
Everything else — ``[projects]``, ``[mcp_servers]``, ``[profiles]``, comments, order —
is the user's and comes back byte for byte.

The file is edited as text with ``tomledit`` (the way ``jsonedit`` edits JSON):
byecore's values are spliced in where its keys sit, and the result is parsed again and
compared with the original before it is returned. A round trip through tomlkit would
not do: it moves tables that follow an ``[[array]]`` (and their comments), and it takes
minutes on a large file.

The key (checked against Codex 0.171.0's own config fields, and with its binary):

- provider keeps its key in an environment variable -> ``env_key = "VAR"``; no key in
  any file;
- otherwise the provider gets its own ``experimental_bearer_token`` (config.toml,
  0600), which Codex sends instead of anything in ``auth.json``. ``auth.json`` is
  never written: it may hold a ChatGPT login or a real OpenAI API key, and the
  built-in ``openai`` provider (a profile may still use it) must keep sending that,
  never the gateway's key; nor may the gateway ever receive the user's OpenAI key.

Never written: ``wire_api = "chat"`` (current Codex refuses to load it),
``disable_response_storage`` and a top-level ``network_access`` (ignored, with a
warning).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from byecore_cli.clients import jsonedit, tomledit
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
from byecore_cli.clients.tomledit import tomllib  # the strict TOML 1.0 reader, like Codex's

PROVIDER_ID = "byecore"
_TABLE_KEYS = ("name", "base_url", "wire_api", "env_key", "experimental_bearer_token",
               "requires_openai_auth")
_BUILTIN = ("openai", "ollama", "lmstudio", "amazon-bedrock", "oss")
_AUTH_NOTES = {
    "chatgpt": "auth.json holds a ChatGPT login",
    "apikey": "auth.json holds an OpenAI API key",
}


class Codex:
    name = "codex"
    title = "Codex CLI"
    protocol = "responses"
    executable = "codex"

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        folder = env_folder(env, "CODEX_HOME", home / ".codex")
        return {
            "config": ClientFile("config", folder / "config.toml", "toml"),
            "auth": ClientFile("auth", folder / "auth.json", "json"),
        }

    # ---- plan -------------------------------------------------------------------------

    def plan(self, target: Target, current: Current) -> Plan:
        text = file_text(current.get("config"), "config")
        data = _load(text)
        auth_text, auth, _ = _read_auth(current)
        kind = _auth_kind(auth)
        notes: list[str] = []
        files: dict[str, bytes | None] = {}
        wanted: dict[str, Any] = {
            "name": f"byecore: {target.provider}",
            "base_url": target.openai_base,
            "wire_api": "responses",
        }
        if target.key_env and not target.via_proxy:
            wanted["env_key"] = target.key_env
            notes.append(f"Codex reads the key from ${target.key_env} (env_key); "
                         "no key is written to a file")
        else:
            # even keyless, a provider of its own: never a fall back to the login
            wanted["experimental_bearer_token"] = target.key or NO_KEY
            if kind in _AUTH_NOTES:
                notes.append(f"{_AUTH_NOTES[kind]}: byecore leaves it untouched and gives "
                             "its provider its own key (experimental_bearer_token in "
                             "config.toml), so what auth.json holds is never sent to "
                             f"{target.openai_base}")
        if target.key and auth_text == _old_auth_file(target.key):
            files["auth"] = None  # only the gateway key, as earlier byecore versions wrote it
            notes.append("removed auth.json, which held only the gateway key an earlier "
                         "byecore wrote there: Codex's built-in openai provider would "
                         "have sent it to OpenAI")
        files["config"] = _edit_config(text, data, target.model, wanted).encode()
        notes += _profile_notes(data)
        secret = {"config"} if "experimental_bearer_token" in wanted else set()
        return Plan(files=files, secret=frozenset(secret), notes=notes)

    # ---- read -------------------------------------------------------------------------

    def read(self, current: Current) -> Reading:
        doc = _load(file_text(current.get("config"), "config"))
        _, auth, broken = _read_auth(current)
        providers = _dict(doc.get("model_providers"))
        ours = providers.get(PROVIDER_ID)
        active = doc.get("model_provider", "openai")
        active = active if isinstance(active, str) else repr(active)
        table = providers.get(active)
        model = doc.get("model")
        reading = Reading(configured=active == PROVIDER_ID and isinstance(ours, dict),
                          model=model if isinstance(model, str) else None)
        if isinstance(table, dict):
            reading.base_url = _str(table.get("base_url"))
            reading.label = _str(table.get("name"))
        elif active in _BUILTIN:
            reading.label = f"built-in {active}"
        reading.owned = {"model_provider": _plain(doc.get("model_provider")),
                         "model": _plain(model)}
        if isinstance(ours, dict):
            for key in _TABLE_KEYS:
                reading.owned[f"model_providers.{PROVIDER_ID}.{key}"] = _plain(ours.get(key))
            if ours.get("requires_openai_auth") and auth:
                reading.owned["auth.OPENAI_API_KEY"] = _plain(auth.get("OPENAI_API_KEY"))
        reading.problems = _problems(doc, active, table, auth) + broken
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        problems = []
        home = env.get("CODEX_HOME")
        if home and not Path(home).expanduser().is_dir():
            problems.append(f"CODEX_HOME={home} does not exist: Codex refuses to start "
                            "until that folder is created")
        return problems


def _profile_notes(data: dict) -> list[str]:
    """Profiles that name their own provider stay on it: say so, and how to switch."""
    stay = [f"{name} ({profile['model_provider']})"
            for name, profile in _dict(data.get("profiles")).items()
            if isinstance(profile, dict) and profile.get("model_provider") not in (
                None, PROVIDER_ID)]
    if not stay:
        return []
    return [f"profiles that set their own model_provider stay on it: {', '.join(stay)}. "
            "Codex 0.171 reads a profile from NAME.config.toml (codex --profile NAME), no "
            "longer from [profiles.NAME]; to use byecore in one, set model_provider = "
            f'"{PROVIDER_ID}" and a model the gateway serves there']


# ---- config.toml as text (the generic part is tomledit) -------------------------------


def _edit_config(text: str, data: dict, model: str, wanted: dict[str, Any]) -> str:
    nl = tomledit.newline(text)
    stmts = tomledit.statements(text, within=("model_providers",))
    edits: list[tomledit.Edit] = []
    root = [s for s in stmts if not s.table and not s.header]
    new_top = ""
    for key, value in (("model", model), ("model_provider", PROVIDER_ID)):
        line = next((s for s in root if s.key == (key,)), None)
        if line is not None:
            if data.get(key) != value:
                edits.append((line.value_at, line.body_end, tomledit.render(value)))
        elif key in data:
            raise Unparsable("config", f"{key} is not a plain `{key} = \"…\"` line at the "
                                       "top of the file, so byecore cannot set it; make it one")
        else:
            new_top += f"{key} = {tomledit.render(value)}{nl}"
    if new_top:
        edits.append(tomledit.top_insert(text, root, new_top, nl))
    edits += _provider_edits(text, stmts, data, wanted, nl)
    out = tomledit.splice(text, edits)
    _verify(data, out, model, wanted)
    return out


def _provider_edits(text: str, stmts: list[tomledit.Statement], data: dict,
                    wanted: dict[str, Any], nl: str) -> list[tomledit.Edit]:
    providers = data.get("model_providers")
    if providers is not None and not isinstance(providers, dict):
        raise Unparsable("config", "model_providers is not a table: Codex expects "
                                   "[model_providers.ID] tables there; fix or remove it")
    ours = (providers or {}).get(PROVIDER_ID)
    if ours is not None and not isinstance(ours, dict):
        raise Unparsable("config", f"model_providers.{PROVIDER_ID} is not a table; remove "
                                   "it and byecore writes its own")
    for i, stmt in enumerate(stmts):
        if stmt.header and not stmt.aot and stmt.table == ("model_providers", PROVIDER_ID):
            return tomledit.table_edits(text, stmts, i, _TABLE_KEYS, ours or {}, wanted, nl)
    for stmt in stmts:
        full = stmt.table + (stmt.key or ())
        if stmt.key is None or full[:1] != ("model_providers",):
            continue
        if full in (("model_providers",), ("model_providers", PROVIDER_ID)):
            # keep byecore's entry inline, as the user wrote the table
            inner = (PROVIDER_ID,) if full == ("model_providers",) else ()
            try:
                return [tomledit.inline_edit(text, stmt, inner, _TABLE_KEYS, wanted)]
            except tomledit.InlineEditError:
                raise Unparsable("config", "byecore could not edit the inline "
                                           "model_providers table; write [model_providers."
                                           f"{PROVIDER_ID}] as a table of its own") from None
        if full[:2] == ("model_providers", PROVIDER_ID) and len(stmt.table) < 2:
            raise Unparsable("config", f"model_providers.{PROVIDER_ID} is written as dotted "
                                       "keys; byecore edits it only as a [model_providers."
                                       f"{PROVIDER_ID}] table or an inline table: make it "
                                       "one of those")
    block = tomledit.table_block(("model_providers", PROVIDER_ID), wanted, nl)
    return [tomledit.append(text, block, nl)]


def _verify(before: dict, out: str, model: str, wanted: dict[str, Any]) -> None:
    """The edit changed byecore's keys to ``wanted`` and nothing else, or it is refused.
    The user's own extra keys in byecore's table are kept and must survive."""
    ours = {k: v for k, v in _dict(_dict(before.get("model_providers")).get(PROVIDER_ID))
            .items() if k not in _TABLE_KEYS} | wanted
    expected = {("model",): model, ("model_provider",): PROVIDER_ID,
                ("model_providers", PROVIDER_ID): ours}
    try:
        after = _parsed(out)
    except tomllib.TOMLDecodeError:
        after = None
    if after is None or not tomledit.only_changed(before, after, expected):
        raise Unparsable("config", "byecore could not add its settings to config.toml "
                                   "without changing others, so it wrote nothing; please "
                                   "report this file's shape as a bug")


# ---- problems and parsing -----------------------------------------------------------


def _problems(doc: dict, active: str, table: Any, auth: dict | None) -> list[str]:
    problems = []
    for pid, t in _dict(doc.get("model_providers")).items():
        if isinstance(t, dict) and t.get("wire_api") == "chat":
            problems.append(f'[model_providers.{pid}] has wire_api = "chat", which current '
                            'Codex refuses to load; it must be "responses"')
    for key in ("disable_response_storage", "network_access"):
        if key in doc:
            problems.append(f"top-level {key} is obsolete: Codex ignores it with a warning")
    if "model" in doc and not isinstance(doc["model"], str):
        problems.append("the top-level model is not a string: Codex expects a model name")
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
        kind = _auth_kind(auth)
        if table.get("requires_openai_auth") and kind in _AUTH_NOTES and active != "openai" \
                and not table.get("env_key") and not table.get("experimental_bearer_token"):
            what = "ChatGPT token" if kind == "chatgpt" else "OpenAI API key"
            problems.append(f"requires_openai_auth with {_AUTH_NOTES[kind][14:]} in "
                            f"auth.json: Codex sends your {what} to {url or 'this provider'}")
    key = (auth or {}).get("OPENAI_API_KEY")
    if isinstance(key, str) and key != key.strip():
        problems.append("auth.json's OPENAI_API_KEY has spaces or line breaks around it")
    profile = doc.get("profile")
    if profile is not None:
        name = profile if isinstance(profile, str) else "NAME"
        problems.append(f"config.toml selects profile = {profile!r}, which Codex 0.171 "
                        f"refuses to start with: move that profile to {name}.config.toml "
                        f"and run codex --profile {name}")
    return problems


@functools.lru_cache(maxsize=2)
def _parsed(text: str) -> dict:
    """Parsed once: the engine reads the same large file more than once (never mutate)."""
    return tomllib.loads(text)


def _load(text: str) -> dict:
    try:
        return _parsed(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = re.search(r"\(at line (\d+), column \d+\)", message)
        reason = message.split(" (at ")[0]
        raise Unparsable("config", f"this is not valid TOML ({reason})",
                         int(where.group(1)) if where else None) from None


def _read_auth(current: Current) -> tuple[str, dict | None, list[str]]:
    """auth.json's text, its object, and what is wrong with it. byecore never writes
    it, so a broken one is only reported, and is Codex's to complain about."""
    try:
        text = file_text(current.get("auth"), "auth")
    except Unparsable as exc:
        return "", None, [f"auth.json: {exc.problem}"]
    if not text.strip():
        return text, None, []
    try:
        data = jsonedit.loads(text)
    except jsonedit.JsonSyntaxError as exc:
        return text, None, [f"auth.json is not valid JSON ({exc.problem}, line {exc.line})"]
    if not isinstance(data, dict):
        return text, None, ["auth.json is not a JSON object"]
    return text, data, []


def _auth_kind(auth: dict | None) -> str:
    """absent, apikey (a key and no login) or chatgpt (a login, or anything unknown)."""
    if auth is None:
        return "absent"
    has_login = bool(auth.get("tokens")) or auth.get("auth_mode") not in (None, "apikey")
    if not has_login and isinstance(auth.get("OPENAI_API_KEY"), str):
        return "apikey"
    return "chatgpt"


def _old_auth_file(key: str) -> str:
    """auth.json exactly as byecore wrote it before it kept keys out of that file."""
    return json.dumps({"OPENAI_API_KEY": key}, indent=2) + "\n"


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _plain(value: Any) -> Any:
    """A TOML value as JSON can hold it (dates become text), for hand-edit hashes."""
    return json.loads(json.dumps(value, default=str))
