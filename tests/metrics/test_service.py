"""Service-hall KPIs against the definitions in metrics.md, computed independently in Polars
over the simulator's events, plus crafted cases through the real ingest path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from ingest.service import SERVICE_CALL, SERVICE_PRINT, SERVICE_WORKFLOW
from ingest.sim import Simulator, World
from ingest.site import load_site
from ingest.validate import validate
from ioc_app.migrate import dialect_for, migrate
from ioc_app.migrations import MIGRATIONS, m0008_state
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store
from metrics import service
from metrics.gate import local_midnight
from metrics.service import today_actions
from tests.metrics.conftest import Week, week_end

ZONE = ZoneInfo("Asia/Shanghai")
#: The documented tie-break at an equal ts: the action further along wins.
TIE_ORDER = ("submitted", "returned", "approved", "rejected", "withdrawn", "completed")
OPEN = ("submitted", "approved", "returned")


def approx(tree: Any) -> Any:
    """``tree`` with every float compared approximately (sums of floats in another order)."""
    if isinstance(tree, dict):
        return {k: approx(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [approx(v) for v in tree]
    if isinstance(tree, float):
        return pytest.approx(tree, rel=1e-9, abs=1e-9)
    return tree


def midnight_of(zone: ZoneInfo, now: datetime) -> datetime:
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def end_of_minute(now: datetime) -> datetime:
    """Today ends with the current minute: like the gate figures, it is read at minute resolution."""
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


def case_truth(wf: pl.DataFrame) -> pl.DataFrame:
    """One row per case from its events: latest action (greatest ts, then the tie order),
    first submission, latest completion (null when none), department."""
    rank = {a: i for i, a in enumerate(TIE_ORDER)}
    return (
        wf.with_columns(pl.col("action").replace_strict(rank, return_dtype=pl.Int64).alias("rank"))
        .sort("ts", "rank")
        .group_by("case_id")
        .agg(
            pl.col("action").last().alias("latest"),
            pl.col("ts").filter(pl.col("action") == "submitted").min().alias("first_submitted"),
            pl.col("ts").filter(pl.col("action") == "completed").max().alias("completed"),
            pl.col("department").first(),
        )
    )


def open_cases(cases: pl.DataFrame, now: datetime) -> pl.DataFrame:
    return cases.filter(pl.col("latest").is_in(OPEN)
                        & pl.col("first_submitted").is_between(now - timedelta(days=90), end_of_minute(now)))


def expected_live(wf: pl.DataFrame, prints: pl.DataFrame, calls: pl.DataFrame, now: datetime,
                  zone: ZoneInfo, names: dict[str, tuple[str, str]]) -> dict[str, Any]:
    start, end = midnight_of(zone, now), end_of_minute(now)

    def today(f: pl.DataFrame) -> pl.DataFrame:
        return f.filter((pl.col("ts") >= start) & (pl.col("ts") < end)) if f.height else f

    wf_today, pr_today, ca_today = today(wf), today(prints), today(calls)
    cases = case_truth(wf)
    handled = cases.filter(pl.col("completed").is_not_null() & (pl.col("completed") >= start)
                           & (pl.col("completed") < end) & (pl.col("first_submitted") <= pl.col("completed")))
    minutes = ((handled["completed"] - handled["first_submitted"]).dt.total_milliseconds() / 60_000)
    top = (wf_today.filter(pl.col("action") == "submitted").group_by("service_id").len()
           .sort(["len", "service_id"], descending=[True, False]).head(20))
    n_calls = ca_today.height
    answered = ca_today.filter(pl.col("outcome") == "answered").height if n_calls else 0
    return {
        "today": {a: wf_today.filter(pl.col("action") == a).height for a in ("submitted", "completed",
                                                                            "rejected")},
        "backlog": open_cases(cases, now).height,
        "handling_minutes": {
            "avg": minutes.mean() if len(minutes) else None,
            "p90": minutes.quantile(0.9, interpolation="linear") if len(minutes) else None,
            "cases": len(minutes),
        },
        "top_services": [
            {"service_id": s, "name": names.get(s, (s, s))[0], "name_en": names.get(s, (s, s))[1],
             "submitted": n}
            for s, n in top.iter_rows()
        ],
        "print": {"today": {
            "jobs": pr_today.height,
            "pages": int(pr_today["pages"].sum()) if pr_today.height else 0,
            "failed": pr_today.filter(pl.col("result") == "failed").height if pr_today.height else 0,
        }},
        "calls": {"today": {
            "calls": n_calls,
            "answered": answered,
            "answer_rate": answered / n_calls if n_calls else None,
            "avg_wait_s": ca_today["wait_s"].mean() if n_calls else None,
        }},
    }


def week_names(week: Week, kind: str) -> dict[str, tuple[str, str]]:
    items = week.site.services if kind == "service" else week.site.departments
    return {s.code: (s.name_zh, s.name_en) for s in items}


# --- the simulated week ------------------------------------------------------------------


def test_live_matches_the_week(week: Week) -> None:
    wf = week.events("service.workflow")
    got = service.live(week.store, week.zone, week.now)
    expected = expected_live(wf, week.events("service.print"), week.events("service.call"), week.now,
                             week.zone, week_names(week, "service"))
    assert got == approx(expected)
    # the week is busy enough for every figure to mean something
    assert got["today"]["submitted"] > 0 and got["backlog"] > 0 and len(got["top_services"]) > 3
    assert got["handling_minutes"]["cases"] > 0 and got["calls"]["today"]["calls"] > 0
    assert got["print"]["today"]["jobs"] > 0
    assert all(r["name"] != r["service_id"] for r in got["top_services"])  # names from the catalogue


def test_live_keys_are_the_contract(week: Week) -> None:
    got = service.live(week.store, week.zone, week.now)
    assert set(got["today"]) == {"submitted", "completed", "rejected"}
    assert set(got["handling_minutes"]) >= {"avg", "p90"}
    assert set(got["print"]["today"]) == {"jobs", "pages", "failed"}
    assert set(got["calls"]["today"]) == {"calls", "answered", "answer_rate", "avg_wait_s"}
    assert all(set(r) >= {"service_id", "name", "submitted"} for r in got["top_services"])
    assert isinstance(got["backlog"], int)


def expected_hourly(wf: pl.DataFrame, calls: pl.DataFrame, now: datetime, zone: ZoneInfo) -> dict[str, Any]:
    local_now = now.astimezone(zone)
    today = local_now.date()
    ref_days = [today - timedelta(days=7 * k) for k in (1, 2, 3, 4)]
    end = end_of_minute(now)
    wf = wf.filter(pl.col("ts") < end).with_columns(pl.col("local").dt.date().alias("day"),
                                                    pl.col("local").dt.hour().alias("h"))
    calls = calls.filter(pl.col("ts") < end).with_columns(pl.col("local").dt.date().alias("day"),
                                                          pl.col("local").dt.hour().alias("h"))
    data_days = [d for d in ref_days if wf.filter(pl.col("day") == d).height]
    rows = []
    for h in range(24):
        begun = h <= local_now.hour
        now_h = wf.filter((pl.col("day") == today) & (pl.col("h") == h))
        ref_h = wf.filter(pl.col("day").is_in(data_days) & (pl.col("h") == h))
        calls_h = calls.filter((pl.col("day") == today) & (pl.col("h") == h))
        answered = calls_h.filter(pl.col("outcome") == "answered").height
        rows.append({
            "hour": datetime(today.year, today.month, today.day, h, tzinfo=zone).isoformat(),
            "submitted": now_h.filter(pl.col("action") == "submitted").height if begun else None,
            "completed": now_h.filter(pl.col("action") == "completed").height if begun else None,
            "typical_submitted": (ref_h.filter(pl.col("action") == "submitted").height / len(data_days)
                                  if data_days else None),
            "typical_completed": (ref_h.filter(pl.col("action") == "completed").height / len(data_days)
                                  if data_days else None),
            "calls": calls_h.height if begun else None,
            "answered": answered if begun else None,
            "answer_rate": answered / calls_h.height if calls_h.height else None,
            "avg_wait_s": calls_h["wait_s"].mean() if calls_h.height else None,
        })
    return {"hourly": rows, "typical_days": len(data_days)}


def expected_backlog_by_department(wf: pl.DataFrame, now: datetime,
                                   names: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
    by_dept = (open_cases(case_truth(wf), now).group_by("department").len()
               .sort(["len", "department"], descending=[True, False]))
    return [{"department": d, "name": names.get(d, (d, d))[0], "name_en": names.get(d, (d, d))[1],
             "backlog": n} for d, n in by_dept.iter_rows()]


def test_slow_matches_the_week(week: Week) -> None:
    wf = week.events("service.workflow")
    got = service.slow(week.store, week.zone, week.now)
    expected = {
        **expected_hourly(wf, week.events("service.call"), week.now, week.zone),
        "backlog_by_department": expected_backlog_by_department(wf, week.now, week_names(week, "department")),
    }
    assert got == approx(expected)
    assert got["typical_days"] == 1  # the week reaches back to the same weekday once
    assert sum(r["submitted"] or 0 for r in got["hourly"]) == service.live(
        week.store, week.zone, week.now)["today"]["submitted"]
    assert sum(r["typical_submitted"] or 0 for r in got["hourly"]) > 0
    assert sum(r["backlog"] for r in got["backlog_by_department"]) == service.live(
        week.store, week.zone, week.now)["backlog"]
    assert len(got["backlog_by_department"]) > 1


def test_slow_a_week_earlier_has_no_typical_day(week: Week) -> None:
    """Seen from the first day of the week there is nothing 1–4 weeks back: no typical curve,
    and hours after that moment are not begun."""
    then = week.now - timedelta(days=6, hours=4)
    wf = week.events("service.workflow")
    got = service.slow(week.store, week.zone, then)
    expected = expected_hourly(wf, week.events("service.call"), then, week.zone)
    assert got["typical_days"] == 0
    assert got["hourly"] == approx(expected["hourly"])
    assert all(r["typical_submitted"] is None for r in got["hourly"])


def test_cluster_folding_gives_the_same_figures(week: Week, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a cluster a case's state rows may sit on several shards and are folded with GROUP BY
    instead of FINAL: the same figures (checked here on one node, where both apply)."""
    single = (service.live(week.store, week.zone, week.now), service.slow(week.store, week.zone, week.now))
    monkeypatch.setattr(week.store, "cluster", "campus_cluster")
    folded = (service.live(week.store, week.zone, week.now), service.slow(week.store, week.zone, week.now))
    assert list(folded) == approx(list(single))


