"""生源质量分析: how good the season's intake is against each province's control line.

Who counts: the candidates whose CURRENT admission status is ``admitted`` — their latest
event, read from ``enrollment_admission_latest`` like every enrollment figure
(``metrics/enrollment_state.py``); a candidate admitted then returned (退档) or withdrawn
counts nowhere. Each admitted candidate's score, rank, first choice and group (province,
batch, category, track, college, major) are those of that latest event.

The figures of a group of admitted candidates::

    admitted        candidates in the group
    min/avg/max_score   over their scores
    control_score   (a cell of province × batch × category × track only) the province's
                    control line (省控线) of the cell: the latest import of
                    ``enrollment.control_line`` for (year, province, batch, category, track)
    with_line       admitted candidates whose cell has a control line
    min/avg/max_margin  margin (线差) of a candidate = score − control_score of their cell;
                    over the candidates with a line (the others count in ``admitted`` only);
                    null when none has one
    with_rank       admitted candidates with a ``province_rank`` (位次) on their latest event
    rank_p10/p50/p90    rank percentiles by the nearest-rank method: with the ``n`` ranks of
                    the group sorted ascending (1 = the province's best), ``p_q`` is the one
                    at 1-based position ⌈q·n/100⌉ (integer arithmetic; at least 1); null when
                    ``n`` is 0. p10 is therefore the rank a tenth of the group reached or beat
    first_choice_known / first_choice   candidates whose ``first_choice`` is known / true
    first_choice_rate   first_choice / first_choice_known (一志愿率); null when none is known

A college is the major's college in the site catalogue, else the one the event names (as the
cockpit's ``by_major`` has it). Names are the catalogue's (the code when not listed).

Small cells (``metrics/small_cells.py``): outside the admissions role (``min_cell`` > 1) the
score statistics, margins and rank percentiles of the groups :func:`~metrics.small_cells.
hidden_groups` picks in each table are null (counts and first-choice rates stay, ``small``
says so); margins are also null in a group of fewer than ``min_cell`` candidates with a line,
percentiles in one of fewer than ``min_cell`` with a rank. The admissions role asks with
``min_cell=1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from ioc_app.storage import SqlStore
from metrics.enrollment_state import candidates as _candidates
from metrics.small_cells import MIN_CELL, SCORES, hidden_groups

#: the group statistics hidden in a small cell (counts and rates stay)
MARGINS = ("min_margin", "avg_margin", "max_margin")
RANKS = ("rank_p10", "rank_p50", "rank_p90")
HIDDEN = (*SCORES, *MARGINS, *RANKS)
PERCENTILES = (10, 50, 90)
#: seasons in a trend: the one shown and the two before it
TREND_SEASONS = 3
#: provinces in each list of the snapshot part
EDGE = 3
_CELL = ("province", "batch", "category", "track")
_COLUMNS = ("status", "province", "batch", "category", "track", "college", "major", "score", "province_rank",
            "first_choice")


def _admitted(store: SqlStore, years: str) -> str:
    """One row per candidate of the ``years`` condition whose latest status is admitted, with
    their cell's control line (nullable) and the college of their major (the catalogue's, else
    the event's); score, rank and first choice are their latest event's (migration 18)."""
    latest = _candidates(store, _COLUMNS, years)
    return f"""
        SELECT a.year AS year, a.province AS province, a.batch AS batch, a.category AS category,
               a.track AS track, a.major AS major, a.score AS score, a.first_choice AS first_choice,
               a.province_rank AS province_rank,
               if(p.major_college != '', p.major_college, toString(a.college)) AS college,
               l.control_score AS control_score, a.score - l.control_score AS margin
        FROM (SELECT * FROM ({latest}) WHERE status = 'admitted') AS a
        LEFT JOIN (
            SELECT year, province, batch, category, track,
                   CAST(control_score AS Nullable(Float64)) AS control_score
            FROM enrollment_control_line FINAL WHERE {years}
        ) AS l ON a.year = l.year AND a.province = l.province AND a.batch = l.batch
                  AND a.category = l.category AND a.track = l.track
        LEFT JOIN (
            SELECT code, any(parent) AS major_college FROM ioc_reference FINAL
            WHERE kind = 'major' AND parent != '' GROUP BY code
        ) AS p ON toString(a.major) = p.code
    """


def _groups(store: SqlStore, year: int) -> pl.DataFrame:
    """The statistics of every group of the page in one statement (``set``: cell, college,
    major, province or season; trends: the season and the two before it)."""
    n = "count(province_rank)"
    pcts = ",\n".join(
        f"if({n} > 0, arraySort(groupArray(province_rank))[intDiv({q} * {n} + 99, 100)], NULL) AS rank_p{q}"
        for q in PERCENTILES)
    return store.query(
        f"""
        SELECT year,
               multiIf(grouping(college) = 0, 'college', grouping(major) = 0, 'major',
                       grouping(batch) = 0, 'cell', grouping(province) = 0, 'province', 'season') AS set,
               toString(province) AS province_key, toUInt8(province) AS province_ord,
               toString(batch) AS batch_key, toUInt8(batch) AS batch_ord,
               toString(category) AS category_key, toUInt8(category) AS category_ord,
               toString(track) AS track_key, toUInt8(track) AS track_ord,
               toString(college) AS college_key, toString(major) AS major_key,
               count() AS admitted,
               min(score) AS min_score, avg(score) AS avg_score, max(score) AS max_score,
               min(control_score) AS line,
               count(margin) AS with_line,
               min(margin) AS min_margin, avg(margin) AS avg_margin, max(margin) AS max_margin,
               {n} AS with_rank,
               {pcts},
               count(first_choice) AS fc_known,
               countIf(first_choice = 1) AS fc_true
        FROM ({_admitted(store, "year BETWEEN {y0:UInt16} AND {y:UInt16}")})
        GROUP BY GROUPING SETS ((year, province, batch, category, track), (year, college), (year, major),
                                (year, province), (year))
        """,
        {"y": year, "y0": year - TREND_SEASONS + 1},
    ).rename({**{f"{k}_key": k for k in (*_CELL, "college", "major")}, "line": "control_score",
              "fc_known": "first_choice_known", "fc_true": "first_choice"})


def names(store: SqlStore) -> dict[tuple[str, str], tuple[str, str]]:
    """(kind, code) → (name_zh, name_en) of the catalogue's provinces, colleges and majors."""
    frame = store.query("SELECT kind, code, name_zh, name_en FROM ioc_reference FINAL "
                        "WHERE kind IN ('province', 'college', 'major')")
    return {(k, c): (zh, en) for k, c, zh, en in frame.iter_rows()}


