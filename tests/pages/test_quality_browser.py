"""/enrollment/quality (生源质量分析) in real headless Chromium, served by the real server on a
store seeded with two seasons and their control lines (``tests/ioc_app/test_quality_export``'s).

In Chinese and English, at a desk (1920×1080: the dark flowing page) and on a tablet
(1180×820: the light one): no console error, no failed request, no request to another host,
no sideways scrolling of the page (wide tables scroll inside their box); the season's figures
and the tables show the numbers of the API's files for the same person; choosing another
season redraws the page for it and puts it in the address. Screenshots go to
``var/artifacts/pages/``.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from layouts.quality_tables import COLUMNS, page_columns
from tests.conftest import Server, product_env
from tests.pages import browsing
from tests.pages.browsing import seed, serving

pytestmark = pytest.mark.browser

ZONE = ZoneInfo("Asia/Shanghai")
YEAR = datetime.now(ZONE).year
SIZES = {"desk": (1920, 1080), "tablet": (1180, 820)}
SEED = """
import sys
from datetime import datetime
from ingest.enrollment import ENROLLMENT_ADMISSION, ENROLLMENT_CONTROL_LINE
from ingest.site import load_site, store_reference
from ingest.validate import validate
from ioc_app.migrate import migrate
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store
from tests.ioc_app.test_quality_export import events, lines
store = Store(sys.argv[1])
migrate(store)
store_reference(store, load_site(DEFAULT_SITE))
year, t0 = int(sys.argv[2]), datetime.fromisoformat(sys.argv[3])
for stream, rows in ((ENROLLMENT_CONTROL_LINE, lines(year)), (ENROLLMENT_ADMISSION, events(year, t0))):
    r = validate(stream, rows, source="seed")
    assert not r.errors, r.errors[:3]
    store.insert(stream.table, r.frame)
print("seeded", len(events(year, t0)))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("quality")
    env = product_env(tmp)
    t0 = datetime.now(UTC) - timedelta(days=1)
    assert seed(env, "-c", SEED, env["IOC_CLICKHOUSE_URL"], str(YEAR), t0.isoformat()).startswith("seeded")
    with serving(env) as srv:
        yield srv


def api_table(server: Server, table: str, lang: str, year: int = YEAR) -> list[list[str]]:
    """A table's CSV as the page's reader gets it (the same person: the exact figures)."""
    path = f"/api/v1/export/enrollment/quality?year={year}&table={table}&format=csv&lang={lang}"
    with server.open(path, timeout=60) as r:  # type: ignore[attr-defined]
        assert r.status == 200
        return list(csv.reader(io.StringIO(r.read().decode("utf-8-sig"))))


def page_table(page: Any, table: str) -> list[list[str]]:
    return page.evaluate(f"() => [...document.querySelectorAll('#quality-table-{table} tr')].map("
                         "tr => [...tr.children].map(td => td.textContent))")


def number(text: str) -> float | None:
    text = text.replace(",", "").replace("%", "").replace("+", "").strip()
    return None if text in ("", "—") else float(text)


def same_numbers(shown: list[list[str]], api: list[list[str]], table: str) -> None:
    """The page's table is the file's: the same header, the same rows, each number as the
    page rounds it (scores and margins to 0.1, rates in percent to 0.1) — without the file's
    code columns: the page names provinces, colleges and majors (the code in the tooltip)."""
    kept = [i for i, c in enumerate(COLUMNS[table]) if c in page_columns(table)]
    api = [[row[i] for i in kept] for row in api]
    assert shown[0] == api[0] and len(shown) == len(api) > 1, (table, shown[:2], api[:2])
    for page_row, api_row in zip(shown[1:], api[1:], strict=True):
        for cell, raw, (field, _, kind) in zip(page_row, api_row, page_columns(table), strict=True):
            if kind in ("text", "small") or kind.startswith("label:"):
                assert cell == raw, (table, field, cell, raw)
            elif raw == "":
                assert cell == "—", (table, field, cell)
            else:
                want = float(raw) * (100 if kind == "ratio" else 1)
                assert number(cell) == pytest.approx(round(want, 1), abs=0.051), (table, field, cell, raw)


class Watched(browsing.Watched):
    def ready(self) -> None:
        super().ready()
        self.page.wait_for_function("() => document.querySelector('#quality-table-provinces tbody')"
                                    " && !document.querySelector('[data-dash-is-loading=\"true\"]')")


@pytest.mark.parametrize("size", ["desk", "tablet"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_shows_the_apis_figures(server: Server, browser: Any, shots: Path, lang: str,
                                        size: str) -> None:
    width, height = SIZES[size]
    screen = Watched(browser, f"{server.url}/enrollment/quality?lang={lang}", width, height)
    page = screen.page
    assert page.evaluate("() => document.querySelector('.ioc-screen').className").count(
        "ioc-theme-light" if size == "tablet" else "ioc-theme-dark") == 1
    assert page.evaluate("() => !!document.querySelector('.ioc-flow')")  # a flowing page, never the canvas
    for table in ("season", "provinces", "cells", "majors", "by_margin", "by_change", "trend"):
        same_numbers(page_table(page, table), api_table(server, table, lang), table)
    season = api_table(server, "season", lang)[1]
    assert screen.text_of("#quality-kpi-admitted") == f"{int(season[1]):,}"
    provinces = [r[1] for r in api_table(server, "provinces", lang)[1:]]
    assert provinces == (["北京", "上海", "湖北"] if lang == "zh" else ["Beijing", "Shanghai", "Hubei"])
    trend = page.evaluate("() => document.querySelector('#quality-graph-trend .js-plotly-plot').data"
                          ".map(t => t.y)")
    assert len(trend) >= 2 and all(len(y) == 3 for y in trend)
    targets = page.evaluate("() => [...document.querySelectorAll('.pqa-export')].map(a => {"
                            " const r = a.getBoundingClientRect(); return [r.width, r.height]; })")
    assert len(targets) == 2 * 9 + 1 and all(w >= 44 and h >= 44 for w, h in targets), targets
    width_now = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width_now[0] <= width_now[1], width_now  # the page never scrolls sideways
    page.screenshot(path=str(shots / f"quality-{size}-{lang}.png"), full_page=True)
    screen.clean(server.url)
    page.close()


def test_choosing_a_season_redraws_the_page(server: Server, browser: Any) -> None:
    screen = Watched(browser, f"{server.url}/enrollment/quality?lang=zh", *SIZES["desk"])
    page = screen.page
    page.locator("#quality-year").click()
    page.locator(".dash-dropdown-option").filter(has_text=str(YEAR - 1)).click()
    page.wait_for_function(f"() => location.search.includes('year={YEAR - 1}')")
    page.wait_for_function("() => document.querySelector('#quality-export-all').href"
                           f".includes('year={YEAR - 1}')"
                           " && !document.querySelector('[data-dash-is-loading=\"true\"]')")
    page.wait_for_function(f"() => document.querySelector('#quality-table-season tbody td').textContent"
                           f" === '{YEAR - 1}'")
    same_numbers(page_table(page, "provinces"), api_table(server, "provinces", "zh", YEAR - 1), "provinces")
    screen.clean(server.url)
    page.close()
