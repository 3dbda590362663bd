"""``byecore models``: what a provider really serves, asked live."""

from __future__ import annotations

import typer

from byecore_cli.cli.options import JSON_OPTION, PROVIDER_OPTION
from byecore_cli.cli.output import Output
from byecore_cli.errors import NotFound


def models(
    provider: str | None = PROVIDER_OPTION,
    timeout: float = typer.Option(20.0, "--timeout", help="Seconds to wait for an answer."),
    json_out: bool = JSON_OPTION,
) -> None:
    """List the models a provider serves, live from its GET /v1/models."""
    from byecore_cli.config.store import SettingsStore
    from byecore_cli.paths import Paths

    with Output("models", json_out) as out:
        settings, _ = SettingsStore(Paths.current().settings).load()
        name = provider or settings.default_provider
        if not name:
            raise NotFound("no provider saved yet",
                           hint="add one first: byecore provider add byecore")
        if name not in settings.providers:
            raise NotFound(f"no saved provider named {name!r}",
                           hint="see 'byecore provider list'")
        saved = settings.providers[name]

        import asyncio

        from byecore_cli.providers.live import list_models

        if json_out:
            found = asyncio.run(list_models(name, saved, timeout=timeout))
        else:
            with out.err.status(f"Asking {name} for its models…"):
                found = asyncio.run(list_models(name, saved, timeout=timeout))
        data = {"provider": name, "url": found.url, "models": found.models}

        def human(console, d):
            from rich.table import Table

            table = Table("model", "owned by", title=f"{name}: {len(d['models'])} models")
            for m in d["models"]:
                mark = " [green](default)[/]" if m["id"] == saved.default_model else ""
                table.add_row(m["id"] + mark, m.get("owned_by") or "")
            console.print(table)
            missing = [m for m in saved.models if m not in {x["id"] for x in d["models"]}]
            if missing:
                console.print(f"[yellow]Saved but not served:[/] {', '.join(missing)}")

        out.done(data, human)
