"""/health and /wall in real headless Chromium, served by the real server on a seeded store.

Each page is checked at the wall's sizes and on a tablet: no console error, no failed
request, no request to another host, no scrollbar on the wall canvas, and no text outside the
box that clips it (element geometry). Screenshots go to ``var/artifacts/pages/``.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import product_env
from tests.pages.browsing import OVERFLOW_JS, Watched, paired_screen, scroll_sizes, seed, serving

pytestmark = pytest.mark.browser

SEED = """
import sys, time
from ingest.deadletter import dead_letter_frame
from ingest.gate import GATE_PASS
from ingest.network import NETWORK_LINK
from ingest.site import load_site, store_reference
from ingest.validate import validate
from ioc_app.migrate import migrate
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store
store = Store(sys.argv[1])
migrate(store)
store_reference(store, load_site(DEFAULT_SITE))
now = int(time.time() * 1000)
base = {"campus": "main", "gate_id": "main-north", "lane": 1, "person_type": "student", "method": "face",
        "direction": "in", "result": "pass"}
events = ([{**base, "event_id": f"in-{i}", "ts": now - i} for i in range(1234)]
          + [{**base, "event_id": f"ghost-{i}", "ts": now - i, "gate_id": "ghost-gate"} for i in range(7)])
r = validate(GATE_PASS, events, source="seed")
assert not r.errors, r.errors[:3]
store.insert("gate_pass", r.frame)
bad = [{**base, "event_id": f"bad-{i}", "ts": now, "direction": "sideways"} for i in range(2)]
rb = validate(GATE_PASS, bad, source="seed")
store.insert("ioc_deadletter", dead_letter_frame("gate.pass", bad, rb, "seed"))
rl = validate(NETWORK_LINK, [{"ts": now - 1000, "link_id": "cernet", "in_bps": 10**9, "out_bps": 10**8}],
              source="seed")
