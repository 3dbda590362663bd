"""Clients whose settings live in app storage: what to paste where, as plain data.

byecore cannot (and should not) write into Cursor's or an extension's internal
storage, so for these it prints the exact values instead. Each client is one row:
where the settings are, which URL form its base-URL field wants (some append ``/v1``
themselves, some need it), and what its fields are called. ``paste_instructions``
turns a row and a ``Target`` into plain data for ``byecore setup CLIENT`` to render.
"""

from __future__ import annotations

import ipaddress
import shlex
from dataclasses import dataclass
from urllib.parse import urlsplit

from byecore_cli.clients.base import Target
from byecore_cli.errors import UsageError
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
    # Cursor sends requests from its own servers (its backend refuses localhost and
    # private addresses), so a URL on this machine cannot work there
    reaches_localhost: bool = True
    # a CLI that keeps its settings in its own store: the command that saves them
    # ({url}, {key}, {model} filled in), printed with the fields
    command: tuple[str, ...] = ()


_VSCODE_OPENAI = dict(url_label="Base URL", url_form="openai_base", key_label="API Key",
                      model_label="Model ID")

ROWS: tuple[PasteClient, ...] = (
    PasteClient(
        "cursor", "Cursor", "Cursor Settings → Models → API Keys",
        url_label="Override OpenAI Base URL", url_form="openai_base",
        key_label="OpenAI API Key", model_label="+ Add model (one per id)",
        notes=("turn on the base-URL override, then Verify; custom models work in Ask "
               "and Agent chat, not in Tab completion",
               "Cursor calls the URL from its own servers: it must be a public HTTPS "
               "address, never localhost or a private one"),
        reaches_localhost=False),
    PasteClient("cline", "Cline", "Cline panel → Settings (gear) → API Provider: "
                "OpenAI Compatible", **_VSCODE_OPENAI,
                notes=("set the context window under Model Configuration",)),
    PasteClient(
        "cline-cli", "Cline CLI", "a terminal (cline auth saves the provider in ~/.cline, "
        "or in the folder given with --config)", url_label="--baseurl",
        url_form="openai_base", key_label="--apikey", model_label="--modelid",
        command=("cline", "auth", "openai-compatible", "--baseurl", "{url}", "--apikey",
                 "{key}", "--modelid", "{model}"),
        notes=("then run cline \"a task\" (tools are auto-approved unless "
               "--auto-approve false)",
               "or leave Cline's own providers as they are: byecore run cline-cli "
               "\"a task\" gives it byecore's provider for that run alone")),
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
        "trae", "Trae", "Settings (gear in the chat panel) → Models → + Add Model → "
        "Custom Config, API Format: OpenAI Chat Completions, Full URL: off",
        url_label="Custom Request URL", url_form="openai_base", key_label="API Key",
        model_label="Model ID",
        notes=("with Full URL off Trae appends /chat/completions itself; no trailing /",
               "Trae needs its account sign-in before the Models screen opens")),
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
    if not row.reaches_localhost and _on_this_machine(target.root):
        raise _unreachable(row, target)
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
    command = [part.format(url=url, model=target.model, key=_command_key(target, key))
               for part in row.command]
    if command:
        notes.insert(0, "run: " + " ".join(shlex.quote(part) if "$" not in part
                                           else f'"{part}"' for part in command))
    if target.via_proxy:
        notes.append("these values point at byecore's local proxy: keep 'byecore proxy' "
                     "running while you use " + row.title)
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
        "command": command,
    }


def _command_key(target: Target, shown: str) -> str:
    """The key as a command line takes it: a variable stays a variable."""
    if target.key_env:
        return f"${target.key_env}"
    return shown if target.key is not None else "none"


def _on_this_machine(url: str) -> bool:
    """Whether ``url``'s host is loopback, private or link-local: a place a client's
    own servers cannot reach."""
    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "") or host.endswith((".localhost", ".local")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def _unreachable(row: PasteClient, target: Target) -> UsageError:
    """Why a URL on this machine cannot go into ``row``'s settings, and what does."""
    if target.via_proxy:
        where = f"byecore's local proxy ({target.root})"
        fix = ("make the proxy reachable at a public HTTPS address (a tunnel such as "
               "cloudflared or ngrok to its port), save that address as a provider "
               "(byecore provider add NAME --base-url https://…), and run 'byecore setup "
               f"{row.name} --provider NAME'; or use a provider with a public URL that "
               "speaks Chat Completions directly")
    else:
        where = f"{target.provider}'s URL {target.root}"
        fix = ("expose it at a public HTTPS address (a tunnel) and save that address "
               f"as a provider, then run 'byecore setup {row.name} --provider NAME'")
    return UsageError(f"{row.title} calls the base URL from its own servers, which refuse "
                      f"localhost and private addresses: {where} would fail there",
                      hint=fix)
