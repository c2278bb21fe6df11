"""The tables of 生源质量分析: which columns each has, and how a value reads on the page and
in a file. The page (``/enrollment/quality``) and its export
(``GET /api/v1/export/enrollment/quality``) both draw them from here, so the screen and the
file never differ.

``COLUMNS``: table → (field of the row, catalogue key of its header, kind). Kinds: ``text``,
``label:<prefix>`` (a code in words: ``enroll.batch_``, ``enroll.cat_``,
``explore.v.track.``), ``count``, ``score``, ``margin`` (signed), ``rank``, ``ratio``,
``year``, ``small`` (why a row's statistics are not shown, or that they are exact for a
group the shared figures hide).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from layouts.i18n import CATALOGUE, t

_STATS: tuple[tuple[str, str, str], ...] = (
    ("admitted", "export.col_admitted", "count"),
    ("min_score", "export.col_min_score", "score"),
    ("avg_score", "export.col_avg_score", "score"),
    ("max_score", "export.col_max_score", "score"),
    ("with_line", "quality.col_with_line", "count"),
    ("min_margin", "quality.col_min_margin", "margin"),
    ("avg_margin", "quality.col_avg_margin", "margin"),
    ("max_margin", "quality.col_max_margin", "margin"),
    ("with_rank", "quality.col_with_rank", "count"),
    ("rank_p10", "quality.col_rank_p10", "rank"),
    ("rank_p50", "quality.col_rank_p50", "rank"),
    ("rank_p90", "quality.col_rank_p90", "rank"),
    ("first_choice_known", "quality.col_first_choice_known", "count"),
    ("first_choice_rate", "quality.col_first_choice_rate", "ratio"),
    ("small", "exact.small", "small"),
)
_PROVINCE = (("province", "export.col_province_code", "text"),
             ("province_name", "export.col_province", "text"))
_SHORT = (("admitted", "export.col_admitted", "count"), ("avg_score", "export.col_avg_score", "score"),
          ("avg_margin", "quality.col_avg_margin", "margin"), ("small", "exact.small", "small"))

#: table → its columns, in the order of the page and of the export's sheets
COLUMNS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "season": (("year", "export.year", "year"), *_STATS),
    "cells": (*_PROVINCE, ("batch", "export.col_batch", "label:enroll.batch_"),
              ("category", "export.col_category", "label:enroll.cat_"),
              ("track", "quality.col_track", "label:explore.v.track."),
              ("control_score", "quality.col_control_score", "score"), *_STATS),
    "colleges": (("college", "export.col_college_code", "text"),
                 ("college_name", "export.col_college", "text"), *_STATS),
    "majors": (("major", "export.col_major_code", "text"), ("major_name", "export.col_major", "text"),
               *_STATS),
    "provinces": (*_PROVINCE, *_STATS),
    "trend": (("year", "export.year", "year"), *_SHORT),
    "trend_provinces": (*_PROVINCE, ("year", "export.year", "year"), *_SHORT),
    "by_margin": (("rank", "quality.col_place", "count"), *_PROVINCE,
                  ("admitted", "export.col_admitted", "count"),
                  ("with_line", "quality.col_with_line", "count"),
                  ("avg_margin", "quality.col_avg_margin", "margin")),
    "by_change": (("rank", "quality.col_place", "count"), *_PROVINCE,
                  ("avg_margin", "quality.col_avg_margin", "margin"),
                  ("prev_avg_margin", "quality.col_prev_avg_margin", "margin"),
                  ("change", "quality.col_change", "margin")),
}
TABLES = tuple(COLUMNS)


def page_columns(table: str) -> tuple[tuple[str, str, str], ...]:
    """The columns the page shows: the file's without its code columns (a person reads 北京,
    计算机科学与技术; the code is in the name cell's tooltip, and in the file)."""
    return tuple(c for c in COLUMNS[table] if not c[1].endswith("_code"))


def code_field(table: str, field: str) -> str | None:
    """The code column behind a name column of ``table`` (``major_name`` → ``major``), if any."""
    codes = {f for f, key, _ in COLUMNS[table] if key.endswith("_code")}
    code = field.removesuffix("_name")
    return code if field.endswith("_name") and code in codes else None

#: per kind: the number format of an XLSX cell
NUMBER_FORMATS = {"count": "#,##0", "rank": "#,##0", "score": "0.0", "margin": "+0.0;-0.0;0.0",
                  "ratio": "0.0%", "year": "0"}


def rows_of(figures: Mapping[str, Any], table: str, lang: str = "zh") -> list[dict[str, Any]]:
    """The rows of ``table`` in ``figures`` (``metrics.enrollment_quality.figures``): the
    season as one row (none before a season), the rankings with their place, and the names of
    provinces, colleges and majors in ``lang`` in their ``<kind>_name`` column."""
    if table == "season":
        season = figures.get("season")
        return [{"year": figures.get("year"), **season}] if season else []
    rows = [dict(r) for r in figures.get(table) or []]
    for place, r in enumerate(rows, start=1):
        if table in ("by_margin", "by_change"):
            r["rank"] = place
        if lang == "en":
            r |= {f"{kind}_name": r[f"{kind}_name_en"] for kind in ("province", "college", "major")
                  if f"{kind}_name_en" in r}
    return rows


def marker(row: Mapping[str, Any], lang: str, min_cell: int) -> str:
    """Why a row's scores are missing ("少于3人"; "为防推算，不显示" for a group hidden with a
    small one), or that a row shown exactly is one the shared figures hide; else empty."""
    if 0 < int(row.get("admitted") or 0) < min_cell:
        return t("quality.small", lang).replace("{n}", str(min_cell))
    return t("quality.complement", lang) if row.get("small") else ""


def label(kind: str, code: Any, lang: str) -> str:
    """A batch, category or track code in words (the code when the catalogue has none)."""
    key = f"{kind.split(':', 1)[1]}{code}"
    return t(key, lang) if key in CATALOGUE else str(code)


def file_value(row: Mapping[str, Any], field: str, kind: str, lang: str, min_cell: int) -> Any:
    """A cell of a file: numbers as numbers (None empty), codes in words, the small-cell mark."""
    if kind == "small":
        return marker(row, lang, min_cell) or None
    value = row.get(field)
    if value is None:
        return None
    if kind.startswith("label:"):
        return label(kind, value, lang)
    if kind in ("count", "rank", "year"):
        return int(value)
    if kind in ("score", "margin", "ratio"):
        return float(value)
    return str(value)


def shown(row: Mapping[str, Any], field: str, kind: str, lang: str, min_cell: int) -> str:
    """A cell of the page: thousands separated, scores to one decimal, margins signed, rates
    in percent, "—" for a value that is not there."""
    value = file_value(row, field, kind, lang, min_cell)
    if value is None:
        return "" if kind == "small" else "—"
    if kind in ("count", "rank"):
        return f"{value:,}"
    if kind == "score":
        return f"{value:.1f}"
    if kind == "margin":
        return f"{value:+.1f}"
    if kind == "ratio":
        return f"{value * 100:.1f}%"
    return str(value)
