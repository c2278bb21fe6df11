"""What every file the HTTP API hands to a spreadsheet must respect, whichever route sends it.

- **No formulas from data** (CSV injection): a text cell starting with ``=``, ``+``, ``-``
  or ``@`` — or with a tab or carriage return, which some spreadsheets skip before reading
  one of those — is run as a formula when the file is opened (``=HYPERLINK(…)`` in a gate
  code sent by a campus system would become a live link). Codes and names come from
  systems and catalogues IOC does not control, so such cells get a leading apostrophe in
  CSV, which spreadsheets show as text; an XLSX writer types them as strings instead.
- **Chinese that Excel reads**: CSV is UTF-8 with a byte-order mark; without it Excel on a
  Chinese Windows reads the bytes as GBK and shows mojibake.
- **A file name that survives**: ``Content-Disposition`` carries an ASCII ``filename`` for
  every client and, when the name has other characters, the UTF-8 ``filename*`` of RFC 5987
  / RFC 6266 that browsers prefer.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import polars as pl

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: characters that make a spreadsheet read a cell as a formula (CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')


def display_width(value: Any) -> int:
    """Columns a value takes in a spreadsheet (a Chinese character is two), so an XLSX writer
    sizes its columns to what they show."""
    if isinstance(value, float):
        text = f"{value:,.1f}"
    else:
        text = f"{value:,}" if isinstance(value, int) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def looks_like_formula(text: str | None) -> bool:
    """Whether a spreadsheet would run ``text`` as a formula."""
    return text is not None and text.startswith(FORMULA_START)


def put_cell(ws: Any, row: int, col: int, value: Any) -> Any:
    """Write one cell of an XLSX sheet; text is always a string cell, never a formula."""
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
        if looks_like_formula(value):
            cell.quotePrefix = True  # Excel keeps it text even when the cell is edited
    return cell


def about_sheet(wb: Any, title: str, lines: list[tuple[str, Any]]) -> Any:
    """The sheet that states what a file holds: a bold label and its value per line."""
    from openpyxl.styles import Font

    info = wb.create_sheet(title)
    for i, (label, value) in enumerate(lines, start=1):
        put_cell(info, i, 1, label).font = Font(bold=True)
        if value is not None:
            put_cell(info, i, 2, value)
    info.column_dimensions["A"].width = max(display_width(label) for label, _ in lines) + 2
    info.column_dimensions["B"].width = min(max(display_width(v) for _, v in lines if v is not None) + 2, 100)
    return info


def workbook_bytes(wb: Any, title: str, creator: str) -> bytes:
    """The workbook saved, with its title and creator in the document's properties."""
    wb.properties.title = title
    wb.properties.creator = creator
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def guard_text(text: str | None) -> str | None:
    """``text`` as a spreadsheet shows it literally: a leading apostrophe when it would run."""
    return f"'{text}" if looks_like_formula(text) else text


def guard_columns(frame: pl.DataFrame, columns: Iterable[str]) -> pl.DataFrame:
    """``frame`` with :func:`guard_text` applied to the text ``columns`` (nulls stay null)."""
    def formula(column: str) -> pl.Expr:
        expr = pl.lit(False)
        for start in FORMULA_START:
            expr = expr | pl.col(column).str.starts_with(start)
        return expr.fill_null(False)

    return frame.with_columns(
        pl.when(formula(c)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in columns
    )


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """``frame`` as CSV: UTF-8 with a byte-order mark, a header row, nulls as empty cells.
    Text columns must already be guarded (:func:`guard_columns`)."""
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_bom=True)
    return buffer.getvalue()


def safe_name(text: str) -> str:
    """``text`` usable in a file name on every system: no path separators, quotes, control
    or wildcard characters (each run of them becomes ``_``)."""
    return _UNSAFE_IN_NAME.sub("_", text).strip(" ._") or "_"


def attachment(ascii_name: str, name: str | None = None) -> str:
    """A ``Content-Disposition`` value for a download named ``ascii_name`` or, for clients
    that read RFC 5987, ``name`` (e.g. Chinese) when it differs."""
    fallback = safe_name(ascii_name).encode("ascii", "replace").decode().replace("?", "_")
    value = f'attachment; filename="{fallback}"'
    if name and name != fallback:
        value += f"; filename*=UTF-8''{quote(safe_name(name), safe='')}"
    return value
