"""``GET /api/v1/export/enrollment``: the admissions breakdown as a file (招生数据一键导出).

The admissions office takes the season's figures to its own meetings and systems: with one
click on the cockpit it gets, per province, batch, category, college and major, the plan,
the admitted, the plan completion and the admitted candidates' lowest, average and highest
score. The figures are :func:`metrics.enrollment.breakdown`, the definitions of the
cockpit and the snapshot (a candidate admitted then returned is not admitted); this module
adds what belongs to HTTP: the parameters, the two file formats, the language and the
errors (``{"error", "message"}``, 400 for anything a request can get wrong, 503 when the
store is away).

- ``format=xlsx`` (default): a sheet with a bold, frozen header row and a filter on it,
  column widths that fit the content, numbers as numbers (completion as a percentage), a
  totals row, and a second sheet stating the year, the filters, the generation time in the
  site's zone and the definitions. Text cells are strings, never formulas.
- ``format=csv``: the same rows without totals (a machine reads it too), UTF-8 with a
  byte-order mark, text cells guarded against formula injection (:mod:`ioc_app.downloads`).
- ``lang=zh`` (default; the office works in Chinese) or ``en``: header row, names of
  provinces, colleges, majors, batches and categories, sheet names and the file name.

The file holds aggregates per plan cell — counts and score statistics, never a candidate
key. The score statistics of a cell of fewer than ``IOC_MIN_CELL`` admitted candidates would
be one or two candidates' own scores, so this file leaves them empty, as the snapshot does
(:func:`metrics.enrollment.suppress_breakdown`; counts stay, the sheet that states the
filters says so). ``GET /api/v1/export/enrollment/exact`` — the same parameters, permission
``exact_cells``, the admissions role only — is the office's exact file; each one is audited
with ``detail.exact = true``. Not cached: an export is asked for by a person, seldom, and must
carry the latest admissions; it costs two queries over one year's partition.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl
from flask import Blueprint, Response, request

from ingest.enrollment import BATCHES, CATEGORIES, PROVINCES, YEAR
from ingest.site import Site
from ioc_app import audit
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
from metrics.enrollment import (
    EXPORT_KEYS,
    admission_year,
    breakdown,
    breakdown_totals,
    known_codes,
    suppress_breakdown,
)

log = logging.getLogger("ioc.export")
export_api = Blueprint("ioc_export", __name__, url_prefix="/api/v1")

FORMATS = ("xlsx", "csv")
PARAMETERS = ("year", *EXPORT_KEYS, "format", "lang")
#: parameters given at most once; the filters may be repeated (``province=11&province=42``)
SINGLE = ("year", "format", "lang")
#: filters whose values are a closed set (the stream contract's); colleges and majors are
#: codes, checked against the catalogue and the year's data
ENUMS: dict[str, tuple[str, ...]] = {"province": PROVINCES, "batch": BATCHES, "category": CATEGORIES}
YEARS = (int(YEAR.min or 2000), int(YEAR.max or 2100))
#: codes named in an error message before "…"
LISTED = 40
MAX_STEM = 120

#: columns of the file: frame column, catalogue key of its header, kind (text, count, ratio, score)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("province", "export.col_province_code", "text"),
    ("province_name", "export.col_province", "text"),
    ("batch_name", "export.col_batch", "text"),
    ("category_name", "export.col_category", "text"),
    ("college", "export.col_college_code", "text"),
    ("college_name", "export.col_college", "text"),
    ("major", "export.col_major_code", "text"),
    ("major_name", "export.col_major", "text"),
    ("plan", "export.col_plan", "count"),
    ("admitted", "export.col_admitted", "count"),
    ("completion", "export.col_completion", "ratio"),
    ("min_score", "export.col_min_score", "score"),
    ("avg_score", "export.col_avg_score", "score"),
    ("max_score", "export.col_max_score", "score"),
)
NUMBER_FORMATS = {"count": "#,##0", "ratio": "0.0%", "score": "0.0"}
#: header of each filter key on the sheet that states the filters
FILTER_LABELS = {"province": "export.col_province", "batch": "export.col_batch",
                 "category": "export.col_category", "college": "export.col_college",
                 "major": "export.col_major"}


class ExportError(ValueError):
    """A request the export cannot answer; ``message`` says what to change."""

    def __init__(self, message: str, code: str = "bad_parameter") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ExportRequest:
    """One validated request: filters in ``EXPORT_KEYS`` order, each with sorted, distinct
    values (a key given no value is no filter)."""

    year: int
    filters: tuple[tuple[str, tuple[str, ...]], ...]
    fmt: str
    lang: str


def _shown(value: str) -> str:
    return repr(value if len(value) <= 64 else value[:64] + "…")


def _listed(values: Sequence[str]) -> str:
    head = ", ".join(values[:LISTED])
    return head if len(values) <= LISTED else f"{head}, … ({len(values)} in all)"


def parse_request(args: Mapping[str, Sequence[str]], default_year: int) -> ExportRequest:
    """The request in ``args`` (each parameter → its values), or :class:`ExportError` naming
    the allowed parameters or values. ``default_year`` is the current admission year.
    College and major codes are checked later, against the store (:func:`check_codes`)."""
    unknown = sorted(set(args) - set(PARAMETERS))
    if unknown:
        raise ExportError(f"unknown parameter {_shown(unknown[0])}; allowed: {', '.join(PARAMETERS)}")
    for name in SINGLE:
        if len(args.get(name, ())) > 1:
            raise ExportError(f"{name} is given {len(args[name])} times; give it once")
    fmt = (args.get("format") or ["xlsx"])[0] or "xlsx"
    if fmt not in FORMATS:
        raise ExportError(f"format={_shown(fmt)}: use one of: {', '.join(FORMATS)}")
    lang = (args.get("lang") or ["zh"])[0] or "zh"
    if lang not in LANGS:
        raise ExportError(f"lang={_shown(lang)}: use one of: {', '.join(LANGS)}")
    year = default_year
    raw_year = ((args.get("year") or [""])[0]).strip()
    if raw_year:
        if not (raw_year.isascii() and raw_year.isdigit() and len(raw_year) == 4):
            raise ExportError(f"year={_shown(raw_year)} is not a year: give the admission year as four "
                              f"digits, e.g. year={default_year}, or leave it out for the current "
                              f"year ({default_year})")
        year = int(raw_year)
        if not YEARS[0] <= year <= YEARS[1]:
            raise ExportError(f"year={year} is outside the admission years kept, {YEARS[0]}–{YEARS[1]}; "
                              f"give a year in that range, e.g. year={default_year}")
    filters = []
    for key in EXPORT_KEYS:
        values = tuple(sorted({v.strip() for v in args.get(key, ()) if v.strip()}))
        for v in values:
            allowed = ENUMS.get(key)
            if allowed and v not in allowed:
                raise ExportError(f"{key}={_shown(v)} is not a {key} code; use one of: {', '.join(allowed)}")
        if values:
            filters.append((key, values))
    return ExportRequest(year, tuple(filters), fmt, lang)


def check_codes(req: ExportRequest, known: Mapping[str, frozenset[str]]) -> None:
    """Refuse a college or major code that neither the site catalogue nor the year's plan
    and admissions know (an empty file would read as "nobody was admitted there")."""
    for key, values in req.filters:
        if key not in known:
            continue
        for v in values:
            if v not in known[key]:
                raise ExportError(
                    f"{key}={_shown(v)} is neither in the site catalogue nor in the plan or admissions "
                    f"of {req.year}; use one of: {_listed(sorted(known[key]))}")


# --------------------------------------------------------------------------- the table


def _labelled(rows: pl.DataFrame, lang: str) -> pl.DataFrame:
    """The breakdown with names in ``lang`` and batch/category in words, in file order."""
    def words(prefix: str, codes: tuple[str, ...]) -> dict[str, str]:
        return {c: t(f"enroll.{prefix}_{c}", lang) for c in codes}

    return rows.with_columns(
        pl.col(f"province_{lang}").alias("province_name"),
        pl.col("batch").replace_strict(words("batch", BATCHES), default=pl.col("batch")).alias("batch_name"),
        pl.col("category").replace_strict(words("cat", CATEGORIES), default=pl.col("category"))
        .alias("category_name"),
        pl.col(f"college_{lang}").alias("college_name"),
        pl.col(f"major_{lang}").alias("major_name"),
    ).select(c for c, _, _ in COLUMNS)


def _headers(lang: str) -> list[str]:
    return [t(key, lang) for _, key, _ in COLUMNS]


def _csv(table: pl.DataFrame, lang: str) -> bytes:
    """Data rows only, so a program can read the file as it is; completion as a fraction
    (4 decimals), the average score to 2 decimals."""
    text = [c for c, _, kind in COLUMNS if kind == "text"]
    out = guard_columns(table, text).with_columns(
        pl.col("completion").round(4), pl.col("avg_score").round(2))
    return csv_bytes(out.rename(dict(zip(out.columns, _headers(lang), strict=True))))


def _xlsx(table: pl.DataFrame, totals: dict[str, Any], about: list[tuple[str, Any]], lang: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = t("export.sheet", lang)
    bold = Font(bold=True)
    widths = [display_width(h) for h in _headers(lang)]
    for j, header in enumerate(_headers(lang), start=1):
        cell = put_cell(ws, 1, j, header)
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="DDE6F3")
        cell.alignment = Alignment(horizontal="center", vertical="center")
    kinds = [kind for _, _, kind in COLUMNS]
    for i, values in enumerate(table.iter_rows(), start=2):
        for j, value in enumerate(values, start=1):
            if value is None:
                continue
            cell = put_cell(ws, i, j, value)
            if kinds[j - 1] != "text":
                cell.number_format = NUMBER_FORMATS[kinds[j - 1]]
            widths[j - 1] = max(widths[j - 1], display_width(value))
    last = table.height + 1
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{last}"
    total_row = last + 1
    top = Border(top=Side(style="thin"))
    for j, (column, _, kind) in enumerate(COLUMNS, start=1):
        value = t("export.total", lang) if j == 1 else totals.get(column)
        cell = put_cell(ws, total_row, j, value) if value is not None else ws.cell(row=total_row, column=j)
        cell.font, cell.border = bold, top
        if kind != "text":
            cell.number_format = NUMBER_FORMATS[kind]
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 48)

    about_sheet(wb, t("export.about_sheet", lang), about)
    return workbook_bytes(wb, t("export.sheet", lang), t("app.title", lang))


# --------------------------------------------------------------------------- the words around it


def _word(site: Site, key: str, code: str, lang: str) -> str:
    """A filter value's name in ``lang``: batches and categories from the UI catalogue,
    the rest from the site catalogue; the code when it is not named."""
    if key == "batch":
        return t(f"enroll.batch_{code}", lang)
    if key == "category":
        return t(f"enroll.cat_{code}", lang)
    table = {"province": site.provinces, "college": site.colleges, "major": site.majors}[key]
    named = next((n for n in table if n.code == code), None)
    return (named.name_zh if lang == "zh" else named.name_en) if named else code


def _filter_value(site: Site, key: str, code: str, lang: str) -> str:
    """A filter value as the sheet states it: "湖北 (42)"; batches and categories in words."""
    word = _word(site, key, code, lang)
    return word if key in ("batch", "category") or word == code else f"{word} ({code})"


def _about(req: ExportRequest, site: Site, rows: int, generated: datetime,
           min_cell: int | None = None) -> list[tuple[str, Any]]:
    """The lines of the sheet that says what the file holds: report, year, each filter (or
    "all"), rows, when it was made in the site's zone, the definitions, the small-cell rule
    (``min_cell``; None: an exact file) and the source."""
    lang = req.lang
    given = dict(req.filters)
    sep = "、" if lang == "zh" else "; "
    offset = generated.strftime("%z")

    def stated(key: str) -> str:
        if key not in given:
            return t("export.all", lang)
        return sep.join(_filter_value(site, key, v, lang) for v in given[key])

    lines: list[tuple[str | None, Any]] = [
        (t("export.report", lang), t("export.report_name", lang)),
        (t("export.year", lang), req.year),
        *((t(FILTER_LABELS[k], lang), stated(k)) for k in EXPORT_KEYS),
        (t("export.rows", lang), rows),
        (t("export.generated", lang),
         f"{generated:%Y-%m-%d %H:%M:%S} ({generated.tzinfo}, UTC{offset[:3]}:{offset[3:]})"),
        (t("export.definitions", lang), t("export.def_admitted", lang)),
        *((None, t(f"export.def_{k}", lang)) for k in ("plan", "completion", "scores", "college")),
        (t("export.small_cells", lang),
         t("export.exact", lang) if min_cell is None else t("export.small_cells_rule", lang).replace(
             "{n}", str(min_cell))),
        (t("export.source", lang), t("app.title", lang)),
    ]
    return [(label or "", value) for label, value in lines]


def filenames(req: ExportRequest, site: Site) -> tuple[str, str]:
    """The file's ASCII name (codes) and its name in the request's language (names), e.g.
    ``enrollment-2026-province-42-batch-regular.xlsx`` and ``招生录取明细-2026-湖北-本科批.xlsx``."""
    ascii_stem = "-".join([f"enrollment-{req.year}", *(f"{k}-{'+'.join(v)}" for k, v in req.filters)])
    named = [f"{t('export.file', req.lang)}-{req.year}"]
    for key, values in req.filters:
        named.append("+".join(_word(site, key, v, req.lang) for v in values))
    return (f"{ascii_stem[:MAX_STEM]}.{req.fmt}", f"{'-'.join(named)[:MAX_STEM]}.{req.fmt}")


# --------------------------------------------------------------------------- the route


@export_api.get("/export/enrollment")
def export_enrollment() -> Response:
    """The breakdown with small cells' score statistics left empty (permission ``export``)."""
    return _export(exact=False)


