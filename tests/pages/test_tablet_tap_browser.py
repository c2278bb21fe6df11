"""Tablets by themselves, and every figure tapped through to its breakdown, in real headless
Chromium against the real server on a seeded store.

A 1180×820 touch screen opens every page without a parameter and gets the flowing light
tablet page (no scaled canvas, no sideways scrolling, no text outside its box, targets a finger
can hit, pinch-zoom allowed); the URL still forces the wall's canvas. On each cockpit, tapping a
number, a chart element (bar, slice, heat-map cell, map province) and a ranking row opens
``/explore`` asking that figure's question (domain, measure, filter, range in the URL) and
showing the number the tile showed. A paired wall screen — a touch screen too, here — keeps the
canvas and has nothing to tap: no link in a tile, no link on a chart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page

from tests.conftest import Server, pairing_code, product_env
from tests.pages.browsing import OVERFLOW_JS, seed, serving

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1180, 820
PAGES = ("/", "/overview/classic", "/gates", "/network", "/service", "/enrollment", "/health", "/explore")
COCKPITS = ("/", "/gates", "/network", "/service", "/enrollment")

# gate passes at two gates a minute ago (a whole minute: the last hour's chart leaves out the
# minute under way), denials, and three security incidents today (the
# admissions season and the service hall come from tests/pages/seed_enrollment_service.py)
SEED = """
import sys, time
from ingest.registry import get_stream
from ingest.site import load_site, store_reference
from ingest.validate import validate
from ioc_app.migrate import migrate
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store
store = Store(sys.argv[1])
migrate(store)
store_reference(store, load_site(DEFAULT_SITE))
now = int(time.time() * 1000)
def gate(prefix, count, gate_id, campus, **kv):
    base = {"campus": campus, "gate_id": gate_id, "lane": 1, "person_type": "student", "method": "face",
            "result": "pass"}
    return [{**base, **kv, "event_id": f"{prefix}-{i}", "ts": now - 65_000 - i} for i in range(count)]
events = {
    "gate.pass": (gate("n-in", 321, "main-north", "main", direction="in")
                  + gate("n-out", 123, "main-north", "main", direction="out", person_type="staff")
                  + gate("n-deny", 17, "main-north", "main", direction="in", result="deny",
                         deny_reason="expired")
                  + gate("e-in", 45, "east-main", "east", direction="in", person_type="visitor")
                  + gate("e-deny", 6, "east-main", "east", direction="in", result="deny",
                         deny_reason="unauthorized")),
    "network.security": [
        {"event_id": "i1", "ts": now - 9000, "incident_key": "inc-1", "severity": "critical",
         "category": "intrusion", "target_system": "portal", "status": "open"},
        {"event_id": "i2", "ts": now - 9000, "incident_key": "inc-2", "severity": "high",
         "category": "malware", "target_system": "mail", "status": "handled"},
        {"event_id": "i3", "ts": now - 9000, "incident_key": "inc-3", "severity": "medium",
         "category": "intrusion", "target_system": "vpn", "status": "open"},
    ],
}
for name, evs in events.items():
    s = get_stream(name)
    r = validate(s, evs, source="seed")
    assert not r.errors, r.errors[:3]
    store.insert(s.table, r.frame)
