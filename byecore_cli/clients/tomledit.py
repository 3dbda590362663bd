"""Surgical edits of TOML text: change the keys byecore owns, keep every other byte.

What it guarantees: text outside the spans byecore replaces comes back byte for byte
(comments, blank lines, table order, quoting, line endings), and ``only_changed`` lets
a caller refuse any edit whose re-parsed result differs from the original anywhere but
where it meant to change it.

Why not tomlkit for the whole file: its round trip moves tables that follow an
``[[array]]`` table (and their comments), and its parser takes minutes on a large file.
So, as ``jsonedit`` does for JSON, the file is only *scanned* here:

- ``statements(text, within)`` finds where each ``[header]`` and ``key = value`` sits
  (values may run over lines: strings, arrays and inline tables are stepped over);
- the caller decides what to change and hands ``splice`` a list of ``(start, end, new)``
  edits; ``top_insert``, ``table_edits`` and ``inline_edit`` build the usual ones;
- ``only_changed`` compares the result, parsed again with ``tomllib`` (the strict
  TOML 1.0 reader), with the original.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

try:  # the strict TOML 1.0 reader
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

Edit = tuple[int, int, str]  # replace text[start:end] with new

_KEY_PART = r'(?:"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|[A-Za-z0-9_-]+)'
_KEYVAL = re.compile(rf"[ \t]*({_KEY_PART}(?:[ \t]*\.[ \t]*{_KEY_PART})*)[ \t]*=[ \t]*")
_HEADER = re.compile(r"[ \t]*\[")
_PART = re.compile(rf"[ \t]*({_KEY_PART})[ \t]*(?:\.|$)")
# What can hide a line break, a bracket or a "#" from a line scanner: strings, comments.
_TOKEN = re.compile(r'"""(?:\\[\s\S]|[^\\])*?""""?"?|\'\'\'[\s\S]*?\'\'\'\'?\'?'
                    r'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*|[][{}\n]')


class InlineEditError(ValueError):
    """An inline table that could not be edited in place."""


@dataclass
class Statement:
    """One TOML statement: a [header], a key = value (maybe over lines), or neither."""

    start: int
    end: int  # after its line break
    body_end: int  # before a trailing comment and the spaces before it
    table: tuple[str, ...] = ()  # the table it is in (a header: the one it opens)
    header: bool = False
    aot: bool = False  # a [[header]]
    key: tuple[str, ...] | None = None  # a key = value's dotted key
    value_at: int = 0  # where its value starts

    def text(self, text: str) -> str:
        return text[self.start:self.end].strip()


def statements(text: str, within: Collection[str] = ()) -> list[Statement]:
    """Every header, and the statements at the top level and in tables whose first key
    is in ``within``: a large file's other statements are only stepped over."""
    stmts: list[Statement] = []
    start, depth, comment = 0, 0, None
    table: tuple[str, ...] = ()
    for match in _TOKEN.finditer(text):
        first = match.group()[0]
        if first == "\n" and depth == 0:
            if not table or table[0] in within or _HEADER.match(text, start):
                stmts.append(_statement(text, start, match.end(), comment, table))
                table = stmts[-1].table
            start, comment = match.end(), None
        elif first == "#" and depth == 0 and comment is None:
            comment = match.start()
        elif first in "[{":
            depth += 1
        elif first in "]}":
            depth = max(0, depth - 1)
    if start < len(text):
        stmts.append(_statement(text, start, len(text), comment, table))
    return stmts


def _statement(text: str, start: int, end: int, comment: int | None,
               table: tuple[str, ...]) -> Statement:
    body_end = comment if comment is not None else end
    while body_end > start and text[body_end - 1] in " \t\r\n":
        body_end -= 1
    stmt = Statement(start, end, body_end, table)
    body = text[start:body_end].strip()
    if body.startswith("["):
        stmt.header, stmt.aot = True, body.startswith("[[")
        stmt.table = key_path(body[2:-2] if stmt.aot else body[1:-1]) or ()
    elif body and not body.startswith("#"):
        match = _KEYVAL.match(text, start, body_end)
        if match:
            stmt.key, stmt.value_at = key_path(match.group(1)), match.end()
    return stmt


def key_path(text: str) -> tuple[str, ...] | None:
    """A dotted key's parts, unquoted (``a."b.c"`` -> ``("a", "b.c")``); None if it is
    not a key."""
    parts, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _PART.match(text, pos)
        if not match:
            return None
        part = match.group(1)
        if part[0] == "'" or (part[0] == '"' and "\\" not in part):
            part = part[1:-1]
        elif part[0] == '"':
            part = next(iter(tomllib.loads(part + " = 0")))  # escapes: let TOML read them
        parts.append(part)
        pos = match.end()
    return tuple(parts)


def render(value: Any) -> str:
    """A bool or a string (anything else as its str) as TOML value text."""
    if isinstance(value, bool):
        return json.dumps(value)
    import tomlkit

    return tomlkit.string(str(value)).as_string()


def newline(text: str) -> str:
    """The file's line ending, so inserted lines match it."""
    return "\r\n" if "\r\n" in text else "\n"


