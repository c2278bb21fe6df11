"""The admissions and service-hall cockpits in real headless Chromium, served by the real
server on a real store seeded with a season and a morning at the hall.

Each page is opened on the wall (1920×1080 and 3840×2160, dark) and on a tablet (1180×820,
light): nothing may go wrong in the console or on the network, nothing may leave the app,
the wall may not scroll, no text may overflow its box (element geometry, Plotly's axis and
legend texts included), and the figures on screen must equal the ones counted from the
seeded events (``tests/pages/seed_enrollment_service.py``), after the page's live update
has run. Screenshots are kept in ``var/artifacts/pages/``.
"""

from __future__ import annotations

import io
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import Browser, Page

from ingest.enrollment import BATCHES, CATEGORIES, PROVINCES
from ioc_app.roles import PERMISSIONS
from layouts.china_map import NO_DATA, colour
from tests.conftest import Server, product_env, run_cli
from tests.pages import browsing
from tests.pages.browsing import seed, serving

pytestmark = pytest.mark.browser

#: where the pages are read: the wall (dark; the 4K wall in English, the longest labels) and a tablet
SIZES = {"wall": (1920, 1080, "dark", "zh"), "wall4k-en": (3840, 2160, "dark", "en"),
         "tablet": (1180, 820, "light", "zh")}
LANG = {"zh": 0, "en": 1}

#: every element whose text must fit its own box, on both pages
TEXT = (".ioc-title, .ioc-brand, .ioc-nav-link, .ioc-badge, .ioc-clock, .ioc-tile-title, .ioc-age, "
        ".ioc-kpi-label, .ioc-kpi-value, .ioc-rank-no, .ioc-rank-name, .ioc-rank-value, .ioc-rank-row, "
        ".pes-sub-title, .pes-legend, .pes-figure-label, .pes-figure-value, .pes-export, "
        ".pes-margin-name, .pes-margin-value")

GEOMETRY = """(sel) => {
  const bad = [];
  const box = (el) => el.getBoundingClientRect();
  // where the text itself is (an element's box may be wider than its text, e.g. a grid cell)
  const ink = (el) => { const r = document.createRange(); r.selectNodeContents(el);
                        return r.getBoundingClientRect(); };
  const inside = (r, o) => r.left >= o.left - 1 && r.right <= o.right + 1 && r.top >= o.top - 1
                           && r.bottom <= o.bottom + 1;
  for (const el of document.querySelectorAll(sel)) {
    if (getComputedStyle(el).display !== 'inline' && el.scrollWidth > el.clientWidth + 1)
      bad.push(['overflows', el.className, el.textContent.slice(0, 40), el.scrollWidth, el.clientWidth]);
    const tile = el.closest('.ioc-tile');
    if (tile && el.textContent.trim() && !inside(box(el), box(tile)))
      bad.push(['outside its tile', el.className, el.textContent.slice(0, 40)]);
  }
  for (const body of document.querySelectorAll('.ioc-canvas .ioc-tile-body')) {
    if (body.scrollHeight > body.clientHeight + 1)
      bad.push(['tile content cut', body.parentElement.className, body.scrollHeight, body.clientHeight]);
  }
  // chart texts (ticks, legends, bar labels) drawn inside their chart, never clipped by it, and
  // the labels of one axis never run into each other
  const apart = (a, b, gap) => a.right + gap <= b.left || b.right + gap <= a.left
                               || a.bottom <= b.top || b.bottom <= a.top;
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    const g = box(gd);
    for (const t of gd.querySelectorAll('.xtick text, .ytick text, .y2tick text, .legendtext, .bartext')) {
      const r = box(t);
      if (r.width && !inside(r, g)) bad.push(['chart text clipped', gd.parentElement.id, t.textContent]);
    }
    for (const axis of ['.xtick text', '.ytick text', '.y2tick text']) {
      const labels = [...gd.querySelectorAll(axis)].filter(t => box(t).width);
      for (let i = 1; i < labels.length; i++)
        for (let j = 0; j < i; j++)
          if (!apart(ink(labels[i]), ink(labels[j]), 0))
            bad.push(['axis labels collide', gd.parentElement.id, labels[j].textContent,
                      labels[i].textContent]);
    }
  }
  // the header's three parts keep a clear gap (a few canvas pixels, scaled with the canvas)
  const scale = parseFloat(document.querySelector('.ioc-canvas')?.dataset.scale || '1');
  const parts = ['.ioc-brand', '.ioc-title', '.ioc-header-right'].map(s => document.querySelector(s));
  if (parts.every(Boolean)) {
    for (let i = 0; i < 2; i++) {
      if (!apart(ink(parts[i]), ink(parts[i + 1]), 12 * scale))
        bad.push(['header parts touch', parts[i].className, parts[i + 1].className]);
    }
  }
  return bad;
}"""


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("cockpits")
    env = product_env(tmp)
    printed = seed(env, "-m", "tests.pages.seed_enrollment_service", env["IOC_CLICKHOUSE_URL"])
    expected = json.loads(printed.splitlines()[-1])
    token = run_cli(env, "token", "create", "cockpit-test", "--streams", "*").stdout.strip()
    expected["token"] = token
    with serving(env) as srv:
        yield srv, expected


