"""The real LiteLLM proxy for the export tests, in a virtual environment of its own.

LiteLLM is a test-only tool and a large one, so it never goes into byecore's own
environment: the first run creates ``litellm-VERSION-pyXY/`` under ``$BYECORE_TEST_CACHE``
(else beside pytest's temporary folders, which outlive a run) with ``pip install
'litellm[proxy]==VERSION'`` (about 90 s), later runs reuse it. When the install fails
(no network, no wheel for this platform) the test is skipped with pip's reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from byecore_cli.export.litellm import LITELLM_VERSION

INSTALL_SECONDS = 900
# Set by .ci/run, where PyPI is reachable: an install that fails there is a failure (a bad
# pin, say), not a reason to skip the one test that runs the real LiteLLM.
REQUIRED = os.environ.get("BYECORE_REQUIRE_LITELLM") == "1"


def _cannot(reason: str):
    (pytest.fail if REQUIRED else pytest.skip)(reason)


def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("BYECORE_TEST_CACHE")
    if chosen:
        return Path(chosen)
    base = tmp_path_factory.getbasetemp()  # pytest-of-USER/pytest-N: its parent stays
    return base.parent / "byecore-test-cache"


def litellm_executable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``litellm`` command of a venv holding ``litellm[proxy]==LITELLM_VERSION``."""
    tag = f"litellm-{LITELLM_VERSION}-py{sys.version_info.major}{sys.version_info.minor}"
    venv = cache_root(tmp_path_factory) / tag
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    done = venv / ".installed"
    if done.is_file() and (bin_dir / "litellm").exists():
        return bin_dir / "litellm"
    venv.parent.mkdir(parents=True, exist_ok=True)
    steps = {"creating its venv": [sys.executable, "-m", "venv", "--clear", str(venv)],
             "pip install": [str(bin_dir / "python"), "-m", "pip", "install", "--quiet",
                             "--disable-pip-version-check",
                             f"litellm[proxy]=={LITELLM_VERSION}"]}
    for label, step in steps.items():
        try:
            result = subprocess.run(step, capture_output=True, text=True,
                                    timeout=INSTALL_SECONDS)
        except subprocess.TimeoutExpired:
            _cannot(f"installing litellm[proxy]=={LITELLM_VERSION} took over "
                    f"{INSTALL_SECONDS} s")
        if result.returncode != 0:
            lines = [line for line in (result.stderr or result.stdout).splitlines()
                     if line.strip() and not line.startswith("WARNING: Location")]
            reason = " | ".join(lines[-3:]) or f"exit code {result.returncode}"
            _cannot(f"cannot install litellm[proxy]=={LITELLM_VERSION} for this test "
                    f"({label} failed): {reason}")
    done.write_text(LITELLM_VERSION + "\n")
    return bin_dir / "litellm"
