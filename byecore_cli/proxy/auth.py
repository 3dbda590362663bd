"""Who may use the proxy: the local access keys, and where the proxy may listen.

A client sends its local key (``bc-local-…``, one per client, made by ``byecore setup
--via-proxy`` or ``byecore proxy --show-key``) as ``Authorization: Bearer KEY``,
``x-api-key: KEY``, or as Gemini clients do, ``x-goog-api-key: KEY`` or ``?key=KEY``;
the key's name is the client name the usage log records. Keys live
in ``Paths.local_keys`` (see byecore_cli/clients/local_keys.py) and are re-read when that
file changes, so a client set up while the proxy runs works at once.

``--open`` turns the check off, and only on a loopback address; binding any other
address needs at least one local key.
"""

from __future__ import annotations

import contextlib
import ipaddress
import time

from byecore_cli.clients.local_keys import all_keys
from byecore_cli.errors import UsageError
from byecore_cli.paths import Paths

OPEN_CLIENT = "open"
DEFAULT_CLIENT = "default"


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, open_access: bool, keys: dict[str, str]) -> None:
    """Refuse a listening address that would expose upstream keys to the network."""
    if is_loopback(host):
        return
    if open_access:
        raise UsageError(f"--open is allowed only on a loopback address, not {host}",
                         hint="drop --open, or listen on 127.0.0.1")
    if not keys:
        raise UsageError(
            f"refusing to listen on {host} without local access keys",
            hint="make one first: byecore proxy --show-key (then give it to each client)")


class LocalKeys:
    """Key → client name, reloaded when the keys file changes (checked at most once a second)."""

    def __init__(self, open_access: bool = False) -> None:
        self.open_access = open_access
        self._path = Paths.current().local_keys
        self._by_key: dict[str, str] = {}
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        self._reload()

    def _reload(self) -> None:
        try:
            st = self._path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            self._by_key = {key: name for name, key in all_keys().items()} if stamp else {}
            self._stamp = stamp

    @property
    def empty(self) -> bool:
        return not self._by_key

    def client(self, headers, query=None) -> str | None:
        """The client name for a request's headers (and query, where Gemini clients may put
        ``key=``); None when the key is missing or wrong."""
        if self.open_access:
            return OPEN_CLIENT
        now = time.monotonic()
        if now - self._checked > 1.0:
            self._checked = now
            with contextlib.suppress(Exception):  # a broken keys file: keep the old keys
                self._reload()
        for key in _presented(headers, query):
            name = self._by_key.get(key)
            if name is not None:
                return name
        return None


def _presented(headers, query=None) -> list[str]:
    out = []
    auth = headers.get("Authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            out.append(value.strip())
    for name in ("x-api-key", "api-key", "x-goog-api-key"):
        value = headers.get(name)
        if value:
            out.append(value.strip())
    value = query.get("key") if query is not None else None
    if value:
        out.append(value.strip())
    return out
