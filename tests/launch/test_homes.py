"""The borrowed folders of ``launch/homes.py``: what a client configured only by files in
one folder sees for one run.

Each client's variable points at byecore's folder; the config there is the user's with
byecore's provider in it (parsed as the client would); every other entry of the user's
folder is a link to it, nested folders on the way to a config file included; the user's
own files are not touched; variables that would beat the copy are removed. The real
clients read these folders in ``test_real_run_npm.py`` and ``test_real_run_more.py``.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from byecore_cli.clients import WRITERS, jsonedit, yamledit
from byecore_cli.launch import homes, profiles
from tests.clients.conftest import toml_loads
from tests.clients.factory import proxy_target

KEY = "bc-local-abc123def456ghi789"
PROXY = "http://127.0.0.1:4000/v1"

# client -> (its variable, the config file under it, the user's old text of that file)
USERS = {
    "qwen": ("QWEN_HOME", "settings.json",
             '{\n  // mine\n  "ui": {"theme": "dark"},\n  "model": {"name": "old"}\n}\n'),
    "pi": ("PI_CODING_AGENT_DIR", "models.json",
           '{"providers": {"mine": {"baseUrl": "http://127.0.0.1:9/v1", "api": '
           '"openai-completions", "apiKey": "x", "models": [{"id": "m"}]}}}\n'),
    "hermes": ("HERMES_HOME", "config.yaml",
               "model:\n  default: old\n  provider: openrouter\nterminal:\n  backend: local\n"),
    "grok": ("GROK_HOME", "config.toml", '[models]\ndefault = "grok-4"\n\n[ui]\ntheme = "x"\n'),
}


def _ctx(tmp_path: Path, client: str, **kw) -> tuple[profiles.Context, Path]:
    var, config, text = USERS[client]
    home = tmp_path / "home"
    own = home / f".{client}"
    (own / "sessions").mkdir(parents=True)
    (own / "sessions" / "one.jsonl").write_text("{}\n")
    (own / "auth.json").write_text("{}\n")
    (own / config).write_text(text)
    env = {"HOME": str(home), var: str(own), "HERMES_INFERENCE_MODEL": "theirs",
           "GROK_DEFAULT_MODEL": "theirs"}
    return profiles.Context(env=env, home=home, folder=tmp_path / "profile", **kw), own


def _parsed(path: Path):
    text = path.read_text()
    if path.suffix == ".toml":
        return toml_loads(text)
    if path.suffix == ".yaml":
        return yamledit.load(text, "config")
    return jsonedit.loads(text, comments=True)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("client", sorted(USERS))
def test_the_client_reads_a_copy_with_byecore_and_links_to_the_rest(tmp_path, client):
    var, config, _ = USERS[client]
    ctx, own = _ctx(tmp_path, client)
    before = _snapshot(own)
    target = proxy_target()
    profile = profiles.PROFILES[client](target, ctx)
    profiles.write_files(profile, ctx.folder)
    borrowed = Path(profile.env[var])
    assert borrowed.parent == ctx.folder
    # the writer itself, pointed at the borrowed folder, finds byecore's setup there
    writer = WRITERS[client]
    moved = {**ctx.env, **profile.env}
    files = writer.files(moved, ctx.home)
    assert all(f.path.is_relative_to(borrowed) for f in files.values())
    current = {role: f.path.read_bytes() if f.path.exists() else None
               for role, f in files.items()}
    reading = writer.read(current)
    assert reading.configured and target.model in (reading.model or ""), reading
    assert reading.base_url.rstrip("/") == PROXY
    assert KEY in (borrowed / config).read_text()
    assert stat.S_IMODE((borrowed / config).stat().st_mode) == 0o600
    # the user's own settings are still in the copy
    assert _parsed(borrowed / config) != {}
    for entry in ("sessions", "auth.json"):
        assert (borrowed / entry).is_symlink()
        assert (borrowed / entry).resolve() == (own / entry).resolve()
    assert _snapshot(own) == before  # nothing of the user's was written


def test_what_the_writers_name_as_winning_is_removed(tmp_path):
    for client, var in (("hermes", "HERMES_INFERENCE_MODEL"), ("grok", "GROK_DEFAULT_MODEL")):
        ctx, _ = _ctx(tmp_path / client, client)
        assert var in profiles.PROFILES[client](proxy_target(), ctx).unset


def test_qwen_gets_its_key_variable_so_a_shells_own_cannot_win(tmp_path):
    ctx, _ = _ctx(tmp_path, "qwen")
    ctx = profiles.Context(env={**ctx.env, "BYECORE_QWEN_KEY": "stale"}, home=ctx.home,
                           folder=ctx.folder)
    assert profiles.PROFILES["qwen"](proxy_target(), ctx).env["BYECORE_QWEN_KEY"] == KEY


def test_pi_settings_are_a_copy_too_and_a_missing_folder_is_no_problem(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    ctx = profiles.Context(env={"HOME": str(home)}, home=home, folder=tmp_path / "p")
    profile = homes.pi(proxy_target(), ctx)
    assert set(profile.files) == {"pi-home/models.json", "pi-home/settings.json"}
    assert not profile.links
    settings = json.loads(profile.files["pi-home/settings.json"])
    assert settings["defaultModel"] == "byecore/gpt-5.4"
    assert not (home / ".pi").exists()
    assert profile.borrowed == {"pi-home": home / ".pi" / "agent"}


def _run_creates(folder: Path, name: str, data: bytes) -> None:
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def test_what_a_run_creates_in_a_borrowed_folder_is_moved_to_the_users(tmp_path):
    ctx, own = _ctx(tmp_path, "qwen")
    (own / "projects" / "old").mkdir(parents=True)
    before = _snapshot(own)
    profile = homes.qwen(proxy_target(), ctx)
    profiles.write_files(profile, ctx.folder)
    borrowed = ctx.folder / "qwen-home"
    _run_creates(borrowed, "state.db", b"rows")  # new at the top
    _run_creates(borrowed, "sessions/two.jsonl", b"{}\n")  # into a linked folder: there
    _run_creates(borrowed, "tmp/a/b.txt", b"deep")  # a new folder, whole
    _run_creates(borrowed, "settings.json.orig", b"a copy of byecore's copy")
    _run_creates(borrowed, "todos.json", f"key {KEY}".encode())  # holds the key
    _run_creates(borrowed, "logs/x.log", f"key {KEY}".encode())  # a folder holding it
    homes.keep_new(profile, ctx.folder, [KEY])
    assert (own / "state.db").read_bytes() == b"rows"
    assert (own / "sessions" / "two.jsonl").read_bytes() == b"{}\n"
    assert (own / "tmp" / "a" / "b.txt").read_bytes() == b"deep"
    for kept_out in ("settings.json.orig", "todos.json", "logs"):
        assert not (own / kept_out).exists(), kept_out
    after = _snapshot(own)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing rewritten
    assert (own / "settings.json").read_text() == USERS["qwen"][2]


def test_a_users_entry_of_the_same_name_is_never_replaced(tmp_path):
    ctx, own = _ctx(tmp_path, "hermes")
    profile = homes.hermes(proxy_target(), ctx)
    profiles.write_files(profile, ctx.folder)
    (own / "state.db").write_bytes(b"theirs, made meanwhile by another run")
    _run_creates(ctx.folder / "hermes-home", "state.db", b"ours")
    homes.keep_new(profile, ctx.folder, [KEY])
    assert (own / "state.db").read_bytes() == b"theirs, made meanwhile by another run"


def test_a_first_run_creates_the_users_folder_with_what_the_client_saved(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    ctx = profiles.Context(env={"HOME": str(home)}, home=home, folder=tmp_path / "p")
    profile = homes.pi(proxy_target(), ctx)
    profiles.write_files(profile, ctx.folder)
    _run_creates(ctx.folder / "pi-home", "sessions/--work--/s1.jsonl", b"{}\n")
    homes.keep_new(profile, ctx.folder, [KEY])
    agent = home / ".pi" / "agent"
    assert (agent / "sessions" / "--work--" / "s1.jsonl").is_file()
    assert not (agent / "models.json").exists() and not (agent / "settings.json").exists()


def test_nested_config_files_get_real_folders_with_their_other_entries_linked(tmp_path):
    own = tmp_path / "own"
    (own / "deep" / "keep").mkdir(parents=True)
    (own / "deep" / "other.json").write_text("{}")
    (own / "top.txt").write_text("t")
    links = homes._around(own, {Path("deep/ours.json"), Path("cfg.toml")}, "x")
    assert links == {"x/deep/keep": own / "deep" / "keep",
                     "x/deep/other.json": own / "deep" / "other.json",
                     "x/top.txt": own / "top.txt"}


def test_byecore_env_can_write_the_borrowed_folder_again(tmp_path):
    ctx, own = _ctx(tmp_path, "grok", persistent=True)
    for _ in range(2):
        profile = homes.grok(proxy_target(), ctx)
        profiles.write_files(profile, ctx.folder)
        assert not [n for n in profile.notes if "could not link" in n]
    assert (ctx.folder / "grok-home" / "sessions").resolve() == (own / "sessions").resolve()
    assert any("byecore env again" in n for n in profile.notes)


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_a_broken_config_is_named_with_its_path(tmp_path):
    ctx, own = _ctx(tmp_path, "grok")
    (own / "config.toml").write_text("[models\n")
    with pytest.raises(Exception) as err:
        homes.grok(proxy_target(), ctx)
    assert str(own / "config.toml") in str(err.value.path)


def test_openclaw_reads_a_copy_of_its_config_and_may_still_include_the_users(tmp_path):
    home = tmp_path / "home"
    own = home / ".openclaw" / "openclaw.json"
    own.parent.mkdir(parents=True)
    text = "{\n  // mine\n  $include: './agents.json5',\n  tools: {profile: 'coding'},\n}\n"
    own.write_text(text)
    ctx = profiles.Context(env={"HOME": str(home)}, home=home, folder=tmp_path / "p")
    profile = profiles.PROFILES["openclaw"](proxy_target(), ctx)
    copy = profile.files["openclaw.json"].decode()
    assert profile.env["OPENCLAW_CONFIG_PATH"] == str(ctx.folder / "openclaw.json")
    assert profile.env["OPENCLAW_INCLUDE_ROOTS"] == str(own.parent)
    parsed = jsonedit.loads(copy, json5=True)
    assert parsed["models"]["providers"]["byecore"]["baseUrl"] == PROXY
    assert parsed["tools"] == {"profile": "coding"} and "// mine" in copy
    assert any("relative $include" in n for n in profile.notes)
    assert own.read_text() == text
    theirs = profiles.Context(env={**ctx.env, "OPENCLAW_INCLUDE_ROOTS": "/srv/oc"},
                              home=home, folder=ctx.folder)
    assert "OPENCLAW_INCLUDE_ROOTS" not in profiles.PROFILES["openclaw"](
        proxy_target(), theirs).env


def test_an_openclaw_run_says_what_in_the_users_config_refuses_byecores_model(tmp_path):
    home = tmp_path / "home"
    own = home / ".openclaw" / "openclaw.json"
    own.parent.mkdir(parents=True)
    own.write_text("{agents: {defaults: {modelPolicy: {allow: ['ollama/*']}}}}\n")
    ctx = profiles.Context(env={"HOME": str(home)}, home=home, folder=tmp_path / "p")
    [said] = [n for n in profiles.PROFILES["openclaw"](proxy_target(), ctx).notes
              if "modelPolicy" in n]
    assert "does not admit byecore/" in said and 'add "byecore/*"' in said
    own.write_text("{agents: {defaults: {modelPolicy: {allow: ['byecore/*']}}}}\n")
    assert not [n for n in profiles.PROFILES["openclaw"](proxy_target(), ctx).notes
                if "modelPolicy" in n]


def test_hermes_reads_a_copy_of_its_env_file_without_the_lines_that_beat_byecore(tmp_path):
    ctx, own = _ctx(tmp_path, "hermes")
    (own / ".env").write_bytes(b"OPENROUTER_API_KEY=sk-or-mine\n"
                               b"export HERMES_INFERENCE_MODEL=old-model\n")
    profile = homes.hermes(proxy_target(), ctx)
    assert profile.files["hermes-home/.env"] == b"OPENROUTER_API_KEY=sk-or-mine\n"
    assert "hermes-home/.env" not in profile.links
    assert any("HERMES_INFERENCE_MODEL" in n for n in profile.notes)
    (own / ".env").write_bytes(b"OPENROUTER_API_KEY=sk-or-mine\n")
    assert homes.hermes(proxy_target(), ctx).links["hermes-home/.env"] == own / ".env"


def test_what_a_run_created_is_copied_when_the_temporary_folder_is_on_another_disk(
        tmp_path, monkeypatch):
    import errno

    ctx, own = _ctx(tmp_path, "hermes")
    profile = homes.hermes(proxy_target(), ctx)
    profiles.write_files(profile, ctx.folder)
    _run_creates(ctx.folder / "hermes-home", "memories/m.md", b"remember")

    def cross_device(src, dst, *a, **kw):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "rename", cross_device)
    homes.keep_new(profile, ctx.folder, [KEY])
    assert (own / "memories" / "m.md").read_bytes() == b"remember"
