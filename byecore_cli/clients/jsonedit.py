"""Surgical edits of JSON and JSONC text: change one member, keep every other byte.

Loading a JSON file and dumping it again loses what people care about: a short array
kept on one line, the indentation they chose, ``//`` comments in JSONC files (Zed,
OpenCode, Droid). So byecore never re-dumps a client's file. It parses the text once
to find where each value sits, then splices new text in at those positions:

- ``set_value(text, ("env", "ANTHROPIC_BASE_URL"), url)`` replaces the value if the
  member exists, else inserts it (creating missing objects on the way), indented like
  its neighbours;
- ``delete(text, path)`` removes a member and the comma that went with it.

A member name may appear twice in one object. JavaScript's ``JSON.parse`` (Claude Code,
OpenCode, Droid) and Python's ``json`` keep the *last* one, so ``loads`` does too, and
``set_value`` edits that last copy: editing the first would change a value the client
never reads. ``delete`` removes every copy (else an earlier one would come back into
force), and ``duplicates`` lists the ignored copies so a writer can tell the user.

``loads`` returns the Python value (member order kept) and, unlike ``json.loads``,
reports errors with a line number for JSONC too. With ``comments=True``, ``//`` and
``/* */`` comments and trailing commas are accepted, as the JSONC clients accept them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

Path_ = tuple[str, ...]


class JsonSyntaxError(ValueError):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message} (line {line}, column {column})")
        self.problem, self.line, self.column = message, line, column


@dataclass
class Node:
    start: int
    end: int  # one past the last character of the value
    value: Any = None
    members: list[Member] = field(default_factory=list)  # objects only
    items: list[Node] = field(default_factory=list)  # arrays only: each item's span
    is_object: bool = False


@dataclass
class Member:
    key: str
    key_start: int
    value: Node


class _Parser:
    def __init__(self, text: str, comments: bool) -> None:
        self.text, self.comments, self.pos = text, comments, 0

    def fail(self, message: str, pos: int | None = None):
        pos = self.pos if pos is None else pos
        line = self.text.count("\n", 0, pos) + 1
        column = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        raise JsonSyntaxError(message, line, column)

    def skip(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            ch = text[self.pos]
            if ch in " \t\r\n\ufeff":
                self.pos += 1
            elif self.comments and text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end + 1
            elif self.comments and text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    self.fail("unclosed /* comment")
                self.pos = end + 2
            else:
                return

    def document(self) -> Node:
        self.skip()
        node = self.value()
        self.skip()
        if self.pos != len(self.text):
            self.fail("unexpected text after the end of the JSON value")
        return node

    def value(self) -> Node:
        if self.pos >= len(self.text):
            self.fail("unexpected end of file")
        ch = self.text[self.pos]
        if ch == "{":
            return self.object()
        if ch == "[":
            return self.array()
        return self.scalar()

    def object(self) -> Node:
        node = Node(self.pos, self.pos, {}, is_object=True)
        self.pos += 1
        self.skip()
        while True:
            if self.text.startswith("}", self.pos):
                self.pos += 1
                node.end = self.pos
                return node
            if not self.text.startswith('"', self.pos):
                self.fail("expected a quoted member name or '}'")
            key_start = self.pos
            key = self.scalar().value
            self.skip()
            if not self.text.startswith(":", self.pos):
                self.fail("expected ':' after the member name")
            self.pos += 1
            self.skip()
            child = self.value()
            node.members.append(Member(key, key_start, child))
            node.value[key] = child.value
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                self.skip()
                if self.text.startswith("}", self.pos) and not self.comments:
                    self.fail("trailing comma before '}'")
            elif not self.text.startswith("}", self.pos):
                self.fail("expected ',' or '}' after the member value")

    def array(self) -> Node:
        node = Node(self.pos, self.pos, [])
        self.pos += 1
        self.skip()
        while True:
            if self.text.startswith("]", self.pos):
                self.pos += 1
                node.end = self.pos
                return node
            item = self.value()
            node.items.append(item)
            node.value.append(item.value)
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                self.skip()
                if self.text.startswith("]", self.pos) and not self.comments:
                    self.fail("trailing comma before ']'")
            elif not self.text.startswith("]", self.pos):
                self.fail("expected ',' or ']' after the array item")

    def scalar(self) -> Node:
        start = self.pos
        try:
            value, end = _DECODER.raw_decode(self.text, start)
        except json.JSONDecodeError as exc:
            self.fail(exc.msg, exc.pos)
        if isinstance(value, (dict, list)):  # raw_decode parses these too; not here
            self.fail("unexpected value", start)
        self.pos = end
        return Node(start, end, value)


_DECODER = json.JSONDecoder()


def parse(text: str, *, comments: bool = False) -> Node:
    return _Parser(text, comments).document()


def loads(text: str, *, comments: bool = False) -> Any:
    return parse(text, comments=comments).value


def _indent_unit(text: str) -> str:
    units = []
    for line in text.splitlines():
        stripped = line.lstrip(" \t")
        if stripped and len(stripped) < len(line):
            lead = line[: len(line) - len(stripped)]
            if lead.startswith("\t"):
                return "\t"
            units.append(len(lead))
    return " " * (min(units) if units else 2)


def _line_indent(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    line = text[start:pos]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _render(value: Any, unit: str, indent: str, newline: str) -> str:
    out = json.dumps(value, indent=unit, ensure_ascii=False)
    return out.replace("\n", newline + indent)


def _find(root: Node, path: Path_) -> tuple[Node, int]:
    """The deepest existing object along ``path`` and how many path parts it covers."""
    node, depth = root, 0
    for part in path:
        if not node.is_object:
            break
        # the last copy of a duplicated name: the one JSON.parse keeps
        child = next((m.value for m in reversed(node.members) if m.key == part), None)
        if child is None:
            break
        node, depth = child, depth + 1
    return node, depth


def set_value(text: str, path: Path_, value: Any, *, comments: bool = False) -> str:
    """``text`` with the member at ``path`` set to ``value`` (created if missing)."""
    root = parse(text, comments=comments)
    if not root.is_object:
        raise JsonSyntaxError("the file's top level is not a JSON object", 1, 1)
    node, depth = _find(root, path)
    unit = _indent_unit(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    if depth == len(path):
        indent = _line_indent(text, node.start)
        return text[: node.start] + _render(value, unit, indent, newline) + text[node.end:]
    if not node.is_object:
        where = ".".join(path[:depth]) or "the top level"
        raise JsonSyntaxError(f"{where} is not a JSON object", 1, 1)
    for part in reversed(path[depth + 1:]):  # build the missing objects inside out
        value = {part: value}
    return _insert(text, node, path[depth], value, unit, newline)


def _insert(text: str, obj: Node, key: str, value: Any, unit: str, newline: str) -> str:
    key_text = json.dumps(key, ensure_ascii=False)
    if obj.members:
        last = obj.members[-1]
        first = obj.members[0]
        multiline = "\n" in text[obj.start: first.key_start]
        if multiline:
            indent = _line_indent(text, last.key_start)
            member = f"{key_text}: {_render(value, unit, indent, newline)}"
            addition = f",{newline}{indent}{member}"
        else:
            addition = f", {key_text}: {_render(value, unit, '', newline)}"
        return text[: last.value.end] + addition + text[last.value.end:]
    outer = _line_indent(text, obj.start)
    indent = outer + unit
    member = f"{key_text}: {_render(value, unit, indent, newline)}"
    inner = text[obj.start + 1: obj.end - 1]
    if inner.strip():  # only comments inside: keep them, add after the brace
        return text[: obj.start + 1] + f"{newline}{indent}{member}" + text[obj.start + 1:]
    return text[: obj.start + 1] + f"{newline}{indent}{member}{newline}{outer}" + text[obj.end - 1:]


def delete(text: str, path: Path_, *, comments: bool = False) -> str:
    """``text`` without the member at ``path`` (every copy of it); unchanged if none."""
    while True:
        shorter = _delete_one(text, path, comments)
        if shorter == text:
            return text
        text = shorter


def duplicates(text: str, *, comments: bool = False) -> list[tuple[Path_, int]]:
    """Each member the client ignores because a later one has the same name: its path
    and line, in file order."""
    found: list[tuple[Path_, int]] = []

    def walk(node: Node, path: Path_) -> None:
        for item in node.items:
            walk(item, path)
        last = {m.key: i for i, m in enumerate(node.members)}
        for i, member in enumerate(node.members):
            if last[member.key] != i:
                found.append(((*path, member.key), text.count("\n", 0, member.key_start) + 1))
            walk(member.value, (*path, member.key))

    walk(parse(text, comments=comments), ())
    return found


def _delete_one(text: str, path: Path_, comments: bool) -> str:
    root = parse(text, comments=comments)
    parent, depth = _find(root, path[:-1])
    if depth != len(path) - 1 or not parent.is_object:
        return text
    index = next((i for i in reversed(range(len(parent.members)))
                  if parent.members[i].key == path[-1]), None)
    if index is None:
        return text
    member = parent.members[index]
    if len(parent.members) == 1:
        return text[: parent.start + 1] + text[parent.end - 1:]
    if index + 1 < len(parent.members):
        start = _own_line_start(text, member.key_start)
        end = _own_line_start(text, parent.members[index + 1].key_start)
        if start == member.key_start or end == parent.members[index + 1].key_start:
            start, end = member.key_start, parent.members[index + 1].key_start
        return text[:start] + text[end:]
    previous = parent.members[index - 1]
    return text[: previous.value.end] + text[member.value.end:].removeprefix(",") \
        if _only_comma_between(text, previous.value.end, member.key_start) \
        else text[: member.key_start] + text[member.value.end:]


def _own_line_start(text: str, pos: int) -> int:
    """Where ``pos``'s line starts, if only whitespace precedes ``pos`` on it; else ``pos``."""
    start = text.rfind("\n", 0, pos) + 1
    return start if not text[start:pos].strip() else pos


def _only_comma_between(text: str, a: int, b: int) -> bool:
    return text[a:b].strip() == ","
