"""The shipped boards in real headless Chromium, served by the real server on a real store
seeded with known events: at 1080p, 4K and tablet size, no scrollbar, no text outside its box,
no request to another host, and every number the one the snapshot or the query API gives for
the path or question the board's file names."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ioc_app.boards import read_board
from tests.conftest import ROOT, product_env
from tests.pages.browsing import OVERFLOW_JS, SCROLL, geometry_js, seed, serving
from tests.pages.test_overview_browser import SEED as OVERVIEW_SEED

pytestmark = pytest.mark.browser

BOARDS = ROOT / "boards"
SHIPPED = sorted(p.stem for p in BOARDS.glob("*.toml"))
#: (board, address): every shipped board at its own address, and the overview board at ``/``
SHOWN = [(slug, f"/boards/{slug}") for slug in SHIPPED] + [("overview", "/")]
#: (width, height, theme): the wall, a 4K wall (the canvas scaled by two), a tablet
SIZES = [(1920, 1080, "dark"), (3840, 2160, "dark"), (1180, 820, "light")]

#: the overview's events, and visitors and security incidents for the department boards' questions
SEED = OVERVIEW_SEED.replace(
    'print("seeded", r.accepted)',
    """
visitors = [{**base, "gate_id": gate, "person_type": "visitor", "direction": "in", "result": "pass",
             "event_id": f"v-{gate}-{i}", "ts": now - 5000 - i}
            for gate, n in (("main-north", 7), ("east-main", 3)) for i in range(n)]
# a pass on each of the days before: the store holds yesterday, so a comparison with it is answered
visitors += [{**base, "person_type": "visitor", "direction": "in", "result": "pass", "event_id": f"v-old{d}",
              "ts": now - d * 86_400_000} for d in (1, 2)]
rv = validate(GATE_PASS, visitors, source="seed")
assert not rv.errors, rv.errors[:3]
store.insert("gate_pass", rv.frame)
sec = get_stream("network.security")
incidents = [{"event_id": f"s{i}", "ts": now - 60_000 - i, "incident_key": f"k{i}", "severity": sev,
              "category": cat, "target_system": "mail", "status": "open"}
             for i, (sev, cat) in enumerate([("high", "phishing")] * 4 + [("critical", "intrusion")] * 2
                                            + [("low", "weak_password")])]
rs = validate(sec, incidents, source="seed")
assert not rs.errors, rs.errors[:3]
store.insert(sec.table, rs.frame)
from ingest.registry import BY_NAME
from ioc_app import auth
print(auth.create_token(sys.argv[2], "seed", ["gate.pass"], set(BY_NAME)))
print("seeded", r.accepted + rv.accepted + rs.accepted)""",
)

#: every text box that must show its whole text inside its tile, and tiles on the canvas
GEOMETRY = geometry_js(".boards-compare, .boards-text, .ioc-alert-title, .ioc-td, .ioc-td-num, .ioc-title")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("boards")
    env = product_env(tmp, IOC_BOARDS=str(BOARDS))
    lines = seed(env, "-c", SEED, env["IOC_CLICKHOUSE_URL"], env["IOC_TOKENS_FILE"]).splitlines()
    assert lines[-1].startswith("seeded"), lines
    with serving(env) as srv:
        srv.token = lines[-2]  # type: ignore[attr-defined]
        yield srv


class Opened:
    """A board in a page, with everything it asked for and everything that went wrong."""

    def __init__(self, browser: Any, url: str, width: int, height: int) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on(
            "requestfailed",
            lambda r: (
                self.failed.append(f"{r.url} {r.failure}")
                if not (r.response() and r.response().status == 304)
                else None
            ),
        )
        self.page.on(
            "response", lambda r: self.failed.append(f"{r.url} {r.status}") if r.status >= 400 else None
        )
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.goto(url, wait_until="networkidle")
        self.page.wait_for_function("() => document.querySelector('#ioc-badge')?.dataset.state === 'live'")
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('.ioc-graph')].every(g => g.querySelector('.main-svg'))"
            " && !document.querySelector('[data-dash-is-loading]')"
        )
        self.page.wait_for_timeout(700)  # past the numbers' flip

    def bound(self, path: str) -> list[str]:
        return [
            t.strip() for t in self.page.locator(f".boards-grid [data-ioc-path='{path}']").all_inner_texts()
        ]


def api(server: Any, path: str) -> Any:
    req = urllib.request.Request(server.url + path, headers={"Cookie": f"ioc_session={server.session()}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"{path}: {exc.code} {exc.read()[:300]!r}") from None


def shown(value: Any, fmt: str, lang: str) -> str:
    """A number as the browser writes it (``assets/ioc_live.js``), through the product's twin."""
    from layouts.ranking import format_number

    if fmt == "plain":
        return "—" if value is None else str(value)
    return format_number(value, fmt, lang)