store.insert("network_link", rl.frame)
print("seeded", r.accepted, len(rb.rejected))
"""

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("web")
    env = product_env(tmp, IOC_SCREEN_SILENT_S="6")  # screens beat every 2 s; a closed one is silent soon
    assert seed(env, "-c", SEED, env["IOC_CLICKHOUSE_URL"]) == "seeded 1241 2"
    with serving(env) as srv:
        yield srv


SIZES = [(1920, 1080, "dark", "zh"), (3840, 2160, "dark", "en"), (1180, 820, "light", "en")]


@pytest.mark.parametrize(("width", "height", "theme", "lang"), SIZES, ids=lambda v: str(v))
# (``screen=`` of an old bookmark is no longer read: the page opens all the same)
@pytest.mark.parametrize("route", ["/health", "/wall?pages=/health,/&interval=600&screen=wall-geo"])
def test_page_fits_its_screen(server, browser, shots, route: str, width: int, height: int, theme: str,
                              lang: str) -> None:
    sep = "&" if "?" in route else "?"
    w = Watched(browser, f"{server.url}{route}{sep}lang={lang}&theme={theme}", width, height)
    page = w.page
    page.wait_for_timeout(700)  # past the first numbers' flip animation
    name = route.split("?")[0].strip("/")
    page.screenshot(path=str(shots / f"{name}-{width}x{height}-{theme}-{lang}.png"))
    w.clean(server.url + "/")
    assert page.evaluate(OVERFLOW_JS) == []
    sizes = scroll_sizes(page)
    assert sizes[0] <= sizes[2], sizes  # never sideways
    if name == "wall" or theme == "dark":
        assert sizes[1] <= sizes[3], sizes  # the wall canvas never scrolls
    # the report itself, from the seeded store
    body = page.inner_text("body")
    assert ("数据管道与质量" if lang == "zh" else "Data pipeline & quality") in body
    assert "ghost-gate" in w.text_of(".hw-unknown")
    dead = w.text_of(".hw-dead")
    assert ("取值不在列表" if lang == "zh" else "Value not allowed") in dead and "2" in dead
    streams = w.text_of(".hw-streams")
    assert ("门禁通行" if lang == "zh" else "Gate passes") in streams
    # seeded minutes ago: the gates are live; the security stream never reported: stale, in red
    stale = page.locator(".hw-streams tr.hw-row-stale")
    assert stale.count() >= 1
    assert page.locator(".hw-streams tr.hw-row-ok").count() >= 2
    # (read in one go: the tables are re-rendered every few seconds)
    page.wait_for_function("() => { const e = document.querySelector('.hw-streams tr.hw-row-stale .hw-pill');"
                           " return e && getComputedStyle(e).backgroundColor === 'rgb(220, 38, 38)'; }",
                           timeout=3000)
    assert page.locator("[data-ioc-path='version']").first.inner_text().isdigit()
    page.close()


GATES_IN = "[data-ioc-path='gate.today.in']"


def titles(page) -> tuple[str, str]:
    return page.evaluate("() => [document.title, document.querySelector('.ioc-title')?.textContent || '']")


def test_a_persons_wall_skips_what_is_no_page(server, browser) -> None:
    w = Watched(browser, server.url + "/wall?pages=/,/nope,/health&interval=3&screen=wall-1", 1920, 1080)
    assert w.page.locator(".wall-root").get_attribute("data-wall-pages") == "/,/health"  # /nope skipped
    w.clean(server.url + "/")
    w.page.context.close()


def test_wall_rotates_without_reload_and_screens_report(server, browser) -> None:
    # a wall paired as wall-1 (the name its heartbeats report); its playlist is its pairing's,
    # whatever the URL asks for (here: the same pages, and an entry that is no page)
    screen = paired_screen(browser, server, "wall-1", ("/", "/health"), 1920, 1080)
    w = Watched(browser, server.url + "/wall?pages=/,/nope,/health&interval=3&screen=wall-9", 1920, 1080,
                context=screen)
    page = w.page
    page.evaluate("() => { window.__sameDocument = 42; }")
    assert page.locator(".wall-root").get_attribute("data-wall-pages") == "/,/health"
    assert page.locator(".wall-dot").count() == 2
    seen = [titles(page)]
    deadline = time.monotonic() + 50
    while len(seen) < 4 and time.monotonic() < deadline:  # / → health → / → health: two cycles
        page.wait_for_timeout(250)
        now = titles(page)
        if now != seen[-1] and now[1]:
            seen.append(now)
            if now[1] == "运营总览":  # back on the overview: its numbers are there at once
                page.wait_for_function(f"() => document.querySelector({GATES_IN!r})?.textContent === '1,241'",
                                       timeout=3000)
    headings = [h for _, h in seen]
    assert headings == ["运营总览", "数据管道与质量", "运营总览", "数据管道与质量"], seen
    assert seen[0][0] != seen[1][0] and seen[1][0].endswith("数据管道与质量")  # the document title too
    assert page.evaluate("() => window.__sameDocument") == 42  # one document all along
    assert page.locator(".ioc-canvas").count() == 1 and page.locator("#ioc-badge").count() == 1
    animation = page.locator(".wall-progress-bar").evaluate("e => e.style.animation")
    assert "wall-progress" in animation and "10s" in animation  # interval=3 is clamped to 10 s
    w.clean(server.url + "/")

    # the wall's heartbeat names it on /health, alive
    h = Watched(browser, server.url + "/health", 1920, 1080)
    h.page.wait_for_function(
        "() => [...document.querySelectorAll('.hw-screens tr')].some(r => r.textContent.includes('wall-1'))",
        timeout=15000)
    row = h.page.locator(".hw-screens tr", has_text="wall-1")
    assert "在线" in row.inner_text() and "hw-silent" not in (row.get_attribute("class") or "")
    with server.open("/api/v1/screens", timeout=5) as r:
        answer = json.load(r)
    assert answer["silent_after_s"] == 6
    listed = {s["screen"]: s for s in answer["screens"]}
    assert listed["wall-1"]["silent"] is False
    assert "wall-9" not in listed  # the name in the URL is not read
    page.wait_for_timeout(7000)  # longer than the silence threshold: the open wall keeps beating
    with server.open("/api/v1/screens", timeout=5) as r:
        assert {s["screen"]: s for s in json.load(r)["screens"]}["wall-1"]["silent"] is False

    page.close()  # the wall's tab is closed: /health turns its row silent, in red, without a reload
    h.page.wait_for_function(
        """() => [...document.querySelectorAll('.hw-screens tr')]
                    .some(r => r.textContent.includes('wall-1') && r.classList.contains('hw-silent'))""",
        timeout=30000)
    assert "失联" in h.page.locator(".hw-screens tr", has_text="wall-1").inner_text()
    h.clean(server.url + "/")
    h.page.close()
    screen.close()
