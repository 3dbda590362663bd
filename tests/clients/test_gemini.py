"""Gemini CLI's writer: ~/.gemini/.env and settings.json keep every other line and key."""

from __future__ import annotations

import json
import stat

import pytest

from byecore_cli.clients import jsonedit
from byecore_cli.clients.base import Unparsable
from byecore_cli.clients.gemini import (
    Gemini,
    dotenv_delete,
    dotenv_quote,
    dotenv_set,
    parse_dotenv,
    sdk_base,
)
from byecore_cli.errors import UsageError
from tests.clients.conftest import place, snapshot
from tests.clients.factory import FIXTURES, KEY, make_target, proxy_target, without

ENV = (FIXTURES / "gemini-env").read_bytes()
SETTINGS = (FIXTURES / "gemini-settings.json").read_bytes()
OWNED = ("GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY", "GEMINI_MODEL")
GEMINI = make_target(provider="gg", model="gemini-2.5-pro", models=("gemini-2.5-pro",),
                     root="https://gg.example.com", gemini_base="https://gg.example.com/v1beta")


def plan(target=GEMINI, env=ENV, settings=SETTINGS):
    return Gemini().plan(target, {"env": env, "settings": settings})


def values(data: bytes) -> dict[str, str]:
    return {name: e.value for name, e in parse_dotenv(data.decode()).items()}


def settings_of(data: bytes) -> dict:
    return jsonedit.loads(data.decode(), comments=True)


def test_owned_variables_change_in_place_and_every_other_line_survives():
    p = plan()
    env = p.files["env"].decode()
    assert without(env, *OWNED) == without(ENV.decode(), *OWNED)
    # each value is replaced where it stood: the export prefix and the comment stay
    assert "export GEMINI_MODEL=gemini-2.5-pro   # fast default\n" in env
    assert "\nGEMINI_API_KEY=" + KEY + "\n" in env
    assert env.endswith('second line"\nGOOGLE_GEMINI_BASE_URL=https://gg.example.com\n')
    got = values(p.files["env"])
    assert got["GOOGLE_GEMINI_BASE_URL"] == "https://gg.example.com"  # the SDK adds /v1beta
    assert got["GEMINI_API_KEY"] == KEY and got["GEMINI_MODEL"] == "gemini-2.5-pro"
    assert got["GOOGLE_CLOUD_LOCATION"] == "us-central1"
    assert got["GREETING"] == "first line\nsecond line" and got["DEBUG_PORT"] == "9229"
    assert "GOOGLE_GENAI_API_VERSION" not in got
    assert p.secret == frozenset({"env"})


def test_settings_gain_the_auth_type_and_keep_comments_and_every_other_key():
    out = plan().files["settings"].decode()
    before, after = SETTINGS.decode().splitlines(), out.splitlines()
    assert [ln for ln in after if "selectedType" not in ln] == [
        ln for ln in before if "selectedType" not in ln]
    assert '      "selectedType": "gemini-api-key"' in after
    data, old = settings_of(out.encode()), settings_of(SETTINGS)
    assert data["security"]["auth"] == {"selectedType": "gemini-api-key"}
    old["security"]["auth"]["selectedType"] = "gemini-api-key"
    assert data == old and list(data) == list(old)


def test_a_second_plan_returns_the_same_bytes():
    first = plan()
    again = plan(env=first.files["env"], settings=first.files["settings"])
    assert again.files == first.files


def test_a_fresh_home_gets_three_variables_and_the_auth_type():
    p = plan(env=None, settings=None)
    assert p.files["env"] == (b"GOOGLE_GEMINI_BASE_URL=https://gg.example.com\n"
                              b"GEMINI_API_KEY=" + KEY.encode() + b"\n"
                              b"GEMINI_MODEL=gemini-2.5-pro\n")
    assert json.loads(p.files["settings"]) == {"security": {"auth": {
        "selectedType": "gemini-api-key"}}}


def test_via_the_proxy_the_base_is_the_proxy_root_and_the_key_is_local():
    target = proxy_target(gemini_base="http://127.0.0.1:4000/v1beta")
    got = values(plan(target).files["env"])
    assert got["GOOGLE_GEMINI_BASE_URL"] == "http://127.0.0.1:4000"
    assert got["GEMINI_API_KEY"] == "bc-local-abc123def456ghi789"
    assert got["GEMINI_MODEL"] == "byecore/gpt-5.4"


def test_a_target_without_a_gemini_base_uses_the_root():
    got = values(plan(make_target()).files["env"])
    assert got["GOOGLE_GEMINI_BASE_URL"] == "https://api.example.com"


