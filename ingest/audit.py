"""The audit trail's internal stream: audit rows take the same durable path as events.

An audit row is appended to the ingest buffer (the write-ahead log, or a Redis stream in the
scaled mode) under the name of its table, ``ioc_audit``, and written by the same batch writer
as events, with the same deduplication token and the same retries: once :func:`append`
returns, the row survives a kill of any process and reaches the store when it is back.

It is *not* a campus stream: it is not in ``ingest.registry.STREAMS``, so no ingest token
(not even ``--streams '*'``) can write it through ``/api/v1/ingest/…``, and nothing that
iterates over the campus streams (the health page, the simulators, the query API, the
documentation of events) sees it. Rows come only from ``ioc_app.audit``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl

if TYPE_CHECKING:
    from ingest.buffer import Buffer, R

TABLE = "ioc_audit"
ACTOR_KINDS = ("person", "screen", "token", "system", "anonymous")
#: longest text kept per column (a row is evidence, not a payload)
LIMITS = {"actor": 128, "address": 128, "action": 64, "object": 512, "result": 64, "detail": 8192}

SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "id": pl.String, "ts": pl.Datetime("ms", "UTC"), "actor_kind": pl.String, "actor": pl.String,
    "address": pl.String, "action": pl.String, "object": pl.String, "result": pl.String,
    "detail": pl.String,
}


def _text(value: Any, limit: int) -> str:
    return ("" if value is None else str(value))[:limit]


def _ts(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), UTC)


def _detail(value: Any) -> str:
    if isinstance(value, str):
        text = value
    else:
        text = orjson.dumps(value or {}, option=orjson.OPT_NON_STR_KEYS).decode()
    if len(text) > LIMITS["detail"]:  # cut, but keep it JSON
        text = orjson.dumps({"truncated": text[:LIMITS["detail"] - 64]}).decode()
    return text


def frame(rows: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """Audit rows (as ``ioc_app.audit.Audit.record`` builds them) as the table's columns.
    A row without an id gets one; an unknown actor kind is refused (a bug, not data)."""
    out = []
    for row in rows:
        kind = str(row.get("actor_kind") or "system")
        if kind not in ACTOR_KINDS:
            raise ValueError(f"audit actor_kind {kind!r}: use one of {', '.join(ACTOR_KINDS)}")
        out.append({
            "id": str(uuid.UUID(str(row["id"]))) if row.get("id") else str(uuid.uuid4()),
            "ts": _ts(row["ts"]),
            "actor_kind": kind,
            **{c: _text(row.get(c), LIMITS[c]) for c in ("actor", "address", "action", "object", "result")},
            "detail": _detail(row.get("detail")),
        })
    return pl.DataFrame(out, schema=SCHEMA)


def append(buffer: Buffer[R], rows: Iterable[Mapping[str, Any]]) -> int:
    """Make ``rows`` durable in the ingest buffer (returns once they are; raises ``OSError``
    when the buffer cannot keep them). The writer inserts them into ``ioc_audit``."""
    batch = frame(rows)
    if batch.height:
        buffer.log(TABLE).append(batch)
    return batch.height
