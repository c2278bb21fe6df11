"""The snapshot history: what the screens showed, minute by minute, for replay.

Snapshots are stored as the exact JSON bytes that were served, so a replayed minute is the
same document, not a recomputation that later data (a late backlog) would change.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import polars as pl

from ioc_app.storage import SqlStore, on_cluster
from metrics import enrollment

TABLE = "ioc_snapshots"
SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "generated_at": pl.Datetime("ms", "UTC"), "version": pl.UInt64, "reason": pl.String,
    "alerts": pl.UInt16, "body": pl.String}


def record(store: SqlStore, generated_at: datetime, version: int, reason: str, alerts: int,
           body: bytes) -> None:
    """Keep one snapshot (``reason``: ``minute`` or ``alerts`` when the active set changed)."""
    frame = pl.DataFrame(
        {"generated_at": [generated_at.astimezone(UTC)], "version": [version], "reason": [reason],
         "alerts": [alerts], "body": [body.decode()]},
        schema=SCHEMA,
    )
    store.insert(TABLE, frame)


def at(store: SqlStore, when: datetime) -> bytes | None:
    """The stored snapshot nearest at or before ``when`` (None when there is none)."""
    rows = store.rows(
        f"SELECT body FROM {TABLE} WHERE generated_at <= {{at:DateTime64(3, 'UTC')}} "
        "ORDER BY generated_at DESC, version DESC LIMIT 1",
        {"at": when.astimezone(UTC)},
    )
    return rows[0][0].encode() if rows else None


def shown_at(store: SqlStore, when: datetime, min_cell: int) -> bytes | None:
    """The stored snapshot shown at ``when`` (None when there is none), under today's
    small-cell rule (``min_cell``): what was stored is never re-served with more than the rule
    allows. The snapshot API's ``?at=`` and the pages' ``?at=`` both read it here."""
    body = at(store, when)
    if body is None:
        return None
    data = orjson.loads(body)
    if not isinstance(data.get("enrollment"), dict):
        return body
    data["enrollment"] = enrollment.suppress(data["enrollment"], min_cell)
    return orjson.dumps(data)


def last_version(store: SqlStore) -> int:
    """The highest version ever stored, so versions keep increasing across restarts."""
    return int(store.rows(f"SELECT max(version) FROM {TABLE}")[0][0] or 0)


def keep_for(store: SqlStore, days: int) -> bool:
    """Make the history's retention ``days`` (a TTL change only when it differs); returns
    whether it changed. On a cluster the TTL is set on the shard-local tables."""
    table = f"{TABLE}_local" if store.cluster else TABLE
    current = store.rows(
        "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {t:String}",
        {"t": table},
    )
    wanted = f"toIntervalDay({days})"
    if not current or wanted in current[0][0]:
        return False
    store.command(f"ALTER TABLE {table}{on_cluster(store.cluster)} MODIFY TTL toDateTime(generated_at) + "
                  f"INTERVAL {int(days)} DAY")
    return True
