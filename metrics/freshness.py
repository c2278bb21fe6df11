"""Data freshness per stream: the newest event stored, when it arrived, and whether the
stream has gone quiet for longer than it normally does.

Read from ``ioc_freshness`` (a few rows kept by materialized views), never by scanning the
raw tables, so the cost is the same with a week or ten years of history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ioc_app.storage import SqlStore

#: How long each stream may stay silent before it is stale. Samples arrive every 10–60 s;
#: gates and the service hall are quiet at night, so they get longer windows; admission and
#: check-in events come in seasons, so silence is normal and never stale.
STALE_AFTER_S: dict[str, int | None] = {
    "gate.pass": 15 * 60,
    "network.link": 5 * 60,
    "network.online": 10 * 60,
    "network.security": 24 * 3600,
    "service.workflow": 6 * 3600,
    "service.print": 24 * 3600,
    "service.call": 24 * 3600,
    "enrollment.admission": None,
    "enrollment.checkin": None,
}
EVENT_STREAMS = tuple(STALE_AFTER_S)  # a test keeps this in step with the stream registry


def freshness(store: SqlStore, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """``{stream: {last_event_ts, lag_s, stale, stale_after_s}}`` for every event stream.

    ``last_event_ts`` is the newest ``ts`` stored (RFC 3339, UTC) or None; ``lag_s`` the
    seconds from that event's arrival to ``now``; ``stale`` is true when the stream has a
    normal interval and its newest event is older than it (or it has none at all).
    """
    now = now or datetime.now(UTC)
    rows = store.rows(
        "SELECT stream, max(last_ts), argMaxMerge(arrival) FROM ioc_freshness GROUP BY stream"
    )
    seen = {stream: (last, arrived) for stream, last, arrived in rows}
    out: dict[str, dict[str, Any]] = {}
    for name in EVENT_STREAMS:
        limit = STALE_AFTER_S[name]
        last, arrived = seen.get(name, (None, None))
        last = last.replace(tzinfo=UTC) if last is not None else None
        arrived = arrived.replace(tzinfo=UTC) if arrived is not None else None
        out[name] = {
            "last_event_ts": last.isoformat(timespec="milliseconds") if last else None,
            "lag_s": round(max((now - arrived).total_seconds(), 0.0), 3) if arrived else None,
            "stale": limit is not None and (last is None or (now - last).total_seconds() > limit),
            "stale_after_s": limit,
        }
    return out
