"""Enrollment KPIs against the definitions in metrics.md, computed independently in Polars
over two simulated admission seasons (2024 and 2025, with September check-in) stored through
the real ingest path, plus crafted cases: out-of-order and contradictory status changes,
re-imported plans, check-in steps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from ingest.enrollment import (
    BATCHES,
    CATEGORIES,
    CHECKIN_STEPS,
    ENROLLMENT_ADMISSION,
    ENROLLMENT_CHECKIN,
    ENROLLMENT_PLAN,
    PROVINCES,
    TRACKS,
)
from ingest.site import load_site, store_reference
from ingest.validate import validate
from ioc_app.migrate import dialect_for, migrate
from ioc_app.migrations import MIGRATIONS, m0008_state, m0018_enrollment_season
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store
from metrics import enrollment
from metrics.enrollment import year_totals
from tests.metrics.conftest import SEASON_NOW, ZONE, Week

#: The documented tie-break at an equal ts: the status further along wins.
TIE_ORDER = ("filed", "admitted", "returned", "withdrawn")
DIMS = {"by_province": ("province", PROVINCES), "by_batch": ("batch", BATCHES),
        "by_category": ("category", CATEGORIES), "by_track": ("track", TRACKS), "by_major": ("major", None)}
PLAN_KEY = ("year", "province", "batch", "category", "track", "major")


def approx(tree: Any) -> Any:
    """``tree`` with every float compared approximately (sums of floats in another order)."""
    if isinstance(tree, dict):
        return {k: approx(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [approx(v) for v in tree]
    if isinstance(tree, float):
        return pytest.approx(tree, rel=1e-9, abs=1e-9)
    return tree


# --- the independent computation -----------------------------------------------------------


def latest_candidates(adm: pl.DataFrame) -> pl.DataFrame:
    """One row per (year, candidate): their latest event (greatest ts, then the tie order)."""
    rank = {s: i for i, s in enumerate(TIE_ORDER)}
    return (adm.with_columns(pl.col("status").replace_strict(rank, return_dtype=pl.Int64).alias("rank"))
            .sort("ts", "rank").group_by("year", "candidate_key").agg(pl.all().last()))


def furthest_steps(checkin: pl.DataFrame) -> pl.DataFrame:
    """One row per (year, student): the furthest step, and when each step was first reached."""
    order = {s: i for i, s in enumerate(CHECKIN_STEPS)}
    steps = checkin.with_columns(pl.col("step").replace_strict(order, return_dtype=pl.Int64).alias("n"))
    return steps.group_by("year", "student_key").agg(
        pl.col("n").max().alias("furthest"),
        *(pl.col("local").filter(pl.col("n") >= i).min().dt.date().alias(f"reached_{s}")
          for i, s in enumerate(CHECKIN_STEPS)),
    )


def expected_live(adm: pl.DataFrame, plan: pl.DataFrame, checkin: pl.DataFrame, year: int,
                  site: Any) -> dict[str, Any]:
    plan = plan.filter(pl.col("year") == year).group_by(PLAN_KEY).agg(pl.col("planned").last())
    admitted = latest_candidates(adm).filter((pl.col("year") == year) & (pl.col("status") == "admitted"))
    provinces = {p.code: p for p in site.provinces}
    majors = {m.code: m for m in site.majors}
    total_plan = int(plan["planned"].sum()) if plan.height else 0
    out: dict[str, Any] = {
        "year": year, "plan": total_plan, "admitted": admitted.height,
        "completion": admitted.height / total_plan if total_plan else None,
    }
    for key, (dim, order) in DIMS.items():
        keys = set(plan[dim].to_list() if plan.height else []) | set(admitted[dim].to_list())
        ranked = sorted(keys, key=lambda k, order=order: (order.index(k) if order else 0, k))
        rows = []
        for k in ranked:
            p = int(plan.filter(pl.col(dim) == k)["planned"].sum()) if plan.height else 0
            a = admitted.filter(pl.col(dim) == k)
            row: dict[str, Any] = {dim: k}
            if dim == "province":
                row |= {"name": provinces[k].name_zh, "name_en": provinces[k].name_en}
            if dim == "major":
                m = majors.get(k)
                row |= {"name": m.name_zh if m else k, "name_en": m.name_en if m else k,
                        "college": m.college if m else (a["college"].max() if a.height else None)}
            row |= {"plan": p, "admitted": a.height, "completion": a.height / p if p else None,
                    "min_score": a["score"].min() if a.height else None,
                    "avg_score": a["score"].mean() if a.height else None,
                    "max_score": a["score"].max() if a.height else None}
            rows.append(row)
        out[key] = rows
    students = furthest_steps(checkin).filter(pl.col("year") == year) if checkin.height else None
    out["checkin"] = {s: students.filter(pl.col("furthest") == i).height if students is not None else 0
                      for i, s in enumerate(CHECKIN_STEPS)}
    return out


def expected_slow(adm: pl.DataFrame, checkin: pl.DataFrame, year: int, today: date) -> dict[str, Any]:
    admitted = (latest_candidates(adm).filter(pl.col("status") == "admitted")
                .with_columns(pl.col("local").dt.date().alias("day")))
    season_days = (date(year, 9, 30) - date(year, 7, 1)).days + 1
    by_day = []
    for d in range(season_days):
        this, last = date(year, 7, 1) + timedelta(days=d), date(year - 1, 7, 1) + timedelta(days=d)
        by_day.append({
            "day": d, "date": this.isoformat(),
            "admitted": (admitted.filter((pl.col("year") == year) & (pl.col("day") <= this)).height
                         if this <= today else None),
            "last_year": admitted.filter((pl.col("year") == year - 1) & (pl.col("day") <= last)).height,
        })
    students = furthest_steps(checkin).filter(pl.col("year") == year)
    funnel = []
    for k in range(30):
        day = date(year, 9, 1) + timedelta(days=k)
        funnel.append({"date": day.isoformat(),
                       **{s: (students.filter(pl.col(f"reached_{s}") <= day).height if day <= today else None)
                          for s in CHECKIN_STEPS}})
    return {"admitted_by_day": by_day, "checkin_by_day": funnel}


# --- the simulated seasons -------------------------------------------------------------------


@pytest.mark.parametrize("year", [None, 2024])
def test_live_matches_the_season(season: Week, year: int | None) -> None:
    got = enrollment.live(season.store, season.zone, season.now, year=year, min_cell=1)
    shown = year or 2025  # the calendar year of now in the site's zone
    expected = expected_live(season.events("enrollment.admission"), season.truth["enrollment.plan"],
                             season.events("enrollment.checkin"), shown, season.site)
    # the source-quality and notice parts are checked in test_enrollment_quality.py and
    # test_enrollment_notices.py
    assert {k: v for k, v in got.items() if k not in ("quality", "notices")} == approx(expected)
    # a real season: most of the plan admitted, every level of the breakdowns used
    assert 0.9 <= got["completion"] <= 1.1 and got["admitted"] > 1000
    assert len(got["by_province"]) == 34 and len(got["by_batch"]) == 2 and len(got["by_major"]) > 20
    assert got["checkin"]["registered"] > 0 and sum(got["checkin"].values()) < got["admitted"]
    assert year_totals(season.store, shown) == {k: got[k] for k in ("year", "plan", "admitted", "completion")}


@pytest.mark.parametrize("year", [2025, 2024])
def test_export_breakdown_adds_up_to_the_live_figures(season: Week, year: int) -> None:
    """The export's rows (province × batch × category × college × major) are the snapshot's
    figures split finer: summed back per province and per major they give ``live`` exactly,
    and each major sits under the college ``by_major`` names."""
    rows = enrollment.breakdown(season.store, year)
    live = enrollment.live(season.store, season.zone, season.now, year=year, min_cell=1)
    assert rows.height > 100 and rows.select(enrollment.EXPORT_KEYS).is_unique().all()
    for key, dim, columns in (("by_province", "province", ["name", "name_en"]),
                              ("by_major", "major", ["name", "name_en", "college"])):
        summed = (rows.group_by(dim).agg(
            pl.col(f"{dim}_zh").first().alias("name"), pl.col(f"{dim}_en").first().alias("name_en"),
            pl.col("college").first(), pl.col("plan").sum(), pl.col("admitted").sum(),
            pl.col("min_score").min(), pl.col("max_score").max(), pl.col("score_sum").sum()))
        got = {}
        for r in summed.iter_rows(named=True):
            got[r[dim]] = {**{c: r[c] for c in columns}, "plan": r["plan"], "admitted": r["admitted"],
                           "completion": r["admitted"] / r["plan"] if r["plan"] else None,
                           "min_score": r["min_score"], "max_score": r["max_score"],
                           "avg_score": r["score_sum"] / r["admitted"] if r["admitted"] else None}
        assert got == approx({r[dim]: {k: v for k, v in r.items() if k != dim} for r in live[key]})
    totals = enrollment.breakdown_totals(rows)
    assert {k: totals[k] for k in ("plan", "admitted", "completion")} == approx(
        {k: live[k] for k in ("plan", "admitted", "completion")})
    # a filter keeps the rows of its values, after the college is known
    cs = enrollment.breakdown(season.store, year, {"college": ["cs"], "province": ["42", "11"]})
    assert cs.height > 0 and cs.equals(rows.filter(pl.col("college").eq("cs")
                                                   & pl.col("province").is_in(["11", "42"])))


def test_candidates_not_admitted_exist_in_the_season(season: Week) -> None:
    """The season's truth holds returned candidates, so the checks above can tell them apart."""
    latest = latest_candidates(season.events("enrollment.admission"))
    assert latest.filter(pl.col("status") == "returned").height > 10


