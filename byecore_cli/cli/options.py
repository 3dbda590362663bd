"""Options shared by many commands, declared once."""

from __future__ import annotations

import typer

JSON_OPTION = typer.Option(
    False, "--json", help="Print a machine-readable JSON envelope instead of text."
)


def complete_provider(incomplete: str) -> list[str]:
    """Shell completion of saved provider names."""
    from byecore_cli.config.store import SettingsStore
    from byecore_cli.paths import Paths

    try:
        settings, _ = SettingsStore(Paths.current().settings).load()
    except Exception:  # a broken settings file: no candidates, never a traceback
        return []
    return [n for n in settings.providers if n.startswith(incomplete)]


PROVIDER_OPTION = typer.Option(
    None, "--provider", "-p", help="A saved provider's name (default: the default provider).",
    autocompletion=complete_provider,
)
