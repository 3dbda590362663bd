"""``byecore provider …``: save, list, show, re-key, remove and choose upstream providers."""

from __future__ import annotations

import os
import sys

import typer

from byecore_cli.cli.options import JSON_OPTION
from byecore_cli.cli.output import Output
from byecore_cli.errors import NotFound, UsageError
from byecore_cli.providers.endpoints import PROTOCOL_HELP

app = typer.Typer(
    help="Save the gateways and vendors you use (base URL, key, protocols, models).",
    no_args_is_help=True,
)


def _store():
    from byecore_cli.config.store import SettingsStore
    from byecore_cli.paths import Paths

    return SettingsStore(Paths.current().settings)


def _require(settings, name: str):
    if name not in settings.providers:
        saved = ", ".join(settings.providers) or "none yet"
        raise NotFound(
            f"no saved provider named {name!r}",
            hint=f"saved providers: {saved}; add one with: byecore provider add {name}",
        )
    return settings.providers[name]


class ProviderInUse(UsageError):
    """Removing a provider that clients still point at, without --force."""

    code = "provider_in_use"

    def __init__(self, message: str, clients: list[str], **kw) -> None:
        super().__init__(message, **kw)
        self.clients = clients

    def as_dict(self) -> dict:
        return {**super().as_dict(), "clients": self.clients}


def _clients_using(name: str) -> list[str]:
    """The clients byecore last pointed at provider ``name`` (from its state file)."""
    from byecore_cli.clients import history

    clients = history.load_state()["clients"]
    return sorted(c for c, entry in clients.items() if (entry or {}).get("provider") == name)


# Where a key comes from, for both commands that take one (add and set-key); _read_key
# reads the three.
def _key_option(what: str):
    return typer.Option(None, "--key", help=f"{what}; '-' reads it from standard input (a key "
                        "typed here lands in shell history).")


KEY_ENV_OPTION = typer.Option(
    None, "--key-env", help="Keep the key out of byecore's files: read this environment "
    "variable when the key is needed.")
KEY_STDIN_OPTION = typer.Option(False, "--key-stdin", help="Read the key from standard input.")


def _read_key(out: Output, key: str | None, key_stdin: bool, key_env: str | None,
              preset_key_env: str | None, needs_key: bool,
              command: str = "provider add") -> tuple[str | None, str | None]:
    """Where the key comes from: an option, stdin (``--key -`` or ``--key-stdin``), a
    hidden prompt, or an env var name."""
    if key == "-":
        key, key_stdin = None, True
    given = [opt for opt, val in (("--key", key is not None), ("--key-stdin", key_stdin),
                                  ("--key-env", key_env is not None)) if val]
    if len(given) > 1:
        raise UsageError(f"use only one of {', '.join(given)}")
    if key is not None:
        out.note("[yellow]note:[/] a key given with --key stays in your shell history; "
                 "--key-stdin or the prompt avoid that")
        return key, None
    if key_stdin:
        return sys.stdin.read(), None
    if key_env is not None:
        return None, key_env
    if not needs_key:
        return None, None
    if sys.stdin.isatty() and not out.json_mode:
        hint = f" (empty: read ${preset_key_env} at use)" if preset_key_env else ""
        typed = typer.prompt(f"API key{hint}", hide_input=True, default="",
                             show_default=False)
        if typed.strip():
            return typed, None
    if preset_key_env:
        out.note(f"no key given: byecore will read ${preset_key_env} when it needs one")
        return None, preset_key_env
    raise UsageError(
        "no key given",
        hint=f"pass --key - (e.g. printf %s \"$KEY\" | byecore {command} --key -), "
        "--key-env VAR, or run on a terminal to be prompted",
    )


