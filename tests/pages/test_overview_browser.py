"""The overview cockpit ``/`` (the overview board) in real headless Chromium, served by the real
server on a real store."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import product_env
from tests.pages.browsing import OVERFLOW_JS, scroll_sizes, seed, serving

pytestmark = pytest.mark.browser


SEED = """
import sys, time
from ingest.gate import GATE_PASS
from ingest.validate import validate
from ioc_app.migrate import migrate
from ioc_app.storage import Store
store = Store(sys.argv[1])
migrate(store)
now = int(time.time() * 1000)
base = {"campus": "main", "gate_id": "main-north", "lane": 1, "person_type": "student", "method": "face"}
def batch(prefix, n, **kv):
    return [{**base, **kv, "event_id": f"{prefix}-{i}", "ts": now - i} for i in range(n)]
events = (batch("in", 1234, direction="in", result="pass")
          + batch("out", 567, direction="out", result="pass")
          + batch("deny", 89, direction="in", result="deny", deny_reason="expired"))
r = validate(GATE_PASS, events, source="seed")
assert not r.errors, r.errors[:3]
store.insert("gate_pass", r.frame)
from ingest.registry import get_stream
from ingest.site import load_site, store_reference
from ioc_app.settings import DEFAULT_SITE
store_reference(store, load_site(DEFAULT_SITE))
others = {
    "network.link": [{"ts": now - 1000, "link_id": "cernet", "in_bps": 7_500_000_000, "out_bps": 10**9},
                     {"ts": now - 1000, "link_id": "mobile", "in_bps": 10**9, "out_bps": 10**8}],
    "network.online": [{"ts": now - 2000, "campus": "main", "access": "wired", "users": 3000,
                        "ipv6_users": 1200},
                       {"ts": now - 2000, "campus": "east", "access": "wireless", "users": 1000,
                        "ipv6_users": 400}],
    "service.workflow": [{"event_id": f"c{i}", "ts": now - i, "case_id": f"c{i}",
                          "service_id": "visitor-registration", "department": "security",
                          "applicant_type": "external", "channel": "wechat",
                          "action": "completed" if i % 3 == 0 else "submitted", "node": 0}
                         for i in range(42)],
}
for name, evs in others.items():
    s = get_stream(name)
    rr = validate(s, evs, source="seed")
    assert not rr.errors, rr.errors[:3]
    store.insert(s.table, rr.frame)
print("seeded", r.accepted)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("web")
    env = product_env(tmp)
    assert seed(env, "-c", SEED, env["IOC_CLICKHOUSE_URL"]) == "seeded 1890"
    with serving(env) as srv:
        yield srv


def open_page(browser, url: str, shot: Path, width: int = 1920, height: int = 1080):
    page = browser.new_page(viewport={"width": width, "height": height})
    requests: list[str] = []
    failed: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="networkidle")
    page.wait_for_function("() => document.querySelector('#ioc-badge')?.dataset.state === 'live'")
    page.wait_for_timeout(700)  # past the first numbers' flip animation
    page.screenshot(path=str(shot))
    return page, requests, failed, errors


#: the charts of ``/``: those under the cards of the board's tiles ``network`` and ``gate``
GRAPHS = {"links": "boards-graph-network", "last-hour": "boards-graph-gate"}


def trace(page, graph: str, index: int, axis: str) -> list:
    return page.evaluate("([id, i, a]) => document.querySelector('#' + id + ' .js-plotly-plot').data[i][a]",
                         [GRAPHS[graph], index, axis])


def kpi(page, path: str) -> str:
    return page.locator(f"[data-ioc-path='{path}']").first.inner_text()


