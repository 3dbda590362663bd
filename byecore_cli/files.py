"""Safe file writing: every file byecore writes goes through here.

A write never leaves a half-written file behind: the new content goes to a
temporary file in the same folder, is flushed and fsynced, then renamed over the
old one (rename is atomic on one filesystem). The file's mode is set before any
byte is written, so a key is never readable by others even for an instant.

A symlink (a dotfiles repo) is written through: the temporary file goes beside the
link's final target and is renamed over the target, so the link itself stays.

A write that the system refuses (permissions, a read-only or full disk, a file where
a folder should be) becomes an ``errors.FileWriteError`` naming the path and what fixes it.

``TextStyle`` lets an editor see a file with LF lines and no BOM whatever it had on
disk, and gives the file back its BOM and CRLF lines afterwards.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from byecore_cli.errors import FileWriteError

SECRET_MODE = 0o600
BOM = b"\xef\xbb\xbf"


def write_error(exc: OSError, path: Path) -> FileWriteError:
    """What went wrong writing ``path`` and what the user can do about it."""
    where = Path(exc.filename) if exc.filename else path
    if where.name.startswith(".") and where.name.endswith(".tmp"):
        where = where.parent  # byecore's own temporary file: the folder is the problem
    folder = where if where.is_dir() else where.parent
    code = exc.errno
    if code in (errno.EACCES, errno.EPERM):
        problem = "permission denied"
        hint = (f"make it writable for your user (see who owns it: ls -ld '{folder}'; "
                f"then e.g. chmod u+w '{folder}'), then run again")
    elif code == errno.EROFS:
        problem = "the file system is read-only"
        hint = "remount it writable, or point the client at a writable folder, then run again"
    elif code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        problem = "the disk is full"
        hint = f"free some space on the disk holding '{folder}', then run again"
    elif code == errno.EISDIR:
        problem = "a folder is where a file should be"
        hint = f"move the folder '{where}' away, then run again"
    elif code in (errno.ENOTDIR, errno.EEXIST):
        problem = "a file is where a folder should be"
        hint = f"move the file in the way of '{where.parent}' aside, then run again"
    else:
        problem = exc.strerror or str(exc)
        hint = None
    at = "" if where == path else f" ({where})"
    return FileWriteError(f"cannot write {path}: {problem}{at}", path=str(where), hint=hint)


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an ``OSError`` raised inside into a ``FileWriteError`` about ``path``."""
    try:
        yield
    except OSError as exc:
        raise write_error(exc, path) from None


def resolve_link(path: Path) -> Path:
    """The file a write to ``path`` must replace: the final target of a link chain."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def write_atomic(path: Path, data: str | bytes, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` atomically (through a symlink, keeping the link).

    ``mode`` defaults to the existing file's mode, or 0644 for a new file.
    Files holding secrets must pass ``SECRET_MODE``.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    target = resolve_link(path)
    if mode is None:
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = 0o644
    with writing(path):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                   suffix=".tmp")
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    _fsync_dir(target.parent)


def put_symlink(path: Path, link: str) -> None:
    """Make ``path`` a symlink reading ``link``, replacing what is there in one rename."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{os.getpid()}.link.tmp"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(link, tmp)
        try:
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise


def ensure_private_dir(path: Path) -> None:
    """Create byecore's own home (0700) if missing; leave an existing one alone."""
    if not path.is_dir():
        with writing(path):  # exist_ok: another byecore may be making it right now
            path.mkdir(parents=True, exist_ok=True, mode=0o700)


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not every platform lets a folder be opened.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- line endings and BOM -----------------------------------------------------------------


@dataclass(frozen=True)
class TextStyle:
    """How a text file is laid out on disk beyond its characters: a UTF-8 BOM, CRLF lines.

    Editors (tomlkit, the JSON and YAML editors) see LF lines and no BOM; ``apply``
    puts the file's own style back on what they return. A file with mixed endings is
    given the majority's ending (CRLF only when most of its lines had it). A file the
    editor leaves as it was is not rewritten at all (the engine keeps its bytes).
    """

    bom: bool = False
    crlf: bool = False

    @classmethod
    def of(cls, data: bytes | None) -> TextStyle:
        if not data:
            return cls()
        crlf = data.count(b"\r\n")
        return cls(bom=data.startswith(BOM), crlf=crlf > data.count(b"\n") - crlf)

    @property
    def plain(self) -> bool:
        return not (self.bom or self.crlf)

    def strip(self, data: bytes | None) -> bytes | None:
        """The bytes an editor should see: no BOM, LF lines (even a minority's CRLF, so
        the editor does not copy it onto the lines it adds)."""
        if data is None:
            return data
        if data.startswith(BOM):
            data = data[len(BOM):]
        return data.replace(b"\r\n", b"\n")

    def apply(self, data: bytes | None) -> bytes | None:
        """An editor's output in the file's own style."""
        if data is None or self.plain:
            return data
        if self.crlf:
            data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if self.bom and not data.startswith(BOM):
            data = BOM + data
        return data
