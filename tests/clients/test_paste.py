"""Paste-only clients: the right URL form per client, the key masked by default."""

from __future__ import annotations

import pytest

from byecore_cli.clients.paste import PASTE_CLIENTS, ROWS, paste_instructions
from byecore_cli.errors import UsageError
from tests.clients.factory import KEY, make_target, proxy_target

ISSUE_CLIENTS = ("cursor", "cline", "cline-cli", "roo", "kilo", "cherry-studio", "chatbox",
                 "lobechat", "trae", "nextchat")


def test_every_client_named_in_the_issue_has_one_consistent_row():
    assert PASTE_CLIENTS == ISSUE_CLIENTS
    for row in ROWS:
        assert row.url_form in ("openai_base", "root")
        assert row.where and row.url_label and row.key_label and row.model_label


@pytest.mark.parametrize("client", ISSUE_CLIENTS)
def test_key_is_masked_unless_asked(client):
    out = paste_instructions(client, make_target(), show_key=False)
    text = repr(out)
    assert KEY not in text and "…" in out["fields"][1]["value"]
    shown = paste_instructions(client, make_target(), show_key=True)
    assert shown["fields"][1]["value"] == KEY
    assert shown["models"] == ["gpt-5.4", "gpt-5.4-mini"]
    assert shown["fields"][2]["value"] == "gpt-5.4"


def test_url_form_follows_what_each_client_appends():
    url = {c: paste_instructions(c, make_target(), False)["fields"][0]["value"]
           for c in ISSUE_CLIENTS}
    assert url["cline"] == url["cursor"] == url["roo"] == "https://api.example.com/v1"
    assert url["trae"] == url["cline-cli"] == "https://api.example.com/v1"  # they add the rest
    assert url["cherry-studio"] == url["nextchat"] == "https://api.example.com"


def test_cursor_refuses_the_local_proxy_with_the_fix_instead_of_a_url_that_fails():
    with pytest.raises(UsageError) as caught:
        paste_instructions("cursor", proxy_target(), False)
    assert "127.0.0.1:4000" in str(caught.value) and "localhost" in str(caught.value)
    assert "public HTTPS" in caught.value.hint and "tunnel" in caught.value.hint
    # a provider of its own on this machine or the LAN fails the same way
    for root in ("http://localhost:11434", "http://192.168.1.20:8000", "http://[::1]:4000"):
        with pytest.raises(UsageError):
            paste_instructions("cursor", make_target(root=root, openai_base=root + "/v1"),
                               False)
    public = paste_instructions("cursor", make_target(), False)
    assert public["fields"][0]["value"] == "https://api.example.com/v1"
    # clients that call from this machine take the proxy
    assert paste_instructions("cline", proxy_target(), False)["fields"][0]["value"] == (
        "http://127.0.0.1:4000/v1")


def test_setup_cursor_via_proxy_fails_with_the_fix(cli, gateway):
    result = cli("setup", "cursor", "--via-proxy")
    assert result.exit_code == 2
    assert "public HTTPS" in result.stderr and "http://127.0.0.1" not in result.stdout


def test_cline_cli_gets_the_command_that_saves_its_provider():
    out = paste_instructions("cline-cli", make_target(), show_key=False)
    assert out["command"][:3] == ["cline", "auth", "openai-compatible"]
    assert KEY not in repr(out) and out["notes"][0].startswith("run: cline auth ")
    shown = paste_instructions("cline-cli", make_target(), show_key=True)["command"]
    assert shown[shown.index("--apikey") + 1] == KEY
    kept = paste_instructions("cline-cli", make_target(key_env="GW_KEY"), True)
    assert '--apikey "$GW_KEY"' in kept["notes"][0]  # the shell expands it, never printed
    assert paste_instructions("cline", make_target(), False)["command"] == []


def test_key_kept_in_an_unset_variable():
    out = paste_instructions("cline", make_target(key=None, key_env="GW_KEY"), False)
    assert "$GW_KEY" in out["fields"][1]["value"] and out["fields"][1]["secret"] is False


def test_setup_prints_paste_instructions_and_writes_nothing(cli, gateway, home):
    import json as _json

    from tests.clients.conftest import KEY as GATEWAY_KEY

    before = sorted(p for p in home.rglob("*"))
    result = cli("setup", "cline", "--json")
    assert result.exit_code == 0, result.output
    data = _json.loads(result.stdout)["data"]
    values = {f["label"]: f["value"] for f in data["fields"]}
    assert values["Base URL"] == "https://gw.example.com/v1"
    assert GATEWAY_KEY not in result.stdout and "sk-…" in values["API Key"]
    assert sorted(p for p in home.rglob("*")) == before

    shown = cli("setup", "cline", "--show-key")
    assert shown.exit_code == 0 and GATEWAY_KEY in shown.stdout


def test_unknown_client_lists_both_kinds(cli):
    result = cli("setup", "notepad")
    assert result.exit_code == 2
    assert "codex" in result.stderr and "cursor" in result.stderr
