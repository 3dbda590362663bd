"""OpenClaw (``openclaw``): ``~/.openclaw/openclaw.json``, a JSON5 file.

Checked against ``openclaw`` 2026.9.6 (``dist/paths-*.mjs``, ``dist/io.*.mjs``,
``dist/includes-*.mjs``, ``docs/gateway/configuration*.md``,
``docs/gateway/config-tools/custom-providers.md``) and by running it:

- The file is ``$OPENCLAW_CONFIG_PATH`` when set, else ``openclaw.json`` in
  ``$OPENCLAW_STATE_DIR`` or ``~/.openclaw`` (``_config_path`` has the details and the
  old names); ``~`` is ``$OPENCLAW_HOME`` when set, in those variables too. It is
  read with ``JSON.parse``, falling back to the ``json5`` package, so the user's file
  may be any JSON5: it is edited in place with ``clients/jsonedit.py`` in its JSON5
  mode, and every other byte is kept.
- OpenClaw itself rewrites the whole file only when it changes its config
  (``openclaw config set``, ``onboard``, ``doctor --fix``, the Control UI, a start-up
  migration): as ``JSON.stringify(config, null, 2)``, comments dropped, names quoted,
  a ``meta`` stamp added, mode 0600, the old copy in ``openclaw.json.bak``. byecore's
  values come through such a rewrite unchanged, so only a real edit of them counts
  as a hand edit. A run (``openclaw agent exec``, ``agent --local``) never writes it.
- ``models.providers.<id>`` is ``{baseUrl, api, apiKey, models: [{id, name,
  contextWindow, maxTokens}]}`` (the schema refuses unknown keys; ``id`` and ``name``
  are required). ``agents.defaults.model`` is ``"provider/model"`` or ``{primary,
  fallbacks}``; the provider is everything before the first ``/``, so a proxy model
  ``byecore/gpt-5.4`` is ``byecore/byecore/gpt-5.4``.
- ``apiKey`` is sent as a bearer token. ``"${VAR}"`` is replaced by the variable
  (names ``[A-Z_][A-Z0-9_]*`` only; an unset one is sent as written, with a warning),
  and ``$${`` stands for a literal ``${``. A bare variable name is sent as it is, not
  looked up. Without ``apiKey`` no Authorization header is sent.

OpenClaw speaks ``openai-completions``, ``openai-responses``, ``anthropic-messages``
and ``google-generative-ai`` (and vendor adapters). byecore uses
``openai-completions`` (``{baseUrl}/chat/completions``): it is what OpenClaw uses for a
custom provider that names no ``api``, its docs send every OpenAI-compatible server to
it (Responses "only when the backend supports /v1/responses", and custom Responses
routes lose features such as ``instructions``), and byecore's proxy serves it as a
pass-through for Chat providers.

What byecore owns: ``models.providers.byecore`` and the primary model
(``agents.defaults.model``'s string, or its ``primary``; the user's ``fallbacks``
stay). The user's ``agents.defaults.modelPolicy.allow`` stays theirs: when it does not
admit byecore's model (OpenClaw then refuses the run: "is not allowed by
agents.defaults.modelPolicy.allow"), setup, doctor and ``byecore run`` say so, as they
do for an agent in ``agents.entries`` that names its own model.
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
    Unparsable,
    file_text,
    member,
)

PROVIDER_ID = "byecore"
API = "openai-completions"
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*\Z")  # the names OpenClaw's ${VAR} replaces
_PROVIDER = ("models", "providers", PROVIDER_ID)
_MODEL = ("agents", "defaults", "model")


class OpenClaw:
    name = "openclaw"
    title = "OpenClaw"
    protocol = "chat"
    executable = "openclaw"

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        path = _config_path(env, _at_home(env.get("OPENCLAW_HOME", ""), home) or home)
        return {"config": ClientFile("config", path, "json5")}

    def plan(self, target: Target, current: Current) -> Plan:
        text = file_text(current.get("config"), "config")
        config = _parse(text)
        notes: list[str] = []
        secret: frozenset[str] = frozenset()
        entry: dict = {"baseUrl": target.openai_base, "api": API}
        if target.key_env and not target.via_proxy and _ENV_NAME.match(target.key_env):
            entry["apiKey"] = f"${{{target.key_env}}}"
            notes.append(f"OpenClaw reads the key from ${target.key_env} (apiKey is "
                         f'"${{{target.key_env}}}"); no key is written to a file')
        elif target.key:
            entry["apiKey"] = target.key.replace("${", "$${")  # never read as a variable
            secret = frozenset({"config"})
        entry["models"] = [_model(target, m) for m in target.models]
        out = text if text.strip() else "{}\n"
        if member(config, *_PROVIDER) != entry:
            out = jsonedit.set_value(out, _PROVIDER, entry, json5=True)
        primary = f"{PROVIDER_ID}/{target.model}"
        model = member(config, *_MODEL)
        if isinstance(model, str):
            if model != primary:
                out = jsonedit.set_value(out, _MODEL, primary, json5=True)
        elif member(config, *_MODEL, "primary") != primary:
            out = jsonedit.set_value(out, (*_MODEL, "primary"), primary, json5=True)
        notes += [f"{problem}; {fix}" for problem, fix in _beside(config, primary)]
        included = _includes(config)
        if included:
            notes.append(f"{', '.join(included)} in openclaw.json use $include: OpenClaw "
                         "merges byecore's keys over the included files, but its own "
                         "config writes refuse to edit a section with such keys beside it")
        return Plan(files={"config": out.encode()}, secret=secret, notes=notes)

    def read(self, current: Current) -> Reading:
        config = _parse(file_text(current.get("config"), "config"))
        ours = member(config, *_PROVIDER)
        ours = ours if isinstance(ours, dict) else {}
        primary = _primary(config)
        provider, _, model_id = (primary or "").partition("/")
        uses_ours = bool(ours) and provider == PROVIDER_ID
        reading = Reading(configured=uses_ours,
                          base_url=ours.get("baseUrl") if uses_ours else None,
                          model=model_id if uses_ours else primary)
        reading.owned = {
            "models.providers.byecore.baseUrl": ours.get("baseUrl"),
            "models.providers.byecore.api": ours.get("api"),
            # spelled with api_key so byecore's history masks it
            "models.providers.byecore.api_key": ours.get("apiKey"),
            "models.providers.byecore.models": ours.get("models"),
            "agents.defaults.model.primary": primary,
        }
        if ours and ours.get("api") not in (None, API):
            reading.problems.append(f"models.providers.byecore.api is {ours.get('api')!r}: "
                                    f"byecore set it up for {API}")
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        return []

    def local_findings(self, env: Mapping[str, str], cwd: Path) -> list[tuple[str, str]]:
        """For doctor, once byecore's provider is set up: what setup cannot fix."""
        home = Path(env["HOME"]) if env.get("HOME") else Path.home()
        try:
            config = _parse(self.files(env, home)["config"].path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, Unparsable):
            return []  # a broken or missing file is file_findings' business
        primary = _primary(config)
        return _beside(config, primary) if primary else []


