"""Dead letters: every rejected event is kept with its field, reason and message, and its raw
payload made safe to keep.

A rejected event is often rejected *because* it carries personal data, so the payload is
never kept as sent: every piece of personal data in it (in any field, at any depth, in keys
too) is replaced by ``<redacted:hash>`` — a keyed hash (HMAC-SHA-256 with the site key, see
``ingest.pii``), so equal values can be recognised without the value being readable —
binary or base64 blobs (a photo) are replaced by ``<dropped: …>``, and the payload is capped
at 4 KiB (``<truncated: …>``). A letter that lost something this way can only be replayed
with ``fixes`` supplying the corrected event (see ``docs/api.md``).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import polars as pl

from ingest import pii
from ingest.validate import ValidationResult

TABLE = "ioc_deadletter"
_SHORT = 200  # string values longer than this go first when a payload must be cut
_PROCESS_KEY = secrets.token_bytes(32)


def _dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return orjson.dumps(repr(value)).decode()


def _personal(stream: str) -> frozenset[str]:
    """The fields the stream's contract declares personal data (a courier tracking number),
    by name in lower case; none for a stream no domain declares."""
    from ingest.registry import get_stream

    try:
        fields = get_stream(stream).all_fields
    except KeyError:
        return frozenset()
    return frozenset(f.name for f in fields if f.personal)


def safe_payload(stream: str, event: Any, key: bytes) -> Any:
    """The event with personal data redacted and blobs dropped, by the strictest rules in
    every field (a gate's Chinese name that looks like a person's is redacted too: a letter
    is evidence, and replaying it can supply the value again) — except ``event_id``, whose
    digit runs stay so that a letter keeps its identity. A field the contract declares
    personal data (a tracking number, whose shape no rule recognises) is redacted whole."""
    if not isinstance(event, dict):
        return pii.redact_value(event, key)
    personal = _personal(stream)
    return {pii.redact_text(str(k), key): (
        pii.redact_whole(v, key) if str(k).strip().lower() in personal
        else pii.redact_value(v, key, "letter_id" if k == "event_id" else "key"))
        for k, v in event.items()}


def capped(value: Any, cap: int = pii.RAW_CAP) -> str:
    """``value`` as JSON of at most ``cap`` bytes: long strings are cut first, then fields."""
    text = _dumps(value)
    if len(text.encode()) <= cap:
        return text
    if isinstance(value, dict):
        short = {k: (f"{pii.TRUNCATED} {len(_dumps(v))} characters>"
                     if len(_dumps(v)) > _SHORT else v) for k, v in value.items()}
        text = _dumps(short)
        if len(text.encode()) <= cap:
            return text
        kept: dict[str, Any] = {}
        size = 64
        for k, v in short.items():
            piece = len(_dumps({k: v}).encode())
            if size + piece > cap - 64:
                break
            kept[k], size = v, size + piece
        kept[pii.TRUNCATED + ">"] = f"{len(short) - len(kept)} more fields"
        return _dumps(kept)
    head = text.encode()[: cap - 128].decode("utf-8", "ignore")
    return _dumps(f"{pii.TRUNCATED} {len(text)} characters> {head}")


def _raw(stream: str, event: Any, key: bytes) -> str:
    return capped(safe_payload(stream, event, key))


def _safe_errors(errs: list[dict[str, Any]], key: bytes) -> list[dict[str, Any]]:
    """Errors as kept: field names redacted too (an unknown field may be named by a number)."""
    return [{**e, "field": pii.redact_text(str(e["field"]), key)} for e in errs]


def dead_letter_frame(
    stream: str, events: Sequence[Any], result: ValidationResult, source: str | Sequence[str],
    received_at: datetime | None = None, *, key: bytes | None = None,
) -> pl.DataFrame:
    """One row per rejected event: the first error is its headline, all errors are kept.
    ``source``: the sender, or one per event of a batch that combines several senders.
    ``key``: the site key the redaction hashes are made with (the pipeline passes it; without
    one, a key of this process: the values are redacted all the same)."""
    received_at = received_at or datetime.now(UTC)
    key = key or _PROCESS_KEY
    by_index: dict[int, list[dict[str, Any]]] = {}
    for err in result.errors:
        by_index.setdefault(err["index"], []).append(err)
    rows = []
    for i in result.rejected:
        errs = _safe_errors(by_index[i], key)
        rows.append({
            "id": str(uuid.uuid4()),
            "stream": stream,
            "received_at": received_at,
            "source": source if isinstance(source, str) else source[i],
            "raw": _raw(stream, events[i], key),
            "field": errs[0]["field"],
            "reason": errs[0]["reason"],
            "message": errs[0]["message"],
            "errors": orjson.dumps(errs).decode(),
            "state": "open",
            "updated_at": received_at,
        })
    return pl.DataFrame(rows, schema=SCHEMA)


SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
        "id": pl.String, "stream": pl.String, "received_at": pl.Datetime("ms", "UTC"),
        "source": pl.String, "raw": pl.String, "field": pl.String, "reason": pl.String,
        "message": pl.String, "errors": pl.String, "state": pl.String,
        "updated_at": pl.Datetime("ms", "UTC"),
}


def letter_updates(letters: pl.DataFrame, events: Sequence[Any],
                   errors: dict[int, list[dict[str, Any]]], now: datetime, *,
                   key: bytes | None = None) -> pl.DataFrame:
    """New versions of replayed letters: 'replayed' when the event went in, else still
    'open' with the reason it fails now (and the fixed payload, made safe like any other)."""
    key = key or _PROCESS_KEY
    rows = []
    for i, letter in enumerate(letters.iter_rows(named=True)):
        errs = _safe_errors(errors[i], key) if i in errors else None
        rows.append({
            **{k: letter[k] for k in ("id", "stream", "received_at", "source")},
            "raw": _raw(letter["stream"], events[i], key),
            "field": errs[0]["field"] if errs else letter["field"],
            "reason": errs[0]["reason"] if errs else letter["reason"],
            "message": errs[0]["message"] if errs else letter["message"],
            "errors": orjson.dumps(errs).decode() if errs else letter["errors"],
            "state": "open" if errs else "replayed",
            "updated_at": now,
        })
    return pl.DataFrame(rows, schema=SCHEMA)


def loads_or_text(text: str) -> Any:
    """A stored payload as JSON data, or as its text when it is not JSON (a letter may hold
    whatever was sent)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def fixed_fields(letters: Any, fixes: dict[str, Any]) -> dict[str, Any]:
    """What a replay with fixes changed, for its audit row: the letters and the names of the
    fields that differ from the stored payload — never the values (they may be the very
    personal data that was redacted)."""
    stored = {row["id"]: loads_or_text(row["raw"]) for row in letters.iter_rows(named=True)}
    changed: set[str] = set()
    for letter_id, event in fixes.items():
        before = stored.get(letter_id)
        if isinstance(event, dict) and isinstance(before, dict):
            changed |= {str(k) for k in event.keys() | before.keys() if event.get(k) != before.get(k)}
        else:
            changed.add("*")
    return {"letters": sorted(fixes)[:100], "fixed": len(fixes),
            "fields": sorted({pii.scrub(f) for f in changed})[:50]}
