"""Cline CLI, launched with a providers file of byecore's own and Cline's local backend.

The file is the store ``cline auth`` writes (checked against Cline 3.0.65's schema: an
entry without an ISO ``updatedAt`` is dropped), with the proxy's OpenAI base, the
client's local key and byecore's limits for the model; the real run is in
``test_real_run_npm.py``.
"""

from __future__ import annotations

import json
import re
import stat
from datetime import datetime
from pathlib import Path

from byecore_cli.clients import local_keys
from byecore_cli.clients.base import Limits, Target
from byecore_cli.launch import cline, launch_only, profiles
from byecore_cli.paths import Paths
from tests.launch.harness import add_vendor
from tests.proxy.test_real_clients_proxy import UPSTREAM_KEY

ROOT = "http://127.0.0.1:4123"


def _target(key: str | None = "bc-local-abc") -> Target:
    return Target(provider="vendor", model="vendor/m1", models=("vendor/m1",), root=ROOT,
                  openai_base=ROOT + "/v1", anthropic_base=ROOT, key=key, key_env=None,
                  via_proxy=True, gemini_base=ROOT + "/v1beta",
                  limits={"vendor/m1": Limits(context_window=200_000, max_output=64_000)})


def _profile(tmp_path: Path, env: dict | None = None, key: str | None = "bc-local-abc"):
    ctx = profiles.Context(env=env or {}, home=tmp_path / "home", folder=tmp_path / "p")
    return profiles.PROFILES["cline-cli"](_target(key), ctx)


def test_the_providers_file_selects_byecores_openai_compatible_provider(tmp_path):
    profile = _profile(tmp_path)
    assert profile.env == {"CLINE_PROVIDER_SETTINGS_PATH": str(tmp_path / "p" / cline.FILE),
                           "CLINE_SESSION_BACKEND_MODE": "local"}
    store = json.loads(profile.files[cline.FILE])
    assert store["version"] == 1 and store["lastUsedProvider"] == "openai-compatible"
    entry = store["providers"]["openai-compatible"]
    assert entry["settings"] == {"provider": "openai-compatible", "apiKey": "bc-local-abc",
                                 "model": "vendor/m1", "baseUrl": ROOT + "/v1",
                                 "contextWindow": 200_000, "maxTokens": 64_000}
    assert entry["tokenSource"] == "manual"
    # zod's datetime(): UTC with a Z, as cline auth writes it
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["updatedAt"])
    assert datetime.fromisoformat(entry["updatedAt"].replace("Z", "+00:00"))
    assert (profile.args, profile.unset, profile.links, profile.notes) == ([], [], {}, [])


def test_a_proxy_without_keys_still_gets_a_key_cline_accepts(tmp_path):
    store = json.loads(_profile(tmp_path, key=None).files[cline.FILE])
    assert store["providers"]["openai-compatible"]["settings"]["apiKey"] == "byecore-no-key"


def test_a_users_hub_backend_is_replaced_and_said(tmp_path):
    profile = _profile(tmp_path, env={"CLINE_SESSION_BACKEND_MODE": "hub"})
    assert profile.env["CLINE_SESSION_BACKEND_MODE"] == "local"
    [note] = profile.notes
    assert "CLINE_SESSION_BACKEND_MODE is replaced by local" in note
    assert _profile(tmp_path, env={"CLINE_SESSION_BACKEND_MODE": "Local"}).notes == []


def test_options_that_bypass_byecore_are_pointed_out():
    said = profiles.clashes("cline-cli", ["-P", "anthropic", "-k", "sk-x", "fix it"])
    assert [n.split()[2] for n in said] == ["--provider", "--key"]
    assert "background process" in profiles.clashes("cline-cli", ["--zen", "task"])[0]
    assert profiles.clashes("cline-cli", ["--model=other", "-m", "x", "fix it"]) == []
    assert profiles.clashes("cline-cli", ["--provider=cline"])


def test_the_descriptor_names_the_cline_binary():
    client = launch_only("cline-cli")
    assert client is cline.CLIENT
    assert (client.name, client.title, client.executable, client.protocol) == (
        "cline-cli", "Cline CLI", "cline", "chat")
    assert profiles.INSTALL["cline-cli"] == "npm i -g cline"


def test_env_writes_the_file_private_and_points_the_shell_at_it(cli):
    port = add_vendor(cli, "http://127.0.0.1:9", "chat")
    result = cli("env", "cline-cli", "--shell", "bash", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["data"]
    path = Paths.current().home / "launch" / "cline-cli" / cline.FILE
    assert data["files"] == [str(path)]
    assert data["env"]["CLINE_PROVIDER_SETTINGS_PATH"] == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    settings = json.loads(path.read_text())["providers"]["openai-compatible"]["settings"]
    assert settings["baseUrl"] == f"http://127.0.0.1:{port}/v1"
    assert settings["apiKey"] == local_keys.all_keys()["cline-cli"]
    assert UPSTREAM_KEY not in result.stdout + path.read_text()
    assert any("cline -z" in note for note in data["notes"])


def test_setup_cline_cli_is_still_the_cline_auth_command(cli):
    add_vendor(cli, "http://127.0.0.1:9", "chat")
    result = cli("setup", "cline-cli", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["data"]["command"][:3] == [
        "cline", "auth", "openai-compatible"]