@pytest.mark.parametrize(("now", "year"), [
    (SEASON_NOW, None),
    (datetime(2025, 8, 1, 12, tzinfo=ZONE).astimezone(UTC), None),  # mid-season: the rest is to come
    (datetime(2025, 9, 3, 16, tzinfo=ZONE).astimezone(UTC), None),  # during check-in
    (SEASON_NOW, 2024),  # the first season: nothing the year before
])
def test_slow_matches_the_season(season: Week, now: datetime, year: int | None) -> None:
    got = enrollment.slow(season.store, season.zone, now, year=year)
    shown = year or 2025
    today = now.astimezone(ZONE).date()
    expected = expected_slow(season.events("enrollment.admission"), season.events("enrollment.checkin"),
                             shown, today)
    assert got == expected
    assert len(got["admitted_by_day"]) == 92 and len(got["checkin_by_day"]) == 30
    final = enrollment.live(season.store, season.zone, now, year=shown, min_cell=1)
    if today >= date(shown, 9, 30):
        assert got["admitted_by_day"][-1]["admitted"] == final["admitted"]
        assert got["checkin_by_day"][-1]["registered"] == final["checkin"]["registered"]
    if shown == 2025:
        assert got["admitted_by_day"][-1]["last_year"] == enrollment.live(
            season.store, season.zone, now, year=2024, min_cell=1)["admitted"] > 0