@pytest.mark.parametrize("width,height,theme", SIZES)
@pytest.mark.parametrize("slug,address", SHOWN, ids=[a for _, a in SHOWN])
def test_shipped_board_at_every_size(
    server: Any, browser: Any, shots: Path, slug: str, address: str, width: int, height: int, theme: str
) -> None:
    o = Opened(browser, f"{server.url}{address}?lang=zh&theme={theme}", width, height)
    name = "front" if address == "/" else slug
    o.page.screenshot(path=str(shots / f"{name}-{width}x{height}.png"), full_page=theme == "light")
    origin = server.url + "/"
    assert o.requests and all(r.startswith(origin) for r in o.requests), [
        r for r in o.requests if not r.startswith(origin)
    ]
    assert o.failed == [] and o.errors == [], (o.failed, o.errors)
    scroll = o.page.evaluate(SCROLL)
    assert scroll["w"] <= scroll["iw"], scroll  # never sideways, not even on a tablet
    if theme == "dark":
        assert scroll["h"] <= scroll["ih"], scroll  # a wall never scrolls
    assert o.page.evaluate(GEOMETRY) == []
    assert o.page.evaluate(OVERFLOW_JS) == []
    board, _ = read_board(BOARDS / f"{slug}.toml")
    assert board is not None
    if theme == "light":  # a tablet: the tiles one under another, in their order
        tops = o.page.evaluate(
            "() => [...document.querySelectorAll('.boards-tile')].map(t => "
            "[t.querySelector('.ioc-tile-title').textContent, t.getBoundingClientRect().top])"
        )
        by_top = [title for title, _ in sorted(tops, key=lambda t: t[1])]
        assert by_top == [t.title.zh for t in sorted(board.tiles, key=lambda t: t.order)]
    assert o.page.locator(".ioc-title").first.inner_text() == board.title.zh
    snap = api(server, "/api/v1/snapshot")
    from layouts.parts import walk

    for tile in board.tiles:
        if tile.kind == "number" and tile.query is None:  # each bound number: the snapshot's
            for item in tile.items:
                assert o.bound(item.path or "")[0] == shown(walk(snap, item.path or ""), item.format, "zh"), (
                    item
                )
        elif tile.query is not None:  # each question: the query API's answer to the same question
            check_question(server, o, tile)
        elif tile.kind in ("bar", "trend", "donut", "table"):  # a list of the snapshot, drawn as it is
            check_rows(o, tile, walk(snap, tile.path or "") or [])
        if tile.chart is not None:  # the chart under a number tile's cards, drawn as it is
            check_rows(o, tile.as_chart(), walk(snap, tile.path or "") or [])


def check_rows(o: Opened, tile: Any, rows: list[dict[str, Any]]) -> None:
    assert rows, tile.id  # the seeded figures are there
    if tile.complete:  # the bucket still filling is left out
        rows = rows[:-1]
    if tile.kind == "table":
        box = o.page.locator(
            f"[id='{json.dumps({'tile': tile.id, 'type': 'boards-live'}, separators=(',', ':'))}']"
        )
        cells = box.locator("tbody .ioc-td-num").all_inner_texts()
        assert cells == [shown(r.get(v), tile.format, "zh") for r in rows for v in tile.values], cells
        return
    data = o.page.evaluate(
        "(id) => document.querySelector('#' + id + ' .js-plotly-plot').data"
        ".map(t => ({x: Array.from(t.x || []), y: Array.from(t.y || []),"
        " values: Array.from(t.values || [])}))",
        f"boards-graph-{tile.id}",
    )
    for trace, value in zip(data, tile.values, strict=True):
        drawn = {"bar": trace["x"], "trend": trace["y"], "donut": trace["values"]}[tile.kind]
        assert drawn == [r.get(value) or (0 if tile.kind == "donut" else r.get(value)) for r in rows], tile.id


