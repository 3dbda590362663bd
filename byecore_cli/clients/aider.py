"""Aider: ``~/.aider.conf.yml`` and ``~/.aider.model.metadata.json``.

What byecore owns in ``.aider.conf.yml``: the top-level ``openai-api-base`` (root +
``/v1``: litellm posts to ``{base}/chat/completions``), ``openai-api-key`` and
``model: openai/<m>`` (the ``openai/`` prefix makes litellm use its OpenAI-compatible
route whatever the model is called). Every comment, blank line and other key stays as
it was: the file is edited in place with ``clients/yamledit.py``.

The YAML is not interpolated, so a key kept in an environment variable cannot be
referenced from it. When that variable is ``OPENAI_API_KEY`` aider reads it itself and
byecore writes no key; otherwise its current value goes in (mode 0600), as for Claude.

In ``.aider.model.metadata.json`` byecore owns one entry per offered model,
``openai/<m>``: without it aider warns "Unknown context window size and costs" for
every id litellm has never heard of. ``mode: chat`` keeps litellm on Chat Completions
(``responses`` would send it to ``/responses``). Aider reads this file with json5, so
the user's comments there are allowed; other entries are left alone.

Aider also reads these files from the git root and the current folder, which win over
the home ones; byecore edits only the home ones and says so.

``weak-model`` and ``editor-model`` (commit messages and summaries; architect mode's
editor) are left out when absent: aider then uses the main model. When set to a model
the provider does not offer they would go to the vendor, or to the gateway by a name it
does not serve, so byecore points them at the main model and says so.

What wins over the file (aider 0.86.2, litellm 1.81.10; ``check_env``): ``AIDER_*``
variables (configargparse: command line > environment > config file), also from a
``.env`` file, which aider loads into its environment with override; and
``OPENAI_BASE_URL``, which litellm reads before ``OPENAI_API_BASE`` — the variable aider
sets from ``openai-api-base``. A shell ``OPENAI_API_BASE`` or ``OPENAI_API_KEY`` loses to
the file's values, so it is no problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from byecore_cli.clients import jsonedit, yamledit
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
from byecore_cli.errors import UsageError

# Names in Reading.owned: spelled so history masks the key (it looks for "api_key").
_OWNED = {"openai-api-base": "openai-api-base", "openai-api-key": "openai_api_key",
          "model": "model"}
_SECONDARY = ("weak-model", "editor-model")
# Variables that beat .aider.conf.yml inside aider, and what each beats there.
_OVERRIDES = {
    "OPENAI_BASE_URL": "openai-api-base (litellm reads OPENAI_BASE_URL first)",
    "AIDER_OPENAI_API_BASE": "openai-api-base", "AIDER_OPENAI_API_KEY": "openai-api-key",
    "AIDER_MODEL": "model", "AIDER_WEAK_MODEL": "weak-model",
    "AIDER_EDITOR_MODEL": "editor-model", "AIDER_CONFIG": "the whole file",
}


class Aider:
    name = "aider"
    title = "Aider"
    protocol = "chat"
    executable = "aider"

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        return {
            "config": ClientFile("config", home / ".aider.conf.yml", "yaml"),
            "metadata": ClientFile("metadata", home / ".aider.model.metadata.json", "json"),
        }

    def plan(self, target: Target, current: Current) -> Plan:
        text = file_text(current.get("config"), "config")
        notes = ["aider also reads .aider.conf.yml from your git root and current folder; "
                 "settings there win over the home file byecore edits"]
        wanted: dict[str, str] = {"openai-api-base": target.openai_base}
        secret: set[str] = set()
        if target.key_env == "OPENAI_API_KEY" and not target.via_proxy:
            notes.append("aider reads the key from $OPENAI_API_KEY; no key is written")
        elif target.key is None and target.key_env:
            raise UsageError(
                f"aider cannot read the key from ${target.key_env}, and ${target.key_env} "
                "is not set in this shell",
                hint=f"export {target.key_env}=… and run again (byecore then writes its "
                     "value into .aider.conf.yml, mode 0600)")
        else:
            # litellm refuses to send a request with no key at all
            wanted["openai-api-key"] = target.key or NO_KEY
            secret.add("config")
            if target.key_env:
                notes.append(f"aider's YAML cannot refer to ${target.key_env}, so its current "
                             "value went into .aider.conf.yml (mode 0600)")
        wanted["model"] = f"openai/{target.model}"
        wanted.update(_secondary_models(yamledit.load(text, "config"), target, notes))
        out = text
        for key, value in wanted.items():
            out = yamledit.set_top(out, key, value, "config")
        if "openai-api-key" not in wanted and "openai-api-key" in yamledit.load(out, "config"):
            notes.append(".aider.conf.yml still sets openai-api-key, which wins over "
                         "$OPENAI_API_KEY; remove it if it is stale")
        files: dict[str, bytes | None] = {"config": out.encode()}
        files["metadata"] = _plan_metadata(target, current.get("metadata")).encode()
        return Plan(files=files, secret=frozenset(secret), notes=notes)

    def read(self, current: Current) -> Reading:
        conf = yamledit.load(file_text(current.get("config"), "config"), "config")
        meta = _parse_metadata(file_text(current.get("metadata"), "metadata"))
        model = conf.get("model")
        reading = Reading(configured="openai-api-base" in conf,
                          base_url=conf.get("openai-api-base"),
                          model=model if isinstance(model, str) else None)
        reading.owned = {name: conf.get(key) for key, name in _OWNED.items()}
        if isinstance(model, str):
            reading.owned[f"metadata.{model}"] = meta.get(model)
        url = str(conf.get("openai-api-base") or "")
        if url and not url.rstrip("/").endswith("/v1"):
            reading.problems.append(f"openai-api-base {url} does not end in /v1: aider "
                                    f"posts to {url.rstrip('/')}/chat/completions")
        key = conf.get("openai-api-key")
        if isinstance(key, str) and key != key.strip():
            reading.problems.append("openai-api-key has spaces or line breaks around it")
        if isinstance(model, str) and url and not model.startswith("openai/"):
            reading.problems.append(f"model {model} has no openai/ prefix: litellm may not "
                                    "send it to openai-api-base")
        for entry in conf.get("set-env") or ():
            if isinstance(entry, str) and entry.split("=", 1)[0].strip() == "OPENAI_BASE_URL":
                reading.problems.append("set-env sets OPENAI_BASE_URL, which litellm reads "
                                        "before openai-api-base: remove that set-env entry")
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        problems = [f"your shell sets {name}, which wins over {what} in .aider.conf.yml"
                    for name, what in _OVERRIDES.items() if env.get(name)]
        dotenv = Path(env["HOME"]) / ".env" if env.get("HOME") else None
        for name, line in _dotenv_overrides(dotenv):
            problems.append(f"~/.env sets {name} (line {line}): aider loads that file into "
                            f"its environment, where it wins over {_OVERRIDES[name]} in "
                            ".aider.conf.yml")
        return problems


def _secondary_models(conf: dict, target: Target, notes: list[str]) -> dict[str, str]:
    offered = {f"openai/{m}" for m in target.models}
    out = {}
    for key in _SECONDARY:
        value = conf.get(key)
        if key in conf and value not in offered:
            out[key] = f"openai/{target.model}"
            notes.append(f"{key} was {value!r}, which {target.provider} does not offer: now "
                         f"{out[key]} (edit {key} in .aider.conf.yml to choose another of "
                         "its models)")
    return out


def _dotenv_overrides(path: Path | None) -> list[tuple[str, int]]:
    """The overriding variables a ``.env`` file sets, with their lines."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines() if path \
            else []
    except OSError:
        return []
    found = []
    for number, line in enumerate(lines, 1):
        name = line.strip().removeprefix("export ").split("=", 1)[0].strip()
        if "=" in line and name in _OVERRIDES and line.split("=", 1)[1].strip():
            found.append((name, number))
    return found


def _plan_metadata(target: Target, data: bytes | None) -> str:
    text = file_text(data, "metadata")
    meta = _parse_metadata(text)
    out = text if text.strip() else "{}\n"
    for model in target.models:
        limits = target.limits_for(model)
        entry = {
            "max_input_tokens": limits.context_window,
            "max_output_tokens": limits.max_output,
            "litellm_provider": "openai",
            "mode": "chat",
        }
        name = f"openai/{model}"
        if meta.get(name) != entry:
            out = jsonedit.set_value(out, (name,), entry, comments=True)
    return out



def _parse_metadata(text: str) -> dict:
    if not text.strip():
        return {}
    try:
        data = jsonedit.loads(text, comments=True)
    except jsonedit.JsonSyntaxError as exc:
        raise Unparsable("metadata", f"this is not JSON byecore can edit ({exc.problem})",
                         exc.line) from None
    if not isinstance(data, dict):
        raise Unparsable("metadata", "expected a JSON object at the top level", 1)
    return data
