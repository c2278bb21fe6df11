"""/explore in real headless Chromium: comparing periods, the Excel download, the date picker
in Chinese and English, and every kind of bad input shown as a message in the page.

One server on a store seeded with three hours of gate passes and the same three hours a year
earlier (at one gate only, with other counts), so the comparison columns, the dashed series
and the file are checked against what was stored.
"""

from __future__ import annotations

import io
import re
import urllib.error
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import orjson
import pytest
from openpyxl import load_workbook

from tests.conftest import Server, product_env
from tests.pages.browsing import seed, serving
from tests.pages.test_explore_browser import Watched, fetch

pytestmark = pytest.mark.browser

ZONE = ZoneInfo("Asia/Shanghai")
T0 = datetime.now(ZONE).replace(minute=0, second=0, microsecond=0) - timedelta(hours=6)


def year_earlier(t: datetime) -> datetime:
    day = date(t.year - 1, t.month, 28 if (t.month, t.day) == (2, 29) else t.day)
    return datetime(day.year, day.month, day.day, t.hour, tzinfo=ZONE)


LY = year_earlier(T0)
IN = {"main-north": [10, 11, 12], "main-south": [7, 7, 7]}
LY_IN = {"main-north": [3, 0, 5]}
NAMES = {"main-north": "北门（学府大道）", "main-south": "南门"}  # as the site catalogue names them

SEED = """
import sys
from ingest.gate import GATE_PASS
from ingest.site import load_site, store_reference
from ingest.validate import validate
from ioc_app.migrate import migrate
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store
store = Store(sys.argv[1])
migrate(store)
store_reference(store, load_site(DEFAULT_SITE))
base = {"campus": "main", "lane": 1, "person_type": "student", "method": "face", "direction": "in",
        "result": "pass"}
events = []
periods = (("now", int(sys.argv[2]), eval(sys.argv[4])), ("ly", int(sys.argv[3]), eval(sys.argv[5])))
for tag, t0, plan in periods:
    for gate, counts in plan.items():
        for h, n in enumerate(counts):
            for i in range(n):
                events.append({**base, "event_id": f"{tag}-{gate}-{h}-{i}", "gate_id": gate,
                               "ts": t0 + h * 3_600_000 + 60_000 * (i + 1)})
r = validate(GATE_PASS, events, source="seed")
assert not r.errors, r.errors[:3]
store.insert("gate_pass", r.frame)
print("seeded", r.accepted)
"""


def question(**extra: str) -> str:
    params = {"domain": "gate", "grain": "hour", "measures": "in", "group_by": "gate_id", "range": "custom",
              "from": T0.isoformat(), "to": (T0 + timedelta(hours=3)).isoformat(), **extra}
    return "/explore?" + "&".join(f"{k}={quote(v)}" for k, v in params.items())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    env = product_env(tmp_path_factory.mktemp("web"))
    ms = [str(int(t.timestamp() * 1000)) for t in (T0, LY)]
    assert seed(env, "-c", SEED, env["IOC_CLICKHOUSE_URL"], *ms, repr(IN), repr(LY_IN)) == "seeded 62"
    with serving(env) as srv:
        yield srv


