"""``GET /api/v1/export/enrollment/quality``: the tables of 生源质量分析 as files.

Parameters (each at most once): ``year`` (four digits; default the current admission year),
``table`` (one of ``layouts.quality_tables.TABLES``; without it the XLSX workbook holds every
table, a sheet each), ``format=xlsx|csv`` (default xlsx; CSV is one table, so it needs
``table``), ``lang=zh|en`` (default zh). Permission ``quality``: the admissions role gets the
exact figures (it holds ``exact_cells``), every other holder — the analyst — the small-cell
rule (``IOC_MIN_CELL``: scores, margins and rank percentiles of small groups empty, a column
saying why). The figures are :func:`metrics.enrollment_quality.figures`, the page's; the
columns are the page's (``layouts.quality_tables``).

Each file is audited (``export.download``, object ``enrollment_quality``: the year, the table,
format, language, rows, bytes, whether exact and the SHA-256 of the body). Text cells never
run as formulas (``ioc_app.downloads``). Not cached: a person asks for it, seldom.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl
from flask import Blueprint, Response, request

from ioc_app import audit
from ioc_app.access import principal
from ioc_app.downloads import (
    XLSX_TYPE,
    about_sheet,
    attachment,
    csv_bytes,
    display_width,
    guard_columns,
    put_cell,
    workbook_bytes,
)
from ioc_app.runtime import runtime as current_runtime
from ioc_app.storage import StoreError
from ioc_app.web import failure, refusal
from layouts.i18n import LANGS, t
from layouts.quality_tables import COLUMNS, NUMBER_FORMATS, TABLES, file_value, rows_of
from metrics.enrollment import admission_year
from metrics.enrollment_quality import figures

log = logging.getLogger("ioc.export")
quality_export = Blueprint("ioc_quality_export", __name__, url_prefix="/api/v1")

PARAMETERS = ("year", "table", "format", "lang")
FORMATS = ("xlsx", "csv")
YEARS = (2000, 2100)


class QualityExportError(ValueError):
    """A request the export cannot answer; the message says what to change."""


def _shown(value: str) -> str:
    return repr(value if len(value) <= 64 else value[:64] + "…")


def parse(args: Mapping[str, Sequence[str]], default_year: int) -> tuple[int, str | None, str, str]:
    """``(year, table, format, lang)`` of a request, or :class:`QualityExportError`."""
    unknown = sorted(set(args) - set(PARAMETERS))
    if unknown:
        raise QualityExportError(f"unknown parameter {_shown(unknown[0])}; allowed: {', '.join(PARAMETERS)}")
    for name in PARAMETERS:
        if len(args.get(name, ())) > 1:
            raise QualityExportError(f"{name} is given {len(args[name])} times; give it once")

    def one(name: str) -> str:
        return (args.get(name) or [""])[0].strip()

    fmt = one("format") or "xlsx"
    if fmt not in FORMATS:
        raise QualityExportError(f"format={_shown(fmt)}: use one of: {', '.join(FORMATS)}")
    lang = one("lang") or "zh"
    if lang not in LANGS:
        raise QualityExportError(f"lang={_shown(lang)}: use one of: {', '.join(LANGS)}")
    table = one("table") or None
    if table is not None and table not in TABLES:
        raise QualityExportError(f"table={_shown(table)}: use one of: {', '.join(TABLES)}")
    if fmt == "csv" and table is None:
        raise QualityExportError(f"a CSV file holds one table: name it with table= (one of: "
                                 f"{', '.join(TABLES)}), or ask for format=xlsx to get every table")
    year = default_year
    raw = one("year")
    if raw:
        if not (raw.isascii() and raw.isdigit() and len(raw) == 4 and YEARS[0] <= int(raw) <= YEARS[1]):
            raise QualityExportError(f"year={_shown(raw)} is not an admission year: give four digits between "
                                     f"{YEARS[0]} and {YEARS[1]}, e.g. year={default_year}, or leave it out "
                                     f"for the current year")
        year = int(raw)
    return year, table, fmt, lang


def _headers(table: str, lang: str) -> list[str]:
    return [t(key, lang) for _, key, _ in COLUMNS[table]]


def _values(rows: list[dict[str, Any]], table: str, lang: str, min_cell: int) -> list[list[Any]]:
    return [[file_value(r, field, kind, lang, min_cell) for field, _, kind in COLUMNS[table]] for r in rows]


def _csv(rows: list[dict[str, Any]], table: str, lang: str, min_cell: int) -> bytes:
    """The table's rows under its header: rates as fractions, text guarded against formulas."""
    headers = _headers(table, lang)
    kinds = [kind for _, _, kind in COLUMNS[table]]
    columns = list(zip(*_values(rows, table, lang, min_cell), strict=True)) if rows else [()] * len(kinds)
    frame = pl.DataFrame({f"c{i}": pl.Series(list(col), dtype=_dtype(kind), strict=False)
                          for i, (col, kind) in enumerate(zip(columns, kinds, strict=True))})
    text = [f"c{i}" for i, kind in enumerate(kinds) if _dtype(kind) == pl.String]
    frame = guard_columns(frame, text)
    return csv_bytes(frame.rename(dict(zip(frame.columns, headers, strict=True))))


