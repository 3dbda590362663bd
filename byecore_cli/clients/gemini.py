"""Gemini CLI: ``~/.gemini/.env`` and ``~/.gemini/settings.json``.

Both live in ``$GEMINI_CLI_HOME/.gemini`` when that is set (Gemini CLI uses it as its
home folder). Checked against ``@google/gemini-cli`` 0.61.0 (its bundle) and the
``@google/genai`` 1.30 it bundles:

- Gemini CLI speaks only the Gemini API, through ``@google/genai``: it posts to
  ``{GOOGLE_GEMINI_BASE_URL}/{version}/models/{model}:streamGenerateContent?alt=sse``
  with the key as ``x-goog-api-key``. The SDK adds the version itself (``v1beta``, or
  ``GOOGLE_GENAI_API_VERSION``), so the base URL is the root without ``/v1beta``.
- byecore owns ``GOOGLE_GEMINI_BASE_URL``, ``GEMINI_API_KEY`` and ``GEMINI_MODEL`` in
  ``.env`` (and ``GOOGLE_GENAI_API_VERSION`` when the provider's Gemini path ends in
  another version), and ``security.auth.selectedType`` = ``gemini-api-key`` in
  ``settings.json``: with a base URL and no selected type, 0.61 picks its ``gateway``
  auth type, which its own check then refuses ("Invalid auth method selected.").
- ``.env`` is read with the ``dotenv`` package and never overrides a variable the
  shell already has, even an empty one; ``check_env`` names those. It is read only in
  a folder Gemini CLI trusts, and only when no ``.gemini/.env`` or ``.env`` is nearer
  (in the folder or one above it): Gemini CLI loads the first env file it finds.
  ``local_findings`` reports such a file for the current folder.
- ``settings.json`` may hold comments (Gemini CLI strips them before parsing), so it is
  edited in place with ``clients/jsonedit.py``; every other key stays as it was.

The ``.env`` edits keep every other line, comment and the order: a value is replaced
where it stands (the last definition, which is the one dotenv keeps), a new variable
is added at the end, and values are quoted the way dotenv unquotes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from byecore_cli.clients import jsonedit
from byecore_cli.clients.base import (
    NO_KEY,
    ClientFile,
    Current,
    Plan,
    Reading,
    Target,
    Unparsable,
    env_folder,
    file_text,
    json_object,
)
from byecore_cli.errors import UsageError
from byecore_cli.providers.endpoints import gemini_base

BASE_URL, KEY, MODEL = "GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY", "GEMINI_MODEL"
API_VERSION = "GOOGLE_GENAI_API_VERSION"
OWNED = (BASE_URL, KEY, MODEL, API_VERSION)
AUTH_TYPE = "gemini-api-key"
SDK_VERSION = "v1beta"  # what @google/genai adds when GOOGLE_GENAI_API_VERSION is unset
_AUTH_PATH = ("security", "auth", "selectedType")
_VERSION = re.compile(r"v\d+(?:alpha|beta)?\d*")
_TRUST = ("folders you trust (it asks once per folder; for gemini -p pass --skip-trust "
          "or set GEMINI_CLI_TRUST_WORKSPACE=true)")


class Gemini:
    name = "gemini"
    title = "Gemini CLI"
    protocol = "gemini"
    executable = "gemini"

    def files(self, env: Mapping[str, str], home: Path) -> dict[str, ClientFile]:
        folder = _gemini_dir(env, home)
        return {"env": ClientFile("env", folder / ".env", "text"),
                "settings": ClientFile("settings", folder / "settings.json", "jsonc")}

    def plan(self, target: Target, current: Current) -> Plan:
        text = file_text(current.get("env"), "env")
        entries = parse_dotenv(text)
        settings_text = file_text(current.get("settings"), "settings")
        settings = _parse_settings(settings_text)
        root, version = sdk_base(target.gemini_base or gemini_base(target.root))
        notes = [f"Gemini CLI reads ~/.gemini/.env only in {_TRUST}, and only when no .env "
                 "or .gemini/.env sits in that folder or one above it; a variable set in "
                 "your shell wins over the file"]
        wanted: dict[str, str | None] = {BASE_URL: root, KEY: self._key(target, notes),
                                         MODEL: target.model}
        if version != SDK_VERSION or API_VERSION in entries:
            wanted[API_VERSION] = version
        out = text
        for name, value in wanted.items():
            now = entries.get(name)
            if value is None and now is not None:
                out = dotenv_delete(out, name)
                notes.append(f"removed {name} from .env: Gemini CLI reads the key from "
                             f"${target.key_env} in your shell")
            elif value is not None and (now is None or now.value != value):
                out = dotenv_set(out, name, value)
        settings_out = settings_text if settings_text.strip() else "{}\n"
        if _auth(settings).get("selectedType") != AUTH_TYPE:
            settings_out = jsonedit.set_value(settings_out, _AUTH_PATH, AUTH_TYPE,
                                              comments=True)
        enforced = _auth(settings).get("enforcedType")
        if enforced not in (None, AUTH_TYPE):
            notes.append(f"settings.json enforces the auth type {enforced!r}: Gemini CLI "
                         f"refuses {AUTH_TYPE} until you remove security.auth.enforcedType")
        secret = frozenset({"env"}) if wanted[KEY] is not None else frozenset()
        return Plan(files={"env": out.encode(), "settings": settings_out.encode()},
                    secret=secret, notes=notes)

    @staticmethod
    def _key(target: Target, notes: list[str]) -> str | None:
        """The key to write; None when Gemini CLI reads it from the shell itself."""
        if target.key_env == KEY and not target.via_proxy:
            notes.append(f"Gemini CLI reads the key from ${KEY}; no key is written")
            return None
        if target.key is None and target.key_env:
            raise UsageError(
                f"Gemini CLI cannot read the key from ${target.key_env}, and "
                f"${target.key_env} is not set in this shell",
                hint=f"export {target.key_env}=… and run again (byecore then writes its "
                     "value into ~/.gemini/.env, mode 0600)")
        if target.key_env:
            notes.append(f"~/.gemini/.env cannot refer to ${target.key_env}, so its current "
                         "value went into it (mode 0600)")
        return target.key or NO_KEY  # Gemini CLI refuses to start without one

    def read(self, current: Current) -> Reading:
        entries = parse_dotenv(file_text(current.get("env"), "env"))
        settings = _parse_settings(file_text(current.get("settings"), "settings"))
        values = {name: e.value for name, e in entries.items()}
        # GEMINI_MODEL wins over settings.json's model.name (and -m over both)
        model = values.get(MODEL) or _member(settings, "model", "name")
        chosen = _auth(settings).get("selectedType")
        reading = Reading(configured=BASE_URL in values, base_url=values.get(BASE_URL),
                          model=model if isinstance(model, str) else None)
        reading.owned = {f"env:{name}": values.get(name) for name in OWNED}
        reading.owned["settings:security.auth.selectedType"] = chosen
        url = (values.get(BASE_URL) or "").rstrip("/")
        if _VERSION.fullmatch(url.rsplit("/", 1)[-1]):
            reading.problems.append(
                f"{BASE_URL} {url} ends in /{url.rsplit('/', 1)[-1]}: the Gemini SDK adds "
                f"its API version itself, so requests go to …/{url.rsplit('/', 1)[-1]}/"
                f"{values.get(API_VERSION) or SDK_VERSION}/models/…")
        if reading.configured and chosen != AUTH_TYPE:
            reading.problems.append(
                "settings.json selects no auth type: with a base URL Gemini CLI 0.61 then "
                "picks 'gateway', which it refuses ('Invalid auth method selected.')"
                if chosen is None else
                f"settings.json selects the auth type {chosen!r}: Gemini CLI then does not "
                f"send {BASE_URL} and {KEY}")
        key = values.get(KEY)
        if key is not None and (not key or key != key.strip()):
            reading.problems.append(f"{KEY} in .env is empty or has spaces around it")
        return reading

    def check_env(self, env: Mapping[str, str]) -> list[str]:
        """Shell variables that beat ~/.gemini/.env: dotenv never overrides one."""
        home = Path(env["HOME"]) if env.get("HOME") else Path.home()
        try:
            data = self.files(env, home)["env"].path.read_bytes()
        except OSError:
            data = b""
        entries = parse_dotenv(data.decode("utf-8", "replace").replace("\r\n", "\n"))
        problems = []
        for name in OWNED:
            if name in env and name in entries and env[name] != entries[name].value:
                problems.append(f"your shell sets {name}, which wins over the {name} "
                                "byecore wrote into ~/.gemini/.env (Gemini CLI never lets "
                                "that file replace a variable the shell has, even an empty "
                                "one)")
        if env.get("GOOGLE_API_KEY"):
            problems.append(f"your shell sets GOOGLE_API_KEY: Gemini CLI then says 'Both "
                            f"GOOGLE_API_KEY and {KEY} are set. Using GOOGLE_API_KEY.' on "
                            f"every run, and sends that key instead if the auth type is "
                            f"switched to Vertex AI (with {AUTH_TYPE} 0.61 still sends "
                            f"{KEY})")
        for name, value in (("GEMINI_CLI_TRUST_WORKSPACE", "false"),
                            ("GEMINI_RESTRICTED_MODE", "true")):
            if env.get(name) == value:
                problems.append(f"your shell sets {name}={value}: Gemini CLI then trusts no "
                                "folder and never reads ~/.gemini/.env")
        return problems

    def local_findings(self, env: Mapping[str, str], cwd: Path) -> list[tuple[str, str]]:
        """(problem, fix) for the folder Gemini CLI would run in: a nearer env file."""
        home = Path(env["HOME"]) if env.get("HOME") else Path.home()
        files = self.files(env, home)
        ours, settings = files["env"].path, files["settings"].path
        try:
            ignore_local = _member(_parse_settings(settings.read_text("utf-8")),
                                   "advanced", "ignoreLocalEnv") is True
        except (OSError, UnicodeDecodeError, Unparsable):
            ignore_local = False  # a broken settings.json is file_findings' business
        found = nearest_env_file(cwd, _gemini_dir(env, home).parent, ignore_local)
        if found is None or found == ours:
            return []
        problem = (f"in {cwd}, Gemini CLI reads {found} instead of {ours}: it loads only "
                   "the nearest env file, so byecore's settings are not used there")
        if found.parent.name == ".gemini":
            fix = (f"add {BASE_URL}, {KEY} and {MODEL} (as in {ours}) to {found}, or "
                   "remove it")
        else:
            fix = (f'set "advanced": {{"ignoreLocalEnv": true}} in {settings} (Gemini CLI '
                   f"then skips project .env files), or move {found} aside")
        return [(problem, fix)]


def _gemini_dir(env: Mapping[str, str], home: Path) -> Path:
    return env_folder(env, "GEMINI_CLI_HOME", home) / ".gemini"


def sdk_base(versioned: str) -> tuple[str, str]:
    """``https://h/v1beta`` → (``https://h``, ``v1beta``): @google/genai adds the version."""
    head, _, last = versioned.rstrip("/").rpartition("/")
    if _VERSION.fullmatch(last) and "://" in head:
        return head, last
    return versioned.rstrip("/"), SDK_VERSION


