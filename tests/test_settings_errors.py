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


def test_a_password_in_a_base_url_is_refused_by_name_and_never_echoed(cli, byecore_home):
    byecore_home.mkdir()
    path = byecore_home / "settings.toml"
    path.write_text(GOOD.replace("https://a.test", "https://me:hunter2@a.test"))
    for argv in (("provider", "list"), ("proxy", "--check-config")):
        result = cli(*argv)
        assert result.exit_code == 1, result.stdout
        assert f"{path}, line 5: providers.a.base_url" in result.stderr
        assert "key" in result.stderr and "user name or password" in result.stderr
        assert "hunter2" not in result.stderr + result.stdout
        assert "Traceback" not in result.stderr + result.stdout


def test_provider_add_refuses_a_password_in_the_url_without_a_traceback(cli):
    result = cli("provider", "add", "gw", "--base-url", "https://me:hunter2@gw.test",
                 "--key", "sk-test-0123456789")
    assert result.exit_code == 2
    assert "'gw'" in result.stderr and "--key" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    assert cli("provider", "list", "--json").stdout.count('"name"') == 0


def test_first_byte_leaves_a_fallback_time_before_the_clients_give_up():
    """The official SDKs wait DEFAULT_TIMEOUT (600 s) for an answer, as does Claude Code:
    a fallback must fire in time for the next target to get as long again."""
    from anthropic._constants import DEFAULT_TIMEOUT as ANTHROPIC_SDK
    from openai._constants import DEFAULT_TIMEOUT as OPENAI_SDK

    from byecore_cli.config.models import ProxyTimeouts

    waits = ProxyTimeouts()
    for sdk in (OPENAI_SDK, ANTHROPIC_SDK):
        assert 2 * waits.first_byte <= sdk.read
        assert waits.connect < waits.first_byte  # a dead host is left before a slow one
