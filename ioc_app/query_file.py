"""The analyst's answer as an Excel file (``GET /api/v1/query/<domain>?format=xlsx``, the
``/explore`` page's "下载 Excel").

An analyst takes the table on screen to a meeting or a report: the rows exactly as the JSON
answer holds them (buckets as the same text, groups as the same codes, figures as numbers —
ratios shown as percentages, nothing rounded away), under headers in the reader's language
(``lang=zh`` by default, ``en``), and a second sheet saying what the rows answer: the domain,
the measures, the grain, the grouping, each filter, the comparison, the range, when the file
was made and what each measure means (``explore.def.*``, in the same language). Text cells
are strings, never formulas (:mod:`ioc_app.downloads`).
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from ioc_app.downloads import display_width, looks_like_formula
from layouts.i18n import CATALOGUE, t
from metrics.query import DOMAINS, QuerySpec, comparison_range

#: the most rows an Excel download holds: a styled cell costs about 14 µs of CPU, so 50,000
#: rows of eight columns take some 6 s of a web process's time (the CSV has no such limit)
XLSX_MAX_ROWS = 50_000
NUMBER_FORMATS = {"count": "#,##0", "min": "#,##0", "max": "#,##0", "mean": "#,##0.00", "ratio": "0.00%"}
#: a lowest or highest value that is not whole (a score of 612.5) shows its decimals, not 613
FRACTION_FORMAT = "#,##0.0#####"


def _label(key: str, lang: str, fallback: str) -> str:
    return t(key, lang) if key in CATALOGUE else fallback


def measure_label(domain: str, name: str, lang: str) -> str:
    return _label(f"explore.m.{domain}.{name}", lang, name)


def headers(spec: QuerySpec, columns: list[str], lang: str) -> list[str]:
    """The header of each column of an answer, in ``lang``: the bucket, the groups, and per
    measure its label, its comparison and its change."""
    out = []
    for column in columns:
        if column == spec.grain:
            out.append(_label(f"explore.col.{column}", lang, column))
        elif column in spec.group_by:
            # a named dimension: its code column says so, the name column beside it carries the
            # header the page shows (校门代码, 校门)
            label = _label(f"explore.d.{column}", lang, column)
            out.append(t("names.code_col", lang).format(col=label) if f"{column}_name" in columns else label)
        elif column.endswith("_name") and column.removesuffix("_name") in spec.group_by:
            dim = column.removesuffix("_name")
            out.append(_label(f"explore.d.{dim}", lang, dim))
        elif column in spec.measures:
            out.append(measure_label(spec.domain, column, lang))
        elif column.endswith("_cmp") and spec.compare:
            m = measure_label(spec.domain, column.removesuffix("_cmp"), lang)
            out.append(t(f"explore.cmp_col.{spec.compare}", lang).format(m=m))
        elif column.endswith("_diff"):
            out.append(t("explore.diff_col", lang).format(m=measure_label(spec.domain, column[:-5], lang)))
        else:
            out.append(column)
    return out


def _kind(spec: QuerySpec, column: str) -> str | None:
    domain = DOMAINS[spec.domain]
    base = column.removesuffix("_cmp").removesuffix("_diff")
    if base in spec.measures:
        return domain.measure(base).kind
    return None


def about(spec: QuerySpec, zone: ZoneInfo, rows: int, made: datetime, api: str,
          lang: str) -> list[tuple[str, str]]:
    """The lines of the sheet that states the question: label, value."""
    sep = "、" if lang == "zh" else ", "
    domain = spec.domain
    filters = sep.join(f"{_label(f'explore.d.{k}', lang, k)} = {' / '.join(v)}" for k, v in spec.filters)
    offset = made.strftime("%z")
    lines = [
        (t("explore.file.report", lang), t("explore.file.report_name", lang)),
        (t("explore.domain", lang), f"{_label(f'explore.domain.{domain}', lang, domain)} ({domain})"),
        (t("explore.measures", lang),
         sep.join(f"{measure_label(domain, m, lang)} ({m})" for m in spec.measures)),
        (t("explore.grain", lang),
         f"{_label(f'explore.grain.{spec.grain}', lang, spec.grain)} ({spec.grain})"),
        (t("explore.group_by", lang),
         sep.join(f"{_label(f'explore.d.{g}', lang, g)} ({g})" for g in spec.group_by)
         or t("explore.group_none", lang)),
        (t("explore.filters", lang), filters or t("explore.file.filters_none", lang)),
        (t("explore.compare", lang),
         f"{t(f'explore.compare.{spec.compare}', lang)} ({spec.compare})" if spec.compare
         else t("explore.compare.none", lang)),
        (t("explore.range", lang),
         f"{spec.start.astimezone(zone).isoformat()} – {spec.end.astimezone(zone).isoformat()} ({zone.key})"),
    ]
    if spec.compare:
        first, last = comparison_range(spec, zone)
        lines.append((t("explore.file.compare_period", lang),
                      f"{first.astimezone(zone).isoformat()} – {last.astimezone(zone).isoformat()}"))
    lines += [
        (t("explore.file.as_of", lang),
         f"{made:%Y-%m-%d %H:%M:%S} ({zone.key}, UTC{offset[:3]}:{offset[3:]})"),
        (t("explore.file.rows", lang), str(rows)),
    ]
    for i, m in enumerate(spec.measures):
        doc = DOMAINS[domain].measure(m).doc
        meaning = _label(f"explore.def.{domain}.{m}", lang, doc)
        lines.append((t("explore.file.definitions", lang) if i == 0 else "",
                      f"{measure_label(domain, m, lang)} ({m}): {meaning}"))
    if spec.compare:
        lines.append(("", t("explore.file.diff_rule", lang)))
    lines += [(t("explore.api", lang), api), (t("explore.file.source", lang), t("app.title", lang))]
    return lines


def xlsx_bytes(frame: pl.DataFrame, spec: QuerySpec, zone: ZoneInfo, made: datetime, api: str,
               lang: str) -> bytes:
    """The answer's rows (``frame``, buckets as text) and the sheet that states the question.

    Written in openpyxl's streaming (write-only) mode: an answer may have 200,000 rows, and a
    workbook held cell by cell in memory takes several times as long and as much memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(t("explore.file.sheet", lang))
    bold = Font(bold=True)
    head = headers(spec, frame.columns, lang)
    widths = [display_width(h) for h in head]
    for j, column in enumerate(frame.columns):  # widths before any row: a stream is written once
        if frame.schema[column] == pl.String:
            lengths = frame.get_column(column).drop_nulls().str.len_chars()
            longest = int(lengths.max() or 0) if lengths.len() else 0  # type: ignore[arg-type]
            widths[j] = max(widths[j], 2 * longest if column in spec.group_by else longest)
        else:
            widths[j] = max(widths[j], 12)
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 40)
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(1, len(head)))}{frame.height + 1}"
    fill = PatternFill("solid", fgColor="DDE6F3")
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)

    def header(text: str) -> Any:
        cell = WriteOnlyCell(ws, value=text)
        cell.data_type = "s"
        cell.font, cell.fill, cell.alignment = bold, fill, centre
        return cell

    ws.append([header(h) for h in head])
    formats = [NUMBER_FORMATS.get(_kind(spec, c) or "") for c in frame.columns]

    def cell(value: Any, fmt: str | None) -> Any:
        if value is None or value != value:  # null, or a float that is not a number
            return None
        out = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            out.data_type = "s"  # a string, even when it starts with "="
            out.quotePrefix = looks_like_formula(value)
        elif fmt:
            whole = fmt != "#,##0" or isinstance(value, int) or float(value).is_integer()
            out.number_format = fmt if whole else FRACTION_FORMAT
        return out

    for values in frame.iter_rows():
        ws.append([cell(v, f) for v, f in zip(values, formats, strict=True)])
    info = wb.create_sheet(t("explore.file.about", lang))
    lines = about(spec, zone, frame.height, made, api, lang)
    info.column_dimensions["A"].width = max(display_width(label) for label, _ in lines) + 2
    info.column_dimensions["B"].width = min(max(display_width(v) for _, v in lines) + 2, 100)
    for label, value in lines:
        first = WriteOnlyCell(info, value=label)
        first.data_type, first.font = "s", bold
        second = WriteOnlyCell(info, value=value)
        second.data_type = "s"
        info.append([first, second])
    wb.properties.title = t("explore.file.report_name", lang)
    wb.properties.creator = t("app.title", lang)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