@export_api.get("/export/enrollment/exact")
def export_enrollment_exact() -> Response:
    """The breakdown with every score statistic (permission ``exact_cells``: admissions)."""
    return _export(exact=True)


def _export(exact: bool) -> Response:
    runtime = current_runtime()
    zone = runtime.settings.zone
    min_cell = runtime.settings.min_cell
    started = time.perf_counter()
    now = datetime.now(UTC)
    try:
        req = parse_request(request.args.to_dict(flat=False), admission_year(zone, now))
        if any(k in ("college", "major") for k, _ in req.filters):
            check_codes(req, known_codes(runtime.store, req.year))
        rows = breakdown(runtime.store, req.year, dict(req.filters))
    except ExportError as exc:
        return refusal(400, exc.code, exc.message)
    except StoreError as exc:
        return failure(503, "store_unavailable", exc, where="export", headers={"Retry-After": "10"})
    totals = breakdown_totals(rows, 1 if exact else min_cell)
    shown = rows if exact else suppress_breakdown(rows, min_cell)
    table = _labelled(shown, req.lang)
    if req.fmt == "csv":
        body, mimetype = _csv(table, req.lang), "text/csv; charset=utf-8"
    else:
        about = _about(req, runtime.site, rows.height, now.astimezone(zone), None if exact else min_cell)
        body, mimetype = _xlsx(table, totals, about, req.lang), XLSX_TYPE
    ascii_name, name = filenames(req, runtime.site)
    # audit: who (the request's principal), the filters, the rows and the file's digest
    audit.record("export.download", object="enrollment_exact" if exact else "enrollment", detail={
        "year": req.year, "filters": {k: list(v) for k, v in req.filters}, "format": req.fmt,
        "lang": req.lang, "rows": rows.height, "bytes": len(body), "exact": exact,
        "sha256": hashlib.sha256(body).hexdigest()})
    log.info("event=export.served year=%d format=%s lang=%s exact=%s filters=%s rows=%d bytes=%d ms=%.1f",
             req.year, req.fmt, req.lang, str(exact).lower(),
             ",".join(f"{k}={'+'.join(v)}" for k, v in req.filters) or "-",
             rows.height, len(body), (time.perf_counter() - started) * 1000)
    return Response(body, headers={"Content-Type": mimetype, "Cache-Control": "no-store",
                                   "Content-Disposition": attachment(ascii_name, name)})
