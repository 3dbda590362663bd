"""``byecore proxy`` (the local gateway) and ``byecore usage`` (what went through it)."""

from __future__ import annotations

import re
import time

import typer

from byecore_cli.cli.options import JSON_OPTION
from byecore_cli.cli.output import Output
from byecore_cli.errors import ByecoreError, UsageError

SAMPLE_MODELS = ("claude-sonnet-4-5", "claude-haiku-4-5", "gpt-5.5", "gpt-5.3-codex")


def _help(ctx: typer.Context, value: bool) -> None:
    """``--help`` with the timeouts' defaults, read from the settings model only when asked
    (importing it at every start would slow down every byecore command)."""
    if not value or ctx.resilient_parsing:
        return
    from byecore_cli.config.models import ProxyTimeouts

    fields = ProxyTimeouts.model_fields
    listed = ", ".join(f"{name} {fields[name].default:g} s" for name in fields)
    ctx.command.help = (f"{ctx.command.help}\n\nTimeouts ([proxy.timeouts] in byecore's "
                        f"settings; defaults): {listed}.")
    typer.echo(ctx.get_help())
    raise typer.Exit()


def proxy(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(None, "--port", help="Port (default: [proxy] port, 4000)."),
    open_access: bool = typer.Option(
        False, "--open", help="Accept requests without a local key (loopback only)."),
    log_level: str = typer.Option("info", "--log-level",
                                  help="debug, info, warning or error."),
    check_config: bool = typer.Option(
        False, "--check-config", help="Explain where sample models would go, then exit."),
    show_key: bool = typer.Option(
        False, "--show-key", help="Print the local key for clients (made on first use)."),
    json_out: bool = JSON_OPTION,
    _show_help: bool = typer.Option(False, "--help", "-h", is_eager=True, expose_value=False,
                                    callback=_help, help="Show this message and exit."),
) -> None:
    """Run the local gateway: any client, any model, any upstream.

    OpenAI-protocol clients use http://HOST:PORT/v1, Anthropic-protocol clients the root.
    With no provider saved, a built-in offline demo provider answers.
    """
    from byecore_cli.config.store import SettingsStore
    from byecore_cli.paths import Paths

    with Output("proxy", json_out) as out:
        if port is not None and not 1 <= port <= 65535:
            raise UsageError(f"--port {port} is not a TCP port",
                             hint="use a port from 1 to 65535, such as 4000")
        settings, _ = SettingsStore(Paths.current().settings).load()
        if show_key:
            from byecore_cli.clients.local_keys import get_or_create

            key = get_or_create("default")
            out.done({"client": "default", "key": key}, lambda c, d: print(d["key"]))
            return
        if check_config:
            data = explain(settings)
            out.done(data, _print_explain)
            if data["problems"]:
                raise typer.Exit(1)
            return
        _serve(out, settings, host, settings.proxy.port if port is None else port, open_access,
               log_level)


def explain(settings) -> dict:
    """Where each sample model goes from each protocol, and every target that cannot resolve."""
    from byecore_cli.codecs import PROTOCOLS
    from byecore_cli.errors import NotFound
    from byecore_cli.proxy.router import Router

    router = Router(settings)
    names = list(dict.fromkeys([*router.models(), *SAMPLE_MODELS]))
    routes, problems = [], []
    for model in names:
        for inbound in PROTOCOLS:
            try:
                chain = router.route(model, inbound)
            except NotFound as exc:
                routes.append({"model": model, "inbound": inbound, "error": exc.message})
                continue
            routes.append({"model": model, "inbound": inbound, "targets": [
                {"target": t.name, "protocol": t.protocol, "via": t.via,
                 "mode": "demo" if t.config is None else
                 "pass-through" if t.passthrough else "translated"} for t in chain]})
    for label, texts in [("alias", settings.proxy.aliases.values()),
                         ("scenario", settings.proxy.scenarios.values()),
                         *[(f"fallback {k}", v) for k, v in settings.proxy.fallbacks.items()]]:
        for text in texts:
            try:
                router.place(text, "chat", via=label)
            except NotFound:
                problems.append(f"{label}: target {text!r} names no provider and there is "
                                "no default provider")
    return {"routes": routes, "problems": problems}


def _print_explain(console, data) -> None:
    from rich.table import Table

    table = Table("model", "client", "goes to", "how", "why")
    for r in data["routes"]:
        if "error" in r:
            table.add_row(r["model"], r["inbound"], "[red]404[/]", r["error"][:60])
            continue
        first, rest = r["targets"][0], r["targets"][1:]
        how = first["mode"] + ("" if first["mode"] == "demo" else f" ({first['protocol']})")
        goes = first["target"] + "".join(f" → {t['target']}" for t in rest)
        table.add_row(r["model"], r["inbound"], goes, how, first["via"])
    console.print(table)
    for problem in data["problems"]:
        console.print(f"[red]problem:[/] {problem}")


