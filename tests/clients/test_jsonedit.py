"""The span-preserving JSON/JSONC editor the writers share."""

from __future__ import annotations

import json

import pytest

from byecore_cli.clients import jsonedit

JSONC = """{
  // my editor settings
  "theme": "One Dark", /* keep */
  "language_models": {
    "openai": {"api_url": "https://api.openai.com/v1"},
  },
}
"""


def test_set_inserts_next_to_siblings_and_keeps_comments():
    out = jsonedit.set_value(JSONC, ("language_models", "openai_compatible", "byecore"),
                             {"api_url": "http://127.0.0.1:4000/v1"}, comments=True)
    assert "// my editor settings" in out and "/* keep */" in out
    assert '"openai": {"api_url": "https://api.openai.com/v1"},' in out
    value = jsonedit.loads(out, comments=True)
    assert value["language_models"]["openai_compatible"]["byecore"]["api_url"] == (
        "http://127.0.0.1:4000/v1")
    assert list(value["language_models"]) == ["openai", "openai_compatible"]


def test_replace_changes_only_the_value():
    text = '{\n\t"a": [1,2],\n\t"b": "old"\n}\n'
    assert jsonedit.set_value(text, ("b",), "new") == '{\n\t"a": [1,2],\n\t"b": "new"\n}\n'


def test_insert_into_empty_and_inline_objects():
    assert json.loads(jsonedit.set_value("{}", ("x", "y"), 1)) == {"x": {"y": 1}}
    assert jsonedit.set_value('{"a": 1}', ("b",), 2) == '{"a": 1, "b": 2}'


@pytest.mark.parametrize("key,expected", [
    ("a", '{\n  "b": 2,\n  "c": 3\n}'),
    ("b", '{\n  "a": 1,\n  "c": 3\n}'),
    ("c", '{\n  "a": 1,\n  "b": 2\n}'),
    ("zz", '{\n  "a": 1,\n  "b": 2,\n  "c": 3\n}'),
])
def test_delete_takes_the_comma_with_it(key, expected):
    text = '{\n  "a": 1,\n  "b": 2,\n  "c": 3\n}'
    assert jsonedit.delete(text, (key,)) == expected


def test_errors_name_the_line():
    with pytest.raises(jsonedit.JsonSyntaxError) as err:
        jsonedit.loads('{\n  "a": 1,\n  "b" 2\n}')
    assert err.value.line == 3
    with pytest.raises(jsonedit.JsonSyntaxError):
        jsonedit.loads(JSONC)  # comments only with comments=True


def test_array_items_carry_their_spans():
    text = '{"a": [1, {"b": 2} /* c */, "x"]}'
    array = jsonedit.parse(text, comments=True).members[0].value
    assert [text[i.start:i.end] for i in array.items] == ["1", '{"b": 2}', '"x"']
    assert array.value == [1, {"b": 2}, "x"]


# Claude Code (Node) reads a duplicated member name as JSON.parse does: the last copy
# wins (checked with node: JSON.parse('{"env":{"A":1},"env":{"B":2}}') -> {"env":{"B":2}}).
DUPLICATE_ENV = '{\n  "env": {"A": "old"},\n  "model": "opus",\n  "env": {"A": "live"}\n}\n'


def test_a_duplicated_name_reads_and_edits_the_last_copy_like_json_parse():
    assert jsonedit.loads(DUPLICATE_ENV)["env"] == {"A": "live"}
    assert json.loads(DUPLICATE_ENV)["env"] == {"A": "live"}  # Python agrees with Node
    out = jsonedit.set_value(DUPLICATE_ENV, ("env", "B"), "new")
    assert json.loads(out)["env"] == {"A": "live", "B": "new"}
    assert '"env": {"A": "old"},' in out  # the ignored copy is left as it was
    out = jsonedit.set_value(DUPLICATE_ENV, ("env", "A"), "x")
    assert json.loads(out)["env"] == {"A": "x"}


def test_delete_removes_every_copy_so_none_comes_back():
    text = '{\n  "a": 1,\n  "b": 2,\n  "a": 3\n}'
    out = jsonedit.delete(text, ("a",))
    assert json.loads(out) == {"b": 2}


def test_duplicates_lists_the_ignored_copies_with_their_lines():
    assert jsonedit.duplicates(DUPLICATE_ENV) == [(("env",), 2)]
    nested = '{"env": {"K": 1, "K": 2}, "x": [{"y": 1, "y": 2}]}'
    assert jsonedit.duplicates(nested) == [(("env", "K"), 1), (("x", "y"), 1)]
    assert jsonedit.duplicates('{"a": {"a": 1}}') == []
