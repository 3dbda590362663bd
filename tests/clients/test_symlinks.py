"""Symlinked client files (a dotfiles repo): written through, and the links survive.

Real symlinks on disk, relative and absolute; setup and restore go through the CLI.
"""

from __future__ import annotations

import os

import pytest

from tests.clients.conftest import place, toml_loads


def _dotfiles(home, fixture: str, name: str, *, relative: bool, link_at):
    """Put ``fixture`` in ~/dotfiles/NAME and link ``link_at`` to it; returns the target."""
    target = home / "dotfiles" / name
    place(fixture, target)
    link_at.parent.mkdir(parents=True, exist_ok=True)
    link_at.symlink_to(os.path.relpath(target, link_at.parent) if relative else target)
    return target


def _leftovers(folder) -> list[str]:
    return [p for p in os.listdir(folder) if p.endswith(".tmp")]


@pytest.mark.parametrize("relative", [True, False], ids=["relative", "absolute"])
def test_setup_writes_through_the_link_and_restore_keeps_it(relative, run, gateway, home):
    link = home / ".codex" / "config.toml"
    target = _dotfiles(home, "codex-config.toml", "codex.toml", relative=relative,
                       link_at=link)
    original, text = target.read_bytes(), os.readlink(link)

    code, body = run("setup", "codex")
    assert code == 0, body
    assert link.is_symlink() and os.readlink(link) == text, "the link stays as it was"
    assert toml_loads(target.read_text())["model_provider"] == "byecore", "target edited"
    assert _leftovers(target.parent) == [] and _leftovers(link.parent) == []

    code, body = run("restore", "codex")
    assert code == 0, body
    assert link.is_symlink() and os.readlink(link) == text
    assert target.read_bytes() == original


def test_restore_puts_back_a_link_that_was_replaced_by_a_plain_file(run, gateway, home):
    link = home / ".claude" / "settings.json"
    target = _dotfiles(home, "claude-settings.json", "claude.json", relative=True,
                       link_at=link)
    original, text = target.read_bytes(), os.readlink(link)
    assert run("setup", "claude")[0] == 0
    written = target.read_bytes()
    # a tool that saves by writing a new file and renaming it over the old one
    link.unlink()
    link.write_bytes(written)

    code, body = run("restore", "claude")
    assert code == 0, body
    assert link.is_symlink() and os.readlink(link) == text, "the link is back"
    assert target.read_bytes() == original


def test_list_shows_the_link(run, gateway, home):
    link = home / ".codex" / "config.toml"
    _dotfiles(home, "codex-config.toml", "codex.toml", relative=True, link_at=link)
    assert run("setup", "codex")[0] == 0
    code, body = run("restore", "codex", "--list")
    files = body["data"]["backups"][0]["files"]
    assert files["config"]["link"] == os.readlink(link)


def test_a_dangling_link_is_refused_and_left_alone(run, gateway, home, byecore_home):
    """Refused, not followed: a link to nothing usually means the dotfiles repo is not
    where the link expects it (not cloned, moved, not mounted); creating a file there,
    or replacing the link with a plain file, would both be guesses."""
    link = home / ".codex" / "config.toml"
    link.parent.mkdir(parents=True)
    link.symlink_to("../dotfiles/codex.toml")
    code, body = run("setup", "codex")
    assert code == 1
    error = body["error"]
    assert error["path"] == str(link)
    assert "symlink" in error["message"] and "../dotfiles/codex.toml" in error["message"]
    assert "dotfiles" in error["hint"] and "remove the link" in error["hint"]
    assert link.is_symlink() and os.readlink(link) == "../dotfiles/codex.toml"
    assert not (home / "dotfiles").exists()
    assert not (home / ".codex" / "auth.json").exists(), "nothing else was written either"
    assert not (byecore_home / "state.json").exists()


def test_status_names_a_dangling_link(run, home):
    link = home / ".claude" / "settings.json"
    link.parent.mkdir(parents=True)
    link.symlink_to(home / "gone" / "settings.json")
    code, body = run("status")
    row = next(r for r in body["data"]["clients"] if r["client"] == "claude")
    assert any("symlink" in p and "does not exist" in p for p in row["problems"])


def test_a_linked_client_folder_stays_a_link(run, gateway, home):
    real = home / "dotfiles" / "claude"
    real.mkdir(parents=True)
    (home / ".claude").symlink_to("dotfiles/claude")
    assert run("setup", "claude")[0] == 0
    assert (home / ".claude").is_symlink() and (real / "settings.json").is_file()
    code, body = run("restore", "claude")
    assert code == 0, body
    assert (home / ".claude").is_symlink() and real.is_dir(), "the link and its folder stay"
    assert not (real / "settings.json").exists()
    assert body["data"]["removed_folders"] == []
