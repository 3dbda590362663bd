"""The safe-edit engine: the one way byecore changes a client's files.

Writers only compute new bytes (``clients/base.py``). Everything that can lose a
user's settings is decided here, once, for every client:

1. ``prepare`` reads each file, asks the writer for a plan, and refuses a file that
   does not parse (the error names the file and line) unless ``force``; then the
   writer plans as if the file were absent, and the backup keeps the broken one.
2. It compares byecore's keys with what byecore last wrote (``history`` state): a
   difference means the user edited them by hand, and ``HandEdited`` is raised
   unless ``force``; the CLI shows the difference and may ask.
3. Nothing changed? "already up to date", and the files are not touched at all.
4. ``commit`` re-reads every file right before writing (``Conflict`` if anything moved
   in between), backs up every file of the client, writes atomically (0600 for files
   holding a key, the file's own mode otherwise), rolls back the files already written
   if a later write fails, and records what it wrote.

Writers see every file with LF lines and no BOM; the engine gives a file that had a
UTF-8 BOM or CRLF lines its own style back (``files.TextStyle``). A symlinked file
(dotfiles) is written through the link, which stays; a link to nothing is refused.

Putting a backup back is ``clients/restore.py``, which shares the reading and writing
helpers here.

Everything that reads and then writes byecore's state holds ``history.state_lock()``.

Diffs (for ``--dry-run`` and confirmation) mask every key byecore knows of.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from byecore_cli.clients import history
from byecore_cli.clients.base import (
    ClientFile,
    Current,
    Plan,
    Reading,
    Target,
    Unparsable,
    Writer,
)
from byecore_cli.errors import ByecoreError, ConfigError
from byecore_cli.files import SECRET_MODE, TextStyle, write_atomic, writing
from byecore_cli.providers.keys import mask_key


class HandEdited(ByecoreError):
    code = "hand_edited"

    def __init__(self, message: str, edits: list[dict], **kw) -> None:
        super().__init__(message, **kw)
        self.edits = edits

    def as_dict(self) -> dict:
        return {**super().as_dict(), "edits": self.edits}


class Conflict(ByecoreError):
    code = "conflict"


@dataclass
class FileChange:
    role: str
    path: Path
    before: bytes | None
    after: bytes | None
    secret: bool
    diff: str  # unified diff, keys masked

    def as_dict(self) -> dict:
        action = ("create" if self.before is None else
                  "remove" if self.after is None else "update")
        return {"role": self.role, "path": str(self.path), "action": action,
                "secret": self.secret, "diff": self.diff}


@dataclass
class Prepared:
    writer: Writer
    target: Target
    files: dict[str, ClientFile]
    current: dict[str, bytes | None]
    plan: Plan
    changes: list[FileChange]
    notes: list[str] = field(default_factory=list)
    hand_edits: list[dict] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return not self.changes


# ---- reading ---------------------------------------------------------------------------


def client_files(writer: Writer, env: Mapping[str, str] | None = None,
                 home: Path | None = None) -> dict[str, ClientFile]:
    env = os.environ if env is None else env
    return writer.files(env, home or Path(env.get("HOME") or Path.home()))


def read_files(files: dict[str, ClientFile]) -> dict[str, bytes | None]:
    return {role: read_file(f.path) for role, f in files.items()}


def read_file(path: Path) -> bytes | None:
    """A client file's bytes (through a symlink), None when absent."""
    if path.is_symlink() and not path.exists():
        # A dotfiles link whose target is gone (repo not cloned, moved, not mounted):
        # creating a file there, or replacing the link, would both be guesses.
        raise ConfigError(
            f"it is a symlink to {os.readlink(path)}, which does not exist", path=str(path),
            hint="byecore writes through symlinks but will not guess where a missing target "
                 "should come from: bring the target back (e.g. clone or mount your "
                 "dotfiles), or remove the link to get a plain file; then run again")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigError("expected a file, found a folder", path=str(path),
                          hint="move the folder away, then run again") from None
    except NotADirectoryError:
        raise ConfigError("a file is where one of its folders should be", path=str(path),
                          hint=f"move aside the file in the way of {path.parent}, then run "
                               "again") from None
    except PermissionError:
        raise ConfigError("permission denied", path=str(path),
                          hint=f"make it readable for your user (see who owns it: ls -l "
                               f"'{path}'), then run again") from None
    except OSError as exc:
        raise ConfigError(f"cannot read it ({exc.strerror})", path=str(path)) from None


def _styles(current: Current) -> dict[str, TextStyle]:
    return {role: TextStyle.of(data) for role, data in current.items()}