def nearest_env_file(cwd: Path, home: Path, ignore_local: bool) -> Path | None:
    """The env file Gemini CLI 0.61 loads in a trusted ``cwd`` (``findEnvFile``): walking
    up, ``.gemini/.env`` then ``.env`` in each folder (plain ``.env`` files skipped with
    ``ignoreLocalEnv``, except in the home folder), then the home folder's two."""
    for folder in (cwd, *cwd.parents):
        if (folder / ".gemini" / ".env").is_file():
            return folder / ".gemini" / ".env"
        if (folder / ".env").is_file() and (folder == home or not ignore_local):
            return folder / ".env"
    for candidate in (home / ".gemini" / ".env", home / ".env"):
        if candidate.is_file():
            return candidate
    return None


# ---- dotenv -------------------------------------------------------------------------

# The ``dotenv`` package's own line pattern (as bundled in Gemini CLI 0.61), with the
# separator captured so an edit knows where the value starts.
_LINE = re.compile(
    r"""(?:^|^)\s*(?:export\s+)?([A-Za-z0-9_.-]+)(\s*=\s*?|:\s+?)"""
    r"""(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?"""
    r"""\s*(?:#.*)?(?:$|$)""", re.M)
_PLAIN = re.compile(r"[A-Za-z0-9_./:@+,=%~-]+")


