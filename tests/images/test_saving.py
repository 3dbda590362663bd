"""Where images are saved, and that no file is ever lost or half-written."""

from __future__ import annotations

import pytest

from byecore_cli.errors import FileWriteError
from byecore_cli.images import saving


@pytest.mark.parametrize(("prompt", "stem"), [
    ("A red fox, in the snow!", "a-red-fox-in-the-snow"), ("日本", "image"),
    ("x" * 80, "image"), ("one " * 30, "-".join(["one"] * 12))])
def test_names_come_from_the_prompt(prompt, stem):
    assert saving.slug(prompt) == stem


def test_targets_and_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pics").mkdir()
    here = saving.target(None, "a cat")
    assert saving.names(here, 1, ".png") == [tmp_path / "a-cat.png"]
    assert saving.names(here, 2, ".png") == [tmp_path / "a-cat-1.png", tmp_path / "a-cat-2.png"]
    assert saving.names(here, 1, ".png", partial=0) == [tmp_path / "a-cat.partial-0.png"]
    assert saving.target("pics", "a cat").folder == tmp_path / "pics"
    assert saving.target("new/", "a cat") == saving.Target(tmp_path / "new", "a-cat", None)
    assert saving.target("x/fox.JPG", "p") == saving.Target(tmp_path / "x", "fox", ".jpg")
    assert saving.names(saving.target("fox.jpg", "p"), 1, ".png") == [tmp_path / "fox.jpg"]


def test_a_taken_name_is_numbered_and_force_replaces(tmp_path):
    wanted = tmp_path / "deep" / "fox.png"
    assert saving.save(b"one", wanted) == wanted  # folders made as needed
    assert saving.save(b"two", wanted) == tmp_path / "deep" / "fox-2.png"
    assert saving.save(b"three", wanted) == tmp_path / "deep" / "fox-3.png"
    assert wanted.read_bytes() == b"one"
    assert saving.save(b"four", wanted, force=True) == wanted and wanted.read_bytes() == b"four"
    assert sorted(p.name for p in wanted.parent.iterdir()) == ["fox-2.png", "fox-3.png",
                                                                "fox.png"]


def test_a_dangling_link_in_the_way_is_not_written_through(tmp_path):
    (tmp_path / "fox.png").symlink_to(tmp_path / "elsewhere.png")
    assert saving.save(b"x", tmp_path / "fox.png") == tmp_path / "fox-2.png"
    assert not (tmp_path / "elsewhere.png").exists()


def test_a_refused_write_is_a_clear_error(tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(FileWriteError, match="a file is where a folder should be"):
        saving.save(b"x", tmp_path / "taken" / "fox.png")
