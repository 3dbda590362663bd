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

With ``json5=True`` the whole of JSON5 (json5.org, the grammar of the ``json5`` npm
package that OpenClaw reads its config with) is accepted, and edits keep its syntax
around them: unquoted member names, single-quoted strings with any escape, hex,
``+1``, ``.5``, ``5.``, ``Infinity`` and ``NaN`` (as Python floats), comments, trailing
commas and Unicode whitespace. A member byecore inserts is written with an unquoted
name when its neighbours' names are unquoted, so it reads like the rest of the file.
"""

from __future__ import annotations

import json
import re
import unicodedata
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
    def __init__(self, text: str, comments: bool, json5: bool = False) -> None:
        self.text, self.json5, self.pos = text, json5, 0
        self.comments = comments or json5

    def fail(self, message: str, pos: int | None = None):
        pos = self.pos if pos is None else pos
        line = self.text.count("\n", 0, pos) + 1
        column = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        raise JsonSyntaxError(message, line, column)

    def skip(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            ch = text[self.pos]
            if ch in " \t\r\n\ufeff" or (self.json5 and _json5_space(ch)):
                self.pos += 1
            elif self.comments and text.startswith("//", self.pos):
                end = self.pos + 2
                stops = "\n\r\u2028\u2029" if self.json5 else "\n"
                while end < n and text[end] not in stops:
                    end += 1
                self.pos = min(end + 1, n)
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
            key_start = self.pos
            if self.json5:
                key = self.json5_name()
            elif self.text.startswith('"', self.pos):
                key = self.scalar().value
            else:
                self.fail("expected a quoted member name or '}'")
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
        if self.json5:
            return self.json5_scalar()
        start = self.pos
        try:
            value, end = _DECODER.raw_decode(self.text, start)
        except json.JSONDecodeError as exc:
            self.fail(exc.msg, exc.pos)
        if isinstance(value, (dict, list)):  # raw_decode parses these too; not here
            self.fail("unexpected value", start)
        self.pos = end
        return Node(start, end, value)


    # -- JSON5 (json5=True): names, strings, numbers and words as json5.org has them --

    def json5_name(self) -> str:
        if self.pos < len(self.text) and self.text[self.pos] in "\"'":
            return self.json5_string()
        name: list[str] = []
        while self.pos < len(self.text):
            ch, at = self.text[self.pos], self.pos
            if ch == "\\":
                if not self.text.startswith("\\u", at):
                    self.fail("only \\u escapes may appear in a member name")
                self.pos += 2
                ch = self.hex_digits(4)
                if not _name_char(ch, first=not name):
                    self.fail(f"{ch!r} cannot appear in an unquoted member name", at)
            elif _name_char(ch, first=not name):
                self.pos += 1
            else:
                break
            name.append(ch)
        if not name:
            self.fail("expected a member name or '}'")
        return "".join(name)

    def json5_string(self) -> str:
        text, quote = self.text, self.text[self.pos]
        self.pos += 1
        out: list[str] = []
        while True:
            run = _PLAIN_DOUBLE if quote == '"' else _PLAIN_SINGLE
            match = run.match(text, self.pos)
            if match:
                out.append(match.group())
                self.pos = match.end()
            if self.pos >= len(text):
                self.fail("unterminated string")
            ch = text[self.pos]
            if ch == quote:
                self.pos += 1
                return _join_surrogates("".join(out))
            if ch in "\n\r":
                self.fail("a line break inside a string (end the line with \\ to go on)")
            self.pos += 1
            out.append(self.escape())

    def escape(self) -> str:
        if self.pos >= len(self.text):
            self.fail("unterminated string")
        ch = self.text[self.pos]
        self.pos += 1
        if ch in _ESCAPES:
            return _ESCAPES[ch]
        if ch == "0":
            if self.text[self.pos:self.pos + 1].isdigit():
                self.fail("octal escapes are not JSON5", self.pos - 2)
            return "\0"
        if ch.isdigit():
            self.fail(f"\\{ch} is not a JSON5 escape", self.pos - 2)
        if ch in "xu":
            return self.hex_digits(2 if ch == "x" else 4)
        if ch == "\r":  # a line continuation, \r\n included
            if self.text.startswith("\n", self.pos):
                self.pos += 1
            return ""
        if ch in "\n\u2028\u2029":
            return ""
        return ch  # any other character escapes to itself

    def hex_digits(self, count: int) -> str:
        digits = self.text[self.pos:self.pos + count]
        if len(digits) != count or any(c not in "0123456789abcdefABCDEF" for c in digits):
            self.fail(f"expected {count} hex digits")
        self.pos += count
        return chr(int(digits, 16))

    def json5_scalar(self) -> Node:
        start, text = self.pos, self.text
        if text[start] in "\"'":
            value: Any = self.json5_string()
        elif match := _WORD.match(text, start) or _NUMBER.match(text, start):
            self.pos = match.end()
            if self.pos < len(text) and (_name_char(text[self.pos], first=False)
                                         or text[self.pos] == "."):
                self.fail(f"unexpected {text[self.pos]!r} after {match.group()!r}")
            value = _json5_number(match.group())
        else:
            self.fail(f"unexpected {text[start]!r}: not a JSON5 value")
        return Node(start, self.pos, value)


_DECODER = json.JSONDecoder()

_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "'": "'",
            '"': '"', "\\": "\\"}
_PLAIN_DOUBLE = re.compile(r'[^"\\\n\r]+')
_PLAIN_SINGLE = re.compile(r"[^'\\\n\r]+")
_WORD = re.compile(r"null|true|false")
_NUMBER = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F]+|Infinity|NaN"
                     r"|(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_WORDS = {"null": None, "true": True, "false": False}
_BARE_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")


def _json5_space(ch: str) -> bool:
    return ch in "\v\f\u00a0\u2028\u2029" or unicodedata.category(ch) == "Zs"


def _name_char(ch: str, *, first: bool) -> bool:
    """ECMAScript 5.1's IdentifierStart / IdentifierPart, which JSON5 member names use."""
    if ch in "$_":
        return True
    kind = unicodedata.category(ch)
    if kind in ("Lu", "Ll", "Lt", "Lm", "Lo", "Nl"):
        return True
    return not first and (kind in ("Mn", "Mc", "Nd", "Pc") or ch in "\u200c\u200d")


