"""Surgical edits of YAML text: change what byecore owns, keep every other byte.

ruamel.yaml keeps comments when it round-trips a file, but it re-indents sequences to
one style and re-wraps flow lists, so dumping a user's whole ``.aider.conf.yml`` would
still change lines byecore has no business touching. So, as ``jsonedit`` does for JSON,
byecore only *parses* with ruamel (to learn the values and where they sit) and splices
new text in at those positions:

- ``set_top(text, key, value)`` sets a top-level scalar (replacing it in place, keeping
  a trailing ``# comment``) or appends ``key: value`` at the end;
- ``replace_items(text, key, ours, items)`` drops the items of the top-level block
  sequence ``key`` for which ``ours(item)`` is true and appends ``items`` after the
  user's, indented like them.

Every edit is checked by parsing the result: the keys byecore set must hold the new
values and every other top-level value must be unchanged. An edit that fails the check
(a multi-line scalar, say) raises ``Unparsable`` rather than guessing.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from typing import Any

from byecore_cli.clients.base import Unparsable


def _yaml(typ: str = "rt"):
    from ruamel.yaml import YAML

    y = YAML(typ=typ, pure=True)
    y.width = 4096  # never fold a long URL or key across lines
    return y


def load(text: str, role: str) -> Any:
    """The document (ruamel's comment-keeping map), or {} for an empty file."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        doc = _yaml().load(text) if text.strip() else None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise Unparsable(role, f"this is not valid YAML ({exc.problem or exc.context})",
                         mark.line + 1 if mark else None) from None
    except YAMLError as exc:
        raise Unparsable(role, f"this is not valid YAML ({exc})") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise Unparsable(role, "expected a YAML mapping (key: value lines) at the top level", 1)
    return doc


def scalar(value: Any) -> str:
    """``value`` as YAML scalar text: plain when that reads back the same, else quoted."""
    if not isinstance(value, str):
        return json.dumps(value)
    plain = re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_./:@+=~-]*", value) and ": " not in value
    if plain and _yaml("safe").load(f"k: {value}\n") == {"k": value}:
        return value
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML "…" string


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _scalar_end(line: str, col: int) -> int:
    """Where the scalar starting at ``col`` ends (before spaces and a # comment)."""
    rest = line[col:]
    if rest[:1] == '"':
        i = 1
        while i < len(rest) and rest[i] != '"':
            i += 2 if rest[i] == "\\" else 1
        return col + i + 1
    if rest[:1] == "'":
        i = 1
        while i < len(rest):
            if rest[i] == "'" and rest[i + 1: i + 2] != "'":
                break
            i += 2 if rest[i] == "'" else 1
        return col + i + 1
    comment = re.search(r"\s#", rest)
    body = rest[: comment.start()] if comment else rest
    return col + len(body.rstrip())


def set_top(text: str, key: str, value: Any, role: str) -> str:
    doc = load(text, role)
    if key in doc and doc[key] == value:
        return text
    nl = _newline(text)
    rendered = scalar(value)
    if key not in doc:
        out = text if not text or text.endswith("\n") else text + nl
        out += f"{key}: {rendered}{nl}"
    else:
        if isinstance(doc[key], (dict, list)):
            raise Unparsable(role, f"{key} holds a list or mapping; byecore expects one value")
        lines = text.splitlines(keepends=True)
        if doc[key] is None:  # "key:" with nothing after it
            line_no, key_col = doc.lc.key(key)
            line = lines[line_no]
            colon = line.index(":", key_col + len(key))
            lines[line_no] = line[: colon + 1] + " " + rendered + line[colon + 1:]
        else:
            line_no, col = doc.lc.value(key)
            line = lines[line_no]
            lines[line_no] = line[:col] + rendered + line[_scalar_end(line, col):]
        out = "".join(lines)
    _verify(doc, out, {key: value}, role)
    return out


def _verify(before: dict, text: str, wanted: dict[str, Any], role: str,
            items_key: str | None = None) -> None:
    after = load(text, role)
    for key in set(before) | set(after):
        if key in wanted:
            ok = after.get(key) == wanted[key]
        elif key == items_key:
            continue  # checked by the caller
        else:
            ok = key in after and key in before and after[key] == before[key]
        if not ok:
            raise Unparsable(role, f"byecore could not edit {next(iter(wanted))} without "
                                   "changing other settings (is its value spread over "
                                   "several lines?)")


def _is_blank_or_comment(line: str) -> bool:
    return not line.strip() or line.lstrip().startswith("#")


def dump_items(key: str, items: list[dict], dash_col: int, content_col: int,
                nl: str) -> str:
    y = _yaml()
    y.indent(mapping=2, sequence=content_col, offset=dash_col)
    buf = io.StringIO()
    y.dump({key: items}, buf)
    body = buf.getvalue().split("\n", 1)[1]  # drop the "key:" line
    return body.replace("\n", nl)


