"""The real OpenClaw finishes a shell-tool task through ``byecore run openclaw``.

``byecore run openclaw agent exec --json …`` (a real subprocess that starts its own
proxy) against a vendor speaking only Anthropic Messages, with HOME's own JSON5
``openclaw.json`` pointing OpenClaw at a dead local model: the run reads byecore's copy
(``OPENCLAW_CONFIG_PATH``), runs OpenClaw's ``exec`` tool, and leaves the user's file
byte for byte, with no key anywhere in HOME. Needs ``openclaw`` and a ``node24`` link
in ``BYECORE_CLIENT_BIN`` (see ``tests/clients/test_real_openclaw.py``). Verified with
openclaw 2026.9.6 on Node 24.21.0.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.clients.conftest import FIXTURES
from tests.clients.test_real_clients import _needs
from tests.clients.test_real_openclaw import MARK, PROMPT, _node24_first, _tool_result, _turn
from tests.launch.harness import MODEL, check_home, run_client, secrets, writer_files
from tests.launch.upstreams import MessagesOnlyUpstream
from tests.proxy.test_real_clients_proxy import FINAL, UPSTREAM_KEY


@_needs("openclaw")
async def test_openclaw_agent_exec_through_run_on_a_messages_only_upstream(cli, tmp_path,
                                                                          monkeypatch):
    home = Path(os.environ["HOME"])
    bins = os.environ.get("BYECORE_CLIENT_BIN")
    if bins:  # the clients, then Node 24 before them (their node is Kimi's node 22)
        monkeypatch.setenv("PATH", os.pathsep.join((bins, os.environ["PATH"])))
    mine = (FIXTURES / "openclaw.json5").read_bytes()
    upstream = MessagesOnlyUpstream(_turn)
    outcome = await run_client(cli, "openclaw", upstream, "messages",
                               ["agent", "exec", "--json", PROMPT],
                               seed={".openclaw/openclaw.json": mine}, timeout=240,
                               env={"PATH": _node24_first(tmp_path)})
    why = (*outcome.why, upstream.other)
    assert outcome.code == 0, why
    envelope = json.loads(outcome.out)
    assert envelope["ok"] and envelope["final"].strip() == FINAL, why
    assert envelope["provider"] == "byecore" and "exec" in envelope["toolSummary"]["tools"]
    assert (outcome.work / "proof.txt").read_text().strip() == "hi"  # the tool really ran
    replays = [r["body"] for r in upstream.requests if upstream.answered(r["body"])]
    assert replays and MARK in _tool_result(replays[0]), why
    assert upstream.other == []
    for r in upstream.requests:  # translated: the vendor's key and model, Messages only
        assert r["headers"].get("x-api-key") == UPSTREAM_KEY
        assert r["body"]["model"] == MODEL
    check_home(outcome, writer_files("openclaw"), secrets("openclaw"))
    assert (home / ".openclaw" / "openclaw.json").read_bytes() == mine