def _as_edited(current: Current) -> dict[str, bytes | None]:
    """What a writer sees: each file with LF lines and no BOM."""
    return {role: TextStyle.of(data).strip(data) for role, data in current.items()}


def _reading(writer: Writer, current: Current) -> Reading:
    return writer.read(_as_edited(current))


def _unparsable_error(exc: Unparsable, files: dict[str, ClientFile],
                      client: str) -> ConfigError:
    return ConfigError(
        exc.problem, path=str(files[exc.role].path), line=exc.line,
        hint=f"fix it by hand, or run again with --force to replace byecore's keys in a "
             f"fresh file (the broken one is backed up first; 'byecore restore {client}' "
             f"brings it back)",
    )


# ---- planning --------------------------------------------------------------------------


def prepare(writer: Writer, target: Target, *, force: bool = False,
            env: Mapping[str, str] | None = None, home: Path | None = None) -> Prepared:
    files = client_files(writer, env, home)
    current = read_files(files)
    notes: list[str] = []
    styles = _styles(current)
    basis = _as_edited(current)
    while True:
        try:
            plan = writer.plan(target, basis)
            plan.files = {role: current[role] if after == basis[role]  # untouched: as is
                          else styles[role].apply(after) for role, after in plan.files.items()}
            break
        except Unparsable as exc:
            if not force or basis.get(exc.role) is None:
                raise _unparsable_error(exc, files, writer.name) from None
            notes.append(f"{files[exc.role].path} did not parse ({exc.problem}); --force: "
                         "starting it afresh (the broken file is backed up first)")
            basis[exc.role] = None

    secrets = known_secrets(writer, {target.key}, current)
    changes = []
    for role, after in plan.files.items():
        before = current[role]
        if after == before:
            continue
        changes.append(FileChange(role, files[role].path, before, after,
                                  role in plan.secret,
                                  unified_diff(files[role].path, before, after, secrets)))
    prepared = Prepared(writer, target, files, current, plan, changes, notes + plan.notes)
    if changes:
        prepared.hand_edits = hand_edits(writer, current)
        if prepared.hand_edits and not force:
            raise HandEdited(
                f"byecore's settings in {writer.title}'s files were changed by hand since "
                f"byecore wrote them: " + "; ".join(
                    f"{e['key']}: byecore wrote {e['wrote']!r}, now {e['now']!r}"
                    for e in prepared.hand_edits),
                prepared.hand_edits,
                hint="run again with --force to replace them (a backup is taken first)",
            )
    return prepared


def hand_edits(writer: Writer, current: dict[str, bytes | None]) -> list[dict]:
    """byecore's keys whose values differ from what byecore last wrote."""
    entry = history.load_state()["clients"].get(writer.name)
    if not entry or "owned" not in entry:
        return []
    try:
        now = history.fingerprint(_reading(writer, current).owned)
    except Unparsable:
        return []  # reported as a parse problem instead
    wrote = entry["owned"]
    edits = []
    for key in sorted(set(wrote) | set(now)):
        a, b = wrote.get(key), now.get(key)
        if (a or {}).get("sha256") != (b or {}).get("sha256"):
            edits.append({"key": key, "wrote": (a or {}).get("shown"),
                          "now": (b or {}).get("shown")})
    return edits


# ---- writing ---------------------------------------------------------------------------


def commit(prepared: Prepared, *, reason: str = "setup",
           remember: dict | None = None) -> str | None:
    """Write the prepared changes; returns the backup id (None when nothing changed).

    ``remember`` is what the state keeps about this setup (provider, model, via_proxy).
    All or nothing: when a write (or recording it) fails, the files already written get
    their old bytes back, the backup taken for it goes, and the state stays as it was.
    """
    writer, files = prepared.writer, prepared.files
    with history.state_lock():
        state = history.load_state()
        old_entry = state["clients"].get(writer.name)
        if prepared.up_to_date:
            _remember(state, writer, files, prepared.current, remember, old_entry)
            return None
        now = read_files(files)
        moved = [str(files[r].path) for r in files if now[r] != prepared.current[r]]
        if moved:
            raise Conflict(f"{', '.join(moved)} changed while byecore was preparing its edit",
                           hint="run the command again: byecore re-reads the files")
        backup = history.take_backup(
            writer.name, {r: (files[r].path, now[r]) for r in files},
            reason=reason, state_before=old_entry)
        modes = {c.role: history.file_mode(c.path) for c in prepared.changes}
        written: list[FileChange] = []
        try:
            for change in prepared.changes:
                written.append(change)  # first: a failed write may have made folders
                put_file(change.path, change.after, SECRET_MODE if change.secret else None)
            final = dict(now)
            final.update({c.role: c.after for c in prepared.changes})
            _remember(state, writer, files, final, remember, old_entry)
        except BaseException:
            for change in reversed(written):  # leave the set consistent: all or none
                with contextlib.suppress(OSError, ByecoreError):
                    put_file(change.path, change.before, modes[change.role])
                    if change.before is None:
                        remove_made_dirs(backup.manifest["files"][change.role])
            history.discard_backup(backup)
            raise
        history.prune_backups(writer.name)
        return backup.id


