"""The status lookup (/enrollment/lookup) in real headless Chromium against a real server
process on a store seeded with the 2025 season (``tests/pages/seed_lookup.py``).

The office's page shows a candidate's whole timeline in time order on the site's clock — an
admission later returned (退档), a notice returned by the courier and mailed again — at a
desk, on a tablet and in English. And the leak test: a distinctive number typed into the page
is, afterwards, in no log (the server's log file: its captured stdout and stderr), no table
(every ClickHouse table of the store dumped as text, the SQLite access file), no file under
the server's var folder, no URL and no response the browser received; it travelled only in
the body of the page's own callback request.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import ROOT, Server, product_env
from tests.pages import browsing
from tests.pages.browsing import serving
from tests.pages.seed_lookup import CANDIDATES

pytestmark = pytest.mark.browser

ZONE = ZoneInfo("Asia/Shanghai")
SIZES = {"desk": (1920, 1080, "zh"), "tablet": (1180, 820, "zh"), "desk-en": (1920, 1080, "en")}
KINDS = ("enrollment.admission", "enrollment.notice", "enrollment.checkin")
ORDER = {"enrollment.admission": ("filed", "admitted", "returned", "withdrawn"),
         "enrollment.notice": ("printed", "mailed", "delivered", "returned"),
         "enrollment.checkin": ("arrived", "paid", "dorm", "registered")}
#: what the page must call each event, in Chinese and English
WORDS = {
    "zh": {"enrollment.admission": ("录取", {"filed": "投档", "admitted": "已录取", "returned": "退档"}),
           "enrollment.notice": ("录取通知书", {"printed": "已打印", "mailed": "已寄出",
                                                "delivered": "已签收", "returned": "被退回"}),
           "enrollment.checkin": ("新生报到", {"arrived": "到校", "paid": "缴费", "dorm": "入住",
                                               "registered": "注册"})},
    "en": {"enrollment.admission": ("Admission", {"filed": "Filed", "admitted": "Admitted",
                                                  "returned": "Returned"}),
           "enrollment.notice": ("Admission notice", {"printed": "printed", "mailed": "mailed",
                                                      "delivered": "delivered",
                                                      "returned": "returned to sender"}),
           "enrollment.checkin": ("Arrival", {"arrived": "Arrived", "paid": "Paid", "dorm": "Moved in",
                                              "registered": "Registered"})},
}


def seed_store(env: dict[str, str], numbers: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The seeding script, given the numbers on standard input (never as arguments)."""
    done = subprocess.run([sys.executable, "-m", "tests.pages.seed_lookup"], env=env, cwd=ROOT,
                          input=json.dumps(numbers), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = product_env(tmp_path_factory.mktemp("lookup"))
    seed_store(env, {})
    with serving(env) as srv:
        yield srv


def signed_page(browser: Any, srv: Server, width: int, height: int) -> Any:
    """A page of a browser context holding the tests' person's session (admissions among its
    roles) on ``srv``."""
    context = browser.browser.new_context(viewport={"width": width, "height": height})
    context.add_cookies([{"name": "ioc_session", "value": srv.session(), "url": srv.url}])
    return context.new_page()


def expected(name: str, lang: str) -> list[tuple[str, str]]:
    """(local time, event words) of a seeded candidate, ordered here from the seed itself: by
    time, then admission before notice before check-in, then each stream's order of statuses."""
    rows = []
    for stream, ts, fields in CANDIDATES[name]["events"]:
        status = fields.get("status") or fields["step"]
        rows.append(((ts, KINDS.index(stream), ORDER[stream].index(status)),
                     ts.astimezone(ZONE).strftime("%Y-%m-%d %H:%M"),
                     f"{WORDS[lang][stream][0]} · {WORDS[lang][stream][1][status]}"))
    return [(when, what) for _, when, what in sorted(rows)]


def look_up(page: Any, number: str, enter: bool = False) -> None:
    box = page.locator("#lookup-number")
    box.fill(number)
    if enter:
        box.press("Enter")
    else:
        page.locator("#lookup-go").click()
    page.wait_for_function("() => document.querySelector('#lookup-found, #lookup-missing') !== null"
                           " && document.querySelector('#lookup-number').value === ''", timeout=60_000)


def shown_rows(page: Any) -> list[tuple[str, str, str]]:
    return [tuple(row.locator("td").all_inner_texts()) for row in page.locator("#lookup-events tr").all()]


@pytest.mark.parametrize("size", SIZES)
def test_a_candidates_timeline_in_time_order(server: Server, browser: Any, shots: Path, size: str) -> None:
    width, height, lang = SIZES[size]
    page = signed_page(browser, server, width, height)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.url}/enrollment/lookup?lang={lang}", wait_until="networkidle")
    box = page.locator("#lookup-number")
    assert box.get_attribute("autocomplete") == "off" and box.input_value() == ""
    for control in (box, page.locator("#lookup-go")):  # a fingertip's size, on a tablet too
        bounds = control.bounding_box()
        assert bounds is not None and bounds["height"] >= 43.5 and bounds["width"] >= 43.5, bounds

    look_up(page, CANDIDATES["full"]["number"], enter=True)
    rows = shown_rows(page)
    assert [(when, what) for when, what, _ in rows] == expected("full", lang)
    details = [d for _, _, d in rows]
    major = "计算机科学与技术" if lang == "zh" else "Computer Science and Technology"
    assert major in details[0] and "612.5" in details[0] and "8,765" in details[0]
    notices = [d for (_, what, d) in rows if what.startswith(WORDS[lang]["enrollment.notice"][0])]
    assert "EMS" in notices[1] and "EA123456789CN" in notices[1]  # mailed, then returned
    assert "SF" in notices[3] and "SF1402583697021" in notices[3]  # mailed again
    summary = page.locator("#lookup-summary").inner_text()
    assert WORDS[lang]["enrollment.checkin"][1]["registered"] in summary
    assert page.evaluate(browsing.OVERFLOW_JS) == []
    page.screenshot(path=str(shots / f"lookup-full-{size}.png"), full_page=True)

    look_up(page, CANDIDATES["returned"]["number"])
    assert [(w, e) for w, e, _ in shown_rows(page)] == expected("returned", lang)
    assert WORDS[lang]["enrollment.admission"][1]["returned"] in page.locator("#lookup-summary").inner_text()

    look_up(page, "25420107700000")
    missing = page.locator("#lookup-missing").inner_text()
    assert ("准考证" if lang == "zh" else "admission ticket") in missing and "2025" in missing
    assert page.evaluate(browsing.OVERFLOW_JS) == []
    page.screenshot(path=str(shots / f"lookup-missing-{size}.png"), full_page=True)
    assert page.url == f"{server.url}/enrollment/lookup?lang={lang}" and errors == []
    page.context.close()


