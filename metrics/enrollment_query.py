"""The analyst query of the enrollment domain (``GET /api/v1/query/enrollment``, ``/explore``).

Admissions are states, not counters: a candidate counts once, in the status of their latest
event, and a student once, at the furthest check-in step reached — exactly as the live figures
(``metrics/enrollment.py``) count them, so a tile and its breakdown show the same number.
There are no rollups to sum; this module answers from the raw and latest-state tables:

- ``season`` (one bucket per admission year): the year's figures as they stand, read like the
  live figures (the latest-state table with ``FINAL``, the plan's latest import).
- ``day``: the figures *as of the end of that local day*, for the admission year the day falls
  in (the calendar year in the site's zone), so a day is cumulative within its season and the
  last day of a range that ends today equals the live figure. Each candidate's events are
  folded per day (the latest by ``ts``, then status, then event id — the version of
  ``enrollment_admission_latest``) into spans "from this day until the next change"; a span
  adds 1 to its status and group on its first day and takes it away on the day it ends, and
  the running sums give every day's counts without expanding candidates over days. The lowest
  and highest score of the admitted are running minima and maxima over spans that never end,
  joined with the few spans that ended (admitted, then returned), spread over their days.

The plan is the year's current plan (the latest import of each plan row), the same in every
day of the year. A college is the major's college in the site catalogue, else the one the
event names (a plan row names none: the college its major's admitted candidates name).
Score statistics of a group of fewer than ``min_cell`` admitted candidates are null within
each bucket's breakdown (``metrics/small_cells.py``: with the next smallest group when needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from ioc_app.storage import SqlStore
from metrics.enrollment_state import CHECKIN_STEPS, candidates
from metrics.query.compare import calendar_align, calendar_period
from metrics.query.spec import QuerySpec
from metrics.query.sql import buckets, every_group
from metrics.small_cells import hidden_groups

#: admission statuses, in the tie-break order of an equal ``ts`` (migration 8)
STATUSES = ("filed", "admitted", "returned", "withdrawn")
SCORES = ("score_min", "score_avg", "score_max")
PLAN_DIMS = ("province", "batch", "category", "track", "major")
#: the dimension columns of an admission state, of a check-in state
ADMISSION_COLUMNS = ("status", "province", "batch", "category", "track", "major", "college")
CHECKIN_COLUMNS = ("major", "college", "campus")
#: the last Date: the end of a span that has not ended
FAR = "toDate('2149-06-06')"
#: the version of ``enrollment_admission_latest`` (migration 8): ts, status rank, event id
VERSION = ("bitShiftLeft(toUInt128(toUInt64(toUnixTimestamp64Milli(ts)) * 8 + "
           f"indexOf([{', '.join(repr(s) for s in STATUSES)}], toString(status))), 64) "
           "+ cityHash64(event_id)")
STEP = f"indexOf([{', '.join(repr(s) for s in CHECKIN_STEPS)}], toString(step))"


def _dims(spec: QuerySpec, params: dict[str, Any]) -> tuple[list[str], list[str]]:
    """SELECT items ``d_<dim>`` of the grouped dimensions and WHERE conditions of the filters,
    over a relation with ``year`` and the state's columns as strings; a college is read
    through the catalogue's major → college (``{mc}``, ``{mp}``)."""
    def expr(name: str) -> str:
        if name == "year":
            return "toString(year)"
        if name == "college":
            return "transform(major, {mc:Array(String)}, {mp:Array(String)}, college)"
        return name

    select = [f"{expr(g)} AS d_{g}" for g in spec.group_by]
    where = []
    for i, (name, values) in enumerate(spec.filters):
        holders = []
        for j, value in enumerate(values):
            params[f"f{i}_{j}"] = value
            holders.append(f"{{f{i}_{j}:String}}")
        where.append(f"{expr(name)} IN ({', '.join(holders)})")
    return select, where


def _grouped(select: list[str], spec: QuerySpec) -> str:
    return "".join(f", d_{g}" for g in spec.group_by) if select else ""