# --- crafted cases through the real ingest path ------------------------------------------

NOW = week_end(ZONE)  # a fixed time of day (yesterday 10:30:20 local), whatever time the tests run
MIDNIGHT = midnight_of(ZONE, NOW)


def ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def case_event(case: str, action: str, at: datetime, *, service_id: str = "visitor-registration",
               department: str = "security", node: int = 0, eid: str | None = None) -> dict[str, Any]:
    return {"event_id": eid or f"{case}-{action}-{ms(at)}", "ts": ms(at), "case_id": case,
            "service_id": service_id, "department": department, "applicant_type": "student",
            "channel": "web", "action": action, "node": node}


def send(pipeline, stream, events: list[dict[str, Any]], now: datetime = NOW) -> None:
    receipt = pipeline.submit(stream, events, source="t", now=now)
    assert receipt.errors == []
    pipeline.writer.flush_once(force=True)


def test_nothing_stored(migrated: Store) -> None:
    got = service.live(migrated, ZONE, NOW)
    assert got == {
        "today": {"submitted": 0, "completed": 0, "rejected": 0},
        "backlog": 0,
        "handling_minutes": {"avg": None, "p90": None, "cases": 0},
        "top_services": [],
        "print": {"today": {"jobs": 0, "pages": 0, "failed": 0}},
        "calls": {"today": {"calls": 0, "answered": 0, "answer_rate": None, "avg_wait_s": None}},
    }
    slow = service.slow(migrated, ZONE, NOW)
    assert slow["backlog_by_department"] == [] and slow["typical_days"] == 0
    assert len(slow["hourly"]) == 24
    begun = [r for r in slow["hourly"] if r["submitted"] is not None]
    assert len(begun) == NOW.astimezone(ZONE).hour + 1
    assert all(r["submitted"] == 0 and r["calls"] == 0 and r["answer_rate"] is None for r in begun)
    assert all(r["calls"] is None for r in slow["hourly"][len(begun):])


