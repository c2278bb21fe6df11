"""The aggregation core's own tables: per-stream freshness and the snapshot history.

Freshness ("newest event of each stream and when it arrived") would otherwise be a
``max(ts)`` over every raw table each tick, a scan that grows with history. A materialized
view per stream keeps it in a table of a few rows instead; its aggregates (max, argMax) are
idempotent, so the backfill below may run again after an interruption.

The snapshot history keeps one snapshot per minute (and each alert change) so any minute
can be shown again exactly as the screens showed it.

The event streams are those of the contracts when this migration shipped, written out; an
event stream added later gets its freshness view in the migration that creates its table
(``Dialect.freshness``).
"""

from __future__ import annotations

from ioc_app.schema import Dialect

VERSION = 9
NAME = "core_state"
HISTORY_DAYS = 400
TS = "DateTime64(3, 'UTC')"
#: (contract name, raw table) of every event stream, in the registry's order at the time
EVENT_STREAMS = (
    ("gate.pass", "gate_pass"),
    ("network.link", "network_link"),
    ("network.online", "network_online"),
    ("network.security", "network_security"),
    ("enrollment.admission", "enrollment_admission"),
    ("enrollment.checkin", "enrollment_checkin"),
    ("service.workflow", "service_workflow"),
    ("service.print", "service_print"),
    ("service.call", "service_call"),
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
    for stream, table in EVENT_STREAMS:
        out += d.freshness(stream, table)
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
