"""A launch profile as lines a shell runs: ``eval "$(byecore env claude)"``.

Variables are exported (or removed); a profile with arguments also defines a function
named after the client that calls the real executable with them first, so ``codex …``
then behaves as ``byecore run codex …`` would, minus starting the proxy. Values are
quoted so that the shell reads back exactly the bytes given:

- bash/zsh: single quotes, ``'`` written as ``'\\''`` (``shlex.quote``);
- fish: single quotes, in which only ``\\`` and ``'`` are escaped with a backslash;
- PowerShell: single quotes, ``'`` doubled; the function calls the executable found by
  ``Get-Command -CommandType Application`` so that it does not call itself.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence

SHELLS = ("bash", "zsh", "fish", "powershell")
HOW_TO_LOAD = {
    "bash": 'eval "$(byecore env {client})"',
    "zsh": 'eval "$(byecore env {client})"',
    "fish": "byecore env {client} --shell fish | source",
    "powershell": "byecore env {client} --shell powershell | Out-String | Invoke-Expression",
}


def detect(env: Mapping[str, str]) -> str:
    """The user's shell from ``$SHELL`` (PowerShell on Windows without one), else bash."""
    name = os.path.basename(env.get("SHELL", "")).lower().removesuffix(".exe")
    if name in ("zsh", "fish", "bash"):
        return name
    if name in ("pwsh", "powershell") or (not name and os.name == "nt"):
        return "powershell"
    return "bash"


def quote(shell: str, value: str) -> str:
    if shell == "fish":
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if shell == "powershell":
        return "'" + value.replace("'", "''") + "'"
    return shlex.quote(value)


def lines(shell: str, *, env: Mapping[str, str], unset: Sequence[str] = (),
          function: tuple[str, Sequence[str]] | None = None) -> list[str]:
    """Shell lines: remove ``unset``, export ``env``, define ``function`` (name, args)."""
    out = []
    for name in unset:
        out.append({"fish": f"set -e {name}",
                    "powershell": f"Remove-Item Env:{name} -ErrorAction SilentlyContinue"}
                   .get(shell, f"unset {name}"))
    for name, value in env.items():
        out.append({"fish": f"set -gx {name} {quote(shell, value)}",
                    "powershell": f"$env:{name} = {quote(shell, value)}"}
                   .get(shell, f"export {name}={quote(shell, value)}"))
    if function is not None:
        name, args = function
        quoted = " ".join(quote(shell, a) for a in args)
        if shell == "fish":
            out.append(f"function {name}; command {name} {quoted} $argv; end")
        elif shell == "powershell":
            out.append(f"function {name} {{ & (Get-Command {name} -CommandType Application "
                       f"| Select-Object -First 1) {quoted} @args }}")
        else:
            out.append(f'{name}() {{ command {name} {quoted} "$@"; }}')
    return out
