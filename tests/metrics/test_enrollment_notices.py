"""The admission notice tracker (metrics/enrollment_notices.py) against its definitions.

Crafted candidates with explicit times cover each rule: a notice returned and mailed again
(counted as mailed, then delivered), a candidate admitted then returned (退档) after their
notice was printed (in no stage, no list), ties at one millisecond, the day thresholds at
their exact edge. The simulated season (``season`` fixture: the truth export of every event
the simulator sent) is compared with an independent computation in Polars; tracking numbers
appear in the exception rows only, never in the snapshot part.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import polars as pl
import pytest

from ingest.registry import get_stream
from ingest.site import load_site, store_reference
from ingest.validate import validate
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store
from metrics import enrollment
from metrics.enrollment_notices import KINDS, STAGES, NoticeDays, exceptions, live
from tests.metrics.conftest import Week

YEAR = 2025
NOW = datetime(2025, 8, 20, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)
ADMISSION_TIES = ("filed", "admitted", "returned", "withdrawn")
NOTICE_TIES = ("printed", "mailed", "delivered", "returned")


def ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def put(store: Store, stream: str, events: list[dict[str, Any]]) -> None:
    s = get_stream(stream)
    result = validate(s, events, source="t")
    assert not result.errors, result.errors[:3]
    store.insert(s.table, result.frame)


def admit(key: str, at: datetime, province: str = "42", status: str = "admitted",
          n: int = 0) -> dict[str, Any]:
    return {"event_id": f"a-{key}-{n}", "ts": ms(at), "year": YEAR, "candidate_key": key,
            "province": province, "batch": "regular", "category": "general", "track": "physics",
            "college": "cs", "major": "080901",
            "status": status, "score": 600.0}


def notice(key: str, status: str, at: datetime, n: int, tracking: str | None = None) -> dict[str, Any]:
    event = {"event_id": f"n-{key}-{n}", "ts": ms(at), "year": YEAR, "candidate_key": key, "status": status}
    if tracking:
        event |= {"tracking_no": tracking, "carrier": "EMS"}
    return event


def crafted() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Admissions and notice events; comments say where each candidate must land at NOW."""
    t0 = NOW - 20 * DAY
    adm = [admit(k, t0, p) for k, p in (("delivered", "42"), ("remailed", "42"), ("returned", "11"),
                                         ("late-mail", "11"), ("edge-mail", "11"), ("young-mail", "42"),
                                         ("tie", "42"))]
    adm += [admit("unprinted", NOW - 3 * DAY, "11"),  # exactly 3 × 24 h: unprinted
            admit("fresh", NOW - 3 * DAY + timedelta(minutes=1), "42"),  # not yet
            admit("dropped", t0, "42"), admit("dropped", t0 + 5 * DAY, "42", "returned", 1)]  # 退档
    nts = [
        notice("delivered", "printed", t0 + DAY, 1),
        notice("delivered", "mailed", t0 + 2 * DAY, 2, "EA001CN"),
        notice("delivered", "delivered", t0 + 4 * DAY, 3),
        # returned, then mailed again with a new number, still on its way (mailed 2 days ago)
        notice("remailed", "printed", t0 + DAY, 1), notice("remailed", "mailed", t0 + 2 * DAY, 2, "EA002CN"),
        notice("remailed", "returned", t0 + 8 * DAY, 3),
        notice("remailed", "mailed", NOW - 2 * DAY, 4, "EA003CN"),
        notice("returned", "printed", t0 + DAY, 1), notice("returned", "mailed", t0 + 2 * DAY, 2, "EA004CN"),
        notice("returned", "returned", NOW - 5 * DAY, 3),
        notice("late-mail", "printed", t0 + DAY, 1),
        notice("late-mail", "mailed", NOW - 8 * DAY, 2, "EA005CN"),
        notice("edge-mail", "mailed", NOW - 7 * DAY, 1, "EA006CN"),  # exactly 7 × 24 h: undelivered
        notice("young-mail", "mailed", NOW - 7 * DAY + timedelta(seconds=1), 1, "EA007CN"),
        # printed and mailed in one millisecond: mailed, 10 days ago
        notice("tie", "mailed", NOW - 10 * DAY, 2, "EA008CN"), notice("tie", "printed", NOW - 10 * DAY, 1),
        notice("dropped", "printed", t0 + DAY, 1),
    ]
    return adm, nts


@pytest.fixture()
def seeded(migrated: Store) -> Store:
    store_reference(migrated, load_site(DEFAULT_SITE))
    adm, nts = crafted()
    put(migrated, "enrollment.admission", adm)
    put(migrated, "enrollment.notice", nts)
    return migrated


