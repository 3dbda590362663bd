"""Where ``byecore image`` puts its files, and writing them without losing any.

``-o`` names a file (``fox.png``), a folder (one that exists, or ends in ``/``), or
nothing (the current folder); without a file name, the name comes from the prompt
(``a-red-fox-in-snow.png``). Several images get ``-1``, ``-2``…, partial images
``.partial-0``…. A name that is taken is never overwritten unless ``--force``: the next
free ``-2``, ``-3``… is used instead.

Each file is written whole to a temporary file beside it, fsynced, then put in place
with a hard link, which fails if the name was taken meanwhile (no check-then-write
race); where links are not supported, a rename after a last check.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from byecore_cli.files import writing

_WORDS = re.compile(r"[a-z0-9]+")
MAX_STEM = 48


def slug(prompt: str) -> str:
    """``'A red fox, in snow!'`` → ``'a-red-fox-in-snow'`` (at most 48 characters)."""
    words = _WORDS.findall(prompt.lower())
    out = ""
    for word in words:
        if len(out) + len(word) + 1 > MAX_STEM:
            break
        out = f"{out}-{word}" if out else word
    return out or "image"


@dataclass(frozen=True)
class Target:
    folder: Path
    stem: str
    extension: str | None  # the one -o FILE gave (".png"), else None: from the format


def target(output: str | None, prompt: str) -> Target:
    if not output:
        return Target(Path.cwd(), slug(prompt), None)
    path = Path(output).expanduser().absolute()
    if output.endswith(("/", os.sep)) or path.is_dir():
        return Target(path, slug(prompt), None)
    return Target(path.parent, path.stem if path.suffix else path.name,
                  path.suffix.lower() or None)


def names(where: Target, count: int, extension: str, partial: int | None = None) -> list[Path]:
    """The names wanted for ``count`` images (before any numbering for taken ones)."""
    ext = where.extension or extension
    if partial is not None:
        return [where.folder / f"{where.stem}.partial-{partial}{ext}"]
    if count == 1:
        return [where.folder / f"{where.stem}{ext}"]
    return [where.folder / f"{where.stem}-{i}{ext}" for i in range(1, count + 1)]


def save(data: bytes, wanted: Path, *, force: bool = False) -> Path:
    """Write ``data`` at ``wanted`` (or the next free ``-N`` name); returns where."""
    with writing(wanted):
        wanted.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=wanted.parent, prefix=f".{wanted.name}.",
                                    suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes it 0600: an image is not
            if force:
                os.replace(temp, wanted)
                placed = wanted
            else:
                placed = _place(temp, wanted)
            _fsync_folder(wanted.parent)
            return placed
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)


def _place(temp: str, wanted: Path) -> Path:
    for number in range(1, 10000):
        candidate = wanted if number == 1 else \
            wanted.with_name(f"{wanted.stem}-{number}{wanted.suffix}")
        try:
            os.link(temp, candidate)
            return candidate
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                                 errno.EMLINK, errno.ENOSYS):
                raise
            if candidate.exists() or candidate.is_symlink():
                continue
            os.replace(temp, candidate)  # no links on this file system
            return candidate
    raise FileExistsError(errno.EEXIST, "every numbered name is taken", str(wanted))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform opens folders
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
