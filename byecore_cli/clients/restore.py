"""Putting a client's backup back: ``byecore restore``.

``plan_restore`` works out what a restore would change and, when the files changed
since byecore last wrote them (a ``codex login``, a client rewriting its settings),
what it would throw away; ``apply_restore`` refuses then with ``WouldDiscard``, which
lists it, unless ``force``. The restore itself is all or nothing like a write
(``engine.commit``): the files as they are now are backed up first, and the state is
changed under ``history.state_lock()``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from byecore_cli.clients import history
from byecore_cli.clients.base import Unparsable, Writer
from byecore_cli.clients.engine import (
    Conflict,
    hand_edits,
    known_secrets,
    put_file,
    read_file,
    remove_made_dirs,
    unified_diff,
)
from byecore_cli.errors import ByecoreError
from byecore_cli.files import put_symlink, write_atomic


class WouldDiscard(ByecoreError):
    """A restore would throw away changes made after byecore's last write."""

    code = "would_discard"

    def __init__(self, message: str, discards: list[dict], edits: list[dict], **kw) -> None:
        super().__init__(message, **kw)
        self.discards, self.edits = discards, edits

    def as_dict(self) -> dict:
        return {**super().as_dict(), "discards": self.discards, "edits": self.edits}


@dataclass
class RestorePlan:
    """What ``restore`` would do, and what it would throw away, before doing it."""

    writer: Writer
    backup: history.Backup
    paths: dict[str, Path]
    wanted: dict[str, bytes | None]
    now: dict[str, bytes | None]
    changed: list[str]  # roles whose bytes, mode or link the restore changes
    discards: list[dict] = field(default_factory=list)  # changed since byecore's write
    edits: list[dict] = field(default_factory=list)  # byecore's own keys among them
    unrecorded: bool = False  # no record of byecore's last write (state moved away)

    def refusal(self) -> WouldDiscard:
        title = self.writer.title
        since = ("byecore has no record of what it last wrote, so it cannot tell what "
                 "changed since" if self.unrecorded else
                 f"they changed after byecore's last write (by hand or by {title} itself)")
        return WouldDiscard(
            f"restoring {title}'s files would replace what is in them now; {since}: "
            + ", ".join(d["path"] for d in self.discards),
            self.discards, self.edits,
            hint=f"look at what would be lost (the diff above, or 'discards' in --json), "
                 f"then run 'byecore restore {self.writer.name} --force' to restore anyway "
                 f"(the files as they are now are backed up first)")


def plan_restore(writer: Writer, backup_id: str | None = None) -> RestorePlan:
    backup = history.find_backup(writer.name, backup_id)
    entries = backup.manifest["files"]
    wanted = {role: history.backup_bytes(backup, role) for role in entries}
    paths = {role: Path(e["path"]) for role, e in entries.items()}
    now = {role: read_file(p) for role, p in paths.items()}
    changed = [role for role in entries if now[role] != wanted[role]
               or _link(paths[role]) != entries[role].get("link", _link(paths[role]))
               or (wanted[role] is not None
                   and history.file_mode(paths[role]) != entries[role]["mode"])]
    plan = RestorePlan(writer, backup, paths, wanted, now, changed)
    state = history.load_state()
    placed = history.last_placed(state, writer.name)
    plan.unrecorded = placed is None
    lost = [role for role in entries if now[role] != wanted[role] and (
        placed is None or history.sha256(now[role]) != placed.get(role))]
    if lost:
        secrets = known_secrets(writer, set(), now) | known_secrets(writer, set(), wanted)
        plan.discards = [{"path": str(paths[r]), "diff": unified_diff(
            paths[r], now[r], wanted[r], secrets)} for r in lost]
        if writer.name not in state.get("restored", {}):
            with contextlib.suppress(Unparsable):
                plan.edits = hand_edits(writer, now)
    return plan


def _put_back(path: Path, data: bytes | None, entry: dict) -> None:
    """Make ``path`` hold ``data`` as a backup ``entry`` describes it: its mode, and the
    symlink it was reached through, put back if something replaced the link."""
    if data is None:
        put_file(path, None, None)
        return
    if entry.get("link") and _link(path) != entry["link"]:
        put_symlink(path, entry["link"])
    write_atomic(path, data, mode=entry["mode"])


def _link(path: Path) -> str | None:
    return os.readlink(path) if path.is_symlink() else None


def restore(writer: Writer, backup_id: str | None = None, *, force: bool = False,
            env: Mapping[str, str] | None = None, home: Path | None = None) -> dict:
    """Plan and carry out a restore (``force``: even if it throws changes away)."""
    return apply_restore(plan_restore(writer, backup_id), force=force)


def apply_restore(plan: RestorePlan, *, force: bool = False) -> dict:
    """Put back a backup's bytes, modes and symlinks exactly; files absent then are
    removed, and so are the folders byecore made for them, if nothing else has moved in.
    A link that is still there is written through and kept."""
    if plan.discards and not force:
        raise plan.refusal()
    writer, backup, paths, wanted = plan.writer, plan.backup, plan.paths, plan.wanted
    entries = backup.manifest["files"]
    with history.state_lock():
        now = {role: read_file(p) for role, p in paths.items()}
        moved = [str(paths[r]) for r in paths if now[r] != plan.now[r]]
        if moved:
            raise Conflict(f"{', '.join(moved)} changed while byecore was preparing the "
                           "restore", hint="run the command again: byecore re-reads the files")
        state = history.load_state()
        safety = history.take_backup(
            writer.name, {r: (paths[r], now[r]) for r in entries}, reason="restore",
            state_before=state["clients"].get(writer.name)) if plan.changed else None
        removed_dirs: list[str] = []
        done: list[str] = []
        try:
            for role in plan.changed:
                done.append(role)
                _put_back(paths[role], wanted[role], entries[role])
                # only for a file this restore removes: a folder made later for another
                # file, by the client or by hand, is not byecore's to take away
                if wanted[role] is None and now[role] is not None:
                    removed_dirs += remove_made_dirs(entries[role])
            before = backup.manifest.get("state_before")
            if before is None:
                state["clients"].pop(writer.name, None)
            else:
                state["clients"][writer.name] = before
            state.setdefault("restored", {})[writer.name] = {
                "backup": backup.id, "files": {r: {"path": str(paths[r]),
                                                   "sha256": history.sha256(wanted[r])}
                                               for r in entries}}
            history.save_state(state)
        except BaseException:
            for role in reversed(done):  # all or nothing, as for a write
                with contextlib.suppress(OSError, ByecoreError):
                    _put_back(paths[role], now[role], safety.manifest["files"][role])
                    if now[role] is None:
                        remove_made_dirs(safety.manifest["files"][role])
            if safety is not None:
                history.discard_backup(safety)
            raise
        history.prune_backups(writer.name)
    return {
        "client": writer.name, "restored": backup.id,
        "safety_backup": safety.id if safety else None,
        "files": [{"path": str(paths[r]), "action": "removed" if wanted[r] is None
                   else "restored", "changed": r in plan.changed} for r in entries],
        "removed_folders": removed_dirs,
        "discarded": [d["path"] for d in plan.discards],
    }
