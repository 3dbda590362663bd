"""A hand-broken settings file: every command names the file and line, and no traceback."""

from __future__ import annotations

import json

import pytest

COMMANDS = [
    ("provider", "list"),
    ("provider", "show", "a"),
    ("provider", "add", "b", "--base-url", "https://b.test", "--key", "k"),
    ("provider", "remove", "a"),
    ("provider", "default", "a"),
    ("models",),
]

GOOD = '''# my settings
default_provider = "a"

[providers.a]
base_url = "https://a.test"
protocols = ["chat"]
key = "k"
'''

BROKEN = {
    # (file text, line expected in the message, words expected)
    "toml syntax": (GOOD.replace('"https://a.test"', '"https://a.test'), 5, "TOML"),
    "unknown protocol": (GOOD.replace('["chat"]', '["chat", "grpc"]'), 6, "protocols[1]"),
    "misspelt key": (GOOD.replace("base_url", "base_ulr"), 5, "did you mean 'base_url'"),
    "bad url": (GOOD.replace("https://a.test", "ftp://a.test"), 5, "base_url"),
    "default missing": (GOOD.replace('default_provider = "a"', 'default_provider = "zz"'),
                        2, "default_provider"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_broken_file_is_reported_with_file_and_line(cli, byecore_home, case, argv):
    text, line, words = BROKEN[case]
    byecore_home.mkdir()
    path = byecore_home / "settings.toml"
    path.write_text(text)

    result = cli(*argv)
    assert result.exit_code == 1
    assert f"{path}, line {line}" in result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert path.read_text() == text  # never rewritten

    body = json.loads(cli(*argv, "--json").stdout)
    assert body["ok"] is False
    assert body["error"]["code"] == "config" and body["error"]["line"] == line
    assert body["error"]["path"] == str(path)


def test_error_about_a_key_never_echoes_it(cli, byecore_home):
    byecore_home.mkdir()
    (byecore_home / "settings.toml").write_text(
        GOOD.replace('key = "k"', 'key = "sk-secret value"'))
    result = cli("provider", "list")
    assert result.exit_code == 1 and "providers.a.key" in result.stderr
    assert "sk-secret" not in result.stderr


@pytest.mark.parametrize("text, suggestion", [
    ('[proxy]\nprot = 4001\n', "did you mean 'port'"),
    ('[proxy.timeouts]\nidel = 5\n', "did you mean 'idle'"),
    (GOOD.replace("default_model", "defualt_model").replace('key = "k"',
                                                           'key = "k"\ndefualt_model = "m"'),
     "did you mean 'default_model'"),
])
def test_misspellings_are_matched_against_their_own_table(cli, byecore_home, text, suggestion):
    byecore_home.mkdir()
    (byecore_home / "settings.toml").write_text(text)
    result = cli("provider", "list")
    assert result.exit_code == 1 and suggestion in result.stderr
