"""Comparing periods (``compare=previous|last_year``): the asked question over a second range,
lined up bucket by bucket with the first.

- ``previous``: the range of the same length just before (the same number of local days for
  ``grain=day``, so a week is compared with the week before whatever a clock change did).
- ``last_year``: the same calendar dates one year earlier, in the site's zone (29 February
  lines up with 28 February).

A domain whose calendar is not the civil one supplies its own rule
(:class:`metrics.domain.Comparer`: enrollment lines up the same day of the previous admission
season); this module uses it where given and the calendar's rule otherwise.

Each answer row keeps every measure ``m`` and adds ``m_cmp`` (the comparison period's value
for the aligned bucket and the same group) and ``m_diff`` (``m − m_cmp``, null when either is
null). Groups seen in either period are listed, so a gate that was busy last year and is
quiet now shows its drop. Counts of a group the other period did not see are 0, like any
empty bucket; means, maxima and ratios null.

A comparison period the store cannot answer is refused rather than read as zeros: minutes
older than the minute rollups keep, a period that starts before the first data the store
holds for the asked measures (a store started last week has no last year), or one that
covers a whole local day on which none of the domain's streams holds anything (every campus
day has gate passes and network samples; a silent day is data that never arrived, unless the
domain says its data come in seasons) — the message says what to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from ioc_app.storage import SqlStore
from metrics.query.spec import (
    DOMAINS,
    MINUTE_KEPT,
    Domain,
    QueryError,
    QuerySpec,
    floor_bucket,
)
from metrics.query.sql import _ident, run
from metrics.small_cells import MIN_CELL
from metrics.times import local_midnight

__all__ = ["comparison_range", "comparison_spec", "earliest_stored", "run_compared"]


def _year_earlier(day: date) -> date:
    """The same calendar date a year before; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _local_year_earlier(t: datetime, zone: ZoneInfo) -> datetime:
    """``t`` (aware) at the same local wall time one calendar year earlier, as aware UTC."""
    local = t.astimezone(zone)
    day = _year_earlier(local.date())
    return datetime(day.year, day.month, day.day, local.hour, local.minute, local.second,
                    tzinfo=zone).astimezone(UTC)


def _local_days(start: datetime, end: datetime, zone: ZoneInfo) -> int:
    return (end.astimezone(zone).date() - start.astimezone(zone).date()).days


