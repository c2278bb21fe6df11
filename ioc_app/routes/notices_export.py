"""``GET /api/v1/export/enrollment/notices``: the admission notices' exception lists as a file.

The admissions office works the lists away from the screen — calling the courier about a
notice overdue for delivery, re-mailing a returned one, printing the missing ones — so each
list is a file: ``year`` (default: the current admission year), ``kind`` (``returned``,
``undelivered`` or ``unprinted``; all three when left out, one sheet or block each),
``format`` (``xlsx``, the default, or ``csv``) and ``lang`` (``zh``, the default, or ``en``).
Rows are :func:`metrics.enrollment_notices.exceptions` as of the request's time, with the
thresholds of ``IOC_NOTICE_UNDELIVERED_DAYS`` and ``IOC_NOTICE_UNPRINTED_DAYS``.

The file carries candidate pseudonyms and courier tracking numbers, personal data: permission
``admissions_tools`` (the admissions role; ``ioc_app/permissions.py``), each download recorded
on the audit trail (``export.download``, object ``enrollment_notices``: who, the year and list,
the rows, the bytes and the file's SHA-256 — never a key or a tracking number), never cached.
Text cells are guarded against formula injection (:mod:`ioc_app.downloads`). Errors are
``{"error", "message"}``: 400 for a wrong parameter, 503 while the store is away.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl
from flask import Blueprint, Response, request

from ingest.enrollment import YEAR
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
from ioc_app.notices import notice_days
from ioc_app.runtime import runtime as current_runtime
from ioc_app.storage import StoreError
from ioc_app.web import failure, refusal
from layouts.i18n import CATALOGUE, LANGS, t
from metrics.enrollment import admission_year
from metrics.enrollment_notices import KINDS, NoticeDays, exceptions

log = logging.getLogger("ioc.export")
notices_export = Blueprint("ioc_notices_export", __name__, url_prefix="/api/v1")

FORMATS = ("xlsx", "csv")
PARAMETERS = ("year", "kind", "format", "lang")
YEARS = (int(YEAR.min or 2000), int(YEAR.max or 2100))
#: the file's columns: name in the frame, catalogue key of its header
COLUMNS = (("kind_name", "notices.col_kind"), ("candidate_key", "notices.col_candidate"),
           ("province", "export.col_province_code"), ("province_name", "export.col_province"),
           ("batch_name", "export.col_batch"), ("major", "export.col_major_code"),
           ("major_name", "export.col_major"), ("admitted_at", "notices.col_admitted_at"),
           ("status_name", "notices.col_status"), ("notice_at", "notices.col_status_at"),
           ("days_waiting", "notices.col_days"), ("carrier", "notices.col_carrier"),
           ("tracking_no", "notices.col_tracking"))
TEXT = tuple(c for c, _ in COLUMNS if c not in ("days_waiting",))


class ExportError(ValueError):
    """A request the export cannot answer; the message says what to change."""


def parse(args: Mapping[str, Sequence[str]], default_year: int) -> tuple[int, str | None, str, str]:
    """``(year, kind, format, lang)`` of a request, or :class:`ExportError`."""
    unknown = sorted(set(args) - set(PARAMETERS))
    if unknown:
        raise ExportError(f"unknown parameter {unknown[0]!r}; allowed: {', '.join(PARAMETERS)}")
    for name in PARAMETERS:
        if len(args.get(name, ())) > 1:
            raise ExportError(f"{name} is given {len(args[name])} times; give it once")

    def one(name: str, default: str) -> str:
        return ((args.get(name) or [default])[0] or default).strip()

    fmt, lang, kind, raw_year = one("format", "xlsx"), one("lang", "zh"), one("kind", ""), one("year", "")
    if fmt not in FORMATS:
        raise ExportError(f"format={fmt[:64]!r}: use one of: {', '.join(FORMATS)}")
    if lang not in LANGS:
        raise ExportError(f"lang={lang[:64]!r}: use one of: {', '.join(LANGS)}")
    if kind and kind not in KINDS:
        raise ExportError(f"kind={kind[:64]!r}: use one of: {', '.join(KINDS)}, "
                          "or leave it out for all three")
    year = default_year
    if raw_year:
        if not (raw_year.isascii() and raw_year.isdigit() and len(raw_year) == 4
                and YEARS[0] <= int(raw_year) <= YEARS[1]):
            raise ExportError(f"year={raw_year[:64]!r}: give an admission year of four digits in "
                              f"{YEARS[0]}–{YEARS[1]}, e.g. year={default_year}, or leave it out for "
                              f"the current year ({default_year})")
        year = int(raw_year)
    return year, kind or None, fmt, lang


def _words(lang: str, key: Callable[[str], str], codes: Sequence[str]) -> dict[str, str]:
    """Each of ``codes`` in words (``key(code)`` in the catalogue), where the catalogue has it."""
    return {c: t(key(c), lang) for c in codes if key(c) in CATALOGUE}


def labelled(rows: pl.DataFrame, lang: str, zone: Any) -> pl.DataFrame:
    """The exception rows in the file's columns: names in ``lang``, times local."""
    suffix = "zh" if lang == "zh" else "en"
    local = "%Y-%m-%d %H:%M"
    batches = _words(lang, lambda c: f"enroll.batch_{c}", rows["batch"].unique().to_list())
    return rows.with_columns(
        pl.col("kind").replace_strict(_words(lang, lambda c: f"notices.kind_{c}", KINDS),
                                      default=pl.col("kind"))
        .alias("kind_name"),
        pl.col(f"province_{suffix}").alias("province_name"),
        pl.col("batch").replace_strict(batches, default=pl.col("batch"), return_dtype=pl.String)
        .alias("batch_name"),
        pl.col(f"major_{suffix}").alias("major_name"),
        pl.col("notice_status").replace_strict(
            _words(lang, lambda c: f"notices.stage_{c}", ("printed", "mailed", "delivered", "returned")),
            default=pl.col("notice_status"), return_dtype=pl.String).alias("status_name"),
        pl.col("admitted_at").dt.convert_time_zone(zone.key).dt.strftime(local),
        pl.col("notice_at").dt.convert_time_zone(zone.key).dt.strftime(local),
    ).select(c for c, _ in COLUMNS)