def put_file(path: Path, data: bytes | None, mode: int | None) -> None:
    if data is None:
        with writing(path), contextlib.suppress(FileNotFoundError):
            path.unlink()  # a symlink itself, not what it points at
    else:
        write_atomic(path, data, mode=mode)


def remove_made_dirs(entry: dict) -> list[str]:
    """Remove the folders byecore made for a file it has just removed, if still empty."""
    removed = []
    for folder in entry.get("missing_dirs", ()):
        with contextlib.suppress(OSError):  # not empty: something else lives there
            os.rmdir(folder)
            removed.append(folder)
    return removed


def _remember(state: dict, writer: Writer, files: dict[str, ClientFile],
              contents: dict[str, bytes | None], remember: dict | None,
              old_entry: dict | None) -> None:
    entry = dict(old_entry or {})
    entry.update(remember or {})
    entry["updated"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    entry["files"] = {r: {"path": str(files[r].path), "sha256": history.sha256(contents[r])}
                      for r in files}
    entry["owned"] = history.fingerprint(_reading(writer, contents).owned)
    state["clients"][writer.name] = entry
    state.get("restored", {}).pop(writer.name, None)
    history.save_state(state)


# ---- status ----------------------------------------------------------------------------


def inspect(writer: Writer, env: Mapping[str, str] | None = None,
            home: Path | None = None) -> dict:
    """One client's status: installed, files, what it points at, hand edits, problems."""
    env = os.environ if env is None else env
    files = client_files(writer, env, home)
    entry = history.load_state()["clients"].get(writer.name)
    out: dict = {
        "client": writer.name, "title": writer.title,
        "installed": shutil.which(writer.executable, path=env.get("PATH")) is not None,
        "files": {r: {"path": str(f.path), "exists": f.path.exists()} for r, f in files.items()},
        "set_up_by_byecore": entry is not None,
        "provider": (entry or {}).get("provider"),
        "via_proxy": (entry or {}).get("via_proxy"),
        "base_url": None, "model": None, "configured": False,
        "hand_edited": [], "changed_since_write": [], "problems": [],
    }
    try:
        current = read_files(files)
    except ConfigError as exc:
        out["problems"].append(exc.message)
        return out
    out["config_found"] = any(v is not None for v in current.values())
    try:
        reading: Reading = _reading(writer, current)
    except Unparsable as exc:
        where = f"{files[exc.role].path}" + (f", line {exc.line}" if exc.line else "")
        out["problems"].append(f"{where}: {exc.problem}")
        return out
    out.update(base_url=reading.base_url, model=reading.model,
               configured=reading.configured, label=reading.label)
    out["problems"] += reading.problems + writer.check_env(env)
    if entry:
        out["hand_edited"] = hand_edits(writer, current)
        out["changed_since_write"] = [
            str(files[r].path) for r, f in entry.get("files", {}).items()
            if r in current and history.sha256(current[r]) != f.get("sha256")]
    return out


# ---- diffs -----------------------------------------------------------------------------


def known_secrets(writer: Writer, known: set[str | None], current: Current) -> set[str]:
    found = {k for k in known if k}
    with contextlib.suppress(Unparsable):
        for name, value in _reading(writer, current).owned.items():
            if history.is_secret_name(name) and isinstance(value, str) and value:
                found.add(value)
    return found


_SECRETISH = re.compile(
    r"""(?i)((?:api[_-]?key|token|secret|password)["']?\s*[:=]\s*["'])([^"'\s]{8,})(["'])""")


def mask_secrets(text: str, secrets: set[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, mask_key(secret))
    return _SECRETISH.sub(lambda m: m.group(0) if "…" in m.group(2) else
                          m.group(1) + mask_key(m.group(2)) + m.group(3), text)


def unified_diff(path: Path, before: bytes | None, after: bytes | None,
                 secrets: set[str]) -> str:
    a = (before or b"").decode("utf-8", "replace").splitlines(keepends=True)
    b = (after or b"").decode("utf-8", "replace").splitlines(keepends=True)
    lines = difflib.unified_diff(
        a, b, fromfile=str(path) if before is not None else "/dev/null",
        tofile=str(path) if after is not None else "/dev/null")
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)
    return mask_secrets(text, secrets)
