"""/explore in real headless Chromium, served by the real server on a seeded store.

A question in the URL shows, in the chart and the table, the figures counted from the seeded
events — the same as the query API's JSON and CSV behind the page's links. Changing a control
changes the answer and the URL (a reload shows the same question); a combination the API
refuses shows its message in the page. In Chinese on a tablet and in English on a 1920×1080
screen in the dark theme: no console error, no failed request, no request to another host, no
sideways scrolling, no text over text. Screenshots go to ``var/artifacts/pages/``.
"""

from __future__ import annotations

import csv
import io
import urllib.error
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import orjson
import pytest

from tests.conftest import Server, product_env
from tests.pages import browsing
from tests.pages.browsing import seed, serving

pytestmark = pytest.mark.browser

ZONE = ZoneInfo("Asia/Shanghai")
# three whole local hours, closed and well inside every retention
T0 = datetime.now(ZONE).replace(minute=0, second=0, microsecond=0) - timedelta(hours=6)
HOURS = [T0 + timedelta(hours=h) for h in range(3)]
# per hour: passes in and out at two gates, and one denial at the north gate
IN = {"main-north": [10, 11, 12], "main-south": [7, 7, 7]}
OUT = {"main-north": [4, 4, 4], "main-south": [2, 3, 4]}
# the gates as the site catalogue names them: a person reads names, the code is in the tooltip
NAMES = {"zh": {"main-north": "北门（学府大道）", "main-south": "南门"},
         "en": {"main-north": "North Gate (Xuefu Avenue)", "main-south": "South Gate"}}

SEED = """
import sys
from ingest.gate import GATE_PASS
from ingest.registry import get_stream
from ingest.site import load_site, store_reference
from ingest.validate import validate
from ioc_app.migrate import migrate
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store
store = Store(sys.argv[1])
migrate(store)
store_reference(store, load_site(DEFAULT_SITE))
t0, plan = int(sys.argv[2]), eval(sys.argv[3])
base = {"campus": "main", "lane": 1, "person_type": "student", "method": "face"}
events = []
for gate, direction, counts in plan:
    for h, n in enumerate(counts):
        for i in range(n):
            events.append({**base, "event_id": f"{gate}-{direction}-{h}-{i}", "gate_id": gate,
                           "ts": t0 + h * 3_600_000 + 60_000 * (i + 1), "direction": direction,
                           "result": "pass"})
for h in range(3):
    events.append({**base, "event_id": f"deny-{h}", "gate_id": "main-north", "ts": t0 + h * 3_600_000 + 1000,
                   "direction": "in", "result": "deny", "deny_reason": "expired"})
r = validate(GATE_PASS, events, source="seed")
assert not r.errors, r.errors[:3]
store.insert("gate_pass", r.frame)
cases = [{"event_id": f"c{i}", "ts": t0 + 1_800_000 + i, "case_id": f"c{i}",
          "service_id": "visitor-registration", "department": "security", "applicant_type": "external",
          "channel": "wechat",
          "action": "completed" if i % 3 == 0 else "submitted", "node": 0} for i in range(9)]
s = get_stream("service.workflow")
rs = validate(s, cases, source="seed")
assert not rs.errors, rs.errors[:3]
store.insert(s.table, rs.frame)
print("seeded", r.accepted, rs.accepted)
"""

QUESTION = ("/explore?domain=gate&grain=hour&measures=in,out&group_by=gate_id&range=custom"
            f"&from={quote(T0.isoformat())}&to={quote((T0 + timedelta(hours=3)).isoformat())}")

# text that lies over other text (a third of a line or more), inside the page's own content
OVERLAP_JS = """() => {
  const boxes = [];
  const walker = document.createTreeWalker(document.querySelector('.ex-grid'), NodeFilter.SHOW_TEXT);
  let n;
  while ((n = walker.nextNode())) {
    const el = n.parentElement;
    if (!n.textContent.trim() || el.closest('svg,script,style,details:not([open]) > :not(summary)')) continue;
    if (getComputedStyle(el).visibility === 'hidden') continue;  // a sizer nobody sees (the date picker's)
    const range = document.createRange();
    range.selectNodeContents(n);
    for (const r of range.getClientRects()) {
      if (r.width > 0 && r.height > 0) boxes.push({text: n.textContent.trim().slice(0, 30), r});
    }
  }
  const out = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i].r, b = boxes[j].r;
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > Math.min(a.height, b.height) / 3) out.push([boxes[i].text, boxes[j].text]);
    }
  }
  return out.slice(0, 10);
}"""