def hour_text(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def test_compare_shows_both_periods_and_downloads_them(server: Server, browser: Any, shots: Path) -> None:
    w = Watched(browser, server.url + question(compare="last_year"), 1180, 820)
    page = w.page
    assert w.head() == ["时间（小时）", "校门", "入校", "入校（去年同期）", "入校（差值）"]
    wanted = []
    for h in range(3):
        for gate in ("main-north", "main-south"):
            now, then = IN[gate][h], LY_IN.get(gate, [0, 0, 0])[h]
            wanted.append([hour_text(T0 + timedelta(hours=h)), NAMES[gate], str(now), str(then),
                           f"{now - then:+,}"])
    assert w.table() == wanted
    assert "对比期 " + hour_text(LY) in page.inner_text("#explore-summary")
    # the chart: each line and, dashed in the same colour, its comparison
    traces = page.evaluate("() => document.querySelector('#explore-chart .js-plotly-plot').data.map("
                           "t => ({name: t.name, y: t.y, dash: t.line.dash || 'solid',"
                           " color: t.line.color}))")
    by_name = {t["name"]: t for t in traces}
    north, south = NAMES["main-north"], NAMES["main-south"]
    assert set(by_name) == {north, f"{north} · 去年同期", south, f"{south} · 去年同期"}
    for gate in IN:
        base, past = by_name[NAMES[gate]], by_name[f"{NAMES[gate]} · 去年同期"]
        assert (base["dash"], past["dash"]) == ("solid", "dash") and base["color"] == past["color"]
        assert past["y"] == LY_IN.get(gate, [0, 0, 0]) and base["y"] == IN[gate]
    # the Excel file behind the link: the page's headers, the API's rows
    href = page.locator("#explore-xlsx").get_attribute("href")
    assert "format=xlsx" in href and "lang=zh" in href and "compare=last_year" in href
    book = load_workbook(io.BytesIO(fetch(server, server.url + href)))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    head = w.head()  # the file: the gate's code, then its name under the page's header
    assert list(rows[0]) == [head[0], "校门代码", *head[1:]]
    answer = orjson.loads(fetch(server, w.api_url()))
    columns = ("hour", "gate_id", "gate_id_name", "in", "in_cmp", "in_diff")
    assert [list(r) for r in rows[1:]] == [[r[c] for c in columns] for r in answer["rows"]]
    assert [r[2] for r in rows[1:]] == [row[1] for row in wanted]  # names, as the page shows them
    assert book.worksheets[1].title == "查询说明"
    w.fits(shots / "compare-zh.png")
    # the previous period instead, then none: the URL follows
    w.after(lambda: page.locator("#explore-compare label").filter(has_text="上一周期").click(),
            "() => document.querySelector('#explore-api-url').value.includes('compare=previous')")
    assert "compare=previous" in page.url and w.head()[3] == "入校（上一周期）"
    assert [r[3] for r in w.table()] == ["0"] * 6  # nothing was stored in the three hours before
    w.after(lambda: page.locator("#explore-compare label").filter(has_text="不对比").click(),
            "() => !document.querySelector('#explore-api-url').value.includes('compare=')")
    assert "compare" not in page.url and w.head() == ["时间（小时）", "校门", "入校"]
    w.clean(server.url + "/")
    page.close()


def open_calendar(w: Watched) -> str:
    w.page.locator("#explore-date-words .dash-datepicker-start-date").click()
    calendar = w.page.locator(".dash-datepicker-content")
    calendar.wait_for(state="visible")
    return calendar.inner_text()


def test_the_date_picker_speaks_the_page_language(server: Server, browser: Any, shots: Path) -> None:
    w = Watched(browser, server.url + question(group_by=""), 1180, 820)
    page = w.page
    month = T0.month
    zh_months = ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月",
                 "十二月"]
    en_months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                 "October", "November", "December"]
    text = open_calendar(w)
    assert zh_months[month - 1] in text and en_months[month - 1] not in text, text
    assert re.search(r"一\s*二\s*三\s*四\s*五\s*六\s*日", text), text  # Monday first, in Chinese
    page.screenshot(path=str(shots / "picker-zh.png"))
    # two days picked on the calendar: a custom range from the first day to the midnight after the last
    days = page.locator(".dash-datepicker-content td.dash-datepicker-calendar-date-inside")
    days.filter(has_text=re.compile(r"^\s*1\s*$")).first.click()
    w.after(lambda: days.filter(has_text=re.compile(r"^\s*2\s*$")).first.click(),
            "() => location.search.includes('from=') && !location.search.includes('T')")
    query = parse_qs(urlsplit(page.url).query)
    first = date(T0.year, month, 1)
    assert query["range"] == ["custom"]
    assert (query["from"], query["to"]) == ([first.isoformat()], [(first + timedelta(days=2)).isoformat()])
    assert page.locator("#explore-from").input_value() == f"{first.isoformat()} 00:00"
    assert len(w.table()) == 48  # two whole days of hours
    assert page.locator("#explore-preset .selected").inner_text() == "自定义"
    # in English, the same calendar in English
    w.goto(server.url + question(lang="en"))
    text = open_calendar(w)
    assert en_months[month - 1] in text and zh_months[month - 1] not in text, text
    assert re.search(r"Su\s*Mo\s*Tu\s*We\s*Th\s*Fr\s*Sa", text), text
    page.screenshot(path=str(shots / "picker-en.png"))
    w.clean(server.url + "/")
    page.close()


BAD = [  # (page parameters, what the message in the page says, whether the API says it too)
    ({"measures": "in,entries"}, "unknown measure 'entries'", True),
    ({"group_by": "lane"}, "cannot group by 'lane'", True),
    ({"result": "maybe"}, "use one of: pass, deny", True),
    ({"grain": "minute", "from": (T0 - timedelta(days=10)).isoformat()}, "too long for grain=minute", True),
    ({"compare": "yesterday"}, "compare='yesterday'", True),
    ({"compare": "last_year", "from": LY.isoformat(), "to": (LY + timedelta(hours=3)).isoformat()},
     "holds gate.pass data from", True),
    ({"colour": "red"}, "链接中的参数 colour 无法识别", False),
    ({"range": "fortnight"}, "range=fortnight", False),
]


def test_bad_input_is_a_message_in_the_page(server: Server, browser: Any, shots: Path) -> None:
    w = Watched(browser, server.url + question(), 1180, 820)
    page = w.page
    for i, (params, needle, from_api) in enumerate(BAD):
        w.goto(server.url + question(**params))
        error = page.locator(".ex-error")
        assert error.is_visible(), params
        text = error.inner_text()
        assert "无法执行此查询" in text and needle in text, (params, text)
        assert not page.locator("#explore-rows").is_visible()
        if from_api:  # the API link on the page asks the same question: a 400 with the same message
            with pytest.raises(urllib.error.HTTPError) as api:
                fetch(server, w.api_url())
            assert api.value.code == 400 and orjson.loads(api.value.read())["message"] in text
        if i == len(BAD) - 1:
            w.fits(shots / "bad-input.png")
    w.clean(server.url + "/")
    page.close()