def test_another_api_version_is_set_and_set_back_when_no_longer_needed():
    v1 = make_target(gemini_base="https://gw.example.com/gemini/v1")
    first = plan(v1, env=None)
    got = values(first.files["env"])
    assert got["GOOGLE_GEMINI_BASE_URL"] == "https://gw.example.com/gemini"
    assert got["GOOGLE_GENAI_API_VERSION"] == "v1"
    back = values(plan(GEMINI, env=first.files["env"]).files["env"])
    assert back["GOOGLE_GENAI_API_VERSION"] == "v1beta"
    assert sdk_base("https://h/v1beta/") == ("https://h", "v1beta")
    assert sdk_base("https://h") == ("https://h", "v1beta")


def test_a_key_in_the_shells_gemini_api_key_is_not_written_and_the_old_one_goes():
    target = make_target(gemini_base=GEMINI.gemini_base, key_env="GEMINI_API_KEY")
    p = plan(target)
    got = values(p.files["env"])
    assert "GEMINI_API_KEY" not in got and "AIzaSyOLD" not in p.files["env"].decode()
    assert p.secret == frozenset()
    assert any("reads the key from $GEMINI_API_KEY" in n for n in p.notes)
    assert any("removed GEMINI_API_KEY" in n for n in p.notes)


def test_a_key_in_another_variable_is_written_or_refused_when_unset():
    p = plan(make_target(key_env="GG_KEY"))
    assert values(p.files["env"])["GEMINI_API_KEY"] == KEY
    assert any("cannot refer to $GG_KEY" in n for n in p.notes)
    with pytest.raises(UsageError, match=r"\$GG_KEY is not set"):
        plan(make_target(key_env="GG_KEY", key=None))


def test_a_keyless_provider_still_gets_a_key_gemini_cli_accepts():
    assert values(plan(make_target(key=None)).files["env"])["GEMINI_API_KEY"] == \
        "byecore-no-key"


@pytest.mark.parametrize("value", ["sk-a#b", "it's", "with space", 'say "hi"', "a'b\"c",
                                   "x\\ny", "plain-._/:@+=~%,"])
def test_awkward_values_read_back_unchanged(value):
    text = dotenv_set("A=1\n", "GEMINI_MODEL", value)
    assert values(text.encode())["GEMINI_MODEL"] == value
    assert values(dotenv_set(text, "GEMINI_MODEL", value).encode())["GEMINI_MODEL"] == value


def test_a_value_no_quoting_can_hold_is_refused():
    with pytest.raises(UsageError):
        dotenv_quote("a'b\"c`d")
    with pytest.raises(UsageError):
        dotenv_quote("two\nlines")


def test_the_last_definition_is_the_one_edited_and_delete_removes_all():
    text = "GEMINI_MODEL=a\nX=1\nGEMINI_MODEL=b # mine\n"
    assert dotenv_set(text, "GEMINI_MODEL", "c") == "GEMINI_MODEL=a\nX=1\nGEMINI_MODEL=c # mine\n"
    assert dotenv_delete(text, "GEMINI_MODEL") == "X=1\n"
    assert dotenv_set("X=1", "GEMINI_MODEL", "c") == "X=1\nGEMINI_MODEL=c\n"
    assert dotenv_set("GEMINI_MODEL=\n", "GEMINI_MODEL", "c") == "GEMINI_MODEL=c\n"


def test_files_follow_gemini_cli_home(tmp_path):
    files = Gemini().files({"GEMINI_CLI_HOME": str(tmp_path / "g")}, tmp_path / "home")
    assert files["env"].path == tmp_path / "g" / ".gemini" / ".env"
    assert files["settings"].path == tmp_path / "g" / ".gemini" / "settings.json"
    assert Gemini().files({}, tmp_path)["env"].path == tmp_path / ".gemini" / ".env"


def test_broken_settings_are_refused_with_their_line():
    with pytest.raises(Unparsable) as caught:
        plan(settings=b'{\n  "ui": {\n    "theme": "GitHub",,\n  }\n}\n')
    assert caught.value.role == "settings" and caught.value.line == 3
    with pytest.raises(Unparsable, match="security.auth"):
        plan(settings=b'{"security": {"auth": "gemini-api-key"}}')


def test_read_reports_what_would_make_gemini_cli_miss_the_url():
    reading = Gemini().read({"env": b"GOOGLE_GEMINI_BASE_URL=https://gg.example.com/v1beta\n"
                                    b"GEMINI_API_KEY=' k '\n", "settings": None})
    assert reading.configured and reading.base_url == "https://gg.example.com/v1beta"
    problems = " | ".join(reading.problems)
    assert "…/v1beta/v1beta/models/" in problems
    assert "picks 'gateway'" in problems and "spaces around it" in problems
    other = Gemini().read({"env": b"GOOGLE_GEMINI_BASE_URL=https://gg.example.com\n",
                           "settings": b'{"security": {"auth": {"selectedType": "vertex-ai"}}}'})
    assert other.problems == ["settings.json selects the auth type 'vertex-ai': Gemini CLI "
                              "then does not send GOOGLE_GEMINI_BASE_URL and GEMINI_API_KEY"]
    clean = Gemini().read({"env": plan().files["env"], "settings": plan().files["settings"]})
    assert clean.problems == [] and clean.model == "gemini-2.5-pro"
    assert clean.owned["env:GEMINI_API_KEY"] == KEY