def _where(conditions: Sequence[str]) -> str:
    return f"WHERE {' AND '.join(conditions)}" if conditions else ""


def _catalogue(store: SqlStore) -> tuple[list[str], list[str]]:
    frame = store.query("SELECT code, parent FROM ioc_reference FINAL WHERE kind = 'major' AND parent != ''")
    return frame["code"].to_list(), frame["parent"].to_list()


def _admission_columns(spec: QuerySpec) -> tuple[str, ...]:
    """The state columns a question reads: the status and what it groups or filters by (a
    college is read through the major), so the spans carry no column nobody asked about."""
    used = {*spec.group_by, *(name for name, _ in spec.filters)}
    if "college" in used:
        used.add("major")
    return ("status", *(c for c in ADMISSION_COLUMNS[1:] if c in used))


def _admission_spans(columns: Sequence[str]) -> str:
    """Each candidate's states as spans ``[day_from, day_to)`` (``day_to`` = FAR while it lasts):
    the state at the end of each day with an event, until the next such day.

    One pass per candidate: their events in version order (``groupArray``, a handful each),
    each event a span until the next event's day. The later events of a day make the earlier
    ones' spans empty (``day_from = day_to``), which are dropped, so each day keeps the state
    of its latest event — the fold per day and the window over days in one aggregation, about
    twice as fast as a ``GROUP BY`` per day followed by a window function."""
    n = len(columns)
    fields = ", ".join(f"x.{i + 3}" for i in range(n + 1))
    named = ", ".join(f"toString(sp.{i + 3}) AS {c}" for i, c in enumerate(columns))
    return f"""
        SELECT year, sp.1 AS day_from, sp.2 AS day_to, {named}, sp.{n + 3} AS score
        FROM (
            SELECT year, arraySort(x -> x.1, groupArray(({VERSION}, toDate(ts, {{tz:String}}),
                                                         {', '.join(columns)}, score))) AS e
            FROM enrollment_admission
            WHERE year IN {{years:Array(UInt16)}} AND ts < {{end:DateTime64(3, 'UTC')}}
            GROUP BY year, candidate_key
        )
        ARRAY JOIN arrayFilter(x -> x.1 != x.2, arrayMap(
            (x, i) -> (x.2, if(i = length(e), {FAR}, e[i + 1].2), {fields}),
            e, arrayEnumerate(e))) AS sp"""


def _checkin_spans() -> str:
    """Each student's furthest step so far and latest dimensions, as spans like above."""
    cols = ", ".join(f"toString({c})" for c in CHECKIN_COLUMNS)
    named = ", ".join(f"d.{i + 1} AS {c}" for i, c in enumerate(CHECKIN_COLUMNS))
    return f"""
        WITH folded AS (
            SELECT year, student_key, toDate(ts, {{tz:String}}) AS day, max({STEP}) AS top,
                   argMax(({cols}), (ts, {STEP})) AS d
            FROM enrollment_checkin
            WHERE year IN {{years:Array(UInt16)}} AND ts < {{end:DateTime64(3, 'UTC')}}
            GROUP BY year, student_key, day
        )
        SELECT year, day AS day_from, leadInFrame(day, 1, {FAR}) OVER (
                   PARTITION BY year, student_key ORDER BY day ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING
               ) AS day_to, max(top) OVER (
                   PARTITION BY year, student_key ORDER BY day
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
               ) AS n, {named}
        FROM folded"""


