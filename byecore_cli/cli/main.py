"""The ``byecore`` command: the typer app and its top-level commands.

Start-up must stay fast (``byecore --help`` well under a quarter second), so this
module imports only typer, rich and byecore's light modules; the HTTP client, the
server and the codecs are imported inside the commands that use them.
"""

from __future__ import annotations

import typer

from byecore_cli import __version__
from byecore_cli.cli import (
    check_cmd,
    models_cmd,
    provider,
    proxy_cmd,
    setup_cmd,
    translate_cmd,
)
from byecore_cli.cli.options import JSON_OPTION
from byecore_cli.cli.output import Output

app = typer.Typer(
    name="byecore",
    help=(
        "Drive AI coding agents (Codex, Claude Code, Aider, OpenCode…) through an LLM "
        "gateway: save providers, switch clients' configs, translate protocols, diagnose."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    # typer's own --install-completion options would cost every command a slow import;
    # `byecore completion SHELL` prints the same scripts (also shipped in completions/).
    add_completion=False,
)
# In the order a new user needs them: --help lists commands as registered (groups last).
app.command("proxy")(proxy_cmd.proxy)
app.command("setup")(setup_cmd.setup)
app.command("use")(setup_cmd.use)
app.command("status")(setup_cmd.status)
app.command("restore")(setup_cmd.restore)
app.command("check")(check_cmd.check)
app.command("doctor")(check_cmd.doctor)
app.command("models")(models_cmd.models)
app.command("usage")(proxy_cmd.usage)
app.command("translate")(translate_cmd.translate)
app.add_typer(provider.app, name="provider")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"byecore {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Drive AI coding agents through an LLM gateway."""


@app.command()
def paths(json_out: bool = JSON_OPTION) -> None:
    """Show where byecore keeps its settings, backups, logs and usage log.

    Set BYECORE_HOME to move all of them at once.
    """
    from byecore_cli.paths import HOME_ENV, Paths

    with Output("paths", json_out) as out:
        data = Paths.current().as_dict()

        def human(console, data):
            from rich.table import Table

            table = Table(show_header=False, box=None, pad_edge=False)
            for name, where in data.items():
                table.add_row(f"[bold]{name}[/]", where)
            console.print(table)
            console.print(f"[dim]Set {HOME_ENV} to move all of these.[/]")

        out.done(data, human)


@app.command()
def completion(
    shell: str = typer.Argument(..., help="bash, zsh or fish."),
) -> None:
    """Print the shell completion script, e.g. byecore completion bash > ~/.byecore.bash"""
    from typer.completion import get_completion_script

    with Output("completion", False):
        if shell not in ("bash", "zsh", "fish"):
            from byecore_cli.errors import UsageError

            raise UsageError(f"no completion script for {shell!r}", hint="use bash, zsh or fish")
        script = get_completion_script(
            prog_name="byecore", complete_var="_BYECORE_COMPLETE", shell=shell
        )
        typer.echo(script.rstrip("\n"))


def run() -> None:
    app()