# --------------------------------------------------------------------------- the leak test

DUMP = """
import sys
from ioc_app.storage import Store
s = Store(sys.argv[1])
out = []
for (name,) in s.rows("SELECT name FROM system.tables WHERE database = currentDatabase() "
                      "AND engine NOT LIKE '%View%' ORDER BY name"):
    cols = s.rows("SELECT name, type FROM system.columns WHERE database = currentDatabase() "
                  "AND table = {t:String} ORDER BY position", {"t": name})
    picked = ", ".join(f"toString(finalizeAggregation(`{c}`))" if t.startswith("AggregateFunction")
                       else f"toString(`{c}`)" for c, t in cols)
    rows = s.rows(f"SELECT {picked} FROM `{name}`")
    out += [f"== {name} ({len(rows)} rows)", *map(str, rows)]
for (name,) in s.rows("SELECT name FROM system.tables WHERE database = 'system' AND name LIKE '%_log'"):
    try:
        out += [f"== system.{name}", *map(str, s.rows(f"SELECT * FROM system.`{name}`"))]
    except Exception as exc:  # a log table this engine keeps but will not read
        out.append(f"(unreadable: {type(exc).__name__})")
sys.stdout.write("\\n".join(out))
"""


def store_as_text(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", DUMP, env["IOC_CLICKHOUSE_URL"]], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def access_db_as_text(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return "\n".join(db.iterdump())
    finally:
        db.close()


#: what a page keeps beside its document: its address, cookies and both storages
STORAGE = ("() => JSON.stringify([location.href, document.cookie, Object.entries(localStorage), "
           "Object.entries(sessionStorage)])")


def files_holding(folder: Path, needles: list[bytes]) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.is_file() and any(n in p.read_bytes() for n in needles))


