"""Without --yes on a terminal, setup shows the diff and asks before writing."""

from __future__ import annotations

import os

from tests.terminal import run_in_pty


def _env(home) -> dict[str, str]:
    return {**os.environ, "BYECORE_HOME": os.environ["BYECORE_HOME"], "HOME": str(home),
            "NO_COLOR": "1", "COLUMNS": "120"}


def test_answering_no_writes_nothing(gateway, home):
    code, screen = run_in_pty(["setup", "codex"], [(b"Write these changes", b"n\r")],
                              _env(home))
    assert code == 1, screen.decode(errors="replace")
    assert b"model_provider" in screen, "the diff is shown before the question"
    assert not (home / ".codex" / "config.toml").exists()


def test_answering_yes_writes(gateway, home):
    code, screen = run_in_pty(["setup", "claude"], [(b"Write these changes", b"y\r")],
                              _env(home))
    assert code == 0, screen.decode(errors="replace")
    assert (home / ".claude" / "settings.json").exists()
    assert b"sk-gw-0123456789abcdefSECRET" not in screen, "the diff masks the key"


def test_hand_edits_need_a_second_yes(cli, gateway, home):
    assert cli("setup", "claude", "--yes").exit_code == 0
    path = home / ".claude" / "settings.json"
    path.write_text(path.read_text().replace('"ANTHROPIC_MODEL": "gpt-5.4"',
                                              '"ANTHROPIC_MODEL": "mine"'))
    code, screen = run_in_pty(["setup", "claude", "--model", "claude-haiku-5-5"],
                              [(b"Replace these", b"n\r")], _env(home))
    assert code == 1 and b"changed by hand" in screen
    assert '"ANTHROPIC_MODEL": "mine"' in path.read_text()
