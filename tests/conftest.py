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


#: Where a test may connect: this machine only (Jupyter kernels of the notebook tests, the
#: browser driver). Any other host fails the test at once (pytest-socket).
LOCAL_HOSTS = "127.0.0.1,::1"


@pytest.hookimpl(tryfirst=True)  # before pytest-socket reads its options
def pytest_configure(config):
    """Keep the network cache of the test run out of the user's home folder, and make every
    network connection fail (pytest-socket; ``--force-enable-socket`` lifts it for a debug run)."""
    import os
    import tempfile

    os.environ.setdefault("SCHOOLPLAN_CACHE_DIR", tempfile.mkdtemp(prefix="schoolplan-test-cache-"))
    if not config.getoption("--allow-hosts", default=None):
        config.option.allow_hosts = LOCAL_HOSTS
        config.option.allow_unix_socket = True


@pytest.fixture(autouse=True)
def _progress_bars_off():
    """The CLI switches progress bars on for the process; keep each test independent of that."""
    from schoolplan import progress as _progress

    _progress.enable(False)
    yield
    _progress.enable(False)
