"""Vectorised validation of raw events against their stream's contract.

Raw events (dicts from JSON, or an all-string frame from CSV/XLSX) become one Polars frame
of typed, insert-ready rows plus a list of per-event errors. Every rule is a Polars
expression evaluated over whole columns; Python only touches each event once, to pick its
values out of the dict, and each *error* once, to phrase its message.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import polars as pl

from ingest import pii
from ingest.contracts import Field, Stream

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

FUTURE_TOLERANCE = timedelta(minutes=5)
EVENT_ID_RE = r"^[A-Za-z0-9._:-]{1,64}$"
RFC3339_FMT = "%Y-%m-%dT%H:%M:%S%.f%:z"
_IDX = "__index"
_BAD = "__bad__"  # suffix of the per-column "value had a wrong Python type" mask
_REASON = "__reason__"
_OPTIMIZATIONS = pl.QueryOptFlags()


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


def prepare(stream: Stream, events: Sequence[Any]) -> Prepared:
    """Raw columns of parsed JSON events (any Python values; non-objects are rejected)."""
    allowed = {f.name for f in stream.all_fields}
    errors: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for i, ev in enumerate(events):
        if isinstance(ev, dict):
            rows.append(ev)
            if not allowed.issuperset(ev):
                extra = ev.keys() - allowed
                errors.extend(
                    _error(stream, i, str(k), "unknown_field", ev.get(k))
                    for k in sorted(map(str, extra))
                )
        else:
            rows.append({})
            errors.append(_error(stream, i, "", "not_an_object", ev))
    columns = [_column(f, [r.get(f.name) for r in rows]) for f in stream.all_fields]
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
    raw = raw.with_row_index(_IDX) if raw.width else pl.DataFrame({_IDX: range(len(rows))})
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
        ).with_row_index(_IDX)
        for c in unknown:
            for i in present.filter(pl.col(c))[_IDX].to_list():
                errors.append(_error(stream, i, c, "unknown_field", frame[c][i]))
    series = []
    for f in stream.all_fields:
        if f.name in frame.columns:
            s = frame[f.name]
            if s.dtype not in (pl.String, pl.Null) and not (
                s.dtype.is_numeric() and f.kind in ("int", "float", "ts")
            ):
                s = s.cast(pl.String)
            series.append(s)
        else:
            series.append(pl.Series(f.name, [None] * frame.height, dtype=pl.String))
    raw = pl.DataFrame(series).with_row_index(_IDX)
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
    return pl.Series(f.name, text, dtype=pl.String), pl.Series(f.name + _BAD, bad, dtype=pl.Boolean)


def _fits(f: Field, dtype: pl.DataType) -> bool:
    if dtype == pl.Null:
        return True
    if f.is_text:
        return dtype == pl.String
    if f.kind == "ts":
        return dtype in (pl.String, pl.Int64)
    if f.kind == "int":
        return dtype in (pl.Int64, pl.String)
    return dtype in (pl.Int64, pl.Float64, pl.String)


def _python_type_ok(f: Field, v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, bool):
        return False
    if f.is_text:
        return isinstance(v, str)
    if f.kind == "int":
        return isinstance(v, (int, str)) or (isinstance(v, float) and v.is_integer())
    return isinstance(v, (int, float, str))


def _typed(f: Field, raw: pl.Schema) -> tuple[pl.Expr, pl.Expr, list[tuple[str, pl.Expr]]]:
    """Return (typed value, present, [(reason, broken)…]) for one field, in rule order."""
    col = pl.col(f.name)
    dtype = raw[f.name]
    if dtype == pl.Null:
        col, dtype = col.cast(pl.String), pl.String()
    if dtype == pl.String:
        col = col.str.strip_chars()
        present = col.is_not_null() & (col != "")
    else:
        present = col.is_not_null()
    # (the mask is null for rows of a combined batch whose part needed none)
    bad_type = pl.col(f.name + _BAD).fill_null(False) if f.name + _BAD in raw else pl.lit(False)
    present = present | bad_type
    rules: list[tuple[str, pl.Expr]] = []
    if f.kind == "ts":
        return _typed_ts(col, dtype), present, [("bad_type", bad_type)]
    if f.kind == "int" and dtype.is_float():
        col = pl.when(col == col.floor()).then(col)
    if f.is_number:
        target = pl.Int64 if f.kind == "int" else pl.Float64
        if dtype == pl.String and f.kind == "int":
            # "3.0" from a spreadsheet is the integer 3; "3.5" is not an integer
            as_float = col.cast(pl.Float64, strict=False)
            typed = pl.when(as_float == as_float.floor()).then(as_float).cast(pl.Int64, strict=False)
            typed = pl.coalesce(col.cast(pl.Int64, strict=False), typed)
        else:
            typed = col.cast(target, strict=False)
        rules.append(("bad_type", bad_type | (present & typed.is_null())))
        rng = ~typed.is_finite() if f.kind == "float" else pl.lit(False)
        if f.min is not None:
            rng = rng | ((typed <= f.min) if f.min_exclusive else (typed < f.min))
        if f.max is not None:
            rng = rng | (typed > f.max)
        rules.append(("out_of_range", rng))
        return typed, present, rules
    typed = col
    rules.append(("bad_type", bad_type))
    if f.max_len is not None:
        rules.append(("too_long", typed.str.len_chars() > f.max_len))
    if f.kind == "enum":
        rules.append(("bad_enum", ~typed.is_in(list(f.values))))
    if f.name == "event_id":
        rules.append(("bad_format", ~typed.str.contains(EVENT_ID_RE)))
    cls = pii.field_class(f.name, f.kind)
    if cls is not None:  # personal data (see ingest.pii: which rules apply to which fields)
        rules.append(("pii_not_allowed", typed.map_batches(pii.detector(cls), return_dtype=pl.Boolean)))
    if f.name == "source":  # the token names the sender; an event may not claim another
        rules.append(("source_mismatch", pl.col(_BOUND) & (typed != pl.col(_SRC))))
    return typed, present, rules


def _typed_ts(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Int64:
        return pl.from_epoch(col, time_unit="ms").dt.replace_time_zone("UTC")
    digits = col.str.contains(r"^-?[0-9]+$")
    epoch = pl.from_epoch(
        pl.when(digits).then(col).cast(pl.Int64, strict=False), time_unit="ms"
    ).dt.replace_time_zone("UTC")
    text = col.str.replace(r"[Zz]$", "+00:00").str.to_datetime(
        RFC3339_FMT, strict=False, time_unit="ms", time_zone="UTC"
    )
    return pl.when(digits).then(epoch).otherwise(text)


def _finish(
    stream: Stream,
    raw: pl.DataFrame,
    errors: list[dict[str, Any]],
    value_of: Any,
    source: str | Sequence[str] | None,
    now: datetime | None,
) -> ValidationResult:
    now = (now or datetime.now(UTC)).astimezone(UTC)  # any aware time; compared in UTC
    plan = _plan(stream, raw.schema)
    sources = (pl.lit(source or "unknown", pl.String) if source is None or isinstance(source, str)
               else pl.Series(list(source), dtype=pl.String))
    inputs = raw.with_columns(
        pl.lit(now).cast(_TS).alias(_NOW),
        pl.lit(now + FUTURE_TOLERANCE).cast(_TS).alias(_FUTURE),
        pl.lit(now - timedelta(days=stream.retention_days)).cast(_TS).alias(_OLDEST),
        sources.alias(_SRC),
        pl.lit(source is not None).alias(_BOUND),
        *(pl.col(f.name).cast(pl.String).str.strip_chars().is_in(_valid_ips(raw, f.name))
          .alias(_IP_OK + f.name) for f in stream.all_fields if f.kind == "ip"),
    )
    # one plan, one collect: the fixed cost of a collect dominates small batches, so the
    # common case (every event valid) takes no further step
    both = plan.apply(inputs.lazy()).collect(optimizations=_OPTIMIZATIONS)
    faulty = both[_FAULTY]
    if not errors and not faulty.any():
        return ValidationResult(both.select(plan.output), list(range(both.height)), [], [])
    names = plan.names
    reasons = both.filter(faulty).select(
        pl.col(_IDX), *(pl.col(_REASON + n).alias(n) for n in names)
    )
    long = reasons.unpivot(index=_IDX, variable_name="field", value_name="reason").drop_nulls("reason")
    not_objects = [e["index"] for e in errors if e["reason"] == "not_an_object"]
    if not_objects:  # one error says it all for a non-object
        long = long.filter(~pl.col(_IDX).is_in(not_objects))
    checks = {(c.field, c.reason): c.message for c in stream.checks}
    for i, name, code in long.sort(_IDX).iter_rows():
        message = checks.get((name, code))
        if code == "source_mismatch":
            message = _source_message(value_of(i, name), source if source is None or isinstance(source, str)
                                      else source[i])
        errors.append(_error(stream, i, name, code, value_of(i, name), message))
    errors.sort(key=lambda e: e["index"])
    rejected = sorted({e["index"] for e in errors})
    good = both.filter(~pl.col(_IDX).is_in(rejected)) if rejected else both
    return ValidationResult(good.select(plan.output), good[_IDX].to_list(), errors, rejected)


_TS = pl.Datetime("ms", "UTC")
_FUTURE = "__future"  # the latest acceptable ts of this batch
_OLDEST = "__oldest"  # the earliest acceptable ts of this batch (the stream's retention)
_IP_OK = "__ip_ok__"  # per ip field: the value is an address literal
_NOW = "__now"  # when the batch was received
_SRC = "__src"  # the source system to assume where an event names none
_BOUND = "__bound"  # the batch came with a token's source: an event's own source must match
_FAULTY = "__faulty"


@dataclass(frozen=True)
class _Plan:
    """The rules of a stream over one raw schema, as Polars expressions.

    Building ~150 expressions costs milliseconds of Python per batch; batches of one stream
    nearly always have the same raw schema, so the expressions are built once and reused.
    Everything that changes per batch (the time window, which IPs parse) comes in as
    columns of the input.
    """

    names: list[str]
    select: list[pl.Expr]
    clear: list[pl.Expr]
    checks: list[pl.Expr]
    faulty: pl.Expr
    ready: list[pl.Expr]
    output: list[pl.Expr]

    def apply(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        lf = lf.select(*self.select).with_columns(self.clear)
        for chk in self.checks:
            lf = lf.with_columns(chk)
        return lf.with_columns(self.faulty).with_columns(self.ready)


_PLANS: dict[tuple[int, tuple[tuple[str, pl.DataType], ...]], tuple[Stream, _Plan]] = {}
_PLANS_MAX = 256


def _plan(stream: Stream, schema: pl.Schema) -> _Plan:
    key = (id(stream), tuple(schema.items()))
    cached = _PLANS.get(key)
    if cached is not None and cached[0] is stream:  # an id is reused once its object is gone
        return cached[1]
    if len(_PLANS) >= _PLANS_MAX:  # odd schemas from odd clients: start over
        _PLANS.clear()
    plan = _build_plan(stream, schema)
    _PLANS[key] = (stream, plan)
    return plan


def _build_plan(stream: Stream, schema: pl.Schema) -> _Plan:
    typed_cols: list[pl.Expr] = [pl.col(_IDX)]
    reason_cols: list[pl.Expr] = []
    for f in stream.all_fields:
        typed, present, rules = _typed(f, schema)
        reason: Then | ChainedThen = pl.when(
            ~present & pl.lit(f.required) & pl.lit(not _derivable(stream, f))).then(pl.lit("missing"))
        for code, broken in rules:
            reason = reason.when(present & broken.fill_null(True)).then(pl.lit(code))
        if f.kind == "ts":
            reason = reason.when(present & typed.is_null()).then(pl.lit("bad_format"))
            reason = reason.when(present & (typed > pl.col(_FUTURE))).then(pl.lit("in_future"))
            reason = reason.when(present & (typed < pl.col(_OLDEST))).then(pl.lit("too_old"))
        if f.kind == "ip":
            reason = reason.when(present & ~pl.col(_IP_OK + f.name)).then(pl.lit("bad_format"))
        reason_cols.append(reason.otherwise(pl.lit(None, pl.String)).alias(_REASON + f.name))
        typed_cols.append(pl.when(present).then(typed).alias(f.name))
    names = [f.name for f in stream.all_fields]
    # cross-field rules see only values that passed their own field's rules
    clear = [pl.when(pl.col(_REASON + n).is_null()).then(pl.col(n)).alias(n) for n in names]
    checks = [
        pl.when(pl.col(_REASON + chk.field).is_null() & chk.bad().fill_null(False))
        .then(pl.lit(chk.reason))
        .otherwise(pl.col(_REASON + chk.field))
        .alias(_REASON + chk.field)
        for chk in stream.checks
    ]
    faulty = pl.any_horizontal(pl.col(_REASON + n).is_not_null() for n in names).alias(_FAULTY)
    ready, output = _insert_ready(stream)
    keep = [pl.col(c) for c in (_NOW, _SRC)]
    return _Plan(names, typed_cols + reason_cols + keep, clear, checks, faulty, ready, output)


def _derivable(stream: Stream, f: Field) -> bool:
    return f.name == "event_id" and stream.event_id == "derived"


def _valid_ips(raw: pl.DataFrame, name: str) -> list[str]:
    """IP literals are rare (security findings); check each distinct one with the stdlib."""
    good = []
    for v in raw[name].drop_nulls().unique().to_list():
        try:
            ipaddress.ip_address(str(v).strip())
            good.append(str(v).strip())
        except ValueError:
            pass
    return good


def _insert_ready(stream: Stream) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Expressions typing the checked columns as the raw table stores them, and the names of
    the insert-ready columns (``out`` + field name, so the checked values stay for errors)."""
    from ingest.contracts import pl_type

    exprs = []
    for f in stream.all_fields:
        e = pl.col(f.name).cast(pl_type(f))
        if f.name == "source":
            e = e.fill_null(pl.col(_SRC))
        if _derivable(stream, f):
            derived = pl.concat_str(
                [*(pl.col(k) for k in stream.derive_id_from),
                 pl.col("ts").dt.epoch("ms").cast(pl.String)],
                separator=":",
            )
            e = pl.coalesce(e, derived)
        exprs.append(e.alias(_OUT + f.name))
    stamp = "received_at" if stream.kind == "event" else "imported_at"
    exprs.append(pl.col(_NOW).alias(_OUT + stamp))
    output = [pl.col(_OUT + n).alias(n) for n in [*(f.name for f in stream.all_fields), stamp]]
    return exprs, output


