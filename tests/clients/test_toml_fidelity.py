"""Property: byecore's edit of a Codex config.toml keeps every byte that is not its own.

Generated configs mix what real files hold: ``[[arrays]]`` of tables between tables,
tables of one parent split by others (``[profiles.a]`` … ``[[x]]`` … ``[profiles.b]``),
comments above headers, multi-line arrays and strings that look like headers, inline
``model_providers`` tables, an existing ``[model_providers.byecore]`` with the user's own
keys, CRLF line ends, no final newline. For each: every run of the user's lines comes
back in order and byte for byte, only byecore's lines (and blank lines) are added
between them, a second setup changes nothing, and restore gives back the exact bytes.
Crush, Droid and Zed write JSON, not TOML: Codex is the only TOML writer.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from byecore_cli.clients.codex import Codex
from tests.clients import factory
from tests.clients.conftest import toml_loads

OWNED = ("name", "base_url", "wire_api", "env_key", "experimental_bearer_token",
         "requires_openai_auth")
HEADER = re.compile(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


@st.composite
def root_lines(draw) -> list[str]:
    lines = []
    if draw(st.booleans()):
        lines.append("# Codex config, by hand")
        if draw(st.booleans()):
            lines.append("")
    if draw(st.booleans()):
        lines.append('model = "gpt-5.5"' + draw(st.sampled_from(["", "  # mine"])))
    if draw(st.booleans()):
        lines.append('approval_policy = "on-request"')
    if draw(st.booleans()):
        lines += ['notify = [', '  "say", # [not.a.table]', "  'done',", "]"]
    if draw(st.booleans()):
        lines += ['instructions = """', "[fake.header]", 'model = "no"', '"""']
    if draw(st.booleans()):
        lines.append('model_provider = "openai"')
    return lines


@st.composite
def table_block(draw, i: int, inline_providers: bool) -> list[str]:
    lines = []
    for _ in range(draw(st.integers(0, 2))):
        lines.append(draw(st.sampled_from(["", "# about the next one", "#"])))
    kinds = ["aot", "aot2", "table", "profile", "mcp"]
    if not inline_providers:
        kinds += ["provider", "byecore", "providers_inline_entry"]
    kind = draw(st.sampled_from(kinds))
    if kind == "aot":
        lines += ["[[skills]]", f"path = 'skill-{i}'"]
    elif kind == "aot2":
        lines += ["[[hooks.before]]", f'run = "echo {i}"  # hook']
    elif kind == "table":
        lines += [f'[projects."/home/me/p{i}"]', 'trust_level = "trusted"']
    elif kind == "profile":
        lines += [f"[profiles.p{i}]", f'model = "m{i}"',
                  draw(st.sampled_from(["", 'model_provider = "openai"']))]
    elif kind == "mcp":
        lines += [f"[mcp_servers.s{i}]", 'command = "npx"', f'args = ["-y", "srv-{i}"]']
    elif kind == "provider":
        lines += [f"[model_providers.p{i}]", f'name = "P{i}"', 'base_url = "http://p/v1"']
    elif kind == "byecore":
        lines += ["[model_providers.byecore]", "# my note about byecore's table",
                  'name = "old name"  # keep this comment',
                  "request_max_retries = 4",
                  draw(st.sampled_from(["", "requires_openai_auth = true"]))]
    else:
        lines += [f"[model_providers.q{i}]", 'name = "Q"']  # a table, then inline entries
    return lines


@st.composite
def configs(draw) -> str:
    lines = draw(root_lines())
    inline = draw(st.sampled_from([None, "root", "dotted"]))
    if inline == "root":
        lines.append('model_providers = { other = { name = "O", base_url = "http://o/v1" } }'
                     '  # inline')
    elif inline == "dotted":
        lines.append('model_providers.byecore = { name = "old", request_max_retries = 2 }')
    for i in range(draw(st.integers(0, 7))):
        lines += draw(table_block(i, inline is not None))
    if inline is None and draw(st.booleans()):
        lines += ["", "[model_providers]", 'byecore = { name = "old", stream_max_retries = 3 }',
                  'other = { name = "O" }']
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    text = nl.join(lines)
    if lines and draw(st.booleans()):
        text += nl
    try:
        toml_loads(text)
    except ValueError:
        assume(False)  # a duplicate table the draw made: not a file Codex would load
    return text


def _owned(lines: list[str]) -> list[bool]:
    """Which lines are byecore's to add, change or drop (blank lines are judged apart)."""
    table, out, in_string = None, [], False
    for line in lines:
        if in_string or line.count('"""') % 2:
            in_string ^= line.count('"""') % 2 == 1
            out.append(False)  # a multi-line string: never byecore's
            continue
        header = HEADER.match(line)
        if header and not line.lstrip().startswith("#"):
            table = header.group(1).replace(" ", "")
            out.append(table == "model_providers.byecore")
            continue
        key = line.split("=", 1)[0].strip() if "=" in line else ""
        if table is None:
            mine = key in ("model", "model_provider") or key.startswith("model_providers")
        elif table == "model_providers.byecore":
            mine = key in OWNED
        elif table == "model_providers":
            mine = key == "byecore"
        else:
            mine = False
        out.append(mine)
    return out


