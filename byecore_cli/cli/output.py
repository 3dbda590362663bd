"""One way out for every command: rich text for people, a versioned JSON envelope for scripts.

A command builds its result as plain data and hands it to ``Output.done`` together with
a function that prints it for people. Errors go the same way: a ``ByecoreError`` raised
inside ``with Output(...)`` becomes a clear message (or a JSON error envelope) and the
error's exit code, never a traceback.

JSON envelope (``schema`` changes only when a field is removed or changes meaning)::

    {"schema": "byecore.v1", "command": "provider list", "ok": true, "data": {...}}
    {"schema": "byecore.v1", "command": "provider add", "ok": false,
     "error": {"code": "config", "message": "...", "hint": "..."}}
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from byecore_cli.errors import ByecoreError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

SCHEMA = "byecore.v1"


def console(stderr: bool = False) -> Console:
    # Imported here, not at the top: rich costs start-up time that --help should not pay.
    # rich honours NO_COLOR by itself; highlight=False keeps numbers in URLs uncoloured.
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


class Output:
    def __init__(self, command: str, json_mode: bool) -> None:
        self.command = command
        self.json_mode = json_mode
        self._out: Console | None = None
        self._err: Console | None = None

    @property
    def out(self) -> Console:
        if self._out is None:
            self._out = console()
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            self._err = console(stderr=True)
        return self._err

    def __enter__(self) -> Output:
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is None or isinstance(exc, (typer.Exit, typer.Abort, SystemExit)):
            return False
        if isinstance(exc, KeyboardInterrupt):
            self.err.print("[yellow]interrupted[/]")
            raise typer.Exit(130)
        if isinstance(exc, ByecoreError):
            self.fail(exc)
        if os.environ.get("BYECORE_DEBUG"):
            return False  # let the traceback through for a bug report
        self.fail(ByecoreError(
            f"internal error: {type(exc).__name__}: {exc}",
            hint="this is a bug in byecore; run again with BYECORE_DEBUG=1 for the traceback",
        ))
        return False  # not reached: fail() raises

    def note(self, text: str) -> None:
        """A side remark for people (what was normalised, a warning); never on stdout in JSON."""
        if not self.json_mode:
            self.err.print(text)

    def done(self, data: Any, human: Callable[[Console, Any], None] | None = None) -> None:
        if self.json_mode:
            self._json({"ok": True, "data": data})
        elif human is not None:
            human(self.out, data)

    def fail(self, error: ByecoreError) -> None:
        if self.json_mode:
            self._json({"ok": False, "error": error.as_dict()})
        else:
            self.err.print(f"[bold red]error:[/] {_escape(error.message)}")
            if error.hint:
                self.err.print(f"[dim]hint:[/] {_escape(error.hint)}")
        raise typer.Exit(error.exit_code)

    def _json(self, body: dict) -> None:
        envelope = {"schema": SCHEMA, "command": self.command, **body}
        sys.stdout.write(json.dumps(envelope, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()


def parse_error(exc: Exception) -> int:
    """Print a command line that did not parse (click's error) as the JSON error envelope.

    Returns the exit code: 2 for a usage error, as without --json.
    """
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path.partition(" ")[2] if ctx is not None else ""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    hint = f"see: byecore {path + ' ' if path else ''}--help"
    kind = UsageError if getattr(exc, "exit_code", 2) == 2 else ByecoreError
    Output(path or "byecore", True)._json({"ok": False,
                                           "error": kind(message, hint=hint).as_dict()})
    return getattr(exc, "exit_code", 2)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
