"""Cline CLI through byecore's proxy, for one run: a providers file of byecore's own.

Cline CLI (npm ``cline``, checked with 3.0.65) keeps its providers in
``~/.cline/data/settings/providers.json``, which ``cline auth`` writes (``byecore setup
cline-cli`` prints that command); there is no writer, because that file is Cline's own
store. For a run, ``CLINE_PROVIDER_SETTINGS_PATH`` names a file of byecore's instead:
``{version: 1, lastUsedProvider, modes, providers: {id: {settings, updatedAt,
tokenSource}}}``, where ``updatedAt`` must be an ISO time (without it Cline drops the
entry and falls back to its own ``cline`` provider) and ``settings`` takes ``provider``,
``apiKey``, ``model``, ``baseUrl`` (with ``/v1``; it calls ``/chat/completions``),
``contextWindow`` and ``maxTokens``.

By default a task runs in a shared background process, ``cline --cline-hub-daemon``,
started by the first run and reused by every later one, whatever their environment.
Tried with the binary: the daemon takes the base URL from the providers file of the run
that started it, and the key and model from the run that asks, so a run pointed at
byecore's file sent the user's later plain runs (with their own key) to byecore's
proxy, and a daemon already running sent byecore's run to the user's server.
``CLINE_SESSION_BACKEND_MODE=local`` runs the task in the ``cline`` process itself: no
daemon is started or used, the user's daemon is left alone, and sessions are still
saved in the user's ``~/.cline/data``. Cline's ``-z``/``--zen`` (a background task)
needs the daemon and says so; ``-P``, ``-k`` would replace byecore's provider or key.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from byecore_cli.clients.base import NO_KEY, Target
from byecore_cli.launch import LaunchOnly
from byecore_cli.launch.profiles import Context, Profile, _key

CLIENT = LaunchOnly(name="cline-cli", title="Cline CLI", executable="cline", protocol="chat")

PROVIDER_ID = "openai-compatible"  # Cline's provider for any OpenAI Chat server
FILE = "cline-providers.json"


def profile(target: Target, ctx: Context) -> Profile:
    limits = target.limits_for(target.model)
    settings = {"provider": PROVIDER_ID, "apiKey": _key(target) or NO_KEY,
                "model": target.model, "baseUrl": target.openai_base,
                "contextWindow": limits.context_window, "maxTokens": limits.max_output}
    stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    store = {"version": 1, "lastUsedProvider": PROVIDER_ID, "modes": {},
             "providers": {PROVIDER_ID: {"settings": settings,
                                         "updatedAt": stamp.replace("+00:00", "Z"),
                                         "tokenSource": "manual"}}}
    notes = []
    if ctx.env.get("CLINE_SESSION_BACKEND_MODE", "").strip().lower() not in ("", "local"):
        notes.append("your CLINE_SESSION_BACKEND_MODE is replaced by local for this run: "
                     "Cline's shared background process would not read byecore's provider")
    if ctx.persistent:
        notes.append("in this shell Cline runs each task in its own process, not in its "
                     "shared background one, so cline -z (a background task) is refused")
    return Profile(env={"CLINE_PROVIDER_SETTINGS_PATH": str(ctx.folder / FILE),
                        "CLINE_SESSION_BACKEND_MODE": "local"},
                   files={FILE: (json.dumps(store, indent=2) + "\n").encode()}, notes=notes)