class Screen:
    """A page opened at one size, with everything the network and the console said."""

    def __init__(self, browser: Browser, base: str, path: str, size: str, query: str = "",
                 ready: str | None = None) -> None:
        """``ready``: a desk page's element to wait for (it flows and scrolls, and has no live
        charts); without it the page is a cockpit, ready after its first live update."""
        width, height, theme, lang = SIZES[size]
        self.base, self.wall, self.theme, self.lang = base, theme == "dark" and not ready, theme, lang
        self.page: Page = browser.new_page(viewport={"width": width, "height": height})
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.bad_status: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", lambda r: self.bad_status.append(f"{r.status} {r.url}") if r.status >= 400
                     else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page_name = path.strip("/")
        # the first update after the first snapshot: the figures on screen went through the patch
        def refreshed(r: Any) -> bool:
            return "_dash-update-component" in r.url and f"{page_name}-graph-" in (r.request.post_data or "")

        if ready:
            self.page.goto(f"{base}{path}?lang={lang}&theme={theme}{query}")
            self.page.wait_for_selector(ready, timeout=20_000)
            return
        with self.page.expect_response(refreshed, timeout=20_000):
            self.page.goto(f"{base}{path}?lang={lang}&theme={theme}")
        self.page.wait_for_function("() => document.querySelector('#ioc-badge')?.dataset.state === 'live'")
        self.page.wait_for_timeout(700)  # transitions (bars glide, numbers flip) settle

    def _failed(self, request: Any) -> None:
        if (failure := browsing.failure_of(request)) is not None:
            self.failed.append(failure)

    def check(self, shot: Path) -> None:
        """The screen is clean: console, network, scrollbars, text geometry."""
        self.page.screenshot(path=str(shot), full_page=not self.wall)
        origin = self.base + "/"
        assert self.requests and all(r.startswith(origin) for r in self.requests), [
            r for r in self.requests if not r.startswith(origin)]
        assert self.errors == [] and self.failed == [] and self.bad_status == []
        scroll = self.page.evaluate("""() => { const d = document.documentElement;
            return [d.scrollWidth, d.clientWidth, d.scrollHeight, d.clientHeight]; }""")
        assert scroll[0] <= scroll[1], scroll  # never sideways
        if self.wall:
            assert scroll[2] <= scroll[3], scroll
            assert self.page.evaluate("getComputedStyle(document.body).overflow") == "hidden"
        bad = self.page.evaluate(GEOMETRY, TEXT)
        assert bad == [], json.dumps(bad, ensure_ascii=False)[:1500]

    def text(self, path: str) -> str:
        return self.page.locator(f"[data-ioc-path='{path}']").first.inner_text()

    def figure(self, name: str) -> dict[str, Any]:
        return self.page.evaluate(
            """(id) => { const gd = document.querySelector('#' + id + ' .js-plotly-plot');
                         return {data: gd.data, layout: gd.layout}; }""", name)

    def board(self, board_id: str) -> list[tuple[str, str]]:
        rows = self.page.locator(f"#{board_id} .ioc-rank-row")
        return [(rows.nth(i).locator(".ioc-rank-name").inner_text(),
                 rows.nth(i).locator(".ioc-rank-value").inner_text()) for i in range(rows.count())]

    def close(self) -> None:
        self.page.close()


def count(n: float) -> str:
    return f"{round(n):,}"


