"""``byecore run CLIENT`` and ``byecore env CLIENT``: a client pointed at the local proxy
for one process, with no file of the user's edited.

- ``profiles.py``: per client, the launch profile (environment, extra arguments, files in
  a folder of byecore's own) that points it at the proxy. The facts come from each
  client's writer (its constants, and its own ``plan`` run on an empty or copied file).
- ``shells.py``: a profile as export lines for bash/zsh, fish or PowerShell.
- ``leases.py``: who is using a proxy that ``run`` started (one lease file per ``run``
  process), so the last one out stops it; ``serve.py`` is that proxy's entry point.
- ``proxy.py``: start or reuse the proxy, wait until it answers, stop it at the end.
- ``child.py``: start the client on the same terminal, forward signals, return its code.
- ``homes.py``: profiles for clients configured only by files; ``copilot.py`` and
  ``cline.py``: GitHub Copilot CLI and Cline CLI, which have no writer (``LAUNCH_ONLY``).
"""

from __future__ import annotations

from dataclasses import dataclass

# Clients byecore launches but has no writer for in clients.WRITERS (configured by their
# environment, or keeping their provider in a store of their own): their launch module's
# CLIENT says what run and env need.
LAUNCH_ONLY = {"copilot": "byecore_cli.launch.copilot", "cline-cli": "byecore_cli.launch.cline"}


@dataclass(frozen=True)
class LaunchOnly:
    """What ``byecore run``/``env`` and ``clients.targets.build_target`` read of a writer,
    for a client that has no writer."""

    name: str
    title: str
    executable: str
    protocol: str  # the byecore protocol it speaks, as a writer's ``protocol``


def launch_only(name: str):
    """The descriptor of a client byecore launches but writes no file for, else None."""
    from importlib import import_module

    module = LAUNCH_ONLY.get(name)
    return import_module(module).CLIENT if module else None
