"""setup / dry-run / restore through the CLI for the chat-completions clients.

Each client starts from a real-shaped file of the user's; the engine must leave it
byte-identical after restore, keep modes right, and say "up to date" on a re-run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clients.conftest import KEY, place, snapshot

# client -> [(fixture, where it lives under HOME, holds byecore's key after setup)]
PLACED = {
    "aider": [("aider.conf.yml", ".aider.conf.yml", True),
              ("aider.model.metadata.json", ".aider.model.metadata.json", False)],
    "opencode": [("opencode.jsonc", ".config/opencode/opencode.jsonc", True)],
    "crush": [("crush.json", ".config/crush/crush.json", True),
              ("crush-data.json", ".local/share/crush/crush.json", False)],
    "droid": [("droid-settings.json", ".factory/settings.json", True)],
    "continue": [("continue-config.yaml", ".continue/config.yaml", True)],
    "zed": [("zed-settings.json", ".config/zed/settings.json", False)],
}


def _place_all(client: str, home: Path) -> None:
    for fixture, where, _ in PLACED[client]:
        place(fixture, home / where, 0o644)


@pytest.mark.parametrize("client", sorted(PLACED))
def test_setup_then_restore_is_byte_identical(client, run, gateway, home):
    _place_all(client, home)
    before = snapshot(home)
    code, body = run("setup", client)
    assert code == 0, body
    after = snapshot(home)
    for _, where, secret in PLACED[client]:
        data, mode = after[where]
        assert data != before[where][0], where  # byecore's keys went in
        assert mode == (0o600 if secret else 0o644), where
        assert (KEY.encode() in data) == secret, where
    code, body = run("setup", client)
    assert code == 0 and body["data"]["up_to_date"], body
    assert snapshot(home) == after
    code, body = run("restore", client)
    assert code == 0, body
    assert snapshot(home) == before


@pytest.mark.parametrize("client", sorted(PLACED))
def test_dry_run_masks_the_key_and_writes_nothing(client, cli, gateway, home):
    _place_all(client, home)
    before = snapshot(home)
    result = cli("setup", client, "--dry-run")
    assert result.exit_code == 0, result.output
    assert KEY not in result.stdout
    assert "https://gw.example.com/v1" in result.stdout
    assert snapshot(home) == before


@pytest.mark.parametrize("client", sorted(PLACED))
def test_status_after_setup_points_at_the_provider(client, run, gateway, home):
    _place_all(client, home)
    assert run("setup", client)[0] == 0
    code, body = run("status")
    row = next(r for r in body["data"]["clients"] if r["client"] == client)
    assert row["configured"] and row["base_url"] == "https://gw.example.com/v1", row
    assert row["hand_edited"] == [] and row["problems"] == [], row
