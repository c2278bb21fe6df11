"""Gate KPIs (门禁): today's entries, exits, denials and fever readings.

Reads the per-minute rollup ``gate_pass_1m`` (never the raw events), so the cost does not
grow with history. "Today" is [local midnight, now) in the site's time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from ioc_app.storage import Store


def local_midnight(zone: ZoneInfo, now: datetime) -> datetime:
    """Start of the local day containing ``now``, as an aware UTC datetime."""
    local = now.astimezone(zone)
    start = datetime(local.year, local.month, local.day, tzinfo=zone)
    return start.astimezone(UTC)


def today_totals(store: Store, zone: ZoneInfo, now: datetime | None = None) -> pl.DataFrame:
    """One row: ``in``/``out`` passes, ``denied``, ``attempts``, ``fever``, ``net_inflow``,
    ``deny_rate`` (null when there was no attempt) for the local day so far."""
    now = now or datetime.now(UTC)
    start = local_midnight(zone, now)
    counts = store.query(
        """
        SELECT
            sumIf(attempts, result = 'pass' AND direction = 'in') AS n_in,
            sumIf(attempts, result = 'pass' AND direction = 'out') AS n_out,
            sumIf(attempts, result = 'deny') AS n_denied,
            sum(attempts) AS n_attempts,
            sum(fever) AS n_fever
        FROM gate_pass_1m
        WHERE minute >= {start:DateTime('UTC')} AND minute < {end:DateTime('UTC')}
        """,
        {"start": start, "end": min(now + timedelta(minutes=1), start + timedelta(days=1))},
    )
    return counts.select(
        pl.col(f"n_{c}").fill_null(0).cast(pl.Int64).alias(c)
        for c in ("in", "out", "denied", "attempts", "fever")
    ).with_columns(
        (pl.col("in") - pl.col("out")).alias("net_inflow"),
        pl.when(pl.col("attempts") > 0)
        .then(pl.col("denied") / pl.col("attempts"))
        .otherwise(None)
        .alias("deny_rate"),
    )
