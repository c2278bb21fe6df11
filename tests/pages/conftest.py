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
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.conftest import ROOT, Server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class SignedBrowser:
    """Chromium whose new pages and contexts hold a session of the tests' person on the
    server started last (``Server.latest``): the pages are behind sign-in like for anybody.
    ``anonymous()`` gives a context without it."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser

    def _cookies(self) -> list[dict[str, Any]]:
        server = Server.latest
        if server is None or server.proc.poll() is not None:
            return []
        return [{"name": "ioc_session", "value": server.session(), "url": server.url}]

    def new_context(self, **kwargs: Any) -> BrowserContext:
        context = self.browser.new_context(**kwargs)
        context.add_cookies(self._cookies())
        return context

    def new_page(self, **kwargs: Any) -> Page:
        return self.new_context(**kwargs).new_page()

    def anonymous(self, **kwargs: Any) -> BrowserContext:
        return self.browser.new_context(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.browser, name)


@pytest.fixture(scope="module")
def browser() -> Iterator[SignedBrowser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield SignedBrowser(b)
        b.close()


@pytest.fixture(scope="module")
def shots(request: pytest.FixtureRequest) -> Path:
    """Where this module's screenshots are kept after the run."""
    folder = ROOT / "var" / "artifacts" / "pages" / request.module.__name__.rsplit(".", 1)[-1]
    folder.mkdir(parents=True, exist_ok=True)
    return folder
