"""Coding clients byecore can point at a provider: one writer module per client.

``WRITERS`` lists the built-in writers explicitly, in the order ``byecore status``
shows them. The contract a writer keeps is in ``clients/base.py``; the engine that
carries out its plans is ``clients/engine.py``.
"""

from __future__ import annotations

from byecore_cli.clients.aider import Aider
from byecore_cli.clients.base import Writer
from byecore_cli.clients.claude import Claude
from byecore_cli.clients.codex import Codex
from byecore_cli.clients.continue_ import Continue
from byecore_cli.clients.crush import Crush
from byecore_cli.clients.droid import Droid
from byecore_cli.clients.opencode import OpenCode
from byecore_cli.clients.zed import Zed

WRITERS: dict[str, Writer] = {w.name: w for w in (
    Codex(), Claude(), Aider(), OpenCode(), Crush(), Droid(), Continue(), Zed())}
