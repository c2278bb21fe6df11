"""The aggregation core's own tables: per-stream freshness and the snapshot history.

Freshness ("newest event of each stream and when it arrived") would otherwise be a
``max(ts)`` over every raw table each tick, a scan that grows with history. A materialized
view per stream keeps it in a table of a few rows instead; its aggregates (max, argMax) are
idempotent, so the backfill below may run again after an interruption.

The snapshot history keeps one snapshot per minute (and each alert change) so any minute
can be shown again exactly as the screens showed it.
"""

from __future__ import annotations

from ingest.registry import STREAMS
from ioc_app.schema import Dialect

VERSION = 9
NAME = "core_state"
HISTORY_DAYS = 400
TS = "DateTime64(3, 'UTC')"


def _freshness_select(stream: str) -> str:
    return (
        f"SELECT '{stream}' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,\n"
        f"    argMaxState(received_at, ts) AS arrival\nFROM {{source}}\nGROUP BY stream"
    )


def statements(d: Dialect) -> list[str]:
    out = d.table(
        "ioc_freshness",
        [
            ("stream", "LowCardinality(String)"),
            ("last_ts", f"SimpleAggregateFunction(max, {TS})"),
            ("last_received", f"SimpleAggregateFunction(max, {TS})"),
            ("arrival", f"AggregateFunction(argMax, {TS}, {TS})"),
        ],
        engine="AggregatingMergeTree",
        order_by="stream",
        shard_key="cityHash64(stream)",
    )
    for stream in STREAMS:
        if stream.kind != "event":
            continue
        select = _freshness_select(stream.name)
        out.append(d.materialized_view("ioc_freshness", stream.table, select, f"_{stream.table}"))
        # events stored before this migration: an empty table yields no row (GROUP BY)
        out.append(f"INSERT INTO {d.db}.ioc_freshness\n"
                   + select.replace("{source}", f"{d.db}.{stream.table}"))
    out += d.table(
        "ioc_snapshots",
        [
            ("generated_at", TS),
            ("version", "UInt64"),
            ("reason", "LowCardinality(String)"),
            ("alerts", "UInt16"),
            ("body", "String CODEC(ZSTD(3))"),
        ],
        engine="MergeTree",
        partition_by="toYYYYMM(generated_at)",
        order_by="generated_at",
        ttl=f"toDateTime(generated_at) + INTERVAL {HISTORY_DAYS} DAY",
        shard_key="0",
    )
    return out
