"""Service-hall KPIs against an independent count over the simulator's events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from ingest.service import SERVICE_WORKFLOW
from ingest.sim import Simulator, World
from ingest.site import load_site
from ingest.validate import validate
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store
from metrics.gate import local_midnight
from metrics.service import today_actions

ZONE = ZoneInfo("Asia/Shanghai")


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
