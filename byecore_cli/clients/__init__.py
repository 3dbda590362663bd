"""Coding clients byecore can point at a provider: one writer module per client.

``WRITERS`` lists the built-in writers explicitly, in the order ``byecore status``
shows them. The contract a writer keeps is in ``clients/base.py``; the engine that
carries out its plans is ``clients/engine.py``.

The writers are imported on first use of ``WRITERS`` (or a writer class), not with the
package: ``byecore proxy`` only needs ``clients.local_keys``, and the writers
(with their YAML/JSON editors) would cost it start-up time before its first answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from byecore_cli.clients.base import Writer

_CLASSES = {
    "Aider": "aider", "Claude": "claude", "Codex": "codex", "Continue": "continue_",
    "Crush": "crush", "Droid": "droid", "Gemini": "gemini", "OpenCode": "opencode",
    "Zed": "zed", "Writer": "base",
    "Hermes": "hermes", "Kimi": "kimi",
    "Grok": "grok", "Goose": "goose",
    "Qwen": "qwen", "Pi": "pi", "Kilo": "kilo", "OpenClaw": "openclaw",
}
_ORDER = ("Codex", "Claude", "Aider", "OpenCode", "Crush", "Droid", "Continue", "Zed",
          "Gemini", "Hermes", "Kimi", "Grok",
          "Goose", "Qwen", "Pi", "Kilo", "OpenClaw")


def __getattr__(name: str):
    from importlib import import_module

    if name == "WRITERS":
        writers: dict[str, Writer] = {}
        for cls_name in _ORDER:
            writer = __getattr__(cls_name)()
            writers[writer.name] = writer
        globals()["WRITERS"] = writers
        return writers
    if name in _CLASSES:
        value = getattr(import_module(f"{__name__}.{_CLASSES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