def test_today_is_local_midnight_to_now_by_the_minute(pipeline) -> None:
    store = pipeline.store
    send(pipeline, SERVICE_WORKFLOW, [
        case_event("at-midnight", "submitted", MIDNIGHT),  # counts: today starts here
        case_event("before", "submitted", MIDNIGHT - timedelta(milliseconds=1)),  # yesterday
        case_event("this-minute", "submitted", NOW - timedelta(seconds=5)),
        case_event("at-now", "submitted", NOW),
        # a source clock a little ahead: within the current minute it counts (minute resolution),
        # in the next one not yet
        case_event("ahead", "submitted", NOW.replace(second=59)),
        case_event("next-minute", "submitted", NOW.replace(second=0) + timedelta(minutes=1)),
    ])
    got = service.live(store, ZONE, NOW)
    assert got["today"]["submitted"] == 4
    assert today_actions(store, ZONE, NOW) == got["today"]
    hourly = service.slow(store, ZONE, NOW)["hourly"]
    assert hourly[0]["submitted"] == 1 and hourly[NOW.astimezone(ZONE).hour]["submitted"] == 3
    later = service.live(store, ZONE, NOW + timedelta(minutes=2))
    assert later["today"]["submitted"] == 5


def test_duplicates_count_once(pipeline) -> None:
    events = [case_event("dup", "submitted", NOW - timedelta(hours=1)),
              case_event("dup", "approved", NOW - timedelta(minutes=30), node=1)]
    for _ in range(3):
        send(pipeline, SERVICE_WORKFLOW, events)
    prints = [{"event_id": "p1", "ts": ms(NOW - timedelta(minutes=20)), "terminal_id": "t1",
               "document": "transcript_zh", "pages": 3, "result": "ok"}]
    send(pipeline, SERVICE_PRINT, prints)
    send(pipeline, SERVICE_PRINT, prints)
    got = service.live(pipeline.store, ZONE, NOW)
    assert got["today"]["submitted"] == 1 and got["backlog"] == 1
    assert got["print"]["today"] == {"jobs": 1, "pages": 3, "failed": 0}
    assert got["top_services"] == [{"service_id": "visitor-registration", "name": "visitor-registration",
                                    "name_en": "visitor-registration", "submitted": 1}]


