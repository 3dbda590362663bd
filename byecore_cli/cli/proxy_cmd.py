"""``byecore proxy`` (the local gateway) and ``byecore usage`` (what went through it)."""

from __future__ import annotations

import os
import sys

import typer

from byecore_cli.cli.options import JSON_OPTION
from byecore_cli.cli.output import Output
from byecore_cli.errors import ByecoreError, UsageError

SAMPLE_MODELS = ("claude-sonnet-4-5", "claude-haiku-4-5", "gpt-5.5", "gpt-5.3-codex")
MAX_WORKERS = 64


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
    workers: int = typer.Option(
        1, "--workers", "-w", min=1, max=MAX_WORKERS,
        help="Processes serving the port, to use more cores (Linux and FreeBSD: they share "
        "it with SO_REUSEPORT; elsewhere one process serves)."),
    worker_fd: int = typer.Option(None, "--worker-fd", hidden=True,
                                  help="Internal: serve this inherited listening socket."),
    supervisor: int = typer.Option(None, "--worker-of", hidden=True,
                                   help="Internal: the supervisor's pid, to stop with it."),
    json_out: bool = JSON_OPTION,
    _show_help: bool = typer.Option(False, "--help", "-h", is_eager=True, expose_value=False,
                                    callback=_help, help="Show this message and exit."),
) -> None:
    """Run the local gateway: any client, any model, any upstream.

    OpenAI-protocol clients use http://HOST:PORT/v1, Anthropic-protocol clients the root.
    With no provider saved, a built-in offline demo provider answers. --workers N runs N
    processes on the one port (each reloads edited settings; Ctrl+C or SIGTERM drains and
    stops them all), and they share one usage log.
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
        if worker_fd is not None:
            _work(settings, host, open_access, _level(log_level), worker_fd,
                  supervisor or os.getppid())
            return
        _serve(out, settings, host, settings.proxy.port if port is None else port, open_access,
               log_level, workers)


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


def _level(log_level: str) -> int:
    import logging

    level = getattr(logging, log_level.upper(), None)
    if not isinstance(level, int):
        raise UsageError(f"unknown log level {log_level!r}",
                         hint="use debug, info, warning or error")
    return level


def _serve(out: Output, settings, host: str, port: int, open_access: bool,
           log_level: str, workers: int = 1) -> None:
    import logging

    from byecore_cli.clients.local_keys import all_keys, get_or_create
    from byecore_cli.paths import Paths
    from byecore_cli.proxy.auth import check_bind, is_loopback

    level = _level(log_level)
    keys = all_keys()
    check_bind(host, open_access, keys)
    from byecore_cli.files import ensure_private_dir

    ensure_private_dir(Paths.current().home)  # before anything in it is made: 0700
    if not keys and not open_access and is_loopback(host):
        get_or_create("default")  # once, here: workers must not race to make it

    from byecore_cli.proxy import runtime
    from byecore_cli.proxy.router import Router

    option = None
    if workers > 1:
        option, why_not = runtime.reuse_port()
        if option is None:
            out.note(f"[yellow]note:[/] {why_not}: serving with 1 worker, not {workers}")
            workers = 1
    logging.basicConfig(level=level, format=_log_format(workers))
    router = Router(settings)
    if workers > 1:
        _supervise(out, host, port, open_access, log_level, workers, option, router)
        return

    from aiohttp import web

    from byecore_cli.proxy.app import AccessLog, create_app

    runtime.quiet_bad_requests()
    runtime.preload()  # a reinstall while serving must not reach this process
    app = create_app(settings, open_access=open_access,
                     settings_path=Paths.current().settings, listen_host=host)
    # Bind before saying "listening": a busy port must not be announced as serving.
    listener = _listen(host, port)
    port = listener.getsockname()[1]
    root = runtime.client_url(host, port)
    out.done({"root": root, "workers": 1},
             lambda console, d: _banner(console, root, router, open_access))
    runtime.announce(host, port)
    try:
        web.run_app(app, sock=listener, print=None, handler_cancellation=True,
                    shutdown_timeout=10.0, access_log=logging.getLogger("byecore.access"),
                    access_log_class=AccessLog)
    finally:
        runtime.withdraw()


def _log_format(workers: int) -> str:
    # with several processes on one stream, each line says whose it is
    who = " [%(process)d]" if workers > 1 else ""
    return f"%(asctime)s %(levelname)s{who} %(name)s: %(message)s"


def _supervise(out: Output, host: str, port: int, open_access: bool, log_level: str,
               count: int, option: int, router) -> None:
    """Make the listeners, start the workers and watch them until a signal stops them."""
    from byecore_cli.paths import Paths
    from byecore_cli.proxy import runtime
    from byecore_cli.proxy.usage import connect

    try:
        socks = runtime.listeners(host, port, count, option)
    except OSError as exc:
        raise _busy(host, port, exc) from None
    port = socks[0].getsockname()[1]
    # WAL mode and the table, made once: workers starting together must not race to it
    connect(Paths.current().usage_db).close()

    def command(fd: int) -> list[str]:
        return [sys.executable, "-m", "byecore_cli", "proxy", "--host", host, "--port",
                str(port), "--log-level", log_level, "--worker-fd", str(fd),
                "--worker-of", str(os.getpid()), *(["--open"] if open_access else [])]

    root = runtime.client_url(host, port)
    workers = runtime.Workers(socks, command,
                              on_change=lambda pids: runtime.announce(host, port, pids))
    out.done({"root": root, "workers": count},
             lambda console, d: _banner(console, root, router, open_access, count))
    try:
        workers.run()
    except runtime.WorkersFailed as exc:
        raise ByecoreError(f"stopped: {exc}",
                           hint="see the workers' errors above; byecore proxy without "
                                "--workers shows the same problem in one process") from None
    finally:
        runtime.withdraw()


def _work(settings, host: str, open_access: bool, level: int, fd: int,
          supervisor: int) -> None:
    """One worker of ``--workers N``: serve the inherited listener until told to stop."""
    import logging
    import socket

    from aiohttp import web

    from byecore_cli.paths import Paths
    from byecore_cli.proxy import runtime
    from byecore_cli.proxy.app import AccessLog, create_app

    logging.basicConfig(level=level, format=_log_format(2))
    runtime.quiet_bad_requests()
    runtime.preload()
    app = create_app(settings, open_access=open_access,
                     settings_path=Paths.current().settings, listen_host=host)
    app.cleanup_ctx.append(lambda app: _supervisor_watch(supervisor))
    web.run_app(app, sock=socket.socket(fileno=fd), print=None, handler_cancellation=True,
                shutdown_timeout=10.0, access_log=logging.getLogger("byecore.access"),
                access_log_class=AccessLog)


async def _supervisor_watch(supervisor: int):
    """Stop (gracefully) when the supervisor is gone: a worker runs in a session of its
    own, so nothing else would end it after the supervisor was killed. The pid comes from
    the supervisor: one that died while this worker started would leave getppid() at
    init's pid already."""
    import asyncio
    import logging
    import signal

    async def watch() -> None:
        while os.getppid() == supervisor:
            await asyncio.sleep(1.0)
        logging.getLogger("byecore.proxy").warning("the supervisor is gone: stopping")
        os.kill(os.getpid(), signal.SIGTERM)

    task = asyncio.create_task(watch())
    yield
    task.cancel()


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
        raise _busy(host, port, exc) from None
    return sock


def _busy(host: str, port: int, exc: OSError) -> ByecoreError:
    return ByecoreError(f"cannot listen on {host}:{port} ({exc.strerror or exc})",
                        hint="is another proxy running? choose another --port")


def _banner(console, root: str, router, open_access: bool, workers: int = 1) -> None:
    shared = f" ({workers} worker processes)" if workers > 1 else ""
    console.print(f"[bold]byecore proxy[/] listening on {root}{shared}")
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


# `byecore usage` lives in usage_cmd.py (cost, cache hits, chart); main.py registers it here
from byecore_cli.cli.usage_cmd import parse_since, usage  # noqa: E402, F401
