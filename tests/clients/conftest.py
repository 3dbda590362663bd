"""Shared set-up for the client writer tests: a saved provider and real-shaped files."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

try:  # the strict TOML parser a client would use; stdlib from Python 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

toml_loads = tomllib.loads

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "sk-gw-0123456789abcdefSECRET"


@pytest.fixture
def home() -> Path:
    path = Path(os.environ["HOME"])
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def gateway(cli):
    """A saved provider 'gw' that speaks all three protocols, with a stored key."""
    result = cli("provider", "add", "gw", "--preset", "none", "--base-url",
                 "https://gw.example.com", "--protocol", "responses", "--protocol", "chat",
                 "--protocol", "messages", "--model", "gpt-5.4", "--model",
                 "claude-haiku-5-5", "--key-stdin", input=KEY)
    assert result.exit_code == 0, result.output
    return "gw"


@pytest.fixture
def run(cli):
    """Run a command with --json; returns (exit code, envelope)."""

    def invoke(*args: str, input: str | None = None):
        result = cli(*args, "--json", input=input)
        return result.exit_code, json.loads(result.stdout)

    return invoke


def place(fixture: str, dest: Path, mode: int = 0o644) -> bytes:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURES / fixture, dest)
    dest.chmod(mode)
    return dest.read_bytes()


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root``: bytes and mode."""
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mode & 0o777)
            for p in sorted(root.rglob("*")) if p.is_file()}


def setup_then_hand_edit(run, home: Path, client: str, secret: Path, old: str, new: str,
                         edited: Path | None = None) -> dict:
    """A writer's life through the CLI, on the files already placed under ``home``: a dry
    run writes nothing and shows no key, setup writes ``secret`` 0600, a second setup is
    up to date, restore gives HOME back byte for byte; then, after setup again, ``old``
    replaced by ``new`` in ``edited`` (default ``secret``) is a hand edit that setup
    refuses. Returns that refusal's body."""
    from tests.clients.factory import KEY

    before = snapshot(home)
    code, body = run("setup", client, "--dry-run")
    assert code == 0 and snapshot(home) == before
    assert KEY not in "".join(f["diff"] for f in body["data"]["files"])
    assert run("setup", client)[0] == 0
    assert (secret.stat().st_mode & 0o777) == 0o600
    assert run("setup", client)[1]["data"]["up_to_date"]
    assert run("restore", client)[0] == 0
    assert snapshot(home) == before
    assert run("setup", client)[0] == 0
    edited = edited or secret
    text = edited.read_text()
    assert old in text
    edited.write_text(text.replace(old, new))
    code, body = run("setup", client)
    assert code == 1 and body["error"]["code"] == "hand_edited", body
    return body