def top(rows: list[tuple[str, int]], n: int) -> list[tuple[str, str]]:
    """A board's expected rows: largest first, equal values by name (as the board orders them)."""
    return [(name, count(v)) for name, v in sorted(rows, key=lambda r: (-r[1], r[0]))[:n]]


TITLES = {"/enrollment": ("招生录取驾驶舱", "Admissions cockpit"),
          "/service": ("网上办事大厅运行", "Service hall operations")}
BATCH_WORDS = {"early": ("提前批", "Early"), "regular": ("本科批", "Undergraduate")}
EXPORT_WORDS = ("导出 Excel", "Export to Excel")


@pytest.mark.parametrize("size", list(SIZES))
def test_admissions_cockpit(seeded: Any, browser: Browser, shots: Path, size: str) -> None:
    server, expected = seeded
    exp = expected["enrollment"]
    screen = Screen(browser, server.url, "/enrollment", size)
    screen.check(shots / f"enrollment-{size}.png")
    lang = LANG[screen.lang]

    assert screen.page.inner_text(".ioc-title") == TITLES["/enrollment"][lang]
    assert screen.text("enrollment.year") == str(exp["year"])
    assert screen.text("enrollment.plan") == count(exp["plan"])
    assert screen.text("enrollment.admitted") == count(exp["admitted"])
    assert screen.text("enrollment.completion") == f"{exp['completion'] * 100:.1f}%"
    assert screen.text("enrollment.checkin.registered") == count(exp["checkin"]["registered"])

    # the map: 34 shapes on screen, each coloured by its own completion, no plan → no colour
    fig = screen.figure("enrollment-graph-map")
    assert [tr["meta"] for tr in fig["data"]] == sorted(PROVINCES)
    assert screen.page.locator("#enrollment-graph-map path.js-fill").count() == 34
    for tr in fig["data"]:
        row = exp["by_province"].get(tr["meta"])
        assert tr["fillcolor"] == (colour(row["completion"], screen.theme) if row
                                   else NO_DATA[screen.theme]), tr["meta"]
    assert "71" not in exp["by_province"]
    provinces = exp["province_names"]
    assert screen.board("enrollment-ranking-provinces") == top(
        [(provinces[p][lang], v["admitted"]) for p, v in exp["by_province"].items()], 8)

    # progress by batch and by category, in their declared order, with "admitted / plan · %"
    for name, key, order in (("batch", "by_batch", BATCHES), ("category", "by_category", CATEGORIES)):
        bars = screen.figure(f"enrollment-graph-{name}")
        rows = [exp[key][c] for c in order if c in exp[key]]
        assert bars["data"][1]["x"] == pytest.approx([r["completion"] for r in rows])
        assert bars["layout"]["yaxis2"]["ticktext"] == [
            f"{r['admitted']:,} / {r['plan']:,} · {r['completion'] * 100:.1f}%" for r in rows]
        assert len(bars["layout"]["yaxis"]["ticktext"]) == len(rows)
    batches = screen.figure("enrollment-graph-batch")["layout"]["yaxis"]["ticktext"]
    assert batches == [BATCH_WORDS[b][lang] for b in BATCHES if b in exp["by_batch"]]

    names = exp["major_names"]
    assert screen.board("enrollment-ranking-majors") == top(
        [(names[m][lang], v["admitted"]) for m, v in exp["by_major"].items() if v["admitted"]], 10)

    scores = screen.figure("enrollment-graph-scores")
    admitting = sorted(p for p, v in exp["by_province"].items() if v["admitted"])
    assert scores["data"][1]["x"] == [provinces[p][lang] for p in admitting]
    assert scores["data"][0]["base"] == pytest.approx([exp["by_province"][p]["min_score"] for p in admitting])
    assert scores["data"][1]["y"] == pytest.approx([exp["by_province"][p]["avg_score"] for p in admitting],
                                                   abs=0.051)

    season = screen.figure("enrollment-graph-season")
    this_year = [v for v in season["data"][0]["y"] if v is not None]
    assert len(season["data"][0]["x"]) == 92 and this_year[-1] == exp["admitted"]
    assert max(season["data"][1]["y"]) == exp["last_year_admitted"]

    steps = [exp["checkin"][s] for s in ("arrived", "paid", "dorm", "registered")]
    assert screen.figure("enrollment-graph-checkin")["data"][0]["x"] == [sum(steps[i:]) for i in range(4)]

    notices_tile(screen, exp, lang)

    # the export link: the year on screen, in the page's language; beside the title, not on it
    link = screen.page.locator("#enrollment-export")
    assert link.inner_text() == EXPORT_WORDS[lang] and link.get_attribute("download") is not None
    assert link.get_attribute("href") == (
        f"/api/v1/export/enrollment?year={exp['year']}&lang={screen.lang}&format=xlsx")
    box, title = link.bounding_box(), screen.page.locator(".pes-enr-kpis .ioc-tile-title").bounding_box()
    assert box and title and box["x"] >= title["x"] + title["width"]
    if not screen.wall:  # a finger finds it on a tablet, and a tap downloads the year's file
        assert box["height"] >= 44 and box["width"] >= 44
        with screen.page.expect_download() as download:
            link.click()
        assert download.value.suggested_filename == f"招生录取明细-{exp['year']}.xlsx"
        sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
        total = [c.value for c in sheet[sheet.max_row]]
        assert (total[0], total[8], total[9]) == ("合计", exp["plan"], exp["admitted"])
    screen.close()


