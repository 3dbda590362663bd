"""Reading and writing ``settings.toml`` without losing what the user wrote by hand.

The file is kept as a tomlkit document: byecore changes only the values it was asked
to change, so comments, blank lines, key order and unknown formatting survive. Every
write is validated first (an invalid file is never written) and goes through
``files.write_atomic`` with mode 0600, since the file may hold keys.

A file that does not parse or validate raises ``ConfigError`` naming the file, the
line and the field, with what was expected.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from pathlib import Path
from typing import get_args

import tomlkit
from pydantic import BaseModel, ValidationError
from tomlkit.exceptions import TOMLKitError
from tomlkit.toml_document import TOMLDocument

from byecore_cli.config.models import Provider, Settings
from byecore_cli.errors import ConfigError
from byecore_cli.files import SECRET_MODE, ensure_private_dir, write_atomic

HEADER = (
    "# byecore settings: saved providers and defaults.\n"
    "# Edit by hand if you like; byecore keeps your comments and layout.\n"
    "# This file may hold API keys: keep it private (byecore writes it with mode 0600).\n"
)
# Fields the user should not see when they hold their default value.
_DEFAULTS = {"openai_path": "/v1", "anthropic_path": "", "quirks": []}


class SettingsStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> tuple[Settings, TOMLDocument]:
        """Parse and validate; a missing file is an empty, valid settings file."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Settings(), tomlkit.parse(HEADER)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the file ({exc})", path=str(self.path)) from None
        return self.parse(text)

    def parse(self, text: str) -> tuple[Settings, TOMLDocument]:
        """Validate ``text`` as this file's content (errors name the file and line)."""
        try:
            doc = tomlkit.parse(text)
        except TOMLKitError as exc:
            line = getattr(exc, "line", None)
            reason = str(exc).split(" at line ")[0]
            raise ConfigError(
                f"this is not valid TOML ({reason})",
                path=str(self.path),
                line=line,
                hint="fix the line by hand, or move the file away to start afresh",
            ) from None
        return _validate(doc, text, self.path), doc

    def save(self, doc: TOMLDocument) -> Settings:
        text = tomlkit.dumps(doc)
        settings = _validate(tomlkit.parse(text), text, self.path)
        ensure_private_dir(self.path.parent)
        write_atomic(self.path, text, mode=SECRET_MODE)
        return settings


# A change is used once the same bytes, with the same (mtime, size) stamp, were read this
# far apart: a save in progress (truncated then written, or written in pieces) has moved
# on by then. Any change, not only one that drops providers: a file cut at a line boundary
# is valid TOML, and may hold a provider without its key or a [proxy] without its aliases.
QUIET = 0.2
# A file last written this long ago is complete: it is used at the first look. A problem
# that lasts this long is logged.
SETTLE = 1.0
# The coarsest file-time granularity allowed for (FAT: 2 s): a rewrite this soon after
# the last one may keep the same mtime and size, so such a file is hashed again.
MTIME_SLACK = 2.0
log = logging.getLogger("byecore.proxy")


class SettingsWatch:
    """``settings.toml`` as a running proxy follows it: the last good settings, and news.

    Editors save by truncating the file and writing it again, or by deleting and
    recreating it, so a reader in between sees an empty, missing or half-written file;
    cut at a line boundary, the half file is even valid. So no change is news until it
    is stable: the same bytes read ``QUIET`` apart, or a file last written ``SETTLE``
    ago. A save that completes replaces its half before then, so the half is never used.
    Meanwhile the last good settings stay, and a problem that lasts is logged once.

    The file's (mtime, size) stamp says when to read it again; a rewrite within the
    mtime's granularity can keep both, so while the last read came less than
    ``MTIME_SLACK`` after the mtime, the bytes are read and hashed again.
    """

    def __init__(self, path: Path, settings: Settings) -> None:
        self.path = path
        self.settings = settings
        self._stamp = _stamp(path)
        self._read_at = time.time()
        # the stamp and digest of the bytes last read (None: written to while read)
        self._seen = (self._stamp, _digest(_read(path)))  # at first, what ``settings`` are
        self._since = time.monotonic()  # when ``_seen`` was first read
        self._state = "ok"  # "ok", "bad" (keeping the last good) or "pending" (to settle)
        self._pending: Settings | None = None
        self._problem: str | None = None
        self._logged: str | None = None  # the problem last logged, so it is logged once

    @property
    def unsettled(self) -> bool:
        """Worth another look soon: the file is in flux, or was just written."""
        return self._state != "ok" or self._may_hide_a_rewrite(self._stamp)

    def check(self) -> Settings | None:
        """The settings to use from now on, or None when they stay as they are."""
        stamp = _stamp(self.path)
        if stamp == self._stamp and self._state == "ok" and not self._may_hide_a_rewrite(stamp):
            return None
        wall, now = time.time(), time.monotonic()
        data = _read(self.path)
        self._stamp, self._read_at = stamp, wall
        # A stamp that moved during the read: the bytes may be neither the old file nor
        # the new one, and never count as stable.
        seen = (stamp, _digest(data)) if _stamp(self.path) == stamp else None
        if seen is None or seen != self._seen:
            self._seen, self._since = seen, now
            self._assess(data)
        elif self._state == "ok":
            return None
        if self._state == "bad":
            if seen and self._lasted(SETTLE, now, wall) and self._problem != self._logged:
                log.warning("%s; the proxy keeps its previous settings until it is fixed",
                            self._problem)
                self._logged = self._problem
            return None
        if self._state == "pending" and not (seen and self._lasted(QUIET, now, wall)):
            return None
        self._state, self._logged = "ok", None
        if self._pending is None:
            return None
        self.settings, self._pending = self._pending, None
        return self.settings

    def _lasted(self, seconds: float, now: float, wall: float) -> bool:
        """The bytes last read have stayed: seen ``seconds`` ago already, or written
        ``SETTLE`` ago. A whole-second mtime may come from a coarse clock (FAT keeps 2 s,
        ext3 and HFS+ 1 s, rounded down), so it is allowed ``MTIME_SLACK`` more."""
        if now - self._since >= seconds:
            return True
        if self._stamp is None:
            return False
        mtime = self._stamp[0]
        slack = MTIME_SLACK if mtime % 1_000_000_000 == 0 else 0.0
        return wall - mtime / 1e9 >= SETTLE + slack

    def _assess(self, data: bytes | None) -> None:
        """Judge new bytes: sets the state, and the settings they would bring."""
        self._state, self._pending = "bad", None
        if data is None:
            self._problem = f"{self.path} is missing or cannot be read"
            return
        if not data.strip():
            self._problem = f"{self.path} is empty"
            return
        try:
            settings, _ = SettingsStore(self.path).parse(data.decode("utf-8"))
        except UnicodeDecodeError:
            self._problem = f"{self.path} is not UTF-8 text"
            return
        except ConfigError as exc:
            self._problem = exc.message
            return
        self._problem = None
        if settings == self.settings:
            self._state = "ok"  # the same settings written again
            return
        self._state, self._pending = "pending", settings

    def _may_hide_a_rewrite(self, stamp: tuple[int, int] | None) -> bool:
        return stamp is not None and self._read_at - stamp[0] / 1e9 < MTIME_SLACK


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:  # missing, or a folder, or unreadable: all "not there" to the proxy
        return None


