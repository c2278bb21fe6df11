"""Network KPIs (网络): egress links now, users online now.

"Now" figures need each link's (or campus × access's) latest sample, which a sum rollup
cannot answer: they read the raw samples of the last minutes with ``argMax`` — a small,
bounded scan (samples arrive every 10–60 s).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from ioc_app.storage import Store

LINK_STALE = timedelta(minutes=5)
ONLINE_WINDOW = timedelta(minutes=10)


def links_now(store: Store, now: datetime | None = None) -> pl.DataFrame:
    """One row per link of the catalogue or with a recent sample: ``link_id, in_bps, out_bps,
    capacity_bps, utilization, stale`` (utilization = max(in, out) / capacity, null without a
    capacity; stale when the latest sample is older than 5 minutes or missing)."""
    now = now or datetime.now(UTC)
    frame = store.query(
        """
        WITH latest AS (
            SELECT link_id, max(ts) AS last_ts,
                   argMax(in_bps, ts) AS in_bps, argMax(out_bps, ts) AS out_bps,
                   argMax(capacity_bps, ts) AS sent_capacity
            FROM network_link
            WHERE ts >= {since:DateTime64(3, 'UTC')} AND ts <= {now:DateTime64(3, 'UTC')}
            GROUP BY link_id
        ),
        catalogue AS (
            SELECT code AS link_id, toUInt64(value) AS ref_capacity
            FROM ioc_reference FINAL WHERE kind = 'link'
        )
        SELECT link_id, last_ts, in_bps, out_bps,
               coalesce(sent_capacity, nullIf(ref_capacity, 0)) AS capacity_bps
        FROM latest FULL OUTER JOIN catalogue USING (link_id)
        ORDER BY link_id
        SETTINGS join_use_nulls = 1
        """,
        {"since": now - timedelta(hours=1), "now": now},
    )
    stale_before = now - LINK_STALE
    return frame.with_columns(
        pl.when(pl.col("capacity_bps") > 0)
        .then(pl.max_horizontal("in_bps", "out_bps") / pl.col("capacity_bps"))
        .alias("utilization"),
        (pl.col("last_ts").is_null() | (pl.col("last_ts") < stale_before)).alias("stale"),
    ).select("link_id", "in_bps", "out_bps", "capacity_bps", "utilization", "stale")


def online_now(store: Store, now: datetime | None = None) -> dict[str, float | int | None]:
    """``users``: the sum over (campus, access) of each latest sample within 10 minutes;
    ``ipv6_share``: ipv6_users / users over the same samples (null when nobody is online)."""
    now = now or datetime.now(UTC)
    frame = store.query(
        """
        SELECT campus, toString(access) AS access,
               argMax(users, ts) AS users, argMax(ipv6_users, ts) AS ipv6_users
        FROM network_online
        WHERE ts >= {since:DateTime64(3, 'UTC')} AND ts <= {now:DateTime64(3, 'UTC')}
        GROUP BY campus, access
        """,
        {"since": now - ONLINE_WINDOW, "now": now},
    )
    users = int(frame["users"].sum()) if frame.height else 0
    ipv6 = int(frame["ipv6_users"].sum()) if frame.height else 0
    return {"users": users, "ipv6_share": ipv6 / users if users else None}


def peak_utilization(links: pl.DataFrame) -> float | None:
    """The busiest fresh link's utilization (what the wall shows first), or null."""
    fresh = links.filter(~pl.col("stale") & pl.col("utilization").is_not_null())
    return float(fresh["utilization"].max()) if fresh.height else None  # type: ignore[arg-type]
