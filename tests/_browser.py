"""A real headless Chromium for tests: Debian's binary driven by Playwright (never its own
browser download), started with the flags that keep it off the network (RECIPES.md)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium_context(profile_dir, *, viewport: dict | None = None) -> Iterator:
    """A persistent Playwright context of Debian's chromium; skips the test when unavailable."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium fonts-wqy-microhei)")
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="the playwright package is not installed (pip install playwright; never `playwright install`)",
    )
    with sync_api.sync_playwright() as p:
        kwargs = {"viewport": viewport} if viewport else {}
        context = p.chromium.launch_persistent_context(
            str(profile_dir), executable_path=chromium, headless=True, args=BROWSER_ARGS, **kwargs)
        try:
            yield context
        finally:
            context.close()