def _admissions(store: SqlStore, spec: QuerySpec, params: dict[str, Any], want_range: bool
                ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Season: one row per (year, group) with the counts and score statistics. Day: the
    changes per (day, year, group) — counts, ``score_sum``, ``open_min``/``open_max`` — and,
    when ``want_range``, the min/max per (day, year, group) of the spans that ended."""
    select, where = _dims(spec, params)
    group = _grouped(select, spec)
    counts = ", ".join(f"countIf(status = '{s}') AS {s}" for s in STATUSES)
    if spec.grain == "season":
        inner = candidates(store, ("status", "province", "batch", "category", "track", "college", "major",
                                   "score"), "year IN {years:Array(UInt16)}")
        cols = ", ".join(f"toString({c}) AS {c}" for c in ADMISSION_COLUMNS)
        sql = f"""
            SELECT year AS y{''.join(', ' + s for s in select)}, {counts},
                   sumIf(score, status = 'admitted') AS score_sum,
                   minOrNullIf(score, status = 'admitted') AS score_min,
                   maxOrNullIf(score, status = 'admitted') AS score_max
            FROM (SELECT year, {cols}, score FROM ({inner}))
            {_where(where)}
            GROUP BY y{group}"""
        return store.query(sql, params), None
    spans = _admission_spans(_admission_columns(spec))
    deltas = ", ".join(f"sum(ev.2 * (status = '{s}')) AS {s}" for s in STATUSES)
    # with the range of scores, each ended span of an admitted candidate also yields a row
    # (weight 0: it changes no count) for the days it covers within the range, [day, until);
    # grouped first, then spread over those days: far fewer rows than a row per span and day
    until, events, closed = "", "[(day_from, toInt8(1)), (day_to, toInt8(-1))]", ""
    if want_range:
        ended = ("if(status = 'admitted' AND day_to != " + FAR + " AND day_to > {first:Date} AND "
                 "day_from < {stop:Date}, [(greatest(day_from, {first:Date}), toInt8(0), "
                 "least(day_to, {stop:Date}))], [])")
        until = ", ev.3 AS until"
        events = f"arrayConcat([(day_from, toInt8(1), {FAR}), (day_to, toInt8(-1), {FAR})], {ended})"
        closed = ", minOrNullIf(score, ev.2 = 0) AS closed_min, maxOrNullIf(score, ev.2 = 0) AS closed_max"
    sql = f"""
        WITH spans AS ({spans})
        SELECT ev.1 AS day0{until}, year AS y{''.join(', ' + s for s in select)}, {deltas},
               sum(if(status = 'admitted', ev.2 * score, 0)) AS score_sum,
               minOrNullIf(score, status = 'admitted' AND ev.2 = 1 AND day_to = {FAR}) AS open_min,
               maxOrNullIf(score, status = 'admitted' AND ev.2 = 1 AND day_to = {FAR}) AS open_max{closed}
        FROM spans ARRAY JOIN {events} AS ev
        {_where(["ev.1 != " + FAR, *where])}
        GROUP BY day0{", until" if want_range else ""}, y{group}"""
    if not want_range:
        return store.query(sql, params).rename({"day0": "day"}), None
    sums = ", ".join(f"sum({c}) AS {c}" for c in (*STATUSES, "score_sum"))
    spread = f"""
        SELECT covered AS day, y{group}, {sums}, min(open_min) AS open_min, max(open_max) AS open_max,
               min(closed_min) AS closed_min, max(closed_max) AS closed_max
        FROM ({sql})
        ARRAY JOIN if(until = {FAR}, [day0], arrayMap(k -> addDays(day0, k),
                                                      range(toUInt32(dateDiff('day', day0, until)))))
                   AS covered
        GROUP BY covered, y{group}"""
    rows = store.query(spread, params)
    # one statement for both (the spans are computed once); the days only an ended span
    # covers add nothing to the running sums, and the others have no closed extremes
    ended_rows = rows.filter(pl.col("closed_min").is_not_null()).select(
        "day", "y", *(f"d_{g}" for g in spec.group_by), "closed_min", "closed_max")
    return rows.drop("closed_min", "closed_max"), ended_rows


def _checkins(store: SqlStore, spec: QuerySpec, params: dict[str, Any]) -> pl.DataFrame:
    """Season: students per (year, group) by furthest step. Day: the changes per (day, year, group)."""
    select, where = _dims(spec, params)
    group = _grouped(select, spec)
    if spec.grain == "season":
        cols = ", ".join(f"toString({c})" for c in CHECKIN_COLUMNS)
        named = ", ".join(f"d.{i + 1} AS {c}" for i, c in enumerate(CHECKIN_COLUMNS))
        steps = ", ".join(f"countIf(n = {i + 1}) AS {s}" for i, s in enumerate(CHECKIN_STEPS))
        sql = f"""
            SELECT year AS y{''.join(', ' + s for s in select)}, {steps}
            FROM (SELECT year, n, {named}
                  FROM (SELECT year, max({STEP}) AS n, argMax(({cols}), (ts, {STEP})) AS d
                        FROM enrollment_checkin WHERE year IN {{years:Array(UInt16)}}
                        GROUP BY year, student_key))
            {_where(where)}
            GROUP BY y{group}"""
        return store.query(sql, params)
    steps = ", ".join(f"sum(ev.2 * (n = {i + 1})) AS {s}" for i, s in enumerate(CHECKIN_STEPS))
    sql = f"""
        WITH spans AS ({_checkin_spans()})
        SELECT ev.1 AS day, year AS y{''.join(', ' + s for s in select)}, {steps}
        FROM spans ARRAY JOIN [(day_from, toInt8(1)), (day_to, toInt8(-1))] AS ev
        {_where(["ev.1 != " + FAR, *where])}
        GROUP BY day, y{group}"""
    return store.query(sql, params)


def _plan(store: SqlStore, spec: QuerySpec, params: dict[str, Any],
          catalogue: dict[str, str]) -> pl.DataFrame:
    """The plan per (year, group): the latest import of each plan row, its college the major's."""
    dims = ", ".join(f"toString({d}) AS {d}" for d in PLAN_DIMS)
    rows = store.query(
        f"SELECT year AS y, {dims}, sum(planned) AS planned FROM enrollment_plan FINAL "
        f"WHERE year IN {{years:Array(UInt16)}} GROUP BY y, {', '.join(PLAN_DIMS)}",
        {"years": params["years"]})
    rows = rows.with_columns(pl.col("y").cast(pl.Int64), pl.col("planned").cast(pl.Int64),
                             pl.col("y").cast(pl.String).alias("year"))
    used = {*spec.group_by, *(name for name, _ in spec.filters)}
    if "college" in used:
        inner = candidates(store, ("status", "college", "major"), "year IN {years:Array(UInt16)}")
        seen = store.query(
            f"SELECT year AS y, toString(major) AS major, max(toString(college)) AS seen FROM ({inner}) "
            f"WHERE status = 'admitted' GROUP BY y, major", {"years": params["years"]})
        rows = rows.join(seen.with_columns(pl.col("y").cast(pl.Int64)), on=["y", "major"], how="left")
        rows = rows.with_columns(pl.col("major").replace_strict(catalogue, default=pl.col("seen"),
                                                                return_dtype=pl.String).alias("college"))
    for name, values in spec.filters:
        rows = rows.filter(pl.col(name).is_in(list(values)))
    return (rows.group_by("y", *spec.group_by).agg(pl.col("planned").sum())
            .rename({g: f"d_{g}" for g in spec.group_by}))


def _as_of(changes: pl.DataFrame, grid: pl.DataFrame, by: list[str], sums: Sequence[str],
           extremes: Sequence[tuple[str, str]] = ()) -> pl.DataFrame:
    """Each grid row (a day ``b`` of admission year ``y`` and a group) with the running sums of
    ``sums`` and running min/max of ``extremes`` over the changes on or before that day."""
    changes = changes.with_columns(pl.col("day").cast(pl.Date), pl.col("y").cast(pl.Int64)).sort("day")
    big = float("inf")
    running = changes.with_columns(
        *(pl.col(c).cast(pl.Float64 if c == "score_sum" else pl.Int64).cum_sum().over(by) for c in sums),
        *(pl.col(c).fill_null(big if how == "min" else -big).cast(pl.Float64)
          .cum_min().over(by) if how == "min" else
          pl.col(c).fill_null(-big).cast(pl.Float64).cum_max().over(by) for c, how in extremes),
    ).with_columns(pl.when(pl.col(c).is_infinite()).then(None).otherwise(pl.col(c)).alias(c)
                   for c, _ in extremes)
    # both sides are sorted by day (the check cannot see it through the ``by`` groups)
    return grid.sort("b").join_asof(running, left_on="b", right_on="day", by=by, strategy="backward",
                                    check_sortedness=False).drop("day")


def answer(store: SqlStore, spec: QuerySpec, zone: ZoneInfo, min_cell: int) -> pl.DataFrame:
    """The answer to ``spec`` (see the module docstring): ``day`` (Date) or ``season`` (Int64,
    the admission year), the groups as strings, then the measures."""
    wanted = set(spec.measures)
    scores = wanted & set(SCORES)
    adm = wanted & {*STATUSES, "completion", *SCORES}
    chk = wanted & set(CHECKIN_STEPS)
    plan = wanted & {"planned", "completion"}
    grid = buckets(spec, zone).to_frame()
    grid = grid.with_columns((pl.col("b").dt.year() if spec.grain == "day" else pl.col("b"))
                             .cast(pl.Int64).alias("y"))
    years = sorted(set(grid["y"].to_list()))
    codes, parents = _catalogue(store)
    params: dict[str, Any] = {"years": years, "tz": zone.key, "end": spec.end, "mc": codes, "mp": parents}
    if spec.grain == "day":
        days = grid["b"].to_list()
        params |= {"first": days[0], "stop": days[-1] + timedelta(days=1)}
    keys = [f"d_{g}" for g in spec.group_by]
    parts: list[pl.DataFrame] = []
    frames: dict[str, pl.DataFrame] = {}
    ended: pl.DataFrame | None = None
    if adm:
        ranged = bool(scores & {"score_min", "score_max"})
        frames["adm"], ended = _admissions(store, spec, dict(params), want_range=ranged)
    if chk:
        frames["chk"] = _checkins(store, spec, dict(params))
    if plan:
        frames["plan"] = _plan(store, spec, params, dict(zip(codes, parents, strict=True)))
    for frame in frames.values():
        parts.append(frame.select(keys).cast(pl.String) if keys else frame.select())
    groups = pl.concat(parts).unique() if keys and parts else None
    if groups is not None:
        grid = every_group(grid, groups)
    by = ["y", *keys]
    out = grid
    cast_keys = [pl.col(k).cast(pl.String) for k in keys]
    if "adm" in frames:
        a = frames["adm"].with_columns(pl.col("y").cast(pl.Int64), *cast_keys)
        if spec.grain == "season":
            out = out.join(a.rename({"y": "b"}), on=["b", *keys], how="left")
        else:
            out = _as_of(a, out, by, (*STATUSES, "score_sum"), (("open_min", "min"), ("open_max", "max")))
            if ended is not None:
                e = ended.with_columns(pl.col("day").cast(pl.Date), pl.col("y").cast(pl.Int64), *cast_keys)
                out = out.join(e.rename({"day": "b"}), on=["b", *by], how="left")
            else:
                out = out.with_columns(pl.lit(None, pl.Float64).alias("closed_min"),
                                       pl.lit(None, pl.Float64).alias("closed_max"))
            out = out.with_columns(pl.min_horizontal("open_min", "closed_min").alias("score_min"),
                                   pl.max_horizontal("open_max", "closed_max").alias("score_max"))
        out = out.with_columns(pl.col(s).fill_null(0).cast(pl.Int64) for s in STATUSES)
        out = out.with_columns(
            pl.when(pl.col("admitted") > 0).then(pl.col("score_sum") / pl.col("admitted")).alias("score_avg"),
            *(pl.when(pl.col("admitted") > 0).then(pl.col(c).cast(pl.Float64)).alias(c)
              for c in ("score_min", "score_max")))
    if "chk" in frames:
        c = frames["chk"].with_columns(pl.col("y").cast(pl.Int64), *cast_keys)
        if spec.grain == "season":
            out = out.join(c.rename({"y": "b"}), on=["b", *keys], how="left")
        else:
            out = _as_of(c, out, by, CHECKIN_STEPS)
        out = out.with_columns(pl.col(s).fill_null(0).cast(pl.Int64) for s in CHECKIN_STEPS)
    if "plan" in frames:
        out = out.join(frames["plan"].with_columns(*cast_keys), on=by, how="left").with_columns(
            pl.col("planned").fill_null(0).cast(pl.Int64))
        if "completion" in wanted:
            out = out.with_columns(pl.when(pl.col("planned") > 0)
                                   .then(pl.col("admitted") / pl.col("planned")).alias("completion"))
    out = out.sort(["b", *keys], nulls_last=False)
    if scores:
        out = _suppressed(out, min_cell)
    named = (pl.col(k).alias(g) for k, g in zip(keys, spec.group_by, strict=True))
    return out.select(pl.col("b").alias(spec.grain), *named, *(pl.col(m) for m in spec.measures))


def _suppressed(out: pl.DataFrame, min_cell: int) -> pl.DataFrame:
    """The score statistics of the groups :func:`hidden_groups` names within each bucket, null."""
    admitted = out["admitted"].to_list()
    hide = [False] * out.height
    start = 0
    bucket = out["b"].to_list()
    for i in range(1, out.height + 1):
        if i == out.height or bucket[i] != bucket[start]:
            for k in hidden_groups([int(n) for n in admitted[start:i]], min_cell):
                hide[start + k] = True
            start = i
    mask = pl.Series("hide", hide, dtype=pl.Boolean)
    return out.with_columns(pl.when(mask).then(None).otherwise(pl.col(c)).alias(c) for c in SCORES)


# --- comparing periods (``compare=``; the calendar's rule of metrics/query/compare.py for days)


def _seasons(start: datetime, end: datetime, zone: ZoneInfo) -> int:
    return end.astimezone(zone).year - start.astimezone(zone).year


def _january(year: int, zone: ZoneInfo) -> datetime:
    return datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)