def test_backlog_follows_the_latest_action(pipeline) -> None:
    t = NOW - timedelta(days=2)
    send(pipeline, SERVICE_WORKFLOW, [
        # open: submitted, approved, returned
        case_event("open-submitted", "submitted", t),
        case_event("open-approved", "submitted", t),
        case_event("open-approved", "approved", t + timedelta(hours=1)),
        case_event("open-returned", "submitted", t),
        case_event("open-returned", "returned", t + timedelta(hours=1)),
        # closed
        case_event("done", "submitted", t), case_event("done", "completed", t + timedelta(hours=2)),
        case_event("rejected", "submitted", t), case_event("rejected", "rejected", t + timedelta(hours=2)),
        case_event("withdrawn", "submitted", t), case_event("withdrawn", "withdrawn", t + timedelta(hours=2)),
        # returned, resubmitted, completed: done, whatever the order the events arrive in
        case_event("reopened", "completed", t + timedelta(hours=5)),
        case_event("reopened", "submitted", t), case_event("reopened", "returned", t + timedelta(hours=1)),
        case_event("reopened", "submitted", t + timedelta(hours=3)),
        # an older update arriving last does not win
        case_event("late-old", "submitted", t), case_event("late-old", "completed", t + timedelta(hours=4)),
    ])
    send(pipeline, SERVICE_WORKFLOW, [case_event("late-old", "approved", t + timedelta(hours=1), node=1)])
    # first submitted 91 days ago: out of the backlog window even though open; 89 days: in it
    send(pipeline, SERVICE_WORKFLOW, [
        case_event("old-open", "submitted", NOW - timedelta(days=91)),
        case_event("old-open", "approved", NOW - timedelta(days=1)),
        case_event("recent-open", "submitted", NOW - timedelta(days=89), department="academic"),
        # no submission stored (older than what the store holds): not counted
        case_event("orphan", "approved", NOW - timedelta(days=1)),
    ])
    got = service.live(pipeline.store, ZONE, NOW)
    assert got["backlog"] == 4  # open-submitted, open-approved, open-returned, recent-open
    by_dept = service.slow(pipeline.store, ZONE, NOW)["backlog_by_department"]
    assert by_dept == [{"department": "security", "name": "security", "name_en": "security", "backlog": 3},
                       {"department": "academic", "name": "academic", "name_en": "academic", "backlog": 1}]


