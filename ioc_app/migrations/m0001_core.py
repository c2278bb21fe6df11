"""The product's own tables: the dead-letter store."""

from __future__ import annotations

from ioc_app.schema import Dialect

VERSION = 1
NAME = "core"


def statements(d: Dialect) -> list[str]:
    # One row per rejected event; replaying writes a newer row for the same id (state
    # 'replayed' or still 'open' with a new reason), and the newest row wins.
    return d.table(
        "ioc_deadletter",
        [
            ("id", "UUID"),
            ("stream", "LowCardinality(String)"),
            ("received_at", "DateTime64(3, 'UTC')"),
            ("source", "LowCardinality(String)"),
            ("raw", "String"),
            ("field", "LowCardinality(String)"),
            ("reason", "LowCardinality(String)"),
            ("message", "String"),
            ("errors", "String"),
            ("state", "Enum8('open' = 1, 'replayed' = 2, 'discarded' = 3)"),
            ("updated_at", "DateTime64(3, 'UTC')"),
        ],
        engine="ReplacingMergeTree",
        engine_args="updated_at",
        partition_by="toYYYYMM(received_at)",
        order_by="(stream, received_at, id)",
        ttl="toDateTime(received_at) + INTERVAL 400 DAY",
        shard_key="cityHash64(id)",
    )
