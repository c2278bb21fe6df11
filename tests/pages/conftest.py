"""The headless Chromium every browser test of the pages drives (Debian's ``chromium``).

One browser per test module: starting Chromium costs seconds, a fresh page per test keeps
tests apart. The flags keep the browser itself quiet on the network (no background fetches,
component updates or sync), so a request to a foreign host seen by a test came from a page.
Screenshots of every page at every size are kept in ``var/artifacts/pages/`` (one folder per
test module) for a person to look at after the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(request: pytest.FixtureRequest) -> Path:
    """Where this module's screenshots are kept after the run."""
    folder = ROOT / "var" / "artifacts" / "pages" / request.module.__name__.rsplit(".", 1)[-1]
    folder.mkdir(parents=True, exist_ok=True)
    return folder
