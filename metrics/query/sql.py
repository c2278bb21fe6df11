"""The analyst query's SQL side: a :class:`~metrics.query.spec.QuerySpec` becomes one
parameterised statement per stream (identifiers only from the whitelist, every value a
``{name:Type}`` parameter), and the answers are joined, gap-filled and typed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import polars as pl

from ioc_app.storage import SqlStore
from metrics.query.spec import (
    DOMAINS,
    MAX_ROWS,
    Domain,
    Kind,
    Measure,
    QueryError,
    QuerySpec,
    Source,
    next_bucket,
)
from metrics.small_cells import MIN_CELL

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _ident(name: str) -> str:
    """Whitelist names only, and checked again before they reach SQL."""
    if not _IDENT.fullmatch(name):
        raise ValueError(f"not a plain identifier: {name!r}")  # the whitelist is broken
    return name


def _source_sql(domain: Domain, source: Source, measures: Sequence[Measure], spec: QuerySpec,
                zone: ZoneInfo) -> tuple[str, dict[str, object]]:
    """The SQL for one source's measures, with its parameters."""
    rollup = "1m" if spec.grain == "minute" else "1h"
    col = "minute" if rollup == "1m" else "hour"
    bucket = {
        "minute": "toUnixTimestamp(minute)",
        "hour": "toUnixTimestamp(hour)",
        "day": "toDate(hour, {tz:String})",
    }[spec.grain]
    inner_dims = tuple(dict.fromkeys((*spec.group_by, *source.series)))
    inner_select = [f"{bucket} AS b"]
    for name in inner_dims:
        dim = domain.dimension(name)
        inner_select.append(f"{dim.select.format(c=_ident(dim.col))} AS d_{_ident(name)}")
    inner_select += [f"{sql} AS p_{_ident(part)}" for part, sql in source.parts]
    where = [f"{col} >= {{start:DateTime('UTC')}}", f"{col} < {{end:DateTime('UTC')}}"]
    params: dict[str, object] = {"start": spec.start, "end": spec.end}
    if spec.grain == "day":
        params["tz"] = zone.key
    for i, (name, values) in enumerate(spec.filters):
        dim = domain.dimension(name)
        holders = []
        for j, value in enumerate(values):
            params[f"f{i}_{j}"] = value
            holders.append(f"{{f{i}_{j}:String}}")
        where.append(f"toString({_ident(dim.col)}) IN ({', '.join(holders)})")
    used = (*inner_dims, *(name for name, _ in spec.filters))
    table = f"{source.table}_1m" if rollup == "1m" else source.hour_table(used)
    group = ", ".join(["b", *(f"d_{n}" for n in inner_dims)])
    outer_select = ["b", *(f"d_{n} AS `{n}`" for n in spec.group_by)]
    outer_select += [f"{m.sql} AS `{_ident(m.name)}`" for m in measures]
    outer_group = ", ".join(["b", *(f"d_{n}" for n in spec.group_by)])
    sql = (
        f"SELECT {', '.join(outer_select)}\n"
        f"FROM (\n    SELECT {', '.join(inner_select)}\n"
        f"    FROM {_ident(table)}\n"
        f"    WHERE {' AND '.join(where)}\n"
        f"    GROUP BY {group}\n)\n"
        f"GROUP BY {outer_group}"
    )
    return sql, params


def small_cells_apply(spec: QuerySpec) -> bool:
    """Does the small-cell rule (``min_cell`` of :func:`run`) shape the answer to ``spec``?
    Only for a domain of latest states (the scores of ``enrollment``)."""
    return DOMAINS[spec.domain].answers is not None


def buckets(spec: QuerySpec, zone: ZoneInfo) -> pl.Series:
    """Every bucket of the range, as the ``b`` key the SQL returns (epoch seconds, or the
    local date for days)."""
    out: list[object] = []
    t = spec.start
    while t < spec.end:
        local = t.astimezone(zone)
        out.append(local.date() if spec.grain == "day" else local.year if spec.grain == "season"
                   else int(t.timestamp()))
        t = next_bucket(t, spec.grain, zone)
    return pl.Series("b", out, dtype=pl.Date if spec.grain == "day" else pl.Int64)


def run(store: SqlStore, spec: QuerySpec, zone: ZoneInfo, min_cell: int = MIN_CELL) -> pl.DataFrame:
    """The answer to ``spec``: columns ``<grain>, *group_by, *measures``, one row per bucket
    and group (empty buckets filled), ordered by bucket then groups.

    ``<grain>`` is a local aware datetime for minute/hour, a date for day, the admission
    year (Int64) for season; group columns are strings (``deny_reason`` null for passes);
    counts Int64, maxima Int64 or null, means and ratios Float64 or null. A domain of
    latest states answers itself (``Queryable.answers``); ``min_cell`` is its small-cell
    rule (``IOC_MIN_CELL``; 1 = exact, for the admissions role), unused by the others.
    """
    domain = DOMAINS[spec.domain]
    if domain.answers is not None:
        answer: pl.DataFrame = domain.answers(store, spec, zone, min_cell)
        return answer
    measures = [domain.measure(m) for m in spec.measures]
    keys = ["b", *spec.group_by]
    grid = buckets(spec, zone).to_frame()
    merged: pl.DataFrame | None = None
    for source in domain.sources:
        mine = [m for m in measures if m.source == source.stream]
        if not mine:
            continue
        sql, params = _source_sql(domain, source, mine, spec, zone)
        frame = _typed(store.query(sql, params), spec, mine)
        merged = frame if merged is None else merged.join(
            frame, on=keys, how="full", coalesce=True, nulls_equal=True)
    if merged is None:  # parse_spec never makes a spec without measures
        raise QueryError("bad_parameter", "name at least one measure")
    if spec.group_by:
        grid = every_group(grid, merged.select(spec.group_by).unique())
    out = grid.join(merged, on=keys, how="left", nulls_equal=True).with_columns(
        pl.col(m.name).fill_null(0) for m in measures if m.kind == "count")
    out = out.sort(keys, nulls_last=False)
    if spec.grain == "day":
        bucket = pl.col("b").alias("day")
    else:
        bucket = (pl.from_epoch("b", time_unit="s").dt.replace_time_zone("UTC")
                  .dt.convert_time_zone(zone.key).alias(spec.grain))
    return out.select(bucket, *spec.group_by, *spec.measures)


def every_group(grid: pl.DataFrame, groups: pl.DataFrame) -> pl.DataFrame:
    """Every bucket for every group, so a quiet group reads as zeros rather than missing rows,
    refused before it is built when that would pass the answer's row limit."""
    if grid.height * groups.height > MAX_ROWS:
        raise QueryError("too_many_rows", (
            f"the answer would have {grid.height * groups.height:,} rows ({grid.height} buckets × "
            f"{groups.height} groups), more than {MAX_ROWS:,}; narrow the range, filter, or group "
            f"by fewer dimensions"))
    return grid.join(groups, how="cross")


def _typed(frame: pl.DataFrame, spec: QuerySpec, measures: Sequence[Measure]) -> pl.DataFrame:
    """Fixed dtypes whatever the engine sent (an empty answer has none to infer from)."""
    dtypes: dict[Kind, pl.DataType] = {"count": pl.Int64(), "min": pl.Int64(), "max": pl.Int64(),
                                       "mean": pl.Float64(),
                                       "ratio": pl.Float64()}
    return frame.select(
        pl.col("b").cast(pl.Date if spec.grain == "day" else pl.Int64),
        *(pl.col(g).cast(pl.String) for g in spec.group_by),
        *(pl.col(m.name).cast(dtypes[m.kind]) for m in measures),
    )
