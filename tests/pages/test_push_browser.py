"""Push in real headless Chromium: an open screen shows a new version without polling, falls
back to polling when the server refuses push, and pushes again once it is accepted.

The app is served from this process on the real engine, so the test publishes versions itself
(``core.tick()``) and switches push off and on (the feed's cap, ``IOC_PUSH_HELD``). Every
wait is for a condition, with a generous timeout; nothing asserts how long anything took.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.pages import browsing

pytestmark = pytest.mark.browser

IN_TODAY = "[data-ioc-path='gate.today.in']"
WAIT_MS = 60_000


@pytest.fixture()
def served(migrated, tmp_path: Path):
    """``(url, runtime, session)``: the app on a loopback port, its core driven by the test."""
    with browsing.in_process(migrated, tmp_path) as served:
        yield served


def open_screen(browser, url: str, session: str):
    context = browser.anonymous(viewport={"width": 1920, "height": 1080})
    context.add_cookies([{"name": "ioc_session", "value": session, "url": url}])
    page = context.new_page()
    snapshots: list[str] = []
    page.on("request", lambda r: snapshots.append(r.url) if "/api/v1/snapshot" in r.url else None)
    page.goto(url + "/", wait_until="networkidle")
    page.wait_for_function("() => document.querySelector('#ioc-badge')?.dataset.state === 'live'",
                           timeout=WAIT_MS)
    return page, snapshots


def add_entries(runtime, prefix: str, n: int) -> int:
    """``n`` gate entries stored and a new version published; the entries today now."""
    from ingest.gate import GATE_PASS
    from ingest.validate import validate

    now = datetime.now(UTC)
    events = [{"event_id": f"{prefix}-{i}", "ts": int((now - timedelta(seconds=5)).timestamp() * 1000),
               "campus": "main", "gate_id": "main-north", "lane": 1, "direction": "in",
               "person_type": "student", "method": "face", "result": "pass"} for i in range(n)]
    runtime.store.insert("gate_pass", validate(GATE_PASS, events, source="t", now=now).frame)
    published = runtime.core.tick()
    return int(published.data["gate"]["today"]["in"])


def polls(urls: list[str]) -> list[str]:
    return [u for u in urls if "wait=" not in u]


def test_a_screen_shows_a_new_version_without_polling(served, browser) -> None:
    url, runtime, session = served
    add_entries(runtime, "first", 2)
    page, snapshots = open_screen(browser, url, session)
    page.wait_for_function("() => window.IOC.push.on === true", timeout=WAIT_MS)
    # the page's own clock stops: without push nothing would reach the screen any more
    page.evaluate("() => window.dash_clientside.set_props('ioc-live-tick', {disabled: true})")
    page.wait_for_function("() => window.IOC.push.running", timeout=WAIT_MS)
    before = len(snapshots)
    for round_ in range(3):
        expected = add_entries(runtime, f"pushed-{round_}", 1 + round_)
        page.wait_for_function(f"n => document.querySelector(\"{IN_TODAY}\").textContent === String(n)",
                               arg=expected, timeout=WAIT_MS)
    assert polls(snapshots[before:]) == []  # every version came on a held request
    assert page.evaluate("() => window.IOC.push.received") >= 3
    # and the page's callbacks got the version too (its store, not only the bound numbers)
    page.wait_for_function("() => window.IOC.version === window.IOC.push.lastSet", timeout=WAIT_MS)
    page.context.close()


def test_a_refused_push_falls_back_to_polling_and_returns(served, browser) -> None:
    url, runtime, session = served
    runtime.feed.push.limit = 0  # push off (IOC_PUSH_HELD=0): every held request is refused
    add_entries(runtime, "first", 1)
    page, snapshots = open_screen(browser, url, session)
    page.wait_for_function("() => window.IOC.push.reason === 'off' && !window.IOC.push.running",
                           timeout=WAIT_MS)
    before = len(snapshots)
    expected = add_entries(runtime, "polled", 2)
    page.wait_for_function(f"n => document.querySelector(\"{IN_TODAY}\").textContent === String(n)",
                           arg=expected, timeout=WAIT_MS)
    assert polls(snapshots[before:])  # the figure came by a poll
    assert page.evaluate("() => window.IOC.push.on") is False
    # push is accepted again: after its pause (cut short here) the screen holds requests again
    runtime.feed.push.limit = 8
    page.evaluate("() => { window.IOC.push.retryAt = 0; }")
    page.wait_for_function("() => window.IOC.push.on === true", timeout=WAIT_MS)
    page.evaluate("() => window.dash_clientside.set_props('ioc-live-tick', {disabled: true})")
    expected = add_entries(runtime, "pushed", 3)
    page.wait_for_function(f"n => document.querySelector(\"{IN_TODAY}\").textContent === String(n)",
                           arg=expected, timeout=WAIT_MS)
    page.context.close()
