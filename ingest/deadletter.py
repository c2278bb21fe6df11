"""Dead letters: every rejected event is kept with its raw payload, field and reason."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import polars as pl

from ingest.validate import ValidationResult
from ioc_app.storage import Store

TABLE = "ioc_deadletter"


def _raw(event: Any) -> str:
    try:
        return orjson.dumps(event, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return repr(event)


def dead_letter_frame(
    stream: str, events: Sequence[Any], result: ValidationResult, source: str,
    received_at: datetime | None = None,
) -> pl.DataFrame:
    """One row per rejected event: the first error is its headline, all errors are kept."""
    received_at = received_at or datetime.now(UTC)
    by_index: dict[int, list[dict[str, Any]]] = {}
    for err in result.errors:
        by_index.setdefault(err["index"], []).append(err)
    rows = []
    for i in result.rejected:
        errs = by_index[i]
        rows.append({
            "id": str(uuid.uuid4()),
            "stream": stream,
            "received_at": received_at,
            "source": source,
            "raw": _raw(events[i]),
            "field": errs[0]["field"],
            "reason": errs[0]["reason"],
            "message": errs[0]["message"],
            "errors": orjson.dumps(errs).decode(),
            "state": "open",
            "updated_at": received_at,
        })
    schema = {
        "id": pl.String, "stream": pl.String, "received_at": pl.Datetime("ms", "UTC"),
        "source": pl.String, "raw": pl.String, "field": pl.String, "reason": pl.String,
        "message": pl.String, "errors": pl.String, "state": pl.String,
        "updated_at": pl.Datetime("ms", "UTC"),
    }
    return pl.DataFrame(rows, schema=schema)


def store_dead_letters(store: Store, frame: pl.DataFrame) -> int:
    return store.insert(TABLE, frame)


def list_dead_letters(store: Store, stream: str | None = None, limit: int = 100) -> pl.DataFrame:
    """The newest open dead letters, newest first."""
    return store.query(
        f"""
        SELECT toString(id) AS id, stream, received_at, source, raw, field, reason, message
        FROM (SELECT * FROM {TABLE} FINAL)
        WHERE state = 'open' AND ({{stream:String}} = '' OR stream = {{stream:String}})
        ORDER BY received_at DESC
        LIMIT {{limit:UInt32}}
        """,
        {"stream": stream or "", "limit": limit},
    )
