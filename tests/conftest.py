"""Shared fixtures: paths to the repository, its demo data, and the real data in ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The real data folder ../shared/data; the test is skipped when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present (real-data tests run in CI)")
    return SHARED


@pytest.fixture
def root() -> Path:
    """The repository root."""
    return ROOT


def pytest_configure(config):
    """Keep the network cache of the test run out of the user's home folder."""
    import os
    import tempfile

    os.environ.setdefault("SCHOOLPLAN_CACHE_DIR", tempfile.mkdtemp(prefix="schoolplan-test-cache-"))


@pytest.fixture(autouse=True)
def _progress_bars_off():
    """The CLI switches progress bars on for the process; keep each test independent of that."""
    from schoolplan import progress as _progress

    _progress.enable(False)
    yield
    _progress.enable(False)
