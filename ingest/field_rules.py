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
TYPED = "__typed__"  # prefix of a field's typed value, before its rules
PRESENT = "__present__"  # prefix of a field's "a value was given" flag


def _typed(f: Field, raw: pl.Schema, exact_pii: bool = True
           ) -> tuple[pl.Expr, pl.Expr, list[tuple[str, pl.Expr]]]:
    """Return (typed value, present, [(reason, broken)…]) for one field, in rule order.

    The rules read the typed value and the presence as the columns ``TYPED``/``PRESENT`` +
    field name, which the plan computes once before them: written inline, every rule would
    repeat the typing expression, and planning those trees (on every batch) cost more than
    evaluating them. ``exact_pii`` off: personal data is only *suspected* by the field's
    regular expression, without the Python step (see ``_Plan.exact``)."""
    col = pl.col(f.name)
    dtype = raw[f.name]
    if dtype == pl.Null:
        col, dtype = col.cast(pl.String), pl.String()
    if dtype == pl.String:
        col = col.str.strip_chars()
        present_expr = col.is_not_null() & (col != "")
    else:
        present_expr = col.is_not_null()
    # (the mask is null for rows of a combined batch whose part needed none)
    bad_type = pl.col(f.name + BAD).fill_null(False) if f.name + BAD in raw else pl.lit(False)
    present_expr = present_expr | bad_type
    typed, present = pl.col(TYPED + f.name), pl.col(PRESENT + f.name)
    rules: list[tuple[str, pl.Expr]] = []
    if f.kind == "ts":
        return _typed_ts(col, dtype), present_expr, [("bad_type", bad_type)]
    if f.kind == "bool":
        return _typed_bool(col, dtype), present_expr, [("bad_type", bad_type | (present & typed.is_null()))]
    if f.kind == "int" and dtype.is_float():
        col = pl.when(col == col.floor()).then(col)
    if f.is_number:
        target = pl.Int64 if f.kind == "int" else pl.Float64
        if dtype == pl.String and f.kind == "int":
            # "3.0" from a spreadsheet is the integer 3; "3.5" is not an integer
            as_float = col.cast(pl.Float64, strict=False)
            typed_expr = pl.when(as_float == as_float.floor()).then(as_float).cast(pl.Int64, strict=False)
            typed_expr = pl.coalesce(col.cast(pl.Int64, strict=False), typed_expr)
        else:
            typed_expr = col.cast(target, strict=False)
        rules.append(("bad_type", bad_type | (present & typed.is_null())))
        rng = ~typed.is_finite() if f.kind == "float" else pl.lit(False)
        if f.min is not None:
            rng = rng | ((typed <= f.min) if f.min_exclusive else (typed < f.min))
        if f.max is not None:
            rng = rng | (typed > f.max)
        rules.append(("out_of_range", rng))
        return typed_expr, present_expr, rules
    rules.append(("bad_type", bad_type))
    if f.max_len is not None:
        rules.append(("too_long", typed.str.len_chars() > f.max_len))
    if f.kind == "enum":
        rules.append(("bad_enum", ~typed.is_in(list(f.values))))
    if f.name == "event_id":
        rules.append(("bad_format", ~typed.str.contains(EVENT_ID_RE)))
    # personal data (see ingest.pii: which rules apply to which fields); a field that is
    # personal data by contract (a courier number) is stored on purpose, not refused
    cls = None if f.personal else pii.field_class(f.name, f.kind)
    if cls is not None:
        rules.append(("pii_not_allowed", typed.map_batches(pii.detector(cls), return_dtype=pl.Boolean)
                      if exact_pii else typed.cast(pl.String).str.contains(pii.suspect_pattern(cls))
                      .fill_null(False)))
    if f.name == "source":  # the token names the sender; an event may not claim another
        rules.append(("source_mismatch", pl.col(BOUND) & (typed != pl.col(SRC))))
    return col, present_expr, rules


#: what a yes/no field accepts as text (JSON sends true/false; a spreadsheet 1/0 or 是/否)
BOOL_TEXT = {"true": True, "1": True, "是": True, "false": False, "0": False, "否": False}


def _typed_bool(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Boolean:
        return col
    if dtype.is_numeric():
        return pl.when(col == 1).then(pl.lit(True)).when(col == 0).then(pl.lit(False))
    return (col.cast(pl.String).str.to_lowercase()
            .replace_strict(BOOL_TEXT, default=None, return_dtype=pl.Boolean))


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
    values: list[pl.Expr]
    select: list[pl.Expr]
    clear: list[pl.Expr]
    checks: list[pl.Expr]
    faulty: pl.Expr
    ready: list[pl.Expr]
    output: list[pl.Expr]
    #: whether personal data is checked exactly (else only suspected, see ``plan_for``)
    exact: bool
    #: the reason columns of the fields checked for personal data
    pii_reasons: list[str]

    def apply(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        lf = lf.with_columns(self.values).select(*self.select).with_columns(self.clear)
        for chk in self.checks:
            lf = lf.with_columns(chk)
        return lf.with_columns(self.faulty).with_columns(self.ready)


_PLANS: dict[tuple[int, bool, tuple[tuple[str, pl.DataType], ...]], tuple[Stream, _Plan]] = {}
_PLANS_MAX = 256


def plan_for(stream: Stream, schema: pl.Schema, exact_pii: bool = True) -> _Plan:
    """The stream's plan over ``schema``, built once per (stream, schema, ``exact_pii``).

    ``exact_pii`` off: a value the field's personal-data expression merely *suspects* counts
    as personal data, without the Python step that clears most suspects (check digits, Luhn;
    ``ingest.pii``). Calling Python from inside a plan is its costliest part for a batch of
    clean events, and the suspects are a superset: when no event of a batch ends up rejected
    for personal data by this plan, the exact plan gives the same outcome, and otherwise the
    caller runs the exact one (``ingest.validate``)."""
    key = (id(stream), exact_pii, tuple(schema.items()))
    cached = _PLANS.get(key)
    if cached is not None and cached[0] is stream:  # an id is reused once its object is gone
        return cached[1]
    if len(_PLANS) >= _PLANS_MAX:  # odd schemas from odd clients: start over
        _PLANS.clear()
    plan = _build_plan(stream, schema, exact_pii)
    _PLANS[key] = (stream, plan)
    return plan


def _build_plan(stream: Stream, schema: pl.Schema, exact_pii: bool = True) -> _Plan:
    values: list[pl.Expr] = []
    typed_cols: list[pl.Expr] = [pl.col(IDX)]
    reason_cols: list[pl.Expr] = []
    for f in stream.all_fields:
        typed_expr, present_expr, rules = _typed(f, schema, exact_pii)
        values += [typed_expr.alias(TYPED + f.name), present_expr.alias(PRESENT + f.name)]
        typed, present = pl.col(TYPED + f.name), pl.col(PRESENT + f.name)
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
    suspects = [REASON + f.name for f in stream.all_fields
                if f.is_text and not f.personal and pii.field_class(f.name, f.kind) is not None]
    return _Plan(names, values, typed_cols + reason_cols + keep, clear, checks, faulty, ready, output,
                 exact_pii, suspects)


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