print("seeded")
"""

#: every visible control and tap-through link on a tablet page, smaller than a fingertip
TARGETS_JS = """() => {
  const small = [];
  for (const el of document.querySelectorAll('.ioc-flow a[href], .ioc-flow button')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') continue;
    if (r.height < 44 - 0.5 || r.width < 44 - 0.5)
      small.push(el.className + ' «' + el.textContent.trim().slice(0, 20) + '» ' + Math.round(r.width) + '×'
                 + Math.round(r.height));
  }
  return small;
}"""
LAYOUT_JS = """() => ({canvas: !!document.querySelector('.ioc-canvas'),
  flow: !!document.querySelector('.ioc-flow'), light: !!document.querySelector('.ioc-theme-light'),
  marked: document.documentElement.classList.contains('ioc-tablet'),
  sw: document.scrollingElement.scrollWidth, iw: innerWidth,
  viewport: document.querySelector('meta[name=viewport]')?.content ?? null})"""
#: where to tap on a chart element: the centre of trace ``t``'s point ``i`` (a bar, a slice), or
#: of the data point (x, y) of a heat map or a map, in page coordinates
POINT_JS = """([id, t, i, x, y]) => {
  const gd = document.querySelector('#' + id + ' .js-plotly-plot');
  if (x !== null) {
    const L = gd._fullLayout, box = gd.getBoundingClientRect();
    return [box.left + L._size.l + L.xaxis.d2p(x), box.top + L._size.t + L.yaxis.d2p(y)];
  }
  if (t === 'province') {  // the middle of a province's outline
    const tr = gd.data[i], xs = tr.x.filter(v => v !== null), ys = tr.y.filter(v => v !== null);
    const L = gd._fullLayout, box = gd.getBoundingClientRect();
    const mx = (Math.min(...xs) + Math.max(...xs)) / 2, my = (Math.min(...ys) + Math.max(...ys)) / 2;
    return [box.left + L._size.l + L.xaxis.d2p(mx), box.top + L._size.t + L.yaxis.d2p(my)];
  }
  const nodes = gd.querySelectorAll('.barlayer .trace, .pielayer .trace');
  const slice = nodes[t].querySelectorAll('.slice')[i];
  if (slice) {  // a donut's slice: where its percentage is written (its box's centre may be the hole)
    const r = slice.querySelector('.slicetext').getBoundingClientRect();
    return [r.left + r.width / 2, r.top + r.height / 2];
  }
  // a bar: near its base, away from any line drawn over its top
  const r = nodes[t].querySelectorAll('.point path')[i].getBoundingClientRect();
  return r.width > r.height ? [r.left + r.width * 0.2, r.top + r.height / 2]
                            : [r.left + r.width / 2, r.bottom - r.height * 0.2];
}"""

#: a compact, wide province that leads somewhere (the middle of its outline lies inside it, and
#: no other outline): its trace, code, and the admitted its tap text shows
PROVINCE_JS = """() => {
  const gd = document.querySelector('#enrollment-graph-map .js-plotly-plot');
  for (const code of ['65', '54', '63', '51', '53', '43', '36']) {
    const i = gd.data.findIndex(t => t.meta === code && t.ioc_href);
    const admitted = i < 0 ? null : /(\\d[\\d,]*) \\//.exec(gd.data[i].text.replace(/<[^>]+>/g, ' '));
    if (admitted) return [i, code, admitted[1]];
  }
  return null;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("tablet")
    env = product_env(tmp)
    seed(env, "-m", "tests.pages.seed_enrollment_service", env["IOC_CLICKHOUSE_URL"])
    assert seed(env, "-c", SEED, env["IOC_CLICKHOUSE_URL"]).endswith("seeded")
    with serving(env) as srv:
        yield srv


@pytest.fixture(scope="module")
def tablet(browser: Any, server: Server) -> Iterator[Any]:
    """A 1180×820 touch screen with a person's session (viewer and up): nothing in the URL says
    it is a tablet."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, has_touch=True,
                                  device_scale_factor=2)
    yield context
    context.close()


class Tab:
    """One page of the tablet, watched for errors."""

    def __init__(self, context: Any) -> None:
        self.page: Page = context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def open(self, url: str) -> None:
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function("() => document.querySelector('#ioc-badge')?.dataset.state === 'live'",
                                    timeout=30_000)
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('.ioc-graph')].every(g => g.querySelector('.main-svg'))"
            " && !document.querySelector('[data-dash-is-loading]')", timeout=30_000)

    def layout(self) -> dict[str, Any]:
        return self.page.evaluate(LAYOUT_JS)


def cut_text(page: Page) -> list[dict[str, Any]]:
    """Text outside its box (``browsing.OVERFLOW_JS``), but for a box of no size at all: a
    control's hidden measuring element (the date picker sizes its input by one), not a box a
    reader sees."""
    return [c for c in page.evaluate(OVERFLOW_JS)
            if not ("box" in c and (c["box"][0] == c["box"][2] or c["box"][1] == c["box"][3]))]


def number(text: str) -> tuple[float, int]:
    """A figure as written (``1,234``, ``+807``, ``12.3%``, ``−5``) → (value, decimals shown)."""
    s = text.strip().replace(",", "").replace("−", "-").replace("+", "").rstrip("%")
    match = re.search(r"-?\d+(?:\.(\d+))?", s)
    assert match, text
    return float(match.group(0)), len(match.group(1) or "")


def shows(cells: list[str], figure: str) -> bool:
    """Does a table cell hold ``figure`` (as precise as the tile wrote it)?"""
    want, decimals = number(figure)
    for cell in cells:
        if not re.search(r"\d", cell):
            continue
        got, _ = number(cell)
        if round(got * (100 if cell.strip().endswith("%") and not figure.strip().endswith("%") else 1),
                 decimals) == want:
            return True
    return False


def answered(page: Page, question: dict[str, str], figure: str) -> None:
    """``page`` went to /explore asking ``question`` (each name → its only value) and its table
    shows ``figure``."""
    page.wait_for_url(re.compile(r"/explore\?"), timeout=30_000)
    asked = {k: v for k, v in parse_qs(urlparse(page.url).query).items()}
    assert {k: asked.get(k) for k in question} == {k: [v] for k, v in question.items()}, page.url
    page.wait_for_function("() => document.querySelectorAll('.ex-table .ioc-td-num').length > 0",
                           timeout=30_000)
    cells = page.locator(".ex-table .ioc-td-num").all_inner_texts()
    assert shows(cells, figure), (figure, cells, page.url)


def tap_link(tab: Tab, url: str, selector: str, question: dict[str, str]) -> str:
    """On the page at ``url``, tap the link at ``selector`` (its figure read first) and check
    the breakdown; returns the figure."""
    tab.open(url)
    link = tab.page.locator(selector).first
    tab.page.wait_for_function("(sel) => /\\d/.test(document.querySelector(sel)?.textContent || '')",
                               arg=selector)
    figure = (link.locator(".ioc-num").first.inner_text() if link.locator(".ioc-num").count()
              else link.inner_text())
    assert link.get_attribute("href", timeout=5_000).startswith("/explore?")
    link.tap()
    answered(tab.page, question, figure)
    return figure


def tap_chart(tab: Tab, url: str, graph: str, where: tuple[Any, ...], figure: str,
              question: dict[str, str]) -> None:
    """On the page at ``url`` (open), tap a chart element (``where``: trace and point index, or
    the data x and y) that shows ``figure`` and check the breakdown."""
    tab.page.wait_for_function("(id) => document.querySelector('#' + id + ' .js-plotly-plot')?.iocDrill",
                               arg=graph)
    tab.page.locator(f"#{graph}").scroll_into_view_if_needed()
    x, y = tab.page.evaluate(POINT_JS, [graph, *where])
    assert 0 <= x < WIDTH and 0 <= y < HEIGHT, (x, y)
    tab.page.touchscreen.tap(x, y)
    answered(tab.page, question, figure)


def trace(tab: Tab, graph: str, index: int = 0) -> dict[str, Any]:
    return tab.page.evaluate(
        "([id, i]) => { const t = document.querySelector('#' + id + ' .js-plotly-plot').data[i];"
        " return {x: t.x, y: t.y, z: t.z, labels: t.labels, values: t.values, meta: t.meta,"
        " href: t.ioc_href}; }",
        [graph, index])


def test_every_page_opens_as_a_tablet_page_by_itself(server: Server, tablet: Any, shots: Path) -> None:
    """No parameter: the touch screen gets the flowing light page, never the scaled canvas."""
    tab = Tab(tablet)
    for path in PAGES:
        tab.open(f"{server.url}{path}")
        got = tab.layout()
        tab.page.screenshot(path=str(shots / f"tablet{path.replace('/', '-') or '-'}.png"), full_page=True)
        assert got["flow"] and got["light"] and not got["canvas"], (path, got)
        assert got["marked"], path  # the blank document was light before the page came
        assert got["sw"] <= got["iw"], (path, got)  # never sideways
        assert "user-scalable=no" not in (got["viewport"] or "") and "maximum-scale=1" not in (
            got["viewport"] or ""), got  # pinch-zoom stays
        assert cut_text(tab.page) == [], path
        small = tab.page.evaluate(TARGETS_JS)
        assert small == [], (path, "; ".join(small))
    # the URL still decides: the wall's canvas on the same tablet
    tab.open(f"{server.url}/gates?theme=dark")
    assert tab.layout()["canvas"]
    tab.open(f"{server.url}/gates?fit=width")
    assert tab.layout()["canvas"]
    assert tab.errors == []
    tab.page.close()


def test_gates_tap_through(server: Server, tablet: Any) -> None:
    """A number, a ranking row, a heat-map cell and a slice of the gate cockpit."""
    url = f"{server.url}/gates"
    tab = Tab(tablet)
    today = {"domain": "gate", "grain": "day", "range": "today"}
    assert tap_link(tab, url, "a.ioc-kpi:has([data-ioc-path='gate.today.in'])",
                    {**today, "measures": "in"}) == "366"
    assert tap_link(tab, url, "a.ioc-rank-row[data-key='main-north']",
                    {**today, "measures": "passes", "gate_id": "main-north"}) == "444"
    tab.open(url)
    heat = trace(tab, "gates-graph-heat")
    row = next(r for r, cells in enumerate(heat["z"]) if sum(v or 0 for v in cells) == 444)  # main-north
    col = next(i for i, v in enumerate(heat["z"][row]) if v)
    tap_chart(tab, url, "gates-graph-heat", (0, 0, heat["x"][col], heat["y"][row]), str(heat["z"][row][col]),
              {"domain": "gate", "grain": "hour", "range": "custom", "measures": "passes",
               "gate_id": "main-north"})
    tab.open(url)
    deny, person = trace(tab, "gates-graph-deny"), trace(tab, "gates-graph-person")
    assert deny["x"] == [17, 6] and len(deny["href"]) == 2  # the bars lead on too
    assert person["labels"][0] in ("学生", "Students")
    tap_chart(tab, url, "gates-graph-person", (0, 0, None, None), str(person["values"][0]),
              {**today, "measures": "passes", "person_type": "student"})
    assert tab.errors == []
    tab.page.close()


def test_network_tap_through(server: Server, tablet: Any) -> None:
    """A number, a linked cell of the severity table and a bar of the network cockpit."""
    url = f"{server.url}/network"
    tab = Tab(tablet)
    today = {"domain": "network", "grain": "day", "range": "today", "measures": "incidents"}
    assert tap_link(tab, url, "a.ioc-kpi:has([data-ioc-path='network.security.today.high'])",
                    {**today, "severity": "high"}) == "1"
    assert tap_link(tab, url, "a.gn-cmp-link:has([data-ioc-path='network.security.today.critical'])",
                    {**today, "severity": "critical"}) == "1"
    tab.open(url)
    assert trace(tab, "network-graph-categories")["x"] == [2, 1]
    tap_chart(tab, url, "network-graph-categories", (0, 0, None, None), "2",
              {**today, "category": "intrusion"})
    assert tab.errors == []
    tab.page.close()


def test_service_tap_through(server: Server, tablet: Any) -> None:
    """A number, a ranking row and an hour's bar of the service hall."""
    url = f"{server.url}/service"
    tab = Tab(tablet)
    today = {"domain": "service", "grain": "day", "range": "today"}
    tap_link(tab, url, "a.ioc-kpi:has([data-ioc-path='service.today.submitted'])",
             {**today, "measures": "submitted"})
    tab.open(url)
    first = tab.page.locator("#service-ranking-top a.ioc-rank-row").first.get_attribute("data-key")
    tap_link(tab, url, f"#service-ranking-top a.ioc-rank-row[data-key='{first}']",
             {**today, "measures": "submitted", "service_id": first})
    tab.open(url)
    hourly = trace(tab, "service-graph-hourly")
    i = max(range(len(hourly["y"])), key=lambda k: hourly["y"][k] or 0)
    tap_chart(tab, url, "service-graph-hourly", (0, i, None, None), str(hourly["y"][i]),
              {"domain": "service", "grain": "hour", "range": "custom", "measures": "submitted"})
    assert tab.errors == []
    tab.page.close()


def test_overview_tap_through(server: Server, tablet: Any) -> None:
    """Figures of two domains and a minute of the last hour's chart lead to their breakdowns
    (the link chart shows utilisation, a state the analysis does not hold: no link) — on the
    overview page kept at /overview/classic (``/`` is the overview board, whose figures lead
    nowhere yet)."""
    url = f"{server.url}/overview/classic"
    tab = Tab(tablet)
    assert tap_link(tab, url, "a.ioc-kpi:has([data-ioc-path='gate.today.denied'])",
                    {"domain": "gate", "grain": "day", "range": "today", "measures": "denied"}) == "23"
    assert tap_link(tab, url, "a.ioc-kpi:has([data-ioc-path='network.security.today.high'])",
                    {"domain": "network", "measures": "incidents", "severity": "high"}) == "1"
    tab.open(url)
    graph = "overview-graph-last-hour"
    tab.page.wait_for_function(  # the browser draws this chart itself, from the snapshot it holds
        "(id) => document.querySelector('#' + id + ' .js-plotly-plot').data[0].y.some(v => v > 0)", arg=graph)
    entries = trace(tab, graph)
    i = max(range(len(entries["y"])), key=lambda k: entries["y"][k] or 0)
    tap_chart(tab, url, graph, (0, 0, entries["x"][i], entries["y"][i]), str(entries["y"][i]),
              {"domain": "gate", "grain": "minute", "range": "custom", "measures": "in",
               "from": entries["x"][i]})
    assert tab.errors == []
    tab.page.close()


def enrollment_answers(server: Server) -> bool:
    """Does this build's query API know the enrollment domain?"""
    import urllib.request

    req = urllib.request.Request(f"{server.url}/api/v1/query/enrollment?grain=season&measures=admitted",
                                 headers={"Cookie": f"ioc_session={server.session()}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status == 200
    except OSError:
        return False


def test_enrollment_tap_through(server: Server, tablet: Any) -> None:
    """A number, a province of the ranking and a batch's bar of the admissions cockpit."""
    url = f"{server.url}/enrollment"
    tab = Tab(tablet)
    tab.open(url)
    year = tab.page.locator(".pes-year").first.inner_text().strip()
    # the season under way: from its January 1 up to now
    season = {"domain": "enrollment", "grain": "season", "year": year, "range": "custom",
              "from": f"{year}-01-01"}
    assert tab.page.locator("a.ioc-kpi:has([data-ioc-path='enrollment.admitted'])").count() == 1
    assert enrollment_answers(server), "the query API has no enrollment domain"
    tap_link(tab, url, "a.ioc-kpi:has([data-ioc-path='enrollment.admitted'])",
             {**season, "measures": "admitted"})
    tab.open(url)
    first = tab.page.locator("#enrollment-ranking-provinces a.ioc-rank-row").first.get_attribute("data-key")
    tap_link(tab, url, f"#enrollment-ranking-provinces a.ioc-rank-row[data-key='{first}']",
             {**season, "measures": "admitted", "province": first})
    tab.open(url)
    i, code, admitted = tab.page.evaluate(PROVINCE_JS)
    tap_chart(tab, url, "enrollment-graph-map", ("province", i, None, None), admitted,
              {**season, "measures": "completion,admitted,planned", "province": code})
    tab.open(url)
    batch = trace(tab, "enrollment-graph-batch", 1)
    code = parse_qs(urlparse(batch["href"][0]).query)["batch"][0]
    shown = tab.page.evaluate(
        "() => document.querySelector('#enrollment-graph-batch .js-plotly-plot')"
        "._fullLayout.yaxis2.ticktext[0]")
    tap_chart(tab, url, "enrollment-graph-batch", (1, 0, None, None), shown.split("/")[0],
              {**season, "measures": "completion,admitted,planned", "batch": code})
    assert tab.errors == []
    tab.page.close()


def test_a_paired_wall_screen_has_nothing_to_tap(server: Server, browser: Any, shots: Path) -> None:
    """A wall screen — a touch screen too — keeps the canvas, and neither its tiles nor its
    charts lead anywhere."""
    context = browser.anonymous(viewport={"width": WIDTH, "height": HEIGHT}, has_touch=True)
    page = context.new_page()
    page.goto(f"{server.url}/wall/pair?code={pairing_code(server.env, 'hall-wall', COCKPITS)}")
    assert page.url == server.url + "/wall", page.url
    for path in COCKPITS:
        page.goto(f"{server.url}{path}", wait_until="load")
        page.wait_for_function("() => document.querySelector('#ioc-badge')?.dataset.state === 'live'")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.ioc-graph')].every(g => g.querySelector('.main-svg'))")
        assert page.evaluate("() => !!document.querySelector('.ioc-canvas')"), path
        assert page.locator(".ioc-tile a[href], a.ioc-drill").count() == 0, path
        assert page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')]"
                             ".every(gd => gd.data.every(t => !t.ioc_href && !t.ioc_bucket))"), path
    page.screenshot(path=str(shots / "wall-enrollment.png"))
    page.goto(f"{server.url}/wall", wait_until="load")
    page.wait_for_function("() => document.querySelector('#ioc-badge')?.dataset.state === 'live'")
    assert page.locator(".ioc-tile a[href], a.ioc-drill").count() == 0
    context.close()


def test_the_seed_gave_every_cockpit_figures(server: Server) -> None:
    """The store the tests tap through holds what they expect (a guard against an empty seed)."""
    import urllib.request

    req = urllib.request.Request(f"{server.url}/api/v1/snapshot",
                                 headers={"Cookie": f"ioc_session={server.session()}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        snap = json.loads(r.read())
    assert snap["gate"]["today"]["in"] == 366
    assert snap["service"]["today"]["submitted"] > 0
    assert snap["enrollment"]["admitted"] > 0