_OUT = "__out__"


def _error(
    stream: Stream, index: int, name: str, code: str, value: Any, message: str | None = None
) -> dict[str, Any]:
    return {
        "index": index,
        "field": name,
        "reason": code,
        "message": message or explain(stream, name, code, value),
    }


def explain(stream: Stream, name: str, code: str, value: Any) -> str:
    """A message that says what to change, in the integrator's terms."""
    shown = _show(value)
    if code == "not_an_object":
        return f"each event must be a JSON object with the fields of {stream.name}; got {shown}"
    if code == "unknown_field":
        names = ", ".join(f.name for f in stream.all_fields)
        return (f"{stream.name} has no field {pii.scrub(repr(name))}; remove it or rename it to "
                f"one of: {names}")
    f = stream.field(name)
    if code == "missing":
        return f"{name} is required in {stream.name}; send it with a non-empty value"
    if code == "bad_type":
        want = {
            "int": "an integer", "float": "a number", "ts": "an RFC 3339 string or epoch milliseconds",
        }.get(f.kind, "a string")
        return f"{name} must be {want}; got {shown}"
    if code == "too_long":
        return f"{name} may be at most {f.max_len} characters; shorten {shown}"
    if code == "out_of_range":
        lo = "" if f.min is None else (f"> {f.min:g}" if f.min_exclusive else f">= {f.min:g}")
        hi = "" if f.max is None else f"<= {f.max:g}"
        rng = " and ".join(x for x in (lo, hi) if x) or "a finite number"
        return f"{name} must be {rng}; got {shown}"
    if code == "bad_enum":
        return f"{name} must be one of: {', '.join(f.values)}; got {shown}"
    if code == "pii_not_allowed":
        return (f"{name} holds personal data (an ID-card, mobile or bank-card number, an e-mail "
                f"address or a name); send a pseudonymous key instead (the value is not repeated "
                f"here)")
    if code == "source_mismatch":
        return _source_message(value, None)
    if code == "bad_format":
        if name == "event_id":
            return f"event_id must be 1–64 characters of A-Z a-z 0-9 . _ : -; got {shown}"
        if f.kind == "ip":
            return f"{name} must be an IPv4 or IPv6 address literal; got {shown}"
        return (f"{name} must be RFC 3339 with an offset (e.g. 2026-09-01T08:03:12.345+08:00) "
                f"or epoch milliseconds; got {shown}")
    if code == "in_future":
        return f"ts {shown} is more than 5 minutes in the future; check the source's clock"
    if code == "too_old":
        hint = " (it looks like epoch seconds: send milliseconds)" if _looks_like_seconds(value) else ""
        return (f"ts {shown} is older than the {stream.retention_days}-day retention of "
                f"{stream.name}{hint}")
    if code == "inconsistent":
        return f"{name} contradicts another field of the event; got {shown}"
    return f"{name}: {code}"


def _source_message(value: Any, token_source: str | None) -> str:
    return (f"source {_show(value)} is not the source of the ingest token ({token_source!r}); leave "
            f"source out (it defaults to the token's), or send these events with the token of "
            f"{_show(value)}")


def _looks_like_seconds(value: Any) -> bool:
    s = str(value).strip()
    return s.isdigit() and 9 <= len(s) <= 10


def _show(value: Any) -> str:
    """A value as a message may quote it: personal data and binary blobs are never repeated
    (messages go back to the sender and into the dead-letter store)."""
    if isinstance(value, str) and pii.looks_binary(value):
        return f"<binary data, {len(value)} characters>"
    text = repr(value)
    if len(text) > 80:  # scrubbed beyond the cut, so no number is shown in part
        return pii.scrub(text[:300])[:77] + "..."
    return pii.scrub(text)
