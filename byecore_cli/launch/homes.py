"""Profiles for clients that read their provider only from files, which a variable moves.

Such a client gets, for one run, a folder of byecore's in place of its own: the writer's
``plan`` run on copies of the user's files gives the config files, and every other entry
of the user's folder is a symbolic link, so sessions, logs and logins written during
the run land in the user's folder as always; what the client creates beside them (a
first ``sessions`` folder, a ``state.db``) is moved there when ``byecore run`` ends
(``keep_new``). The client's own variable points at the borrowed folder: ``QWEN_HOME``
(Qwen Code 0.15.10), ``PI_CODING_AGENT_DIR`` (Pi 0.73.1), ``HERMES_HOME`` (Hermes Agent
0.19.0) and ``GROK_HOME`` (Grok Build, from its source). What the client rewrites in a
copied file during the run is not kept, and a note says so.

OpenClaw (2026.9.6) keeps its state apart from its config: ``OPENCLAW_CONFIG_PATH``
names a copy of the user's ``openclaw.json`` alone (``openclaw``).

Variables the writers name as winning over their files (``check_env``) are removed from
the client's environment, or set to byecore's values.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from byecore_cli.clients.base import Target, Writer
from byecore_cli.launch.profiles import Context, Profile, _key, _plan, _read


def borrowed(writer: Writer, target: Target, ctx: Context, var: str,
             unset: Iterable[str] = ()) -> Profile:
    """``var`` → a folder with the writer's files planned on copies of the user's, and
    links to every other entry of the folder that holds them; ``unset``: the variables
    that would beat those copies."""
    files = writer.files(ctx.env, ctx.home)
    own = Path(os.path.commonpath([f.path.parent for f in files.values()]))
    current = {role: _read(f.path) for role, f in files.items()}
    plan = _plan(writer, target, current, files)
    name = f"{writer.name}-home"
    profile = Profile(env={var: str(ctx.folder / name)}, unset=list(unset),
                      borrowed={name: own})
    planned = {f.path.relative_to(own): plan.files.get(role, current[role])
               for role, f in files.items()}
    for rel, data in planned.items():
        if data is not None:
            profile.files[f"{name}/{rel.as_posix()}"] = data
    profile.links.update(_around(own, set(planned), name))
    copies = ", ".join(sorted(rel.as_posix() for rel in planned))
    profile.notes.append(
        f"{writer.title} reads a temporary {var}: your {own} linked entry by entry, with "
        f"copies of {copies} that point at byecore (what it saves to those copies during "
        "the run is not kept)")
    if ctx.persistent:
        profile.notes.append(f"entries added to {own} after this are not seen by shells "
                             "that loaded these lines until you run byecore env again, and "
                             f"what {writer.title} creates beside them stays in {ctx.folder}")
    return profile


def keep_new(profile: Profile, folder: Path, secrets: Iterable[str]) -> None:
    """After a run, move what the client created in a borrowed folder to the user's own,
    where it would have gone without byecore: not the planned copies, nor a file named
    after one (a backup such as settings.json.orig), nor anything holding a key."""
    planned = {Path(name) for name in profile.files}
    secrets = [s.encode() for s in secrets if s]

    def move(here: Path, there: Path) -> None:
        rel = here.relative_to(folder)
        if here.is_symlink() or rel in planned or any(
                p.parent == rel.parent and here.name.startswith(p.name) for p in planned):
            return
        if here.is_dir() and (there.is_dir() or any(p.is_relative_to(rel) for p in planned)):
            for entry in sorted(here.iterdir()):
                move(entry, there / entry.name)
        elif not there.exists() and not there.is_symlink() and not _holds(here, secrets):
            there.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):  # a disk full, say: left, as a run was
                shutil.move(here, there)  # a copy when the temporary folder is elsewhere

    for name, own in profile.borrowed.items():
        if (folder / name).is_dir():
            for entry in sorted((folder / name).iterdir()):
                move(entry, own / entry.name)


def _holds(path: Path, secrets: list[bytes]) -> bool:
    """Whether a file (or any file in a folder) holds one of ``secrets``."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for file in files:
        try:
            data = file.read_bytes()
        except OSError:
            return True  # unreadable here: not moved
        if any(secret in data for secret in secrets):
            return True
    return False


