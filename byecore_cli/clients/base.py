"""The contract between byecore and one coding client: what a writer is given and returns.

A writer knows one client and nothing about disks, backups or prompts. It is pure:
given a ``Target`` (where the client should point) and the current bytes of each file
it owns (``None`` when absent), it returns the new bytes of each file. The engine
(``clients/engine.py``) does everything else — reading, backups, hand-edit checks,
atomic writes, modes, diffs — the same way for every client.

Writing a writer for a new client::

    class MyClient:
        name = "myclient"             # the CLI name: byecore setup myclient
        title = "My Client"
        protocol = "chat"             # the one protocol it speaks: chat, responses, messages
        executable = "myclient"       # looked up on PATH to say "installed"

        def files(self, env, home) -> dict[str, ClientFile]: ...
        def plan(self, target, current) -> Plan: ...
        def read(self, current) -> Reading: ...
        def check_env(self, env) -> list[str]: ...

then list it in ``clients/__init__.py``'s ``WRITERS``. Rules every writer keeps:

- Touch only the keys the writer owns; return every other byte of the file as it was
  (``tomlkit`` for TOML, ``clients/jsonedit.py`` for JSON and JSONC).
- Return exactly the current bytes when nothing needs to change (that is how the
  engine says "already up to date").
- Raise ``Unparsable`` for a file it cannot parse; never guess at a broken file. The
  engine refuses, or with ``--force`` calls ``plan`` again with that file as ``None``.
- Put into ``Reading.owned`` the current values of every key it owns: the engine hashes
  them to notice when the user changed byecore's keys by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from byecore_cli.providers.endpoints import Protocol as WireProtocol

Current = Mapping[str, "bytes | None"]  # role -> the file's bytes now (None: absent)


def env_folder(env: Mapping[str, str], name: str, default: Path) -> Path:
    """A client's folder: the one ``env[name]`` names (``~`` expanded), else ``default``
    (``CODEX_HOME``, ``CLAUDE_CONFIG_DIR`` and the like)."""
    return Path(env[name]).expanduser() if env.get(name) else default


# The key byecore gives a client that refuses to run without one (most do) when there is
# none to give: a local proxy without keys, a keyless local provider.
NO_KEY = "byecore-no-key"


@dataclass(frozen=True)
class Limits:
    """What a client needs to know about a model's size to stop warning about it."""

    context_window: int = 128_000
    max_output: int = 32_000


@dataclass(frozen=True)
class Target:
    """Where a client should point; built once per client by ``clients/targets.py``.

    The URLs are already in every form a client may need: pick the one your client
    wants (most OpenAI clients: ``openai_base``; Claude Code: ``anthropic_base``;
    Gemini CLI: ``gemini_base``).

    Keys: when the provider keeps its key in an environment variable, ``key_env`` names
    it — write a reference to it where the client can read one (``{env:VAR}``,
    ``env_key``) — and ``key`` is its value now, for clients that cannot (``None`` when
    the variable is unset). Otherwise ``key`` is the stored key and ``key_env`` is None.
    Both are None for a keyless local provider.
    """

    provider: str  # the saved provider's name, e.g. "byecore"
    model: str  # the model id the client should send
    models: tuple[str, ...]  # every model to offer, the chosen one first
    root: str  # the root the client talks to: the provider's, or the local proxy's
    openai_base: str  # root + OpenAI path, e.g. https://api.byecore.com/v1
    anthropic_base: str  # root + Anthropic path (no /v1), e.g. https://api.byecore.com
    key: str | None  # the key's value
    key_env: str | None  # the environment variable that holds it, if that is where
    via_proxy: bool = False  # True: root is byecore's local proxy, key its local key
    gemini_base: str = ""  # root + Gemini path, e.g. https://api.byecore.com/v1beta
    limits: Mapping[str, Limits] = field(default_factory=dict)

    def limits_for(self, model: str) -> Limits:
        return self.limits.get(model, Limits())


@dataclass(frozen=True)
class ClientFile:
    """A file a writer owns keys in. ``role`` names it in plans ("config", "auth")."""

    role: str
    path: Path
    format: str  # "toml", "json", "jsonc", "json5", "yaml", "text": for people and diffs


@dataclass
class Plan:
    """What a writer wants each file to become.

    ``files`` maps role -> new bytes (``None``: the file should not exist). A role left
    out is not touched. ``secret`` lists the roles whose new content holds a key: the
    engine writes those with mode 0600. ``notes`` are sentences for the user (why a
    mechanism was chosen, what to do next).
    """

    files: dict[str, bytes | None]
    secret: frozenset[str] = frozenset()
    notes: list[str] = field(default_factory=list)


@dataclass
class Reading:
    """What a client's files point at now, for ``status`` and for hand-edit checks."""

    configured: bool  # byecore's keys are present
    base_url: str | None = None
    model: str | None = None
    label: str | None = None  # e.g. the provider table's display name
    owned: dict[str, Any] = field(default_factory=dict)  # byecore's keys and their values
    problems: list[str] = field(default_factory=list)


class Unparsable(Exception):
    """A file the writer cannot parse; the engine names the file in the error."""

    def __init__(self, role: str, problem: str, line: int | None = None) -> None:
        super().__init__(problem)
        self.role, self.problem, self.line = role, problem, line


class Writer(Protocol):
    name: ClassVar[str]
    title: ClassVar[str]
    protocol: ClassVar[WireProtocol]
    executable: ClassVar[str]

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        """The files this client reads, honouring its own env vars (CODEX_HOME…)."""
        ...

    def plan(self, target: Target, current: Current) -> Plan:
        """New bytes for each owned file; raises ``Unparsable``."""
        ...

    def read(self, current: Current) -> Reading:
        """What the files point at now; raises ``Unparsable``."""
        ...

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        """Problems in the shell environment that would override the files (or [])."""
        ...


def file_text(data: bytes | None, role: str) -> str:
    """A client file's text, "" when absent; ``Unparsable`` when it is not UTF-8."""
    if data is None:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unparsable(role, f"not UTF-8 text ({exc.reason})") from None


def member(data: object, *path: str) -> object:
    """``data[a][b]…`` of a parsed JSON file; None when a step is absent or not an object."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def json_object(text: str, role: str, *, comments: bool = False,
                objects: tuple[str, ...] = ()) -> dict:
    """A client's JSON (or JSONC) file as a dict: {} when blank.

    ``Unparsable`` names the line for a syntax error, and also refuses a top level that
    is not an object, or any key in ``objects`` whose value is not one (byecore would
    have to replace it to add its own entries).
    """
    from byecore_cli.clients import jsonedit

    if not text.strip():
        return {}
    try:
        data = jsonedit.loads(text, comments=comments)
    except jsonedit.JsonSyntaxError as exc:
        kind = "JSONC" if comments else "JSON"
        raise Unparsable(role, f"this is not valid {kind} ({exc.problem})", exc.line) from None
    if not isinstance(data, dict):
        raise Unparsable(role, "expected a JSON object at the top level", 1)
    for key in objects:
        if key in data and not isinstance(data[key], dict):
            raise Unparsable(role, f'"{key}" is not a JSON object')
    return data
