"""``byecore run CLIENT [ARGS…]`` and ``byecore env CLIENT``: a client through the local
proxy, for one process or one shell, with none of the user's files edited."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from byecore_cli.cli.options import JSON_OPTION, PROVIDER_OPTION
from byecore_cli.cli.output import Output
from byecore_cli.errors import NotFound, UsageError

# CLIENT ends byecore's options: everything after it is the client's, --help included.
RUN_CONTEXT = {"allow_interspersed_args": False, "ignore_unknown_options": True}

# Every client in launch.profiles.PROFILES (a test keeps them the same): importing
# PROFILES here would cost every byecore command its imports, for a help string.
CLIENT_HELP = ("codex, claude, aider, opencode, crush, droid, gemini, kilo-cli, goose, qwen, "
               "pi, hermes, kimi, grok, openclaw, copilot or cline-cli.")


def _complete_client(incomplete: str) -> list[str]:
    from byecore_cli.launch.profiles import PROFILES

    return [name for name in PROFILES if name.startswith(incomplete)]


MODEL_OPTION = typer.Option(
    None, "--model", "-m",
    help="The provider's model the client uses (default: the provider's default model).")


def run(
    client: str = typer.Argument(..., metavar="CLIENT", autocompletion=_complete_client,
                                 help=CLIENT_HELP),
    args: list[str] = typer.Argument(None, metavar="ARGS",
                                     help="Passed to the client unchanged."),
    provider: str = PROVIDER_OPTION,
    model: str = MODEL_OPTION,
    quiet: bool = typer.Option(False, "--quiet", "-q",
                               help="Say nothing before the client starts."),
) -> None:
    """Run a coding client through byecore's local proxy, editing none of its files.

    Starts the proxy if none runs (it stops when the last client run through it exits; a
    proxy you started yourself is used and left running), gives the client its own local
    key, and launches it with a temporary profile: environment variables, command-line
    settings, or config files in a folder of byecore's own. byecore's options go before
    CLIENT; everything after it goes to the client as typed, and the client's exit code
    comes back. Example: byecore run --model gpt-5.4 claude -p "fix the tests"
    """
    import shutil
    import tempfile

    from byecore_cli.clients import local_keys
    from byecore_cli.clients.targets import proxy_root
    from byecore_cli.launch import child, homes, profiles, proxy

    with Output("run", False) as out:
        writer = _writer(client, "run")
        executable = _executable(writer)
        settings = _settings()
        # a provider and model that resolve (else fail now), and the client's key made
        # before a proxy starts and reads the keys
        _target(writer, settings, provider, model, proxy_root(settings))
        key = local_keys.get_or_create(writer.name)
        use = proxy.acquire(settings, writer.name)
        folder = None
        try:
            proxy.check_key(use.root, key)
            target = _target(writer, settings, provider, model, use.root)
            folder = Path(tempfile.mkdtemp(prefix=f"byecore-run-{writer.name}-"))
            profile = profiles.PROFILES[writer.name](target, profiles.Context(
                env=dict(os.environ), home=Path.home(), folder=folder))
            env = _environment(profile)
            argv = [executable, *profile.args, *(args or [])]
            notes = [*use.notes, *profile.notes, *profiles.clashes(writer.name, args or [])]
            if not quiet:
                _say(out, [f"{writer.title} → byecore proxy {use.root}, model {target.model}",
                           *notes])
            if use.lease is None and not (profile.files or profile.links) and os.name != "nt":
                shutil.rmtree(folder, ignore_errors=True)
                child.replace(argv, env)  # nothing to clean up afterwards: become the client
            profiles.write_files(profile, folder)
            code = child.run(argv, env)
            homes.keep_new(profile, folder, [key])
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            proxy.release(use)
        raise typer.Exit(code)


def env(
    client: str = typer.Argument(..., metavar="CLIENT", autocompletion=_complete_client,
                                 help=CLIENT_HELP),
    shell: str = typer.Option(None, "--shell",
                              help="bash, zsh, fish or powershell (default: from $SHELL)."),
    provider: str = PROVIDER_OPTION,
    model: str = MODEL_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Print shell lines that point CLIENT at byecore's local proxy in this shell.

    bash/zsh: eval "$(byecore env claude)"   fish: byecore env claude --shell fish | source
    PowerShell: byecore env claude --shell powershell | Out-String | Invoke-Expression

    The lines carry the client's local key for the proxy, never a provider's key; the
    proxy must be running (byecore proxy). A client that needs command-line settings
    (Codex, Claude Code) gets a shell function of its name that adds them. Files the
    lines refer to live in byecore's own folder (launch/CLIENT), mode 0600.
    """
    from byecore_cli.clients import local_keys
    from byecore_cli.clients.targets import proxy_address
    from byecore_cli.launch import profiles, shells
    from byecore_cli.paths import Paths
    from byecore_cli.proxy import runtime

    with Output("env", json_out) as out:
        writer = _writer(client, "env")
        shell = (shell or shells.detect(os.environ)).lower()
        if shell not in shells.SHELLS:
            raise UsageError(f"no export lines for the shell {shell!r}",
                             hint="use --shell bash, zsh, fish or powershell")
        settings = _settings()
        local_keys.get_or_create(writer.name)
        root, _ = proxy_address(settings)
        target = _target(writer, settings, provider, model, root)
        folder = Paths.current().home / "launch" / writer.name
        profile = profiles.PROFILES[writer.name](target, profiles.Context(
            env=dict(os.environ), home=Path.home(), folder=folder, persistent=True))
        profiles.write_files(profile, folder)
        running = runtime.running_proxy()
        state = (f"it runs now (pid {running['pid']})" if running else
                 "it must be running for these to work: byecore proxy")
        comments = [f"# byecore env {writer.name}: {writer.title} → the byecore proxy at "
                    f"{root}, model {target.model}",
                    f"# The proxy: {state}",
                    "# Load: " + shells.HOW_TO_LOAD[shell].format(client=writer.name),
                    *(f"# note: {n}" for n in profile.notes)]
        function = (writer.executable, profile.args) if profile.args else None
        script = "\n".join(comments + shells.lines(shell, env=profile.env,
                                                   unset=profile.unset, function=function))
        data = {"client": writer.name, "shell": shell, "proxy": root,
                "proxy_running": running is not None, "model": target.model,
                "env": profile.env, "unset": profile.unset, "args": profile.args,
                "function": writer.executable if function else None,
                "files": [str(folder / name) for name in profile.files],
                "notes": profile.notes, "script": script}
        out.done(data, lambda console, d: print(d["script"]))


