"""``byecore translate``: what a request, response or stream becomes in another protocol."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from byecore_cli.cli.output import Output
from byecore_cli.errors import ByecoreError, UsageError
from byecore_cli.providers.endpoints import PROTOCOL_HELP


def translate(
    source: str = typer.Option(..., "--from", help="The protocol of the input: " + PROTOCOL_HELP),
    target: str = typer.Option(..., "--to", help="The protocol to translate into."),
    what: str = typer.Option(
        "request", "--what", help="request (a JSON body), response (a JSON body) or stream "
        "(SSE text)."),
    model: str | None = typer.Option(
        None, "--model", help="The model, for a request that does not name one (a Gemini "
        "request names it in its URL, not its body).", show_default=False),
    file: Path | None = typer.Argument(
        None, help="The input file; standard input when left out or '-'.",
        show_default=False),
) -> None:
    """Translate a request or response (JSON) or a stream (SSE) from one protocol to another.

    For example: byecore translate --from messages --to chat request.json
    """
    with Output("translate", False):
        from byecore_cli.codecs import CODECS

        for name, value in (("--from", source), ("--to", target)):
            if value not in CODECS:
                raise UsageError(f"{name}: unknown protocol {value!r}", hint=PROTOCOL_HELP)
        if what not in ("request", "response", "stream"):
            raise UsageError(f"--what: expected request, response or stream, not {what!r}")
        raw = _read(file)

        from byecore_cli.codecs.translate import TranslateError, translate_bytes

        try:
            result = translate_bytes(raw, source, target, what, model=model)
        except TranslateError as exc:
            raise ByecoreError(str(exc), hint=exc.hint) from None
        sys.stdout.write(result)
        if not result.endswith("\n"):
            sys.stdout.write("\n")


def _read(file: Path | None) -> bytes:
    if file is None or str(file) == "-":
        return sys.stdin.buffer.read()
    try:
        return file.read_bytes()
    except OSError as exc:
        raise ByecoreError(f"cannot read {file}: {exc.strerror or exc}") from None