def splice(text: str, edits: Iterable[Edit]) -> str:
    """``text`` with each ``(start, end, new)`` applied; the spans must not overlap."""
    pieces, pos = [], 0
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1])):
        pieces += [text[pos:start], new]
        pos = end
    return "".join(pieces) + text[pos:]


def top_insert(text: str, root: list[Statement], lines: str, nl: str) -> Edit:
    """Insert top-level ``lines`` after the last top-level key; with none, after a
    leading comment block that is followed by a blank line (a file header), else first.
    ``root`` is the top-level statements before the first header."""
    keys = [s for s in root if s.key]
    if keys:
        at = keys[-1].end
        return at, at, ("" if text[:at].endswith("\n") else nl) + lines
    at = 0
    lead = 0
    while lead < len(root) and root[lead].text(text).startswith("#"):
        lead += 1
    if 0 < lead < len(root) and not root[lead].text(text):
        at = root[lead].end
    return at, at, lines + (nl if text[at:].strip() else "")


def table_block(table: tuple[str, ...], values: Mapping[str, Any], nl: str) -> str:
    """A new ``[table]`` with one ``key = value`` line per value."""
    return f"[{'.'.join(table)}]{nl}" + "".join(
        f"{k} = {render(v)}{nl}" for k, v in values.items())


def append(text: str, block: str, nl: str) -> Edit:
    """Add ``block`` at the end of the file, after one blank line."""
    sep = "" if not text.strip() else nl if text.endswith("\n") else nl + nl
    if text.endswith(("\n\n", "\n\r\n")):
        sep = ""
    return len(text), len(text), sep + block


def table_edits(text: str, stmts: list[Statement], at: int, owned: Iterable[str],
                current: Mapping[str, Any], wanted: Mapping[str, Any],
                nl: str) -> list[Edit]:
    """Edits that make the ``[table]`` opened by ``stmts[at]`` hold ``wanted`` for the
    ``owned`` keys: changed values replaced in place (a trailing comment kept), missing
    ones added after its last key, owned keys not in ``wanted`` removed. ``current`` is
    the table's parsed value."""
    section = []
    for stmt in stmts[at + 1:]:
        if stmt.header:
            break
        section.append(stmt)
    lines = {s.key: s for s in section if s.key}
    edits, new = [], ""
    for key in owned:
        line = lines.get((key,))
        if key in wanted and line is None:
            new += f"{key} = {render(wanted[key])}{nl}"
        elif key in wanted and current.get(key) != wanted[key]:
            edits.append((line.value_at, line.body_end, render(wanted[key])))
        elif key not in wanted and line is not None:
            edits.append((line.start, line.end, ""))
    if new:
        last = ([s for s in section if s.key] or [stmts[at]])[-1]
        edits.append((last.end, last.end, ("" if text[:last.end].endswith("\n") else nl) + new))
    return edits


def inline_edit(text: str, stmt: Statement, inner: tuple[str, ...], owned: Iterable[str],
                wanted: Mapping[str, Any]) -> Edit:
    """Edit the inline table ``inner`` under the key of ``stmt`` (a ``key = {...}``
    statement), keeping it inline and creating ``inner`` if needed. Only this one
    statement goes through tomlkit, which keeps the other entries as written. Raises
    ``InlineEditError`` when it cannot."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    body = text[stmt.start:stmt.body_end]
    indent = body[: len(body) - len(body.lstrip())]
    try:
        doc = tomlkit.parse(body.strip() + "\n")
        node: Any = doc
        for part in stmt.key or ():
            node = node[part]
        for part in inner:
            if part not in node:
                node[part] = tomlkit.inline_table()
            node = node[part]
        for key in owned:
            if key in wanted and node.get(key) != wanted[key]:
                node[key] = wanted[key]
            elif key not in wanted and key in node:
                del node[key]
        return stmt.start, stmt.body_end, indent + tomlkit.dumps(doc).strip()
    except (TOMLKitError, ValueError, TypeError, KeyError, AttributeError):
        raise InlineEditError(stmt.text(text)) from None


def only_changed(before: dict, after: dict, expected: Mapping[tuple[str, ...], Any]) -> bool:
    """Whether ``after`` (the edited text, parsed again) holds each ``expected`` path's
    value and otherwise equals ``before`` (a table that held only those paths counts as
    absent)."""
    for path, value in expected.items():
        node: Any = after
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if node != value:
            return False
    a, b = _without(after, expected), _without(before, expected)
    return a == b or repr(a) == repr(b)  # repr: a nan is not equal to itself


def _without(data: dict, paths: Iterable[tuple[str, ...]]) -> dict:
    """``data`` without ``paths``, and without tables that only held them. Only the
    tables on those paths are copied: ``data`` may be a cached parse, never mutated."""
    out = dict(data)
    for path in paths:
        trail = [out]
        for part in path[:-1]:
            child = trail[-1].get(part)
            if not isinstance(child, dict):
                break
            trail[-1][part] = child = dict(child)
            trail.append(child)
        else:
            trail[-1].pop(path[-1], None)
            for parent, part in zip(reversed(trail[:-1]), reversed(path[:-1]), strict=True):
                if parent[part]:
                    break
                del parent[part]
    return out
