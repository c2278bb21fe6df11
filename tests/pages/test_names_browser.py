"""People read names, not codes: every page and download, in Chinese and in English.

A server on a store filled by the simulator (today's campus and last year's admission season)
is walked in real Chromium: on every page the visible text — HTML text, chart legends, axes
and labels drawn in SVG — must not show a site catalogue code where the catalogue has a
name. Tooltips, the copied API URL and the code columns of files are meant to keep codes; the
name columns beside them must hold the catalogue's names. And the analyst's answer for passes
by gate names and orders the gates exactly as the gate cockpit's ranking board does.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from openpyxl import load_workbook

from ingest.site import load_site
from ioc_app.settings import DEFAULT_SITE
from tests.conftest import Server, product_env, run_cli
from tests.pages.browsing import Watched, serving

pytestmark = pytest.mark.browser

ZONE = ZoneInfo("Asia/Shanghai")
SEASON = datetime.now(ZONE).year - 1
SITE = load_site(DEFAULT_SITE)
#: catalogue code → its names, for the codes a reader could mistake for text: every code with a
#: letter in it (a numeric code such as a province's 11 or a major's 080901 is indistinguishable
#: from a figure on a page, and is checked in the files, where columns say what a cell is)
NAMED: dict[str, tuple[str, str]] = {
    n.code: (n.name_zh, n.name_en)
    for section in ("campuses", "gates", "links", "terminals", "departments", "services", "colleges",
                    "majors")
    for n in getattr(SITE, section) if re.search(r"[A-Za-z]", n.code)}
PAGES = ("/", "/gates", "/network", "/service", "/enrollment", "/enrollment/quality",
         "/enrollment/notices", "/health", "/overview/classic",
         "/boards/security-gates", "/boards/network-security", "/boards/admissions",
         "/explore?domain=gate&grain=day&measures=passes&group_by=gate_id&range=today",
         "/explore?domain=gate&grain=hour&measures=in&group_by=campus&range=24h",
         "/explore?domain=network&grain=hour&measures=in_bps_avg&group_by=link_id&range=24h",
         "/explore?domain=service&grain=day&measures=print_jobs&group_by=terminal_id&range=7d",
         "/explore?domain=service&grain=day&measures=submitted&group_by=service_id&range=7d",
         "/explore?domain=service&grain=day&measures=submitted&group_by=department&range=7d",
         f"/explore?domain=enrollment&grain=season&measures=admitted&group_by=college&range=custom"
         f"&from={SEASON}-01-01&to={SEASON + 1}-01-01",
         f"/explore?domain=enrollment&grain=season&measures=admitted&group_by=major&range=custom"
         f"&from={SEASON}-01-01&to={SEASON + 1}-01-01")
#: the least visible text (characters) a page shows once its figures are there; the admissions
#: board shows the current season from the snapshot, and the season simulated here is last
#: year's: its tiles show their titles, steps and "no data"
SHOWS = {"/boards/admissions": 120}
#: what a page shows as text, item by item: each text node of its HTML and each text Plotly
#: draws in SVG (legends, axes, bar labels, a map's labels); tooltips (title attributes) and
#: input values are not read
VISIBLE_TEXT = """() => {
  const items = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let n;
  while ((n = walker.nextNode())) {
    const el = n.parentElement;
    if (!el || el.closest('script,style,noscript') || !el.checkVisibility()) continue;
    if (n.textContent.trim()) items.push(n.textContent.trim());
  }
  return items;
}"""


def codes_shown(items: list[str]) -> list[str]:
    """The catalogue codes a page shows as text. A code with a digit, a hyphen or an
    underscore (``main-north``, ``080910T``) cannot be prose: it counts wherever it stands as a
    word. A code that is an ordinary word (``security``, ``office``) counts only where it stands
    alone as a label: a whole item, or one part of a ``a · b`` legend."""
    text = "\n".join(items)
    labels = {part.strip() for item in items for part in item.split("·")}
    return sorted(code for code in NAMED
                  if (code in labels if code.isalpha()
                      else re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text)))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = product_env(tmp_path_factory.mktemp("names"))
    for args in (("--days", "1", "--scale", "0.1"), ("--season", str(SEASON), "--scale", "0.1")):
        done = run_cli(env, "simulate", "--quiet", *args, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    with serving(env) as srv:
        yield srv


def fetch(server: Server, path: str) -> bytes:
    with server.open(path, timeout=60) as r:
        assert r.status == 200, path
        return r.read()


def test_the_check_finds_a_code_shown_as_text() -> None:
    """The walk's own check: a gate's code standing alone is found, inside a longer token or
    as a name it is not (so a page that showed codes would fail the walk below)."""
    assert codes_shown(["排行 main-north 1,234"]) == ["main-north"]
    assert codes_shown(["北门（学府大道） 1,234 /explore?gate_id=main-north-x"]) == []
    assert codes_shown(["security", "Network security"]) == ["security"]  # a word code as a label
    assert codes_shown(["Network security · Incidents", "admissions office"]) == []
    assert codes_shown(["security · Incidents"]) == ["security"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_page_shows_a_catalogue_code_as_text(server: Server, browser: Any, lang: str) -> None:
    w: Watched | None = None
    found: dict[str, list[str]] = {}
    for path in PAGES:
        url = f"{server.url}{path}{'&' if '?' in path else '?'}lang={lang}"
        if w is None:
            w = Watched(browser, url, 1920, 1080)
            w.page.set_default_timeout(90_000)  # fifteen pages of a seeded store, two workers busy
        else:
            w.goto(url)
        w.page.wait_for_timeout(300)  # the charts' last relayout after the figures arrived
        text = w.page.evaluate(VISIBLE_TEXT)
        assert sum(map(len, text)) > SHOWS.get(path, 200), (path, text)  # the page really showed something
        if shown := codes_shown(text):
            found[path] = shown
    assert w is not None
    assert found == {}, found
    w.clean(server.url + "/")
    w.page.close()


def _query(server: Server, domain: str, params: str, lang: str, fmt: str) -> bytes:
    return fetch(server, f"/api/v1/query/{domain}?{params}&format={fmt}&lang={lang}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_query_files_carry_a_name_beside_each_code(server: Server, lang: str) -> None:
    index = 0 if lang == "zh" else 1
    section = {"gate_id": "gates", "campus": "campuses", "link_id": "links", "terminal_id": "terminals",
               "service_id": "services", "department": "departments"}  # a code is unique in its kind only
    for domain, dim, measure, grain in (("gate", "gate_id", "passes", "day"), ("gate", "campus", "in", "day"),
                                        ("network", "link_id", "in_bps_avg", "hour"),
                                        ("service", "terminal_id", "print_jobs", "day"),
                                        ("service", "service_id", "submitted", "day"),
                                        ("service", "department", "submitted", "day")):
        params = f"grain={grain}&measures={measure}&group_by={dim}"  # the grain's default range
        text = _query(server, domain, params, lang, "csv").decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows, (domain, dim)
        assert list(rows[0])[1:3] == [dim, f"{dim}_name"]
        names = {n.code: (n.name_zh, n.name_en)[index] for n in getattr(SITE, section[dim])}
        assert all(r[f"{dim}_name"] == names[r[dim]] for r in rows), (domain, dim, rows[:3])
        body = orjson.loads(_query(server, domain, params, lang, "json"))
        assert all(r[f"{dim}_name"] == names[r[dim]] for r in body["rows"])
        book = load_workbook(io.BytesIO(_query(server, domain, params, lang, "xlsx")))
        cells = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        assert [r[2] for r in cells[1:]] == [r[f"{dim}_name"] for r in rows]
        assert not [c for r in cells[1:] for i, c in enumerate(r) if i != 1 and c in NAMED]


def _export_cells(book: Any) -> Iterator[tuple[str, Any]]:
    """(header, cell) of every data sheet's cells (not the about sheet)."""
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        header_at = next((i for i, r in enumerate(rows) if sum(c is not None for c in r) > 3), None)
        if header_at is None:
            continue
        head = [str(c) for c in rows[header_at]]
        for r in rows[header_at + 1:]:
            yield from zip(head, r, strict=False)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_exports_keep_codes_only_in_code_columns(server: Server, lang: str) -> None:
    majors = {m.code: (m.name_zh, m.name_en)[0 if lang == "zh" else 1] for m in SITE.majors}
    for path in (f"/api/v1/export/enrollment?year={SEASON}&format=xlsx&lang={lang}",
                 f"/api/v1/export/enrollment/quality?year={SEASON}&lang={lang}",
                 f"/api/v1/export/enrollment/notices?year={SEASON}&lang={lang}"):
        book = load_workbook(io.BytesIO(fetch(server, path)))
        cells = list(_export_cells(book))
        code_word = "代码" if lang == "zh" else "code"
        wrong = {(h, c) for h, c in cells if isinstance(c, str) and (c in NAMED or c in majors)
                 and code_word not in h.lower()}
        assert wrong == set(), (path, sorted(wrong)[:5])
        # a major's name column holds names: the major codes stored this season are named
        named = [c for h, c in cells if h in ("专业", "Major") and c]
        assert named and set(named) <= set(majors.values()), (path, named[:5])


def test_explore_names_and_orders_gates_as_the_cockpit_ranking(server: Server, browser: Any) -> None:
    """Passes by gate today on /explore: the same names, in the same order by volume, as the
    gate cockpit's ranking board."""
    w = Watched(browser, f"{server.url}/gates", 1920, 1080)
    w.page.set_default_timeout(90_000)
    board = w.page.locator("#gates-ranking-gates .ioc-rank-name").all_inner_texts()
    assert len(board) >= 3, board
    question = "/explore?domain=gate&grain=day&measures=passes&group_by=gate_id&range=today"
    w.goto(server.url + question)
    rows = w.page.locator("#explore-table tbody tr").evaluate_all(
        "trs => trs.map(tr => Array.from(tr.cells).map(td => td.innerText))")
    explored = [r[1] for r in rows]
    assert explored[:len(board)] == board, (explored, board)
    w.clean(server.url + "/")
    w.page.close()
