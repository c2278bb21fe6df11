"""Network KPIs (网络): egress links and users online now, security incidents, and the slower
trends of the network page.

"Now" figures need each link's (or campus × access's) latest sample, which a sum rollup
cannot answer: they read the raw samples of the last minutes with ``argMax`` — a small,
bounded scan (samples arrive every 10–60 s). Trends read the 1-minute and 1-hour rollups.

A security incident is the set of findings sharing an ``incident_key``; the one with the
latest ``ts`` is its state (ties: the later arrival, then the event id, so the answer never
depends on storage order). Its ``first_seen`` is the earliest ``ts`` of all its findings,
so an old incident updated recently is not mistaken for a new one: the incidents with a
finding in the window are found first (a scan bounded by time), then their whole histories
are read by key (the raw table is ordered by incident_key, ts). Nothing grows with history.
Counts by severity or category use the incident's *latest* severity and category: an
incident raised from medium to critical is a critical incident.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from ioc_app.storage import SqlStore
from metrics.domain import (
    Dimension,
    Measure,
    MetricsDomain,
    Queryable,
    Referenced,
    Source,
    Watched,
    both_grains,
    count,
    count_of,
    distinct,
    maximum,
    ratio_of,
    total,
)

LINK_STALE = timedelta(minutes=5)
LINK_LOOKBACK = timedelta(hours=1)  # a link silent for longer shows no sample at all
ONLINE_WINDOW = timedelta(minutes=10)
LINK_MINUTES = 60
IPV6_HOURS = 7 * 24
SECURITY_DAYS = 30  # "open" counts incidents first seen on one of the last 30 local dates
ACCESS = ("wired", "wireless", "vpn")
SEVERITIES = ("info", "low", "medium", "high", "critical")
STATUSES = ("open", "handled", "false_positive")
CATEGORIES = ("weak_password", "compromised_host", "intrusion", "ddos", "malware", "phishing",
              "vulnerability", "other")

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)

#: one row per incident with a finding in [since, now] and none before ``since``:
#: its first_seen and its latest status, severity and category (one argMax of the three: the
#: version tuple is compared once per finding). The incidents come from
#: ``network_incident_first`` (migration 10): an incident first seen in [since, now] has no
#: finding before ``since``, so only the window's findings need reading — not the whole
#: retention to learn which incidents are older than the window.
_INCIDENTS = """
    SELECT incident_key,
           min(ts) AS first_seen,
           argMax((status, severity, category), (ts, received_at, event_id)) AS latest,
           latest.1 AS latest_status, latest.2 AS latest_severity, latest.3 AS latest_category
    FROM network_security
    WHERE incident_key IN (
            SELECT incident_key FROM network_incident_first
            GROUP BY incident_key
            HAVING min(first_seen) >= {since:DateTime64(3, 'UTC')}
               AND min(first_seen) <= {now:DateTime64(3, 'UTC')})
      AND ts >= {since:DateTime64(3, 'UTC')} AND ts <= {now:DateTime64(3, 'UTC')}
    GROUP BY incident_key