def test_the_funnel_and_the_exceptions_follow_the_definitions(seeded: Store) -> None:
    part = live(seeded, YEAR, NOW)
    # dropped (admitted then returned) is nowhere; remailed counts as mailed, not returned
    assert part["funnel"] == {"admitted": 9, "printed": 7, "mailed": 7, "delivered": 1, "returned": 1}
    assert part["exceptions"] == {"returned": 1, "undelivered": 3, "unprinted": 1}
    hubei = next(r for r in part["by_province"] if r["province"] == "42")
    assert (hubei["name"], hubei["name_en"]) == ("湖北", "Hubei")
    assert {s: hubei[s] for s in STAGES} == {"admitted": 5, "printed": 4, "mailed": 4, "delivered": 1,
                                              "returned": 0}
    assert [r["province"] for r in part["by_province"]] == ["11", "42"]  # code order

    rows = exceptions(seeded, YEAR, NOW)
    listed = [(r["kind"], r["candidate_key"], r["days_waiting"], r["notice_status"], r["tracking_no"])
              for r in rows.to_dicts()]
    assert listed == [
        ("returned", "returned", 5, "returned", "EA004CN"),  # the number it was mailed with
        ("undelivered", "tie", 10, "mailed", "EA008CN"),
        ("undelivered", "late-mail", 8, "mailed", "EA005CN"),
        ("undelivered", "edge-mail", 7, "mailed", "EA006CN"),
        ("unprinted", "unprinted", 3, None, None),
    ]
    first = rows.row(0, named=True)
    assert (first["province"], first["province_zh"], first["major_zh"], first["batch"], first["carrier"]) == (
        "11", "北京", "计算机科学与技术", "regular", "EMS")
    assert first["admitted_at"] == NOW - 20 * DAY and first["notice_at"] == NOW - 5 * DAY
    assert exceptions(seeded, YEAR, NOW, kind="unprinted")["candidate_key"].to_list() == ["unprinted"]
    # other thresholds move the edges
    assert live(seeded, YEAR, NOW, NoticeDays(undelivered=9, unprinted=4))["exceptions"] == {
        "returned": 1, "undelivered": 1, "unprinted": 0}
    with pytest.raises(ValueError, match="not an exception list"):
        exceptions(seeded, YEAR, NOW, kind="lost")


def test_a_remailed_notice_is_delivered_when_it_arrives(seeded: Store) -> None:
    put(seeded, "enrollment.notice", [notice("remailed", "delivered", NOW - DAY, 5)])
    part = live(seeded, YEAR, NOW)
    assert part["funnel"] == {"admitted": 9, "printed": 7, "mailed": 7, "delivered": 2, "returned": 1}
    # the snapshot section carries the part, counts only
    section = enrollment.live(seeded, enrollment.ZoneInfo("Asia/Shanghai"), NOW, year=YEAR)
    assert section["notices"] == part
    text = orjson.dumps(section).decode()
    assert "EA00" not in text and "remailed" not in text and "EMS" not in text


def test_the_kept_candidates_are_read_again_when_notices_or_admissions_arrive(seeded: Store) -> None:
    """The per-candidate read is kept between computations while nothing of the year changed
    (the funnel is recomputed far more often than notices arrive); a new event of either
    stream is counted at the next computation."""
    before = live(seeded, YEAR, NOW)["funnel"]
    assert live(seeded, YEAR, NOW)["funnel"] == before
    put(seeded, "enrollment.notice", [notice("unprinted", "printed", NOW - DAY, 9)])
    assert live(seeded, YEAR, NOW)["funnel"] == {**before, "printed": before["printed"] + 1}
    put(seeded, "enrollment.admission", [admit("newcomer", NOW - DAY)])
    assert live(seeded, YEAR, NOW)["funnel"] == {**before, "printed": before["printed"] + 1,
                                                 "admitted": before["admitted"] + 1}


def test_an_empty_year_has_zero_counts(seeded: Store) -> None:
    assert live(seeded, YEAR - 1, NOW) == {"funnel": dict.fromkeys(STAGES, 0), "by_province": [],
                                           "exceptions": dict.fromkeys(KINDS, 0)}
    assert exceptions(seeded, YEAR - 1, NOW).height == 0


# --- the simulated season, against the truth export -------------------------------------------


def expected(adm: pl.DataFrame, nts: pl.DataFrame, year: int, now: datetime, days: NoticeDays
             ) -> tuple[dict[str, Any], pl.DataFrame]:
    """The funnel and the exception lists from the truth, in plain Polars."""
    arank = {s: i for i, s in enumerate(ADMISSION_TIES)}
    nrank = {s: i for i, s in enumerate(NOTICE_TIES)}
    latest = (adm.filter(pl.col("year") == year)
              .with_columns(pl.col("status").replace_strict(arank, return_dtype=pl.Int64).alias("r"))
              .sort("ts", "r", "event_id").group_by("candidate_key").agg(pl.all().last())
              .filter(pl.col("status") == "admitted"))
    notes = nts.filter(pl.col("year") == year)
    by_key: dict[str, list[dict[str, Any]]] = {}
    for r in notes.with_columns(pl.col("status").replace_strict(nrank, return_dtype=pl.Int64).alias("r")
                                ).sort("ts", "r").iter_rows(named=True):
        by_key.setdefault(r["candidate_key"], []).append(r)
    funnel = dict.fromkeys(STAGES, 0)
    rows = []
    for c in latest.iter_rows(named=True):
        events = by_key.get(c["candidate_key"], [])
        status = events[-1]["status"] if events else None
        funnel["admitted"] += 1
        funnel["printed"] += bool(events)
        funnel["mailed"] += status in ("mailed", "delivered", "returned")
        funnel["delivered"] += status == "delivered"
        funnel["returned"] += status == "returned"
        since = events[-1]["ts"] if events else c["ts"]
        kind = ("returned" if status == "returned" else
                "undelivered" if status == "mailed" and now - since >= days.undelivered * DAY else
                "unprinted" if status is None and now - since >= days.unprinted * DAY else None)
        if kind:
            tracked = [e["tracking_no"] for e in events if e.get("tracking_no")]
            rows.append({"kind": kind, "candidate_key": c["candidate_key"],
                         "days_waiting": (now - since) // DAY,
                         "tracking_no": tracked[-1] if tracked else None})
    return funnel, pl.DataFrame(rows, schema={"kind": pl.String, "candidate_key": pl.String,
                                              "days_waiting": pl.Int64, "tracking_no": pl.String})


