"""The span-preserving JSON/JSONC editor the writers share."""

from __future__ import annotations

import contextlib
import json
import random

import json5  # a dev dependency: the reference JSON5 parser, for the tests only
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


# -- JSON5 (OpenClaw's openclaw.json): json5 (PyPI) is the reference parser -----------

JSON5_SAMPLES = [
    "{a: 1, 'b': 'x\\ty', c: [0x1F, +.5, 5., -Infinity, 1e-3, 0,], $d_1: null, \"e\": true,}",
    "// lead\n{\n  /* block\n  */ name: 'it\\'s', // tail\n  list: [ 'a' , \"b\\\"\" ],\n}\n",
    "{'a\\\n b': 'x\\\ny', \\u0061b: '\\x41\\u0042\\c\\0', é: 'ü', _: [[], {}]}",
    "\ufeff{\u00a0a:\u2028-0x10\u2029,\u3000b: 'line\u2028sep'}",
    "[1, [2, [3, {x: {y: {z: 'deep'}}}]], '', \"\", -0, 0.0e+0]",
    "{a: 1, a: 2, nested: {k: 'first', k: 'last'}}",
    "{emoji: '\\ud83d\\ude00', plain: '😀'}",
    "'top-level string'",
    "{a: 12345678901234567890, b: 1.5E300, c: .0, d: 0X0f}",
]
JSON5_INVALID = ["{a: 01}", "{a: .e1}", "{a: '\\1'}", "{a: 1,,}", "{a: 1e}", "{a: tru}",
                 "{a: truex}", "{a: 1x}", "{a-b: 1}", "{a: 'x\ny'}", "[1,,]", "{,}",
                 "{a: 1 b: 2}", "/* open", "{a: 0x}", "{'a': 1", "{1a: 1}",
                 "{a: \"\\x4\"}", "{a: undefined}", "[1] [2]", "{a: --1}"]


def _same(ours, theirs) -> bool:
    """Equal, NaN included; json5 keeps a \\u surrogate pair as two characters."""
    if isinstance(theirs, float) and theirs != theirs:
        return isinstance(ours, float) and ours != ours
    if isinstance(theirs, str):
        with contextlib.suppress(UnicodeDecodeError):
            theirs = theirs.encode("utf-16", "surrogatepass").decode("utf-16")
        return ours == theirs
    if isinstance(theirs, dict):
        return (isinstance(ours, dict) and list(ours) == list(theirs)
                and all(_same(ours[k], theirs[k]) for k in theirs))
    if isinstance(theirs, list):
        return (isinstance(ours, list) and len(ours) == len(theirs)
                and all(_same(a, b) for a, b in zip(ours, theirs, strict=True)))
    return ours == theirs and type(ours) is type(theirs)


def _random_json5(rng, depth: int = 0) -> str:
    """A random JSON5 value written in a random mix of JSON5's spellings."""
    gap = rng.choice(["", " ", "\n  ", " /* c */ ", " // c\n", "\t"])
    kind = rng.choice("oa" if depth < 2 else "snlw")
    if kind == "o":
        names = [rng.choice(["a", "$b", "_c1", "'q k'", '"d\\"q"', "é", "\\u0078y"])
                 for _ in range(rng.randint(0, 4))]
        body = ",".join(f"{gap}{n}{gap}:{gap}{_random_json5(rng, depth + 1)}" for n in names)
        return "{" + body + rng.choice(["", ",", f",{gap}"] if names else [""]) + gap + "}"
    if kind == "a":
        items = [_random_json5(rng, depth + 1) for _ in range(rng.randint(0, 4))]
        return "[" + ",".join(gap + i for i in items) + (rng.choice(["", ","]) if items
                                                          else "") + gap + "]"
    if kind == "s":
        return rng.choice(["'it\\'s'", '"tab\\there"', "'\\x41\\u00e9\\0'", "'a\\\nb'",
                           "'\"'", '"\'"', "''", "'\\\\'", "'\\v\\f\\b'"])
    if kind == "n":
        return rng.choice(["0", "-0", "+1", ".5", "5.", "1e3", "-2.5E-2", "0xFF", "-0x1a",
                           "Infinity", "-Infinity", "NaN", "123456789"])
    return rng.choice(["null", "true", "false"])


@pytest.mark.parametrize("text", JSON5_SAMPLES)
def test_json5_parses_as_the_reference_parser_does(text):
    assert _same(jsonedit.loads(text, json5=True), json5.loads(text))


def test_json5_agrees_with_the_reference_on_many_random_documents():
    rng = random.Random(20261202)
    for _ in range(600):
        text = _random_json5(rng)
        assert _same(jsonedit.loads(text, json5=True), json5.loads(text)), text


@pytest.mark.parametrize("text", JSON5_INVALID)
def test_json5_refuses_what_the_reference_refuses_with_line_and_column(text):
    with pytest.raises(ValueError):
        json5.loads(text)
    with pytest.raises(jsonedit.JsonSyntaxError) as err:
        jsonedit.loads(text, json5=True)
    assert err.value.line >= 1 and err.value.column >= 1


def test_json5_errors_point_at_the_construct():
    with pytest.raises(jsonedit.JsonSyntaxError) as err:
        jsonedit.loads("{\n  ok: 1,\n  port: 01,\n}", json5=True)
    assert (err.value.line, err.value.column) == (3, 10) and "'1' after '0'" in str(err.value)


def test_json5_is_only_accepted_when_asked_for():
    with pytest.raises(jsonedit.JsonSyntaxError):
        jsonedit.loads("{a: 1}", comments=True)
    with pytest.raises(jsonedit.JsonSyntaxError):
        jsonedit.loads("{'a': 1}")


JSON5_FILE = """// user file
{
  gateway: { port: 0x4965, }, // hex
  models: {
    providers: {
      'mine': { baseUrl: 'http://h/v1', models: [ { id: 'm', name: 'M' }, ], },
    },
  },
}
"""


def test_json5_edits_keep_every_other_byte_and_write_names_like_the_file():
    out = jsonedit.set_value(JSON5_FILE, ("models", "providers", "byecore"),
                             {"baseUrl": "http://127.0.0.1:4000/v1", "my-key": 1}, json5=True)
    assert out.startswith(JSON5_FILE.split("    },\n  },\n}")[0])
    assert "      byecore: {\n        baseUrl: " in out and '"my-key": 1' in out
    value = json5.loads(out)
    assert value["models"]["providers"]["byecore"]["baseUrl"] == "http://127.0.0.1:4000/v1"
    assert value["gateway"] == {"port": 0x4965}
    back = jsonedit.delete(out, ("models", "providers", "byecore"), json5=True)
    assert json5.loads(back) == json5.loads(JSON5_FILE)
    assert jsonedit.set_value(JSON5_FILE, ("gateway", "port"), 18789, json5=True) == (
        JSON5_FILE.replace("0x4965", "18789"))


def test_json5_with_quoted_names_gets_quoted_names():
    out = jsonedit.set_value('{\n  "a": {"b": 1}\n}\n', ("c",), {"d": 2}, json5=True)
    assert out == '{\n  "a": {"b": 1},\n  "c": {\n    "d": 2\n  }\n}\n'
