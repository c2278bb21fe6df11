"""Enrollment KPIs: latest status per candidate, the latest plan import, edge cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from ingest.enrollment import ENROLLMENT_ADMISSION, ENROLLMENT_PLAN
from ingest.validate import validate
from ioc_app.storage import Store
from metrics.enrollment import year_totals

NOW = datetime.now(UTC).replace(microsecond=0)
BASE = {"year": 2026, "province": "42", "batch": "regular", "category": "general",
        "track": "physics", "college": "cs", "major": "080901", "score": 612.5}


def admission(key: str, status: str, minutes_ago: int) -> dict:
    ts = int((NOW - timedelta(minutes=minutes_ago)).timestamp() * 1000)
    return {**BASE, "event_id": f"{key}-{status}-{minutes_ago}", "ts": ts, "candidate_key": key,
            "status": status}


def test_latest_status_wins_and_plan_upserts(migrated: Store) -> None:
    events = [
        admission("a", "filed", 50), admission("a", "admitted", 40),  # admitted
        admission("b", "filed", 50), admission("b", "admitted", 40), admission("b", "returned", 30),
        admission("c", "admitted", 10), admission("c", "filed", 60),  # out of order: still admitted
        admission("d", "filed", 5),
    ]
    r = validate(ENROLLMENT_ADMISSION, events, source="t")
    assert r.errors == []
    migrated.insert("enrollment_admission", r.frame)
    plan_row = {k: BASE[k] for k in ("year", "province", "batch", "category", "track", "major")}
    for planned in (3, 4):  # the office re-imports: the latest import of a key wins
        p = validate(ENROLLMENT_PLAN, [{**plan_row, "planned": planned}], source="t")
        migrated.insert("enrollment_plan", p.frame)
    latest = (pl.DataFrame(events).sort("ts").group_by("candidate_key").last())
    admitted = latest.filter(pl.col("status") == "admitted").height
    assert year_totals(migrated, 2026) == {"year": 2026, "plan": 4, "admitted": admitted,
                                           "completion": admitted / 4}
    assert admitted == 2


def test_a_year_without_plan_has_no_completion(migrated: Store) -> None:
    assert year_totals(migrated, 2031) == {"year": 2031, "plan": 0, "admitted": 0, "completion": None}
