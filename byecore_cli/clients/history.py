"""What byecore remembers about client files: backups before every write, and state.

Backups (``Paths.backups/<client>/<id>/``) hold the exact bytes and mode of every file
of a client as it was just before a write, plus a ``manifest.json``. A file that did
not exist is recorded as absent, so restoring removes it. The manifest also keeps the
client's state entry from before the write, so a restore forgets (or re-remembers)
the setup exactly as it was.

State (``Paths.state``, JSON) holds, per client, the provider and model byecore last
pointed it at, and per file a hash of the bytes byecore wrote plus a fingerprint of
each key byecore owns. Keys are never stored: secret values are kept as a hash and a
masked form, enough to say "you changed this by hand" without holding the secret.
After a restore, ``restored`` keeps the hashes of what the restore put back, so a later
restore can still tell what changed since byecore last touched the files.

Every read-modify-write of the state happens under ``state_lock()`` (a lock file beside
it), so clients set up at the same time in several shells all stay remembered.

Backups are pruned: the newest ``KEEP_BACKUPS`` of each client are kept, and always the
oldest one — the files as they were before byecore first wrote them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from byecore_cli.errors import ConfigError, NotFound
from byecore_cli.files import SECRET_MODE, ensure_private_dir, write_atomic, writing
from byecore_cli.paths import Paths
from byecore_cli.providers.keys import mask_key

STATE_VERSION = 1
KEEP_BACKUPS = 20  # per client, besides the oldest (pre-byecore) one, which is always kept
_SECRET_NAME = re.compile(r"(?i)api[-_]?key|token|secret|password")


def sha256(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def fingerprint(owned: dict[str, Any]) -> dict[str, dict]:
    """Per owned key: its value (masked when secret) and a hash of the real value."""
    out = {}
    for name, value in owned.items():
        raw = json.dumps(value, sort_keys=True, ensure_ascii=False)
        shown = mask_key(str(value)) if is_secret_name(name) and value else value
        out[name] = {"shown": shown, "sha256": hashlib.sha256(raw.encode()).hexdigest()}
    return out


# ---- state -----------------------------------------------------------------------------


def load_state() -> dict:
    path = Paths.current().state
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": STATE_VERSION, "clients": {}}
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"byecore's state file cannot be read ({exc})", path=str(path),
            hint="move it away: byecore then forgets which clients it set up "
                 "(your backups stay)",
        ) from None
    data.setdefault("clients", {})
    return data


def save_state(state: dict) -> None:
    """Write the state atomically; callers that read it first hold ``state_lock()``."""
    paths = Paths.current()
    ensure_private_dir(paths.home)
    write_atomic(paths.state, json.dumps(state, indent=2, ensure_ascii=False) + "\n",
                 mode=SECRET_MODE)


def last_placed(state: dict, client: str) -> dict[str, str | None] | None:
    """role -> hash of the bytes byecore last put in each of a client's files, by a write
    or by a restore; None when byecore has no record of it."""
    record = state.get("restored", {}).get(client) or state["clients"].get(client)
    if not record or "files" not in record:
        return None
    return {role: f.get("sha256") for role, f in record["files"].items()}


# How deep each thread is inside state_lock(): per thread, because a thread that finds
# another thread of this process holding the lock must wait for it like any other
# process does (its own descriptor's flock blocks), not pass as if it held the lock.
_held = threading.local()


@contextlib.contextmanager
def state_lock() -> Iterator[None]:
    """Hold an exclusive lock on byecore's state (``state.json.lock`` beside it).

    An OS lock (flock; msvcrt on Windows), so it is released when the process dies and
    a crashed command never leaves the state locked. Re-entrant within one thread
    (commit → save_state nests it); other threads of the process wait for it.
    """
    depth = getattr(_held, "depth", 0)
    if depth:
        _held.depth = depth + 1
        try:
            yield
        finally:
            _held.depth = depth
        return
    paths = Paths.current()
    ensure_private_dir(paths.home)
    lock_path = paths.state.with_name(paths.state.name + ".lock")
    with writing(lock_path):
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, SECRET_MODE)
    try:
        lock_fd(fd)
        _held.depth = 1
        try:
            yield
        finally:
            _held.depth = 0
            unlock_fd(fd)
    finally:
        os.close(fd)


def lock_fd(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        while True:  # LK_LOCK itself gives up after ten seconds: wait on
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError:
                continue
    fcntl.flock(fd, fcntl.LOCK_EX)


def unlock_fd(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(fd, fcntl.LOCK_UN)


# ---- backups ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Backup:
    client: str
    id: str
    folder: Path
    manifest: dict

    @property
    def reason(self) -> str:
        return self.manifest.get("reason", "")

    def summary(self) -> dict:
        return {
            "id": self.id,
            "created": self.manifest.get("created"),
            "reason": self.reason,
            "provider_before": (self.manifest.get("state_before") or {}).get("provider"),
            "files": {role: {"path": f["path"], "existed": f["existed"],
                             **({"link": f["link"]} if f.get("link") else {})}
                      for role, f in self.manifest["files"].items()},
        }


def take_backup(client: str, files: dict[str, tuple[Path, bytes | None]], *,
                reason: str, state_before: dict | None) -> Backup:
    """Copy each file's bytes and mode (or its absence) into a new backup folder.

    A file reached through a symlink also keeps the link's own text, so a restore can put
    the link back if something replaced it with a plain file."""
    root = Paths.current().backups / client
    ensure_private_dir(Paths.current().home)
    now = datetime.now(timezone.utc)
    base = now.strftime("%Y%m%dT%H%M%S%fZ")
    backup_id, n = base, 1
    with writing(root):
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        while True:
            folder = root / backup_id
            try:
                folder.mkdir(mode=0o700)
                break
            except FileExistsError:
                n += 1
                backup_id = f"{base}-{n}"
    manifest: dict[str, Any] = {
        "client": client, "id": backup_id, "created": now.isoformat(timespec="seconds"),
        "reason": reason, "state_before": state_before, "files": {},
    }
    try:
        for role, (path, data) in files.items():
            entry: dict[str, Any] = {"path": str(path), "existed": data is not None}
            if path.is_symlink():
                entry["link"] = os.readlink(path)
            if data is not None:
                entry["mode"] = file_mode(path)
                entry["sha256"] = sha256(data)
                write_atomic(folder / role, data, mode=SECRET_MODE)
            else:
                entry["missing_dirs"] = [str(d) for d in missing_dirs(path.absolute())]
            manifest["files"][role] = entry
        write_atomic(folder / "manifest.json", json.dumps(manifest, indent=2) + "\n",
                     mode=SECRET_MODE)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # no half-made backup left behind
        raise
    return Backup(client, backup_id, folder, manifest)


def prune_backups(client: str, keep: int = KEEP_BACKUPS) -> list[str]:
    """Remove all but the newest ``keep`` backups and the oldest one; returns the ids gone."""
    backups = list_backups(client)
    doomed = backups[1:-keep] if keep > 0 else backups[1:]
    for backup in doomed:
        shutil.rmtree(backup.folder, ignore_errors=True)
    return [b.id for b in doomed]


def discard_backup(backup: Backup) -> None:
    """Remove a backup whose write did not happen (it would only shadow the real one)."""
    shutil.rmtree(backup.folder, ignore_errors=True)


def missing_dirs(path: Path) -> list[Path]:
    """The folders above ``path`` that do not exist yet, deepest first: writing the file
    creates them, so restoring its absence removes them again (when still empty)."""
    out = []
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        out.append(folder)
        folder = folder.parent
    return out


def list_backups(client: str) -> list[Backup]:
    """Oldest first."""
    root = Paths.current().backups / client
    found = []
    if root.is_dir():
        for folder in sorted(root.iterdir()):
            try:
                manifest = json.loads((folder / "manifest.json").read_text())
            except (OSError, ValueError):
                continue  # a half-made backup (interrupted): not restorable, skip it
            found.append(Backup(client, folder.name, folder, manifest))
    return found


def find_backup(client: str, backup_id: str | None) -> Backup:
    backups = list_backups(client)
    if backup_id is None:
        # the newest backup taken before a setup/use write; restores own "before
        # restore" backups stay listed so a restore can be undone with --to
        candidates = [b for b in backups if b.reason != "restore"]
        if not candidates:
            raise NotFound(f"byecore has no backup of {client}'s files",
                           hint=f"byecore backs up before it writes; has 'byecore setup "
                                f"{client}' run on this machine?")
        return candidates[-1]
    for backup in backups:
        if backup.id == backup_id:
            return backup
    raise NotFound(f"no backup {backup_id!r} for {client}",
                   hint=f"see: byecore restore {client} --list")


def backup_bytes(backup: Backup, role: str) -> bytes | None:
    entry = backup.manifest["files"][role]
    if not entry["existed"]:
        return None
    data = (backup.folder / role).read_bytes()
    if sha256(data) != entry.get("sha256"):
        raise ConfigError(f"backup {backup.id} of {entry['path']} is damaged "
                          "(its hash does not match)", path=str(backup.folder / role),
                          hint=f"choose another: byecore restore {backup.client} --list")
    return data


def file_mode(path: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return 0o644