def notices_tile(screen: Screen, exp: dict[str, Any], lang: int) -> None:
    """The notice funnel and the margin tile show the seeded season and the snapshot's part."""
    notices = exp["notices"]
    funnel = screen.figure("enrollment-graph-notices")
    stages = ("admitted", "printed", "mailed", "delivered")
    assert funnel["data"][0]["x"] == [notices["funnel"][s] for s in stages]
    assert funnel["data"][0]["y"][0] == ("已录取", "Admitted")[lang]
    for kind in ("returned", "undelivered", "unprinted"):
        assert screen.text(f"enrollment.notices.exceptions.{kind}") == count(notices["exceptions"][kind])
    # each province's bar: its parts add up to its admitted, their tops are delivered, mailed, printed
    bars = screen.figure("enrollment-graph-notice_provinces")
    provinces = exp["province_names"]
    codes = sorted(notices["by_province"])
    assert bars["data"][0]["x"] == [provinces[p][lang] for p in codes]
    parts = [tr["y"] for tr in bars["data"]]
    for i, code in enumerate(codes):
        row = notices["by_province"][code]
        tops = [sum(part[i] for part in parts[:k]) for k in (1, 3, 4, 5)]
        assert tops == [row["delivered"], row["mailed"], row["printed"], row["admitted"]], code
        assert parts[2][i] == row["returned"]
    # the admitted step and each province's bar lead to the same number in /explore
    assert f"year={exp['year']}" in funnel["data"][0]["ioc_href"][0]
    assert "province=" + codes[0] in bars["data"][0]["ioc_href"][0]
    # the margin tile draws the snapshot's enrollment.quality (its figures: metrics/enrollment_quality.py)
    snap = screen.page.evaluate("() => fetch('/api/v1/snapshot').then(r => r.json())")
    quality = snap["enrollment"].get("quality") or {}
    avg = quality.get("avg_margin")
    assert screen.text("enrollment.quality.avg_margin") == ("—" if avg is None else f"{avg:.1f}")
    for key in ("best", "worst"):
        names = screen.page.locator(f".pes-margin-{key} .pes-margin-name").all_inner_texts()
        assert names == [r["name" if lang == 0 else "name_en"] for r in quality.get(key) or []]
    # the office's links; tracking numbers are on /enrollment/notices only
    assert screen.page.locator("#enrollment-notices-link").get_attribute("href") == (
        f"/enrollment/notices?lang={screen.lang}")
    assert screen.page.locator("#enrollment-quality-link").count() == int("quality" in PERMISSIONS["analyst"])
    html = screen.page.content()
    assert notices["tracking"] and not any(t in html for t in notices["tracking"])
    assert not any(t in json.dumps(snap) for t in notices["tracking"])


NOTICE_TITLES = {"returned": ("被退回", "Returned"), "undelivered": ("逾期未妥投", "Overdue for delivery"),
                 "unprinted": ("逾期未打印", "Not printed in time")}


