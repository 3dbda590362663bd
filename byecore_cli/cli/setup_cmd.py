"""``byecore setup | use | restore | status``: point coding clients at saved providers.

The commands only gather options, ask when a person is at the terminal, and render;
every file decision is the engine's (``clients/engine.py``), the same for all clients.
"""

from __future__ import annotations

import os
import sys

import typer

from byecore_cli.cli.options import JSON_OPTION, PROVIDER_OPTION, complete_provider
from byecore_cli.cli.output import Output
from byecore_cli.errors import ByecoreError, NotFound, UsageError

MODEL_OPTION = typer.Option(None, "--model", "-m", help="The model the client should use "
                            "(default: the provider's default model).")
DRY_RUN_OPTION = typer.Option(False, "--dry-run", help="Print the exact diff of every file "
                              "and change nothing.")
YES_OPTION = typer.Option(False, "--yes", "-y", help="Do not ask before writing.")
FORCE_OPTION = typer.Option(False, "--force", help="Also replace byecore's settings that were "
                            "changed by hand, or a file that does not parse (backed up first).")


def complete_setup_client(incomplete: str) -> list[str]:
    """Shell completion after ``setup``: the clients byecore writes for, then the paste ones."""
    from byecore_cli.clients import WRITERS
    from byecore_cli.clients.paste import PASTE_CLIENTS

    return [n for n in [*WRITERS, *PASTE_CLIENTS] if n.startswith(incomplete)]


def complete_written_client(incomplete: str) -> list[str]:
    """Shell completion after ``restore``: only clients byecore writes files for."""
    from byecore_cli.clients import WRITERS

    return [n for n in WRITERS if n.startswith(incomplete)]


def _writer(client: str):
    from byecore_cli.clients import WRITERS

    if client not in WRITERS:
        from byecore_cli.clients.paste import PASTE_CLIENTS
        from byecore_cli.launch import launch_only

        launched = launch_only(client)
        if launched is not None:
            raise UsageError(
                f"{launched.title} is configured by its environment alone, so byecore "
                "setup writes no file for it",
                hint=f"run it through byecore: byecore run {client} [ARGS…]; or for this "
                     f'shell: eval "$(byecore env {client})" (fish: byecore env {client} '
                     "--shell fish | source)")

        raise UsageError(f"byecore cannot set up {client!r} yet",
                         hint="supported clients: " + ", ".join(WRITERS) + "; to paste by "
                         "hand: " + ", ".join(PASTE_CLIENTS))
    return WRITERS[client]


def _settings():
    from byecore_cli.config.store import SettingsStore
    from byecore_cli.paths import Paths

    return SettingsStore(Paths.current().settings).load()[0]


def _interactive(out: Output) -> bool:
    return not out.json_mode and sys.stdin.isatty() and sys.stdout.isatty()


def _show_diffs(console, changes: list[dict]) -> None:
    for change in changes:
        console.print(change["diff"], markup=False, highlight=False, end="")


def _apply(out: Output, writer, target, *, dry_run: bool, yes: bool, force: bool,
           remember: dict, reason: str) -> dict:
    """Prepare, ask if needed, write; returns the result as plain data."""
    from byecore_cli.clients import engine

    try:
        prepared = engine.prepare(writer, target, force=force)
    except engine.HandEdited as exc:
        if dry_run or not _interactive(out):
            raise
        for edit in exc.edits:
            out.err.print(f"[yellow]changed by hand:[/] {_esc(edit['key'])}: byecore wrote "
                          f"{_esc(repr(edit['wrote']))}, now {_esc(repr(edit['now']))}")
        if not typer.confirm("Replace these with byecore's values?", default=False):
            raise typer.Exit(1) from None
        prepared = engine.prepare(writer, target, force=True)
    changes = [c.as_dict() for c in prepared.changes]
    data = {
        "client": writer.name, "provider": target.provider, "model": target.model,
        "via_proxy": target.via_proxy, "dry_run": dry_run,
        "up_to_date": prepared.up_to_date, "backup": None, "files": changes,
        "notes": prepared.notes,
        "warnings": writer.check_env(os.environ),
        "hand_edits": prepared.hand_edits,
    }
    if dry_run:
        return data
    if changes and not yes and _interactive(out):
        _show_diffs(out.out, changes)
        if not typer.confirm(f"Write these changes to {writer.title}'s files?", default=True):
            raise typer.Exit(1)
    data["backup"] = engine.commit(prepared, reason=reason, remember=remember)
    # again, now that the files are written: a shell variable that beats the new file
    # (Gemini CLI's .env never replaces one) shows only against what was written
    data["warnings"] = writer.check_env(os.environ)
    return data


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(str(text))


