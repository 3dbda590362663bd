"""Real Hermes Agent and Kimi Code finish a shell-tool task through ``byecore run``.

Each runs non-interactively through ``byecore run CLIENT ARGS…`` (a real subprocess
that starts its own proxy) against a scripted vendor speaking only Anthropic Messages,
which neither client speaks: Hermes in a borrowed HERMES_HOME, Kimi Code with a model
defined in its environment. HOME already holds the client's folder: a config that
selects a provider of the user's on a dead port with a stale key, a session from an
earlier run, and (for Hermes) a ``.env``. The shell also sets the variables that would
beat the config. The run must reach byecore's proxy anyway, leave every file of HOME
byte for byte, write no key into HOME, and leave no proxy behind. Skipped only when a
binary is absent (``BYECORE_CLIENT_BIN``). Verified with hermes-agent 0.19.0 and
@moonshot-ai/kimi-code 2.1.0 (on npm's node 22, first on PATH in
``BYECORE_CLIENT_BIN``).
"""

from __future__ import annotations

from tests.clients.test_real_clients import _needs
from tests.launch.harness import (
    DEAD,
    MODEL,
    STALE,
    check_home,
    run_client,
    secrets,
    user_home,
    writer_files,
)
from tests.launch.upstreams import MessagesOnlyUpstream
from tests.proxy.test_real_clients_proxy import COMMAND, FINAL, PROMPT, UPSTREAM_KEY


def _shell_turn(tool: str):
    """Ask for ``tool`` (one ``command`` string) until its result comes back, then say
    FINAL; anything else (a title, a summary) gets a short text."""

    def turn(body: dict, upstream: MessagesOnlyUpstream):
        tools = upstream.tools(body)
        if upstream.answered(body):
            return ("text", FINAL)
        if tool in tools:
            assert "command" in tools[tool].get("properties", {}), tools[tool]
            return ("tool", tool, {"command": COMMAND})
        return ("text", "Proof")

    return turn


def _checks(upstream: MessagesOnlyUpstream, outcome, client: str) -> None:
    why = (*outcome.why, upstream.other,
           [[m["role"] for m in r["body"]["messages"]] for r in upstream.requests])
    assert outcome.code == 0, why
    assert (outcome.work / "proof.txt").read_text().strip() == "hi", why  # the tool ran
    assert FINAL in outcome.out, why  # the answer after the tool's result came back
    assert upstream.other == [], why
    assert any(upstream.answered(r["body"]) for r in upstream.requests), why
    for r in upstream.requests:
        assert r["headers"].get("x-api-key") == UPSTREAM_KEY
        assert r["body"]["model"] == MODEL
    check_home(outcome, writer_files(client), secrets(client))


HERMES_CONFIG = f"""\
# mine, by hand
model:
  default: old-model
  provider: custom:mine
custom_providers:
  - name: mine
    base_url: {DEAD}/v1
    api_key: {STALE}
    api_mode: chat_completions
terminal:
  backend: local
""".encode()


@_needs("hermes")
async def test_hermes_oneshot_through_run_on_a_messages_only_upstream(cli):
    """``hermes -z`` with approvals bypassed: its terminal tool, through the proxy."""
    upstream = MessagesOnlyUpstream(_shell_turn("terminal"))
    outcome = await run_client(
        cli, "hermes", upstream, "messages",
        ["-z", PROMPT, "--yolo"], seed={
            ".hermes/config.yaml": HERMES_CONFIG,
            ".hermes/.env": f"OPENAI_API_KEY={STALE}\n".encode(),
            ".hermes/sessions/earlier.json": b"{}\n"},
        env={"HERMES_INFERENCE_MODEL": "old-model",
             "HERMES_INFERENCE_PROVIDER": "openrouter"})
    _checks(upstream, outcome, "hermes")


KIMI_CONFIG = f"""\
# mine
default_model = "mine/old"

[providers.mine]
type = "openai"
base_url = "{DEAD}/v1"
api_key = "{STALE}"

[models."mine/old"]
provider = "mine"
model = "old"
max_context_size = 131072
""".encode()


@_needs("kimi")
async def test_kimi_code_prompt_mode_through_run_on_a_messages_only_upstream(cli):
    """``kimi -p`` runs tools without asking: its Bash tool, through the proxy. The run
    defines its model in the environment, so what Kimi records (workspaces.json, which it
    replaces by a rename) lands in the user's own folder."""
    upstream = MessagesOnlyUpstream(_shell_turn("Bash"))
    outcome = await run_client(
        cli, "kimi", upstream, "messages",
        ["-p", PROMPT], seed={".kimi-code/config.toml": KIMI_CONFIG},
        env={"KIMI_MODEL_NAME": "old", "KIMI_MODEL_BASE_URL": f"{DEAD}/v1",
             "KIMI_MODEL_API_KEY": STALE, "KIMI_MODEL_MAX_TOKENS": "77",
             "KIMI_SECONDARY_MODEL": "mine/old"})
    _checks(upstream, outcome, "kimi")
    workspaces = user_home() / ".kimi-code" / "workspaces.json"
    assert str(outcome.work) in workspaces.read_text()
    assert all(r["body"]["max_tokens"] != 77 for r in upstream.requests)
