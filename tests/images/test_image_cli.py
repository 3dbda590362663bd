"""``byecore image`` against a fake Images upstream: real PNGs on disk, sizes priced first."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path

import pytest

from tests.fakes import ThreadedServer
from tests.images.fake_images import KEY, FakeImages
from tests.images.png import make_png, read_png


@pytest.fixture
def gateway(cli, tmp_path, monkeypatch):
    """A fake Images upstream saved as provider 'gw' with the byecore preset's table; the
    command runs in an empty folder."""
    fake = FakeImages()
    with ThreadedServer(lambda: fake.app) as server:
        fake.url = server.url
        assert cli("provider", "add", "gw", "--preset", "byecore", "--base-url", server.url,
                   "--key", KEY).exit_code == 0
        work = tmp_path / "work"
        work.mkdir()
        monkeypatch.chdir(work)
        yield fake


def image(cli, *args):
    result = cli("image", *args, "--json")
    assert KEY not in result.stdout + result.stderr
    return result.exit_code, json.loads(result.stdout)


def test_a_prompt_becomes_a_real_1k_png_on_disk_at_the_1k_price(cli, gateway):
    code, body = image(cli, "A red fox, in the snow!")
    assert code == 0, body
    data = body["data"]
    saved = Path(data["images"][0]["path"])
    assert saved == Path.cwd() / "a-red-fox-in-the-snow.png"
    assert read_png(saved.read_bytes()) == (1024, 1024)
    assert saved.read_bytes() == gateway.made[0]
    sent = gateway.last
    assert sent["body"] == {"model": "image-2", "prompt": "A red fox, in the snow!",
                            "size": "1024x1024", "n": 1}
    assert sent["headers"]["Authorization"] == f"Bearer {KEY}" and sent["billed"] == "1K"
    assert (data["size"], data["tier"], data["cost"], data["count"]) == ("1024x1024", "1K",
                                                                          0.05, 1)
    assert data["images"][0]["width"] == 1024 and data["images"][0]["format"] == "png"
    assert oct(saved.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    assert not [p for p in saved.parent.iterdir() if p.name.endswith(".tmp")]


def test_human_output_says_where_and_what_it_cost(cli, gateway):
    result = cli("image", "a cat", "--size", "2K")
    assert result.exit_code == 0, result.stderr
    assert "saved a-cat.png  2048×2048 PNG" in result.stdout
    assert "1 image, 2048x2048 (2K): $0.10" in result.stdout
    assert read_png(Path("a-cat.png").read_bytes()) == (2048, 2048)


def test_tiers_several_images_and_a_folder(cli, gateway):
    code, body = image(cli, "city", "--size", "4k", "-n", "2", "-o", "out/")
    assert code == 0, body
    paths = [Path(i["path"]) for i in body["data"]["images"]]
    assert [p.name for p in paths] == ["city-1.png", "city-2.png"]
    assert [read_png(p.read_bytes()) for p in paths] == [(3840, 2160)] * 2
    assert body["data"]["cost"] == pytest.approx(0.40)
    assert gateway.last["body"]["size"] == "3840x2160" and gateway.last["body"]["n"] == 2


def test_an_unlisted_size_is_refused_before_anything_is_sent(cli, gateway):
    code, body = image(cli, "p", "--size", "512x512")
    assert code == 2 and body["ok"] is False
    message = body["error"]["message"]
    for shown in ("1024x1024 (1K, $0.05)", "1536x1024 (2K, $0.10)", "2160x3840 (4K, $0.20)",
                  "2K ($0.10)"):
        assert shown in message
    assert gateway.requests == []
    result = cli("image", "p", "--size", "huge")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "valid sizes" in result.stderr


def test_files_are_numbered_never_overwritten_unless_forced(cli, gateway):
    Path("fox.png").write_bytes(b"mine")
    code, body = image(cli, "fox", "-o", "fox.png")
    assert code == 0 and Path(body["data"]["images"][0]["path"]).name == "fox-2.png"
    assert Path("fox.png").read_bytes() == b"mine"
    code, body = image(cli, "fox", "-o", "fox.png", "--force")
    assert Path(body["data"]["images"][0]["path"]).name == "fox.png"
    assert read_png(Path("fox.png").read_bytes()) == (1024, 1024)


def test_the_file_name_picks_the_format(cli, gateway):
    code, body = image(cli, "p", "-o", "shot.jpg")
    assert code == 0 and gateway.last["body"]["output_format"] == "jpeg"
    saved = body["data"]["images"][0]
    assert Path(saved["path"]).name == "shot.jpg" and saved["format"] == "jpeg"
    assert (saved["width"], saved["height"]) == (1024, 1024)
    code, body = image(cli, "p", "-o", "shot.png", "--format", "webp")
    assert code == 2 and "webp" in body["error"]["message"]
    code, body = image(cli, "p", "--format", "gif")
    assert code == 2


def test_edits_send_the_files_exactly(cli, gateway):
    first, second = make_png(20, 10, seed=5), make_png(10, 20, seed=6)
    Path("a.png").write_bytes(first)
    Path("b.png").write_bytes(second)
    code, body = image(cli, "make it night", "--image", "a.png", "--image", "b.png")
    assert code == 0, body
    sent = gateway.last
    assert sent["path"] == "/v1/images/edits"
    assert [(f["field"], f["filename"], hashlib.sha256(f["data"]).hexdigest())
            for f in sent["files"]] == [
        ("image[]", "a.png", hashlib.sha256(first).hexdigest()),
        ("image[]", "b.png", hashlib.sha256(second).hexdigest())]
    assert sent["body"]["size"] == "1024x1024" and sent["body"]["prompt"] == "make it night"
    Path("notes.txt").write_text("hello")
    code, body = image(cli, "p", "--image", "notes.txt")
    assert code == 2 and "not a PNG" in body["error"]["message"]
    code, body = image(cli, "p", "--image", "missing.png")
    assert code == 2 and "cannot read" in body["error"]["message"]


def test_streaming_saves_partials_then_the_image(cli, gateway):
    code, body = image(cli, "p", "--partial", "2")
    assert code == 0, body
    data = body["data"]
    assert gateway.last["body"]["stream"] is True
    assert gateway.last["body"]["partial_images"] == 2
    assert [Path(p["path"]).name for p in data["partials"]] == ["p.partial-0.png",
                                                               "p.partial-1.png"]
    assert all(read_png(Path(p["path"]).read_bytes()) == (1024, 1024)
               for p in data["partials"])
    assert data["streamed"] is True and Path(data["images"][0]["path"]).name == "p.png"
    gateway.streams = False  # a provider that does not stream answers with JSON
    code, body = image(cli, "q", "--stream")
    assert code == 0 and body["data"]["streamed"] is False and body["data"]["count"] == 1


def test_url_answers_are_downloaded_without_the_key(cli, gateway):
    gateway.urls = True
    code, body = image(cli, "p")
    assert code == 0, body
    assert Path(body["data"]["images"][0]["path"]).read_bytes() == gateway.made[-1]


def test_upstream_errors_are_plain_words_without_the_key(cli, gateway):
    gateway.plan = [("echo_key", 403)]
    result = cli("image", "p")
    assert result.exit_code == 1 and KEY not in result.stderr + result.stdout
    assert "HTTP 403" in result.stderr and "may not use image-2" in result.stderr
    assert "Traceback" not in result.stderr
    gateway.plan = [("garbage",)]
    code, body = image(cli, "p")
    assert code == 1 and "no 'data' list" in body["error"]["message"]


def test_the_sizes_table(cli, gateway):
    result = cli("image", "--sizes")
    assert result.exit_code == 0
    assert "image-2 on gw" in result.stdout and "$0.05" in result.stdout
    assert "1024x1024 (default)" in result.stdout
    code, body = image(cli, "--sizes")
    row = body["data"]["models"][0]
    assert (row["provider"], row["model"], row["default"]) == ("gw", "image-2", "1024x1024")
    assert {"size": "2048x2048", "tier": "2K", "price": 0.10} in row["sizes"]
    assert row["missing_size_billed"] == "2K ($0.10)"


def test_a_model_without_a_table_is_unchecked_and_unpriced(cli, gateway):
    code, body = image(cli, "p", "--model", "other-model", "--size", "1024X1536")
    assert code == 0 and body["data"]["cost"] is None
    assert gateway.last["body"]["size"] == "1024x1536"
    code, body = image(cli, "p", "--model", "other-model", "--size", "2K")
    assert code == 2 and "WIDTHxHEIGHT" in body["error"]["message"]


def test_no_provider_with_image_models(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli("provider", "add", "x", "--base-url", "https://x.example",
               "--key", "k").exit_code == 0
    code, body = image(cli, "p")
    assert code == 1 and "lists an image model" in body["error"]["message"]
    code, body = image(cli, "")
    assert code == 2


def test_an_unreachable_provider_is_a_finding_not_a_traceback(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert cli("provider", "add", "gw", "--preset", "byecore", "--base-url",
               f"http://127.0.0.1:{port}", "--key", KEY).exit_code == 0
    result = cli("image", "p")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert f"error: nothing is listening at 127.0.0.1:{port}" in result.stderr
    assert not list(tmp_path.glob("*.png"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
