"""On a terminal with no key option, ``provider add`` asks for the key without echoing it."""

from __future__ import annotations

import os

import tomlkit

from tests.terminal import run_in_pty


def test_hidden_prompt_stores_the_trimmed_key(byecore_home):
    env = {**os.environ, "BYECORE_HOME": str(byecore_home), "NO_COLOR": "1"}
    code, screen = run_in_pty(["provider", "add", "byecore"],
                              [(b"API key", b"  sk-typed-secret-0123456789  \r")], env)
    assert code == 0, screen.decode(errors="replace")
    assert b"sk-typed-secret" not in screen, "the key must not be echoed or printed"
    stored = tomlkit.parse((byecore_home / "settings.toml").read_text()).unwrap()
    assert stored["providers"]["byecore"]["key"] == "sk-typed-secret-0123456789"