def _config_path(env: Mapping[str, str], home: Path) -> Path:
    """Where OpenClaw reads its config (as ``openclaw config file`` says): the first
    that exists of openclaw.json and the old clawdbot.json in ``$OPENCLAW_STATE_DIR``,
    or else in ~/.openclaw and the old ~/.clawdbot; else a new openclaw.json in the
    state folder (~/.clawdbot only while it exists and ~/.openclaw does not)."""
    explicit = _at_home(env.get("OPENCLAW_CONFIG_PATH", ""), home)
    if explicit is not None:
        return explicit
    state = _at_home(env.get("OPENCLAW_STATE_DIR", ""), home)
    folders = [state] if state else [home / ".openclaw", home / ".clawdbot"]
    for folder in folders:
        for name in ("openclaw.json", "clawdbot.json"):
            if (folder / name).is_file():
                return folder / name
    return next((f for f in folders if f.is_dir()), folders[0]) / "openclaw.json"


def _at_home(value: str, home: Path) -> Path | None:
    """A path from OpenClaw's environment: ``~`` is OpenClaw's home; None when unset."""
    value = value.strip()
    if not value:
        return None
    if value == "~" or value.startswith("~/"):
        return home / value[2:]
    return Path(value)


def _model(target: Target, model: str) -> dict:
    limits = target.limits_for(model)
    return {"id": model, "name": model, "contextWindow": limits.context_window,
            "maxTokens": limits.max_output}


def _parse(text: str) -> dict:
    if not text.strip():
        return {}
    try:
        config = jsonedit.loads(text, json5=True)
    except jsonedit.JsonSyntaxError as exc:
        raise Unparsable("config", f"this is not valid JSON5 ({exc.problem}, column "
                         f"{exc.column})", exc.line) from None
    if not isinstance(config, dict):
        raise Unparsable("config", "expected an object at the top level", 1)
    for path in (("models",), ("models", "providers"), ("agents",), ("agents", "defaults")):
        value = member(config, *path)
        if value is not None and not isinstance(value, dict):
            raise Unparsable("config", f'"{".".join(path)}" is not an object')
    model = member(config, *_MODEL)
    if model is not None and not isinstance(model, (str, dict)):
        raise Unparsable("config", '"agents.defaults.model" is neither "provider/model" '
                                   "nor an object")
    return config


def _primary(config: dict) -> str | None:
    """The agents' default model: ``agents.defaults.model``, or its ``primary``."""
    model = member(config, *_MODEL)
    primary = model if isinstance(model, str) else member(config, *_MODEL, "primary")
    return primary if isinstance(primary, str) else None


def _beside(config: dict, primary: str) -> list[tuple[str, str]]:
    """(problem, fix) for what only the user can change beside byecore's keys: a model
    policy that refuses byecore's model, and agents that name their own model."""
    found = []
    if not _allowed(config, primary):
        found.append((f"agents.defaults.modelPolicy.allow does not admit {primary}: "
                      "OpenClaw then refuses to run it", 'add "byecore/*" to that list'))
    agents = member(config, "agents", "entries")
    found += [(f"agents.entries.{agent_id}.model is set: that agent uses it, not "
               "byecore's default model", f"remove it to give agent {agent_id} byecore's "
               "model, or leave it if you meant it")
              for agent_id, agent in (agents.items() if isinstance(agents, dict) else ())
              if isinstance(agent, dict) and agent.get("model")]
    return found


def _allowed(config: dict, model: str | None) -> bool:
    """Whether ``agents.defaults.modelPolicy.allow`` admits ``model``: an exact ref, a
    trailing ``*`` prefix, or an alias of it (an empty or absent list admits all)."""
    allow = member(config, "agents", "defaults", "modelPolicy", "allow")
    if not isinstance(allow, list) or not allow or model is None:
        return True
    settings = member(config, "agents", "defaults", "models", model)
    alias = settings.get("alias") if isinstance(settings, dict) else None
    return any(isinstance(entry, str) and (
        entry in (model, alias) or (entry.endswith("*") and model.startswith(entry[:-1])))
        for entry in allow)


def _includes(config: dict) -> list[str]:
    """The objects along byecore's paths that pull in another file with ``$include``."""
    found = []
    for path in ((), ("models",), _PROVIDER[:2], ("agents",), _MODEL[:2], _MODEL):
        value = member(config, *path)
        if isinstance(value, dict) and "$include" in value:
            found.append(".".join(path) or "the top level")
    return found