def _writer(name: str, command: str):
    from byecore_cli.clients import WRITERS
    from byecore_cli.launch import launch_only
    from byecore_cli.launch.profiles import PROFILES

    writer = WRITERS.get(name) or launch_only(name)
    if writer is None:
        raise NotFound(f"unknown client {name!r}",
                       hint=f"byecore {command} knows: {', '.join(PROFILES)}")
    if name not in PROFILES:
        raise UsageError(f"byecore {command} cannot launch {writer.title}",
                         hint=f"point it at byecore in its settings: byecore setup {name}")
    return writer


def _executable(writer) -> str:
    import shutil

    from byecore_cli.launch.profiles import INSTALL

    found = shutil.which(writer.executable)
    if found is None:
        raise NotFound(f"{writer.title} is not installed here (no {writer.executable!r} on "
                       "PATH)", hint=f"install it: {INSTALL[writer.name]}")
    return found


def _settings():
    from byecore_cli.config.store import SettingsStore
    from byecore_cli.paths import Paths

    settings, _ = SettingsStore(Paths.current().settings).load()
    return settings


def _target(writer, settings, provider: str | None, model: str | None, root: str):
    """The client's target on the proxy at ``root`` (its local key, provider/model)."""
    from dataclasses import replace

    from byecore_cli.clients.targets import build_target
    from byecore_cli.providers.endpoints import anthropic_base, gemini_base, openai_base

    target, _ = build_target(writer, settings, provider, model, via_proxy=True)
    return replace(target, root=root, openai_base=openai_base(root),
                   anthropic_base=anthropic_base(root), gemini_base=gemini_base(root))


def _environment(profile) -> dict[str, str]:
    env = dict(os.environ)
    for name in profile.unset:
        env.pop(name, None)
    env.update(profile.env)
    return env


def _say(out: Output, notes: list[str]) -> None:
    from rich.markup import escape

    for note in notes:
        out.err.print(f"[dim]byecore run: {escape(note)}[/]")