def check_question(server: Any, o: Opened, tile: Any) -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    args = tile.query.args(datetime.now(UTC), ZoneInfo("Asia/Shanghai"))
    answer = api(server, f"/api/v1/query/{tile.query.domain}?" + urllib.parse.urlencode(args, doseq=True))
    rows = answer["rows"]
    measure = tile.query.measures[0]
    box = o.page.locator(
        f"[id='{json.dumps({'tile': tile.id, 'type': 'boards-query'}, separators=(',', ':'))}']"
    )
    if tile.kind == "number":
        value = rows[-1][measure] if rows else None
        assert box.locator(".ioc-kpi-value").get_attribute("data-value") == (
            "" if value is None else str(value)
        )
        assert value is not None and value > 0  # the seeded figures are there
    elif tile.kind == "ranking":
        last = max(r[answer["grain"]] for r in rows)
        expected = {
            str(r[tile.query.group_by[0]]): str(r[measure]) for r in rows if r[answer["grain"]] == last
        }
        got = {
            el.get_attribute("data-key"): el.get_attribute("data-value")
            for el in box.locator(".ioc-rank-row").all()
        }
        assert got == expected and got, (got, expected)
    else:
        data = o.page.evaluate(
            "(id) => document.querySelector('#' + id + ' .js-plotly-plot').data"
            ".map(t => ({x: t.x, y: t.y, values: t.values}))",
            f"boards-graph-{tile.id}",
        )
        values = data[0]["values"] if tile.kind == "donut" else data[0]["y"]
        assert [v or 0 for v in values] == [
            r[measure] or 0
            for r in rows
            if tile.kind != "donut" or r[answer["grain"]] == max(x[answer["grain"]] for x in rows)
        ]


FIGURES_JS = """(root) => Object.fromEntries([...document.querySelectorAll(root + ' [data-ioc-path]')]
  .map(e => [e.dataset.iocPath, e.textContent.trim()]))"""
BARS_JS = """(id) => { const t = document.querySelector('#' + id + ' .js-plotly-plot').data[0];
  return [Array.from(t.y), Array.from(t.x).map(v => v || 0)]; }"""  # a link without figures: no bar on either


LABELS_JS = """(root) => Object.fromEntries([...document.querySelectorAll(root + ' .ioc-kpi')]
  .map(k => [k.querySelector('[data-ioc-path]').dataset.iocPath,
              k.querySelector('.ioc-kpi-label').textContent]))"""
