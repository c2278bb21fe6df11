"""The demo's past: filled in the background through the real ingest path, equal to the
simulators' truth, never doubled by a restart, and the server answers while it runs."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ingest.pipeline import Pipeline
from ingest.sim import Simulator, World
from ingest.sim.history import Part, plan
from ingest.site import load_site
from ingest.wal import WriteAheadLog
from ingest.writer import Writer
from ioc_app.demo_history import HistoryFill, Marker
from ioc_app.migrate import migrate
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store
from metrics import enrollment, gate
from metrics.gate import local_midnight
from tests.conftest import Server, free_port, product_env
from tests.ioc_app.test_demo_feed import counts

ZONE = ZoneInfo("Asia/Shanghai")
SCALE = 0.02  # a small campus: two weeks of gate passes are some tens of thousands of events
DAYS = 7  # yesterday and the same day last week


class Filled:
    def __init__(self, store: Store, pipeline: Pipeline, marker: Path, parts: list[Part],
                 now: datetime, fill: HistoryFill) -> None:
        self.store, self.pipeline, self.marker, self.parts, self.now, self.fill = (
            store, pipeline, marker, parts, now, fill)

    def again(self) -> HistoryFill:
        """The fill of a restarted server: the same parts, a marker read from the file."""
        fill = HistoryFill(self.pipeline, (DEFAULT_SITE, ZONE.key, 7, SCALE), self.parts,
                           Marker(self.marker, self.store.identity()))
        fill.run()
        return fill


@pytest.fixture(scope="module")
def filled(engine_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    """A week of the small campus, the same week last year and last season, filled once on
    the real engine through the real pipeline and writer."""
    name = "t_" + uuid.uuid4().hex[:12]
    store = Store(f"chdb://{engine_path}", database=name)
    migrate(store)
    tmp = tmp_path_factory.mktemp("history")
    wal = WriteAheadLog(tmp / "wal")
    pipeline = Pipeline(store, wal)
    writer = Writer(store, wal, on_store_state=pipeline.set_store_down).start()
    # mid-morning today, whatever time the test runs: "so far" windows hold traffic
    now = local_midnight(ZONE, datetime.now(UTC)) + timedelta(hours=10, minutes=30)
    # the gates' days (the network's samples do not shrink with the scale) and the seasons
    parts = [p if p.only else replace(p, only=("gate",)) for p in plan(ZONE, now, DAYS, seasons=1)]
    marker = tmp / "marker.json"
    fill = HistoryFill(pipeline, (DEFAULT_SITE, ZONE.key, 7, SCALE), parts,
                       Marker(marker, store.identity()))
    fill.run()
    try:
        yield Filled(store, pipeline, marker, parts, now, fill)
    finally:
        writer.stop()
        wal.close()
        store.command(f"DROP DATABASE IF EXISTS {name} SYNC")
        store.close()


def truth(parts: list[Part]) -> list[tuple[str, dict[str, Any]]]:
    """Every event the simulators send in the parts' spans (what the fill must have stored)."""
    world = World(load_site(DEFAULT_SITE), ZONE, scale=SCALE)
    out: list[tuple[str, dict[str, Any]]] = []
    for part in parts:
        sim = Simulator(world, only=part.only)
        for t in range(part.start_ms, part.end_ms, 6 * 3_600_000):
            for stream, events in sim.sent_between(t, min(t + 6 * 3_600_000, part.end_ms)).items():
                out += [(stream, e) for e in events]
    return out


def test_the_fill_stores_the_simulators_past_and_the_comparisons_read_it(filled: Filled) -> None:
    state = filled.fill.progress.state()
    assert state["phase"] == "done" and state["pct"] == 100.0 and state["rejected"] == 0
    events = truth(filled.parts)
    assert state["events"] == len(events) > 0
    stored = counts(filled.store)
    assert sum(stored.values()) == len(events)
    # the season's notices and control lines land like every stream
    for stream in ("enrollment.notice", "enrollment.control_line"):
        assert stored[stream.replace(".", "_")] == sum(s == stream for s, _ in events) > 0, stream

    compare = gate.slow(filled.store, ZONE, filled.now)["compare"]
    passes = [e for s, e in events if s == "gate.pass"]
    for period in ("yesterday", "last_week", "last_year"):
        got = compare[period]
        start = datetime.fromisoformat(got["start"]).timestamp() * 1000
        end = datetime.fromisoformat(got["end"]).timestamp() * 1000
        inside = [e for e in passes if start <= e["ts"] < end]
        expected = {
            "in": sum(e["result"] == "pass" and e["direction"] == "in" for e in inside),
            "out": sum(e["result"] == "pass" and e["direction"] == "out" for e in inside),
            "denied": sum(e["result"] == "deny" for e in inside),
        }
        assert expected["in"] > 0, period
        assert {k: got[k] for k in expected} == expected, period

    # the enrollment cockpit's "vs last year": last season's admitted on the same season day
    last_year = filled.now.astimezone(ZONE).year - 1
    admitted = {e["candidate_key"] for s, e in events
                if s == "enrollment.admission" and e["year"] == last_year and e["status"] == "admitted"}
    season = enrollment.slow(filled.store, ZONE, filled.now)["admitted_by_day"]
    assert season[-1]["last_year"] == len(admitted) > 0