def test_overview_in_chinese_with_figures_from_clickhouse(server, browser, shots: Path) -> None:
    page, requests, failed, errors = open_page(browser, server.url + "/", shots / "zh.png")
    origin = server.url + "/"
    assert requests and all(r.startswith(origin) for r in requests), [
        r for r in requests if not r.startswith(origin)]
    assert failed == [] and errors == []
    assert any(r.endswith("/vendor/bootstrap/bootstrap.min.css") for r in requests)
    body = page.inner_text("body")
    assert "运营总览" in body and "今日入校" in body and "今日出校" in body
    assert kpi(page, "gate.today.in") == "1,234"
    assert kpi(page, "gate.today.out") == "567"
    assert kpi(page, "gate.today.denied") == "89"
    assert kpi(page, "gate.today.net_inflow") == "+667"
    assert kpi(page, "gate.today.deny_rate") == f"{89 / 1890 * 100:.1f}%"
    assert "校园网络" in body and "网上办事大厅" in body and "招生录取" in body
    assert kpi(page, "network.peak_utilization") == "75.0%"  # cernet: 7.5 of 10 Gbit/s
    assert kpi(page, "network.online.users") == "4,000"
    assert kpi(page, "network.online.ipv6_share") == "40.0%"
    assert kpi(page, "service.today.submitted") == "28"
    assert kpi(page, "service.today.completed") == "14"
    assert kpi(page, "enrollment.completion") == "—"  # no plan yet: no ratio, not 0 %
    assert page.locator(".ioc-screen").get_attribute("lang") == "zh-CN"
    # the links by their catalogue names; the last hour's entries and exits, a point per whole minute
    assert "教育网（CERNET）" in trace(page, "links", 0, "y")
    assert len(trace(page, "last-hour", 0, "x")) == 60 and len(trace(page, "last-hour", 1, "y")) == 60
    page.close()


def test_overview_in_english(server, browser, shots: Path) -> None:
    page, _, failed, errors = open_page(browser, server.url + "/?lang=en", shots / "en.png")
    body = page.inner_text("body")
    assert "Operations overview" in body and "Entries today" in body and "今日入校" not in body
    assert kpi(page, "gate.today.in") == "1,234"
    assert failed == [] and errors == []
    page.close()


@pytest.mark.parametrize(("width", "height", "theme", "lang"),
                         [(1920, 1080, "dark", "zh"), (3840, 2160, "dark", "en"), (1180, 820, "light", "zh"),
                          (1180, 820, "light", "en")], ids=lambda v: str(v))
def test_overview_fits_every_screen(server, browser, shots: Path, width: int, height: int, theme: str,
                                    lang: str) -> None:
    """The wall at 1080p and 4K (English: the longest labels) and the tablet: nothing spills or scrolls."""
    url = f"{server.url}/?lang={lang}&theme={theme}"
    shot = shots / f"overview-{width}x{height}-{theme}-{lang}.png"
    page, requests, failed, errors = open_page(browser, url, shot, width, height)
    origin = server.url + "/"
    assert failed == [] and errors == []
    assert all(r.startswith(origin) for r in requests), [r for r in requests if not r.startswith(origin)]
    assert kpi(page, "gate.today.in") == "1,234"
    assert page.evaluate(OVERFLOW_JS) == []
    sizes = scroll_sizes(page)
    assert sizes[0] <= sizes[2], sizes  # never sideways
    if theme == "dark":
        assert sizes[1] <= sizes[3], sizes  # the wall canvas never scrolls
        assert page.evaluate("getComputedStyle(document.body).overflow") == "hidden"
    page.close()


def test_refresh_updates_numbers_without_reload(server, browser, shots: Path) -> None:
    page, *_ = open_page(browser, server.url + "/", shots / "refresh.png")
    status = page.locator("#ioc-clock")
    first = status.inner_text()
    deadline = time.monotonic() + 30
    while status.inner_text() == first and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    assert status.inner_text() != first  # the clock moved on by itself, without a reload
    assert kpi(page, "gate.today.in") == "1,234"
    page.close()


def test_healthz(server) -> None:
    import urllib.request

    with urllib.request.urlopen(server.url + "/healthz", timeout=5) as r:
        assert r.status == 200