# boxes that cut their own text off (an ellipsis, a clipped label)
CLIPPED_JS = """() => [...document.querySelectorAll('.ex-grid *')].filter(el => {
  if (!el.textContent.trim() || el.closest('svg') || el.classList.contains('ioc-table-box')) return false;
  const s = getComputedStyle(el);
  if (s.visibility === 'hidden') return false;
  return s.overflowX !== 'visible' && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1;
}).map(el => el.className + ': ' + el.textContent.slice(0, 40))"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("web")
    env = product_env(tmp)
    plan = [(g, "in", IN[g]) for g in IN] + [(g, "out", OUT[g]) for g in OUT]
    assert seed(env, "-c", SEED, env["IOC_CLICKHOUSE_URL"], str(int(T0.timestamp() * 1000)),
                repr(plan)) == "seeded 78 9"
    with serving(env) as srv:
        yield srv


def settled(page: Any) -> None:
    """The answer is on the page (a table or a refusal) and no callback is in flight."""
    page.wait_for_function(
        "() => (document.querySelector('#explore-table tbody') || document.querySelector('.ex-error'))"
        " && !document.querySelector('[data-dash-is-loading=\"true\"]')")


class Watched(browsing.Watched):
    """The analyst page, watched: ready once its answer (or refusal) is drawn."""

    def ready(self) -> None:
        self.settled()

    def settled(self) -> None:
        settled(self.page)

    def after(self, change: Any, condition: str) -> None:
        """Do ``change``, then wait until ``condition`` (JS) holds and the page is settled."""
        change()
        self.page.wait_for_function(condition)
        self.settled()

    def navigating(self, move: Any) -> None:
        """A reload or Back: what the old page had in flight is cancelled by the browser
        (``net::ERR_ABORTED``, the favicon say), which is leaving a page, not a failure."""
        before = len(self.failed)
        move()
        self.failed[before:] = [f for f in self.failed[before:] if not f.endswith("net::ERR_ABORTED")]

    def fits(self, shot: Path) -> None:
        page = self.page
        page.screenshot(path=str(shot), full_page=True)
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], width  # never sideways
        assert page.evaluate(OVERLAP_JS) == []
        assert page.evaluate(CLIPPED_JS) == []
        table = page.evaluate("() => { const b = document.querySelector('#explore-table .ioc-table-box');"
                              " return b ? [b.scrollWidth, b.clientWidth] : [0, 0]; }")
        assert table[0] <= table[1] + 1, table  # the seeded answer's table needs no scrolling

    def table(self) -> list[list[str]]:
        return self.page.evaluate("() => [...document.querySelectorAll('#explore-table tbody tr')].map("
                                  "tr => [...tr.children].map(td => td.textContent))")

    def head(self) -> list[str]:
        return self.page.evaluate("() => [...document.querySelectorAll('#explore-table thead th')]"
                                  ".map(th => th.textContent)")

    def traces(self) -> list[dict[str, Any]]:
        return self.page.evaluate("() => document.querySelector('#explore-chart .js-plotly-plot').data"
                                  ".map(t => ({name: t.name, x: t.x, y: t.y, type: t.type}))")

    def api_url(self) -> str:
        return self.page.locator("#explore-api-url").input_value()


def fetch(server: Server, url: str) -> bytes:
    """GET an API URL of ``server`` as the tests' person (signed in, like the page's reader)."""
    assert url.startswith(server.url + "/"), url
    with server.open(url.removeprefix(server.url), timeout=30) as r:
        assert r.status == 200
        return r.read()


def hour_text(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def seeded_rows(lang: str = "zh", names: bool = True) -> list[list[str]]:
    """The table the seeded events make: hour, gate (by name, or by code), entries, exits."""
    return [[hour_text(t), NAMES[lang][gate] if names else gate, str(IN[gate][h]), str(OUT[gate][h])]
            for h, t in enumerate(HOURS) for gate in ("main-north", "main-south")]


def api_rows(body: dict[str, Any]) -> list[list[str]]:
    """The rows of an API answer as the page's table shows them: each group by its name (the
    ``<dimension>_name`` column the API sends beside the code)."""
    grain = body["grain"]
    return [[r[grain][:16].replace("T", " "), *(str(r[f"{g}_name"]) for g in body["group_by"]),
             *(f"{r[m]:,}" for m in body["measures"])] for r in body["rows"]]


def test_a_question_in_the_url_shows_the_seeded_figures(server: Server, browser: Any, shots: Path) -> None:
    w = Watched(browser, server.url + QUESTION, 1180, 820)
    page = w.page
    body = page.inner_text("body")
    assert "数据分析" in body and "查询条件" in body and "同一查询的接口地址" in body
    assert w.head() == ["时间（小时）", "校门", "入校", "出校"]
    assert w.table() == seeded_rows()
    # the chart: a line per gate and measure, with the same figures
    traces = {t["name"]: t["y"] for t in w.traces()}
    north, south = NAMES["zh"]["main-north"], NAMES["zh"]["main-south"]
    assert traces == {f"{north} · 入校": IN["main-north"], f"{north} · 出校": OUT["main-north"],
                      f"{south} · 入校": IN["main-south"], f"{south} · 出校": OUT["main-south"]}
    # the code stays reachable: in each group cell's tooltip
    assert page.locator("#explore-table td span[title]").evaluate_all(
        "els => els.map(e => e.title)")[:2] == ["main-north", "main-south"]
    # the API URL on the page gives the same rows, as JSON and as the CSV behind the link
    url = w.api_url()
    assert url.startswith(server.url + "/api/v1/query/gate?") and "group_by=gate_id" in url
    answer = orjson.loads(fetch(server, url))
    assert api_rows(answer) == w.table()
    href = page.locator("#explore-csv").get_attribute("href")
    assert href == url.removeprefix(server.url) + "&format=csv"
    assert page.locator("#explore-json").get_attribute("href") == url.removeprefix(server.url)
    lines = list(csv.reader(io.StringIO(fetch(server, server.url + href).decode("utf-8-sig"))))
    assert lines[0] == ["hour", "gate_id", "gate_id_name", "in", "out"]
    assert [[r[0][:16].replace("T", " "), r[1], *r[3:]] for r in lines[1:]] == seeded_rows(names=False)
    assert [r[2] for r in lines[1:]] == [row[1] for row in seeded_rows()]  # the name beside the code
    assert "共 6 行" in page.inner_text("#explore-summary")
    w.fits(shots / "zh-1180x820.png")
    w.clean(server.url + "/")
    page.close()


def test_changing_a_control_changes_the_answer_and_the_url(server: Server, browser: Any,
                                                           shots: Path) -> None:
    w = Watched(browser, server.url + QUESTION, 1180, 820)
    page = w.page
    # per day: the same passes, summed (the three hours may straddle local midnight)
    w.after(lambda: page.locator("#explore-grain label").filter(has_text="天").click(),
            "() => document.querySelector('#explore-api-url').value.includes('grain=day')")
    assert "grain=day" in page.url and "group_by=gate_id" in page.url
    assert w.head() == ["日期", "校门", "入校", "出校"]
    rows = w.table()
    totals = {g: sum(int(r[2]) for r in rows if r[1] == NAMES["zh"][g]) for g in IN}
    assert totals == {g: sum(IN[g]) for g in IN}
    assert all(t["type"] == "bar" for t in w.traces())
    # another domain: its own default measures, no grouping, the seeded service cases
    w.after(lambda: page.locator("#explore-domain label").filter(has_text="网上办事大厅").click(),
            "() => document.querySelector('#explore-api-url').value.includes('/service?')")
    assert "domain=service" in page.url and "group_by" not in page.url
    assert w.head() == ["日期", "办件事件", "提交"]
    rows = w.table()
    assert (sum(int(r[1]) for r in rows), sum(int(r[2]) for r in rows)) == (9, 6)
    # a filter narrows it: only the completed cases
    page.locator(".ex-details > summary").click()
    page.locator(".ex-filters .ex-field").filter(has_text="办件动作").locator(".dash-dropdown").click()
    w.after(lambda: page.locator(".dash-dropdown-option").filter(has_text="办结").click(),
            "() => document.querySelector('#explore-api-url').value.includes('action=completed')")
    page.keyboard.press("Escape")
    assert "action=completed" in page.url
    rows = w.table()
    assert (sum(int(r[1]) for r in rows), sum(int(r[2]) for r in rows)) == (3, 0)
    # the question is in the URL: a reload (or the link sent to a colleague) shows it again
    shown = w.table()
    w.navigating(lambda: page.reload(wait_until="networkidle"))
    w.settled()
    assert w.table() == shown and w.head() == ["日期", "办件事件", "提交"]
    assert page.locator("#explore-domain .selected").inner_text() == "网上办事大厅"
    # Back returns to the previous question: the cases before the filter
    w.navigating(lambda: page.go_back(wait_until="networkidle"))
    page.wait_for_function("() => !document.querySelector('#explore-api-url')?.value.includes('action=')")
    w.settled()
    rows = w.table()
    assert (sum(int(r[1]) for r in rows), sum(int(r[2]) for r in rows)) == (9, 6)
    assert "domain=service" in page.url and "action" not in page.url
    w.fits(shots / "changed.png")
    w.clean(server.url + "/")
    page.close()


def test_a_refused_combination_says_what_to_change(server: Server, browser: Any, shots: Path) -> None:
    refused = "/explore?domain=gate&grain=minute&group_by=method&range=24h"
    w = Watched(browser, server.url + refused, 1180, 820)
    page = w.page
    error = page.locator(".ex-error")
    assert error.is_visible()
    text = error.inner_text()
    assert "无法执行此查询" in text and "grain=hour" in text and "请按上面的说明修改查询条件" in text
    assert not page.locator("#explore-chart-box").is_visible()
    assert not page.locator("#explore-rows").is_visible()
    # the API link asks the same refused question: the API gives the same message
    with pytest.raises(urllib.error.HTTPError) as api:
        fetch(server, w.api_url())
    message = orjson.loads(api.value.read())["message"]
    assert api.value.code == 400 and message in text
    w.fits(shots / "refused.png")
    # as the message says: hours instead
    w.after(lambda: page.locator("#explore-grain label").filter(has_text="小时").click(),
            "() => !document.querySelector('.ex-error')")
    assert page.locator("#explore-chart-box").is_visible() and w.table()
    # a time the API cannot read: its message, not a broken page
    w.after(lambda: page.locator("#explore-preset label").filter(has_text="自定义").click(),
            "() => !document.querySelector('#explore-from').disabled")
    page.fill("#explore-from", "昨天")
    w.after(lambda: page.press("#explore-from", "Enter"), "() => !!document.querySelector('.ex-error')")
    assert "is not an RFC 3339 time" in error.inner_text()
    # admissions answer days and seasons, not hours: the form offers those and switches to
    # days over the last 30 days, an answer rather than a refusal
    w.after(lambda: page.locator("#explore-domain label").filter(has_text="招生录取").click(),
            "() => document.querySelector('#explore-api-url').value.includes('/enrollment?')")
    assert page.locator(".ex-error").count() == 0 and page.locator("#explore-rows").is_visible()
    assert page.locator("#explore-grain label").all_inner_texts() == ["天", "招生季"]
    assert page.locator("#explore-grain .selected").inner_text() == "天"
    assert "grain=day" in page.url and "range=30d" in page.url
    w.clean(server.url + "/")
    page.close()


def test_in_english_on_a_dark_1920_screen(server: Server, browser: Any, shots: Path) -> None:
    w = Watched(browser, server.url + QUESTION + "&lang=en&theme=dark", 1920, 1080)
    page = w.page
    body = page.inner_text("body")
    assert "Data explorer" in body and "数据分析" not in body and "Download CSV" in body
    assert page.locator(".ioc-screen").get_attribute("lang") == "en"
    assert "ioc-theme-dark" in (page.locator(".ioc-screen").get_attribute("class") or "")
    assert w.head() == ["Hour", "Gate", "Entries", "Exits"]
    assert w.table() == seeded_rows("en")
    north, south = NAMES["en"]["main-north"], NAMES["en"]["main-south"]
    assert {t["name"] for t in w.traces()} == {f"{north} · Entries", f"{north} · Exits",
                                               f"{south} · Entries", f"{south} · Exits"}
    w.fits(shots / "en-1920x1080-dark.png")
    # the light default at the big size too
    w.goto(server.url + QUESTION + "&lang=en")
    w.settled()
    assert "ioc-theme-light" in (page.locator(".ioc-screen").get_attribute("class") or "")
    w.fits(shots / "en-1920x1080-light.png")
    w.clean(server.url + "/")
    page.close()


def test_cockpits_link_here_on_a_tablet_and_not_on_the_wall(server: Server, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1180, "height": 820})
    page.goto(server.url + "/gates?lang=en&theme=light", wait_until="networkidle")
    link = page.locator(".ioc-nav a[href^='/explore']")
    assert link.is_visible() and link.inner_text() == "Explore"
    link.click()
    page.wait_for_url("**/explore?**")
    settled(page)
    assert "Data explorer" in page.inner_text("body") and "ioc-theme-light" in (
        page.locator(".ioc-screen").get_attribute("class") or "")
    page.goto(server.url + "/gates?theme=dark", wait_until="networkidle")  # the dark wall canvas
    assert page.locator(".ioc-nav a[href^='/explore']").count() == 1
    assert not page.locator(".ioc-nav a[href^='/explore']").is_visible()
    page.close()
