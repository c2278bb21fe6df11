"""Service-hall KPIs (网上办事大厅): today's submissions, completions and rejections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ioc_app.storage import Store
from metrics.gate import local_midnight

ACTIONS = ("submitted", "completed", "rejected")


def today_actions(store: Store, zone: ZoneInfo, now: datetime | None = None) -> dict[str, int]:
    """Counts of case events today by action, from the per-minute rollup."""
    now = now or datetime.now(UTC)
    start = local_midnight(zone, now)
    rows = store.rows(
        """
        SELECT toString(action) AS a, sum(events)
        FROM service_workflow_1m
        WHERE minute >= {start:DateTime('UTC')} AND minute < {end:DateTime('UTC')}
        GROUP BY a
        """,
        {"start": start, "end": min(now + timedelta(minutes=1), start + timedelta(days=1))},
    )
    got = dict(rows)
    return {a: int(got.get(a, 0)) for a in ACTIONS}