def _kept_in_order(before: str, after: str) -> None:
    """The user's lines are in ``after`` in order; whatever else is there is byecore's
    (or a blank line)."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    b_own = _owned(b)
    j = 0
    for i, (line, mine) in enumerate(zip(a, _owned(a), strict=True)):
        if mine:
            continue
        last = i == len(a) - 1 and not line.endswith("\n")  # may gain its line break
        while j < len(b) and not (b[j] == line or last and b[j].rstrip("\r\n") == line):
            assert b_own[j] or not b[j].strip(), f"unexpected {b[j]!r} before {line!r}\n{after}"
            j += 1
        assert j < len(b), f"lost or changed: {line!r}\n---\n{after}"
        j += 1
    for line, mine in zip(b[j:], b_own[j:], strict=True):
        assert mine or not line.strip(), f"unexpected line {line!r}\n---\n{after}"


def _check(text: str, target) -> str:
    out = Codex().plan(target, {"config": text.encode(), "auth": None}).files["config"]
    result = out.decode()
    _kept_in_order(text, result)
    data, before = toml_loads(result), toml_loads(text)
    assert data["model"] == target.model and data["model_provider"] == "byecore"
    ours = data["model_providers"]["byecore"]
    assert ours["base_url"] == target.openai_base and ours["wire_api"] == "responses"
    assert "requires_openai_auth" not in ours
    for key, value in before.get("model_providers", {}).get("byecore", {}).items():
        if key not in OWNED:
            assert ours[key] == value  # the user's own keys in byecore's table stay
    for key in set(before) - {"model", "model_provider", "model_providers"}:
        assert data[key] == before[key]
    again = Codex().plan(target, {"config": out, "auth": None}).files["config"]
    assert again == out  # a second setup changes nothing
    return result


FUZZ = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@FUZZ
@given(configs())
def test_every_byte_outside_byecore_keys_is_kept_in_order(text):
    _check(text, factory.make_target())


@FUZZ
@given(configs())
def test_switching_providers_keeps_every_byte_too(text):
    first = _check(text, factory.make_target())
    _check(first, factory.make_target(model="deepseek-chat", key_env="GW_KEY",
                                      openai_base="https://other.example.com/v1"))


def test_tables_after_an_array_of_tables_keep_their_place_and_comments():
    text = ("# top\n\n[profiles.a]\nmodel = \"a\"\n[[skills]]\npath = 's'\n\n"
            "# about b\n[profiles.b]\nmodel = \"b\"\n")
    out = _check(text, factory.make_target())
    assert out.index("[[skills]]") < out.index("# about b\n[profiles.b]")


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
@given(text=configs())
def test_setup_then_restore_is_byte_identical(text, cli, tmp_path_factory, monkeypatch):
    base = tmp_path_factory.mktemp("fuzz")
    monkeypatch.setenv("BYECORE_HOME", str(base / "byecore"))
    monkeypatch.setenv("CODEX_HOME", str(base / "codex"))
    (base / "codex").mkdir()
    config = base / "codex" / "config.toml"
    config.write_bytes(text.encode())
    assert cli("provider", "add", "gw", "--preset", "none", "--base-url",
               "https://gw.example.com", "--protocol", "responses", "--model", "gpt-5.4",
               "--key-stdin", input=factory.KEY).exit_code == 0
    setup = cli("setup", "codex")
    assert setup.exit_code == 0, setup.output
    assert config.read_bytes() != text.encode()
    restore = cli("restore", "codex", "--force")
    assert restore.exit_code == 0, restore.output
    assert config.read_bytes() == text.encode()
    assert not (base / "codex" / "auth.json").exists()