def _print_result(console, d: dict, title: str) -> None:
    for note in d["notes"]:
        console.print(f"[dim]•[/] {_esc(note)}")
    for warning in d["warnings"]:
        console.print(f"[yellow]warning:[/] {_esc(warning)}")
    if d["dry_run"]:
        if d["up_to_date"]:
            console.print(f"{title} is already up to date; nothing would change.")
        else:
            _show_diffs(console, d["files"])
            console.print("[dim]dry run: nothing was written[/]")
        return
    if d["up_to_date"]:
        console.print(f"[green]✓[/] {title} already up to date "
                      f"({d['provider']}, {d['model']})")
        return
    via = " via the local proxy (byecore proxy)" if d["via_proxy"] else ""
    console.print(f"[green]✓[/] {title} now uses [bold]{d['provider']}[/] "
                  f"({d['model']}){via}")
    for f in d["files"]:
        console.print(f"[dim]  {f['action']}d {f['path']}[/]")
    console.print(f"[dim]  backup {d['backup']}; undo with: byecore restore {d['client']}[/]")


def setup(
    client: str = typer.Argument(..., help="codex, claude, gemini, aider, opencode, crush, "
                                 "droid, continue, zed, hermes, kimi, grok, goose, qwen, "
                                 "pi, kilo-cli or openclaw; or cursor, cline, cline-cli, roo, "
                                 "kilo, trae, cherry-studio, chatbox, lobechat, nextchat to "
                                 "print what to paste.",
                                 autocompletion=complete_setup_client),
    provider: str | None = PROVIDER_OPTION,
    model: str | None = MODEL_OPTION,
    via_proxy: bool = typer.Option(False, "--via-proxy", help="Point the client at byecore's "
                                   "local proxy with a local key: on the port the running "
                                   "proxy listens on, else [proxy] port (4000 unless set)."),
    dry_run: bool = DRY_RUN_OPTION,
    yes: bool = YES_OPTION,
    force: bool = FORCE_OPTION,
    show_key: bool = typer.Option(False, "--show-key", help="For clients set up by pasting: "
                                  "print the whole key."),
    statusline: bool = typer.Option(False, "--statusline", help="Claude Code: also show "
                                    "byecore's status line (model, today's cost, cache-hit "
                                    "rate); a statusLine of your own is kept unless --force."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Point a coding client at a saved provider, editing only byecore's keys in its files.

    Everything else in the files is kept byte for byte; every write is backed up first.
    Clients that keep their settings in app storage (Cursor, Cline…) get the exact values
    to paste instead.
    """
    from byecore_cli.clients.paste import PASTE_CLIENTS
    from byecore_cli.clients.targets import build_target

    with Output("setup", json_out) as out:
        if client in PASTE_CLIENTS:
            _paste(out, client, provider, model, via_proxy, show_key)
            return
        writer = _writer(client)
        if statusline:
            if client != "claude":
                raise UsageError("--statusline is for Claude Code only",
                                 hint="byecore setup claude --statusline")
            writer = type(writer)(statusline="replace" if force else "add")
        target, notes = build_target(writer, _settings(), provider, model,
                                     via_proxy=via_proxy, dry_run=dry_run)
        remember = {"provider": target.provider, "model": model or target.model,
                    "via_proxy": target.via_proxy, "via_proxy_requested": via_proxy}
        data = _apply(out, writer, target, dry_run=dry_run, yes=yes, force=force,
                      remember=remember, reason="setup")
        data["notes"] = notes + data["notes"]
        out.done(data, lambda c, d: _print_result(c, d, writer.title))


class _PasteClient:
    """What build_target needs to know of a client that byecore does not write for."""

    protocol = "chat"  # every paste client speaks OpenAI Chat Completions

    def __init__(self, name: str, title: str) -> None:
        self.name, self.title = name, title


def _paste(out: Output, client: str, provider, model, via_proxy: bool, show_key: bool):
    from byecore_cli.clients.paste import paste_instructions
    from byecore_cli.clients.targets import build_target

    data = paste_instructions(client, build_target(
        _PasteClient(client, client), _settings(), provider, model, via_proxy=via_proxy)[0],
        show_key)

    def human(console, d):
        console.print(f"[bold]{_esc(d['title'])}[/]: open {_esc(d['where'])} and paste:")
        for f in d["fields"]:
            console.print(f"  {_esc(f['label'])}: [bold]{_esc(f['value'])}[/]")
        if len(d["models"]) > 1:
            console.print(f"  other models: {_esc(', '.join(d['models'][1:]))}")
        console.print(f"[dim]  URL form: {_esc(d['url_form'])}[/]")
        for note in d["notes"]:
            console.print(f"[dim]• {_esc(note)}[/]")

    out.done(data, human)


def use(
    provider: str = typer.Argument(..., help="The saved provider every client should use.",
                                   autocompletion=complete_provider),
    model: str | None = MODEL_OPTION,
    dry_run: bool = DRY_RUN_OPTION,
    yes: bool = YES_OPTION,
    force: bool = FORCE_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Re-point every client byecore has set up at PROVIDER, in one go."""
    from byecore_cli.clients import WRITERS, history
    from byecore_cli.clients.targets import build_target

    with Output("use", json_out) as out:
        settings = _settings()
        if provider not in settings.providers:
            raise NotFound(f"no saved provider named {provider!r}",
                           hint="see 'byecore provider list'")
        state = history.load_state()["clients"]
        names = [n for n in WRITERS if n in state]
        if not names:
            raise NotFound("byecore has not set up any client yet",
                           hint="start with: byecore setup codex (or claude)")
        rows, failed = [], False
        for name in names:
            writer = WRITERS[name]
            row = {"client": name, "title": writer.title}
            try:
                wanted_proxy = bool(state[name].get("via_proxy_requested"))
                target, notes = build_target(writer, settings, provider, model,
                                             via_proxy=wanted_proxy, dry_run=dry_run)
                remember = {"provider": provider, "model": model or target.model,
                            "via_proxy": target.via_proxy,
                            "via_proxy_requested": wanted_proxy}
                result = _apply(out, writer, target, dry_run=dry_run, yes=yes, force=force,
                                remember=remember, reason="use")
                result["notes"] = notes + result["notes"]
                row.update(result)
                row["result"] = ("up to date" if result["up_to_date"] else
                                 "would change" if dry_run else "updated")
            except ByecoreError as exc:
                failed = True
                row.update(result="error", error=exc.as_dict())
            rows.append(row)

        def human(console, d):
            from rich.table import Table

            for row in d["clients"]:
                for note in row.get("notes", []):
                    console.print(f"[dim]•[/] {row['title']}: {_esc(note)}")
                if dry_run and row.get("files"):
                    _show_diffs(console, row["files"])
            table = Table("client", "result", "model", "via proxy", title=f"use {provider}")
            for row in d["clients"]:
                result = row["result"]
                if result == "error":
                    result = f"[red]error:[/] {_esc(row['error']['message'])}"
                table.add_row(row["title"], result, row.get("model") or "",
                              "yes" if row.get("via_proxy") else "no")
            console.print(table)
            for row in d["clients"]:
                if row.get("error", {}).get("hint"):
                    console.print(f"[dim]{row['title']}: {_esc(row['error']['hint'])}[/]")

        out.done({"provider": provider, "dry_run": dry_run, "clients": rows}, human)
        if failed:
            raise typer.Exit(1)


def restore(
    client: str = typer.Argument(..., help="The client whose files to put back: codex, "
                                 "claude, gemini, aider, opencode, crush, droid, continue, zed, "
                                 "hermes, kimi, grok, goose, qwen, pi, kilo-cli or openclaw.",
                                 autocompletion=complete_written_client),
    list_: bool = typer.Option(False, "--list", help="List the backups instead (byecore "
                               "keeps the newest 20 of each client, and always the oldest: "
                               "the files as they were before byecore first wrote them)."),
    to: str | None = typer.Option(None, "--to", help="Restore this backup id (see --list) "
                                  "instead of the one taken before byecore's last write."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask, even when the restore "
                             "throws away changes made after byecore's last write."),
    force: bool = typer.Option(False, "--force", help="The same as --yes: restore even when "
                               "the files changed after byecore's last write."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Put a client's files back exactly as they were before byecore's last write.

    If the files changed after byecore wrote them (a login, the client's own rewrite, a
    hand edit), restore shows what would be lost and asks; without a terminal (or with
    --json) it refuses unless --force or --yes is given. The files as they are now are
    backed up first, so a restore can itself be undone with --to.
    """
    from byecore_cli.clients import history
    from byecore_cli.clients.restore import apply_restore, plan_restore

    with Output("restore", json_out) as out:
        writer = _writer(client)
        if list_:
            _list_backups(out, writer, history)
            return
        plan = plan_restore(writer, to)
        if plan.discards and not (yes or force):
            if not _interactive(out):
                if not out.json_mode:
                    _show_discards(out.err, plan)
                raise plan.refusal()
            _show_discards(out.out, plan)
            if not typer.confirm("Restore anyway and throw these changes away?",
                                 default=False):
                raise typer.Exit(1)
        result = apply_restore(plan, force=True)

        def human(console, d):
            for f in d["files"]:
                verb = "removed" if f["action"] == "removed" else "restored"
                state = "" if f["changed"] else " (already so)"
                console.print(f"[green]✓[/] {verb} {_esc(f['path'])}{state}")
            for folder in d["removed_folders"]:
                console.print(f"[green]✓[/] removed the folder {_esc(folder)} (byecore made it)")
            console.print(f"[dim]  from backup {d['restored']}"
                          + (f"; the files as they were are in backup {d['safety_backup']}"
                             if d["safety_backup"] else "") + "[/]")

        out.done(result, human)


def _show_discards(console, plan) -> None:
    console.print(f"[yellow]Changed after byecore's last write; restoring {plan.writer.title} "
                  "throws this away:[/]")
    for edit in plan.edits:
        console.print(f"  [yellow]byecore's key changed:[/] {_esc(edit['key'])}: byecore "
                      f"wrote {_esc(repr(edit['wrote']))}, now {_esc(repr(edit['now']))}")
    _show_diffs(console, plan.discards)


def _list_backups(out: Output, writer, history) -> None:
    backups = history.list_backups(writer.name)
    rows = [{**b.summary(), "always_kept": i == 0} for i, b in enumerate(backups)][::-1]
    keep_note = (f"byecore keeps the newest {history.KEEP_BACKUPS} backups of each client and "
                 "always the oldest one (the files before byecore first wrote them); older "
                 "ones are removed.")

    def human(console, d):
        if not d["backups"]:
            console.print(f"No backups of {writer.title}'s files yet.")
            return
        from rich.table import Table

        table = Table("id", "created", "taken before", "provider then", "files")
        for column in table.columns:
            column.overflow = "fold"  # wrap, never cut: paths are copied from here
        # whole ids on one line, however narrow the terminal: they are typed into --to
        table.columns[0].no_wrap = True
        table.columns[0].min_width = max(len(b["id"]) for b in d["backups"])
        for b in d["backups"]:
            files = ", ".join(f["path"] + ("" if f["existed"] else " (absent)")
                              + (f" (symlink to {f['link']})" if f.get("link") else "")
                              for f in b["files"].values())
            reason = b["reason"] + (" (oldest, always kept)" if b["always_kept"] else "")
            table.add_row(b["id"], b["created"] or "", _esc(reason),
                          _esc(b["provider_before"] or "-"), _esc(files))
        console.print(table)
        console.print(f"[dim]{_esc(d['note'])}[/]")

    out.done({"client": writer.name, "backups": rows, "keep": history.KEEP_BACKUPS,
              "note": keep_note}, human)


def status(json_out: bool = JSON_OPTION) -> None:
    """Show each client: installed, what it points at, hand edits and problems."""
    from byecore_cli.clients import WRITERS, engine

    with Output("status", json_out) as out:
        rows = [engine.inspect(writer) for writer in WRITERS.values()]

        def human(console, d):
            from rich.table import Table

            table = Table("client", "installed", "config", "provider", "URL", "model",
                          "changed by hand")
            for r in d["clients"]:
                found = "found" if r.get("config_found") else "none"
                provider = r["provider"] or ("(not byecore)" if r.get("config_found") else "")
                if r["via_proxy"]:
                    provider += " via proxy"
                edited = ", ".join(e["key"] for e in r["hand_edited"]) or (
                    "outside byecore's keys" if r["changed_since_write"] else "no")
                table.add_row(r["title"], "yes" if r["installed"] else "no", found,
                              _esc(provider), _esc(r["base_url"] or ""), _esc(r["model"] or ""),
                              _esc(edited) if r["set_up_by_byecore"] else "")
            console.print(table)
            for r in d["clients"]:
                for problem in r["problems"]:
                    console.print(f"[yellow]{r['title']}:[/] {_esc(problem)}")

        out.done({"clients": rows}, human)
