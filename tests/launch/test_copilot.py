"""GitHub Copilot CLI, a client byecore launches but writes no file for.

Its profile is environment variables alone: the proxy's OpenAI base on the Responses
wire, the client's local key (never the provider's), the model byecore routes and the
provider's own name for it, the token limits; the user's variables that would beat
these are removed. Checked through ``byecore env copilot`` (evaluated in bash, and as
fish/PowerShell/JSON text) and ``byecore run copilot`` with a stand-in ``copilot`` that
records what it was given.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from byecore_cli.cli import run_cmd
from byecore_cli.clients import local_keys
from byecore_cli.clients.base import Limits, Target
from byecore_cli.launch import copilot, launch_only
from byecore_cli.launch.profiles import PROFILES, Context
from byecore_cli.proxy import runtime
from tests.launch.fakes import env_for, install, record_of, run_byecore
from tests.launch.harness import add_vendor
from tests.proxy.test_real_clients_proxy import UPSTREAM_KEY

BASH = shutil.which("bash")
# what a user's shell may hold for Copilot's BYOK mode: each beats one of byecore's
STALE = {name: "stale-0123456789" for name in copilot.OVERRIDES}
STALE["COPILOT_PROVIDER_HEADERS"] = "Authorization: Bearer stale-0123456789"


def _target(**limits: Limits) -> Target:
    root = "http://127.0.0.1:4123"
    return Target(provider="vendor", model="vendor/gpt-5.4",
                  models=("vendor/gpt-5.4", "vendor/other"), root=root,
                  openai_base=root + "/v1", anthropic_base=root, key="bc-local-abc",
                  key_env=None, via_proxy=True, gemini_base=root + "/v1beta", limits=limits)


def _context(tmp_path: Path) -> Context:
    return Context(env={}, home=tmp_path / "home", folder=tmp_path / "folder")


def test_the_profile_is_the_responses_wire_on_the_proxy_with_the_local_key(tmp_path):
    profile = copilot.profile(_target(), _context(tmp_path))
    assert profile.env == {
        "COPILOT_PROVIDER_BASE_URL": "http://127.0.0.1:4123/v1",
        "COPILOT_PROVIDER_TYPE": "openai",
        "COPILOT_PROVIDER_WIRE_API": "responses",
        "COPILOT_PROVIDER_API_KEY": "bc-local-abc",
        "COPILOT_MODEL": "vendor/gpt-5.4",
        "COPILOT_PROVIDER_MODEL_ID": "gpt-5.4",  # the catalog's name, for its prompts
        "COPILOT_PROVIDER_MAX_PROMPT_TOKENS": "96000",  # byecore's defaults: 128k - 32k
        "COPILOT_PROVIDER_MAX_OUTPUT_TOKENS": "32000",
    }
    assert set(profile.unset) == set(copilot.OVERRIDES)
    assert not set(profile.unset) & set(profile.env)
    assert (profile.args, profile.files, profile.links) == ([], {}, {})  # no file at all


def test_the_limits_are_byecores_for_the_model(tmp_path):
    target = _target(**{"vendor/gpt-5.4": Limits(context_window=400_000,
                                                 max_output=128_000)})
    env = copilot.profile(target, _context(tmp_path)).env
    assert env["COPILOT_PROVIDER_MAX_PROMPT_TOKENS"] == "272000"
    assert env["COPILOT_PROVIDER_MAX_OUTPUT_TOKENS"] == "128000"
    small = _target(**{"vendor/gpt-5.4": Limits(context_window=8_000, max_output=8_000)})
    env = copilot.profile(small, _context(tmp_path)).env  # output as big as the window
    assert env["COPILOT_PROVIDER_MAX_PROMPT_TOKENS"] == "4000"


def test_the_model_id_is_the_models_own_name_for_copilots_catalog(tmp_path):
    routed = replace(_target(), model="vendor/openai/gpt-5.4")  # a gateway's vendor/model
    env = copilot.profile(routed, _context(tmp_path)).env
    assert env["COPILOT_MODEL"] == "vendor/openai/gpt-5.4"  # what the proxy routes
    assert env["COPILOT_PROVIDER_MODEL_ID"] == "gpt-5.4"


def test_the_descriptor_gives_run_what_a_writer_would():
    client = launch_only("copilot")
    assert client is copilot.CLIENT
    assert (client.name, client.title, client.executable, client.protocol) == (
        "copilot", "GitHub Copilot CLI", "copilot", "responses")
    assert launch_only("codex") is None  # a writer's client is not launch-only


def test_the_help_names_every_client_byecore_launches(cli):
    named = re.split(r", | or ", run_cmd.CLIENT_HELP.removesuffix("."))
    assert sorted(named) == sorted(PROFILES)
    for command in ("run", "env"):
        result = cli(command, "--help")
        assert result.exit_code == 0
        assert "copilot or cline-cli" in " ".join(result.output.split()).replace("- ", "-")


@pytest.fixture
def port(cli):
    return add_vendor(cli, "http://127.0.0.1:9", "chat")


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_env_lines_in_bash_win_over_a_stale_byok_setup(cli, port):
    result = cli("env", "copilot", "--shell", "bash")
    assert result.exit_code == 0, result.output
    script = result.stdout
    assert UPSTREAM_KEY not in script
    names = ["COPILOT_PROVIDER_BASE_URL", "COPILOT_PROVIDER_API_KEY", "COPILOT_MODEL",
             "COPILOT_PROVIDER_WIRE_API", *copilot.OVERRIDES]
    shown = "; ".join(f'echo "{n}=${{{n}-unset}}"' for n in names)
    run = subprocess.run([BASH, "--norc", "--noprofile", "-c", f'eval "$1"\n{shown}', "bash",
                          script], capture_output=True, text=True, timeout=30,
                         env={**os.environ, **STALE})
    assert run.returncode == 0, run.stderr
    seen = dict(line.split("=", 1) for line in run.stdout.splitlines())
    assert seen["COPILOT_PROVIDER_BASE_URL"] == f"http://127.0.0.1:{port}/v1"
    assert seen["COPILOT_PROVIDER_API_KEY"] == local_keys.all_keys()["copilot"]
    assert seen["COPILOT_MODEL"] == "vendor/vendor-model-1"
    assert seen["COPILOT_PROVIDER_WIRE_API"] == "responses"
    assert all(seen[name] == "unset" for name in copilot.OVERRIDES), seen
    assert "copilot()" not in script  # no arguments to add: no function
    assert "GitHub Copilot CLI → the byecore proxy" in script
    assert "it must be running for these to work: byecore proxy" in script


def test_env_lines_for_fish_powershell_and_json(cli, port):
    key = local_keys.get_or_create("copilot")
    fish = cli("env", "copilot", "--shell", "fish").stdout
    assert f"set -gx COPILOT_PROVIDER_API_KEY '{key}'" in fish
    assert "set -e COPILOT_PROVIDER_BEARER_TOKEN" in fish
    assert "byecore env copilot --shell fish | source" in fish
    pwsh = cli("env", "copilot", "--shell", "powershell").stdout
    assert f"$env:COPILOT_PROVIDER_BASE_URL = 'http://127.0.0.1:{port}/v1'" in pwsh
    assert ("Remove-Item Env:COPILOT_PROVIDER_HEADERS -ErrorAction SilentlyContinue"
            in pwsh)
    result = cli("env", "copilot", "--shell", "bash", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["data"]
    assert data["client"] == "copilot" and data["proxy_running"] is False
    assert data["env"]["COPILOT_PROVIDER_API_KEY"] == key
    assert data["unset"] == list(copilot.OVERRIDES)
    assert (data["args"], data["function"], data["files"]) == ([], None, [])


@pytest.mark.skipif(os.name == "nt", reason="the stand-in client is a POSIX script")
def test_run_gives_the_client_the_profile_and_its_arguments(port, tmp_path):
    bin_dir = tmp_path / "bin"
    install(bin_dir, "copilot")
    record = tmp_path / "rec.json"
    env = {**env_for(bin_dir, record, exit="7"), **STALE}
    args = ["-p", "fix the tests", "--allow-all-tools", "--model", "mine"]
    work = tmp_path / "work"
    work.mkdir()
    proc = run_byecore(["copilot", *args], env, work)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 7, err
    rec = record_of(record)
    assert rec["argv"] == args  # byecore adds no argument of its own
    seen = rec["env"]
    assert seen["COPILOT_PROVIDER_BASE_URL"] == f"http://127.0.0.1:{port}/v1"
    assert seen["COPILOT_PROVIDER_API_KEY"] == local_keys.all_keys()["copilot"]
    assert seen["COPILOT_PROVIDER_TYPE"] == "openai"
    assert seen["COPILOT_PROVIDER_WIRE_API"] == "responses"
    assert seen["COPILOT_MODEL"] == "vendor/vendor-model-1"
    assert seen["COPILOT_PROVIDER_MODEL_ID"] == "vendor-model-1"
    assert not set(copilot.OVERRIDES) & set(seen)
    assert rec["leases"] == [f"lease-{proc.pid}.json"]  # run's proxy served it
    assert f"GitHub Copilot CLI → byecore proxy http://127.0.0.1:{port}" in err
    assert UPSTREAM_KEY not in out + err
    assert runtime.running_proxy() is None


def test_a_missing_copilot_says_how_to_install_it(cli, port, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = cli("run", "copilot")
    assert result.exit_code == 1
    assert "GitHub Copilot CLI is not installed here (no 'copilot' on PATH)" in result.output
    assert "npm i -g @github/copilot" in result.output
    assert runtime.running_proxy() is None


def test_setup_copilot_points_to_run_and_env(cli):
    result = cli("setup", "copilot")
    assert result.exit_code == 2, result.output
    assert "configured by its environment alone" in result.output
    assert "byecore run copilot" in result.output
    assert 'eval "$(byecore env copilot)"' in result.output
