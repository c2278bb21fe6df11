"""Data freshness per stream: the newest event stored, when it arrived, and whether the
stream has gone quiet for longer than it normally does.

Read from ``ioc_freshness`` (a few rows kept by materialized views), never by scanning the
raw tables, so the cost is the same with a week or ten years of history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ioc_app.storage import SqlStore
from metrics.registry import DOMAINS, Live

#: How long each event stream may stay silent before it is stale, as its domain declares it
#: (``metrics/<name>.py``, ``MetricsDomain.stale_after_s``): samples arrive every 10–60 s;
#: gates and the service hall are quiet at night, so they get longer windows; streams that
#: come in seasons are never stale.
STALE_AFTER_S: Live[str, int | None] = DOMAINS.live(
    lambda ds: {name: limit for d in ds for name, limit in d.stale_after_s.items()})
EVENT_STREAMS = STALE_AFTER_S  # the event streams, in the domains' order


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
