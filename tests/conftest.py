"""Every test runs with byecore's home (and the user's HOME) in a temporary folder."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from byecore_cli.cli.main import app

# Variables a developer's shell may hold that would change what byecore does.
_LEAKY_ENV = (
    "BYECORE_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "DEEPSEEK_API_KEY", "BYECORE_DEBUG",
    "CODEX_HOME", "CLAUDE_CONFIG_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
    "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy",
)


@pytest.fixture(autouse=True)
def byecore_home(tmp_path, monkeypatch):
    home = tmp_path / "byecore-home"
    monkeypatch.setenv("BYECORE_HOME", str(home))
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    for name in _LEAKY_ENV:
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def cli():
    """Run ``byecore ARGS…``; returns click's Result (exit_code, stdout, stderr)."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke
