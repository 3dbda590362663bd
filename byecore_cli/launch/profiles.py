"""Per client, how to point one process at byecore's proxy without editing its files.

A profile is environment variables, arguments put before the user's own, and files in a
folder of byecore's own (a private temporary folder for ``byecore run``, byecore's
``launch/CLIENT`` folder for ``byecore env``). Each builder takes the writer's facts (its
constants, and the writer's own ``plan`` run on an empty or a copied file) so that ``run``
and ``setup`` agree on what a client needs. Checked in the installed clients:

- Codex CLI 0.171.0: ``-c key=value`` (TOML) before the user's arguments select
  ``[model_providers.byecore]`` and fill it in; ``env_key`` names the variable holding
  the key, and wins over an ``experimental_bearer_token`` already in config.toml (tried
  with the binary). Nothing is written to ``$CODEX_HOME``.
- Claude Code 2.1.332: settings.json's ``env`` is copied over the process environment,
  so the shell alone loses to a settings.json that sets ``ANTHROPIC_BASE_URL``. Its
  ``--settings FILE`` layer (``flagSettings``) is applied after the user, project and
  local layers: byecore's values go there (and into the environment).
  ``CLAUDE_CODE_USE_*`` switches are turned off there ("0" is false to its ``De()``).
- Aider 0.86.2: ``AIDER_*`` variables beat every ``.aider.conf.yml`` (configargparse:
  command line > environment > files); ``OPENAI_BASE_URL`` is removed because litellm
  reads it before the ``OPENAI_API_BASE`` aider sets; ``--model-metadata-file`` (as
  ``AIDER_MODEL_METADATA_FILE``) is loaded after the home one. A ``.env`` file aider loads
  with override can still replace these variables.
- OpenCode 1.18.33: ``OPENCODE_CONFIG_CONTENT`` is merged after the global, custom and
  project configs; with it set, OpenCode also does not create a global opencode.json.
- Gemini CLI 0.61.0: ``GOOGLE_GEMINI_BASE_URL``, ``GEMINI_API_KEY`` and ``GEMINI_MODEL``
  from the environment (its .env files never override a variable already set). It also
  needs ``security.auth.selectedType = gemini-api-key``, which only a settings file
  gives: the system files are refused unless root owns them and every folder above, so
  when the user's settings.json does not select it already, the run gets a temporary
  ``GEMINI_CLI_HOME`` whose ``.gemini`` links every entry of the user's, with a copy of
  settings.json that selects it.
- Factory Droid 0.225.1: ``FACTORY_RUNTIME_SETTINGS_PATH`` (what its ``--settings``
  sets) is a settings file merged for one process; ``customModels`` and
  ``sessionDefaultSettings.model`` are honoured there (tried with ``droid exec``).
- Goose (a downloaded binary, not installed here; checked in block/goose's docs and
  source): every config key is read from an environment variable of its name before
  config.yaml, so its built-in ``openai`` provider is pointed at the proxy with
  ``GOOSE_PROVIDER``, ``GOOSE_MODEL``, ``OPENAI_HOST``, ``OPENAI_BASE_PATH`` and
  ``OPENAI_API_KEY`` (a secret is read from the variable of its name first).
- Kimi Code 2.1.0: ``KIMI_MODEL_NAME`` (with ``KIMI_MODEL_API_KEY``,
  ``KIMI_MODEL_BASE_URL``, ``KIMI_MODEL_PROVIDER_TYPE=openai`` for Chat Completions at
  ``{base}/chat/completions``, and the model's sizes) defines a model that beats
  config.toml's ``default_model``; ``-m`` and a resumed session's own model beat it.
  byecore writes nothing to ``~/.kimi-code``, where Kimi keeps its sessions as always.
- Qwen Code, Pi, Hermes, Grok Build and OpenClaw: ``launch/homes.py``;
  GitHub Copilot CLI: ``launch/copilot.py``; Cline CLI: ``launch/cline.py``.
- Crush (its npm package downloads the binary from GitHub, so it is not installed here;
  checked in its source, ``internal/config/load.go`` after v0.90): ``CRUSH_GLOBAL_CONFIG``
  and ``CRUSH_GLOBAL_DATA`` name the folders of its global ``crush.json`` (with
  ``crushrc`` beside it) and of its data file (with ``projects.json``). The run gets
  copies of the two crush.json files with byecore's provider and model choice in them,
  and links to every other entry of those folders.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from byecore_cli.clients.base import NO_KEY, Target, Unparsable
from byecore_cli.errors import ConfigError

CODEX_KEY_VAR = "BYECORE_CODEX_KEY"  # Codex's env_key: the variable holding its local key
# Claude Code 2.1.332 switches (its RR list) that make it ignore ANTHROPIC_BASE_URL.
CLAUDE_SWITCHES = ("CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX",
                   "CLAUDE_CODE_USE_FOUNDRY", "CLAUDE_CODE_USE_ANTHROPIC_AWS",
                   "CLAUDE_CODE_USE_ANTHROPIC_GOOGLE_CLOUD", "CLAUDE_CODE_USE_MANTLE",
                   "CLAUDE_CODE_USE_GATEWAY")

# How to install each client byecore can launch (said when it is not on PATH).
INSTALL = {
    "codex": "npm i -g @openai/codex",
    "claude": "npm i -g @anthropic-ai/claude-code",
    "aider": "pipx install aider-chat (or: uv tool install aider-chat)",
    "opencode": "npm i -g opencode-ai",
    "crush": "npm i -g @charmland/crush (or: brew install charmbracelet/tap/crush)",
    "droid": "npm i -g @factory/cli",
    "gemini": "npm i -g @google/gemini-cli",
    "kilo-cli": "npm i -g @kilocode/cli",
    "qwen": "npm i -g @qwen-code/qwen-code",
    "pi": "npm i -g @mariozechner/pi-coding-agent",
    "hermes": "pipx install hermes-agent (or: uv tool install hermes-agent)",
    "kimi": "npm i -g @moonshot-ai/kimi-code (it needs Node 22.19+)",
    "grok": "see https://x.ai/cli (Grok Build installs as a downloaded binary)",
    "copilot": "npm i -g @github/copilot",
    "cline-cli": "npm i -g cline",
    "goose": "see https://block.github.io/goose (Goose installs as a downloaded binary)",
    # a bare "openclaw" resolves to an empty placeholder on an older Node
    "openclaw": "npm i -g openclaw@latest (with Node 24.16+ first on PATH)",
}


@dataclass(frozen=True)
class Context:
    env: Mapping[str, str]  # the environment the client would get without byecore
    home: Path  # the user's home folder
    folder: Path  # where the profile's files go (byecore's own, private)
    persistent: bool = False  # byecore env: the files outlive this process


@dataclass
class Profile:
    env: dict[str, str] = field(default_factory=dict)
    unset: list[str] = field(default_factory=list)  # removed from the client's environment
    args: list[str] = field(default_factory=list)  # before the user's own arguments
    files: dict[str, bytes] = field(default_factory=dict)  # name in folder -> bytes (0600)
    links: dict[str, Path] = field(default_factory=dict)  # name in folder -> existing path
    notes: list[str] = field(default_factory=list)
    # a folder in ``folder`` that stands for a folder of the user's: what the client
    # creates there is moved to the user's after a run (``homes.keep_new``)
    borrowed: dict[str, Path] = field(default_factory=dict)


def codex(target: Target, ctx: Context) -> Profile:
    from byecore_cli.clients.codex import PROVIDER_ID
    from byecore_cli.clients.tomledit import render

    table = f"model_providers.{PROVIDER_ID}"
    values = [("model_provider", PROVIDER_ID), ("model", target.model),
              (f"{table}.name", f"byecore: {target.provider}"),
              (f"{table}.base_url", target.openai_base), (f"{table}.wire_api", "responses"),
              (f"{table}.env_key", CODEX_KEY_VAR), (f"{table}.requires_openai_auth", False)]
    args = [part for key, value in values for part in ("-c", f"{key}={render(value)}")]
    return Profile(env={CODEX_KEY_VAR: _key(target)}, args=args)


def claude(target: Target, ctx: Context) -> Profile:
    from byecore_cli.clients.claude import Claude

    owned = json.loads(Claude().plan(target, {"settings": None}).files["settings"])["env"]
    layer = {"env": {**owned, **dict.fromkeys(CLAUDE_SWITCHES, "0")}}
    name = "claude-settings.json"
    return Profile(env=dict(owned), unset=["ANTHROPIC_API_KEY", *CLAUDE_SWITCHES],
                   args=["--settings", str(ctx.folder / name)],
                   files={name: _json(layer)})


def aider(target: Target, ctx: Context) -> Profile:
    from byecore_cli.clients.aider import Aider

    metadata = Aider().plan(target, {"config": None, "metadata": None}).files["metadata"]
    name = "aider-model-metadata.json"
    model = f"openai/{target.model}"  # litellm's OpenAI-compatible route, as setup writes
    env = {"AIDER_OPENAI_API_BASE": target.openai_base, "AIDER_OPENAI_API_KEY": _key(target),
           "AIDER_MODEL": model, "AIDER_WEAK_MODEL": model, "AIDER_EDITOR_MODEL": model,
           "AIDER_MODEL_METADATA_FILE": str(ctx.folder / name)}
    return Profile(env=env, unset=["OPENAI_BASE_URL"], files={name: metadata or b"{}\n"})


def opencode(target: Target, ctx: Context, writer=None) -> Profile:
    from byecore_cli.clients import jsonedit
    from byecore_cli.clients.opencode import PROVIDER_ID, OpenCode

    writer = writer or OpenCode()
    var = f"{writer.env_prefix}_CONFIG_CONTENT"
    planned = writer.plan(target, {"json": None, "jsonc": None}).files
    config = jsonedit.loads(planned[writer.new_file].decode(), comments=True)
    # titles and summaries too: a small_model of the user's would stay on its vendor
    config["small_model"] = f"{PROVIDER_ID}/{target.model}"
    notes = []
    theirs = ctx.env.get(var)
    if theirs:
        try:
            parsed = jsonedit.loads(theirs, comments=True)
        except jsonedit.JsonSyntaxError:
            parsed = None
        if isinstance(parsed, dict):
            config = _merged(parsed, config)
        else:
            notes.append(f"your {var} is not a JSON object, so byecore's replaces it for "
                         "this run")
    return Profile(env={var: json.dumps(config)}, notes=notes)


def kilo(target: Target, ctx: Context) -> Profile:
    from byecore_cli.clients.kilo import Kilo

    return opencode(target, ctx, Kilo())  # an OpenCode fork: KILO_CONFIG_CONTENT


def gemini(target: Target, ctx: Context) -> Profile:
    from byecore_cli.clients import gemini as writer

    root, version = writer.sdk_base(target.gemini_base)
    profile = Profile(env={writer.BASE_URL: root, writer.KEY: _key(target),
                           writer.MODEL: target.model},
                      unset=["GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI",
                             "GOOGLE_GENAI_USE_GCA"])
    if version != writer.SDK_VERSION:
        profile.env[writer.API_VERSION] = version
    else:
        profile.unset.append(writer.API_VERSION)
    client = writer.Gemini()
    files = client.files(ctx.env, ctx.home)
    current = _read(files["settings"].path)
    plan = _plan(client, target, {"env": None, "settings": current}, files)
    profile.notes += [n for n in plan.notes if "enforces" in n]
    wanted = plan.files["settings"]
    if wanted == current:
        return profile  # the user's settings.json already selects the API-key auth
    if ctx.persistent:
        profile.notes.append(
            f"Gemini CLI also needs security.auth.selectedType = \"{writer.AUTH_TYPE}\" in "
            f"{files['settings'].path}, which these lines cannot give: 'byecore run gemini' "
            "gives it for one run, 'byecore setup gemini' for good")
        return profile
    home = "gemini-home"
    profile.files[f"{home}/.gemini/settings.json"] = wanted
    own = files["settings"].path.parent
    profile.borrowed[f"{home}/.gemini"] = own
    if own.is_dir():
        profile.links.update({f"{home}/.gemini/{entry.name}": entry for entry in
                              sorted(own.iterdir()) if entry.name != "settings.json"})
    profile.env["GEMINI_CLI_HOME"] = str(ctx.folder / home)
    profile.notes.append(
        f"your Gemini CLI settings select no {writer.AUTH_TYPE} auth, so this run uses a "
        f"temporary GEMINI_CLI_HOME: your {own} linked entry by entry, with a copy of "
        "settings.json that selects it (what Gemini CLI saves to settings.json during the "
        "run is not kept)")
    return profile


def droid(target: Target, ctx: Context) -> Profile:
    from byecore_cli.clients.droid import Droid, model_id

    layer = json.loads(Droid().plan(target, {"settings": None}).files["settings"])
    layer["sessionDefaultSettings"] = {"model": model_id(target.model)}
    name = "droid-settings.json"
    return Profile(env={"FACTORY_RUNTIME_SETTINGS_PATH": str(ctx.folder / name)},
                   files={name: _json(layer)})


def crush(target: Target, ctx: Context) -> Profile:
    from byecore_cli.clients.crush import Crush

    client = Crush()
    files = client.files(ctx.env, ctx.home)
    current = {role: _read(f.path) for role, f in files.items()}
    plan = _plan(client, target, current, files)
    profile = Profile(
        env={"CRUSH_GLOBAL_CONFIG": str(ctx.folder / "crush-config"),
             "CRUSH_GLOBAL_DATA": str(ctx.folder / "crush-data")},
        files={"crush-config/crush.json": plan.files["config"] or b"{}\n",
               "crush-data/crush.json": plan.files["data"] or b"{}\n"})
    # everything else in the two folders (crushrc, projects.json…) is the user's own,
    # linked so that what Crush keeps there is kept
    for role, name in (("config", "crush-config"), ("data", "crush-data")):
        own = files[role].path.parent
        profile.borrowed[name] = own
        if own.is_dir():
            profile.links.update({f"{name}/{entry.name}": entry for entry in
                                  sorted(own.iterdir()) if entry.name != "crush.json"})
    profile.notes.append("Crush reads copies of its global crush.json and data file, with "
                         "byecore's provider in them; what it saves to those two is not kept")
    return profile


def goose(target: Target, ctx: Context) -> Profile:
    from urllib.parse import urlsplit

    # Goose's own "openai" provider, every setting of which an environment variable of
    # its name gives over config.yaml: no custom provider file is needed for one run
    base = urlsplit(target.openai_base)
    return Profile(env={"GOOSE_PROVIDER": "openai", "GOOSE_MODEL": target.model,
                        "OPENAI_HOST": f"{base.scheme}://{base.netloc}",
                        "OPENAI_BASE_PATH": f"{base.path.strip('/')}/chat/completions",
                        "OPENAI_API_KEY": _key(target) or NO_KEY},
                   unset=["OPENAI_ORGANIZATION", "OPENAI_PROJECT", "OPENAI_CUSTOM_HEADERS"])


# Kimi Code 2.1.0's variables that shape the model KIMI_MODEL_NAME defines, or send its
# subagents to another model: the user's are for a model of theirs, not byecore's.
KIMI_SHAPING = tuple(f"KIMI_MODEL_{name}" for name in (
    "TEMPERATURE", "TOP_P", "MAX_TOKENS", "MAX_COMPLETION_TOKENS", "CAPABILITIES",
    "THINKING_EFFORT", "THINKING_KEEP", "REASONING_KEY", "ADAPTIVE_THINKING",
    "DISPLAY_NAME")) + ("KIMI_SECONDARY_MODEL", "KIMI_SECONDARY_EFFORT")


def kimi(target: Target, ctx: Context) -> Profile:
    limits = target.limits_for(target.model)
    env = {"KIMI_MODEL_NAME": target.model,
           "KIMI_MODEL_API_KEY": _key(target) or NO_KEY,
           "KIMI_MODEL_BASE_URL": target.openai_base, "KIMI_MODEL_PROVIDER_TYPE": "openai",
           "KIMI_MODEL_MAX_CONTEXT_SIZE": str(limits.context_window),
           "KIMI_MODEL_MAX_OUTPUT_SIZE": str(limits.max_output)}
    return Profile(env=env, unset=list(KIMI_SHAPING))


def _elsewhere(module: str, name: str) -> Callable[[Target, Context], Profile]:
    """A builder kept in another module of this package, imported when first used."""
    def build(target: Target, ctx: Context) -> Profile:
        from importlib import import_module

        return getattr(import_module(f"byecore_cli.launch.{module}"), name)(target, ctx)
    return build


PROFILES: dict[str, Callable[[Target, Context], Profile]] = {
    "codex": codex, "claude": claude, "aider": aider, "opencode": opencode,
    "crush": crush, "droid": droid, "gemini": gemini, "kilo-cli": kilo,
    "goose": goose, "kimi": kimi,
    **{name: _elsewhere("homes", name) for name in ("qwen", "pi", "hermes", "grok",
                                                     "openclaw")},
    "copilot": _elsewhere("copilot", "profile"),
    "cline-cli": _elsewhere("cline", "profile"),
}


_LAYER = ("replaces the settings layer byecore gives it, so it may not reach byecore's "
          "proxy: leave it out, or point it at the proxy yourself")
# Options of a client's own that undo what byecore gives it, and what they do.
_UNDONE_BY = {
    "claude": [(("--settings",), _LAYER)],
    "droid": [(("--settings",), _LAYER)],
    "kimi": [(("-m", "--model"), "picks a model alias of your config.toml instead of "
              "byecore's model"),
             (("-c", "--continue"), "resumes a session with the model it was started with"),
             (("-S", "--session"), "resumes a session with the model it was started with")],
    "cline-cli": [(("-P", "--provider"), "picks a provider of Cline's own instead of "
                   "byecore's"),
                  (("-k", "--key"), "replaces the local key byecore's proxy expects"),
                  (("-z", "--zen"), "runs the task in Cline's background process, which "
                   "byecore run cannot point at its proxy")],
}


def clashes(client: str, args: list[str]) -> list[str]:
    """Notes for arguments of the user's that undo the profile."""
    return [f"your own {flags[-1]} {does}" for flags, does in _UNDONE_BY.get(client, ())
            if any(a in flags or a.startswith(flags[-1] + "=") for a in args)]