def _digest(data: bytes | None) -> bytes | None:
    return None if data is None else hashlib.blake2b(data, digest_size=16).digest()


def set_provider(doc: TOMLDocument, name: str, provider: Provider) -> None:
    """Write ``provider`` under ``[providers.NAME]``, editing an existing table in place."""
    if "providers" not in doc:
        doc.add(tomlkit.nl())
        doc["providers"] = tomlkit.table(is_super_table=True)
    providers = doc["providers"]
    values = provider.model_dump(exclude_none=True)
    values = {k: v for k, v in values.items() if _DEFAULTS.get(k, object()) != v}
    if name not in providers:
        providers[name] = tomlkit.table()
    table = providers[name]
    for key in [k for k in table if k not in values]:
        del table[key]
    for key, value in values.items():
        if key not in table or table[key] != value:
            table[key] = value


def remove_provider(doc: TOMLDocument, name: str) -> None:
    del doc["providers"][name]
    if doc.get("default_provider") == name:
        del doc["default_provider"]


def set_default(doc: TOMLDocument, name: str) -> None:
    doc["default_provider"] = name  # tomlkit places a new top-level key before the tables


def _validate(doc: TOMLDocument, text: str, path: Path) -> Settings:
    try:
        return Settings.model_validate(doc.unwrap())
    except ValidationError as exc:
        # A misspelt key shows up twice (unknown + missing): name the misspelling first.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        first = errors[0]
        loc = tuple(first["loc"])
        field = _dotted(loc)
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = f"unknown setting {loc[-1]!r}" + _did_you_mean(loc)
        elif first["type"] == "missing":
            message = "this required setting is missing"
        elif "key" not in loc and first["type"] != "model_type":
            message = f"{message} (found {_shown(first['input'])!r})"
        more = len(exc.errors()) - 1
        if more:
            message += f"; and {more} more problem{'s' if more > 1 else ''}"
        raise ConfigError(
            message, path=str(path), line=_locate(text, loc), field=field
        ) from None


def _shown(value):
    """A value fit to echo in an error: a URL's ``user:password@`` masked."""
    return _USERINFO_RE.sub("://***@", value) if isinstance(value, str) else value


_USERINFO_RE = re.compile(r"://[^/?#]*@")


def _did_you_mean(loc: tuple) -> str:
    from difflib import get_close_matches

    close = get_close_matches(str(loc[-1]), list(_model_at(loc[:-1]).model_fields), n=1)
    return f" (did you mean {close[0]!r}?)" if close else " (a misspelling?)"


def _model_at(loc: tuple) -> type[BaseModel]:
    """The settings model a validation location points into (``providers.x`` → Provider,
    ``proxy.timeouts`` → ProxyTimeouts), so a misspelling is matched against its siblings."""
    model: type[BaseModel] = Settings
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None:
            continue  # a dict key such as a provider's name: stay with the value's model
        kind = field.annotation
        for arg in (kind, *get_args(kind)):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                model = arg
                break
    return model


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_HEADER_RE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY_RE = re.compile(r"^\s*([A-Za-z0-9_.\"'-]+?)\s*=")


def _split_key(raw: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in raw.split("."))


def _locate(text: str, loc: tuple) -> int | None:
    """The line that best matches a validation error's location (longest prefix wins)."""
    want = tuple(str(p) for p in loc if not isinstance(p, int))
    best, best_len = None, 0
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER_RE.match(line)
        if header:
            table = _split_key(header.group(1))
            path = table
        else:
            key = _KEY_RE.match(line)
            if not key:
                continue
            path = table + _split_key(key.group(1))
        if want[: len(path)] == path and len(path) > best_len:
            best, best_len = number, len(path)
    return best
