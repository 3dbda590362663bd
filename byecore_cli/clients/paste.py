"""Clients whose settings live in app storage: what to paste where, as plain data.

byecore cannot (and should not) write into Cursor's or an extension's internal
storage, so for these it prints the exact values instead. Each client is one row:
where the settings are, which URL form its base-URL field wants (some append ``/v1``
themselves, some need it), and what its fields are called. ``paste_instructions``
turns a row and a ``Target`` into plain data for ``byecore setup CLIENT`` to render.
"""

from __future__ import annotations

from dataclasses import dataclass

from byecore_cli.clients.base import Target
from byecore_cli.providers.keys import mask_key


@dataclass(frozen=True)
class PasteClient:
    name: str
    title: str
    where: str  # the path through the app's settings
    url_label: str
    url_form: str  # "openai_base" (root + /v1) or "root" (the client appends /v1 itself)
    key_label: str
    model_label: str
    notes: tuple[str, ...] = ()
    # Cursor sends requests from its own servers, so a URL on this machine cannot work
    reaches_localhost: bool = True


_VSCODE_OPENAI = dict(url_label="Base URL", url_form="openai_base", key_label="API Key",
                      model_label="Model ID")

ROWS: tuple[PasteClient, ...] = (
    PasteClient(
        "cursor", "Cursor", "Cursor Settings → Models → API Keys",
        url_label="Override OpenAI Base URL", url_form="openai_base",
        key_label="OpenAI API Key", model_label="+ Add model (one per id)",
        notes=("turn on the base-URL override, then Verify; custom models work in Ask "
               "and Agent chat, not in Tab completion",),
        reaches_localhost=False),
    PasteClient("cline", "Cline", "Cline panel → Settings (gear) → API Provider: "
                "OpenAI Compatible", **_VSCODE_OPENAI,
                notes=("set the context window under Model Configuration",)),
    PasteClient("roo", "Roo Code", "Roo Code panel → Settings → Providers → API Provider: "
                "OpenAI Compatible", **_VSCODE_OPENAI),
    PasteClient("kilo", "Kilo Code", "Kilo Code panel → Settings → Providers → API "
                "Provider: OpenAI Compatible", **_VSCODE_OPENAI),
    PasteClient(
        "cherry-studio", "Cherry Studio", "Settings → Model Provider → + Add, provider "
        "type OpenAI", url_label="API Host", url_form="root", key_label="API Key",
        model_label="Models → + Add",
        notes=("Cherry Studio appends /v1/chat/completions to the host itself; a host "
               "ending in /v1 would give /v1/v1",)),
    PasteClient(
        "chatbox", "Chatbox", "Settings → Model Provider → + Add, mode OpenAI API "
        "Compatible", url_label="API Host", url_form="openai_base", key_label="API Key",
        model_label="Model → + New",
        notes=("leave API Path at /chat/completions",)),
    PasteClient(
        "lobechat", "LobeChat", "Settings → AI Service Provider → OpenAI (or + a custom "
        "provider, request format OpenAI)", url_label="API Proxy Address",
        url_form="openai_base", key_label="API Key", model_label="Model List → + Add",
        notes=("turn on client-side fetching if the URL is only reachable from your "
               "machine (a self-hosted LobeChat server fetches from the server)",)),
    PasteClient(
        "nextchat", "NextChat", "Settings → Custom Endpoint (on)", url_label="Endpoint",
        url_form="root", key_label="API Key", model_label="Custom Models (comma-separated)",
        notes=("NextChat appends /v1/chat/completions to the endpoint itself",)),
)

PASTE_CLIENTS: tuple[str, ...] = tuple(row.name for row in ROWS)
_BY_NAME = {row.name: row for row in ROWS}


def paste_instructions(client: str, target: Target, show_key: bool) -> dict:
    """What to paste where in ``client``'s settings; the key masked unless ``show_key``."""
    row = _BY_NAME[client]
    url = target.openai_base if row.url_form == "openai_base" else target.root
    notes = list(row.notes)
    if target.key is None:
        key = f"(the value of ${target.key_env}, not set in this shell)" if target.key_env \
            else "(none needed: type any text if the field is required)"
    else:
        key = target.key if show_key else mask_key(target.key)
        if not show_key:
            notes.append("the key is masked: run again with --show-key to see it whole")
    if target.key_env and target.key is not None:
        notes.append(f"the key is the value of ${target.key_env}")
    if target.via_proxy:
        notes.append("these values point at byecore's local proxy: keep 'byecore proxy' "
                     "running while you use " + row.title)
        if not row.reaches_localhost:
            notes.append(f"{row.title} sends requests from its own servers, which cannot "
                         f"reach {target.root} on your machine: use a provider with a "
                         "public URL directly instead")
    return {
        "client": row.name,
        "title": row.title,
        "where": row.where,
        "fields": [
            {"label": row.url_label, "value": url},
            {"label": row.key_label, "value": key, "secret": target.key is not None},
            {"label": row.model_label, "value": target.model},
        ],
        "models": list(target.models),
        "url_form": "root + /v1" if row.url_form == "openai_base" else
                    "root (the client adds /v1)",
        "notes": notes,
    }