def calendar_period(kind: str, start: datetime, end: datetime, grain: str,
                    zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The comparison range of ``[start, end)`` by the civil calendar (aware UTC)."""
    if kind == "previous":
        if grain == "day":
            days = _local_days(start, end, zone)
            first = start.astimezone(zone).date() - timedelta(days=days)
            return local_midnight(first, zone), start
        return start - (end - start), start
    if grain == "day":
        return (local_midnight(_year_earlier(start.astimezone(zone).date()), zone),
                local_midnight(_year_earlier(end.astimezone(zone).date()), zone))
    g: Any = grain
    return (floor_bucket(_local_year_earlier(start, zone), g, zone),
            floor_bucket(_local_year_earlier(end, zone), g, zone))


def calendar_align(kind: str, bucket: Any, start: datetime, cmp_start: datetime, grain: str,
                   zone: ZoneInfo) -> Any:
    """The comparison bucket that ``bucket`` (a local date for days, an aware local datetime
    otherwise) lines up with, by the civil calendar."""
    if bucket is None:
        return None
    if kind == "previous":
        if grain == "day":
            return bucket - timedelta(days=_local_days(cmp_start, start, zone))
        return (bucket - (start - cmp_start)).astimezone(zone)
    if grain == "day":
        return _year_earlier(bucket)
    return _local_year_earlier(bucket, zone).astimezone(zone)


def comparison_range(spec: QuerySpec, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The comparison period of ``spec`` (aware UTC, end exclusive), by the domain's rule."""
    if spec.compare is None:
        raise ValueError("the question asks for no comparison")
    domain = DOMAINS[spec.domain]
    rule = domain.compare.period if domain.compare is not None else None
    period = rule or calendar_period
    first, last = period(spec.compare, spec.start, spec.end, spec.grain, zone)
    return first, last


def comparison_spec(spec: QuerySpec, zone: ZoneInfo, now: datetime | None = None) -> QuerySpec:
    """The same question over the comparison period, or a :class:`QueryError` when the minute
    rollups no longer keep it."""
    first, last = comparison_range(spec, zone)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    if spec.grain == "minute" and first < floor_bucket(now - MINUTE_KEPT, "minute", zone):
        raise QueryError("bad_parameter", (
            f"compare={spec.compare} needs minutes from {first.astimezone(zone).isoformat()}, but minute "
            f"buckets are kept {MINUTE_KEPT.days} days; use grain=hour or grain=day, "
            f"or compare=previous"))
    return replace(spec, start=first, end=last, compare=None)


def earliest_stored(store: SqlStore, tables: Sequence[str], grain: str) -> datetime | None:
    """The first bucket any of the rollup ``tables`` holds (aware UTC), or None when empty."""
    col = "minute" if grain == "minute" else "hour"
    firsts = []
    for table in tables:
        frame = store.query(f"SELECT toUnixTimestamp(min({col})) AS t, count() AS n FROM {_ident(table)}")
        if frame.height and frame["n"][0]:
            firsts.append(int(frame["t"][0]))
    return datetime.fromtimestamp(min(firsts), UTC) if firsts else None


def silent_days(store: SqlStore, tables: Sequence[str], start: datetime, end: datetime,
                zone: ZoneInfo) -> list[date]:
    """The local days lying wholly inside ``[start, end)`` on which none of the hourly rollup
    ``tables`` holds a row."""
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    whole = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    whole = [d for d in whole
             if local_midnight(d, zone) >= start and local_midnight(d + timedelta(days=1), zone) <= end]
    if not whole or not tables:
        return []
    union = " UNION ALL ".join(
        f"SELECT DISTINCT toString(toDate(hour, {{tz:String}})) AS d FROM {_ident(t)} "
        f"WHERE hour >= {{start:DateTime('UTC')}} AND hour < {{end:DateTime('UTC')}}" for t in tables)
    frame = store.query(union, {"tz": zone.key, "start": start, "end": end})
    seen = {date.fromisoformat(d) for d in frame.get_column("d").to_list()} if frame.height else set()
    return [d for d in whole if d not in seen]


def _tables(domain: Domain, spec: QuerySpec) -> list[str]:
    rollup = "1m" if spec.grain == "minute" else "1h"
    streams = {domain.measure(m).source for m in spec.measures}
    return [f"{s.table}_{rollup}" for s in domain.sources if s.stream in streams]


def _check_covered(store: SqlStore, domain: Domain, spec: QuerySpec, other: QuerySpec,
                   zone: ZoneInfo) -> None:
    """Refuse a comparison period that starts before the store's first data for the asked
    measures: its buckets would read as zeros that are really missing."""
    rule = domain.compare.earliest if domain.compare is not None else None
    tables = _tables(domain, spec)
    first = rule(store, tables, spec.grain) if rule else earliest_stored(store, tables, spec.grain)
    if first is None:
        return
    g: Any = spec.grain if spec.grain in ("minute", "hour", "day") else "hour"
    if other.start < floor_bucket(first, g, zone):
        streams = ", ".join(sorted({domain.measure(m).source for m in spec.measures}))
        raise QueryError("bad_parameter", (
            f"compare={spec.compare} asks for {other.start.astimezone(zone).isoformat()} to "
            f"{other.end.astimezone(zone).isoformat()}, but the store holds {streams} data from "
            f"{first.astimezone(zone).isoformat(timespec='minutes')} on, so the comparison would read "
            f"missing time as zeros; choose a later range"
            + (", use compare=previous" if spec.compare == "last_year" else "")
            + ", or leave compare out"))
    if domain.compare is not None and not domain.compare.continuous:
        return
    missing = silent_days(store, [f"{s.table}_1h" for s in domain.sources], other.start, other.end, zone)
    if missing:
        named = ", ".join(d.isoformat() for d in missing[:3]) + (" …" if len(missing) > 3 else "")
        other_kind = "previous" if spec.compare == "last_year" else "last_year"
        raise QueryError("bad_parameter", (
            f"compare={spec.compare} asks for {other.start.astimezone(zone).isoformat()} to "
            f"{other.end.astimezone(zone).isoformat()}, but the store holds no {domain.name} data on "
            f"{named} ({len(missing)} day{'' if len(missing) == 1 else 's'}), a gap the comparison "
            f"would read as zeros; choose another range, compare={other_kind}, or leave compare out"))


def run_compared(store: SqlStore, spec: QuerySpec, zone: ZoneInfo,
                 now: datetime | None = None, min_cell: int = MIN_CELL) -> pl.DataFrame:
    """The answer to ``spec`` with its comparison: columns ``<grain>, *group_by`` and, per
    measure, ``m, m_cmp, m_diff``; one row per bucket of the asked range and group seen in
    either period. ``min_cell`` is :func:`run`'s small-cell rule, for both periods."""
    if spec.compare is None:
        return run(store, spec, zone, min_cell)
    domain = DOMAINS[spec.domain]
    other = comparison_spec(spec, zone, now)
    _check_covered(store, domain, spec, other, zone)
    base = replace(spec, compare=None)
    main, past = run(store, base, zone, min_cell), run(store, other, zone, min_cell)
    grain, groups = spec.grain, list(spec.group_by)
    kinds = {m: domain.measure(m).kind for m in spec.measures}
    counts = [m for m in spec.measures if kinds[m] == "count"]
    if groups and main.height:
        seen = pl.concat([main.select(groups), past.select(groups)]).unique()
        grid = main.select(grain).unique(maintain_order=True).join(seen, how="cross")
        main = grid.join(main, on=[grain, *groups], how="left", nulls_equal=True).with_columns(
            pl.col(m).fill_null(0) for m in counts)
    rule = domain.compare.align if domain.compare is not None else None
    align = rule or calendar_align
    buckets = main.get_column(grain).unique(maintain_order=True).to_list()
    aligned = [align(spec.compare, b, spec.start, other.start, grain, zone) for b in buckets]
    key = "_cmp_bucket"
    mapping = pl.DataFrame({grain: buckets, key: aligned},
                           schema={grain: main.schema[grain], key: past.schema[grain]})
    renamed = past.rename({grain: key, **{m: f"{m}_cmp" for m in spec.measures}})
    out = (main.join(mapping, on=grain, how="left")
           .join(renamed, on=[key, *groups], how="left", nulls_equal=True)
           .with_columns(pl.when(pl.col(key).is_not_null()).then(pl.col(f"{m}_cmp").fill_null(0))
                         .otherwise(pl.col(f"{m}_cmp")).alias(f"{m}_cmp") for m in counts)
           .with_columns((pl.col(m) - pl.col(f"{m}_cmp")).alias(f"{m}_diff") for m in spec.measures)
           .sort([grain, *groups], nulls_last=False))
    columns = [c for m in spec.measures for c in (m, f"{m}_cmp", f"{m}_diff")]
    return out.select(grain, *groups, *columns)
