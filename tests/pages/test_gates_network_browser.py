"""The gate and network cockpits in real headless Chromium, served by the real server on a real
store seeded with known events: every size renders without errors, scrollbars or text spilling
out of its box, and the figures on screen are the seeded ones (and follow new events)."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.conftest import product_env
from tests.pages.browsing import SCROLL, geometry_js, seed, serving

pytestmark = pytest.mark.browser


SEED = """
import sys, time
from ingest.registry import BY_NAME, get_stream
from ingest.site import load_site, store_reference
from ingest.validate import validate
from ioc_app import auth
from ioc_app.migrate import migrate
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store
store = Store(sys.argv[1])
migrate(store)
store_reference(store, load_site(DEFAULT_SITE))
now = int(time.time() * 1000)
n = 0
def gate(prefix, count, gate_id, campus, **kv):
    base = {"campus": campus, "gate_id": gate_id, "lane": 1, "person_type": "student", "method": "face",
            "result": "pass"}
    return [{**base, **kv, "event_id": f"{prefix}-{i}", "ts": now - i} for i in range(count)]
events = {
    "gate.pass": (
        gate("n-in", 1234, "main-north", "main", direction="in")
        + gate("n-out", 567, "main-north", "main", direction="out", person_type="staff")
        + gate("n-deny", 89, "main-north", "main", direction="in", result="deny", deny_reason="expired")
        + gate("e-in", 300, "east-main", "east", direction="in", person_type="visitor")
        + gate("e-out", 200, "east-main", "east", direction="out")
        + gate("e-deny", 11, "east-main", "east", direction="in", result="deny", deny_reason="unauthorized")
        + gate("s-in", 40, "south-west", "south", direction="in", temperature_c=37.8)
    ),
    "network.link": [{"ts": now - 1000, "link_id": "cernet", "in_bps": 7_500_000_000, "out_bps": 10**9},
                     {"ts": now - 1000, "link_id": "mobile", "in_bps": 10**9, "out_bps": 10**8}],
    "network.online": [{"ts": now - 2000, "campus": "main", "access": "wired", "users": 3000,
                        "ipv6_users": 1200},
                       {"ts": now - 2000, "campus": "east", "access": "wireless", "users": 1000,
                        "ipv6_users": 400}],
    "network.security": [
        {"event_id": "i1", "ts": now - 3000, "incident_key": "inc-1", "severity": "critical",
         "category": "intrusion", "target_system": "portal", "status": "open"},
        {"event_id": "i2", "ts": now - 3000, "incident_key": "inc-2", "severity": "high",
         "category": "malware", "target_system": "mail", "status": "handled"},
        {"event_id": "i3", "ts": now - 3000, "incident_key": "inc-3", "severity": "medium",
         "category": "intrusion", "target_system": "vpn", "status": "open"},
    ],
}
for name, evs in events.items():
    s = get_stream(name)
    r = validate(s, evs, source="seed")
    assert not r.errors, r.errors[:3]
    store.insert(s.table, r.frame)
    n += r.accepted