@pytest.mark.parametrize(("first", "cluster"), [("earlier", ""), ("later", ""), ("later", "campus_cluster")])
def test_equal_ts_tie_break_is_deterministic(pipeline, first: str, cluster: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """At the same ts the action further along wins, in whichever order the events arrive
    (and whether the rows are folded by FINAL on one node or GROUP BY on a cluster)."""
    monkeypatch.setattr(pipeline.store, "cluster", cluster)
    t = NOW - timedelta(hours=3)
    pairs = {
        "approved-completed": ("approved", "completed"),  # completed wins: closed
        "returned-rejected": ("returned", "rejected"),  # rejected wins: closed
        "submitted-returned": ("submitted", "returned"),  # returned wins: still open
        "returned-approved": ("returned", "approved"),  # approved wins: still open
    }
    for case, (a, b) in pairs.items():
        send(pipeline, SERVICE_WORKFLOW,
             [case_event(case, "submitted", t - timedelta(hours=1), eid=f"{case}-0")])
        ev = [case_event(case, a, t, eid=f"{case}-a"), case_event(case, b, t, eid=f"{case}-b")]
        for e in (ev if first == "earlier" else ev[::-1]):
            send(pipeline, SERVICE_WORKFLOW, [e])
    got = service.live(pipeline.store, ZONE, NOW)
    assert got["backlog"] == 2
    assert got["handling_minutes"]["cases"] == 1 and got["handling_minutes"]["avg"] == 60.0


def test_handling_minutes_from_first_submission_with_linear_p90(pipeline) -> None:
    # five cases completed today after 10, 20, 30, 40 and 100 minutes
    events = []
    for k, minutes in enumerate((10, 20, 30, 40, 100)):
        done = MIDNIGHT + timedelta(hours=2 + k)
        events += [case_event(f"h{k}", "submitted", done - timedelta(minutes=minutes)),
                   case_event(f"h{k}", "completed", done)]
    # returned and resubmitted: measured from the first submission (3 h), counted once
    done = MIDNIGHT + timedelta(hours=8)
    events += [case_event("again", "submitted", done - timedelta(hours=3)),
               case_event("again", "returned", done - timedelta(hours=2)),
               case_event("again", "submitted", done - timedelta(hours=1)),
               case_event("again", "completed", done)]
    # completed yesterday, or with no stored submission: not in today's figure
    events += [case_event("yesterday", "submitted", MIDNIGHT - timedelta(hours=5)),
               case_event("yesterday", "completed", MIDNIGHT - timedelta(minutes=1)),
               case_event("no-submit", "completed", MIDNIGHT + timedelta(hours=1))]
    send(pipeline, SERVICE_WORKFLOW, events)
    got = service.live(pipeline.store, ZONE, NOW)["handling_minutes"]
    values = [10, 20, 30, 40, 100, 180]
    # linear interpolation between closest ranks: position 0.9 × (6 − 1) = 4.5 → 100 + 0.5 × 80
    assert got == {"avg": pytest.approx(sum(values) / 6), "p90": pytest.approx(140.0), "cases": 6}
    assert pl.Series(values).quantile(0.9, interpolation="linear") == pytest.approx(140.0)
    assert service.live(pipeline.store, ZONE, NOW)["today"]["completed"] == 7


def test_print_and_calls_today(pipeline) -> None:
    t = MIDNIGHT + timedelta(hours=1)
    send(pipeline, SERVICE_PRINT, [
        {"event_id": f"p{k}", "ts": ms(t + timedelta(minutes=k)), "terminal_id": "t1",
         "document": "transcript_en", "pages": pages, "result": result}
        for k, (pages, result) in enumerate(((2, "ok"), (5, "failed"), (1, "ok")))
    ] + [{"event_id": "p-old", "ts": ms(MIDNIGHT - timedelta(minutes=1)), "terminal_id": "t1",
          "document": "other", "pages": 9, "result": "failed"}])
    send(pipeline, SERVICE_CALL, [
        {"event_id": f"c{k}", "ts": ms(t + timedelta(minutes=k)), "queue": "network", "wait_s": wait,
         "talk_s": 60, "outcome": outcome}
        for k, (wait, outcome) in enumerate(((10, "answered"), (90, "abandoned"), (20, "answered"),
                                             (0, "callback")))
    ])
    got = service.live(pipeline.store, ZONE, NOW)
    assert got["print"] == {"today": {"jobs": 3, "pages": 8, "failed": 1}}
    assert got["calls"] == {"today": {"calls": 4, "answered": 2, "answer_rate": 0.5, "avg_wait_s": 30.0}}
    hour = service.slow(pipeline.store, ZONE, NOW)["hourly"][1]
    assert (hour["calls"], hour["answered"], hour["answer_rate"], hour["avg_wait_s"]) == (4, 2, 0.5, 30.0)


def test_top_services_rank_and_ties(pipeline) -> None:
    events = []
    for k in range(22):  # service s00 … s21, k + 1 submissions each, and two ties at the top
        n = min(k + 1, 20)
        events += [case_event(f"c{k}-{i}", "submitted", NOW - timedelta(minutes=5 + i),
                              service_id=f"s{k:02d}") for i in range(n)]
    send(pipeline, SERVICE_WORKFLOW, events)
    top = service.live(pipeline.store, ZONE, NOW)["top_services"]
    assert [(r["service_id"], r["submitted"]) for r in top[:4]] == [("s19", 20), ("s20", 20), ("s21", 20),
                                                                     ("s18", 19)]
    assert len(top) == 20
    assert top[-1] == {"service_id": "s02", "name": "s02", "name_en": "s02", "submitted": 3}


# --- the state table ----------------------------------------------------------------------


def test_metrics_decode_the_stored_ranks() -> None:
    assert service.CASE_ACTION_RANK == m0008_state.CASE_ACTION_RANK == TIE_ORDER


def test_state_backfill_is_idempotent(store: Store) -> None:
    """Events stored before the state migration are folded by its backfill, and running the
    backfill again (an interrupted migration) changes nothing."""
    before = tuple(m for m in MIGRATIONS if m.VERSION < m0008_state.VERSION)
    migrate(store, before)
    sim = Simulator(World(load_site(DEFAULT_SITE), ZONE, seed=5, scale=0.3))
    start = MIDNIGHT - timedelta(days=3)
    events = sim.sent_between(ms(start), ms(NOW))["service.workflow"]
    r = validate(SERVICE_WORKFLOW, events, source="sim", now=NOW)
    assert r.errors == []
    store.insert("service_workflow", r.frame)
    migrate(store)
    first = service.live(store, ZONE, NOW)
    backfill = [s for s in m0008_state.statements(dialect_for(store))
                if s.startswith("INSERT INTO") and "service_case_state" in s]
    assert len(backfill) == 1
    store.command(backfill[0])
    assert service.live(store, ZONE, NOW) == first
    wf = pl.DataFrame(events).with_columns(
        pl.from_epoch("ts", time_unit="ms").dt.replace_time_zone("UTC"))
    assert first["backlog"] == open_cases(case_truth(wf), NOW).height > 0


# --- the first, rollup-only check, kept --------------------------------------------------


def test_today_actions_match_the_events_of_today(migrated: Store) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    sim = Simulator(World(load_site(DEFAULT_SITE), ZONE))
    start = local_midnight(ZONE, now) - timedelta(days=1)  # yesterday's cases complete today too
    events = sim.sent_between(int(start.timestamp() * 1000), int(now.timestamp() * 1000))["service.workflow"]
    r = validate(SERVICE_WORKFLOW, events, source="sim", now=now)
    assert r.errors == []
    migrated.insert("service_workflow", r.frame)
    today = pl.DataFrame(events).filter(
        pl.col("ts") >= int(local_midnight(ZONE, now).timestamp() * 1000))
    expected = {a: today.filter(pl.col("action") == a).height for a in ("submitted", "completed", "rejected")}
    assert today_actions(migrated, ZONE, now) == expected
