"""Gate KPIs against an independent computation in plain Polars over the same events.

The expected figures are written from the definitions in metrics.md and the docstrings of
``metrics.gate`` (local dates and times of day, event by event), never from its SQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from ingest.gate import GATE_PASS
from ingest.validate import validate
from ioc_app.storage import Store
from metrics import gate
from metrics.gate import local_midnight, today_totals
from tests.ingest.strategies import random_events
from tests.metrics.conftest import Week, week_end

ZONE = ZoneInfo("Asia/Shanghai")
#: whole-hour, half-hour and quarter-hour offsets, none with a clock change
ZONES = ("Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu")
PERSON_TYPES = GATE_PASS.field("person_type").values
FEVER_C = 37.3  # docs/events.md: temperature_c >= 37.3 counts as fever
BASE = {"campus": "main", "gate_id": "g1", "lane": 1, "direction": "in", "person_type": "student",
        "method": "face", "result": "pass"}


def expected(events: list[dict], zone: ZoneInfo, now: datetime) -> dict:
    df = pl.DataFrame(events, infer_schema_length=None).with_columns(
        pl.from_epoch("ts", time_unit="ms").dt.replace_time_zone("UTC").dt.convert_time_zone(zone.key)
        .alias("local")
    )
    local_now = now.astimezone(zone)
    today = df.filter(pl.col("local").dt.date() == local_now.date(), pl.col("ts") <= now.timestamp() * 1000)
    passed = today.filter(pl.col("result") == "pass")
    n_in = passed.filter(pl.col("direction") == "in").height
    n_out = passed.filter(pl.col("direction") == "out").height
    denied = today.filter(pl.col("result") == "deny").height
    fever = today.filter(pl.col("temperature_c") >= 37.3).height if "temperature_c" in today.columns else 0
    return {"in": n_in, "out": n_out, "denied": denied, "attempts": today.height, "fever": fever,
            "net_inflow": n_in - n_out, "deny_rate": denied / today.height if today.height else None}


@pytest.mark.parametrize("zone_name", ["Asia/Shanghai", "UTC", "America/New_York"])
def test_today_totals_match_independent_computation(migrated: Store, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    now = datetime.now(UTC).replace(second=30, microsecond=0)
    midnight = local_midnight(zone, now)
    events = random_events(GATE_PASS, 3000, 11, now)  # spread over the last 6 hours
    edge = dict(events[0])
    ms = int(midnight.timestamp() * 1000)
    events += [  # exactly at local midnight counts today; one millisecond before does not
        {**edge, "event_id": "at-midnight", "ts": ms, "result": "pass", "direction": "in"},
        {**edge, "event_id": "before-midnight", "ts": ms - 1, "result": "pass", "direction": "in"},
        {**edge, "event_id": "deny-at-midnight", "ts": ms, "result": "deny", "deny_reason": "expired"},
    ]
    for ev in events[-3:-1]:
        ev.pop("deny_reason", None)
    result = validate(GATE_PASS, events, source="t", now=now + timedelta(minutes=1))
    assert result.errors == []
    migrated.insert("gate_pass", result.frame)
    got = today_totals(migrated, zone, now).row(0, named=True)
    assert got == expected(events, zone, now)
    assert got["in"] > 0 and got["denied"] > 0


def test_empty_day_has_zero_counts_and_null_rate(migrated: Store) -> None:
    got = today_totals(migrated, ZONE).row(0, named=True)
    assert got == {"in": 0, "out": 0, "denied": 0, "attempts": 0, "fever": 0, "net_inflow": 0,
                   "deny_rate": None}


def test_local_midnight() -> None:
    now = datetime(2026, 9, 1, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    assert local_midnight(ZONE, now) == datetime(2026, 8, 31, 16, 0, tzinfo=UTC)
    exactly = datetime(2026, 9, 1, 16, 0, tzinfo=UTC)
    assert local_midnight(ZONE, exactly) == exactly


def test_fever_threshold_is_the_contracts() -> None:
    """The threshold is written once, in metrics/gate.py: the documented one, and the one both
    general rollups count fever from (the narrow per-gate rollup folds the hour rollup's counts)."""
    assert gate.FEVER_C == FEVER_C
    assert [r.grain for r in gate.ROLLUPS if gate.FEVER in r.measures and not r.folds] == ["1m", "1h"]
    assert [r.name for r in gate.ROLLUPS if gate.FEVER in r.measures and r.folds] == ["gates"]
    assert gate.FEVER.expr == f"countIf(temperature_c >= {FEVER_C})"
    assert gate.PERSON_TYPES == PERSON_TYPES


# ---------------------------------------------------------------------------------------------
# The independent computation: events (one row per event id, ``ts`` aware UTC) → the section


def counts(frame: pl.DataFrame) -> dict[str, int]:
    passed = frame.filter(pl.col("result") == "pass")
    return {"in": passed.filter(pl.col("direction") == "in").height,
            "out": passed.filter(pl.col("direction") == "out").height,
            "denied": frame.filter(pl.col("result") == "deny").height,
            "attempts": frame.height}


def with_local(events: pl.DataFrame, zone: ZoneInfo) -> pl.DataFrame:
    return events.with_columns(
        pl.col("ts").dt.convert_time_zone(zone.key).alias("local"),
    ).with_columns(
        pl.col("local").dt.date().alias("day"),
        # minutes since local midnight, read off the local wall clock
        (pl.col("local").dt.hour().cast(pl.Int32) * 60 + pl.col("local").dt.minute()).alias("tod"),
    )


def wall(day: date, minutes: int, zone: ZoneInfo) -> str:
    """Local RFC 3339 of ``minutes`` after midnight on ``day`` (zones without clock changes)."""
    return (datetime.combine(day, time()) + timedelta(minutes=minutes)).replace(tzinfo=zone).isoformat()


def expected_gate(events: pl.DataFrame, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    ev = with_local(events, zone)
    local_now = now.astimezone(zone)
    today_date = local_now.date()
    # "so far" = up to the end of the current minute, as a local time of day in minutes
    cutoff = local_now.hour * 60 + local_now.minute + 1
    today = ev.filter(pl.col("day") == today_date, pl.col("tod") < cutoff)
    total = counts(today)

    by_gate = [{"gate_id": g, **{k: counts(part)[k] for k in ("in", "out", "denied")}}
               for (g,), part in sorted(today.partition_by("gate_id", as_dict=True).items())]
    types = {p: part for (p,), part in today.partition_by("person_type", as_dict=True).items()}
    by_type = [{"person_type": p, "in": counts(types[p])["in"], "out": counts(types[p])["out"]}
               for p in PERSON_TYPES if p in types]
    reasons = [{"deny_reason": r, "count": part.height} for (r,), part in
               today.filter(pl.col("result") == "deny").partition_by("deny_reason", as_dict=True).items()]
    reasons.sort(key=lambda r: (-r["count"], r["deny_reason"]))

    current = now.replace(second=0, microsecond=0)
    last_60m = []
    for k in range(60, -1, -1):
        start = current - timedelta(minutes=k)
        c = counts(ev.filter(pl.col("ts") >= start, pl.col("ts") < start + timedelta(minutes=1)))
        last_60m.append({"minute": start.astimezone(zone).isoformat(), "in": c["in"], "out": c["out"]})

    fever = today.filter(pl.col("temperature_c") >= FEVER_C).height
    live = {
        "today": {**total, "deny_rate": total["denied"] / total["attempts"] if total["attempts"] else None,
                  "net_inflow": total["in"] - total["out"], "fever": fever,
                  "by_gate": by_gate, "by_person_type": by_type, "deny_reasons": reasons},
        "last_60m": last_60m,
    }

    by_hour = []
    for g in sorted(today["gate_id"].unique().to_list()):
        for h in range(local_now.hour + 1):
            c = counts(today.filter(pl.col("gate_id") == g, pl.col("tod") // 60 == h))
            by_hour.append({"gate_id": g, "hour": wall(today_date, h * 60, zone),
                            **{k: c[k] for k in ("in", "out", "denied")}})

    def curve(day: date, slots: int, until: int = 24 * 60) -> list[dict[str, Any]]:
        rows = []
        for s in range(slots):
            c = counts(ev.filter(pl.col("day") == day, pl.col("tod") // 10 == s, pl.col("tod") < until))
            rows.append({"slot": wall(day, s * 10, zone), "in": c["in"], "out": c["out"]})
        return rows

    compare = {}
    for name, back in (("today", 0), ("yesterday", 1), ("last_week", 7), ("last_year", 364)):
        day = today_date - timedelta(days=back)
        c = counts(ev.filter(pl.col("day") == day, pl.col("tod") < cutoff))
        compare[name] = {"start": wall(day, 0, zone), "end": wall(day, cutoff, zone), **c}

    daily = []
    for back in range(29, -1, -1):
        day = today_date - timedelta(days=back)
        c = counts(ev.filter(pl.col("day") == day, pl.col("tod") < (cutoff if back == 0 else 24 * 60)))
        daily.append({"date": day.isoformat(), **{k: c[k] for k in ("in", "out", "denied")}})

    slow = {"by_hour_today": by_hour,
            "today_curve": curve(today_date, (cutoff - 1) // 10 + 1, cutoff),
            "yesterday_curve": curve(today_date - timedelta(days=1), 144),
            "compare": compare, "daily_30d": daily}
    return {"live": live, "slow": slow}


def section(store: Store, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    return {"live": gate.live(store, zone, now), "slow": gate.slow(store, zone, now)}


def assert_same(got: Any, want: Any, path: str = "gate") -> None:
    """Equal at every path, floats to 1e-12, naming the first path that differs."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), (path, sorted(got), sorted(want))
        for k in want:
            assert_same(got[k], want[k], f"{path}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), (path, len(got), len(want))
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{path}[{i}]")
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-12), path
    else:
        assert got == want and type(got) is type(want), (path, got, want)


# ---------------------------------------------------------------------------------------------
# The simulated week


@pytest.mark.parametrize("zone_name", ZONES)
def test_week_gate_section_matches_independent_computation(week: Week, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    events = week.events("gate.pass")
    assert events.filter(pl.col("ts") >= week.now).height == 0  # "so far" is exactly [.., now)
    got = section(week.store, zone, week.now)
    assert_same(got, expected_gate(events, zone, week.now))
    today = got["live"]["today"]
    assert today["in"] > 1000 and today["denied"] > 0 and today["fever"] > 0
    assert len(today["by_gate"]) >= 10 and len(today["deny_reasons"]) >= 3
    assert sum(r["in"] for r in got["live"]["last_60m"]) > 0
    assert got["slow"]["compare"]["yesterday"]["in"] > 1000
    assert got["slow"]["compare"]["last_week"]["attempts"] > 0  # the week starts at 10:30:20
    assert sum(r["in"] for r in got["slow"]["daily_30d"]) > 10_000


def test_week_breakdowns_add_up(week: Week) -> None:
    got = gate.live(week.store, ZONE, week.now)["today"]
    for key in ("in", "out", "denied"):
        assert sum(r[key] for r in got["by_gate"]) == got[key]
    for key in ("in", "out"):
        assert sum(r[key] for r in got["by_person_type"]) == got[key]
    assert sum(r["count"] for r in got["deny_reasons"]) == got["denied"]
    slow = gate.slow(week.store, ZONE, week.now)
    assert sum(r["in"] for r in slow["by_hour_today"]) == got["in"]
    assert sum(r["out"] for r in slow["today_curve"]) == got["out"]
    assert slow["daily_30d"][-1] == {"date": week.now.astimezone(ZONE).date().isoformat(),
                                     **{k: got[k] for k in ("in", "out", "denied")}}


# ---------------------------------------------------------------------------------------------
# Crafted cases


def ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def insert(store: Store, events: list[dict], now: datetime) -> None:
    r = validate(GATE_PASS, events, source="t", now=now + timedelta(minutes=4))
    assert r.errors == []
    store.insert("gate_pass", r.frame)


def frame(events: list[dict]) -> pl.DataFrame:
    """Events as ``Week.events`` gives them, for the independent computation."""
    optional = {"deny_reason": pl.String, "temperature_c": pl.Float64}
    df = pl.DataFrame(events, infer_schema_length=None)
    return df.with_columns(
        pl.from_epoch("ts", time_unit="ms").dt.replace_time_zone("UTC").alias("ts"),
        *(pl.lit(None, t).alias(c) for c, t in optional.items() if c not in df.columns),
    )


def day_at(zone: ZoneInfo, days_back: int, *hms: int) -> datetime:
    """A local wall time ``days_back`` days before today, as aware UTC (fixed time of day)."""
    d = datetime.now(zone).date() - timedelta(days=days_back)
    return datetime(d.year, d.month, d.day, *hms, tzinfo=zone).astimezone(UTC)


def test_duplicates_count_once_and_a_late_backlog_lands_when_it_happened(pipeline) -> None:
    now = week_end(ZONE)
    fresh = [{**BASE, "event_id": f"now-{i}", "ts": ms(now - timedelta(minutes=5)) + i} for i in range(3)]
    backlog = [{**BASE, "event_id": f"late-{i}", "direction": "out", "person_type": "visitor",
                "ts": ms(now - timedelta(hours=3, minutes=7)) + i} for i in range(4)]
    r = pipeline.submit(GATE_PASS, [*fresh, fresh[0]], source="t", now=now)  # a repeat in the batch
    assert (r.accepted, r.duplicates) == (3, 1)
    pipeline.writer.flush_once(force=True)
    r = pipeline.submit(GATE_PASS, [fresh[1], *backlog], source="t", now=now)  # a retry + the backlog
    assert (r.accepted, r.duplicates) == (4, 1)
    pipeline.writer.flush_once(force=True)

    got = section(pipeline.store, ZONE, now)
    assert_same(got, expected_gate(frame(fresh + backlog), ZONE, now))
    today = got["live"]["today"]
    assert (today["in"], today["out"]) == (3, 4)
    assert today["by_person_type"] == [{"person_type": "student", "in": 3, "out": 0},
                                       {"person_type": "visitor", "in": 0, "out": 4}]
    assert [r["in"] for r in got["live"]["last_60m"] if r["in"]] == [3]  # the backlog is not "recent"
    late_hour = (now - timedelta(hours=3, minutes=7)).astimezone(ZONE).replace(minute=0, second=0).isoformat()
    assert [r["hour"] for r in got["slow"]["by_hour_today"] if r["out"]] == [late_hour]


@pytest.mark.parametrize("zone_name", ZONES)
def test_local_midnight_edges(migrated: Store, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    now = day_at(zone, 1, 10, 30, 20)
    midnight = day_at(zone, 1, 0, 0)
    events = [
        {**BASE, "event_id": "at-midnight", "ts": ms(midnight), "person_type": "visitor"},
        {**BASE, "event_id": "before-midnight", "ts": ms(midnight) - 1, "person_type": "contractor",
         "gate_id": "g0"},
        {**BASE, "event_id": "deny-at-midnight", "ts": ms(midnight), "result": "deny",
         "deny_reason": "blacklist", "temperature_c": 38.1},
        {**BASE, "event_id": "deny-before", "ts": ms(midnight) - 1, "result": "deny",
         "deny_reason": "expired", "temperature_c": 38.5},
        {**BASE, "event_id": "whole-hour", "ts": ms(midnight + timedelta(hours=3, minutes=1))},
        {**BASE, "event_id": "this-minute", "ts": ms(now) - 19_000, "direction": "out"},
        {**BASE, "event_id": "next-minute", "ts": ms(now) + 40_000},  # after the current minute
    ]
    insert(migrated, events, now)
    got = section(migrated, zone, now)
    assert_same(got, expected_gate(frame(events), zone, now))
    today = got["live"]["today"]
    assert (today["in"], today["out"], today["denied"], today["fever"]) == (2, 1, 1, 1)
    assert [r["person_type"] for r in today["by_person_type"]] == ["student", "visitor"]
    assert today["deny_reasons"] == [{"deny_reason": "blacklist", "count": 1}]
    assert [r["gate_id"] for r in today["by_gate"]] == ["g1"]
    slow = got["slow"]
    assert slow["compare"]["yesterday"]["attempts"] == 0  # 23:59:59.999 is after 10:31
    assert (slow["daily_30d"][-2]["in"], slow["daily_30d"][-2]["denied"]) == (1, 1)
    assert slow["daily_30d"][-1]["in"] == 2
    last_slot = (midnight - timedelta(minutes=10)).astimezone(zone).isoformat()
    assert slow["yesterday_curve"][-1] == {"slot": last_slot, "in": 1, "out": 0}
    assert slow["by_hour_today"][0] == {"gate_id": "g1", "hour": midnight.astimezone(zone).isoformat(),
                                        "in": 1, "out": 0, "denied": 1}


@pytest.mark.parametrize("zone_name", ["Asia/Shanghai", "Asia/Kolkata"])
def test_last_year_compares_the_same_weekday_up_to_the_same_time(migrated: Store, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    now = day_at(zone, 1, 10, 30, 20)
    then = day_at(zone, 365, 0, 0)  # 364 days before yesterday
    events = [
        {**BASE, "event_id": "early", "ts": ms(then) + 5},
        {**BASE, "event_id": "morning", "ts": ms(then + timedelta(hours=9, minutes=15))},
        {**BASE, "event_id": "last-minute", "ts": ms(then + timedelta(hours=10, minutes=30, seconds=59))},
        {**BASE, "event_id": "too-late", "ts": ms(then + timedelta(hours=10, minutes=31))},
        {**BASE, "event_id": "evening", "ts": ms(then + timedelta(hours=20)), "direction": "out"},
        {**BASE, "event_id": "eve-before", "ts": ms(then) - 1},
    ]
    insert(migrated, events, now)
    got = gate.slow(migrated, zone, now)["compare"]
    assert got["last_year"] == {"start": then.astimezone(zone).isoformat(),
                                "end": (then + timedelta(hours=10, minutes=31)).astimezone(zone).isoformat(),
                                "in": 3, "out": 0, "denied": 0, "attempts": 3}
    assert_same(got, expected_gate(frame(events), zone, now)["slow"]["compare"])


def test_empty_minutes_are_zero_rows(migrated: Store) -> None:
    now = week_end(ZONE)
    events = [{**BASE, "event_id": "a", "ts": ms(now - timedelta(minutes=10))},
              {**BASE, "event_id": "b", "ts": ms(now - timedelta(minutes=50)), "direction": "out"}]
    insert(migrated, events, now)
    rows = gate.live(migrated, ZONE, now)["last_60m"]
    assert len(rows) == 61 and rows[-1]["minute"] == now.astimezone(ZONE).replace(second=0).isoformat()
    busy = [(i, r["in"], r["out"]) for i, r in enumerate(rows) if r["in"] or r["out"]]
    assert busy == [(10, 0, 1), (50, 1, 0)]


def test_no_data_at_all(migrated: Store) -> None:
    now = week_end(ZONE)
    live = gate.live(migrated, ZONE, now)
    assert live["today"] == {"in": 0, "out": 0, "denied": 0, "attempts": 0, "deny_rate": None,
                             "net_inflow": 0, "fever": 0, "by_gate": [], "by_person_type": [],
                             "deny_reasons": []}
    assert len(live["last_60m"]) == 61 and all(r["in"] == r["out"] == 0 for r in live["last_60m"])
    slow = gate.slow(migrated, ZONE, now)
    assert slow["by_hour_today"] == []
    assert len(slow["today_curve"]) == 64 and len(slow["yesterday_curve"]) == 144  # 10:30 → 64 slots
    assert all(r["in"] == r["out"] == 0 for r in slow["today_curve"] + slow["yesterday_curve"])
    assert all(c["attempts"] == 0 for c in slow["compare"].values())
    assert len(slow["daily_30d"]) == 30 and all(r["in"] == r["out"] == r["denied"] == 0
                                                for r in slow["daily_30d"])
    assert_same({"live": live, "slow": slow}, expected_gate(frame([{**BASE, "event_id": "x", "ts": 0}])
                                                             .clear(), ZONE, now))
