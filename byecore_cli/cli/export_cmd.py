"""``byecore export …``: hand saved providers to other tools (LiteLLM, CC Switch, CCR).

Keys stay out of everything unless asked for (``--with-keys`` / ``--with-key``); a file
written with keys is made 0600, and the output says when keys are in it.
"""

from __future__ import annotations

from pathlib import Path

import typer

from byecore_cli.cli.options import JSON_OPTION, complete_provider
from byecore_cli.cli.output import Output
from byecore_cli.errors import UsageError

app = typer.Typer(
    help="Hand your setup to another tool: a LiteLLM proxy config for a team gateway, or an "
         "import link for CC Switch or Claude Code Router.",
    no_args_is_help=True,
)

PROVIDER_ARGUMENT = typer.Argument(..., help="A saved provider's name.",
                                   autocompletion=complete_provider)


def _settings():
    from byecore_cli.config.store import SettingsStore
    from byecore_cli.paths import Paths

    path = Paths.current().settings
    settings, _ = SettingsStore(path).load()
    return settings, path


def _provider(settings, name: str):
    from byecore_cli.errors import NotFound

    if name not in settings.providers:
        saved = ", ".join(settings.providers) or "none yet"
        raise NotFound(f"no saved provider named {name!r}",
                       hint=f"saved providers: {saved} (byecore provider list)")
    return settings.providers[name]


@app.command()
def litellm(
    out_path: Path = typer.Option(None, "--out", "-o", help="Write config.yaml here "
                                  "(default: print the YAML on standard output)."),
    with_keys: bool = typer.Option(
        False, "--with-keys", help="Write the keys themselves instead of os.environ/VAR "
        "references (the file is then made 0600)."),
    gateway_url: str = typer.Option(
        None, "--gateway-url", help="Where the LiteLLM proxy will be reached, for the client "
        "settings shown (default: http://localhost:4000, LiteLLM's default)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing --out file."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Write a LiteLLM proxy config.yaml from saved providers, aliases and fallbacks.

    Every provider/model byecore routes to becomes a model group of that name; bare
    model names and aliases land where byecore proxy would send them; fallbacks,
    retries and timeouts go to router_settings. Keys are os.environ/VAR references:
    a key byecore stores gets a variable named for its provider, which the output
    tells you to export. The output also says what does not carry over and how to
    point clients at the gateway. Start it with: litellm --config config.yaml
    """
    from byecore_cli.export import litellm as export

    with Output("export litellm", json_out) as out:
        if gateway_url is not None:
            _check_url(gateway_url)
        settings, source = _settings()
        result = export.build(settings, with_keys=with_keys,
                              gateway_url=gateway_url or export.DEFAULT_GATEWAY)
        text = export.to_yaml(result, str(source))
        data = result.as_dict()
        data["file"] = None
        if out_path is not None:
            _write(out_path, text, force=force, secret=result.literal_keys)
            data["file"] = str(out_path)
        elif json_out:
            data["yaml"] = text
        if out_path is None and not json_out:
            typer.echo(text, nl=False)  # the YAML alone on stdout: `> config.yaml` works
            _explain(out.err, data, result.literal_keys)
            return
        out.done(data, lambda console, d: _explain(console, d, result.literal_keys))


def _check_url(url: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise UsageError(f"--gateway-url {url!r} is not an http:// or https:// URL",
                         hint="give where clients will reach LiteLLM, such as "
                              "http://localhost:4000 or https://llm.example.com")


def _write(path: Path, text: str, *, force: bool, secret: bool) -> None:
    from byecore_cli.files import SECRET_MODE, write_atomic

    if path.is_dir():
        raise UsageError(f"--out {path} is a folder", hint=f"name a file: --out {path}/config.yaml")
    if path.exists() and not force:
        raise UsageError(f"{path} already exists", hint="pass --force to overwrite it")
    write_atomic(path, text, mode=SECRET_MODE if secret else None)


def _explain(console, d: dict, literal: bool) -> None:
    from rich.markup import escape

    if d["file"]:
        mode = " (mode 0600: it holds API keys)" if literal else ""
        console.print(f"[green]✓[/] wrote {escape(d['file'])}{mode}: "
                      f"{len(d['config']['model_list'])} model entries")
    elif literal:
        console.print("[yellow]note:[/] the YAML above holds API keys (--with-keys)")
    where = d["file"] or "config.yaml"
    console.print(f"\n[bold]Start it[/] (LiteLLM {d['litellm_version']}, pip install "
                  f"'litellm\\[proxy]'): litellm --config {escape(where)}")
    console.print("[bold]Set first:[/]")
    console.print(f'  export {d["master_key_env"]}="sk-$(openssl rand -hex 32)"   [dim]# the key '
                  "clients send; LiteLLM refuses to start without one[/]")
    for key in d["keys"]:
        if key["literal"] or not key["variable"]:
            continue
        if key["source"] == "stored":
            console.print(f"  export {key['variable']}=…   [dim]# {key['provider']}'s key, "
                          "stored in byecore's settings: byecore provider show "
                          f"{key['provider']} --show-key[/]")
        else:
            state = "set here" if key["is_set"] else "not set here"
            console.print(f"  export {key['variable']}=…   [dim]# {key['provider']}'s key "
                          f"({state})[/]")
    console.print("[bold]Point clients at it:[/]")
    for client in d["clients"]:
        shown = ", ".join(f"{k} {v}" for k, v in client["settings"].items())
        console.print(f"  {client['client']}: {escape(shown)}")
    console.print("  or save it as a provider and let byecore set clients up:")
    for command in d["commands"]:
        console.print(f"    {escape(command)}")
    console.print("[bold]Does not carry over:[/]")
    for line in d["not_carried"]:
        console.print(f"  • {escape(line)}")


def _link_output(out: Output, link) -> None:
    """The link alone on stdout (for $(…) and copying), the notes on stderr."""
    from rich.markup import escape

    data = link.as_dict()
    if out.json_mode:
        out.done(data)
        return
    typer.echo(data["link"])
    if data["with_key"]:
        out.err.print("[yellow]note:[/] this link holds the API key (--with-key): share it "
                      "only over a private channel")
    for note in data["notes"]:
        out.err.print(f"[dim]•[/] {escape(note)}")


@app.command()
def ccswitch(
    provider: str = PROVIDER_ARGUMENT,
    app_name: str = typer.Option(
        None, "--app", help="The CC Switch app to import into: claude, codex, gemini, "
        "opencode, openclaw, hermes or grokbuild (default: the first of claude, codex, "
        "gemini, opencode the provider's protocols fit)."),
    with_key: bool = typer.Option(False, "--with-key", help="Put the API key in the link "
                                  "(CC Switch will not import a link without one)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Print a ccswitch://v1/import link that adds PROVIDER to CC Switch."""
    from byecore_cli.export.links import ccswitch as make

    with Output("export ccswitch", json_out) as out:
        settings, _ = _settings()
        _link_output(out, make(provider, _provider(settings, provider), app_name, with_key))


@app.command()
def ccr(
    provider: str = PROVIDER_ARGUMENT,
    protocol: str = typer.Option(
        None, "--protocol", help="The protocol CCR uses on it: chat, responses, messages or "
        "gemini (default: messages when spoken, else its first)."),
    with_key: bool = typer.Option(False, "--with-key", help="Put the API key in the link."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Print a ccr://provider link that adds PROVIDER to Claude Code Router."""
    from byecore_cli.export.links import ccr as make

    with Output("export ccr", json_out) as out:
        settings, _ = _settings()
        _link_output(out, make(provider, _provider(settings, provider), protocol, with_key))