print(auth.create_token(sys.argv[2], "seed", ["gate.pass"], set(BY_NAME)))
print("seeded", n)
"""
SEEDED = 1234 + 567 + 89 + 300 + 200 + 11 + 40 + 2 + 2 + 3

#: (lang, width, height, theme): the wall, a 4K wall, a tablet. The 4K wall shows the 1920×1080
#: canvas scaled by two, the same layout as the wall: one language is enough there.
SIZES = [("zh", 1920, 1080, "dark"), ("en", 1920, 1080, "dark"), ("zh", 3840, 2160, "dark"),
         ("zh", 1180, 820, "light"), ("en", 1180, 820, "light")]

#: every text box that must show its whole text, and where it must stay: inside its tile
GEOMETRY = geometry_js(".gn-cmp-h, .gn-cmp-label, .ioc-nav-link, .ioc-title")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("gates-network")
    env = product_env(tmp)
    lines = seed(env, "-c", SEED, env["IOC_CLICKHOUSE_URL"], env["IOC_TOKENS_FILE"]).splitlines()
    assert lines and lines[-1] == f"seeded {SEEDED}", lines
    with serving(env) as srv:
        srv.token = lines[-2]  # type: ignore[attr-defined]
        yield srv


@pytest.fixture(scope="module")
def browser(browser: Any, server: Any) -> Any:
    """One browser context for the module: pages share its cache, as the tabs of one screen would
    (the Dash and Plotly bundles load once); it holds the tests' person's session on ``server``."""
    context = browser.new_context()
    yield context
    context.close()


class Opened:
    """A page with everything it asked for and everything that went wrong on the way."""

    def __init__(self, browser: Any, url: str, width: int, height: int) -> None:
        self.page: Page = browser.new_page()
        self.page.set_viewport_size({"width": width, "height": height})
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        self.page.on("response",
                     lambda r: self.failed.append(f"{r.url} {r.status}") if r.status >= 400 else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function("() => document.querySelector('#ioc-badge')?.dataset.state === 'live'")
        # every chart drawn, the page's callback done with the first version, transitions over
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('.ioc-graph')].every(g => g.querySelector('.main-svg'))"
            " && !document.querySelector('[data-dash-is-loading]')")
        self.page.wait_for_timeout(600)

    def text(self, selector: str) -> str:
        return self.page.locator(selector).first.inner_text().strip()

    def bound(self, path: str) -> str:
        return self.text(f"[data-ioc-path='{path}']")

    def figure(self, graph_id: str) -> list[dict[str, Any]]:
        return self.page.evaluate(
            "(id) => document.querySelector('#' + id + ' .js-plotly-plot').data"
            ".map(t => ({x: t.x, y: t.y, z: t.z, labels: t.labels, values: t.values, text: t.text}))",
            graph_id)


def check_screen(o: Opened, origin: str, theme: str, shot: Path) -> None:
    o.page.screenshot(path=str(shot), full_page=theme == "light")
    assert o.requests and all(r.startswith(origin) for r in o.requests), [
        r for r in o.requests if not r.startswith(origin)]
    assert o.failed == [] and o.errors == []
    scroll = o.page.evaluate(SCROLL)
    assert scroll["w"] <= scroll["iw"], scroll  # never sideways, not even on a tablet
    if theme == "dark":
        assert scroll["h"] <= scroll["ih"], scroll  # the wall never scrolls
    assert o.page.evaluate(GEOMETRY) == []


@pytest.mark.parametrize("lang,width,height,theme", SIZES)
def test_gates_page_at_every_size(server: Any, browser: Any, shots: Path, width: int, height: int,
                                  theme: str, lang: str) -> None:
    o = Opened(browser, f"{server.url}/gates?lang={lang}&theme={theme}", width, height)
    check_screen(o, server.url + "/", theme, shots / f"gates-{lang}-{width}x{height}.png")
    # today's numbers, bound and written by the browser
    assert o.bound("gate.today.in") == "1,574"
    assert o.bound("gate.today.out") == "767"
    assert o.bound("gate.today.denied") == "100"
    assert o.bound("gate.today.net_inflow") == "+807"
    assert o.bound("gate.today.fever") == "40"
    assert o.bound("gate.compare.today.in") == "1,574"
    # the ranking board: the gates by passes, catalogue names, the seeded counts
    rows = o.page.locator(".ioc-rank-row")
    assert rows.count() == 3
    keys = [rows.nth(i).get_attribute("data-key") for i in range(3)]
    assert keys == ["main-north", "east-main", "south-west"]
    first = ("北门（学府大道）", "North Gate (Xuefu Avenue)")[lang == "en"]
    assert o.text("[data-key='main-north'] .ioc-rank-name") == first
    assert o.text("[data-key='main-north'] .ioc-rank-value") == "1,801"
    assert o.text("[data-key='east-main'] .ioc-rank-value") == "500"
    assert o.text("[data-key='south-west'] .ioc-rank-value") == "40"
    # deny reasons, most frequent first, in the page's language
    deny = o.figure("gates-graph-deny")[0]
    assert deny["x"] == [89, 11]
    assert deny["y"] == (["证件过期", "无通行权限"] if lang == "zh" else ["Expired", "No permission"])
    # who passes: students, staff, visitors (passes only)
    person = o.figure("gates-graph-person")[0]
    assert dict(zip(person["labels"], person["values"], strict=True)) == (
        {"学生": 1234 + 200 + 40, "教职工": 567, "访客": 300} if lang == "zh"
        else {"Students": 1474, "Staff": 567, "Visitors": 300})
    # the heat map: one row per gate with passes, the current hour's cell holds them all
    heat = o.figure("gates-graph-heat")[0]
    assert len(heat["y"]) == 3 and len(heat["x"]) == 24
    assert sum(v or 0 for v in heat["z"][0]) == 1801
    o.page.close()


@pytest.mark.parametrize("lang,width,height,theme", SIZES)
def test_network_page_at_every_size(server: Any, browser: Any, shots: Path, width: int, height: int,
                                    theme: str, lang: str) -> None:
    o = Opened(browser, f"{server.url}/network?lang={lang}&theme={theme}", width, height)
    check_screen(o, server.url + "/", theme, shots / f"network-{lang}-{width}x{height}.png")
    assert o.bound("network.peak_utilization") == "75.0%"  # cernet: 7.5 of 10 Gbit/s
    assert o.bound("network.online.users") == "4,000"
    assert o.bound("network.online.by_access[access=wired].users") == "3,000"
    assert o.bound("network.online.by_access[access=wired].ipv6_share") == "40.0%"
    assert o.bound("network.online.by_access[access=vpn].users") == "0"
    assert o.bound("network.security.open") == "2"
    assert o.bound("network.security.open_by_severity.critical") == "1"
    assert o.bound("network.security.open_by_severity.high") == "0"  # handled: no longer open
    assert o.bound("network.security.today.high") == "1"
    assert o.bound("network.security.by_status.handled") == "1"
    # links now: every link in catalogue order, shares of capacity, the rate written on the bar
    now = o.figure("network-graph-links_now")
    assert now[0]["x"] == [0.75, 0, 0, 0.2] and now[0]["text"] == ["7.5Gbps", "—", "—", "1Gbps"]
    assert now[1]["text"] == ["1Gbps", "—", "—", "100Mbps"]
    # incidents today by type, the most frequent first
    cats = o.figure("network-graph-categories")[0]
    assert cats["x"] == [2, 1]
    assert cats["y"] == (["入侵行为", "恶意代码"] if lang == "zh" else ["Intrusion", "Malware"])
    # online users by campus: wired / wireless / vpn stacked
    campus = o.figure("network-graph-campus")
    assert [t["x"] for t in campus] == [[3000, 0], [0, 1000], [0, 0]]
    o.page.close()


def test_new_passes_reach_the_ranking_without_a_reload(server: Any, browser: Any, shots: Path) -> None:
    """Events ingested through the API move a gate up the board: the page's one callback
    re-renders the rows on the new snapshot version; nothing reloads."""
    o = Opened(browser, f"{server.url}/gates", 1920, 1080)
    o.page.evaluate("() => { window.notReloaded = true; }")
    now = int(time.time() * 1000)
    events = [{"event_id": f"late-{i}", "ts": now - i, "campus": "south", "gate_id": "south-west", "lane": 2,
               "direction": "in", "person_type": "student", "method": "card", "result": "pass"}
              for i in range(1000)]
    req = urllib.request.Request(f"{server.url}/api/v1/ingest/gate.pass", data=json.dumps(events).encode(),
                                 headers={"Content-Type": "application/json",
                                          "Authorization": f"Bearer {server.token}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert json.loads(r.read())["accepted"] == 1000
    o.page.wait_for_function(
        "() => document.querySelectorAll('.ioc-rank-row')[1]?.dataset.key === 'south-west'", timeout=15_000)
    keys = [o.page.locator(".ioc-rank-row").nth(i).get_attribute("data-key") for i in range(3)]
    assert keys == ["main-north", "south-west", "east-main"]
    assert o.text("[data-key='south-west'] .ioc-rank-value") == "1,040"
    assert o.page.evaluate("() => window.notReloaded") is True
    o.page.screenshot(path=str(shots / "gates-after-ingest.png"))
    assert o.failed == [] and o.errors == []
    o.page.close()
