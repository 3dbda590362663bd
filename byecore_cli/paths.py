"""Every location byecore uses for its own state.

All of it lives under one home directory, chosen by platformdirs, so that one
environment variable, ``BYECORE_HOME``, relocates everything at once (tests point
it at a temporary directory). Nothing here creates a directory: that happens only
when a command actually writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

HOME_ENV = "BYECORE_HOME"


def home() -> Path:
    override = os.environ.get(HOME_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_path  # deferred: only needed without the override

    return user_data_path("byecore", appauthor=False)


@dataclass(frozen=True)
class Paths:
    home: Path
    settings: Path  # providers, defaults and proxy routing (TOML, holds keys: 0600)
    local_keys: Path  # the proxy's local access keys (0600)
    state: Path  # hashes of what byecore last wrote into each client's files
    backups: Path  # copies of client files taken before every write
    logs: Path
    usage_db: Path  # the proxy's usage log (SQLite)
    proxy_runtime: Path  # the running proxy's address and pid (JSON), while it serves

    @classmethod
    def current(cls) -> Paths:
        root = home()
        return cls(
            home=root,
            settings=root / "settings.toml",
            local_keys=root / "local-keys.toml",
            state=root / "state.json",
            backups=root / "backups",
            logs=root / "logs",
            usage_db=root / "usage.db",
            proxy_runtime=root / "proxy.json",
        )

    def as_dict(self) -> dict[str, str]:
        return {f.name: str(getattr(self, f.name)) for f in fields(self)}
