"""Goose (block/goose): a custom provider file, and the selection in ``config.yaml``.

Checked against block/goose's source (not run here: Goose installs as a downloaded
binary): ``crates/goose/src/config/declarative_providers.rs`` (the provider JSON and
``custom_providers_dir``), ``config/paths.rs`` (``GOOSE_PATH_ROOT``, else the XDG config
folder ``~/.config/goose``), ``config/base/secrets.rs`` (a secret is the environment
variable of that name, else the keyring, else ``secrets.yaml``) and the OpenAI engine's
``from_declarative_config``/``derive_base_path``.

What byecore owns:

- ``custom_providers/custom_byecore.json``: ``name``, ``engine: openai``,
  ``display_name``, ``description``, ``api_key_env``, ``base_url`` (root + /v1 +
  /chat/completions: older Goose used the URL's path as the request path, newer
  Goose keeps a path ending in chat/completions as it is), ``models`` (``name``,
  ``context_limit``), ``supports_streaming``, ``requires_auth``; other keys the user
  adds there stay;
- ``config.yaml``: ``GOOSE_PROVIDER: custom_byecore`` and ``GOOSE_MODEL``;
- ``secrets.yaml``: ``CUSTOM_BYECORE_API_KEY`` when the key is not in an environment
  variable (mode 0600). Goose reads that file when it has no keyring entry; with one,
  the keyring wins (``check_env`` cannot see it, so the note says so).

Goose sends ids of OpenAI's Responses family (gpt-5…, o3…) to ``/v1/responses`` on the
default path whatever the provider is, so those need a provider (or byecore's proxy)
that serves it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from byecore_cli.clients import jsonedit, yamledit
from byecore_cli.clients.base import (
    ClientFile,
    Current,
    Plan,
    Reading,
    Target,
    file_text,
    json_object,
)

PROVIDER_ID = "custom_byecore"
SECRET_NAME = "CUSTOM_BYECORE_API_KEY"
_RESPONSES_FAMILY = re.compile(r"^(gpt-5|o[134]|codex)", re.I)
OVERRIDES = {"GOOSE_PROVIDER": "GOOSE_PROVIDER", "GOOSE_MODEL": "GOOSE_MODEL"}


class Goose:
    name = "goose"
    title = "Goose"
    protocol = "chat"
    executable = "goose"

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        root = env.get("GOOSE_PATH_ROOT", "")
        if root and Path(root).is_absolute():
            folder = Path(root) / "config"
        else:
            base = env.get("XDG_CONFIG_HOME")
            folder = (Path(base) if base else home / ".config") / "goose"
        return {
            "provider": ClientFile("provider", folder / "custom_providers" /
                                   f"{PROVIDER_ID}.json", "json"),
            "config": ClientFile("config", folder / "config.yaml", "yaml"),
            "secrets": ClientFile("secrets", folder / "secrets.yaml", "yaml"),
        }

    def plan(self, target: Target, current: Current) -> Plan:
        notes: list[str] = []
        files: dict[str, bytes | None] = {}
        secret: set[str] = set()
        key_name = ""
        if target.key_env and not target.via_proxy:
            key_name = target.key_env
            notes.append(f"Goose reads the key from ${target.key_env} (api_key_env); no "
                         "key is written")
        elif target.key:
            key_name = SECRET_NAME
            text = file_text(current.get("secrets"), "secrets")
            files["secrets"] = yamledit.set_top(text, SECRET_NAME, target.key,
                                                "secrets").encode()
            secret.add("secrets")
            notes.append(f"the key went into Goose's secrets.yaml as {SECRET_NAME}; "
                         "Goose reads that file only when it does not use the system "
                         "keyring: if it does, set GOOSE_DISABLE_KEYRING=1 or export "
                         f"{SECRET_NAME} in the shell that starts goose")
        provider = {
            "name": PROVIDER_ID, "engine": "openai",
            "display_name": f"byecore: {target.provider}",
            "description": "written by byecore setup goose",
            "api_key_env": key_name,
            "base_url": target.openai_base.rstrip("/") + "/chat/completions",
            "models": [{"name": m, "context_limit": target.limits_for(m).context_window}
                       for m in target.models],
            "supports_streaming": True, "requires_auth": bool(key_name),
        }
        text = file_text(current.get("provider"), "provider")
        data = json_object(text, "provider")
        out = text if text.strip() else "{}\n"
        for key, value in provider.items():
            if data.get(key) != value:
                out = jsonedit.set_value(out, (key,), value)
        files["provider"] = out.encode()
        conf = file_text(current.get("config"), "config")
        for key, value in (("GOOSE_PROVIDER", PROVIDER_ID), ("GOOSE_MODEL", target.model)):
            conf = yamledit.set_top(conf, key, value, "config")
        files["config"] = conf.encode()
        if _RESPONSES_FAMILY.match(target.model) and not target.via_proxy:
            notes.append(f"Goose sends {target.model} to /v1/responses, not /chat/"
                         f"completions: {target.provider} must serve it (or use "
                         "--via-proxy)")
        return Plan(files=files, secret=frozenset(secret), notes=notes)

    def read(self, current: Current) -> Reading:
        conf = yamledit.load(file_text(current.get("config"), "config"), "config")
        data = json_object(file_text(current.get("provider"), "provider"), "provider")
        secrets = yamledit.load(file_text(current.get("secrets"), "secrets"), "secrets")
        provider, model = conf.get("GOOSE_PROVIDER"), conf.get("GOOSE_MODEL")
        reading = Reading(configured=provider == PROVIDER_ID and bool(data),
                          base_url=_str(data.get("base_url")) if provider == PROVIDER_ID
                          else None, model=_str(model), label=_str(provider))
        reading.owned = {"GOOSE_PROVIDER": provider, "GOOSE_MODEL": model,
                         "custom_byecore": dict(data) or None,
                         "secrets.custom_byecore_api_key": secrets.get(SECRET_NAME)}
        if data and data.get("name") != PROVIDER_ID:
            reading.problems.append(f"{PROVIDER_ID}.json names itself "
                                    f"{data.get('name')!r}: Goose registers it under that")
        if provider == PROVIDER_ID and not data:
            reading.problems.append(f"GOOSE_PROVIDER is {PROVIDER_ID} but its file is "
                                    "missing")
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        return [f"your shell sets {name}, which wins over {key} in Goose's config.yaml"
                for name, key in OVERRIDES.items() if env.get(name, "").strip()]


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
