"""Kilo CLI (``kilo``): ``$XDG_CONFIG_HOME/kilo/kilo.jsonc``, OpenCode's schema.

Kilo CLI is a fork of OpenCode, so this writer is ``OpenCode``'s with Kilo's names;
``clients/opencode.py`` says what byecore owns and why (``provider.byecore`` with
``@ai-sdk/openai-compatible`` → ``{baseURL}/chat/completions``, and ``model``).
Checked against the ``@kilocode/cli-linux-x64`` 7.7.9 binary (its bundled source):

- ``GLOBAL_CONFIG_FILES`` is ``config.json``, ``kilo.json``, ``kilo.jsonc``,
  ``opencode.json``, ``opencode.jsonc`` in ``~/.config/kilo`` (XDG), merged in that
  order, the later winning; all are read as JSONC (``jsonc-parser``). byecore edits
  ``kilo.jsonc`` (``kilo.json`` when only that exists) and ``check_env`` (doctor)
  names an ``opencode.json[c]`` in the same folder, which would win over it.
- ``KILO_CONFIG``, ``KILO_CONFIG_DIR`` and ``KILO_CONFIG_CONTENT`` add config on top,
  as OpenCode's ``OPENCODE_*`` do; new files get ``"$schema":
  "https://app.kilo.ai/config.json"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from byecore_cli.clients.opencode import OpenCode

_LATER = ("opencode.json", "opencode.jsonc")  # read after kilo.jsonc: they win over it


class Kilo(OpenCode):
    name = "kilo-cli"  # "kilo" is the Kilo Code extension's paste guide
    title = "Kilo CLI"
    executable = "kilo"
    stem = "kilo"
    env_prefix = "KILO"
    new_file = "jsonc"
    schema = "https://app.kilo.ai/config.json"

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        """OpenCode's shell overrides, and an opencode.json[c] that beats kilo.jsonc."""
        problems = super().check_env(env)
        home = Path(env["HOME"]) if env.get("HOME") else Path.home()
        folder = self.files(env, home)["jsonc"].path.parent
        problems += [f"{folder / name} exists: Kilo CLI reads it after kilo.jsonc, so its "
                     "model and provider settings win over byecore's"
                     for name in _LATER if (folder / name).is_file()]
        return problems
