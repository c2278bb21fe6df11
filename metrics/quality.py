"""Data quality: what the ingest path refused, and codes the site catalogue does not know.

Two figures of the ``/health`` report that are not in the live snapshot (they change slowly
and only the ops team reads them):

- dead letters still open, by stream and reason — the latest row of each dead letter wins, so
  one replayed or discarded after the fact no longer counts;
- reference codes (gates, links, services…) seen recently in the data but absent from
  ``ioc_reference``: events the walls count but cannot name, usually a new gate or service
  the catalogue has not caught up with.

The second reads the hour rollups (and, for streams that have none, the raw rows) over the
last ``days`` days only, so its cost does not grow with history.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from ioc_app.storage import SqlStore
from metrics.domain import Referenced
from metrics.registry import DOMAINS, LiveList

DEADLETTER_TABLE = "ioc_deadletter"
REFERENCE_TABLE = "ioc_reference"


#: Every field holding a catalogue code, with the narrowest table that has it, as the
#: registered domains declare them (``metrics/<name>.py``, ``MetricsDomain.references``).
REFERENCED: LiveList[Referenced] = DOMAINS.live_list(lambda ds: tuple(r for d in ds for r in d.references))

DEAD_LETTER_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "stream": pl.String, "reason": pl.String, "count": pl.UInt64, "newest": pl.Datetime("ms", "UTC")}
UNKNOWN_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "stream": pl.String, "field": pl.String, "kind": pl.String, "code": pl.String, "rows": pl.UInt64,
    "last_seen": pl.Datetime("ms", "UTC")}


def dead_letters_by_reason(store: SqlStore, limit: int = 100) -> pl.DataFrame:
    """Open dead letters as ``{stream, reason, count, newest}``, most numerous first.

    The state of a dead letter is that of its latest row (``updated_at``): grouping by id
    rather than relying on ``FINAL`` keeps the answer right before merges and on a cluster.
    """
    frame = store.query(
        f"""
        SELECT stream, reason, count() AS count, max(received_at) AS newest
        FROM (
            SELECT id,
                   argMax(stream, updated_at) AS stream,
                   argMax(reason, updated_at) AS reason,
                   argMax(received_at, updated_at) AS received_at,
                   argMax(state, updated_at) AS state
            FROM {DEADLETTER_TABLE}
            GROUP BY id
        )
        WHERE state = 'open'
        GROUP BY stream, reason
        ORDER BY count DESC, stream, reason
        LIMIT {{limit:UInt32}}
        """,
        {"limit": limit},
    )
    return _typed(frame, DEAD_LETTER_SCHEMA)


def unknown_references(store: SqlStore, now: datetime | None = None, days: int = 7,
                       limit: int = 200) -> pl.DataFrame:
    """Codes seen in the last ``days`` days that the catalogue lacks, as
    ``{stream, field, kind, code, rows, last_seen}`` (most rows first).

    ``rows`` is the number of events carrying the code; ``last_seen`` the newest hour (or
    event time) it was seen in. One statement over every referenced field.
    """
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    parts = []
    for r in REFERENCED:
        parts.append(
            f"""
            SELECT '{r.stream}' AS stream, '{r.field}' AS field, '{r.kind}' AS kind,
                   ifNull(toString({r.field}), '') AS code, toUInt64({r.rows}) AS rows,
                   toDateTime64(max({r.time}), 3, 'UTC') AS last_seen
            FROM {r.table}
            WHERE {r.time} >= {{since:DateTime64(3, 'UTC')}}
              AND code != ''
              AND code NOT IN (SELECT code FROM {REFERENCE_TABLE} WHERE kind = '{r.kind}')
            GROUP BY code
            """
        )
    frame = store.query(
        "SELECT * FROM (" + " UNION ALL ".join(parts) + ") "
        "ORDER BY rows DESC, stream, field, code LIMIT {limit:UInt32}",
        {"since": since, "limit": limit},
    )
    return _typed(frame, UNKNOWN_SCHEMA)


def _typed(frame: pl.DataFrame, schema: dict[str, pl.DataType | type[pl.DataType]]) -> pl.DataFrame:
    """The documented shape, also when the store answered with no rows at all."""
    if frame.height == 0:
        return pl.DataFrame(schema=schema)
    return frame.select([pl.col(name).cast(kind) for name, kind in schema.items()])