"""


def live(store: SqlStore, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """The ``network`` section of the live snapshot (3 queries).

    - ``links``: ``[{link_id, in_bps, out_bps, capacity_bps, utilization, stale, age_s}]``
      by link_id, see :func:`links_now`; ``peak_utilization``: the busiest fresh link's
      utilization or null.
    - ``online``: ``{users, ipv6_share, by_campus, by_access}`` over the latest sample of each
      (campus, access) within 10 minutes: ``users`` their sum, ``ipv6_share`` = ipv6 users /
      users (null when nobody is online); ``by_campus`` = ``[{campus, wired, wireless, vpn}]``
      (users) for every campus with such a sample, by campus code; ``by_access`` =
      ``[{access, users, ipv6_share}]`` for wired, wireless, vpn in that order, zeros included.
    - ``security``: over the incidents first seen on one of the last 30 local dates (today and
      the 29 before), by their latest severity / status / category:
      ``today`` = ``{info, low, medium, high, critical}`` incidents first seen today;
      ``open`` = incidents whose latest status is open; ``open_by_severity`` = the same by
      severity; ``by_status`` = ``{open, handled, false_positive}``;
      ``by_category_today`` = ``[{category, count}]`` of today's incidents, the most frequent
      first, ties by name.
    """
    links = links_now(store, now)
    return {
        "links": links.to_dicts(),
        "peak_utilization": peak_utilization(links),
        "online": _online(_online_samples(store, now)),
        "security": _security(store, zone, now),
    }


def slow(store: SqlStore, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """Slower network-page figures, merged into the ``network`` section (4 queries).

    - ``links_60m``: ``[{link_id, minute, in_bps, out_bps, capacity_bps, utilization}]``: every
      link of ``links`` × the 61 minutes of ``gate.last_60m`` (the 60 whole minutes before the
      current one and the current one; ``minute`` = local RFC 3339), by link_id then minute.
      ``in_bps``/``out_bps`` = the mean of the minute's samples (float), null in a minute without
      a sample; ``capacity_bps`` the link's current capacity (as in ``links``);
      ``utilization`` = max(in, out) / capacity or null.
    - ``ipv6_7d``: ``[{hour, users, ipv6_share}]`` for the 168 UTC hours up to the current one
      (``hour`` = local RFC 3339 start, oldest first, every hour present): ``users`` = the sum
      over (campus, access) of their mean users in the hour (float, 0.0 without samples);
      ``ipv6_share`` = Σ ipv6 users / Σ users over all samples of the hour, or null.
    - ``security_30d``: ``[{date, new, open, handled, false_positive}]`` for the 30 local dates
      of ``security`` (oldest first, zeros included): ``new`` incidents first seen that date,
      split by their latest status; the ``open`` column sums to ``security.open``.
    """
    links = links_now(store, now)
    return {
        "links_60m": _links_minutes(store, zone, now, links),
        "ipv6_7d": _ipv6_hours(store, zone, now),
        "security_30d": _security_days(store, zone, now),
    }


def links_now(store: SqlStore, now: datetime | None = None) -> pl.DataFrame:
    """One row per link of the catalogue or with a sample in the last hour, by link_id:
    ``link_id, in_bps, out_bps, capacity_bps, utilization, stale, age_s`` from the latest
    sample at or before ``now`` (utilization = max(in, out) / capacity, null without a
    capacity; capacity = the sample's, else the catalogue's; stale when the latest sample is
    older than 5 minutes or missing; ``age_s`` = seconds since that sample, or null)."""
    now = now or datetime.now(UTC)
    # the links with a sample and the catalogue's links, one row each, folded by link_id (a
    # full outer join without the join: at most one row of each side per link, the aggregates
    # skip the other side's nulls)
    frame = store.query(
        """
        SELECT link_id, max(last_ts) AS last_ts, any(in_bps) AS in_bps, any(out_bps) AS out_bps,
               coalesce(any(sent_capacity), nullIf(any(ref_capacity), 0)) AS capacity_bps
        FROM (
            SELECT toString(link_id) AS link_id, max(ts) AS last_ts,
                   argMax(in_bps, ts) AS in_bps, argMax(out_bps, ts) AS out_bps,
                   argMax(capacity_bps, ts) AS sent_capacity,
                   CAST(NULL AS Nullable(UInt64)) AS ref_capacity
            FROM network_link
            WHERE ts >= {since:DateTime64(3, 'UTC')} AND ts <= {now:DateTime64(3, 'UTC')}
            GROUP BY link_id
            UNION ALL
            SELECT code, NULL, NULL, NULL, NULL, toUInt64(value)
            FROM ioc_reference FINAL WHERE kind = 'link'
        )
        GROUP BY link_id
        ORDER BY link_id
        """,
        {"since": now - LINK_LOOKBACK, "now": now},
    )
    stale_before = now - LINK_STALE
    return frame.with_columns(
        pl.when(pl.col("capacity_bps") > 0)
        .then(pl.max_horizontal("in_bps", "out_bps") / pl.col("capacity_bps"))
        .alias("utilization"),
        (pl.col("last_ts").is_null() | (pl.col("last_ts") < stale_before)).alias("stale"),
        ((pl.lit(now) - pl.col("last_ts")).dt.total_milliseconds() / 1000).alias("age_s"),
    ).select("link_id", "in_bps", "out_bps", "capacity_bps", "utilization", "stale", "age_s")


def online_now(store: SqlStore, now: datetime | None = None) -> dict[str, float | int | None]:
    """``users``: the sum over (campus, access) of each latest sample within 10 minutes;
    ``ipv6_share``: ipv6_users / users over the same samples (null when nobody is online)."""
    online = _online(_online_samples(store, now or datetime.now(UTC)))
    return {"users": online["users"], "ipv6_share": online["ipv6_share"]}


def peak_utilization(links: pl.DataFrame) -> float | None:
    """The busiest fresh link's utilization (what the wall shows first), or null."""
    fresh = links.filter(~pl.col("stale") & pl.col("utilization").is_not_null())
    peak = fresh["utilization"].max()  # None without a fresh link
    return float(peak) if isinstance(peak, int | float) else None


