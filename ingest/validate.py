"""Vectorised validation of raw events against their stream's contract.

Raw events (dicts from JSON, or an all-string frame from CSV/XLSX) become one Polars frame
of typed, insert-ready rows plus a list of per-event errors. Every rule is a Polars
expression evaluated over whole columns; Python only touches each event once, to pick its
values out of the dict, and each *error* once, to phrase its message.

This module takes a batch in and hands the accepted rows and the rejections out; the rules
of each field, compiled once per raw schema, are in ``ingest.field_rules``, and what a
rejection says in ``ingest.rejection``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import Any, cast

import polars as pl

from ingest.contracts import Field, Stream
from ingest.field_rules import (
    BAD,
    BOUND,
    FAULTY,
    FUTURE,
    IDX,
    IP_OK,
    NOW,
    OLDEST,
    REASON,
    SRC,
    TS,
    plan_for,
    valid_ips,
)
from ingest.rejection import rejection, source_message

FUTURE_TOLERANCE = timedelta(minutes=5)
#: the plan selects every column it computes and filters nothing: the optimiser's passes find
#: nothing to gain and cost a few percent of a small batch's validation
_OPTIMIZATIONS = pl.QueryOptFlags.none()



@dataclass
class ValidationResult:
    """The outcome of validating one batch.

    ``frame`` holds the accepted events, typed as the raw table stores them (ts in UTC
    milliseconds, enums as their string value), in input order, with ``received_at``.
    ``index`` maps each frame row back to its position in the input. ``errors`` holds one
    entry per broken rule, ordered by event index; ``rejected`` the sorted indexes of the
    events with at least one error.
    """

    frame: pl.DataFrame
    index: list[int]
    errors: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.frame.height


@dataclass
class Prepared:
    """Parsed JSON events as raw columns, before any rule runs.

    Picking values out of dicts is the Python-bound part of validation; it is done per
    request, in the request's own thread, so that the rules can then run once over the
    columns of many requests together (see ``validate_prepared``).
    """

    frame: pl.DataFrame
    errors: list[dict[str, Any]]
    rows: list[dict[str, Any]]


def _allowed(stream: Stream) -> frozenset[str]:
    """The field names of a stream (kept: asked for every batch)."""
    names = _ALLOWED.get(stream.name)
    if names is None or names[0] is not stream:
        names = _ALLOWED[stream.name] = (stream, frozenset(f.name for f in stream.all_fields))
    return names[1]


_ALLOWED: dict[str, tuple[Stream, frozenset[str]]] = {}


def prepare(stream: Stream, events: Sequence[Any]) -> Prepared:
    """Raw columns of parsed JSON events (any Python values; non-objects are rejected)."""
    allowed = _allowed(stream)
    errors: list[dict[str, Any]] = []
    rows: list[dict[str, Any]]
    if set(map(type, events)) <= {dict} and set().union(*events) <= allowed:
        # the usual batch (objects with known fields only), checked without a Python loop
        rows = events if isinstance(events, list) else list(events)
    else:
        rows = []
        for i, ev in enumerate(events):
            if isinstance(ev, dict):
                rows.append(ev)
                if not allowed.issuperset(ev):
                    extra = ev.keys() - allowed
                    errors.extend(
                        rejection(stream, i, str(k), "unknown_field", ev.get(k))
                        for k in sorted(map(str, extra))
                    )
            else:
                rows.append({})
                errors.append(rejection(stream, i, "", "not_an_object", ev))
    # (a C loop over the rows per field: ``dict.get`` mapped, not a comprehension)
    columns = [_column(f, list(map(dict.get, rows, repeat(f.name)))) for f in stream.all_fields]
    return Prepared(pl.DataFrame([s for pair in columns for s in pair if s is not None]),
                    errors, rows)


def validate(
    stream: Stream,
    events: Sequence[Any],
    *,
    source: str | Sequence[str] | None = None,
    now: datetime | None = None,
) -> ValidationResult:
    """Validate parsed JSON events (any Python values; non-objects are rejected).

    ``source`` is the default for events that name none: one name, or one per event (when
    the batch combines requests of several source systems)."""
    return validate_prepared(stream, [prepare(stream, events)], source=source, now=now)


def validate_prepared(
    stream: Stream,
    parts: Sequence[Prepared],
    *,
    source: str | Sequence[str] | None = None,
    now: datetime | None = None,
) -> ValidationResult:
    """Validate several prepared batches as one: indexes run on across the parts.

    Parts may differ in their raw types (a column all numbers in one request, with a
    wrong-typed value in another): they are combined under their common type, which the
    rules read alike."""
    if len(parts) == 1:
        raw, errors, rows = parts[0].frame, list(parts[0].errors), parts[0].rows
    else:
        raw = pl.concat([p.frame for p in parts], how="diagonal_relaxed")
        errors, rows, offset = [], [], 0
        for p in parts:
            errors.extend({**e, "index": e["index"] + offset} for e in p.errors)
            rows.extend(p.rows)
            offset += len(p.rows)
    raw = raw.with_row_index(IDX) if raw.width else pl.DataFrame({IDX: range(len(rows))})
    return _finish(stream, raw, errors, lambda i, name: rows[i].get(name), source, now)


def validate_frame(
    stream: Stream,
    frame: pl.DataFrame | Any,
    *,
    source: str | None = None,
    now: datetime | None = None,
) -> ValidationResult:
    """Validate a tabular batch (CSV, XLSX, Parquet, or an Arrow table): columns are field names.

    Columns may be strings (CSV) or already typed (Parquet); both go through the same rules.
    """
    if not isinstance(frame, pl.DataFrame):
        # an Arrow table or record batch: a frame (from_arrow gives a Series only for an array)
        frame = cast("pl.DataFrame", pl.from_arrow(frame))
    allowed = {f.name for f in stream.all_fields}
    errors: list[dict[str, Any]] = []
    unknown = [c for c in frame.columns if c not in allowed]
    if unknown:
        present = frame.select(
            [pl.col(c).is_not_null().alias(c) for c in unknown]
        ).with_row_index(IDX)
        for c in unknown:
            for i in present.filter(pl.col(c))[IDX].to_list():
                errors.append(rejection(stream, i, c, "unknown_field", frame[c][i]))
    series = []
    for f in stream.all_fields:
        if f.name in frame.columns:
            s = frame[f.name]
            if s.dtype not in (pl.String, pl.Null) and not (
                s.dtype.is_numeric() and f.kind in ("int", "float", "ts", "bool")
            ) and not (s.dtype == pl.Boolean and f.kind == "bool"):
                s = s.cast(pl.String)
            series.append(s)
        else:
            series.append(pl.Series(f.name, [None] * frame.height, dtype=pl.String))
    raw = pl.DataFrame(series).with_row_index(IDX)
    return _finish(stream, raw, errors, lambda i, name: frame[name][i] if name in frame.columns else None,
                   source, now)


def _column(f: Field, values: list[Any]) -> tuple[pl.Series, pl.Series | None]:
    """Build one raw column; mixed or wrong Python types fall back to strings plus a mask."""
    try:
        s = pl.Series(f.name, values, strict=True)
        # a strict numeric Series still takes true/false as 1/0: JSON booleans are not numbers
        if _fits(f, s.dtype) and not (s.dtype.is_numeric() and bool in set(map(type, values))):
            return s, None
    except (TypeError, OverflowError, ValueError, pl.exceptions.PolarsError):
        pass
    text: list[str | None] = []
    bad: list[bool] = []
    for v in values:
        ok = _python_type_ok(f, v)
        bad.append(not ok)
        text.append(None if v is None or not ok else (v if isinstance(v, str) else repr(v)))
    return pl.Series(f.name, text, dtype=pl.String), pl.Series(f.name + BAD, bad, dtype=pl.Boolean)


def _fits(f: Field, dtype: pl.DataType) -> bool:
    if dtype == pl.Null:
        return True
    if f.is_text:
        return dtype == pl.String
    if f.kind == "ts":
        return dtype in (pl.String, pl.Int64)
    if f.kind == "int":
        return dtype in (pl.Int64, pl.String)
    if f.kind == "bool":
        return dtype in (pl.Boolean, pl.Int64, pl.String)
    return dtype in (pl.Int64, pl.Float64, pl.String)


def _python_type_ok(f: Field, v: Any) -> bool:
    if v is None:
        return True
    if f.kind == "bool":
        return isinstance(v, (bool, str)) or (isinstance(v, int) and v in (0, 1))
    if isinstance(v, bool):
        return False
    if f.is_text:
        return isinstance(v, str)
    if f.kind == "int":
        return isinstance(v, (int, str)) or (isinstance(v, float) and v.is_integer())
    return isinstance(v, (int, float, str))


def _finish(
    stream: Stream,
    raw: pl.DataFrame,
    errors: list[dict[str, Any]],
    value_of: Any,
    source: str | Sequence[str] | None,
    now: datetime | None,
) -> ValidationResult:
    now = (now or datetime.now(UTC)).astimezone(UTC)  # any aware time; compared in UTC
    plan = plan_for(stream, raw.schema, exact_pii=False)
    sources = (pl.lit(source or "unknown", pl.String) if source is None or isinstance(source, str)
               else pl.Series(list(source), dtype=pl.String))
    inputs = raw.lazy().with_columns(
        pl.lit(now).cast(TS).alias(NOW),
        pl.lit(now + FUTURE_TOLERANCE).cast(TS).alias(FUTURE),
        pl.lit(now - timedelta(days=stream.retention_days)).cast(TS).alias(OLDEST),
        pl.lit(sources).alias(SRC) if isinstance(sources, pl.Series) else sources.alias(SRC),
        pl.lit(source is not None).alias(BOUND),
        *(pl.col(f.name).cast(pl.String).str.strip_chars().is_in(valid_ips(raw, f.name))
          .alias(IP_OK + f.name) for f in stream.all_fields if f.kind == "ip"),
    )
    # one plan, one collect: the fixed cost of a collect dominates small batches, so the
    # common case (every event valid) takes no further step
    both = plan.apply(inputs).collect(optimizations=_OPTIMIZATIONS)
    faulty = both[FAULTY]
    if plan.pii_reasons and faulty.any() and both.select(
            pl.any_horizontal(pl.col(plan.pii_reasons) == "pii_not_allowed").any()).item():
        # a value looked like personal data: decide with the exact checks (see ``plan_for``)
        plan = plan_for(stream, raw.schema, exact_pii=True)
        both = plan.apply(inputs).collect(optimizations=_OPTIMIZATIONS)
        faulty = both[FAULTY]
    if not errors and not faulty.any():
        return ValidationResult(both.select(plan.output), list(range(both.height)), [], [])
    names = plan.names
    reasons = both.filter(faulty).select(
        pl.col(IDX), *(pl.col(REASON + n).alias(n) for n in names)
    )
    long = reasons.unpivot(index=IDX, variable_name="field", value_name="reason").drop_nulls("reason")
    not_objects = [e["index"] for e in errors if e["reason"] == "not_an_object"]
    if not_objects:  # one error says it all for a non-object
        long = long.filter(~pl.col(IDX).is_in(not_objects))
    checks = {(c.field, c.reason): c.message for c in stream.checks}
    for i, name, code in long.sort(IDX).iter_rows():
        message = checks.get((name, code))
        if code == "source_mismatch":
            message = source_message(value_of(i, name), source if source is None or isinstance(source, str)
                                      else source[i])
        errors.append(rejection(stream, i, name, code, value_of(i, name), message))
    errors.sort(key=lambda e: e["index"])
    rejected = sorted({e["index"] for e in errors})
    good = both.filter(~pl.col(IDX).is_in(rejected)) if rejected else both
    return ValidationResult(good.select(plan.output), good[IDX].to_list(), errors, rejected)
