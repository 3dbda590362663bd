"""Fixtures for the export tests: the real LiteLLM proxy's command (installed once)."""

from __future__ import annotations

import pytest

from tests.export.litellm_venv import litellm_executable


@pytest.fixture(scope="session")
def litellm_bin(tmp_path_factory):
    return litellm_executable(tmp_path_factory)
