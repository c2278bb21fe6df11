"""Dead letters: every rejected event is kept with its raw payload, field and reason."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import polars as pl

from ingest.validate import ValidationResult

TABLE = "ioc_deadletter"


def _raw(event: Any) -> str:
    try:
        return orjson.dumps(event, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return repr(event)


def dead_letter_frame(
    stream: str, events: Sequence[Any], result: ValidationResult, source: str | Sequence[str],
    received_at: datetime | None = None,
) -> pl.DataFrame:
    """One row per rejected event: the first error is its headline, all errors are kept.
    ``source``: the sender, or one per event of a batch that combines several senders."""
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
            "source": source if isinstance(source, str) else source[i],
            "raw": _raw(events[i]),
            "field": errs[0]["field"],
            "reason": errs[0]["reason"],
            "message": errs[0]["message"],
            "errors": orjson.dumps(errs).decode(),
            "state": "open",
            "updated_at": received_at,
        })
    return pl.DataFrame(rows, schema=SCHEMA)


SCHEMA = {
        "id": pl.String, "stream": pl.String, "received_at": pl.Datetime("ms", "UTC"),
        "source": pl.String, "raw": pl.String, "field": pl.String, "reason": pl.String,
        "message": pl.String, "errors": pl.String, "state": pl.String,
        "updated_at": pl.Datetime("ms", "UTC"),
}


def letter_updates(letters: pl.DataFrame, events: Sequence[Any],
                   errors: dict[int, list[dict[str, Any]]], now: datetime) -> pl.DataFrame:
    """New versions of replayed letters: 'replayed' when the event went in, else still
    'open' with the reason it fails now (and the fixed payload, if one was given)."""
    rows = []
    for i, letter in enumerate(letters.iter_rows(named=True)):
        errs = errors.get(i)
        rows.append({
            **{k: letter[k] for k in ("id", "stream", "received_at", "source")},
            "raw": _raw(events[i]),
            "field": errs[0]["field"] if errs else letter["field"],
            "reason": errs[0]["reason"] if errs else letter["reason"],
            "message": errs[0]["message"] if errs else letter["message"],
            "errors": orjson.dumps(errs).decode() if errs else letter["errors"],
            "state": "open" if errs else "replayed",
            "updated_at": now,
        })
    return pl.DataFrame(rows, schema=SCHEMA)