def test_the_typed_number_leaks_nowhere(browser: Any, tmp_path: Path) -> None:
    rng = random.SystemRandom()
    digits = f"2642{rng.randrange(10**10):010d}"  # distinctive: no seeded or fixed number
    typed = f"{digits[:2]} {digits[2:6]} {digits[6:10]}-{digits[10:]}"  # as the candidate gave it
    absent = f"2642{rng.randrange(10**10):010d}"  # a number nobody holds
    needles = [digits, typed, absent]
    env = product_env(tmp_path)
    seeding = seed_store(env, {"full": digits})  # the candidate "full", keyed by this number's pseudonym
    assert not any(n in seeding.stdout + seeding.stderr for n in needles)

    bodies: list[tuple[str, str, bytes]] = []  # (method, url, response body) of every response
    sent: list[tuple[str, str, bytes]] = []  # (method, url, request body) of every request
    with serving(env) as srv:
        page = signed_page(browser, srv, 1920, 1080)

        def finished(request: Any) -> None:
            response = request.response()
            try:
                body = response.body() if response is not None else b""
            except Exception:  # a redirect or an aborted poll: no body to read
                body = b""
            headers = str(response.all_headers()).encode() if response is not None else b""
            bodies.append((request.method, request.url, body + headers))

        page.on("request", lambda r: sent.append((r.method, r.url, r.post_data_buffer or b"")))
        page.on("requestfinished", finished)
        page.goto(f"{srv.url}/enrollment/lookup", wait_until="networkidle")
        box = page.locator("#lookup-number")
        assert box.get_attribute("autocomplete") == "off"  # the browser offers it to no later form
        box.fill(typed)  # typed, not sent yet: the page keeps it nowhere but in the input
        assert not any(n in page.evaluate(STORAGE) for n in needles)
        look_up(page, typed)
        assert page.locator("#lookup-found").count() == 1  # the number was found: the whole path ran
        assert "EA123456789CN" in page.locator("#lookup-events").inner_text()
        look_up(page, absent, enter=True)
        assert page.locator("#lookup-missing").count() == 1
        page.wait_for_load_state("networkidle")
        stored_in_page = page.evaluate(STORAGE) + page.evaluate("() => document.documentElement.outerHTML")
        page.context.close()
        srv.wait_drained()  # every audit row is in the store
        log_file = Path(srv.log.name)
    # the server has stopped: its store, files and log can be read whole

    # the browser: the number went out only in the lookup callbacks' bodies, and came back in nothing
    carrying = [(m, u.split("?")[0], b) for m, u, b in sent if any(n.encode() in b for n in needles)]
    assert len(carrying) >= 2 and all(m == "POST" and u == f"{srv.url}/_dash-update-component"
                                      and b"lookup-result" in b for m, u, b in carrying)
    assert [u for _, u, _ in sent if any(n in u for n in needles)] == []
    assert len(bodies) > 5 and any(b"lookup-result" in b for _, _, b in bodies)
    assert [(m, u) for m, u, b in bodies if any(n.encode() in b for n in needles)] == []
    assert not any(n in stored_in_page for n in needles)

    # the tables: the lookups are audited by pseudonym (and the dump holds them, so it was read)
    tables = store_as_text(env)
    from ingest.pii import pseudonym
    from ioc_app.secret import site_key
    from ioc_app.settings import load_settings

    key = site_key(load_settings(env, dotenv=None))
    assert pseudonym(key, digits) in tables and pseudonym(key, absent) in tables
    assert "enrollment.lookup" in tables and "EA123456789CN" in tables
    assert [n for n in needles if n in tables] == []
    access = access_db_as_text(load_settings(env, dotenv=None).access_db)
    assert "tester" in access and not any(n in access for n in needles)

    # the log (the server's stdout and stderr) and every file the server keeps
    log = log_file.read_text()
    assert "event=audit action=enrollment.lookup" in log
    assert not any(n in log for n in needles)
    assert files_holding(tmp_path, [n.encode() for n in needles]) == []
