"""``byecore check``: prove that a key, a URL and each protocol work, or say what is wrong."""

from __future__ import annotations

import typer

from byecore_cli.cli.options import JSON_OPTION, PROVIDER_OPTION
from byecore_cli.cli.output import Output
from byecore_cli.errors import NotFound, UsageError
from byecore_cli.providers.endpoints import PROTOCOL_HELP


def check(
    provider: str | None = PROVIDER_OPTION,
    base_url: str | None = typer.Option(
        None, "--base-url", help="Check this URL directly instead of a saved provider."),
    key: str | None = typer.Option(None, "--key", help="The key to use with --base-url."),
    model: str | None = typer.Option(None, "--model", "-m", help="The model to try."),
    protocols: list[str] = typer.Option(
        [], "--protocol", metavar="PROTOCOL",
        help=f"A protocol to try (repeatable): {PROTOCOL_HELP}. Default: the ones the "
        "provider claims; chat, responses and messages for --base-url; all for --proxy."),
    proxy: bool = typer.Option(
        False, "--proxy", help="Check the local byecore proxy end to end instead."),
    port: int | None = typer.Option(
        None, "--port", help="The local proxy's port, with --proxy (default: [proxy] port "
        "in settings, 4000 unless set)."),
    stream: bool = typer.Option(True, "--stream/--no-stream", help="Also try streaming."),
    images: bool = typer.Option(
        False, "--images", help="Also make one image with the provider's first image model "
        "(its cheapest size, n=1) to prove its Images API works. This costs money: one "
        "image at that size's price (byecore's image-2: $0.05). Without --images a check "
        "never makes an image."),
    timeout: float = typer.Option(
        10.0, "--timeout", min=0.1, metavar="SECONDS",
        help="Seconds to wait for an answer's first byte or the next stream event "
        "(connecting: at most 5). The whole check stops after 6 times this."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Prove a provider works: its model list, then each protocol, plain and streamed.

    Every failure comes with what is wrong and how to fix it. Exit code 0 when every step
    passed, 1 otherwise.
    """
    with Output("check", json_out) as out:
        target, notes = _target(provider, base_url, key, model, protocols, proxy, port)
        if images:
            notes += _image_target(target, provider, base_url, proxy)
        for note in notes:
            out.note(f"[dim]•[/] {note}")

        import asyncio

        from byecore_cli.check.probes import run_checks

        if json_out:
            report = asyncio.run(run_checks(target, streams=stream, timeout=timeout,
                                            images=images))
        else:
            report = _run_live(out, target, stream, timeout, images)
        data = {
            "target": {"name": target.name, "base_url": target.base_url, "model": target.model,
                       "protocols": target.protocols, "image_model": target.image_model},
            "ok": report.ok,
            "steps": [step.as_dict() for step in report.steps],
            "findings": report.findings(),
            "stopped": report.stopped,
        }
        if json_out:
            out.done(data)
        else:
            _print_findings(out, report)
        if not report.ok:
            raise typer.Exit(1)


# What a bare --base-url is checked for: the protocols gateways sell (a Gemini API is
# checked with --protocol gemini).
URL_PROTOCOLS = ("chat", "responses", "messages")


def _target(provider, base_url, key, model, protocols, proxy, port):
    from byecore_cli.check.probes import Target
    from byecore_cli.providers.endpoints import PROTOCOLS, BadURL, normalise_base_url

    bad = [p for p in protocols if p not in PROTOCOLS]
    if bad:
        raise UsageError(f"unknown protocol {bad[0]!r}", hint="choose from "
                         + ", ".join(PROTOCOLS))
    if sum(bool(x) for x in (provider, base_url, proxy)) > 1:
        raise UsageError("use only one of --provider, --base-url and --proxy")
    notes: list[str] = []
    if proxy:
        from byecore_cli.clients import local_keys

        # Its own key, made on first use: the proxy picks up new keys while it runs,
        # so this works on a fresh machine too.
        local_key = local_keys.get_or_create("byecore-check")
        if port is None:
            from byecore_cli.config.store import SettingsStore
            from byecore_cli.paths import Paths

            port = SettingsStore(Paths.current().settings).load()[0].proxy.port
        return Target(name="byecore proxy", base_url=f"http://127.0.0.1:{port}", key=local_key,
                      model=model or "", protocols=protocols or list(PROTOCOLS),  # it serves all
                      fix_key="use a key from 'byecore proxy' (or start it with --open)"), notes
    if base_url:
        try:
            root, url_notes = normalise_base_url(base_url)
        except BadURL as exc:
            raise UsageError(str(exc)) from None
        notes += [f"base URL: {n}" for n in url_notes]
        return Target(name=root, base_url=root, key=key, model=model or "",
                      protocols=protocols or list(URL_PROTOCOLS),
                      fix_key="copy the key again, in one piece, from the provider's "
                      "dashboard"), notes
    from byecore_cli.config.store import SettingsStore
    from byecore_cli.paths import Paths

    settings, _ = SettingsStore(Paths.current().settings).load()
    name = provider or settings.default_provider
    if not name:
        raise NotFound("no provider saved yet", hint="add one (byecore provider add byecore) "
                       "or check a URL directly: byecore check --base-url URL --key KEY")
    if name not in settings.providers:
        raise NotFound(f"no saved provider named {name!r}", hint="see 'byecore provider list'")
    saved = settings.providers[name]
    return Target(
        name=name, base_url=saved.base_url, key=saved.resolve_key(),
        model=model or saved.default_model or "",
        protocols=protocols or list(saved.protocols),
        prefixes=saved.prefixes,
        fix_key=f"byecore provider add {name} --replace --key-stdin (paste the key in one "
        "piece)" + (f", or fix ${saved.key_env}" if saved.key_env else ""),
    ), notes


def _image_target(target, provider, base_url, proxy) -> list[str]:
    """Fill in the image model, its cheapest size and price for ``--images``: the saved
    provider's (through the proxy: the default provider's, else the first listing one)."""
    from byecore_cli.config.store import SettingsStore
    from byecore_cli.images import catalog
    from byecore_cli.images.catalog import price_text
    from byecore_cli.paths import Paths

    if base_url:
        raise UsageError("--images checks a saved provider (it needs the provider's image "
                         "models and their prices)", hint="save it first: byecore provider "
                         "add NAME --base-url URL, then byecore check -p NAME --images")
    settings, _ = SettingsStore(Paths.current().settings).load()
    try:
        name, model = catalog.choose(settings, provider=None if proxy else target.name)
    except (NotFound, UsageError):
        raise UsageError(f"--images: {'no saved provider' if proxy else target.name} lists "
                         "an image model", hint="add its table under "
                         "[providers.NAME.image_models] in settings.toml, or leave out "
                         "--images") from None
    cheapest = catalog.table(settings, name, model).cheapest()
    if cheapest is None:
        raise UsageError(f"--images: {model} on {name} has no size table")
    target.image_model = model
    target.image_size, target.image_price = cheapest.size, cheapest.price
    return [f"--images makes one {cheapest.size} image with {model} on {name}: "
            f"{price_text(cheapest.price)}"]


def _run_live(out: Output, target, stream: bool, timeout: float, images: bool = False):
    import asyncio

    from rich.live import Live
    from rich.table import Table

    from byecore_cli.check.probes import run_checks

    table = Table("step", "", "HTTP", "time", "first token", "detail",
                  title=f"Checking {target.name}")

    def add(step) -> None:
        from rich.markup import escape

        if step.skipped:
            table.add_row(f"[dim]{escape(step.name)}[/]", "[dim]–[/]", "", "", "",
                          "[dim]not tried[/]")
            return
        mark = "[green]✓[/]" if step.ok and not step.warning else \
            "[yellow]![/]" if step.ok else "[red]✗[/]"
        table.add_row(
            escape(step.name), mark, str(step.status or ""),
            f"{step.latency_ms:.0f} ms" if step.latency_ms is not None else "",
            f"{step.ttft_ms:.0f} ms" if step.ttft_ms is not None else "",
            escape(step.detail if step.ok and not step.warning else (step.problem or "")[:60]),
        )

    with Live(table, console=out.out, refresh_per_second=8, transient=False):
        return asyncio.run(run_checks(target, streams=stream, timeout=timeout, on_step=add,
                                      images=images))


def _print_findings(out: Output, report) -> None:
    """Each distinct problem once: seven steps failing the same way make one line."""
    from rich.markup import escape

    out.out.print()
    tried = [s for s in report.steps if not s.skipped]
    for finding in report.findings():
        names = finding["steps"]
        who = f"all {len(names)} checks" if len(names) > 1 and len(names) == len(tried) \
            else ", ".join(names)
        colour = "yellow" if finding["warning"] else "red"
        out.out.print(f"[{colour}]{escape(who)}:[/] {escape(finding['problem'])}")
        if finding["fix"]:
            out.out.print(f"  [bold]fix:[/] {escape(finding['fix'])}")
    skipped = [s.name for s in report.steps if s.skipped]
    if skipped:
        out.out.print(f"[dim]Not tried ({escape(report.stopped or 'the check stopped')}): "
                      f"{escape(', '.join(skipped))}.[/]")
    if report.ok:
        out.out.print(f"[green]All {len(report.steps)} checks passed[/] for "
                      f"{escape(report.target.name)} with model {report.target.model}.")
    else:
        failed = sum(not s.ok and not s.skipped for s in report.steps)
        untried = f"; {len(skipped)} not tried" if skipped else ""
        out.out.print(f"[red]{failed} of {len(tried)} checks failed{untried}.[/]")


def doctor(
    offline: bool = typer.Option(False, "--offline", help="Do not ask providers for their "
                                 "model lists."),
    timeout: float = typer.Option(10.0, "--timeout", help="Seconds to wait per provider."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Check every coding client: installed, config valid, where it points, and what to fix.

    Exit code 0 when nothing needs fixing, 1 otherwise.
    """
    with Output("doctor", json_out) as out:
        from byecore_cli.check.doctor import run_doctor

        if json_out:
            report = run_doctor(online=not offline, timeout=timeout)
        else:
            with out.err.status("Checking clients…"):
                report = run_doctor(online=not offline, timeout=timeout)

        def human(console, d):
            from rich.markup import escape
            from rich.table import Table

            table = Table("client", "installed", "points at", "model", "findings")
            for r in d["clients"]:
                where = r["base_url"] or ("" if r["config_found"] else "no config")
                if r["via_proxy"]:
                    where += " (proxy)"
                table.add_row(r["title"], r["version"] or ("yes" if r["installed"] else "no"),
                              escape(where), escape(r["model"] or ""),
                              str(len(r["findings"])) if r["findings"] else "[green]ok[/]")
            console.print(table)
            groups = [("byecore", d["general"])] + [(r["title"], r["findings"])
                                                     for r in d["clients"]]
            for title, findings in groups:
                for f in findings:
                    console.print(f"[yellow]{escape(title)}:[/] {escape(f['problem'])}")
                    console.print(f"  [bold]fix:[/] {escape(f['fix'])}")
            if d["ok"]:
                console.print("[green]Nothing to fix.[/]")

        out.done(report, human)
        if not report["ok"]:
            raise typer.Exit(1)
