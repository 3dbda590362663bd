"""Shell variables that beat what byecore wrote: each writer names them, doctor says how
to get rid of them (never 'byecore setup', which cannot), with keys masked."""

from __future__ import annotations

import pytest

from byecore_cli.check import doctor
from byecore_cli.clients.aider import Aider
from byecore_cli.clients.claude import Claude
from byecore_cli.clients.opencode import OpenCode

REAL_KEY = "sk-ant-api03-REALKEY0123456789abcdef"

OVERRIDES = [
    (Claude, "ANTHROPIC_API_KEY", REAL_KEY),
    (Claude, "CLAUDE_CODE_USE_BEDROCK", "1"),
    (Claude, "CLAUDE_CODE_USE_VERTEX", "true"),
    (Claude, "CLAUDE_CODE_SUBAGENT_MODEL", "claude-opus-4-1"),
    (Aider, "OPENAI_BASE_URL", "https://api.openai.com/v1"),
    (Aider, "AIDER_OPENAI_API_BASE", "https://api.openai.com/v1"),
    (Aider, "AIDER_OPENAI_API_KEY", "sk-proj-REALKEY0123456789abcdef"),
    (Aider, "AIDER_MODEL", "gpt-4o"),
    (Aider, "AIDER_WEAK_MODEL", "gpt-4o-mini"),
    (OpenCode, "OPENCODE_CONFIG", "/etc/opencode.json"),
    (OpenCode, "OPENCODE_CONFIG_CONTENT", '{"provider": {"x": {"options": '
                                          '{"apiKey": "sk-inline-0123456789abcdef"}}}}'),
]


@pytest.mark.parametrize("writer,name,value", OVERRIDES,
                         ids=[f"{w.name}-{n}" for w, n, _ in OVERRIDES])
def test_each_override_is_named_and_doctor_says_unset_it(writer, name, value, tmp_path):
    env = {"HOME": str(tmp_path), name: value}
    [problem] = writer().check_env(env)
    assert name in problem
    found = doctor.env_finding(problem, env)
    assert found["fix"].startswith(f"unset {name}")
    assert "0123456789abcdef" not in found["problem"]  # keys, also inline ones, masked


@pytest.mark.parametrize("writer", [Claude, Aider, OpenCode])
def test_variables_that_lose_to_the_files_are_no_problem(writer, tmp_path):
    # settings.json's env wins in Claude Code; aider sets OPENAI_API_BASE/KEY from its
    # file; OpenCode's byecore provider names its own baseURL
    env = {"HOME": str(tmp_path), "ANTHROPIC_BASE_URL": "https://api.anthropic.com",
           "ANTHROPIC_AUTH_TOKEN": "x", "ANTHROPIC_MODEL": "m", "OPENAI_API_BASE": "https://x",
           "OPENAI_API_KEY": "sk-x", "CLAUDE_CODE_USE_BEDROCK": "0",
           "CLAUDE_CODE_SUBAGENT_MODEL": "inherit"}
    assert writer().check_env(env) == []


def test_profile_lines_in_every_shell_syntax_are_found(tmp_path):
    (tmp_path / ".bashrc").write_text("# export OPENAI_BASE_URL=old\nexport OPENAI_BASE_URL=a\n")
    (tmp_path / ".zshenv").write_text("OPENAI_BASE_URL_X=1\ntypeset -x OPENAI_BASE_URL=b\n")
    fish = tmp_path / ".config" / "fish" / "config.fish"
    fish.parent.mkdir(parents=True)
    fish.write_text("set -gx OPENAI_BASE_URL c\n")
    found = doctor.shell_sources("OPENAI_BASE_URL", tmp_path)
    assert [(p.relative_to(tmp_path).as_posix(), n) for p, n in found] == [
        (".bashrc", 2), (".zshenv", 2), (".config/fish/config.fish", 1)]


def test_a_variable_only_in_aiders_dotenv_is_deleted_there(tmp_path):
    (tmp_path / ".env").write_text("OPENAI_API_KEY=sk-x\nOPENAI_BASE_URL=https://api.openai.com\n")
    env = {"HOME": str(tmp_path)}
    [problem] = Aider().check_env(env)
    assert doctor.env_finding(problem, env)["fix"] == "delete line 2 of ~/.env"
