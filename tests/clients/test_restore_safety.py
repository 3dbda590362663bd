"""Restore never silently throws away later changes; backups are pruned; writes that the
system refuses are clear errors that leave everything as it was."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.clients.conftest import FIXTURES, KEY, place, snapshot
from tests.terminal import run_in_pty

LOGIN = (FIXTURES / "codex-auth-chatgpt.json").read_bytes()
REFRESH_TOKEN = json.loads(LOGIN)["tokens"]["refresh_token"]


def _codex_login(home: Path) -> Path:
    """What ``codex login`` does after byecore's write: a ChatGPT login in auth.json."""
    auth = home / ".codex" / "auth.json"
    auth.write_bytes(LOGIN)
    auth.chmod(0o600)
    return auth


def _claude_rewrites_its_settings(home: Path) -> Path:
    """Claude Code saving its own state into settings.json, re-serialised."""
    path = home / ".claude" / "settings.json"
    data = json.loads(path.read_text())
    data["feedbackSurveyState"] = {"lastShownTime": 1764600000}
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def _env(home) -> dict[str, str]:
    return {**os.environ, "HOME": str(home), "NO_COLOR": "1", "COLUMNS": "120"}


# ---- restore asks before throwing later changes away --------------------------------------


def test_restore_refuses_in_json_mode_and_lists_what_would_be_lost(run, gateway, home):
    place("codex-config.toml", home / ".codex" / "config.toml")
    original = snapshot(home)
    assert run("setup", "codex")[0] == 0
    auth = _codex_login(home)
    before = snapshot(home)

    code, body = run("restore", "codex")
    assert code == 1
    error = body["error"]
    assert error["code"] == "would_discard" and "--force" in error["hint"]
    assert str(auth) in error["message"]
    lost = {d["path"]: d["diff"] for d in error["discards"]}
    assert str(auth) in lost and "refresh_token" in lost[str(auth)]
    assert REFRESH_TOKEN not in json.dumps(body) and KEY not in json.dumps(body), "masked"
    assert snapshot(home) == before, "nothing restored"
    assert len(run("restore", "codex", "--list")[1]["data"]["backups"]) == 1, "no new backup"

    code, body = run("restore", "codex", "--force")
    assert code == 0, body
    assert body["data"]["discarded"] == [str(auth)]
    assert snapshot(home) == original
    safety = body["data"]["safety_backup"]
    # the login is in the safety backup, and putting it back asks nothing: the files are
    # exactly what the restore left
    code, body = run("restore", "codex", "--to", safety)
    assert code == 0, body
    assert auth.read_bytes() == LOGIN


def test_without_a_terminal_restore_shows_the_diff_and_refuses(cli, run, gateway, home):
    place("claude-settings.json", home / ".claude" / "settings.json")
    assert run("setup", "claude")[0] == 0
    path = _claude_rewrites_its_settings(home)
    rewritten = path.read_bytes()

    result = cli("restore", "claude")
    assert result.exit_code == 1
    assert "feedbackSurveyState" in result.stderr, "what would be lost is shown"
    assert "--force" in result.stderr
    assert KEY not in result.stderr + result.stdout
    assert path.read_bytes() == rewritten

    result = cli("restore", "claude", "--yes")
    assert result.exit_code == 0, result.output
    assert b"feedbackSurveyState" not in path.read_bytes()
    assert path.read_bytes() == (FIXTURES / "claude-settings.json").read_bytes()


def test_a_hand_edit_of_byecore_keys_is_named(run, gateway, home):
    assert run("setup", "claude")[0] == 0
    path = home / ".claude" / "settings.json"
    path.write_text(path.read_text().replace('"ANTHROPIC_MODEL": "gpt-5.4"',
                                              '"ANTHROPIC_MODEL": "mine"'))
    code, body = run("restore", "claude")
    assert code == 1
    assert {"key": "env.ANTHROPIC_MODEL", "wrote": "gpt-5.4", "now": "mine"} in \
        body["error"]["edits"]


@pytest.mark.parametrize(("answer", "restored"), [(b"n\r", False), (b"y\r", True)])
def test_on_a_terminal_restore_asks(answer, restored, cli, gateway, home):
    place("claude-settings.json", home / ".claude" / "settings.json")
    assert cli("setup", "claude", "--yes").exit_code == 0
    path = _claude_rewrites_its_settings(home)
    code, screen = run_in_pty(["restore", "claude"], [(b"throw these changes away", answer)],
                              _env(home))
    text = screen.decode(errors="replace")
    assert b"feedbackSurveyState" in screen, text
    assert KEY.encode() not in screen
    assert code == (0 if restored else 1), text
    assert (b"feedbackSurveyState" in path.read_bytes()) is not restored


def test_restore_after_restore_still_notices_later_changes(run, gateway, home):
    place("claude-settings.json", home / ".claude" / "settings.json")
    assert run("setup", "claude")[0] == 0
    code, body = run("restore", "claude")
    assert code == 0
    _claude_rewrites_its_settings(home)  # Claude Code runs on the restored file
    code, body = run("restore", "claude", "--to", body["data"]["safety_backup"])
    assert code == 1 and body["error"]["code"] == "would_discard"


# ---- the backup list ---------------------------------------------------------------------


def test_list_shows_whole_ids_on_a_narrow_terminal(cli, run, gateway, home, monkeypatch):
    assert run("setup", "codex")[0] == 0
    assert run("setup", "codex", "--model", "claude-haiku-5-5")[0] == 0
    ids = [b["id"] for b in run("restore", "codex", "--list")[1]["data"]["backups"]]
    monkeypatch.setenv("COLUMNS", "60")
    result = cli("restore", "codex", "--list")
    assert result.exit_code == 0
    for backup_id in ids:
        assert backup_id in result.stdout, result.stdout


def test_backups_are_pruned_but_the_first_is_kept(run, cli, gateway, home):
    place("codex-config.toml", home / ".codex" / "config.toml")
    original = snapshot(home)
    models = ["gpt-5.4", "claude-haiku-5-5"]
    for i in range(24):
        code, body = run("setup", "codex", "--model", models[i % 2])
        assert code == 0 and body["data"]["backup"], body
    code, body = run("restore", "codex", "--list")
    backups = body["data"]["backups"]
    assert len(backups) == 21 and body["data"]["keep"] == 20
    assert backups[-1]["always_kept"] and not any(b["always_kept"] for b in backups[:-1])
    assert "20" in body["data"]["note"] and "oldest" in body["data"]["note"]
    assert "newest 20" in cli("restore", "codex", "--list").stdout.replace("\n", " ")
    assert "20" in cli("restore", "--help").stdout
    assert run("restore", "codex", "--to", backups[-1]["id"])[0] == 0
    assert snapshot(home) == original, "the oldest is the files before byecore"


# ---- writes the system refuses -----------------------------------------------------------


@contextlib.contextmanager
def _unwritable(folder: Path):
    """``folder`` as a real unwritable place: mode 0555 for a normal user; root ignores
    modes, so for root a read-only bind mount of it instead."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield "permission denied"
        finally:
            folder.chmod(0o755)
        return
    if subprocess.run(["mount", "--bind", str(folder), str(folder)],
                      capture_output=True).returncode:
        pytest.skip("running as root without the right to mount: cannot make a folder "
                    "unwritable")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True,
                       capture_output=True)
        yield "read-only"
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_an_unwritable_claude_folder_is_a_clear_error(run, gateway, home, byecore_home):
    place("claude-settings.json", home / ".claude" / "settings.json")
    before = snapshot(home)
    with _unwritable(home / ".claude") as problem:
        code, body = run("setup", "claude")
    assert code == 1, body
    error = body["error"]
    assert error["code"] == "write_failed" and "internal error" not in error["message"]
    assert problem in error["message"] and str(home / ".claude") in error["message"]
    assert "run again" in error["hint"]
    assert snapshot(home) == before, "nothing half-written"
    assert not (byecore_home / "state.json").exists(), "state unchanged"
    assert not list((byecore_home / "backups").rglob("manifest.json")), "no stray backup"


def test_a_file_where_byecore_keeps_its_backups_is_a_clear_error(run, gateway, home,
                                                                 byecore_home):
    (byecore_home / "backups").write_text("not a folder")
    code, body = run("setup", "claude")
    assert code == 1, body
    assert body["error"]["code"] == "write_failed"
    assert str(byecore_home / "backups") in body["error"]["message"]
    assert not (home / ".claude").exists()


def test_a_full_disk_leaves_the_old_file_and_the_state(run, gateway, home, byecore_home):
    claude = home / ".claude"
    claude.mkdir()
    if os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(claude)],
            capture_output=True).returncode:
        pytest.skip("needs root to mount a small file system that can fill up")
    try:
        original = place("claude-settings.json", claude / "settings.json")
        with contextlib.suppress(OSError), open(claude / "filler", "wb") as filler:
            while True:
                filler.write(b"x" * 1024)
                filler.flush()
        code, body = run("setup", "claude")
        assert code == 1, body
        assert body["error"]["code"] == "write_failed"
        assert "disk is full" in body["error"]["message"]
        assert (claude / "settings.json").read_bytes() == original
        assert sorted(os.listdir(claude)) == ["filler", "settings.json"], "no temp file left"
        assert not (byecore_home / "state.json").exists()
        assert not list((byecore_home / "backups").rglob("manifest.json"))
    finally:
        subprocess.run(["umount", str(claude)], check=True)


def test_a_restore_that_cannot_finish_puts_everything_back(run, gateway, home, byecore_home):
    """Crush keeps files in two folders; the second cannot be written, so the first one,
    already restored, gets byecore's version back: all or nothing."""
    place("crush.json", home / ".config" / "crush" / "crush.json")
    place("crush-data.json", home / ".local" / "share" / "crush" / "crush.json")
    assert run("setup", "crush")[0] == 0
    before, state = snapshot(home), (byecore_home / "state.json").read_bytes()
    backups = run("restore", "crush", "--list")[1]["data"]["backups"]
    with _unwritable(home / ".local" / "share" / "crush"):
        code, body = run("restore", "crush")
    assert code == 1 and body["error"]["code"] == "write_failed", body
    assert snapshot(home) == before
    assert (byecore_home / "state.json").read_bytes() == state
    assert run("restore", "crush", "--list")[1]["data"]["backups"] == backups


def test_a_file_where_the_clients_folder_should_be_is_named(run, gateway, home):
    (home / ".claude").write_text("a file, not a folder")
    code, body = run("setup", "claude")
    assert code == 1 and body["error"]["code"] == "config"
    assert body["error"]["path"] == str(home / ".claude" / "settings.json")
    assert str(home / ".claude") in body["error"]["hint"]
    assert (home / ".claude").read_text() == "a file, not a folder"


def test_without_a_record_of_the_last_write_restore_asks_too(run, gateway, home,
                                                             byecore_home):
    place("claude-settings.json", home / ".claude" / "settings.json")
    assert run("setup", "claude")[0] == 0
    (byecore_home / "state.json").unlink()  # moved away, as the state error suggests
    code, body = run("restore", "claude")
    assert code == 1 and body["error"]["code"] == "would_discard"
    assert "no record" in body["error"]["message"]
    assert run("restore", "claude", "--force")[0] == 0
    assert (home / ".claude" / "settings.json").read_bytes() == \
        (FIXTURES / "claude-settings.json").read_bytes()
