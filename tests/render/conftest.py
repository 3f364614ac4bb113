"""Fixtures of the renderer tests: a headless Chromium for the page of links.

Debian's ``chromium`` (``.ci/run`` installs it) driven by Playwright with that executable, so
nothing downloads a browser. Where none can be had the browser tests skip saying why; under
``CI=true`` they fail instead: CI must have one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

#: Debian's package first, then the names a Chromium or Chrome has elsewhere (GitHub's runners).
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Headless, and quiet: without the background-networking flags Chromium tries to reach
#: Google's hosts at every start (and this machine's network is closed).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def _no_browser(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must be able to run the browser tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium (a Playwright ``Browser``) for the session."""
    found = (shutil.which(name) for name in BROWSERS)
    executable = next((path for path in found if path is not None), None)
    if executable is None:
        _no_browser("no chromium on this machine (apt-get install chromium; .ci/run does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("the playwright package is missing (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