LINES_JS = """(id) => document.querySelector('#' + id + ' .js-plotly-plot').data
  .map(t => [t.name, Array.from(t.x), Array.from(t.y)])"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_front_page_board_shows_the_former_overview_pages_figures(
    server: Any, browser: Any, lang: str
) -> None:
    """``/`` is the overview board; the former Python page, kept at /overview/classic, shows the
    same figures: every number at the same path written the same, the same link bars, the same
    last hour, the same alerts, under the same titles."""
    page = Opened(browser, f"{server.url}/overview/classic?lang={lang}", 1920, 1080)
    board = Opened(browser, f"{server.url}/?lang={lang}", 1920, 1080)
    assert board.page.locator(".boards-grid").count() == 1 and page.page.locator(".boards-grid").count() == 0
    assert (
        board.page.locator(".ioc-title").first.inner_text()
        == page.page.locator(".ioc-title").first.inner_text()
    )
    figures = page.page.evaluate(FIGURES_JS, ".ioc-body")
    on_board = board.page.evaluate(FIGURES_JS, ".boards-grid")
    assert len(figures) == 23 and set(figures) == set(on_board), set(figures) ^ set(on_board)
    assert on_board == figures
    assert figures["gate.today.in"] == "1,244" and figures["network.online.users"] == "4,000"
    # the links by their catalogue names with their utilization, and the same alerts
    links = page.page.evaluate(BARS_JS, "overview-graph-links")
    assert board.page.evaluate(BARS_JS, "boards-graph-network") == links
    assert links[0][0] == ("教育网（CERNET）" if lang == "zh" else "CERNET")
    # the last hour: the same two series by the same names, the same whole minutes and passes
    last_hour = page.page.evaluate(LINES_JS, "overview-graph-last-hour")
    assert len(last_hour) == 2 and len(last_hour[0][1]) == 60
    assert board.page.evaluate(LINES_JS, "boards-graph-gate") == last_hour
    assert board.page.locator(".ioc-alerts").inner_text() == page.page.locator(".ioc-alerts").inner_text()
    # the same tiles under the same titles, each figure under the same label
    titles = page.page.locator(".ioc-tile-title").all_inner_texts()
    assert len(titles) == 6 and board.page.locator(".ioc-tile-title").all_inner_texts() == titles
    assert page.page.evaluate(LABELS_JS, ".ioc-body") == board.page.evaluate(LABELS_JS, ".boards-grid")
    assert board.failed == board.errors == page.failed == page.errors == []


def test_a_touch_screen_gets_the_flowing_board_by_itself(server: Any, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1180, "height": 820}, has_touch=True)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/boards/security-gates", wait_until="networkidle")
        page.wait_for_function("() => document.querySelector('#ioc-badge')?.dataset.state === 'live'")
        assert (
            page.locator(".ioc-flow .boards-grid").count() == 1 and page.locator(".ioc-canvas").count() == 0
        )
        scroll = page.evaluate(SCROLL)
        assert scroll["w"] <= scroll["iw"], scroll
    finally:
        context.close()


def test_new_events_reach_the_board_without_a_reload(server: Any, browser: Any, shots: Path) -> None:
    """Passes ingested through the API: the bound numbers follow, the bar drawn from the snapshot
    gains the new gate (redrawn because its path moved), and the deny rate's card turns amber
    past its threshold — on the page as it is, nothing reloads. (Last in the module: the other
    tests read the seeded figures.)"""
    o = Opened(browser, f"{server.url}/boards/security-gates?lang=en", 1920, 1080)
    o.page.evaluate("() => { window.notReloaded = true; }")
    card = '[id=\'{"tile":"today.3","type":"boards-card"}\']'
    assert "boards-level-amber" not in (o.page.locator(card).get_attribute("class") or "")
    now = int(time.time() * 1000)
    base = {"campus": "south", "gate_id": "south-west", "lane": 2, "person_type": "student", "method": "card"}
    events = [
        {**base, "event_id": f"late-{i}", "ts": now - i, "direction": "in", "result": "pass"}
        for i in range(300)
    ]
    events += [
        {
            **base,
            "event_id": f"late-deny-{i}",
            "ts": now - i,
            "direction": "in",
            "result": "deny",
            "deny_reason": "expired",
        }
        for i in range(200)
    ]
    req = urllib.request.Request(
        f"{server.url}/api/v1/ingest/gate.pass",
        data=json.dumps(events).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {server.token}"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        assert json.loads(r.read())["accepted"] == 500
    o.page.wait_for_function(
        "() => (document.querySelector('#boards-graph-by_gate .js-plotly-plot')?.data[0].y || [])"
        ".some(y => String(y).startsWith('South'))",
        timeout=20_000,
    )
    snap = api(server, "/api/v1/snapshot")
    assert o.bound("gate.today.in")[0] == shown(snap["gate"]["today"]["in"], "count", "en")
    assert snap["gate"]["today"]["deny_rate"] >= 0.05  # past the amber threshold of the board's file
    o.page.wait_for_function(
        f"() => document.querySelector(`{card}`).classList.contains('boards-level-amber')"
    )
    assert o.page.evaluate("() => window.notReloaded") is True
    o.page.screenshot(path=str(shots / "security-gates-after-ingest.png"))
    assert o.failed == [] and o.errors == [], (o.failed, o.errors)
