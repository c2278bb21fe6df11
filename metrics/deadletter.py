"""Dead letters as the API, the CLI and the health page read them."""

from __future__ import annotations

import polars as pl

from ioc_app.storage import SqlStore, on_cluster

TABLE = "ioc_deadletter"


def list_dead_letters(store: SqlStore, stream: str | None = None, limit: int = 100,
                      ids: list[str] | None = None) -> pl.DataFrame:
    """The newest open dead letters (of one stream, or with the given ids), newest first."""
    return store.query(
        f"""
        SELECT toString(id) AS id, stream, received_at, source, raw, field, reason, message, errors
        FROM {TABLE} FINAL
        WHERE state = 'open'
          AND ({{stream:String}} = '' OR stream = {{stream:String}})
          AND (empty({{ids:Array(String)}}) OR has({{ids:Array(String)}}, toString(id)))
        ORDER BY received_at DESC, id
        LIMIT {{limit:UInt32}}
        """,
        {"stream": stream or "", "limit": limit, "ids": ids or []},
    )


def keep_for(store: SqlStore, days: int) -> bool:
    """Make the dead letters' retention ``days`` (a TTL change only when it differs); returns
    whether it changed. On a cluster the TTL is set on the shard-local tables."""
    table = f"{TABLE}_local" if store.cluster else TABLE
    current = store.rows(
        "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {t:String}",
        {"t": table},
    )
    if not current or f"toIntervalDay({int(days)})" in current[0][0]:
        return False
    store.command(f"ALTER TABLE {table}{on_cluster(store.cluster)} MODIFY TTL toDateTime(received_at) + "
                  f"INTERVAL {int(days)} DAY")
    return True
