"""The ``byecore`` command: the typer app and its top-level commands.

Start-up must stay fast (``byecore --help`` well under a quarter second), so this
module imports only typer, rich and byecore's light modules; the HTTP client, the
server and the codecs are imported inside the commands that use them.
"""

from __future__ import annotations

import os
import sys

import typer
from typer.core import TyperGroup

from byecore_cli import __version__
from byecore_cli.cli import (
    check_cmd,
    export_cmd,
    image_cmd,
    models_cmd,
    provider,
    proxy_cmd,
    run_cmd,
    setup_cmd,
    statusline,
    translate_cmd,
)
from byecore_cli.cli.options import JSON_OPTION
from byecore_cli.cli.output import Output, parse_error

# The variable the completion scripts in completions/ set when they ask for candidates.
COMPLETE_VAR = "_BYECORE_COMPLETE"


class ByecoreGroup(TyperGroup):
    """The root command: shell completion that works, and --json on parse errors."""

    def _main_shell_completion(self, ctx_args, prog_name, complete_var=None) -> None:
        if os.environ.get(COMPLETE_VAR):
            # typer registers its bash, zsh and fish completers only when it adds its own
            # --install-completion options, which byecore leaves out (add_completion=False
            # below): without this every shell got "Shell bash not supported."
            from typer.completion import completion_init

            completion_init()
        super()._main_shell_completion(ctx_args, prog_name, COMPLETE_VAR)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        argv = list(sys.argv[1:] if args is None else args)
        before_dashes = argv[:argv.index("--")] if "--" in argv else argv
        if not standalone_mode or "--json" not in before_dashes:
            return super().main(argv, prog_name, complete_var, standalone_mode, **extra)
        # With --json, a script reads stdout: click's plain-text usage errors would leave
        # it nothing to parse. Run non-standalone to catch them, and exit as click would.
        errors = _click_exceptions()
        try:
            code = super().main(argv, prog_name, complete_var, False, **extra)
        except errors.ClickException as exc:
            sys.exit(parse_error(exc))
        except errors.Abort:
            sys.stderr.write("Aborted!\n")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def _click_exceptions():
    try:  # typer 0.2x carries its own copy of click
        from typer._click import exceptions
    except ImportError:  # older typer runs on click itself
        from click import exceptions
    return exceptions


app = typer.Typer(
    name="byecore",
    cls=ByecoreGroup,
    help=(
        "Drive AI coding agents (Codex, Claude Code, Aider, OpenCode…) through an LLM "
        "gateway: save providers, switch clients' configs, translate protocols, diagnose."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    # typer's own --install-completion options would cost every command a slow import;
    # `byecore completion SHELL` prints the same scripts (also shipped in completions/),
    # and ByecoreGroup answers them.
    add_completion=False,
)
# In the order a new user needs them: --help lists commands as registered (groups last).
app.command("proxy")(proxy_cmd.proxy)
app.command("setup")(setup_cmd.setup)
app.command("use")(setup_cmd.use)
app.command("status")(setup_cmd.status)
app.command("restore")(setup_cmd.restore)
app.command("run", context_settings=run_cmd.RUN_CONTEXT)(run_cmd.run)
app.command("env")(run_cmd.env)
app.command("check")(check_cmd.check)
app.command("doctor")(check_cmd.doctor)
app.command("models")(models_cmd.models)
app.command("usage")(proxy_cmd.usage)
app.command("translate")(translate_cmd.translate)
app.command("image")(image_cmd.image)
app.command("statusline")(statusline.statusline)
app.add_typer(provider.app, name="provider")
app.add_typer(export_cmd.app, name="export")


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
