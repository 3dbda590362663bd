"""tomledit: the text-level TOML scanner and splicer the Codex writer is built on."""

from __future__ import annotations

import math

import pytest

from byecore_cli.clients import tomledit
from byecore_cli.clients.tomledit import tomllib

SAMPLE = '''# my config
model = "gpt-5" # pinned
tags = [
  "a # not a comment",
  "b ]",
]

[model_providers.x]
name = "X"
base_url = "http://x/v1"  # keep me
extra = 1

[[servers]]
cmd = "run"
'''


def _by_key(stmts):
    return {s.table + (s.key or ()): s for s in stmts if s.key}


def test_statements_find_keys_headers_and_multiline_values():
    stmts = tomledit.statements(SAMPLE, within=("model_providers",))
    keys = _by_key(stmts)
    model = keys[("model",)]
    assert SAMPLE[model.value_at:model.body_end] == '"gpt-5"'  # the comment is not the value
    tags = keys[("tags",)]
    assert SAMPLE[tags.value_at:tags.body_end].endswith("]")  # one statement over lines
    assert ("model_providers", "x", "base_url") in keys
    headers = [(s.table, s.aot) for s in stmts if s.header]
    assert headers == [(("model_providers", "x"), False), (("servers",), True)]
    # a table outside `within` is stepped over: its keys are not listed
    assert ("servers", "cmd") not in keys


def test_statements_without_within_list_only_top_level_keys():
    keys = _by_key(tomledit.statements(SAMPLE))
    assert set(keys) == {("model",), ("tags",)}


@pytest.mark.parametrize(("text", "parts"), [
    ('a.b', ("a", "b")),
    ('a . "b.c"', ("a", "b.c")),
    ("'lit\\eral'.x", ("lit\\eral", "x")),
    ('"esc\\u0041"', ("escA",)),
    ('a..b', None),
])
def test_key_path(text, parts):
    assert tomledit.key_path(text) == parts


def test_render_reads_back_as_the_value():
    for value in ("plain", 'quo"te', "back\\slash", "line\nbreak", True, False):
        assert tomllib.loads(f"v = {tomledit.render(value)}")["v"] == value


def test_table_edits_replace_add_and_remove_owned_keys_only():
    stmts = tomledit.statements(SAMPLE, within=("model_providers",))
    at = next(i for i, s in enumerate(stmts) if s.table == ("model_providers", "x"))
    current = tomllib.loads(SAMPLE)["model_providers"]["x"]
    edits = tomledit.table_edits(SAMPLE, stmts, at, ("name", "base_url", "env_key"),
                                 current, {"base_url": "http://y/v1", "env_key": "K"}, "\n")
    out = tomledit.splice(SAMPLE, edits)
    assert 'base_url = "http://y/v1"  # keep me\n' in out  # in place, comment kept
    assert 'name = "X"' not in out  # owned and not wanted: removed
    assert 'extra = 1\nenv_key = "K"\n' in out  # added after the table's last key
    assert out.replace('base_url = "http://y/v1"', 'base_url = "http://x/v1"').replace(
        'env_key = "K"\n', "") == SAMPLE.replace('name = "X"\n', "")


def test_top_insert_goes_after_a_header_comment_block():
    text = "# header\n# more\n\n[t]\na = 1\n"
    root = [s for s in tomledit.statements(text) if not s.table and not s.header]
    out = tomledit.splice(text, [tomledit.top_insert(text, root, 'k = "v"\n', "\n")])
    assert out == '# header\n# more\n\nk = "v"\n\n[t]\na = 1\n'


def test_append_a_new_table_after_one_blank_line_keeping_crlf():
    text = "a = 1\r\n"
    nl = tomledit.newline(text)
    block = tomledit.table_block(("p", "q"), {"name": "n", "on": True}, nl)
    out = tomledit.splice(text, [tomledit.append(text, block, nl)])
    assert out == 'a = 1\r\n\r\n[p.q]\r\nname = "n"\r\non = true\r\n'


def test_inline_edit_keeps_other_entries_and_stays_inline():
    text = 'p = { other = { name = "o" }, mine = { name = "old", gone = 1 } }  # c\n'
    stmt = tomledit.statements(text)[0]
    edit = tomledit.inline_edit(text, stmt, ("mine",), ("name", "gone"), {"name": "new"})
    out = tomledit.splice(text, [edit])
    assert out.endswith("  # c\n") and out.count("\n") == 1
    assert tomllib.loads(out) == {"p": {"other": {"name": "o"}, "mine": {"name": "new"}}}


def test_inline_edit_refuses_what_it_cannot_edit():
    text = 'p = "not a table"\n'
    stmt = tomledit.statements(text)[0]
    with pytest.raises(tomledit.InlineEditError):
        tomledit.inline_edit(text, stmt, ("mine",), ("name",), {"name": "x"})


def test_only_changed_accepts_the_expected_change_and_nothing_else():
    before = {"a": 1, "t": {"x": 1}, "n": math.nan}
    expected = {("m",): "v", ("t", "x"): 2}
    assert tomledit.only_changed(before, {"a": 1, "t": {"x": 2}, "n": math.nan, "m": "v"},
                                 expected)
    assert not tomledit.only_changed(before, {"a": 2, "t": {"x": 2}, "n": math.nan,
                                              "m": "v"}, expected)
    assert not tomledit.only_changed(before, {"a": 1, "t": {"x": 3}, "n": math.nan,
                                              "m": "v"}, expected)
    assert before == {"a": 1, "t": {"x": 1}, "n": before["n"]}  # never mutated


def test_only_changed_treats_a_table_that_held_only_the_change_as_absent():
    expected = {("p", "ours"): {"k": 1}}
    assert tomledit.only_changed({}, {"p": {"ours": {"k": 1}}}, expected)
    assert tomledit.only_changed({"p": {}}, {"p": {"ours": {"k": 1}}}, expected)
    assert not tomledit.only_changed({"p": {"theirs": 1}}, {"p": {"ours": {"k": 1}}},
                                     expected)