def _dtype(kind: str) -> Any:
    if kind in ("count", "rank", "year"):
        return pl.Int64
    if kind in ("score", "margin", "ratio"):
        return pl.Float64
    return pl.String


def _sheet(ws: Any, rows: list[dict[str, Any]], table: str, lang: str, min_cell: int) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    headers = _headers(table, lang)
    kinds = [kind for _, _, kind in COLUMNS[table]]
    widths = [display_width(h) for h in headers]
    for j, header in enumerate(headers, start=1):
        cell = put_cell(ws, 1, j, header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F3")
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for i, values in enumerate(_values(rows, table, lang, min_cell), start=2):
        for j, value in enumerate(values, start=1):
            if value is None:
                continue
            cell = put_cell(ws, i, j, value)
            if kinds[j - 1] in NUMBER_FORMATS:
                cell.number_format = NUMBER_FORMATS[kinds[j - 1]]
            widths[j - 1] = max(widths[j - 1], display_width(value))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 48)


def _xlsx(tables: dict[str, list[dict[str, Any]]], about: list[tuple[str, Any]], lang: str, min_cell: int
          ) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    first = True
    for table, rows in tables.items():
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = t(f"quality.t_{table}", lang).replace("×", "x")[:31]
        _sheet(ws, rows, table, lang, min_cell)
    about_sheet(wb, t("export.about_sheet", lang), about)
    return workbook_bytes(wb, t("quality.report_name", lang), t("app.title", lang))


def _about(year: int, tables: dict[str, list[dict[str, Any]]], lang: str, generated: datetime, exact: bool,
           min_cell: int) -> list[tuple[str, Any]]:
    offset = generated.strftime("%z")
    rule = (t("quality.notice_exact", lang) if exact else t("quality.notice_rule", lang)).replace(
        "{n}", str(min_cell))
    return [
        (t("export.report", lang), t("quality.report_name", lang)),
        (t("export.year", lang), year),
        *((t("quality.table", lang) if i == 0 else "", f"{t(f'quality.t_{name}', lang)}: {len(rows)}")
          for i, (name, rows) in enumerate(tables.items())),
        (t("export.generated", lang),
         f"{generated:%Y-%m-%d %H:%M:%S} ({generated.tzinfo}, UTC{offset[:3]}:{offset[3:]})"),
        (t("export.definitions", lang), t("quality.definitions", lang)),
        (t("export.small_cells", lang), rule),
        (t("export.source", lang), t("app.title", lang)),
    ]


@quality_export.get("/export/enrollment/quality")
def export_quality() -> Response:
    """A table, or every table, of 生源质量分析 (permission ``quality``)."""
    runtime = current_runtime()
    zone = runtime.settings.zone
    rule = int(runtime.settings.min_cell)
    exact = principal().may("exact_cells")
    min_cell = 1 if exact else rule
    started = time.perf_counter()
    now = datetime.now(UTC)
    try:
        year, table, fmt, lang = parse(request.args.to_dict(flat=False), admission_year(zone, now))
        got = figures(runtime.store, year, min_cell=min_cell)
    except QualityExportError as exc:
        return refusal(400, "bad_parameter", str(exc))
    except StoreError as exc:
        return failure(503, "store_unavailable", exc, where="export", headers={"Retry-After": "10"})
    tables = {name: rows_of(got, name, lang) for name in ((table,) if table else TABLES)}
    rows = sum(len(r) for r in tables.values())
    if fmt == "csv":
        assert table is not None
        body, mimetype = _csv(tables[table], table, lang, rule), "text/csv; charset=utf-8"
    else:
        about = _about(year, tables, lang, now.astimezone(zone), exact, rule)
        body, mimetype = _xlsx(tables, about, lang, rule), XLSX_TYPE
    stem = f"enrollment-quality-{year}" + (f"-{table}" if table else "")
    named = f"{t('quality.file', lang)}-{year}" + (f"-{t(f'quality.t_{table}', lang)}" if table else "")
    audit.record("export.download", object="enrollment_quality", detail={
        "year": year, "table": table or "all", "filters": {"table": [table] if table else list(TABLES)},
        "format": fmt, "lang": lang, "rows": rows, "bytes": len(body), "exact": exact,
        "sha256": hashlib.sha256(body).hexdigest()})
    log.info("event=export.served report=quality year=%d table=%s format=%s lang=%s exact=%s rows=%d "
             "bytes=%d ms=%.1f", year, table or "all", fmt, lang, str(exact).lower(), rows, len(body),
             (time.perf_counter() - started) * 1000)
    return Response(body, headers={"Content-Type": mimetype, "Cache-Control": "no-store",
                                   "Content-Disposition": attachment(f"{stem}.{fmt}", f"{named}.{fmt}")})
