"""GitHub Copilot CLI through byecore's proxy: a client configured by its environment alone.

Copilot CLI (checked with @github/copilot 1.0.102) has a "bring your own key" mode that
no file of its own selects: ``COPILOT_PROVIDER_BASE_URL`` turns it on, and then no GitHub
login is needed. So byecore has no setup writer for it; ``byecore run copilot`` and
``byecore env copilot`` give it these variables and nothing else.

Of the wires it offers (``COPILOT_PROVIDER_TYPE`` openai with ``COPILOT_PROVIDER_WIRE_API``
completions or responses, or anthropic), byecore gives it OpenAI Responses, because that
is the one it keeps reasoning on: with a Messages upstream that thinks before a tool
call, the Chat wire replayed the call without the signed thinking, while the Responses
wire asked for ``reasoning.encrypted_content`` with ``store: false`` and sent the
thinking back whole on the next turn (byecore packs other protocols' opaque reasoning
into that field). The Messages wire kept it too, but for a model outside Copilot's
catalog it warned on stderr about token counting and asked for 8192 output tokens.
Every wire was tried through the proxy to a shell tool run to its end.

- The base URL is the OpenAI base with ``/v1`` (Copilot appends ``/responses``); the key
  is sent as ``Authorization: Bearer``.
- ``COPILOT_MODEL`` is the model byecore routes (``provider/model``), and it beats a
  ``model`` in ~/.copilot's settings. ``COPILOT_PROVIDER_MODEL_ID`` is the model's own
  name, without byecore's provider or a gateway's vendor (``openai/gpt-5.4`` →
  ``gpt-5.4``): Copilot picks its prompts and tools by that id when its catalog has it
  (``gpt-5.4`` gets the ``apply_patch`` tool, tried through the proxy to a Messages
  upstream), and falls back to safe defaults when not.
  Its token limits are byecore's for the model (``Target.limits_for``), which beat the
  catalog's: the window less the output for the prompt, and the output.
- ``OVERRIDES`` are removed from the environment, each tried with the binary: a bearer
  token, a key command or an ``Authorization`` header beats the key, a wire model beats
  the model, a GHES host (with its token) replaces the provider, and the websockets
  transport asks the proxy for something it does not serve. A ``providers.json`` in
  ``COPILOT_HOME`` does not beat these variables.
- ``COPILOT_OFFLINE`` is left to the user: it would also turn off Copilot's web tools
  and GitHub MCP server. Copilot writes its sessions, logs and config.json to
  ``COPILOT_HOME`` (~/.copilot) and unpacks itself to ~/.cache/copilot as usual; the
  key lands in none of them.
"""

from __future__ import annotations

from byecore_cli.clients.base import Target
from byecore_cli.launch import LaunchOnly
from byecore_cli.launch.profiles import Context, Profile, _key

CLIENT = LaunchOnly(name="copilot", title="GitHub Copilot CLI", executable="copilot",
                    protocol="responses")

# Variables that would beat byecore's for one run (Copilot CLI 1.0.102).
OVERRIDES = ("COPILOT_PROVIDER_BEARER_TOKEN", "COPILOT_PROVIDER_API_KEY_COMMAND",
             "COPILOT_PROVIDER_HEADERS", "COPILOT_PROVIDER_WIRE_MODEL",
             "COPILOT_PROVIDER_TRANSPORT", "COPILOT_PROVIDER_GHES_HOST",
             "COPILOT_PROVIDER_GHES_TOKEN")


def profile(target: Target, ctx: Context) -> Profile:
    limits = target.limits_for(target.model)
    env = {
        "COPILOT_PROVIDER_BASE_URL": target.openai_base,
        "COPILOT_PROVIDER_TYPE": "openai",
        "COPILOT_PROVIDER_WIRE_API": "responses",
        "COPILOT_PROVIDER_API_KEY": _key(target),
        "COPILOT_MODEL": target.model,
        "COPILOT_PROVIDER_MODEL_ID": target.model.rpartition("/")[2],
        # the prompt and the answer share the window
        "COPILOT_PROVIDER_MAX_PROMPT_TOKENS": str(max(limits.context_window - limits.max_output,
                                                      limits.context_window // 2)),
        "COPILOT_PROVIDER_MAX_OUTPUT_TOKENS": str(limits.max_output),
    }
    return Profile(env=env, unset=list(OVERRIDES))
