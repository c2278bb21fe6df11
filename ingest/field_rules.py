"""The rules of each field of a stream, as Polars expressions compiled into one plan.

A field's rules run in order (missing, wrong type, out of range, too long, not in the
enumeration, malformed, personal data, another source's name, a time in the future or
older than the stream keeps); the first broken one is the field's reason. Cross-field
checks see only values that passed their own field's rules. The plan also types the checked
columns as the raw table stores them. ``ingest.validate`` runs it over each batch.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from ingest import pii
from ingest.contracts import Field, Stream

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

EVENT_ID_RE = r"^[A-Za-z0-9._:-]{1,64}$"
RFC3339_FMT = "%Y-%m-%dT%H:%M:%S%.f%:z"
#: the working columns of a batch (names no contract field can have)
IDX = "__index"
BAD = "__bad__"  # suffix of the per-column "value had a wrong Python type" mask
REASON = "__reason__"
TS = pl.Datetime("ms", "UTC")
FUTURE = "__future"  # the latest acceptable ts of this batch
OLDEST = "__oldest"  # the earliest acceptable ts of this batch (the stream's retention)
IP_OK = "__ip_ok__"  # per ip field: the value is an address literal
NOW = "__now"  # when the batch was received
SRC = "__src"  # the source system to assume where an event names none
BOUND = "__bound"  # the batch came with a token's source: an event's own source must match
FAULTY = "__faulty"
OUT = "__out__"


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
    bad_type = pl.col(f.name + BAD).fill_null(False) if f.name + BAD in raw else pl.lit(False)
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
        rules.append(("source_mismatch", pl.col(BOUND) & (typed != pl.col(SRC))))
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


def plan_for(stream: Stream, schema: pl.Schema) -> _Plan:
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
    typed_cols: list[pl.Expr] = [pl.col(IDX)]
    reason_cols: list[pl.Expr] = []
    for f in stream.all_fields:
        typed, present, rules = _typed(f, schema)
        reason: Then | ChainedThen = pl.when(
            ~present & pl.lit(f.required) & pl.lit(not _derivable(stream, f))).then(pl.lit("missing"))
        for code, broken in rules:
            reason = reason.when(present & broken.fill_null(True)).then(pl.lit(code))
        if f.kind == "ts":
            reason = reason.when(present & typed.is_null()).then(pl.lit("bad_format"))
            reason = reason.when(present & (typed > pl.col(FUTURE))).then(pl.lit("in_future"))
            reason = reason.when(present & (typed < pl.col(OLDEST))).then(pl.lit("too_old"))
        if f.kind == "ip":
            reason = reason.when(present & ~pl.col(IP_OK + f.name)).then(pl.lit("bad_format"))
        reason_cols.append(reason.otherwise(pl.lit(None, pl.String)).alias(REASON + f.name))
        typed_cols.append(pl.when(present).then(typed).alias(f.name))
    names = [f.name for f in stream.all_fields]
    # cross-field rules see only values that passed their own field's rules
    clear = [pl.when(pl.col(REASON + n).is_null()).then(pl.col(n)).alias(n) for n in names]
    checks = [
        pl.when(pl.col(REASON + chk.field).is_null() & chk.bad().fill_null(False))
        .then(pl.lit(chk.reason))
        .otherwise(pl.col(REASON + chk.field))
        .alias(REASON + chk.field)
        for chk in stream.checks
    ]
    faulty = pl.any_horizontal(pl.col(REASON + n).is_not_null() for n in names).alias(FAULTY)
    ready, output = _insert_ready(stream)
    keep = [pl.col(c) for c in (NOW, SRC)]
    return _Plan(names, typed_cols + reason_cols + keep, clear, checks, faulty, ready, output)


def _derivable(stream: Stream, f: Field) -> bool:
    return f.name == "event_id" and stream.event_id == "derived"


def valid_ips(raw: pl.DataFrame, name: str) -> list[str]:
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
            e = e.fill_null(pl.col(SRC))
        if _derivable(stream, f):
            derived = pl.concat_str(
                [*(pl.col(k) for k in stream.derive_id_from),
                 pl.col("ts").dt.epoch("ms").cast(pl.String)],
                separator=":",
            )
            e = pl.coalesce(e, derived)
        exprs.append(e.alias(OUT + f.name))
    stamp = "received_at" if stream.kind == "event" else "imported_at"
    exprs.append(pl.col(NOW).alias(OUT + stamp))
    output = [pl.col(OUT + n).alias(n) for n in [*(f.name for f in stream.all_fields), stamp]]
    return exprs, output