@pytest.mark.parametrize("size", list(SIZES))
def test_notices_page(seeded: Any, browser: Browser, shots: Path, size: str) -> None:
    """/enrollment/notices on a desk (dark, and 4K in English) and a tablet: the funnel by
    province and the three lists with their counts and files, the tracking numbers shown."""
    server, expected = seeded
    exp = expected["enrollment"]
    notices = exp["notices"]
    screen = Screen(browser, server.url, "/enrollment/notices", size, f"&year={exp['year']}",
                    ready="#enrollment_notices-intro")
    screen.check(shots / f"notices-{size}.png")
    lang = LANG[screen.lang]
    assert screen.page.inner_text(".ioc-title") == ("录取通知书跟踪", "Admission notice tracker")[lang]
    for kind, words in NOTICE_TITLES.items():
        tile = screen.page.locator(f".pes-notice-{kind}")
        n = notices["exceptions"][kind]
        assert tile.locator(".ioc-tile-title").inner_text() == (
            f"{words[lang]} · {n:,} 人" if lang == 0 else f"{words[lang]} · {n:,}")
        assert tile.locator("tbody tr").count() == min(n, 200)
        link = screen.page.locator(f"#enrollment_notices-export-{kind}")
        assert link.get_attribute("href") == (
            f"/api/v1/export/enrollment/notices?year={exp['year']}&kind={kind}&lang={screen.lang}&format=xlsx")
    # the funnel by province: its totals row is the season's funnel
    total = screen.page.locator(".pes-notice-funnel tbody tr").last.locator("td").all_inner_texts()
    stages = ("admitted", "printed", "mailed", "delivered", "returned")
    assert total[1:6] == [f"{notices['funnel'][s]:,}" for s in stages]
    assert total[6:8] == [f"{notices['exceptions'][k]:,}" for k in ("undelivered", "unprinted")]
    returned = screen.page.locator(".pes-notice-returned tbody").inner_text()
    assert notices["exceptions"]["returned"] and "EMS" in returned and "CN" in returned
    if not screen.wall and screen.theme == "light":  # a finger finds the files on a tablet
        box = screen.page.locator("#enrollment_notices-export-returned").bounding_box()
        assert box and box["height"] >= 44
    screen.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_service_hall_cockpit(seeded: Any, browser: Browser, shots: Path, size: str) -> None:
    server, expected = seeded
    exp = expected["service"]
    screen = Screen(browser, server.url, "/service", size)
    screen.check(shots / f"service-{size}.png")
    lang = LANG[screen.lang]

    assert screen.page.inner_text(".ioc-title") == TITLES["/service"][lang]
    assert screen.text("service.today.submitted") == count(exp["submitted"])
    assert screen.text("service.today.completed") == count(exp["completed"])
    assert screen.text("service.today.rejected") == count(exp["rejected"])
    assert screen.text("service.backlog") == count(exp["backlog"])
    assert screen.text("service.calls.today.answer_rate") == f"{exp['answer_rate'] * 100:.1f}%"
    assert screen.text("service.handling_minutes.avg") == f"{exp['handling_avg']:.1f}"
    assert screen.text("service.handling_minutes.p90") == f"{exp['handling_p90']:.1f}"
    assert screen.text("service.handling_minutes.cases") == count(exp["handling_cases"])
    assert screen.text("service.print.today.jobs") == count(exp["print_jobs"])
    assert screen.text("service.print.today.pages") == count(exp["print_pages"])
    assert screen.text("service.print.today.failed") == count(exp["print_failed"])
    assert screen.text("service.calls.today.calls") == count(exp["calls"])
    assert screen.text("service.calls.today.answered") == count(exp["answered"])
    assert screen.text("service.calls.today.avg_wait_s") == f"{exp['avg_wait_s']:.1f}"

    assert screen.board("service-ranking-top") == [(names[lang], count(v)) for _, names, v in exp["top"]]
    assert screen.board("service-ranking-departments") == top(
        [(names[lang], v) for _, names, v in exp["backlog_by_department"]], 8)

    hourly = screen.figure("service-graph-hourly")
    assert hourly["data"][0]["x"] == [f"{h:02d}:00" for h in range(24)]
    submitted, completed, typical = (hourly["data"][i]["y"] for i in (0, 1, 2))
    for h in range(24):
        if submitted[h] is not None:
            assert submitted[h] == exp["hour_submitted"].get(str(h), 0), h
            assert completed[h] == exp["hour_completed"].get(str(h), 0), h
        assert typical[h] == pytest.approx(exp["typical_submitted"].get(str(h), 0)), h
    assert sum(v for v in submitted if v is not None) == exp["submitted"]
    calls = screen.figure("service-graph-calls")
    assert sum(v for v in calls["data"][0]["y"] if v is not None) == exp["calls"]
    screen.close()


