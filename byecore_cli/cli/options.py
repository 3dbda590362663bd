"""Options shared by many commands, declared once."""

from __future__ import annotations

import typer

JSON_OPTION = typer.Option(
    False, "--json", help="Print a machine-readable JSON envelope instead of text."
)
PROVIDER_OPTION = typer.Option(
    None, "--provider", "-p", help="A saved provider's name (default: the default provider)."
)