@app.command()
def add(
    name: str = typer.Argument(..., help="A name for this provider, e.g. byecore or work."),
    preset: str | None = typer.Option(
        None, "--preset", help="Start from a preset (see 'byecore provider presets'); "
        "'none' for a blank one. Default: the preset named NAME, if any."),
    base_url: str | None = typer.Option(
        None, "--base-url", help="The provider's root URL. A trailing /v1 or a pasted "
        "endpoint such as …/v1/chat/completions is cleaned up."),
    key: str | None = _key_option("The API key"),
    key_env: str | None = KEY_ENV_OPTION,
    key_stdin: bool = KEY_STDIN_OPTION,
    protocols: list[str] = typer.Option(
        [], "--protocol", metavar="PROTOCOL",
        help=f"A protocol it speaks (repeatable): {PROTOCOL_HELP}."),
    models: list[str] = typer.Option([], "--model", metavar="MODEL",
                                     help="A model it serves (repeatable)."),
    default_model: str | None = typer.Option(
        None, "--default-model", help="The model to use when none is named."),
    quirks: list[str] = typer.Option(
        [], "--quirk", metavar="NAME",
        help="A fix this provider needs (repeatable): system_first (one system message, "
        "first), no_stream_options, max_completion_tokens. A preset may bring some."),
    replace: bool = typer.Option(
        False, "--replace", help="Overwrite a saved provider of the same name."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Save a provider. With no key option on a terminal, asks for the key with hidden input."""
    from byecore_cli.config.providers import ProviderRequest, build_provider, describe
    from byecore_cli.config.store import set_default, set_provider
    from byecore_cli.providers.presets import BY_NAME

    with Output("provider add", json_out) as out:
        store = _store()
        settings, doc = store.load()
        if name in settings.providers and not replace:
            raise UsageError(
                f"a provider named {name!r} is already saved",
                hint=f"pass --replace to overwrite it, or: byecore provider remove {name}",
            )
        chosen = None if preset == "none" else BY_NAME.get(preset or name)
        request = ProviderRequest(
            name=name, preset=preset, base_url=base_url, protocols=protocols, models=models,
            default_model=default_model, quirks=quirks,
        )
        # Everything but the key first (name, preset, base URL, protocols, quirks), so a
        # refused URL is said before anyone types a key into the hidden prompt.
        build_provider(request)
        request.key, request.key_env = _read_key(
            out, key, key_stdin, key_env,
            preset_key_env=chosen.key_env if chosen else None,
            needs_key=not (chosen and chosen.local),
        )
        provider, notes = build_provider(request)
        set_provider(doc, name, provider)
        if not settings.default_provider:
            set_default(doc, name)
        settings = store.save(doc)
        is_default = settings.default_provider == name
        data = describe(name, provider, is_default=is_default)
        data["notes"] = notes
        data["settings_file"] = str(store.path)

        def human(console, data):
            for note in data["notes"]:
                console.print(f"[dim]•[/] {note}")
            verb = "replaced" if replace else "saved"
            protocols = ", ".join(data["protocols"])
            console.print(f"[green]✓[/] {verb} provider [bold]{name}[/] → {data['base_url']} "
                          f"({protocols}), key {_key_cell(data)}"
                          + (" [dim](default)[/]" if is_default else ""))
            console.print(f"[dim]  in {data['settings_file']}[/]")

        out.done(data, human)


@app.command("list")
def list_(json_out: bool = JSON_OPTION) -> None:
    """List saved providers (keys masked)."""
    from byecore_cli.config.providers import describe

    with Output("provider list", json_out) as out:
        settings, _ = _store().load()
        rows = [describe(n, p, is_default=n == settings.default_provider)
                for n, p in settings.providers.items()]

        def human(console, data):
            rows = data["providers"]
            if not rows:
                console.print("No providers saved yet. Add one: [bold]byecore provider add "
                              "byecore[/] (see 'byecore provider presets').")
                return
            from rich.table import Table

            table = Table("", "name", "base URL", "protocols", "key", "default model")
            for r in rows:
                table.add_row("*" if r["default"] else "", r["name"], r["base_url"],
                              ", ".join(r["protocols"]), _key_cell(r), r["default_model"] or "")
            console.print(table)

        out.done({"providers": rows, "default": settings.default_provider}, human)


@app.command()
def show(
    name: str = typer.Argument(..., help="The saved provider's name."),
    show_key: bool = typer.Option(False, "--show-key", help="Print the whole key."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Show one provider: URLs each client form needs, protocols, key (masked), models."""
    from byecore_cli.config.providers import describe

    with Output("provider show", json_out) as out:
        settings, _ = _store().load()
        data = describe(name, _require(settings, name),
                        is_default=name == settings.default_provider, show_key=show_key)

        def human(console, d):
            from rich.table import Table

            table = Table(show_header=False, box=None, pad_edge=False)
            rows = [
                ("name", d["name"] + (" (default)" if d["default"] else "")),
                ("preset", d["preset"] or "none"),
                ("base URL (root)", d["base_url"]),
                ("OpenAI base URL", d["openai_base_url"]),
                ("Anthropic base URL", d["anthropic_base_url"]),
                ("Gemini base URL", d["gemini_base_url"]),
                ("protocols", ", ".join(d["protocols"])),
                ("key", _key_cell(d)),
                ("models", ", ".join(d["models"]) or "none listed"),
                ("default model", d["default_model"] or "none"),
                ("quirks", ", ".join(d["quirks"]) or "none"),
                ("image models", ", ".join(d["image_models"]) or "none"),
            ]
            for label, value in rows:
                table.add_row(f"[bold]{label}[/]", value)
            console.print(table)

        out.done(data, human)


@app.command("set-key")
def set_key(
    name: str = typer.Argument(..., help="The saved provider's name."),
    key: str | None = _key_option("The new key"),
    key_env: str | None = KEY_ENV_OPTION,
    key_stdin: bool = KEY_STDIN_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Change only a provider's key. With no key option on a terminal, asks for it with
    hidden input; nothing else about the provider changes."""
    from byecore_cli.config.models import Provider
    from byecore_cli.config.providers import describe
    from byecore_cli.config.store import set_provider
    from byecore_cli.providers.keys import BadKey, clean_key

    with Output("provider set-key", json_out) as out:
        store = _store()
        settings, doc = store.load()
        old = _require(settings, name)
        raw_key, env_name = _read_key(out, key, key_stdin, key_env, preset_key_env=None,
                                      needs_key=True, command=f"provider set-key {name}")
        notes: list[str] = []
        new_key = None
        if raw_key is not None:
            try:
                new_key, key_notes = clean_key(raw_key)
            except BadKey as exc:
                raise UsageError(str(exc)) from None
            notes += [f"key: {n}" for n in key_notes]
        try:
            provider = Provider.model_validate(
                {**old.model_dump(), "key": new_key, "key_env": env_name})
        except ValueError:  # pydantic's ValidationError: a bad variable name
            raise UsageError(f"--key-env {env_name!r} is not a usable variable name",
                             hint="e.g. --key-env BYECORE_API_KEY") from None
        if env_name and not os.environ.get(env_name, "").strip():
            notes.append(f"warning: ${env_name} is not set in this shell; set it before use")
        set_provider(doc, name, provider)
        store.save(doc)
        clients = _clients_using(name)
        if clients:
            notes.append("clients that keep a copy of the key in their own files get the new "
                         "one when you run: " + "; ".join(f"byecore setup {c}" for c in clients))
        data = describe(name, provider, is_default=settings.default_provider == name)
        data.update(notes=notes, clients=clients, settings_file=str(store.path))

        def human(console, d):
            for note in d["notes"]:
                console.print(f"[dim]•[/] {note}")
            console.print(f"[green]✓[/] new key for provider [bold]{name}[/]: {_key_cell(d)}")
            console.print(f"[dim]  in {d['settings_file']}[/]")

        out.done(data, human)


@app.command()
def remove(
    name: str = typer.Argument(..., help="The saved provider's name."),
    force: bool = typer.Option(False, "--force", help="Remove it even if clients byecore "
                               "set up still point at it."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Forget a saved provider (its key goes with it). Asks first, or needs --force, when
    clients byecore set up still use it."""
    from byecore_cli.config.store import remove_provider

    with Output("provider remove", json_out) as out:
        store = _store()
        settings, doc = store.load()
        _require(settings, name)
        clients = _clients_using(name)
        if clients and not force:
            used = (f"{', '.join(clients)} {'is' if len(clients) == 1 else 'are'} set up "
                    f"with provider {name!r}")
            if sys.stdin.isatty() and not out.json_mode:
                if not typer.confirm(f"{used}; they would point at a provider byecore no "
                                     "longer knows. Remove it anyway?", default=False):
                    out.err.print("[yellow]not removed[/]")
                    raise typer.Exit(1)
            else:
                raise ProviderInUse(
                    used, clients,
                    hint=f"point them elsewhere first (byecore setup CLIENT --provider OTHER, "
                         f"or byecore restore CLIENT), or pass --force to remove {name} anyway")
        was_default = settings.default_provider == name
        remove_provider(doc, name)
        store.save(doc)
        data = {"removed": name, "was_default": was_default, "clients": clients}

        def human(console, d):
            console.print(f"[green]✓[/] removed provider [bold]{name}[/]")
            if d["clients"]:
                console.print(f"[yellow]Still set up with it: {', '.join(d['clients'])}; "
                              "point them at another provider with 'byecore setup CLIENT "
                              "--provider NAME'.[/]")
            if was_default:
                console.print("[yellow]There is no default provider now; choose one with "
                              "'byecore provider default NAME'.[/]")

        out.done(data, human)


@app.command()
def default(
    name: str = typer.Argument(..., help="The saved provider's name."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Make a saved provider the default (used when a command names none)."""
    from byecore_cli.config.store import set_default

    with Output("provider default", json_out) as out:
        store = _store()
        settings, doc = store.load()
        _require(settings, name)
        set_default(doc, name)
        store.save(doc)
        out.done({"default": name},
                 lambda c, d: c.print(f"[green]✓[/] default provider: [bold]{name}[/]"))


@app.command()
def presets(json_out: bool = JSON_OPTION) -> None:
    """List the built-in presets that 'byecore provider add --preset' starts from."""
    from dataclasses import asdict

    from byecore_cli.providers.presets import PRESETS
    from byecore_cli.providers.quirks import describe as describe_quirks

    with Output("provider presets", json_out) as out:
        data = {"presets": [asdict(p) for p in PRESETS], "quirks": describe_quirks()}

        def human(console, data):
            from rich.table import Table

            table = Table("name", "title", "base URL", "protocols", "key variable", "models",
                          "quirks")
            for r in data["presets"]:
                table.add_row(r["name"], r["title"], r["base_url"], ", ".join(r["protocols"]),
                              r["key_env"] or "(none: local)", ", ".join(r["models"]),
                              ", ".join(r["quirks"]))
            console.print(table)
            console.print("Quirks a provider can list (provider add --quirk NAME):")
            for name, what in data["quirks"].items():
                console.print(f"  [bold]{name}[/]: {what}")

        out.done(data, human)


def _key_cell(d: dict) -> str:
    if d["key_source"] == "stored":
        return d["key"]
    if d["key_env"]:
        state = d["key"] if d["key"] else "not set"
        return f"${d['key_env']} ({state})"
    return "none"
