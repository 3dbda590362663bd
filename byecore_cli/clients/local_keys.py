"""The local proxy's access keys: one per client, so a leaked key names its client.

A client set up ``--via-proxy`` sends its key to ``http://127.0.0.1:4000``; the proxy
accepts any key in this file. The keys are random (``secrets.token_urlsafe``), start
with ``bc-local-`` so nobody mistakes them for a provider key, and live in
``Paths.local_keys`` (TOML, mode 0600)::

    [keys]
    codex = "bc-local-…"
    claude = "bc-local-…"

Making a key reads the file, adds to it and writes it back under byecore's state lock
(``history.state_lock``): ``setup --via-proxy`` run in several shells at once would
otherwise each write back only their own key, and the proxy would refuse the others.
"""

from __future__ import annotations

import secrets

from byecore_cli.clients import history
from byecore_cli.errors import ConfigError
from byecore_cli.files import SECRET_MODE, ensure_private_dir, write_atomic
from byecore_cli.paths import Paths

PREFIX = "bc-local-"
_HEADER = "# byecore proxy: local access keys, one per client. Private (mode 0600).\n"


def all_keys() -> dict[str, str]:
    """Client name -> local key; empty when none was made yet."""
    return {name: str(key) for name, key in _load().get("keys", {}).items()}


def get_or_create(client: str) -> str:
    """The client's local key, made and saved on first use."""
    import tomlkit

    with history.state_lock():
        doc = _load()
        keys = doc.get("keys")
        if keys is not None and client in keys:
            return str(keys[client])
        key = PREFIX + secrets.token_urlsafe(24)
        if keys is None:
            doc["keys"] = tomlkit.table()
        doc["keys"][client] = key
        path = Paths.current().local_keys
        ensure_private_dir(path.parent)
        write_atomic(path, tomlkit.dumps(doc), mode=SECRET_MODE)
        return key


def _load():
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    path = Paths.current().local_keys
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return tomlkit.parse(_HEADER)
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(
            f"this is not valid TOML ({str(exc).split(' at line ')[0]})",
            path=str(path), line=getattr(exc, "line", None),
            hint="delete the file: byecore makes new local keys (re-run setup --via-proxy)",
        ) from None


def peek(client: str) -> str | None:
    """The client's local key if one was made; never creates one (for --dry-run)."""
    return all_keys().get(client)