def _serve(out: Output, settings, host: str, port: int, open_access: bool,
           log_level: str) -> None:
    import logging

    from byecore_cli.clients.local_keys import all_keys, get_or_create
    from byecore_cli.paths import Paths
    from byecore_cli.proxy.auth import check_bind, is_loopback

    level = getattr(logging, log_level.upper(), None)
    if not isinstance(level, int):
        raise UsageError(f"unknown log level {log_level!r}",
                         hint="use debug, info, warning or error")
    keys = all_keys()
    check_bind(host, open_access, keys)
    from byecore_cli.files import ensure_private_dir

    ensure_private_dir(Paths.current().home)  # before anything in it is made: 0700
    if not keys and not open_access and is_loopback(host):
        get_or_create("default")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from aiohttp import web

    from byecore_cli.proxy import runtime
    from byecore_cli.proxy.app import AccessLog, create_app
    from byecore_cli.proxy.router import Router

    runtime.quiet_bad_requests()
    runtime.preload()  # a reinstall while serving must not reach this process
    app = create_app(settings, open_access=open_access,
                     settings_path=Paths.current().settings, listen_host=host)
    router = Router(settings)
    # Bind before saying "listening": a busy port must not be announced as serving.
    listener = _listen(host, port)
    port = listener.getsockname()[1]
    root = runtime.client_url(host, port)
    out.done({"root": root}, lambda console, d: _banner(console, root, router, open_access))
    runtime.announce(host, port)
    try:
        web.run_app(app, sock=listener, print=None, handler_cancellation=True,
                    shutdown_timeout=10.0, access_log=logging.getLogger("byecore.access"),
                    access_log_class=AccessLog)
    finally:
        runtime.withdraw()


def _listen(host: str, port: int):
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(512)
    except OSError as exc:
        raise ByecoreError(f"cannot listen on {host}:{port} ({exc.strerror or exc})",
                           hint="is another proxy running? choose another --port") from None
    return sock


def _banner(console, root: str, router, open_access: bool) -> None:
    console.print(f"[bold]byecore proxy[/] listening on {root}")
    console.print(f"  OpenAI-protocol clients (Codex, Aider, OpenCode…): [bold]{root}/v1[/]")
    console.print(f"  Anthropic-protocol clients (Claude Code):          [bold]{root}[/]")
    if router.demo_only:
        console.print("  No provider saved: the offline [bold]demo[/] provider answers every "
                      "model (add one with: byecore provider add)")
    else:
        for name, saved in router.settings.providers.items():
            mark = " (default)" if name == router.settings.default_provider else ""
            models = ", ".join(saved.models[:6]) or "any model"
            console.print(f"  {name}{mark}: {', '.join(saved.protocols)} — {models}")
        for pattern, target in router.proxy.aliases.items():
            console.print(f"  alias {pattern} → {target}")
    if open_access:
        console.print("  [yellow]--open: no local key needed (loopback only)[/]")
    else:
        console.print("  Local key: [bold]byecore proxy --show-key[/] (send it as the API key)")
    console.print("  Routes: byecore proxy --check-config    Usage: byecore usage    "
                  "Stop: Ctrl+C")


_SINCE = re.compile(r"^(\d+)\s*([mhdw])$")


def parse_since(text: str | None) -> float | None:
    if not text:
        return None
    match = _SINCE.match(text.strip().lower())
    if match:
        seconds = {"m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2)]
        return time.time() - int(match.group(1)) * seconds
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise UsageError(f"cannot read --since {text!r}",
                         hint="use 30m, 24h, 7d, 2w or a date such as 2026-11-01") from None


def usage(
    since: str = typer.Option(None, "--since", help="30m, 24h, 7d or a date (2026-11-01)."),
    by: str = typer.Option("model", "--by", help="client, model, provider or day."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Totals of what went through the proxy: requests, errors, tokens, latency."""
    from byecore_cli.paths import Paths

    with Output("usage", json_out) as out:
        if by not in ("client", "model", "provider", "day"):
            raise UsageError(f"cannot group by {by!r}", hint="use client, model, provider "
                             "or day")
        from byecore_cli.proxy.usage import summary

        rows = summary(Paths.current().usage_db, since=parse_since(since), by=by)
        data = {"by": by, "since": since, "rows": rows}

        def human(console, d):
            if not d["rows"]:
                console.print("No requests logged yet: run byecore proxy and point a client "
                              "at it.")
                return
            from rich.table import Table

            table = Table(by, "requests", "errors", "input", "cached", "output", "reasoning",
                          "avg ms")
            for r in d["rows"]:
                table.add_row(str(r[by]), *(f"{r[k]:,}" for k in (
                    "requests", "errors", "input_tokens", "cached_tokens", "output_tokens",
                    "reasoning_tokens")), f"{r['avg_latency_ms']:,.0f}")
            console.print(table)

        out.done(data, human)
