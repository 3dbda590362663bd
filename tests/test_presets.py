"""One consistency check over every preset row."""

from __future__ import annotations

import pytest

from byecore_cli.config.models import ENV_RE, NAME_RE, Provider
from byecore_cli.config.providers import ProviderRequest, build_provider
from byecore_cli.providers.endpoints import PROTOCOLS, normalise_base_url
from byecore_cli.providers.presets import BY_NAME, PRESETS

REQUIRED = {"byecore", "openai", "anthropic", "deepseek", "moonshot", "dashscope", "xai",
            "gemini", "openrouter", "ollama", "lmstudio"}


def test_required_presets_exist_once():
    names = [p.name for p in PRESETS]
    assert len(names) == len(set(names))
    assert set(names) >= REQUIRED


def test_the_byecore_gateway_row():
    row = BY_NAME["byecore"]
    assert row.base_url == "https://api.byecore.com"
    assert set(row.protocols) == {"chat", "responses", "messages"}
    assert {"gpt-5.4", "gpt-5.5", "gpt-5.3-codex"} <= set(row.models)


@pytest.mark.parametrize("row", PRESETS, ids=lambda p: p.name)
def test_row_is_consistent(row):
    assert NAME_RE.match(row.name) and row.name == row.name.lower()
    assert normalise_base_url(row.base_url) == (row.base_url, []), "base_url must be a root"
    assert row.protocols and set(row.protocols) <= set(PROTOCOLS)
    assert len(set(row.protocols)) == len(row.protocols)
    assert row.default_model in row.models
    assert len(set(row.models)) == len(row.models)
    if row.local:
        assert row.key_env is None and row.base_url.startswith("http://localhost:")
    else:
        assert row.key_env and ENV_RE.match(row.key_env)
        assert row.base_url.startswith("https://")
    Provider(base_url=row.base_url, protocols=list(row.protocols),
             openai_path=row.openai_path, anthropic_path=row.anthropic_path)


@pytest.mark.parametrize("row", PRESETS, ids=lambda p: p.name)
def test_adding_a_preset_by_name_keeps_its_values(row):
    provider, _ = build_provider(ProviderRequest(name=row.name, key="k"))
    assert provider.base_url == row.base_url
    assert tuple(provider.protocols) == row.protocols
    assert provider.default_model == row.default_model
    assert provider.openai_path == row.openai_path
    assert provider.preset == row.name
