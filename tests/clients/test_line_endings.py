"""Files with a UTF-8 BOM or CRLF lines keep them, for every writer and format.

The engine shows writers LF text without a BOM and puts each file's own style back,
so these tests drive every writer through ``engine.prepare``/``commit`` on real files.
"""

from __future__ import annotations

import json
import os

import pytest
import yaml

from byecore_cli.clients import WRITERS, engine
from tests.clients.conftest import FIXTURES, toml_loads
from tests.clients.factory import make_target

FIRST = make_target()
SECOND = make_target(model="gpt-5.4-mini", models=("gpt-5.4-mini", "gpt-5.4"))
BOM = b"\xef\xbb\xbf"


def _plain(data: bytes) -> bytes:
    return data.removeprefix(BOM).replace(b"\r\n", b"\n")


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _only_crlf(data: bytes) -> bool:
    return data.count(b"\n") == data.count(b"\r\n") > 0


def _setup(writer, target, home, force: bool = False):
    prepared = engine.prepare(writer, target, env={"HOME": str(home)}, home=home, force=force)
    engine.commit(prepared)
    return prepared


# A user's own file in each format, without byecore's keys: the first setup must add lines.
USER_FILES = {
    "json": b'{\n  "theme": "dark",\n  "editor": {\n    "tabSize": 2\n  }\n}\n',
    "jsonc": b'{\n  // mine\n  "theme": "dark",\n  "editor": {\n    "tabSize": 2\n  }\n}\n',
    "json5": b'{\n  // mine\n  theme: "dark",\n  editor: {\n    tabSize: 2,\n  },\n}\n',
    "toml": b'# mine\ntheme = "dark"\n\n[tui]\nnotifications = true\n',
    "yaml": b"# mine\ntheme: dark\neditor:\n  tabSize: 2\n",
    "text": b"# mine\nFOO=bar\n",
}


@pytest.mark.parametrize("style", ["bom+crlf", "crlf", "bom"])
@pytest.mark.parametrize("name", list(WRITERS))
def test_every_writer_keeps_bom_and_crlf(name, style, home):
    writer = WRITERS[name]
    files = writer.files({"HOME": str(home)}, home)
    seed = {r: USER_FILES[f.format] for r, f in files.items()}
    styled = {}
    for role, data in seed.items():
        if "crlf" in style:
            data = _crlf(data)
        if "bom" in style and files[role].format != "text":
            data = BOM + data
        styled[role] = data
        files[role].path.parent.mkdir(parents=True, exist_ok=True)
        files[role].path.write_bytes(data)

    _setup(writer, FIRST, home)
    # what the writer itself makes of the same files with LF lines and no BOM
    expected = writer.plan(FIRST, seed).files
    afters = {r: f.path.read_bytes() for r, f in files.items() if f.path.exists()}
    assert any(afters[r] != styled[r] for r in afters), "byecore's keys went in"
    for role, after in afters.items():
        assert after.startswith(BOM) == styled[role].startswith(BOM), role
        if "crlf" in style:
            assert _only_crlf(after), f"{role}: every line keeps CRLF"
        else:
            assert b"\r\n" not in after, role
        assert _plain(after) == expected.get(role, seed[role]), role
    again = engine.prepare(writer, FIRST, env={"HOME": str(home)}, home=home)
    assert again.up_to_date, [c.diff for c in again.changes]


def _place(home, rel: str, data: bytes):
    path = home / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_toml_with_bom_and_crlf_is_edited_not_refused(home):
    original = BOM + _crlf((FIXTURES / "codex-config.toml").read_bytes())
    path = _place(home, ".codex/config.toml", original)
    _setup(WRITERS["codex"], FIRST, home)
    after = path.read_bytes()
    assert after.startswith(BOM) and _only_crlf(after)
    config = toml_loads(after[len(BOM):].decode())
    assert config["model_provider"] == "byecore" and config["model"] == "gpt-5.4"
    kept = [line for line in original.split(b"\r\n") if line.startswith(b"#")]
    assert kept and all(line in after.split(b"\r\n") for line in kept), "comments kept"


def test_json_with_bom_and_crlf(home):
    original = BOM + _crlf((FIXTURES / "claude-settings.json").read_bytes())
    path = _place(home, ".claude/settings.json", original)
    _setup(WRITERS["claude"], make_target(anthropic_base="https://gw.example.com"), home)
    after = path.read_bytes()
    assert after.startswith(BOM) and _only_crlf(after)
    env = json.loads(after[len(BOM):])["env"]
    assert env["ANTHROPIC_BASE_URL"] == "https://gw.example.com"


def test_yaml_with_crlf(home):
    original = _crlf((FIXTURES / "continue-config.yaml").read_bytes())
    path = _place(home, ".continue/config.yaml", original)
    _setup(WRITERS["continue"], FIRST, home)
    after = path.read_bytes()
    assert _only_crlf(after) and not after.startswith(BOM)
    models = yaml.safe_load(after)["models"]
    assert any(m.get("model") == "gpt-5.4" for m in models)


@pytest.mark.parametrize(("name", "fixture", "where"), [
    ("codex", "codex-config.toml", ".codex/config.toml"),
    ("claude", "claude-settings.json", ".claude/settings.json"),
    ("continue", "continue-config.yaml", ".continue/config.yaml"),
])
def test_mixed_endings_take_the_majority(name, fixture, where, home):
    lines = (FIXTURES / fixture).read_bytes().splitlines(keepends=True)
    assert len(lines) > 4
    mostly_crlf = b"".join(line if i == 0 else _crlf(line) for i, line in enumerate(lines))
    path = _place(home, where, mostly_crlf)
    _setup(WRITERS[name], FIRST, home)
    assert _only_crlf(path.read_bytes())

    mostly_lf = b"".join(_crlf(line) if i == 0 else line for i, line in enumerate(lines))
    path.write_bytes(mostly_lf)
    _setup(WRITERS[name], SECOND, home, force=True)  # the hand edit is the test's
    assert b"\r\n" not in path.read_bytes()


def test_restore_gives_back_the_exact_styled_bytes(home, run, gateway):
    original = BOM + _crlf((FIXTURES / "codex-config.toml").read_bytes())
    path = _place(home, ".codex/config.toml", original)
    assert run("setup", "codex")[0] == 0
    assert path.read_bytes().startswith(BOM)
    assert run("restore", "codex")[0] == 0
    assert path.read_bytes() == original
    assert not [p for p in os.listdir(path.parent) if p.endswith(".tmp")]