@dataclass(frozen=True)
class Entry:
    value: str
    start: int  # where the name starts
    end: int  # one past the value (its trailing spaces left out)


def parse_dotenv(text: str) -> dict[str, Entry]:
    """Each variable's last definition, as dotenv reads it (the last one wins).

    ``text`` has LF lines, as the engine gives every writer (dotenv turns CRLF into LF
    before it parses, too); the offsets in each ``Entry`` are into ``text``.
    """
    entries: dict[str, Entry] = {}
    for match in _LINE.finditer(text):
        raw = match.group(3) or ""
        value = raw.strip()
        quote = value[:1]
        if len(value) >= 2 and quote in "'\"`" and value.endswith(quote):
            value = value[1:-1]
        if quote == '"':
            value = value.replace("\\n", "\n").replace("\\r", "\r")
        end = match.start(3) + len(raw.rstrip()) if match.group(3) else match.end(2)
        entries[match.group(1)] = Entry(value, match.start(1), end)
    return entries


def dotenv_quote(value: str) -> str:
    """``value`` written so that dotenv reads back exactly ``value``."""
    if _PLAIN.fullmatch(value):
        return value
    for quote in ("'", '"', "`"):
        escapes = quote == '"' and ("\\n" in value or "\\r" in value)
        if quote not in value and "\n" not in value and "\r" not in value and not escapes:
            return quote + value + quote
    raise UsageError(f"byecore cannot write {value!r} into a .env file that dotenv reads "
                     "back unchanged (it holds every kind of quote or a line break)")