@pytest.mark.parametrize("days", [NoticeDays(), NoticeDays(undelivered=3, unprinted=1)])
def test_the_season_matches_the_truth(season: Week, days: NoticeDays) -> None:
    adm, nts = season.events("enrollment.admission"), season.events("enrollment.notice")
    assert nts.height > 0, "the simulated season sends notices"
    year = 2025
    got = live(season.store, year, season.now, days)  # the end of the season
    funnel_end, rows_end = expected(adm, nts, year, season.now, days)
    assert got["funnel"] == funnel_end
    assert got["exceptions"] == {k: rows_end.filter(pl.col("kind") == k).height for k in KINDS}
    assert sum(r["admitted"] for r in got["by_province"]) == funnel_end["admitted"]
    listed = exceptions(season.store, year, season.now, days)
    key = ["kind", "candidate_key"]
    assert (listed.select("kind", "candidate_key", "days_waiting", "tracking_no").sort(key).to_dicts()
            == rows_end.sort(key).to_dicts())
    # the season has each case the tracker exists for
    assert funnel_end["delivered"] > 0 and all(got["exceptions"][k] > 0 for k in KINDS), got["exceptions"]
    # … and the two cases the definitions must get right: a notice returned and mailed again,
    # a candidate admitted, sent a notice, then returned (退档: in no stage)
    seq = nts.filter(pl.col("year") == year).sort("ts").group_by("candidate_key").agg(pl.col("status"))
    assert any("returned" in st and "mailed" in st[st.index("returned"):] for st in seq["status"].to_list())
    dropped = set(adm.filter((pl.col("year") == year) & (pl.col("status") == "returned"))["candidate_key"])
    assert dropped & set(seq["candidate_key"])
    tracking = set(nts["tracking_no"].drop_nulls().to_list())
    assert tracking and not any(t in orjson.dumps(got).decode() for t in tracking)


# --- the alert rules (ioc_app/alerts.toml) -------------------------------------------------------


def test_the_shipped_alert_rules_fire_on_exceptions_and_clear(seeded: Store) -> None:
    from ioc_app.settings import DEFAULT_ALERTS
    from metrics.alerts import AlertBook, load_rules

    zone = enrollment.ZoneInfo("Asia/Shanghai")
    rules = [r for r in load_rules(DEFAULT_ALERTS) if r.id.startswith("notice_")]
    assert sorted(r.id for r in rules) == ["notice_returned", "notice_undelivered", "notice_unprinted"]
    book = AlertBook(rules, zone)

    def active(now: datetime) -> dict[str, dict[str, Any]]:
        snapshot = {"enrollment": enrollment.live(seeded, zone, now, year=YEAR)}
        return {a["id"]: a for a in book.evaluate(snapshot, now)}

    raised = active(NOW)
    assert {k: (a["value"], a["severity"]) for k, a in raised.items()} == {
        "notice_returned": (1, "warning"), "notice_undelivered": (3, "warning"),
        "notice_unprinted": (1, "info")}
    assert raised["notice_undelivered"]["title_zh"] == "3 份录取通知书寄出逾期仍未妥投"
    assert raised["notice_undelivered"]["title_en"] == "3 admission notice(s) mailed but overdue for delivery"
    keys = [e["candidate_key"] for e in crafted()[0]]
    text = orjson.dumps(list(raised.values())).decode()
    assert not any(f'"{k}"' in text or f" {k} " in text for k in keys) and "EA00" not in text

    # an hour later the office has dealt with them (and with those about to be late): the
    # returned one mailed again, the mailed ones delivered, the missing ones printed
    later = NOW + timedelta(hours=1)
    put(seeded, "enrollment.notice", [
        notice("returned", "mailed", later, 9, "EA104CN"),
        *(notice(k, "delivered", later, 9) for k in ("tie", "late-mail", "edge-mail", "young-mail")),
        *(notice(k, "printed", later, 9) for k in ("unprinted", "fresh"))])
    assert active(later + timedelta(minutes=1)) == {}
