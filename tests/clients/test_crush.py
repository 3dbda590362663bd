"""Crush's writer: provider in the global crush.json, selection in the data file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from byecore_cli.clients.base import Unparsable
from byecore_cli.clients.crush import Crush
from tests.clients.factory import FIXTURES, KEY, make_target, proxy_target

CONFIG = (FIXTURES / "crush.json").read_bytes()
DATA = (FIXTURES / "crush-data.json").read_bytes()
# Fields Crush's published schema.json (v0.90, $defs.Model.required) requires per model
MODEL_REQUIRED = {"id", "name", "cost_per_1m_in", "cost_per_1m_out", "cost_per_1m_in_cached",
                  "cost_per_1m_out_cached", "context_window", "default_max_tokens",
                  "can_reason", "supports_attachments"}


def plan(target=None, config=CONFIG, data=DATA, crushrc=None):
    return Crush().plan(target or make_target(),
                        {"config": config, "data": data, "crushrc": crushrc})


def test_files_follow_crushs_own_lookup(tmp_path):
    home = Path("/home/u")
    files = Crush().files({}, home)
    assert files["config"].path == home / ".config/crush/crush.json"
    assert files["data"].path == home / ".local/share/crush/crush.json"
    assert files["crushrc"].path == home / ".config/crush/crushrc"
    moved = Crush().files({"CRUSH_GLOBAL_CONFIG": "/c", "XDG_DATA_HOME": "/x"}, home)
    assert moved["config"].path == Path("/c/crush.json")
    assert moved["data"].path == Path("/x/crush/crush.json")
    assert Crush().files({"CRUSH_GLOBAL_DATA": "/d"}, home)["data"].path == Path(
        "/d/crush.json")


def test_provider_goes_to_crush_json_and_the_rest_survives():
    p = plan()
    out = p.files["config"].decode()
    cut = CONFIG.decode().index('    }\n  },\n  "options"') + len("    }")
    assert out.startswith(CONFIG.decode()[:cut])
    assert out.endswith('  },\n  "options": { "debug": false }\n}\n')
    config = json.loads(out)  # strict JSON, as Crush's json.Valid demands
    entry = config["providers"]["byecore"]
    assert entry["type"] == "openai-compat" and entry["base_url"] == "https://api.example.com/v1"
    assert entry["api_key"] == KEY and p.secret == frozenset({"config"})
    assert all(set(m) >= MODEL_REQUIRED for m in entry["models"])
    assert entry["models"][0]["context_window"] == 400_000
    assert entry["models"][0]["default_max_tokens"] == 128_000
    assert "models" not in config  # the selection is not put where it would be overridden


def test_selection_goes_to_the_data_file_and_keeps_the_rest():
    out = plan().files["data"].decode()
    data = json.loads(out)
    assert data["models"]["large"] == {"provider": "byecore", "model": "gpt-5.4"}
    assert data["models"]["small"] == {"provider": "byecore", "model": "gpt-5.4-mini"}
    assert out.endswith(DATA.decode()[DATA.decode().index('  },\n  "recent_models"'):])
    assert data["providers"]["anthropic"]["api_key"] == "sk-ant-user-pasted-0123456789"


def test_env_key_reference_and_idempotence():
    p = plan(make_target(key_env="BYECORE_API_KEY"))
    assert json.loads(p.files["config"])["providers"]["byecore"]["api_key"] == (
        "$BYECORE_API_KEY")
    assert p.secret == frozenset()
    again = plan(make_target(key_env="BYECORE_API_KEY"), p.files["config"], p.files["data"])
    assert again.files == p.files


def test_fresh_files_and_proxy():
    p = plan(proxy_target(), None, None)
    config = json.loads(p.files["config"])
    assert config["$schema"] == "https://charm.land/crush.json"
    assert config["providers"]["byecore"]["base_url"] == "http://127.0.0.1:4000/v1"
    assert json.loads(p.files["data"])["models"]["large"]["model"] == "byecore/gpt-5.4"


def test_crushrc_defining_byecore_is_reported():
    rc = b'provider add byecore --type openai --base-url "https://x/v1"\n'
    assert any("crushrc" in n for n in plan(crushrc=rc).notes)
    assert "crushrc" not in plan(crushrc=rc).files  # never written


@pytest.mark.parametrize("role,bad", [
    ("config", b'{\n  // comments are not allowed in crush.json\n}'),
    ("config", b'{"providers": []}'),
    ("data", b'{"models": {"large": },}'),
])
def test_broken_files_raise_unparsable(role, bad):
    current = {"config": CONFIG, "data": DATA, role: bad}
    with pytest.raises(Unparsable) as caught:
        plan(**current)
    assert caught.value.role == role


def test_read():
    p = plan()
    reading = Crush().read({**p.files, "crushrc": None})
    assert reading.configured and reading.model == "gpt-5.4"
    assert reading.base_url == "https://api.example.com/v1"
    before = Crush().read({"config": CONFIG, "data": DATA, "crushrc": None})
    assert not before.configured and before.model == "claude-sonnet-4-5"
