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
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from byecore_cli.errors import ConfigError, NotFound
from byecore_cli.files import SECRET_MODE, ensure_private_dir, write_atomic
from byecore_cli.paths import Paths
from byecore_cli.providers.keys import mask_key

STATE_VERSION = 1
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
    paths = Paths.current()
    ensure_private_dir(paths.home)
    write_atomic(paths.state, json.dumps(state, indent=2, ensure_ascii=False) + "\n",
                 mode=SECRET_MODE)


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
            "files": {role: {"path": f["path"], "existed": f["existed"]}
                      for role, f in self.manifest["files"].items()},
        }


def take_backup(client: str, files: dict[str, tuple[Path, bytes | None]], *,
                reason: str, state_before: dict | None) -> Backup:
    """Copy each file's bytes and mode (or its absence) into a new backup folder."""
    root = Paths.current().backups / client
    ensure_private_dir(Paths.current().home)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = datetime.now(timezone.utc)
    base = now.strftime("%Y%m%dT%H%M%S%fZ")
    backup_id, n = base, 1
    while (root / backup_id).exists():
        n += 1
        backup_id = f"{base}-{n}"
    folder = root / backup_id
    folder.mkdir(mode=0o700)
    manifest: dict[str, Any] = {
        "client": client, "id": backup_id, "created": now.isoformat(timespec="seconds"),
        "reason": reason, "state_before": state_before, "files": {},
    }
    for role, (path, data) in files.items():
        entry: dict[str, Any] = {"path": str(path), "existed": data is not None}
        if data is not None:
            entry["mode"] = file_mode(path)
            entry["sha256"] = sha256(data)
            write_atomic(folder / role, data, mode=SECRET_MODE)
        else:
            entry["missing_dirs"] = [str(d) for d in missing_dirs(path.absolute())]
        manifest["files"][role] = entry
    write_atomic(folder / "manifest.json", json.dumps(manifest, indent=2) + "\n",
                 mode=SECRET_MODE)
    return Backup(client, backup_id, folder, manifest)


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