def _around(own: Path, planned: set[Path], prefix: str) -> dict[str, Path]:
    """Links to every entry of ``own`` that is neither a planned file nor a folder on the
    way to one (those folders are made, and their own other entries linked)."""
    if not own.is_dir():
        return {}
    heads = {rel.parts[0] for rel in planned}
    links: dict[str, Path] = {}
    for entry in sorted(own.iterdir()):
        if entry.name not in heads:
            links[f"{prefix}/{entry.name}"] = entry
        elif entry.is_dir() and not entry.is_symlink():
            deeper = {Path(*rel.parts[1:]) for rel in planned
                      if rel.parts[0] == entry.name and len(rel.parts) > 1}
            links.update(_around(entry, deeper, f"{prefix}/{entry.name}"))
    return links


def qwen(target: Target, ctx: Context) -> Profile:
    from byecore_cli.clients.base import NO_KEY
    from byecore_cli.clients.qwen import KEY_VAR, Qwen

    profile = borrowed(Qwen(), target, ctx, "QWEN_HOME")
    # settings.env fills only variables the shell lacks: a shell's own would win
    profile.env[KEY_VAR] = _key(target) or NO_KEY
    return profile


def pi(target: Target, ctx: Context) -> Profile:
    from byecore_cli.clients.pi import Pi

    return borrowed(Pi(), target, ctx, "PI_CODING_AGENT_DIR")


def hermes(target: Target, ctx: Context) -> Profile:
    from byecore_cli.clients.hermes import OVERRIDES, Hermes

    profile = borrowed(Hermes(), target, ctx, "HERMES_HOME", unset=OVERRIDES)
    # Hermes loads $HERMES_HOME/.env over the environment: a copy without that line
    link = f"{Hermes.name}-home/.env"
    env_file = profile.links.get(link)
    if env_file is not None and env_file.is_file():
        lines = env_file.read_bytes().splitlines(keepends=True)
        kept = [line for line in lines
                if line.split(b"=", 1)[0].strip().removeprefix(b"export ").strip()
                not in {name.encode() for name in OVERRIDES}]
        if kept != lines:
            del profile.links[link]
            profile.files[link] = b"".join(kept)
            profile.notes.append(f"your {env_file} sets {' or '.join(OVERRIDES)}, which "
                                 "would beat byecore: the run reads a copy without them")
    return profile


def grok(target: Target, ctx: Context) -> Profile:
    from byecore_cli.clients.grok import OVERRIDES, Grok

    return borrowed(Grok(), target, ctx, "GROK_HOME", unset=OVERRIDES)


def openclaw(target: Target, ctx: Context) -> Profile:
    from byecore_cli.clients.openclaw import OpenClaw

    client = OpenClaw()
    files = client.files(ctx.env, ctx.home)
    own = files["config"].path
    current = _read(own)
    plan = _plan(client, target, {"config": current}, files)
    name = "openclaw.json"
    profile = Profile(env={"OPENCLAW_CONFIG_PATH": str(ctx.folder / name)},
                      files={name: plan.files["config"] or b"{}\n"})
    if "OPENCLAW_INCLUDE_ROOTS" not in ctx.env:
        # an absolute $include of the user's stays inside the folders OpenClaw allows
        profile.env["OPENCLAW_INCLUDE_ROOTS"] = str(own.parent)
    profile.notes.append(
        f"OpenClaw reads a copy of {own} with byecore's provider in it (what it saves to "
        "that copy during the run is not kept); its embedded runs (openclaw agent exec, "
        "agent --local) use it, while a running Gateway keeps the config it started with")
    # what would refuse or bypass byecore's model is the user's to change, as setup says
    profile.notes += [n for n in plan.notes if n.startswith("agents.")]
    if current and b"$include" in current:
        profile.notes.append("a relative $include in your openclaw.json is looked for "
                             "beside the copy, where it is not: write it as an absolute "
                             "path for byecore run")
    return profile