def test_a_restart_fills_nothing_twice(filled: Filled) -> None:
    before = counts(filled.store)
    again = filled.again()  # the marker says every part is in
    assert again.progress.state()["parts_total"] == 0 and again.progress.events == 0

    filled.marker.unlink()  # a lost marker: everything is sent again, the ingest path drops it
    resent = filled.again()
    state = resent.progress.state()
    assert state["phase"] == "done" and state["duplicates"] > 0
    assert counts(filled.store) == before
    total, distinct = filled.store.rows("SELECT count(), uniqExact(event_id) FROM gate_pass")[0]
    assert total == distinct


def test_the_marker_skips_what_the_live_feed_sent(tmp_path: Path) -> None:
    marker = Marker(tmp_path / "m.json", "store-a")
    day = Part("day:2026-12-01", 1_000, 10_000)
    marker.sent_live(1_000, 4_000)  # a run that started at that midnight and stopped at 4 000
    marker.sent_live(1_000, 6_000)  # … the same run later
    assert marker.missing(day) == Part("day:2026-12-01", 6_000, 10_000)
    marker.done("day:2026-11-30", 5)
    reread = Marker(tmp_path / "m.json", "store-a")
    assert reread.live == [[1_000, 6_000]] and reread.parts == {"day:2026-11-30": 5}
    assert reread.missing(Part("day:2026-11-30", 0, 1_000)) is None
    assert Marker(tmp_path / "m.json", "store-b").parts == {}, "another store starts over"


def _readyz(server: Server) -> dict[str, Any]:
    with urllib.request.urlopen(server.url + "/readyz", timeout=30) as r:
        return json.loads(r.read())["parts"]["demo_history"]


def test_the_demo_server_answers_while_its_past_is_filled(tmp_path: Path) -> None:
    """Pages answer while the fill runs, and the fill moves on meanwhile (its end and the
    figures after it are the in-process tests' and ``bench/demo_start.py``'s)."""
    env = product_env(tmp_path, IOC_DEMO="1", IOC_DEMO_HISTORY_DAYS="1", IOC_DEMO_HISTORY_SEASONS="0")
    server = Server(env, free_port())
    try:
        server.wait_ready(timeout=120)
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            before = _readyz(server)
            with server.open("/health", timeout=60) as page:  # type: ignore[attr-defined]
                status = page.status
            after = _readyz(server)
            if status == 200 and before["phase"] == after["phase"] == "filling":
                seen.append(after)
            moved = len(seen) >= 2 and seen[-1]["events"] > seen[0]["events"]
            if moved or after["phase"] in ("done", "failed"):
                break
            time.sleep(0.5)
        assert len(seen) >= 2, f"no pages answered while the fill ran: {after}\n{server.output()}"
        assert seen[-1]["events"] > seen[0]["events"], "the fill moves on while pages are served"
        assert all(0 <= s["pct"] < 100 and s["total"] >= s["events"] for s in seen)
        assert "event=demo.history phase=start" in Path(server.log.name).read_text()
    finally:
        server.stop()
    assert server.proc.returncode is not None


def test_health_shows_the_fill_in_both_languages(tmp_path: Path) -> None:
    from tests.pages.registry import pages_app

    # the page module is imported under a throwaway app and forgotten afterwards: dash's page
    # registry is global to the process, and a later app in this worker registers /health again
    (tmp_path / "no_pages").mkdir()
    with pages_app(tmp_path / "no_pages"):
        from pages.health import history_row

        filling = {"phase": "filling", "pct": 42.4, "events": 1_234_567, "total": 3_000_000,
                   "eta_s": 150, "elapsed_s": 60.0, "error": ""}
        zh = str(history_row(filling, "zh"))
        assert "演示历史" in zh and "回填中 42%" in zh and "1,234,567" in zh and "3,000,000" in zh
        en = str(history_row({**filling, "phase": "done", "pct": 100.0}, "en"))
        assert "Demo past" in en and "ready" in en and "1,234,567" in en
        assert history_row(None, "zh") == []