def _sheet(ws: Any, table: pl.DataFrame, lang: str) -> None:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    headers = [t(key, lang) for _, key in COLUMNS]
    widths = [display_width(h) for h in headers]
    for j, header in enumerate(headers, start=1):
        cell = put_cell(ws, 1, j, header)
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="DDE6F3")
    for i, values in enumerate(table.iter_rows(), start=2):
        for j, value in enumerate(values, start=1):
            if value is not None:
                put_cell(ws, i, j, value)
                widths[j - 1] = max(widths[j - 1], display_width(value))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{table.height + 1}"
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 40)


def xlsx(table: pl.DataFrame, kinds: Sequence[str], about: list[tuple[str, Any]], lang: str) -> bytes:
    """One sheet per list (its name), then the sheet stating the year, list, time and rules."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for kind in kinds:
        name = t(f"notices.kind_{kind}", lang)
        _sheet(wb.create_sheet(name[:31]), table.filter(pl.col("kind_name") == name), lang)
    about_sheet(wb, t("export.about_sheet", lang), about)
    return workbook_bytes(wb, t("notices.sheet", lang), t("app.title", lang))


def about(year: int, kind: str | None, rows: int, made: datetime, days: NoticeDays, lang: str
          ) -> list[tuple[str, Any]]:
    rule = (t("notices.about_rule", lang).replace("{undelivered}", str(days.undelivered))
            .replace("{unprinted}", str(days.unprinted)))
    offset = made.strftime("%z")
    return [
        (t("export.report", lang), t("notices.title", lang)),
        (t("export.year", lang), year),
        (t("notices.about_kind", lang), t(f"notices.kind_{kind}", lang) if kind else t("export.all", lang)),
        (t("export.rows", lang), rows),
        (t("notices.about_as_of", lang),
         f"{made:%Y-%m-%d %H:%M:%S} ({made.tzinfo}, UTC{offset[:3]}:{offset[3:]})"),
        (t("notices.about_rules", lang), rule),
        (t("notices.about_personal", lang), t("notices.about_personal_text", lang)),
        (t("export.source", lang), t("app.title", lang)),
    ]


@notices_export.get("/export/enrollment/notices")
def export_notices() -> Response:
    """The exception lists of a year (permission ``admissions_tools``), audited."""
    runtime = current_runtime()
    zone = runtime.settings.zone
    started = time.perf_counter()
    now = datetime.now(UTC)
    days = notice_days(runtime.settings)
    try:
        year, kind, fmt, lang = parse(request.args.to_dict(flat=False), admission_year(zone, now))
        rows = exceptions(runtime.store, year, now, days, kind)
    except ExportError as exc:
        return refusal(400, "bad_parameter", str(exc))
    except StoreError as exc:
        return failure(503, "store_unavailable", exc, where="export", headers={"Retry-After": "10"})
    table = labelled(rows, lang, zone)
    kinds = [kind] if kind else list(KINDS)
    if fmt == "csv":
        out = guard_columns(table, TEXT)
        body = csv_bytes(out.rename({c: t(key, lang) for c, key in COLUMNS}))
        mimetype = "text/csv; charset=utf-8"
    else:
        body = xlsx(table, kinds, about(year, kind, rows.height, now.astimezone(zone), days, lang), lang)
        mimetype = XLSX_TYPE
    stem = f"enrollment-notices-{year}" + (f"-{kind}" if kind else "")
    named = f"{t('notices.file', lang)}-{year}" + (f"-{t(f'notices.kind_{kind}', lang)}" if kind else "")
    audit.record("export.download", object="enrollment_notices", detail={
        "year": year, "filters": {"kind": [kind] if kind else list(KINDS)}, "format": fmt, "lang": lang,
        "rows": rows.height, "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest(),
        "undelivered_days": days.undelivered, "unprinted_days": days.unprinted})
    log.info("event=export.served object=enrollment_notices year=%d kind=%s format=%s rows=%d bytes=%d "
             "ms=%.1f",
             year, kind or "-", fmt, rows.height, len(body), (time.perf_counter() - started) * 1000)
    return Response(body, headers={"Content-Type": mimetype, "Cache-Control": "no-store",
                                   "Content-Disposition": attachment(f"{stem}.{fmt}", f"{named}.{fmt}")})