def compare_period(kind: str, start: datetime, end: datetime, grain: str,
                   zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The comparison range: for days the calendar's (``last_year``: the same month-day of the
    previous admission year, i.e. the same day of the season, which starts on July 1 every
    year); for seasons the season before (``last_year``) or as many seasons just before."""
    if grain != "season":
        return calendar_period(kind, start, end, grain, zone)
    back = 1 if kind == "last_year" else _seasons(start, end, zone)
    first, last = start.astimezone(zone).year - back, end.astimezone(zone).year - back
    return _january(first, zone), _january(last, zone)


def compare_align(kind: str, bucket: Any, start: datetime, cmp_start: datetime, grain: str,
                  zone: ZoneInfo) -> Any:
    """The comparison bucket of ``bucket``: a season's year minus the seasons between the two
    ranges; a day by the calendar."""
    if grain != "season":
        return calendar_align(kind, bucket, start, cmp_start, grain, zone)
    return None if bucket is None else int(bucket) - _seasons(cmp_start, start, zone)


def first_season(store: SqlStore, _tables: Sequence[str], _grain: str) -> datetime | None:
    """The start of the first admission year the store holds any candidate, plan row or
    student of (as early as that New Year is anywhere), or None: a comparison before it would
    read a season nobody sent as zeros."""
    frame = store.query(
        "SELECT min(first) AS y, count() AS n FROM ("
        " SELECT minOrNull(year) AS first FROM enrollment_admission UNION ALL"
        " SELECT minOrNull(year) FROM enrollment_plan UNION ALL"
        " SELECT minOrNull(year) FROM enrollment_checkin) WHERE first IS NOT NULL")
    if not frame.height or not frame["n"][0]:
        return None
    return datetime(int(frame["y"][0]), 1, 1, tzinfo=UTC) - timedelta(hours=14)