def _online_samples(store: SqlStore, now: datetime) -> pl.DataFrame:
    """The latest sample of each (campus, access) within 10 minutes before ``now``."""
    return store.query(
        """
        SELECT campus, toString(access) AS access,
               argMax(users, ts) AS users, argMax(ipv6_users, ts) AS ipv6_users
        FROM network_online
        WHERE ts >= {since:DateTime64(3, 'UTC')} AND ts <= {now:DateTime64(3, 'UTC')}
        GROUP BY campus, access
        """,
        {"since": now - ONLINE_WINDOW, "now": now},
    ).cast({"campus": pl.String, "access": pl.String, "users": pl.Int64, "ipv6_users": pl.Int64})


def _online(samples: pl.DataFrame) -> dict[str, Any]:
    users = int(samples["users"].sum())
    ipv6 = int(samples["ipv6_users"].sum())
    by_campus = (samples.pivot("access", index="campus", values="users", aggregate_function="sum")
                 if samples.height else pl.DataFrame(schema={"campus": pl.String}))
    by_campus = by_campus.with_columns(
        (pl.col(a).fill_null(0) if a in by_campus.columns else pl.lit(0)).cast(pl.Int64).alias(a)
        for a in ACCESS
    ).select("campus", *ACCESS).sort("campus")
    by_access = []
    for a in ACCESS:
        part = samples.filter(pl.col("access") == a)
        n, v = int(part["users"].sum()), int(part["ipv6_users"].sum())
        by_access.append({"access": a, "users": n, "ipv6_share": v / n if n else None})
    return {"users": users, "ipv6_share": ipv6 / users if users else None,
            "by_campus": by_campus.to_dicts(), "by_access": by_access}


def _security_since(zone: ZoneInfo, now: datetime) -> datetime:
    """Local midnight of the first of the last 30 local dates."""
    return _day_start(now.astimezone(zone).date() - timedelta(days=SECURITY_DAYS - 1), zone)


