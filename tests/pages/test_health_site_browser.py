"""/health in demo mode, in real headless Chromium: the ingest tile holds the demo's history
fill and the site catalogue in force (file, version, load time, entries per kind, the note on
history) without cutting any text, at the wall's sizes."""

from __future__ import annotations

import re

import pytest

from tests.conftest import product_env
from tests.pages.browsing import OVERFLOW_JS, Watched, serving

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    env = product_env(tmp_path_factory.mktemp("demo"), IOC_DEMO="1", IOC_DEMO_HISTORY_DAYS="1")
    with serving(env) as srv:
        yield srv


@pytest.mark.parametrize(("width", "height", "lang"), [(1920, 1080, "zh"), (3840, 2160, "en")])
def test_the_catalogue_in_force_fits_beside_the_demo_fill(server, browser, shots, width: int, height: int,
                                                          lang: str) -> None:
    page = Watched(browser, f"{server.url}/health?lang={lang}&theme=dark", width, height).page
    page.wait_for_selector(".hw-history-text", timeout=60_000)  # the demo's fill reports
    page.wait_for_selector(".hw-site-total", timeout=10_000)
    page.screenshot(path=str(shots / f"health-demo-{width}x{height}-{lang}.png"))
    site = page.inner_text(".hw-site")
    assert "demo.toml" in site and ("历史保留旧名称" if lang == "zh" else "history keeps old names") in site
    # the wall shows the entries in all; each kind is in its tooltip
    total = page.locator(".hw-site-total")
    assert total.inner_text() in site
    assert re.fullmatch(r"共 [\d,]+ 项" if lang == "zh" else r"[\d,]+ entries", total.inner_text())
    assert ("校门 11" if lang == "zh" else "11 gates") in (total.get_attribute("title") or "")
    assert [o for o in page.evaluate(OVERFLOW_JS) if "hw-pipeline" in o["why"]] == []
    page.close()