def ingest(server: Server, token: str, stream: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(f"{server.url}/api/v1/ingest/{stream}", data=json.dumps(events).encode(),
                                     headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read())


def test_new_events_reach_the_open_cockpits(seeded: Any, browser: Browser, shots: Path) -> None:
    """Runs last: it adds events to the shared store. The boards, the map and the numbers of
    an open page follow the ingest path without a reload (the patched figures and rows)."""
    server, expected = seeded
    now = int(time.time() * 1000)

    screen = Screen(browser, server.url, "/service", "wall")
    fire = [{"event_id": f"live-{i}", "ts": now - i * 1000, "case_id": f"live-{i}",
             "service_id": "fire-inspection", "department": "security", "applicant_type": "staff",
             "channel": "web", "action": "submitted", "node": 0} for i in range(60)]
    assert ingest(server, expected["token"], "service.workflow", fire)["accepted"] == 60
    screen.page.wait_for_function(
        """() => { const row = document.querySelector('#service-ranking-top .ioc-rank-row');
                   return row && row.querySelector('.ioc-rank-name').textContent === '消防安全检查申请'
                          && row.querySelector('.ioc-rank-value').textContent === '60'; }""", timeout=15_000)
    assert screen.text("service.today.submitted") == count(expected["service"]["submitted"] + 60)
    assert len(screen.board("service-ranking-top")) == 20
    screen.page.screenshot(path=str(shots / "service-live.png"))
    screen.close()

    screen = Screen(browser, server.url, "/enrollment", "wall")
    by_province = expected["enrollment"]["by_province"]
    slow = min((p for p in by_province if by_province[p]["plan"] >= 20),
               key=lambda p: by_province[p]["completion"])
    row = by_province[slow]
    more = row["plan"] - row["admitted"] + 1  # past the plan: the province turns the scale's top colour
    major, college = expected["enrollment"]["a_major"]
    admissions = [{"event_id": f"live-{slow}-{i}", "ts": now - i * 1000,
                   "year": expected["enrollment"]["year"], "candidate_key": f"live-{slow}-{i}",
                   "province": slow, "batch": "regular", "category": "general", "track": "physics",
                   "college": college, "major": major, "status": "admitted", "score": 600.0}
                  for i in range(more)]
    assert ingest(server, expected["token"], "enrollment.admission", admissions)["accepted"] == more
    target = colour((row["admitted"] + more) / row["plan"])
    assert target != colour(row["completion"])
    screen.page.wait_for_function(
        """([code, fill]) => { const gd = document.querySelector('#enrollment-graph-map .js-plotly-plot');
                               const tr = gd && gd.data && gd.data.find(d => d.meta === code);
                               return !!tr && tr.fillcolor === fill
                                      && gd.querySelectorAll('path.js-fill').length === 34; }""",
        arg=[slow, target], timeout=15_000)
    assert screen.text("enrollment.admitted") == count(expected["enrollment"]["admitted"] + more)
    # the notice funnel is a live part too: the new candidates are admitted, then printed
    funnel = expected["enrollment"]["notices"]["funnel"]
    wait_funnel = """([admitted, printed]) => {
        const gd = document.querySelector('#enrollment-graph-notices .js-plotly-plot');
        return !!gd && gd.data[0].x[0] === admitted && gd.data[0].x[1] === printed; }"""
    screen.page.wait_for_function(wait_funnel, arg=[funnel["admitted"] + more, funnel["printed"]],
                                  timeout=15_000)
    printed = [{"event_id": f"live-notice-{i}", "ts": now, "year": expected["enrollment"]["year"],
                "candidate_key": f"live-{slow}-{i}", "status": "printed"} for i in range(more)]
    assert ingest(server, expected["token"], "enrollment.notice", printed)["accepted"] == more
    screen.page.wait_for_function(wait_funnel, arg=[funnel["admitted"] + more, funnel["printed"] + more],
                                  timeout=15_000)
    screen.page.screenshot(path=str(shots / "enrollment-live.png"))
    screen.close()