def _security(store: SqlStore, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    local = now.astimezone(zone)
    counts = store.query(
        f"""
        SELECT first_seen >= {{midnight:DateTime64(3, 'UTC')}} AS is_today,
               toString(latest_status) AS status, toString(latest_severity) AS severity,
               toString(latest_category) AS category, count() AS incidents
        FROM ({_INCIDENTS})
        GROUP BY is_today, status, severity, category
        """,
        {"since": _security_since(zone, now), "now": now,
         "midnight": _day_start(local.date(), zone)},
    ).cast({"is_today": pl.Boolean, "incidents": pl.Int64})
    today = counts.filter(pl.col("is_today"))
    open_ = counts.filter(pl.col("status") == "open")

    def tally(frame: pl.DataFrame, key: str, values: tuple[str, ...]) -> dict[str, int]:
        got = dict(frame.group_by(key).agg(pl.col("incidents").sum()).iter_rows())
        return {v: int(got.get(v, 0)) for v in values}

    categories = (today.group_by("category").agg(pl.col("incidents").sum().alias("count"))
                  .sort(["count", "category"], descending=[True, False]))
    return {
        "today": tally(today, "severity", SEVERITIES),
        "open": int(open_["incidents"].sum()),
        "open_by_severity": tally(open_, "severity", SEVERITIES),
        "by_status": tally(counts, "status", STATUSES),
        "by_category_today": categories.to_dicts(),
    }


def _security_days(store: SqlStore, zone: ZoneInfo, now: datetime) -> list[dict[str, Any]]:
    since = _security_since(zone, now)
    rows = store.rows(
        f"""
        SELECT toDate(first_seen, {{tz:String}}) AS day, toString(latest_status), count()
        FROM ({_INCIDENTS})
        GROUP BY day, latest_status
        """,
        {"since": since, "now": now, "tz": zone.key},
    )
    got = {(d, s): int(n) for d, s, n in rows}
    first = since.astimezone(zone).date()
    out = []
    for i in range(SECURITY_DAYS):
        d = first + timedelta(days=i)
        by_status = {s: got.get((d, s), 0) for s in STATUSES}
        out.append({"date": d.isoformat(), "new": sum(by_status.values()), **by_status})
    return out


def _links_minutes(store: SqlStore, zone: ZoneInfo, now: datetime, links: pl.DataFrame
                   ) -> list[dict[str, Any]]:
    current = now.astimezone(UTC).replace(second=0, microsecond=0)
    first = current - LINK_MINUTES * MINUTE
    rows = store.rows(
        """
        SELECT toString(link_id), toUnixTimestamp(minute),
               sum(samples), sum(in_bps_sum), sum(out_bps_sum)
        FROM network_link_1m
        WHERE minute >= {first:DateTime('UTC')} AND minute <= {current:DateTime('UTC')}
        GROUP BY link_id, minute
        """,
        {"first": first, "current": current},
    )
    got = {(link, int(m)): (int(n), int(i), int(o)) for link, m, n, i, o in rows}
    capacity = dict(zip(links["link_id"].to_list(), links["capacity_bps"].to_list(), strict=True))
    out = []
    for link in sorted(set(capacity) | {k for k, _ in got}):
        cap = capacity.get(link)
        for k in range(LINK_MINUTES + 1):
            minute = first + k * MINUTE
            n, i, o = got.get((link, int(minute.timestamp())), (0, 0, 0))
            row = {"link_id": link, "minute": _iso(minute, zone), "in_bps": None, "out_bps": None,
                   "capacity_bps": cap, "utilization": None}
            if n:
                row.update(in_bps=i / n, out_bps=o / n, utilization=max(i, o) / n / cap if cap else None)
            out.append(row)
    return out


def _ipv6_hours(store: SqlStore, zone: ZoneInfo, now: datetime) -> list[dict[str, Any]]:
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first = current - (IPV6_HOURS - 1) * HOUR
    rows = store.rows(
        """
        SELECT hour, sum(users_sum / samples), sum(ipv6_users_sum), sum(users_sum)
        FROM (
            SELECT toUnixTimestamp(hour) AS hour, campus, access, sum(samples) AS samples,
                   sum(users_sum) AS users_sum, sum(ipv6_users_sum) AS ipv6_users_sum
            FROM network_online_1h
            WHERE hour >= {first:DateTime('UTC')} AND hour <= {current:DateTime('UTC')}
            GROUP BY hour, campus, access
        )
        GROUP BY hour
        """,
        {"first": first, "current": current},
    )
    got = {int(h): (float(u), int(v), int(n)) for h, u, v, n in rows}
    out = []
    for k in range(IPV6_HOURS):
        hour = first + k * HOUR
        users, ipv6, total = got.get(int(hour.timestamp()), (0.0, 0, 0))
        out.append({"hour": _iso(hour, zone), "users": users,
                    "ipv6_share": ipv6 / total if total else None})
    return out


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _iso(t: datetime, zone: ZoneInfo) -> str:
    return t.astimezone(zone).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- the declaration

QUERY = Queryable(
    "network",
    dimensions=(
        Dimension("link_id", "egress link code"),
        Dimension("campus", "campus code"),
        Dimension("access", "access type", ACCESS),
        Dimension("severity", "security finding severity", SEVERITIES),
        Dimension("category", "security finding category", CATEGORIES),
        Dimension("status", "security finding status", STATUSES),
    ),
    sources=(
        Source(
            "network.link", "network_link",
            minute=("link_id",), hour=("link_id",), series=("link_id",),
            parts=(("samples", "sum(samples)"), ("in_sum", "sum(in_bps_sum)"),
                   ("out_sum", "sum(out_bps_sum)"), ("in_max", "max(in_bps_max)"),
                   ("out_max", "max(out_bps_max)")),
        ),
        Source(
            "network.online", "network_online",
            minute=("campus", "access"), hour=("campus", "access"), series=("campus", "access"),
            parts=(("samples", "sum(samples)"), ("users_sum", "sum(users_sum)"),
                   ("ipv6_sum", "sum(ipv6_users_sum)")),
        ),
        Source(
            "network.security", "network_security",
            minute=("severity", "category", "status"), hour=("severity", "category", "status"),
            parts=(("findings", "sum(findings)"), ("incidents", "uniqExactMerge(incidents)")),
        ),
    ),
    measures=(
        Measure("in_bps_avg", "network.link", "sum(p_in_sum / p_samples)", "mean",
                "inbound bits/s: each link's mean sample, summed over links"),
        Measure("out_bps_avg", "network.link", "sum(p_out_sum / p_samples)", "mean",
                "outbound bits/s: each link's mean sample, summed over links"),
        Measure("in_bps_max", "network.link", "max(p_in_max)", "max",
                "highest inbound sample of any one link"),
        Measure("out_bps_max", "network.link", "max(p_out_max)", "max",
                "highest outbound sample of any one link"),
        Measure("users_avg", "network.online", "sum(p_users_sum / p_samples)", "mean",
                "users online: each campus × access type's mean sample, summed"),
        ratio_of("ipv6_share", "network.online", "ipv6_sum", "users_sum",
                 "ipv6_users / users over the samples; null without users"),
        count_of("findings", "network.security", "findings", "security finding events (updates included)"),
        count_of("incidents", "network.security", "incidents",
                 "distinct incident keys with an event in the bucket"),
    ),
)

WATCHED = {
    "in_bps": Watched("network_link_1m", "sum(in_bps_sum)", "sum(samples)", ("link_id",),
                      "mean inbound bits per second of the samples"),
    "out_bps": Watched("network_link_1m", "sum(out_bps_sum)", "sum(samples)", ("link_id",),
                       "mean outbound bits per second of the samples"),
}

REFERENCES = (
    Referenced("network.link", "link_id", "link", "network_link_1h", "hour", "sum(samples)"),
    Referenced("network.online", "campus", "campus", "network_online_1h", "hour", "sum(samples)"),
)

# the rollups of the network streams the figures above read (ioc_app/declared.py makes their DDL)
ROLLUPS = (
    *both_grains("network.link", ("link_id",), (
        count("samples"), total("in_bps_sum", "in_bps"), total("out_bps_sum", "out_bps"),
        maximum("in_bps_max", "in_bps"), maximum("out_bps_max", "out_bps"))),
    *both_grains("network.online", ("campus", "access"), (
        count("samples"), total("users_sum", "users"), total("ipv6_users_sum", "ipv6_users"),
        maximum("users_max", "users"))),
    *both_grains("network.security", ("severity", "category", "status"),
                 (count("findings"), distinct("incidents", "incident_key"))),
)

DOMAIN = MetricsDomain(
    "network", 20, live, slow,
    # samples arrive every 10–60 s; security findings are rare
    stale_after_s={"network.link": 5 * 60, "network.online": 10 * 60, "network.security": 24 * 3600},
    rollups=ROLLUPS, query=QUERY, watched=WATCHED, references=REFERENCES,
    # a link is stale 5 minutes after its last sample, users online count the samples of the
    # last 10 minutes: both move with the clock for that long after the last commit
    ages_within_s=float(ONLINE_WINDOW.total_seconds() + 60),
)