def seasons(store: SqlStore) -> list[int]:
    """Admission years with a candidate in the store, newest first (the page's year choice)."""
    frame = store.query("SELECT DISTINCT year FROM enrollment_admission_latest ORDER BY year DESC")
    return [int(y) for y in frame["year"]]


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _row(r: Mapping[str, Any], keys: tuple[str, ...],
         named: Mapping[tuple[str, str], tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in keys:
        out[k] = r[k]
        if k in ("province", "college", "major"):
            zh, en = named.get((k, r[k]), (r[k], r[k]))
            out |= {f"{k}_name": zh, f"{k}_name_en": en}
    if "track" in keys:
        out["control_score"] = r["control_score"]
    out |= {c: r[c] for c in ("admitted", *SCORES, "with_line", *MARGINS, "with_rank", *RANKS)}
    out |= {"first_choice_known": int(r["first_choice_known"]), "first_choice": int(r["first_choice"]),
            "first_choice_rate": _ratio(int(r["first_choice"]), int(r["first_choice_known"]))}
    for c in ("admitted", "with_line", "with_rank"):
        out[c] = int(out[c])
    return out


def suppress(rows: list[dict[str, Any]], min_cell: int) -> list[dict[str, Any]]:
    """Copies of ``rows`` (one table: every admitted candidate in one row) with the statistics
    of small groups null and ``small`` true on them (see the module's docstring)."""
    out = [dict(r, small=False) for r in rows]
    if min_cell <= 1:
        return out
    for i in hidden_groups([r["admitted"] for r in out], min_cell):
        out[i] |= dict.fromkeys(HIDDEN) | {"small": True}
    for r in out:
        if 0 < r.get("with_line", 0) < min_cell:
            r |= dict.fromkeys(MARGINS)
        if 0 < r.get("with_rank", 0) < min_cell:
            r |= dict.fromkeys(RANKS)
    return out


def figures(store: SqlStore, year: int, *, min_cell: int = MIN_CELL) -> dict[str, Any]:
    """Every table of the page for ``year`` (two statements: the groups and the names)::

        year, seasons   the year and the seasons of its trends (the two before it, then it)
        season          the whole season's row (the figures of a group, above)
        cells           per province × batch × category × track, with its ``control_score``
        colleges, majors   per college, per major
        provinces       per province (the season)
        trend           per season of ``seasons``: {year, admitted, avg_score, avg_margin, small}
        trend_provinces per province and season: {province, names…, year, admitted,
                        avg_score, avg_margin, small}
        by_margin       provinces of the season with an average margin, highest first
        by_change       provinces with an average margin this season and the one before:
                        ``change`` = avg_margin − ``prev_avg_margin``, largest first

    Rows in code order (GB/T 2260 for provinces, the declared order of batches, categories and
    tracks), colleges and majors by code; rankings tie-break by province code. The small-cell
    rule applies per table (a season's provinces in a trend are one table)."""
    frame = _groups(store, year)
    named = names(store)

    def part(kind: str, y: int = year) -> pl.DataFrame:
        return frame.filter((pl.col("set") == kind) & (pl.col("year") == y))

    def rows(kind: str, keys: tuple[str, ...], order: tuple[str, ...]) -> list[dict[str, Any]]:
        got = [_row(r, keys, named) for r in part(kind).sort(*order).iter_rows(named=True)]
        return suppress(got, min_cell)

    season_rows = suppress([_row(r, (), named) for r in part("season").iter_rows(named=True)], min_cell)
    years = list(range(year - TREND_SEASONS + 1, year + 1))
    trend, trend_provinces = [], []
    shown: dict[int, dict[str, dict[str, Any]]] = {}
    for y in years:
        total = suppress([_row(r, (), named) for r in part("season", y).iter_rows(named=True)], min_cell)
        t = total[0] if total else {"admitted": 0, "avg_score": None, "avg_margin": None, "small": False}
        trend.append({"year": y, **{k: t[k] for k in ("admitted", "avg_score", "avg_margin", "small")}})
        provs = suppress([_row(r, ("province",), named)
                          for r in part("province", y).sort("province_ord").iter_rows(named=True)], min_cell)
        shown[y] = {r["province"]: r for r in provs}
        trend_provinces += [{k: r[k] for k in ("province", "province_name", "province_name_en")} | {"year": y}
                            | {k: r[k] for k in ("admitted", "avg_score", "avg_margin", "small")}
                            for r in provs]
    provinces = list(shown[year].values())
    by_margin = sorted((r for r in provinces if r["avg_margin"] is not None),
                       key=lambda r: (-r["avg_margin"], r["province"]))
    by_change = []
    for r in provinces:
        before = shown[year - 1].get(r["province"])
        if r["avg_margin"] is not None and before is not None and before["avg_margin"] is not None:
            by_change.append({k: r[k] for k in ("province", "province_name", "province_name_en", "admitted",
                                                "avg_margin")}
                             | {"prev_admitted": before["admitted"], "prev_avg_margin": before["avg_margin"],
                                "change": r["avg_margin"] - before["avg_margin"]})
    by_change.sort(key=lambda r: (-r["change"], r["province"]))
    return {
        "year": year, "seasons": years,
        "season": season_rows[0] if season_rows else None,
        "cells": rows("cell", _CELL, ("province_ord", "batch_ord", "category_ord", "track_ord")),
        "colleges": rows("college", ("college",), ("college",)),
        "majors": rows("major", ("major",), ("major",)),
        "provinces": provinces,
        "trend": trend, "trend_provinces": trend_provinces,
        "by_margin": [{k: r[k] for k in ("province", "province_name", "province_name_en", "admitted",
                                         "with_line", "avg_margin")} for r in by_margin],
        "by_change": by_change,
    }


# --------------------------------------------------------------------------- the cockpit's tile


def part(store: SqlStore, year: int, catalogue: Mapping[tuple[str, str], tuple[str, ...]],
         min_cell: int = MIN_CELL) -> dict[str, Any]:
    """The snapshot part ``enrollment.quality`` of ``year`` read on its own (one statement; the
    live section computes the same with :func:`part_of`, from what it has read already)::

        avg_margin  the season's average margin over its admitted candidates with a line
                    (null without any, or when the season has fewer than ``min_cell`` admitted)
        with_line   admitted candidates with a line
        best, worst [{province, name, name_en, admitted, avg_margin}] the EDGE provinces with
                    the highest (best, highest first) and lowest (worst, lowest first) average
                    margin, among the provinces whose scores the small-cell rule shows (at
                    least ``min_cell`` admitted, and at least ``min_cell`` with a line)
    """
    latest = _candidates(store, ("status", *_CELL, "score"), "year = {y:UInt16}")
    frame = store.query(
        f"""
        SELECT toString(a.province) AS province, count() AS admitted,
               count(l.control_score) AS with_line, sum(a.score - l.control_score) AS margin_sum
        FROM (SELECT year, province, batch, category, track, score FROM ({latest})
              WHERE status = 'admitted') AS a
        LEFT JOIN (
            SELECT province, batch, category, track, CAST(control_score AS Nullable(Float64)) AS control_score
            FROM enrollment_control_line FINAL WHERE year = {{y:UInt16}}
        ) AS l ON a.province = l.province AND a.batch = l.batch AND a.category = l.category
                  AND a.track = l.track
        GROUP BY province ORDER BY province
        """,
        {"y": year},
    )
    return _ranked(frame, catalogue, min_cell)


#: the control lines of year ``{y}``, as :func:`part_of` takes them (a subquery the live
#: section folds into a statement it runs anyway)
LINES = ("SELECT toString(province) AS province, toString(batch) AS batch, toString(category) AS category, "
         "toString(track) AS track, control_score FROM enrollment_control_line FINAL WHERE year = {y:UInt16}")


def part_of(cells: pl.DataFrame, lines: pl.DataFrame, catalogue: Mapping[tuple[str, str], tuple[str, ...]],
            min_cell: int = MIN_CELL) -> dict[str, Any]:
    """:func:`part` from the live section's plan cells (``province_key, batch_key,
    category_key, track_key, admitted, score_sum``: admitted candidates and the sum of their
    scores per cell) and the year's control lines (:data:`LINES`): a cell's margins sum to
    ``score_sum − admitted × control_score``, so no candidate is read again."""
    keys = ("province", "batch", "category", "track")
    joined = (cells.select(*(pl.col(f"{k}_key").alias(k) for k in keys), "admitted", "score_sum")
              .filter(pl.col("admitted") > 0)
              .join(lines.select(*keys, pl.col("control_score").cast(pl.Float64)), on=list(keys), how="left"))
    frame = (joined.group_by("province")
             .agg(pl.col("admitted").sum(),
                  pl.col("admitted").filter(pl.col("control_score").is_not_null()).sum().alias("with_line"),
                  (pl.col("score_sum") - pl.col("admitted") * pl.col("control_score")).sum()
                  .alias("margin_sum"))
             .sort("province")
             .select("province", "admitted", "with_line", "margin_sum"))
    return _ranked(frame, catalogue, min_cell)


def _ranked(frame: pl.DataFrame, catalogue: Mapping[tuple[str, str], tuple[str, ...]],
            min_cell: int) -> dict[str, Any]:
    """The part from ``province, admitted, with_line, margin_sum`` per province."""
    rows = []
    for province, admitted, with_line, margin_sum in frame.iter_rows():
        zh, en = tuple(catalogue.get(("province", province), (province, province)))[:2]
        rows.append({"province": province, "name": zh, "name_en": en, "admitted": int(admitted),
                     "with_line": int(with_line),
                     "avg_margin": float(margin_sum) / with_line if with_line else None})
    admitted = sum(r["admitted"] for r in rows)
    with_line = sum(r["with_line"] for r in rows)
    total = sum(r["avg_margin"] * r["with_line"] for r in rows if r["with_line"])
    hide = hidden_groups([r["admitted"] for r in rows], min_cell)
    ranked = [r for i, r in enumerate(rows) if i not in hide and r["avg_margin"] is not None
              and r["with_line"] >= min_cell]
    keep = ("province", "name", "name_en", "admitted", "avg_margin")
    hide_total = not with_line or 0 < admitted < min_cell or with_line < min_cell
    best = sorted(ranked, key=lambda r: (-r["avg_margin"], r["province"]))[:EDGE]
    worst = sorted(ranked, key=lambda r: (r["avg_margin"], r["province"]))[:EDGE]
    return {
        "avg_margin": None if hide_total else total / with_line,
        "with_line": with_line,
        "best": [{k: r[k] for k in keep} for r in best],
        "worst": [{k: r[k] for k in keep} for r in worst],
    }


def suppress_part(quality: Mapping[str, Any] | None, min_cell: int) -> dict[str, Any] | None:
    """A stored part shown under today's rule: provinces of fewer than ``min_cell`` admitted
    leave the lists (a snapshot stored under a smaller ``IOC_MIN_CELL``)."""
    if not isinstance(quality, Mapping):
        return None
    return {**quality, **{k: [r for r in quality.get(k) or [] if int(r.get("admitted") or 0) >= min_cell]
                          for k in ("best", "worst")}}
