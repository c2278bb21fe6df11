"""Gate KPIs against an independent computation in plain Polars over the same events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from ingest.gate import GATE_PASS
from ingest.validate import validate
from ioc_app.storage import Store
from metrics.gate import local_midnight, today_totals
from tests.ingest.strategies import random_events

ZONE = ZoneInfo("Asia/Shanghai")


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