def replace_items(text: str, key: str, ours: Callable[[Any], bool], items: list[dict],
                  role: str, *, first: bool = False) -> str:
    """Drop byecore's items from the top-level list ``key``, then add ``items`` after
    the user's (``first``: before them; only for an absent, empty or [flow] list)."""
    doc = load(text, role)
    seq = doc.get(key)
    if seq is not None and not isinstance(seq, list):
        raise Unparsable(role, f"{key} is not a list")
    kept = [item for item in (seq or []) if not ours(item)]
    wanted = items + kept if first else kept + items
    if list(seq or []) == wanted:
        return text
    nl = _newline(text)
    lines = text.splitlines(keepends=True)
    if key not in doc:
        out = text if not text or text.endswith("\n") else text + nl
        out += f"{key}:{nl}" + dump_items(key, items, 2, 4, nl)
    elif not seq or seq.fa.flow_style():
        # "models: []" or a [flow] list: rewrite that key's lines as a block list,
        # keeping a comment after it on the key's line
        start = doc.lc.key(key)[0]
        end = _block_end(doc, key, lines)
        comment = _flow_comment(lines[start:end], key, role)
        block = f"{key}:{comment}{nl}" + dump_items(key, wanted, 2, 4, nl)
        out = "".join(lines[:start]) + block + "".join(lines[end:])
    else:
        starts = [seq.lc.item(i)[0] for i in range(len(seq))]
        ends = starts[1:] + [_block_end(doc, key, lines)]
        spans = []
        for start, end in zip(starts, ends, strict=True):
            while end > start + 1 and _is_blank_or_comment(lines[end - 1]):
                end -= 1  # comments after an item belong to what follows it
            spans.append((start, end))
        dash_col = len(lines[starts[0]]) - len(lines[starts[0]].lstrip(" "))
        content_col = seq.lc.item(0)[1]
        new_text = dump_items(key, items, dash_col, content_col, nl) if items else ""
        kept_ends = [e for (_, e), item in zip(spans, seq, strict=True) if not ours(item)]
        last_kept = max(kept_ends, default=doc.lc.key(key)[0] + 1)
        out_lines: list[str] = []
        for i, line in enumerate(lines):
            if i == last_kept:
                out_lines.append(new_text)
            if any(s <= i < e and ours(item) for (s, e), item in zip(spans, seq, strict=True)):
                continue
            out_lines.append(line)
        if last_kept >= len(lines):
            if out_lines and not out_lines[-1].endswith("\n"):
                out_lines[-1] += nl
            out_lines.append(new_text)
        out = "".join(out_lines)
    _verify(doc, out, {}, role, items_key=key)
    if list(load(out, role).get(key) or []) != (wanted if key in doc else items):
        raise Unparsable(role, f"byecore could not edit the {key} list safely")
    return out


def _flow_comment(lines: list[str], key: str, role: str) -> str:
    """The ``  # comment`` after a one-line or [flow] list, to keep on the key's line;
    comments inside a multi-line one would be lost, so that is refused."""
    comments = [(i, _comment_start(lines, i)) for i in range(len(lines))]
    comments = [(i, at) for i, at in comments if at is not None]
    if any(i != len(lines) - 1 for i, _ in comments):
        raise Unparsable(role, f"{key} is a [...] list with comments inside it, which "
                               "byecore would lose: write it as a block list (one "
                               '"- item" per line) and run setup again')
    if not comments:
        return ""
    last = lines[-1].rstrip("\r\n")
    at = comments[0][1]
    return last[len(last[:at].rstrip()):]


def _comment_start(lines: list[str], i: int) -> int | None:
    """Where a comment starts on ``lines[i]``: the first " #" whose removal leaves the
    value as it was (a "#" inside a quoted string is not one)."""
    from ruamel.yaml.error import YAMLError

    whole = _yaml("safe").load("".join(lines))
    for match in re.finditer(r"(?<=\s)#", lines[i]):
        cut = lines[: i] + [lines[i][: match.start()] + "\n"] + lines[i + 1:]
        try:
            if _yaml("safe").load("".join(cut)) == whole:
                return match.start()
        except YAMLError:  # the cut text is not YAML: that "#" is not a comment
            continue
    return None


def _block_end(doc: dict, key: str, lines: list[str]) -> int:
    """The line after the last line belonging to top-level ``key``."""
    keys = list(doc)
    after = keys[keys.index(key) + 1:]
    end = doc.lc.key(after[0])[0] if after else len(lines)
    while end > doc.lc.key(key)[0] + 1 and _is_blank_or_comment(lines[end - 1]):
        end -= 1
    return end