def _json5_number(token: str) -> Any:
    if token in _WORDS:
        return _WORDS[token]
    sign = -1 if token.startswith("-") else 1
    bare = token.lstrip("+-")
    if bare == "Infinity":
        return sign * float("inf")
    if bare == "NaN":
        return float("nan")
    if bare[:2] in ("0x", "0X"):
        return sign * int(bare, 16)
    if "." in bare or "e" in bare or "E" in bare:
        return sign * float(bare)
    return sign * int(bare)


def _join_surrogates(text: str) -> str:
    """``\\ud83d\\ude00`` is one character in JavaScript; make it one in Python too."""
    if not any("\ud800" <= ch <= "\udfff" for ch in text):
        return text
    try:
        return text.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:  # a lone surrogate stays as JavaScript keeps it
        return text


def parse(text: str, *, comments: bool = False, json5: bool = False) -> Node:
    return _Parser(text, comments, json5).document()


def loads(text: str, *, comments: bool = False, json5: bool = False) -> Any:
    return parse(text, comments=comments, json5=json5).value


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


def _render(value: Any, unit: str, indent: str, newline: str, bare: bool = False) -> str:
    out = _dump_bare(value, unit, "") if bare else json.dumps(value, indent=unit,
                                                             ensure_ascii=False)
    return out.replace("\n", newline + indent)


def _key_text(key: str, bare: bool) -> str:
    return key if bare and _BARE_NAME.match(key) else json.dumps(key, ensure_ascii=False)