def write_files(profile: Profile, folder: Path) -> None:
    """The profile's files (0600, in 0700 folders) and links, under ``folder``."""
    from byecore_cli.files import SECRET_MODE, ensure_private_dir, write_atomic

    for name, data in profile.files.items():
        path = folder / name
        ensure_private_dir(path.parent)
        write_atomic(path, data, mode=SECRET_MODE)
    for name, existing in profile.links.items():
        path = folder / name
        ensure_private_dir(path.parent)
        if path.is_symlink():  # byecore env again: the link it made last time
            path.unlink()
        try:
            path.symlink_to(existing, target_is_directory=existing.is_dir())
        except OSError as exc:  # e.g. Windows without the symlink privilege
            profile.notes.append(f"could not link {existing} into the temporary home "
                                 f"({exc.strerror or exc}); the client will not see it")


def _key(target: Target) -> str:
    return target.key or ""


def _json(data: dict) -> bytes:
    return (json.dumps(data, indent=2) + "\n").encode()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read it ({exc.strerror or exc})", path=str(path)) from None


def _plan(writer, target: Target, current, files):
    try:
        return writer.plan(target, current)
    except Unparsable as exc:
        raise ConfigError(exc.problem, path=str(files[exc.role].path), line=exc.line,
                          hint=f"fix the file; {writer.title} could not read it either"
                          ) from None


def _merged(base: dict, over: dict) -> dict:
    """``over`` merged into ``base``, objects member by member (as OpenCode merges)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out