def test_check_env_names_shell_variables_that_beat_the_file(tmp_path):
    place("gemini-env", tmp_path / ".gemini" / ".env")
    env = {"HOME": str(tmp_path), "GEMINI_MODEL": "gemini-2.5-flash",  # the same: no harm
           "GEMINI_API_KEY": "", "GOOGLE_API_KEY": "AIzaSyShell0123456789"}
    problems = Gemini().check_env(env)
    assert problems[0].startswith("your shell sets GEMINI_API_KEY, which wins over")
    assert "even an empty one" in problems[0]
    assert problems[1].startswith("your shell sets GOOGLE_API_KEY: Gemini CLI then says")
    assert len(problems) == 2 and "AIzaSyShell" not in " ".join(problems)
    untrusting = Gemini().check_env({"HOME": str(tmp_path), "GEMINI_CLI_TRUST_WORKSPACE": "false"})
    assert untrusting == ["your shell sets GEMINI_CLI_TRUST_WORKSPACE=false: Gemini CLI then "
                          "trusts no folder and never reads ~/.gemini/.env"]


def test_a_nearer_env_file_is_found_for_the_folder_gemini_cli_runs_in(tmp_path):
    home = tmp_path / "home"
    place("gemini-env", home / ".gemini" / ".env")
    project = home / "code" / "app"
    (project / "src").mkdir(parents=True)
    env = {"HOME": str(home)}
    assert Gemini().local_findings(env, project / "src") == []
    (home / ".env").write_text("OTHER=1\n")  # Gemini CLI tries ~/.gemini/.env first
    assert Gemini().local_findings(env, project / "src") == []
    (project / ".env").write_text("DATABASE_URL=postgres://localhost/app\n")
    [(problem, fix)] = Gemini().local_findings(env, project / "src")
    assert f"reads {project / '.env'} instead of {home / '.gemini' / '.env'}" in problem
    assert '"ignoreLocalEnv": true' in fix
    (home / ".gemini" / "settings.json").write_text('{"advanced": {"ignoreLocalEnv": true}}')
    assert Gemini().local_findings(env, project / "src") == []
    (project / ".gemini").mkdir()
    (project / ".gemini" / ".env").write_text("GEMINI_MODEL=x\n")  # not skipped by it
    [(problem, fix)] = Gemini().local_findings(env, project)
    assert str(project / ".gemini" / ".env") in problem and fix.startswith("add ")


# ---- through the CLI --------------------------------------------------------------------


@pytest.fixture
def chat_only(cli):
    result = cli("provider", "add", "co", "--preset", "none", "--base-url",
                 "https://co.example.com", "--protocol", "chat", "--model", "vendor-1",
                 "--key-stdin", input="sk-co-0123456789abcdefSECRET")
    assert result.exit_code == 0, result.output
    return "co"


@pytest.fixture
def gemini_gateway(cli):
    result = cli("provider", "add", "gg", "--preset", "none", "--base-url",
                 "https://gg.example.com", "--protocol", "gemini", "--protocol", "chat",
                 "--model", "gemini-2.5-pro", "--key-stdin", input="sk-gg-0123456789abcdef")
    assert result.exit_code == 0, result.output
    return "gg"


def test_a_chat_only_provider_goes_via_the_proxy(run, chat_only, home):
    code, body = run("setup", "gemini")
    assert code == 0 and body["data"]["via_proxy"], body
    assert any("translates" in n for n in body["data"]["notes"])
    env = home / ".gemini" / ".env"
    got = values(env.read_bytes())
    assert got["GOOGLE_GEMINI_BASE_URL"] == "http://127.0.0.1:4000"
    assert got["GEMINI_API_KEY"].startswith("bc-local-")
    assert got["GEMINI_MODEL"] == "co/vendor-1"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert "sk-co-" not in env.read_text()


def test_a_gemini_provider_is_set_up_directly(run, gemini_gateway, home):
    code, body = run("setup", "gemini")
    assert code == 0 and not body["data"]["via_proxy"], body
    got = values((home / ".gemini" / ".env").read_bytes())
    assert got["GOOGLE_GEMINI_BASE_URL"] == "https://gg.example.com"
    assert got["GEMINI_API_KEY"] == "sk-gg-0123456789abcdef"
    code, body = run("setup", "gemini", "--via-proxy")
    assert code == 0 and body["data"]["via_proxy"]
    assert values((home / ".gemini" / ".env").read_bytes())["GEMINI_MODEL"] == \
        "gg/gemini-2.5-pro"