def test_cluster_folding_gives_the_same_figures(season: Week, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a cluster a candidate's or student's rows may sit on several shards and are folded
    with GROUP BY instead of FINAL: the same figures (checked here on one node)."""
    def figures() -> list[Any]:
        return [enrollment.live(season.store, season.zone, season.now, min_cell=1),
                enrollment.live(season.store, season.zone, season.now, year=2024, min_cell=1),
                enrollment.slow(season.store, season.zone, season.now)]

    single = figures()
    monkeypatch.setattr(season.store, "cluster", "campus_cluster")
    assert figures() == approx(single)


# --- crafted cases through the real ingest path ----------------------------------------------

YEAR = 2025
T0 = datetime(2025, 7, 20, 10, tzinfo=ZONE).astimezone(UTC)
BASE = {"year": YEAR, "province": "42", "batch": "regular", "category": "general", "track": "physics",
        "college": "cs", "major": "080901", "score": 612.5}


def ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def admission(key: str, status: str, at: datetime, eid: str | None = None, **fields: Any) -> dict[str, Any]:
    return {**BASE, **fields, "event_id": eid or f"{key}-{status}-{ms(at)}", "ts": ms(at),
            "candidate_key": key, "status": status}


def step(key: str, name: str, at: datetime, year: int = YEAR) -> dict[str, Any]:
    return {"event_id": f"{key}-{name}", "ts": ms(at), "year": year, "student_key": key,
            "college": "cs", "major": "080901", "campus": "main", "step": name}


def plan_row(planned: int, **fields: Any) -> dict[str, Any]:
    return {**{k: BASE[k] for k in PLAN_KEY}, **fields, "planned": planned}


def send(pipeline, stream, events: list[dict[str, Any]], now: datetime = SEASON_NOW) -> None:
    receipt = pipeline.submit(stream, events, source="t", now=now)
    assert receipt.errors == []
    pipeline.writer.flush_once(force=True)


def test_nothing_stored(migrated: Store) -> None:
    assert enrollment.live(migrated, ZONE, SEASON_NOW, min_cell=1) == {
        "year": 2025, "plan": 0, "admitted": 0, "completion": None, "by_province": [], "by_batch": [],
        "by_category": [], "by_track": [], "by_major": [],
        "checkin": {"arrived": 0, "paid": 0, "dorm": 0, "registered": 0},
        "quality": {"avg_margin": None, "with_line": 0, "best": [], "worst": []},
        "notices": {"funnel": {"admitted": 0, "printed": 0, "mailed": 0, "delivered": 0, "returned": 0},
                    "by_province": [], "exceptions": {"returned": 0, "undelivered": 0, "unprinted": 0}},
    }
    slow = enrollment.slow(migrated, ZONE, SEASON_NOW)
    assert all(r["admitted"] == 0 and r["last_year"] == 0 for r in slow["admitted_by_day"])
    assert all(r[s] == 0 for r in slow["checkin_by_day"] for s in CHECKIN_STEPS)


def test_the_year_is_the_calendar_year_in_the_site_zone(migrated: Store) -> None:
    new_year = datetime(2025, 12, 31, 17, tzinfo=UTC)  # already 2026-01-01 01:00 in Shanghai
    assert enrollment.live(migrated, ZONE, new_year, min_cell=1)["year"] == 2026
    assert enrollment.slow(migrated, ZONE, new_year)["admitted_by_day"][0]["date"] == "2026-07-01"


def test_latest_status_decides(pipeline) -> None:
    hour = timedelta(hours=1)
    send(pipeline, ENROLLMENT_ADMISSION, [
        admission("plain", "filed", T0), admission("plain", "admitted", T0 + hour, score=600.0),
        # admitted, then returned: not admitted, and its score is in no figure
        admission("returned", "filed", T0), admission("returned", "admitted", T0 + hour, score=999.0),
        admission("returned", "returned", T0 + 2 * hour, score=999.0),
        # the admission arrives before the filing it follows
        admission("swapped", "admitted", T0 + 3 * hour, score=610.0, province="11"),
        admission("swapped", "filed", T0 + hour, score=1.0, province="11"),
        admission("filed-only", "filed", T0, score=0.5),
        admission("withdrew", "admitted", T0, score=998.0), admission("withdrew", "withdrawn", T0 + hour),
    ])
    # an older status change arriving last does not win
    send(pipeline, ENROLLMENT_ADMISSION, [admission("plain", "filed", T0 - hour, eid="late")])
    send(pipeline, ENROLLMENT_ADMISSION, [admission("returned", "admitted", T0 + hour, score=999.0,
                                                    eid="late-2")])
    # sent twice: counted once
    for _ in range(2):
        send(pipeline, ENROLLMENT_ADMISSION, [admission("twice", "admitted", T0, score=620.0)])
    got = enrollment.live(pipeline.store, ZONE, SEASON_NOW, min_cell=1)
    assert got["admitted"] == 3  # plain, swapped, twice
    assert got["by_province"] == [
        {"province": "11", "name": "11", "name_en": "11", "plan": 0, "admitted": 1, "completion": None,
         "min_score": 610.0, "avg_score": 610.0, "max_score": 610.0},
        {"province": "42", "name": "42", "name_en": "42", "plan": 0, "admitted": 2, "completion": None,
         "min_score": 600.0, "avg_score": 610.0, "max_score": 620.0},
    ]
    assert got["by_major"] == [{"major": "080901", "name": "080901", "name_en": "080901", "college": "cs",
                                "plan": 0, "admitted": 3, "completion": None, "min_score": 600.0,
                                "avg_score": pytest.approx(610.0), "max_score": 620.0}]


@pytest.mark.parametrize("cluster", ["", "campus_cluster"])
def test_equal_ts_tie_break_is_deterministic(migrated: Store, cluster: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Admitted and returned in the same millisecond: returned wins (the status further
    along), whichever arrives first; two admissions in one millisecond with different scores
    resolve to the same one in either order."""
    events = [admission("tie", "admitted", T0, eid="tie-a"), admission("tie", "returned", T0, eid="tie-r"),
              admission("pair", "admitted", T0, eid="pair-1", score=601.0),
              admission("pair", "admitted", T0, eid="pair-2", score=602.0)]
    monkeypatch.setattr(migrated, "cluster", cluster)  # FINAL on one node, GROUP BY on a cluster
    outcomes = []
    for order in (events, events[::-1]):
        for table in ("enrollment_admission", "enrollment_admission_latest"):
            migrated.command(f"TRUNCATE TABLE {table}")
        for e in order:  # one insert each: the rows meet only when the table is read
            migrated.insert("enrollment_admission", validate(ENROLLMENT_ADMISSION, [e], source="t",
                                                             now=SEASON_NOW).frame)
        got = enrollment.live(migrated, ZONE, SEASON_NOW, min_cell=1)
        outcomes.append((got["admitted"], got["by_batch"][0]["min_score"], got["by_batch"][0]["max_score"]))
    assert outcomes[0] == outcomes[1]
    admitted, low, high = outcomes[0]
    assert admitted == 1 and low == high and low in (601.0, 602.0)


def test_plan_reimport_latest_wins(pipeline) -> None:
    first = SEASON_NOW - timedelta(days=80)
    send(pipeline, ENROLLMENT_PLAN, [plan_row(10), plan_row(5, province="11")], now=first)
    send(pipeline, ENROLLMENT_PLAN, [plan_row(4)], now=first + timedelta(days=1))  # corrected
    send(pipeline, ENROLLMENT_ADMISSION, [admission(f"k{i}", "admitted", T0) for i in range(2)])
    got = enrollment.live(pipeline.store, ZONE, SEASON_NOW, min_cell=1)
    # the re-imported key counts 4, the key only in the first import keeps its 5
    assert (got["plan"], got["admitted"], got["completion"]) == (9, 2, 2 / 9)
    assert [(r["province"], r["plan"], r["admitted"], r["completion"]) for r in got["by_province"]] == [
        ("11", 5, 0, 0.0), ("42", 4, 2, 0.5)]
    assert got["by_province"][0]["min_score"] is None
    assert year_totals(pipeline.store, YEAR) == {"year": YEAR, "plan": 9, "admitted": 2, "completion": 2 / 9}
    # another year: no plan and no admissions
    other = enrollment.live(pipeline.store, ZONE, SEASON_NOW, year=2031, min_cell=1)
    assert (other["plan"], other["admitted"], other["completion"], other["by_major"]) == (0, 0, None, [])


def test_a_year_without_plan_has_no_completion(pipeline) -> None:
    send(pipeline, ENROLLMENT_ADMISSION, [admission("a", "admitted", T0)])
    got = enrollment.live(pipeline.store, ZONE, SEASON_NOW, min_cell=1)
    assert (got["plan"], got["admitted"], got["completion"]) == (0, 1, None)
    assert all(r["completion"] is None and r["plan"] == 0 for key in DIMS for r in got[key])


def test_checkin_counts_the_furthest_step(pipeline) -> None:
    day = datetime(2025, 9, 2, 9, tzinfo=ZONE).astimezone(UTC)
    minute = timedelta(minutes=1)
    send(pipeline, ENROLLMENT_CHECKIN, [
        *(step("full", s, day + k * minute) for k, s in enumerate(CHECKIN_STEPS)),
        step("paid", "arrived", day), step("paid", "paid", day + minute),
        # registered sent before arrived, and no payment step seen at all
        step("jumped", "registered", day + timedelta(days=1)), step("jumped", "arrived", day),
        step("arrived", "arrived", day + timedelta(days=2)),
        step("last-year", "registered", day - timedelta(days=365), year=2024),
    ])
    send(pipeline, ENROLLMENT_CHECKIN, [step("paid", "paid", day + minute)])  # a retry
    got = enrollment.live(pipeline.store, ZONE, SEASON_NOW, min_cell=1)["checkin"]
    assert got == {"arrived": 1, "paid": 1, "dorm": 0, "registered": 2}
    funnel = {r["date"]: r for r in enrollment.slow(pipeline.store, ZONE, SEASON_NOW)["checkin_by_day"]}
    assert funnel["2025-09-01"] == {"date": "2025-09-01", "arrived": 0, "paid": 0, "dorm": 0, "registered": 0}
    assert funnel["2025-09-02"] == {"date": "2025-09-02", "arrived": 3, "paid": 2, "dorm": 1, "registered": 1}
    assert funnel["2025-09-03"] == {"date": "2025-09-03", "arrived": 3, "paid": 3, "dorm": 2, "registered": 2}
    assert funnel["2025-09-30"] == {"date": "2025-09-30", "arrived": 4, "paid": 3, "dorm": 2, "registered": 2}
    during = enrollment.slow(pipeline.store, ZONE, day)["checkin_by_day"]
    assert during[1]["arrived"] == 3 and during[2]["arrived"] is None  # days after today: not yet


def test_admitted_by_day_places_midnight_in_its_day(pipeline) -> None:
    july2 = datetime(2025, 7, 2, tzinfo=ZONE).astimezone(UTC)
    send(pipeline, ENROLLMENT_ADMISSION, [
        # before the season: counted from its first day
        admission("early", "admitted", datetime(2025, 6, 20, tzinfo=ZONE).astimezone(UTC)),
        admission("july1", "admitted", july2 - timedelta(milliseconds=1)),
        admission("july2", "admitted", july2),
        admission("prev", "admitted", datetime(2024, 7, 2, 23, tzinfo=ZONE).astimezone(UTC), year=2024),
    ])
    days = enrollment.slow(pipeline.store, ZONE, SEASON_NOW)["admitted_by_day"]
    assert days[0] == {"day": 0, "date": "2025-07-01", "admitted": 2, "last_year": 0}
    assert days[1] == {"day": 1, "date": "2025-07-02", "admitted": 3, "last_year": 1}
    mid = enrollment.slow(pipeline.store, ZONE, datetime(2025, 7, 2, 8, tzinfo=ZONE).astimezone(UTC))
    assert mid["admitted_by_day"][1]["admitted"] == 3 and mid["admitted_by_day"][2]["admitted"] is None
    assert mid["admitted_by_day"][91]["last_year"] == 1


def test_names_and_colleges_from_the_catalogue(pipeline) -> None:
    store_reference(pipeline.store, load_site(DEFAULT_SITE))
    send(pipeline, ENROLLMENT_PLAN, [plan_row(3), plan_row(2, major="999999")])
    send(pipeline, ENROLLMENT_ADMISSION, [
        admission("a", "admitted", T0, college="not-cs"),  # the catalogue says cs
        admission("b", "admitted", T0, major="777777", college="lab"),  # unknown major: its events say
    ])
    got = enrollment.live(pipeline.store, ZONE, SEASON_NOW, min_cell=1)
    assert got["by_province"][0] == {
        "province": "42", "name": "湖北", "name_en": "Hubei", "plan": 5, "admitted": 2, "completion": 0.4,
        "min_score": 612.5, "avg_score": 612.5, "max_score": 612.5}
    assert [(r["major"], r["name"], r["college"], r["plan"], r["admitted"]) for r in got["by_major"]] == [
        ("080901", "计算机科学与技术", "cs", 3, 1), ("777777", "777777", "lab", 0, 1),
        ("999999", "999999", None, 2, 0)]


# --- the state tables ------------------------------------------------------------------------


def test_metrics_decode_the_stored_order() -> None:
    assert m0008_state.ADMISSION_STATUS_RANK == TIE_ORDER
    assert enrollment.CHECKIN_STEPS == CHECKIN_STEPS


def test_state_backfill_is_idempotent(store: Store) -> None:
    """Admissions and check-ins stored before the state migration are folded by its backfill;
    running the backfill again changes nothing."""
    migrate(store, tuple(m for m in MIGRATIONS if m.VERSION < m0008_state.VERSION))
    adm = [admission("a", "filed", T0), admission("a", "admitted", T0 + timedelta(hours=1)),
           admission("b", "admitted", T0), admission("b", "returned", T0 + timedelta(hours=1))]
    chk = [step("s", "arrived", T0), step("s", "paid", T0 + timedelta(minutes=3))]
    for stream, events in ((ENROLLMENT_ADMISSION, adm), (ENROLLMENT_CHECKIN, chk)):
        r = validate(stream, events, source="t", now=SEASON_NOW)
        assert r.errors == []
        store.insert(stream.table, r.frame.drop("first_choice", strict=False))  # (added by m0018)
    migrate(store)
    first = (enrollment.live(store, ZONE, SEASON_NOW), enrollment.slow(store, ZONE, SEASON_NOW))
    assert first[0]["admitted"] == 1 and first[0]["checkin"]["paid"] == 1
    # (the candidates' state is filled as migration 18 rebuilt it, the students' as migration 8)
    d = dialect_for(store)
    for migration, state in ((m0008_state, "enrollment_checkin_state"),
                             (m0018_enrollment_season, "enrollment_admission_latest")):
        for sql in migration.statements(d):
            if sql.startswith(f"INSERT INTO {d.db}.{state}\n"):
                store.command(sql)
    assert (enrollment.live(store, ZONE, SEASON_NOW), enrollment.slow(store, ZONE, SEASON_NOW)) == first


def test_season_migration_carries_rank_and_first_choice_into_the_latest_state(store: Store) -> None:
    """Migration 18 adds first choice to admissions and, with the rank, to each candidate's
    latest state: candidates stored before it get their rank from its fill, those after it
    their rank and first choice from the replaced view; running its statements again
    changes nothing."""
    migrate(store, tuple(m for m in MIGRATIONS if m.VERSION < m0018_enrollment_season.VERSION))
    before = [admission("a", "filed", T0, province_rank=900),
              admission("a", "admitted", T0 + timedelta(hours=1), province_rank=901),
              admission("b", "admitted", T0, province_rank=1200)]
    r = validate(ENROLLMENT_ADMISSION, before, source="t", now=SEASON_NOW)
    store.insert(ENROLLMENT_ADMISSION.table, r.frame.drop("first_choice"))
    migrate(store)
    after = [admission("b", "returned", T0 + timedelta(hours=2), province_rank=1200, first_choice=True),
             admission("c", "admitted", T0, province_rank=50, first_choice="否")]
    r = validate(ENROLLMENT_ADMISSION, after, source="t", now=SEASON_NOW)
    assert r.errors == []
    store.insert(ENROLLMENT_ADMISSION.table, r.frame)
    sql = ("SELECT candidate_key, toString(status), province_rank, first_choice "
           "FROM enrollment_admission_latest FINAL ORDER BY candidate_key")
    want = [("a", "admitted", 901, None), ("b", "returned", 1200, True), ("c", "admitted", 50, False)]
    assert store.rows(sql) == want
    for statement in m0018_enrollment_season.statements(dialect_for(store)):
        if not statement.startswith("ALTER"):
            store.command(statement)
    assert store.rows(sql) == want


# --- the first checks of year_totals, kept -----------------------------------------------------

FIRST_NOW = datetime.now(UTC).replace(microsecond=0)
FIRST_BASE = {"year": 2026, "province": "42", "batch": "regular", "category": "general",
              "track": "physics", "college": "cs", "major": "080901", "score": 612.5}


def first_admission(key: str, status: str, minutes_ago: int) -> dict:
    ts = int((FIRST_NOW - timedelta(minutes=minutes_ago)).timestamp() * 1000)
    return {**FIRST_BASE, "event_id": f"{key}-{status}-{minutes_ago}", "ts": ts, "candidate_key": key,
            "status": status}


def test_latest_status_wins_and_plan_upserts(migrated: Store) -> None:
    events = [
        first_admission("a", "filed", 50), first_admission("a", "admitted", 40),  # admitted
        first_admission("b", "filed", 50), first_admission("b", "admitted", 40),
        first_admission("b", "returned", 30),
        # out of order: still admitted
        first_admission("c", "admitted", 10), first_admission("c", "filed", 60),
        first_admission("d", "filed", 5),
    ]
    r = validate(ENROLLMENT_ADMISSION, events, source="t")
    assert r.errors == []
    migrated.insert("enrollment_admission", r.frame)
    plan_key = {k: FIRST_BASE[k] for k in ("year", "province", "batch", "category", "track", "major")}
    for planned in (3, 4):  # the office re-imports: the latest import of a key wins
        p = validate(ENROLLMENT_PLAN, [{**plan_key, "planned": planned}], source="t")
        migrated.insert("enrollment_plan", p.frame)
    latest = (pl.DataFrame(events).sort("ts").group_by("candidate_key").last())
    admitted = latest.filter(pl.col("status") == "admitted").height
    assert year_totals(migrated, 2026) == {"year": 2026, "plan": 4, "admitted": admitted,
                                           "completion": admitted / 4}
    assert admitted == 2


def test_year_totals_without_plan_have_no_completion(migrated: Store) -> None:
    assert year_totals(migrated, 2031) == {"year": 2031, "plan": 0, "admitted": 0, "completion": None}


# --- small cells (IOC_MIN_CELL): the definitions above are checked exact (min_cell=1) ---------


@pytest.mark.parametrize(("admitted", "min_cell", "hidden"), [
    ([5, 4, 1], 3, {1, 2}),  # the one alone would be the rest of the year's total: 4 more hidden with it
    ([5, 2, 1], 3, {1, 2}),  # two small ones hold 3 between them: nothing more to hide
    ([5, 4, 0], 3, set()),  # nobody admitted: no score to hide
    ([9, 5, 5, 2], 3, {1, 3}),  # the next smallest, the first of a tie
    ([2], 3, {0}),
    ([5, 4, 1], 1, set()),  # the admissions role's exact figures
    ([5, 1], 5, {0, 1}),
])
def test_small_groups_and_their_complement_are_hidden(admitted: list[int], min_cell: int,
                                                       hidden: set[int]) -> None:
    assert enrollment.hidden_groups(admitted, min_cell) == hidden
    rows = [{"province": str(i), "admitted": n, "plan": 6, "min_score": 600.0, "avg_score": 610.0,
             "max_score": 620.0} for i, n in enumerate(admitted)]
    shown = enrollment.suppress_rows(rows, min_cell)
    assert [r["avg_score"] is None for r in shown] == [i in hidden for i in range(len(rows))]
    assert [(r["admitted"], r["plan"]) for r in shown] == [(r["admitted"], r["plan"]) for r in rows]
    assert rows[0]["avg_score"] == 610.0  # the rows given are not changed


def test_the_snapshot_section_hides_a_one_candidate_province_by_default(pipeline) -> None:
    send(pipeline, ENROLLMENT_ADMISSION, [
        *(admission(f"h{i}", "admitted", T0, score=600.0 + 2 * i) for i in range(4)),
        admission("alone", "admitted", T0, score=601.5, province="11"),  # neither lowest nor highest
    ])
    got = enrollment.live(pipeline.store, ZONE, SEASON_NOW)
    alone = next(r for r in got["by_province"] if r["province"] == "11")
    assert [alone[k] for k in ("admitted", "min_score", "avg_score", "max_score")] == [1, None, None, None]
    assert all(r["avg_score"] is None for r in got["by_province"])  # 42 holds the rest of the total
    assert "601.5" not in str(got)
    assert got["by_batch"][0]["avg_score"] == pytest.approx(602.7)  # a group of 5 shows its scores
    exact = enrollment.exact(pipeline.store, 2025)
    assert next(r for r in exact["by_province"] if r["province"] == "11")["avg_score"] == 601.5
    rows = enrollment.breakdown(pipeline.store, 2025)
    assert enrollment.breakdown_totals(rows)["avg_score"] == pytest.approx(602.7)
    assert enrollment.suppress_breakdown(rows, 3)["avg_score"].to_list() == [None, None]
    assert enrollment.suppress_breakdown(rows, 1)["avg_score"].to_list() == rows["avg_score"].to_list()
    assert enrollment.breakdown_totals(rows.head(1), 3)["avg_score"] is None  # one candidate's total