def dotenv_set(text: str, name: str, value: str) -> str:
    """``name=value`` in place of the definition dotenv keeps, else a new last line."""
    line = f"{name}={dotenv_quote(value)}"
    entry = parse_dotenv(text).get(name)
    if entry is not None:
        return text[:entry.start] + line + text[entry.end:]
    if text and not text.endswith("\n"):
        text += "\n"
    return text + line + "\n"


def dotenv_delete(text: str, name: str) -> str:
    """Every definition of ``name`` removed, each with its whole line."""
    while (entry := parse_dotenv(text).get(name)) is not None:
        start = text.rfind("\n", 0, entry.start) + 1
        stop = text.find("\n", entry.end)
        text = text[:start] + (text[stop + 1:] if stop >= 0 else "")
    return text


# ---- settings.json ----------------------------------------------------------------------


def _parse_settings(text: str) -> dict:
    settings = json_object(text, "settings", comments=True, objects=("security",))
    if not isinstance((settings.get("security") or {}).get("auth", {}), dict):
        raise Unparsable("settings", '"security.auth" is not a JSON object')
    return settings


def _auth(settings: dict) -> dict:
    return (settings.get("security") or {}).get("auth") or {}


def _member(settings: dict, table: str, key: str) -> object:
    """``settings[table][key]``, None when either is absent or the table no object."""
    value = settings.get(table)
    return value.get(key) if isinstance(value, dict) else None