def test_restore_is_byte_identical_with_modes(run, chat_only, home):
    place("gemini-env", home / ".gemini" / ".env", 0o640)
    place("gemini-settings.json", home / ".gemini" / "settings.json")
    before = snapshot(home)
    assert run("setup", "gemini")[0] == 0
    assert stat.S_IMODE((home / ".gemini" / ".env").stat().st_mode) == 0o600
    assert run("setup", "gemini")[1]["data"]["up_to_date"]
    assert run("restore", "gemini")[0] == 0
    assert snapshot(home) == before


def test_dry_run_masks_the_key_and_writes_nothing(run, gemini_gateway, home):
    code, body = run("setup", "gemini", "--dry-run")
    assert code == 0 and not (home / ".gemini").exists()
    diffs = "".join(f["diff"] for f in body["data"]["files"])
    assert "+GEMINI_MODEL=gemini-2.5-pro" in diffs and "sk-gg-0123456789abcdef" not in diffs


def test_a_hand_edit_is_noticed_and_status_shows_the_setup(run, chat_only, home):
    assert run("setup", "gemini")[0] == 0
    env = home / ".gemini" / ".env"
    env.write_text(env.read_text().replace("co/vendor-1", "gemini-2.5-pro"))
    code, body = run("setup", "gemini")
    assert code == 1 and body["error"]["code"] == "hand_edited"
    assert [e["key"] for e in body["error"]["edits"]] == ["env:GEMINI_MODEL"]
    code, body = run("status")
    [row] = [r for r in body["data"]["clients"] if r["client"] == "gemini"]
    assert row["configured"] and row["base_url"] == "http://127.0.0.1:4000"
    assert row["model"] == "gemini-2.5-pro" and row["hand_edited"]
    assert run("setup", "gemini", "--force")[0] == 0
    assert values(env.read_bytes())["GEMINI_MODEL"] == "co/vendor-1"


# ---- byecore doctor ---------------------------------------------------------------------


def _gemini_findings(cli) -> list[dict]:
    result = cli("doctor", "--offline", "--json")
    data = json.loads(result.stdout)["data"]
    return next(r for r in data["clients"] if r["client"] == "gemini")["findings"]


def test_doctor_names_a_shell_key_that_beats_the_file_and_says_unset(
        cli, run, gemini_gateway, home, monkeypatch):
    assert run("setup", "gemini")[0] == 0
    monkeypatch.chdir(home)
    assert _gemini_findings(cli) == []
    (home / ".bashrc").write_text("export GEMINI_API_KEY=AIzaSyShellKey0123456789\n")
    monkeypatch.setenv("GEMINI_API_KEY", "AIzaSyShellKey0123456789")
    [found] = _gemini_findings(cli)
    assert found["problem"].startswith("your shell sets GEMINI_API_KEY, which wins over")
    assert "AIzaSyShellKey0123456789" not in json.dumps(found)
    assert found["fix"] == ("unset GEMINI_API_KEY, and delete line 1 of ~/.bashrc so new "
                            "shells do not set it again")


def test_doctor_finds_a_project_env_file_that_hides_the_one_byecore_wrote(
        cli, run, chat_only, home, monkeypatch):
    assert run("setup", "gemini")[0] == 0
    project = home / "code" / "app"
    project.mkdir(parents=True)
    (project / ".env").write_text("DATABASE_URL=postgres://localhost/app\n")
    monkeypatch.chdir(project)
    findings = [f for f in _gemini_findings(cli) if "nearest env file" in f["problem"]]
    assert [f["problem"] for f in findings] == [
        f"in {project}, Gemini CLI reads {project / '.env'} instead of "
        f"{home / '.gemini' / '.env'}: it loads only the nearest env file, so byecore's "
        "settings are not used there"]
    assert findings[0]["fix"].startswith('set "advanced": {"ignoreLocalEnv": true} in ')


def test_a_first_setup_warns_of_a_shell_key_that_will_beat_the_new_file(
        run, gemini_gateway, home, monkeypatch):
    """The warning compares the shell with the file as written: before the write there
    is no file, so nothing to compare, and the warning would be lost."""
    monkeypatch.setenv("GEMINI_API_KEY", "AIzaSyShellKey0123456789")
    code, body = run("setup", "gemini")
    assert code == 0, body
    warnings = body["data"]["warnings"]
    assert any("GEMINI_API_KEY" in w for w in map(str, warnings)), warnings
    assert "AIzaSyShellKey0123456789" not in json.dumps(body)
