"""Enrollment KPIs (招生 / 迎新): the plan, admissions against it, and September check-in.

A candidate's status is the one of their latest event: ``enrollment_admission_latest``
(migration 8) keeps that event per ``(year, candidate_key)`` in a ``ReplacingMergeTree``
whose version orders by ``ts``, then status (``filed < admitted < returned < withdrawn``,
so a contradictory pair in one millisecond is not counted as admitted), then a hash of the
event id; ``FINAL`` reads one row per candidate. A student's check-in is folded the same
way into ``enrollment_checkin_state`` (furthest step, and when each step was first
reached). The plan is the latest import of each plan row (``FINAL`` on the upserted table).
Every figure of a year is therefore a read of that year's partition, however many years
are kept.

Small cells (metrics.md, ``IOC_MIN_CELL``; the rule is ``metrics/small_cells.py``): the
score statistics of a group with fewer than ``min_cell`` admitted candidates would be one or
two candidates' own scores, personal data. :func:`live` and :func:`suppress_breakdown` (the
export's rows) leave them null (counts stay). Only the admissions role's own views and
exports ask for ``min_cell=1`` (exact figures).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from ioc_app.storage import SqlStore
from metrics.domain import Comparer, Dimension, Measure, MetricsDomain, Queryable, Referenced, Source
from metrics.enrollment_notices import DEFAULT_DAYS, NoticeDays
from metrics.enrollment_notices import live as _notices
from metrics.enrollment_quality import LINES as QUALITY_LINES
from metrics.enrollment_quality import part_of as quality_part
from metrics.enrollment_quality import suppress_part as suppress_quality
from metrics.enrollment_query import answer as query_answer
from metrics.enrollment_query import compare_align, compare_period, first_season
from metrics.enrollment_state import CHECKIN_STEPS, NOT_REACHED
from metrics.enrollment_state import candidates as _candidates
from metrics.enrollment_state import students as _students
from metrics.small_cells import MIN_CELL, SCORES, hidden_groups, suppress_rows

#: Breakdowns of the section: snapshot key → dimension.
BREAKDOWNS = {"by_province": "province", "by_batch": "batch", "by_category": "category",
              "by_track": "track", "by_major": "major"}
#: The admission season shown by ``slow``: July 1 to September 30 (92 days every year).
SEASON_START = (7, 1)
SEASON_END = (9, 30)
CHECKIN_MONTH = 9
def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def suppress(section: Mapping[str, Any], min_cell: int) -> dict[str, Any]:
    """The enrollment section with every breakdown passed through :func:`suppress_rows` (a
    stored snapshot made before the rule, or with a smaller ``IOC_MIN_CELL``, is shown
    under today's rule)."""
    out = dict(section)
    for name in BREAKDOWNS:
        if isinstance(out.get(name), list):
            out[name] = suppress_rows(out[name], min_cell)
    if "quality" in out:
        out["quality"] = suppress_quality(out["quality"], min_cell)
    return out


def admission_year(zone: ZoneInfo, now: datetime) -> int:
    """The current admission year: the calendar year of ``now`` in the site's zone (a season
    runs July–September, so no admission year straddles New Year)."""
    return now.astimezone(zone).year


_ADMITTED_COLUMNS = ("status", "province", "batch", "category", "track", "college", "major", "score")


def _cells(store: SqlStore, year: int) -> pl.DataFrame:
    """One row per plan cell (province, batch, category, track, major) with a plan row or an
    admitted candidate: ``plan, admitted, min_score, max_score, score_sum, college`` and,
    per enumerated dimension, ``<dim>_ord``: its declared order."""
    admitted = _candidates(store, _ADMITTED_COLUMNS, "year = {y:UInt16}")
    return store.query(
        f"""
        WITH cells AS (
            SELECT province, batch, category, track, toString(major) AS major, '' AS college,
                   toUInt64(planned) AS planned, toUInt64(0) AS admitted,
                   CAST(NULL AS Nullable(Float64)) AS score
            FROM enrollment_plan FINAL
            WHERE year = {{y:UInt16}}
            UNION ALL
            SELECT province, batch, category, track, toString(major), toString(college), 0, 1, score
            FROM ({admitted})
            WHERE status = 'admitted'
        )
        SELECT toString(province) AS province_key, toUInt8(province) AS province_ord,
               toString(batch) AS batch_key, toUInt8(batch) AS batch_ord,
               toString(category) AS category_key, toUInt8(category) AS category_ord,
               toString(track) AS track_key, toUInt8(track) AS track_ord,
               major AS major_key, toUInt8(0) AS major_ord,
               sum(planned) AS plan, sum(admitted) AS admitted,
               min(score) AS min_score, max(score) AS max_score, sum(score) AS score_sum,
               max(college) AS college
        FROM cells
        GROUP BY province, batch, category, track, major
        """,
        {"y": year},
    )


def _names(store: SqlStore) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(kind, code) → (name_zh, name_en, parent) of provinces, colleges and majors in the
    catalogue."""
    frame = store.query("SELECT kind, code, name_zh, name_en, parent FROM ioc_reference FINAL "
                        "WHERE kind IN ('province', 'college', 'major')")
    return {(k, c): (zh, en, parent) for k, c, zh, en, parent in frame.iter_rows()}


def _breakdown(cells: pl.DataFrame, dim: str, names: dict[tuple[str, str], tuple[str, str, str]]
               ) -> list[dict[str, Any]]:
    key = f"{dim}_key"
    rows = (cells.group_by(key, f"{dim}_ord")
            .agg(pl.col("plan").sum(), pl.col("admitted").sum(), pl.col("min_score").min(),
                 pl.col("max_score").max(), pl.col("score_sum").sum(), pl.col("college").max())
            .sort(f"{dim}_ord", key))
    out = []
    for r in rows.iter_rows(named=True):
        code, plan, admitted = r[key], int(r["plan"]), int(r["admitted"])
        row: dict[str, Any] = {dim: code}
        if dim in ("province", "major"):
            zh, en, parent = names.get((dim, code), (code, code, ""))
            row |= {"name": zh, "name_en": en}
            if dim == "major":
                row["college"] = parent or r["college"] or None
        row |= {
            "plan": plan, "admitted": admitted, "completion": _ratio(admitted, plan),
            "min_score": r["min_score"] if admitted else None,
            "avg_score": r["score_sum"] / admitted if admitted else None,
            "max_score": r["max_score"] if admitted else None,
        }
        out.append(row)
    return out


def _totals(cells: pl.DataFrame, year: int) -> dict[str, Any]:
    plan = int(cells["plan"].sum())
    admitted = int(cells["admitted"].sum())
    return {"year": year, "plan": plan, "admitted": admitted, "completion": _ratio(admitted, plan)}


def live(store: SqlStore, zone: ZoneInfo, now: datetime, year: int | None = None, *,
         min_cell: int = MIN_CELL, notice_days: NoticeDays = DEFAULT_DAYS) -> dict[str, Any]:
    """The ``enrollment`` section of the snapshot for ``year`` (default: the calendar year of
    ``now`` in the site's zone), in three queries (with the notices'); the score statistics of groups under
    ``min_cell`` admitted candidates null (:func:`suppress_rows`)::

        year, plan, admitted, completion   plan = sum of the latest ``planned`` of every plan
                    row of the year; admitted = candidates whose latest status is admitted;
                    completion = admitted / plan (null without plan)
        by_province [{province, name, name_en, plan, admitted, completion,
                      min_score, avg_score, max_score}]
        by_batch / by_category / by_track  [{batch | category | track, plan, admitted,
                      completion, min_score, avg_score, max_score}]
        by_major    [{major, name, name_en, college, plan, admitted, completion,
                      min_score, avg_score, max_score}]
                    one row per key with a plan row or an admitted candidate; scores over
                    the admitted candidates, each with the score of their latest event (null
                    when nobody is admitted); provinces, batches, categories and tracks in
                    their declared order (GB/T 2260 code order for provinces), majors by
                    code; names from the site catalogue (the code when not listed); a
                    major's college from the catalogue, else from its candidates' events
        checkin     {arrived, paid, dorm, registered}  students of the year by the furthest
                    step reached (a registered student counts in ``registered`` only)
        notices     the notice funnel and exception counts (metrics/enrollment_notices.py)
        quality     {avg_margin, with_line, best, worst}: the intake against the control
                    lines (``metrics/enrollment_quality.part_of``, from the plan cells and the
                    year's control lines read with the names)
    """
    y = year if year is not None else admission_year(zone, now)
    cells = _cells(store, y)
    # the catalogue's names, the check-in steps and the control lines in one statement
    frame = store.query(
        f"""
        SELECT 'name' AS part, toString(kind) AS kind, code, name_zh, name_en, parent, toUInt64(0) AS n,
               CAST(NULL AS Nullable(Float64)) AS x
        FROM ioc_reference FINAL WHERE kind IN ('province', 'college', 'major')
        UNION ALL
        SELECT 'step', '', toString(step), '', '', '', count(), NULL
        FROM ({_students(store)}) GROUP BY step
        UNION ALL
        SELECT 'line', province, batch, category, track, '', 0, control_score FROM ({QUALITY_LINES})
        """, {"y": y})
    names = {(k, c): (zh, en, parent) for _, k, c, zh, en, parent, _, _ in
             frame.filter(pl.col("part") == "name").iter_rows()}
    counts = {code: n for _, _, code, _, _, _, n, _ in frame.filter(pl.col("part") == "step").iter_rows()}
    lines = frame.filter(pl.col("part") == "line").select(
        pl.col("kind").alias("province"), pl.col("code").alias("batch"), pl.col("name_zh").alias("category"),
        pl.col("name_en").alias("track"), pl.col("x").alias("control_score"))
    return {
        **_totals(cells, y),
        **{name: suppress_rows(_breakdown(cells, dim, names), min_cell) for name, dim in BREAKDOWNS.items()},
        "checkin": {s: int(counts.get(s, 0)) for s in CHECKIN_STEPS},
        "notices": _notices(store, y, now, notice_days, names),
        "quality": quality_part(cells, lines, names, min_cell),  # 生源质量: metrics/enrollment_quality.py
    }


def exact(store: SqlStore, year: int) -> dict[str, Any]:
    """The admissions role's exact figures of ``year``: ``{year, plan, admitted, completion}``
    and every breakdown of :func:`live` without the small-cell rule (two queries), computed
    when a person of that role asks, never for the shared snapshot."""
    cells = _cells(store, year)
    names = _names(store)
    return {**_totals(cells, year),
            **{name: _breakdown(cells, dim, names) for name, dim in BREAKDOWNS.items()}}


def year_totals(store: SqlStore, year: int) -> dict[str, int | float | None]:
    """``{year, plan, admitted, completion}`` of ``live`` alone (one query)."""
    return _totals(_cells(store, year), year)


#: The keys of one row of the export breakdown, in the order rows are sorted and shown.
EXPORT_KEYS = ("province", "batch", "category", "college", "major")
#: The breakdown frame's columns (see :func:`breakdown`).
EXPORT_SCHEMA: dict[str, Any] = {
    "province": pl.String, "province_zh": pl.String, "province_en": pl.String,
    "batch": pl.String, "category": pl.String,
    "college": pl.String, "college_zh": pl.String, "college_en": pl.String,
    "major": pl.String, "major_zh": pl.String, "major_en": pl.String,
    "plan": pl.Int64, "admitted": pl.Int64, "completion": pl.Float64,
    "min_score": pl.Float64, "avg_score": pl.Float64, "max_score": pl.Float64, "score_sum": pl.Float64,
}


def breakdown(store: SqlStore, year: int, filters: Mapping[str, Collection[str]] | None = None
              ) -> pl.DataFrame:
    """The admissions office's export (招生数据一键导出): the figures of :func:`live`, one
    row per ``(province, batch, category, college, major)`` with a plan row or an admitted
    candidate in ``year``, in two queries (the plan cells and the catalogue's names)::

        province, batch, category, major   codes; plan rows and candidates carry them
        college     the major's college: from the catalogue, else from the major's admitted
                    candidates' events (as ``by_major`` has it), null when neither says.
                    A plan row names no college, so the college is an attribute of the
                    major: one major never splits into a planned and an admitted row
        *_zh, *_en  names from the site catalogue, the code when it is not listed
                    (null for a null college)
        plan        sum of the latest ``planned`` of the plan rows (tracks folded: the
                    office reads a major's quota, whichever subject group fills it)
        admitted    candidates whose latest status is admitted (admitted then returned or
                    withdrawn is not admitted)
        completion  admitted / plan, null without plan
        min_score, avg_score, max_score   over the admitted, the score of their latest
                    event; null when nobody is admitted. ``score_sum`` is kept so totals
                    over rows average over candidates, not over rows

    Rows are sorted by province (GB/T 2260 code order), batch and category (their declared
    order), college (null last) and major code. ``filters`` keeps rows whose value of a
    key (one of ``EXPORT_KEYS``) is among the given ones; applied after the college is
    known, so a college filter also keeps the plan rows of its majors.
    """
    cells = _cells(store, year)
    names = _names(store)
    parents = {code: parent for (kind, code), (_, _, parent) in names.items() if kind == "major" and parent}
    seen_college = (cells.filter(pl.col("college") != "").group_by("major_key")
                    .agg(pl.col("college").max().alias("seen_college")))
    keys = ("province", "batch", "category")
    rows = (
        cells.group_by(*(f"{k}_{part}" for k in keys for part in ("key", "ord")), "major_key")
        .agg(pl.col("plan").sum(), pl.col("admitted").sum(), pl.col("min_score").min(),
             pl.col("max_score").max(), pl.col("score_sum").sum())
        .join(seen_college, on="major_key", how="left")
        .with_columns(
            pl.col("major_key").replace_strict(parents, default=pl.col("seen_college"),
                                               return_dtype=pl.String).alias("college"),
            pl.col("plan").cast(pl.Int64), pl.col("admitted").cast(pl.Int64),
        )
        .rename({"province_key": "province", "batch_key": "batch", "category_key": "category",
                 "major_key": "major"})
        .sort("province_ord", "batch_ord", "category_ord", "college", "major", nulls_last=True)
    )
    for key, values in (filters or {}).items():
        if key not in EXPORT_KEYS:
            raise ValueError(f"not a key of the breakdown: {key!r}")
        rows = rows.filter(pl.col(key).is_in(list(values)))
    admitted = pl.col("admitted") > 0
    return rows.with_columns(
        *(_name(names, kind, lang) for kind in ("province", "college", "major") for lang in ("zh", "en")),
        pl.when(pl.col("plan") > 0).then(pl.col("admitted") / pl.col("plan")).alias("completion"),
        pl.when(admitted).then(pl.col("min_score")).alias("min_score"),
        pl.when(admitted).then(pl.col("score_sum") / pl.col("admitted")).alias("avg_score"),
        pl.when(admitted).then(pl.col("max_score")).alias("max_score"),
        pl.when(admitted).then(pl.col("score_sum")).otherwise(0.0).alias("score_sum"),
    ).select([pl.col(c).cast(t) for c, t in EXPORT_SCHEMA.items()])


def _name(names: dict[tuple[str, str], tuple[str, str, str]], kind: str, lang: str) -> pl.Expr:
    """The catalogue name of the ``kind`` column's codes in ``lang``, the code when unlisted."""
    table = {code: (zh if lang == "zh" else en) for (k, code), (zh, en, _) in names.items() if k == kind}
    return (pl.col(kind).replace_strict(table, default=pl.col(kind), return_dtype=pl.String)
            .alias(f"{kind}_{lang}"))


def breakdown_totals(rows: pl.DataFrame, min_cell: int = MIN_CELL) -> dict[str, Any]:
    """The totals row of an exact :func:`breakdown` frame: plan and admitted summed,
    completion of the sums, scores over every admitted candidate of the rows (null without
    any, and null when they are fewer than ``min_cell``)."""
    plan = int(rows["plan"].sum())
    admitted = int(rows["admitted"].sum())
    totals = {
        "plan": plan, "admitted": admitted, "completion": _ratio(admitted, plan),
        "min_score": rows["min_score"].min() if admitted else None,
        "avg_score": float(rows["score_sum"].sum()) / admitted if admitted else None,
        "max_score": rows["max_score"].max() if admitted else None,
    }
    return suppress_rows([totals], min_cell)[0]


def suppress_breakdown(rows: pl.DataFrame, min_cell: int) -> pl.DataFrame:
    """A :func:`breakdown` frame with the score statistics (and ``score_sum``) of the rows
    of :func:`hidden_groups` null: what a file for anyone but the admissions role's exact
    export may carry. Totals are taken from the exact frame first (:func:`breakdown_totals`)."""
    hide = hidden_groups([int(n) for n in rows["admitted"]], min_cell)
    if not hide:
        return rows
    mask = pl.Series("hide", [i in hide for i in range(rows.height)], dtype=pl.Boolean)
    return rows.with_columns(pl.when(mask).then(None).otherwise(pl.col(c)).alias(c)
                             for c in (*SCORES, "score_sum"))


def known_codes(store: SqlStore, year: int) -> dict[str, frozenset[str]]:
    """College and major codes that exist for ``year``: the site catalogue's, and those of
    the year's plan rows and of its candidates (whatever their status), so a filter on a
    code nobody has heard of can be refused instead of answering an empty file (one query)."""
    candidates = _candidates(store, ("college", "major"), "year = {y:UInt16}")
    frame = store.query(
        f"""
        SELECT DISTINCT kind, code FROM (
            SELECT toString(kind) AS kind, code FROM ioc_reference FINAL
            WHERE kind IN ('college', 'major')
            UNION ALL
            SELECT 'major', toString(major) FROM enrollment_plan FINAL WHERE year = {{y:UInt16}}
            UNION ALL
            SELECT 'college', toString(college) FROM ({candidates})
            UNION ALL
            SELECT 'major', toString(major) FROM ({candidates})
        )
        """,
        {"y": year},
    )
    return {kind: frozenset(frame.filter(pl.col("kind") == kind)["code"].to_list())
            for kind in ("college", "major")}


def slow(store: SqlStore, zone: ZoneInfo, now: datetime, year: int | None = None) -> dict[str, Any]:
    """Progress over the season, for the enrollment cockpit (one query)::

        admitted_by_day  [{day, date, admitted, last_year}] for each day of the season
                    (day 0 = July 1 … day 91 = September 30; ``date`` = that day of ``year``):
                    ``admitted`` = candidates of ``year`` whose latest status is admitted and
                    whose admission (that latest event) fell on or before that local day,
                    null for days after today; ``last_year`` = the same for ``year - 1`` on
                    the same day of its season
        checkin_by_day   [{date, arrived, paid, dorm, registered}] for each day of September:
                    students who had reached at least that step by the end of that local day
                    (a funnel: arrived ≥ paid ≥ dorm ≥ registered), null for days after today
    """
    local_today = now.astimezone(zone).date()
    y = year if year is not None else admission_year(zone, now)
    candidates = _candidates(store, ("status", "ts"), "year IN ({y:UInt16}, {prev:UInt16})")
    frame = store.query(
        f"""
        SELECT 'admitted' AS what, year, toDate(ts, {{tz:String}}) AS day, count() AS n
        FROM ({candidates})
        WHERE status = 'admitted'
        GROUP BY year, day
        UNION ALL
        SELECT st.1 AS what, year, toDate(st.2, {{tz:String}}) AS day, count() AS n
        FROM ({_students(store)})
        ARRAY JOIN [{", ".join(f"('{s}', reached_{s})" for s in CHECKIN_STEPS)}] AS st
        WHERE st.2 < {NOT_REACHED}
        GROUP BY what, year, day
        """,
        {"y": y, "prev": y - 1, "tz": zone.key},
    )

    dates = pl.date_range(date(y, *SEASON_START), date(y, *SEASON_END), eager=True)
    prev_dates = pl.date_range(date(y - 1, *SEASON_START), date(y - 1, *SEASON_END), eager=True)
    days = pl.DataFrame({"day": range(len(dates)), "date": dates, "date_prev": prev_dates})
    season = days.with_columns(
        _reached_by(frame, "admitted", y, days["date"]).alias("admitted"),
        _reached_by(frame, "admitted", y - 1, days["date_prev"]).alias("last_year"),
    ).with_columns(
        pl.when(pl.col("date") <= local_today).then(pl.col("admitted")).alias("admitted"),
        pl.col("date").dt.to_string(),
    ).select("day", "date", "admitted", "last_year")
    september = pl.date_range(date(y, CHECKIN_MONTH, 1), date(y, CHECKIN_MONTH, 30), eager=True)
    checkin = pl.DataFrame({"date": september}).with_columns(
        pl.when(pl.col("date") <= local_today).then(_reached_by(frame, s, y, september)).alias(s)
        for s in CHECKIN_STEPS
    ).with_columns(pl.col("date").dt.to_string())
    return {"admitted_by_day": season.to_dicts(), "checkin_by_day": checkin.to_dicts()}


def _reached_by(frame: pl.DataFrame, what: str, year: int, dates: pl.Series) -> pl.Series:
    """For each of ``dates`` (ascending): the sum of ``n`` over rows of ``what`` and ``year``
    whose local ``day`` is on or before it."""
    daily = (frame.filter((pl.col("what") == what) & (pl.col("year") == year))
             .group_by("day").agg(pl.col("n").sum()).sort("day")
             .with_columns(pl.col("n").cum_sum().alias("total")))
    got = pl.DataFrame({"date": dates}).join_asof(daily, left_on="date", right_on="day",
                                                  strategy="backward")
    return got["total"].fill_null(0).cast(pl.Int64)


# --- the analyst query (``/api/v1/query/enrollment``; the answers: metrics/enrollment_query.py)

#: the enumerations of the contracts (``ingest/enrollment.py``; ``ioc_app/domains.py`` keeps them equal)
PROVINCES = (
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
)
BATCHES = ("early", "regular", "second", "special", "junior_college")
CATEGORIES = ("general", "art", "sport", "national_special", "university_special", "local_special",
              "sino_foreign", "preparatory", "minority")
TRACKS = ("physics", "history", "science", "liberal_arts", "comprehensive")
_ADMISSION_DIMS = ("year", "province", "batch", "category", "track", "college", "major")
_ADM, _PLAN, _CHK = "enrollment.admission", "enrollment.plan", "enrollment.checkin"
_AS_OF = "as of the end of the bucket"


def _state(name: str, source: str, doc: str, kind: Any = "count") -> Measure:
    return Measure(name, source, name, kind, doc)


QUERY = Queryable(
    "enrollment",
    dimensions=(
        Dimension("year", "admission year (a day counts the candidates of the year it falls in)"),
        Dimension("province", "GB/T 2260 code of the candidate's province", PROVINCES),
        Dimension("batch", "admission batch", BATCHES),
        Dimension("category", "admission category", CATEGORIES),
        Dimension("track", "subject track", TRACKS),
        Dimension("college", "college code: the major's in the site catalogue, else the one the event names"),
        Dimension("major", "major code"),
        Dimension("campus", "campus code where the student checked in (check-in measures only)"),
    ),
    sources=(
        Source(_ADM, "enrollment_admission", minute=(), hour=_ADMISSION_DIMS, parts=()),
        Source(_PLAN, "enrollment_plan", minute=(), hour=_ADMISSION_DIMS, parts=()),
        Source(_CHK, "enrollment_checkin", minute=(), hour=("year", "college", "major", "campus"), parts=()),
    ),
    measures=(
        _state("planned", _PLAN, "the year's plan: sum of the latest import of each plan row"),
        *(_state(s, _ADM, f"candidates whose latest status is {s}, {_AS_OF}")
          for s in ("filed", "admitted", "returned", "withdrawn")),
        _state("completion", _ADM, "admitted / planned; null without plan", "ratio"),
        _state("score_min", _ADM, f"lowest score of the admitted, {_AS_OF}; null in a small cell", "min"),
        _state("score_avg", _ADM, f"average score of the admitted, {_AS_OF}; null in a small cell", "mean"),
        _state("score_max", _ADM, f"highest score of the admitted, {_AS_OF}; null in a small cell", "max"),
        *(_state(s, _CHK, f"students whose furthest check-in step is {s}, {_AS_OF}")
          for s in CHECKIN_STEPS),
    ),
    grains=("day", "season"),
    answers=query_answer,
    # the same day of the previous season; seasons, not a continuous stream: a quiet day is no gap
    compare=Comparer(period=compare_period, align=compare_align, earliest=first_season, continuous=False),
)

# admissions come in seasons: no anomaly measures, never stale
DOMAIN = MetricsDomain(
    "enrollment", 40, live, slow,
    stale_after_s={"enrollment.admission": None, "enrollment.notice": None, "enrollment.checkin": None},
    references=(
        Referenced("enrollment.admission", "college", "college", "enrollment_admission", "ts", "count()"),
        Referenced("enrollment.admission", "major", "major", "enrollment_admission", "ts", "count()"),
        Referenced("enrollment.plan", "major", "major", "enrollment_plan", "imported_at", "count()"),
        Referenced("enrollment.checkin", "college", "college", "enrollment_checkin", "ts", "count()"),
        Referenced("enrollment.checkin", "major", "major", "enrollment_checkin", "ts", "count()"),
        Referenced("enrollment.checkin", "campus", "campus", "enrollment_checkin", "ts", "count()"),
    ),
    figure_options=("min_cell", "notice_days"),
    query=QUERY,
)