def _dump_bare(value: Any, unit: str, indent: str) -> str:
    """``json.dumps(value, indent=unit)``, with JSON5's unquoted names where they fit."""
    inner = indent + unit
    if isinstance(value, dict) and value:
        members = [f"{inner}{_key_text(k, True)}: {_dump_bare(v, unit, inner)}"
                   for k, v in value.items()]
        return "{\n" + ",\n".join(members) + f"\n{indent}}}"
    if isinstance(value, list) and value:
        items = [inner + _dump_bare(v, unit, inner) for v in value]
        return "[\n" + ",\n".join(items) + f"\n{indent}]"
    return json.dumps(value, ensure_ascii=False)


def _prefers_bare(text: str, root: Node, json5: bool) -> bool:
    """A JSON5 file whose member names are mostly unquoted gets unquoted ones from us."""
    if not json5:
        return False
    bare = quoted = 0
    stack = [root]
    while stack:
        node = stack.pop()
        stack.extend(node.items)
        for member in node.members:
            if text[member.key_start] in "\"'":
                quoted += 1
            else:
                bare += 1
            stack.append(member.value)
    return bare > quoted


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


def set_value(text: str, path: Path_, value: Any, *, comments: bool = False,
              json5: bool = False) -> str:
    """``text`` with the member at ``path`` set to ``value`` (created if missing)."""
    root = parse(text, comments=comments, json5=json5)
    if not root.is_object:
        raise JsonSyntaxError("the file's top level is not a JSON object", 1, 1)
    node, depth = _find(root, path)
    unit = _indent_unit(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    bare = _prefers_bare(text, root, json5)
    if depth == len(path):
        indent = _line_indent(text, node.start)
        return (text[: node.start] + _render(value, unit, indent, newline, bare)
                + text[node.end:])
    if not node.is_object:
        where = ".".join(path[:depth]) or "the top level"
        raise JsonSyntaxError(f"{where} is not a JSON object", 1, 1)
    for part in reversed(path[depth + 1:]):  # build the missing objects inside out
        value = {part: value}
    return _insert(text, node, path[depth], value, unit, newline, bare)


def _insert(text: str, obj: Node, key: str, value: Any, unit: str, newline: str,
            bare: bool) -> str:
    key_text = _key_text(key, bare)
    if obj.members:
        last = obj.members[-1]
        first = obj.members[0]
        multiline = "\n" in text[obj.start: first.key_start]
        if multiline:
            indent = _line_indent(text, last.key_start)
            member = f"{key_text}: {_render(value, unit, indent, newline, bare)}"
            addition = f",{newline}{indent}{member}"
        else:
            addition = f", {key_text}: {_render(value, unit, '', newline, bare)}"
        return text[: last.value.end] + addition + text[last.value.end:]
    outer = _line_indent(text, obj.start)
    indent = outer + unit
    member = f"{key_text}: {_render(value, unit, indent, newline, bare)}"
    inner = text[obj.start + 1: obj.end - 1]
    if inner.strip():  # only comments inside: keep them, add after the brace
        return text[: obj.start + 1] + f"{newline}{indent}{member}" + text[obj.start + 1:]
    return text[: obj.start + 1] + f"{newline}{indent}{member}{newline}{outer}" + text[obj.end - 1:]


def delete(text: str, path: Path_, *, comments: bool = False, json5: bool = False) -> str:
    """``text`` without the member at ``path`` (every copy of it); unchanged if none."""
    while True:
        shorter = _delete_one(text, path, comments, json5)
        if shorter == text:
            return text
        text = shorter


def duplicates(text: str, *, comments: bool = False,
               json5: bool = False) -> list[tuple[Path_, int]]:
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

    walk(parse(text, comments=comments, json5=json5), ())
    return found


def _delete_one(text: str, path: Path_, comments: bool, json5: bool) -> str:
    root = parse(text, comments=comments, json5=json5)
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
