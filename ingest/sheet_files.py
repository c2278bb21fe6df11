"""Reading the tables of XLSX workbooks and CSV files (``ingest.sheet`` says what a table is).

Both are read a chunk at a time, so memory stays flat for a large file: an XLSX sheet through
openpyxl's read-only reader (its merged ranges are read first from the sheet's XML, which a
read-only reader does not give), a CSV file through Polars from the line after its header.
"""

from __future__ import annotations

import codecs
import csv
import posixpath
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import polars as pl

from ingest.contracts import Stream
from ingest.sheet import (
    HEADER_SCAN,
    ImportError_,
    RowSorter,
    Table,
    frame_of,
    is_header,
    no_header,
    plan_columns,
)

CHUNK_ROWS = 50_000
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def cell_text(value: Any, zone: Any) -> str | None:
    """A spreadsheet cell as text: whole numbers without ``.0``, times without a zone read in
    site time (``zone``), blank → ``None``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=zone)
        return aware.isoformat(timespec="milliseconds")
    if isinstance(value, date):
        return datetime.combine(value, dtime(), zone).isoformat(timespec="milliseconds")
    text = str(value).strip()
    return text or None


# -- XLSX ----------------------------------------------------------------------------------
def merged_ranges(path: Path, sheet: str) -> list[tuple[int, int, int, int]]:
    """The merged ranges of a sheet as ``(min_row, min_col, max_row, max_col)``, 1-based,
    read from the sheet's XML a piece at a time."""
    from openpyxl.utils.cell import range_boundaries

    with zipfile.ZipFile(path) as z:
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rid = next(s.get(_REL) for s in book.iter(f"{_MAIN}sheet") if s.get("name") == sheet)
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        target = next(r.get("Target", "") for r in rels if r.get("Id") == rid)
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
        out = []
        with z.open(part) as fh:
            for _, elem in ElementTree.iterparse(fh):
                if elem.tag == f"{_MAIN}mergeCell":
                    c1, r1, c2, r2 = range_boundaries(elem.get("ref", ""))
                    out.append((int(r1 or 1), int(c1 or 1), int(r2 or 1), int(c2 or 1)))
                elif elem.tag in (f"{_MAIN}row", f"{_MAIN}mergeCell"):
                    elem.clear()  # rows are read by openpyxl: keep none of them here
        return sorted(out)


class _Merges:
    """Fills each merged range with its top-left value as the rows stream by."""

    def __init__(self, ranges: list[tuple[int, int, int, int]]) -> None:
        self.todo = ranges
        self.active: list[tuple[tuple[int, int, int, int], str | None]] = []

    def fill(self, number: int, cells: list[str | None]) -> list[str | None]:
        while self.todo and self.todo[0][0] <= number:
            rng = self.todo.pop(0)
            if rng[0] == number:
                self.active.append((rng, cells[rng[1] - 1] if rng[1] <= len(cells) else None))
        self.active = [(r, v) for r, v in self.active if r[2] >= number]
        for (_, c1, _, c2), value in self.active:
            if len(cells) < c2:
                cells = cells + [None] * (c2 - len(cells))
            for c in range(c1 - 1, c2):
                cells[c] = value
        return cells


def _open_workbook(path: Path) -> Any:
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a bad file
        raise ImportError_(f"{path}: not a readable .xlsx workbook ({exc}); open it in the office "
                           f"program and save it again as an Excel workbook (.xlsx); nothing was imported"
                           ) from None


def _first_rows(ws: Any, zone: Any) -> Iterator[tuple[int, list[str | None]]]:
    ws.reset_dimensions()  # some writers record a wrong size: read what is there
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
        if number > HEADER_SCAN:
            return
        yield number, [cell_text(v, zone) for v in row]


def _header_of(ws: Any, stream: Stream, zone: Any) -> tuple[int, list[str | None]] | None:
    for number, cells in _first_rows(ws, zone):
        if is_header(cells, stream):
            return number, cells
    return None


def open_xlsx(path: Path, stream: Stream, zone: Any, sheet: str | None = None) -> Table:
    """The table of the named sheet, or of the only sheet with a header of the stream."""
    wb = _open_workbook(path)
    try:
        names = wb.sheetnames
        if sheet is not None and sheet not in names:
            raise ImportError_(f"{path}: no sheet {sheet!r}; its sheets are: {', '.join(names)} "
                               f"(give one of them to --sheet); nothing was imported")
        found = {}
        for name in [sheet] if sheet is not None else names:
            at = _header_of(wb[name], stream, zone)
            if at is not None:
                found[name] = at
        if not found:
            if sheet is not None or len(names) == 1:
                raise no_header(f"{path}, sheet {sheet or names[0]!r}", stream, HEADER_SCAN)
            raise ImportError_(f"{path}: no sheet has the column headers of {stream.name} within its "
                               f"first {HEADER_SCAN} rows (sheets: {', '.join(names)}); put them in one "
                               f"row above the data; nothing was imported")
        if len(found) > 1:
            raise ImportError_(f"{path}: sheets {', '.join(map(repr, found))} all have the column headers "
                               f"of {stream.name}; choose one with --sheet NAME; nothing was imported")
        chosen, (row, header) = next(iter(found.items()))
    except Exception:
        wb.close()
        raise
    wb.close()
    where = f"{path}, sheet {chosen!r}"
    names_, columns, headers = plan_columns(where, row, header, stream, letters=True)
    try:
        merges = merged_ranges(path, chosen)
    except (KeyError, StopIteration, zipfile.BadZipFile, ElementTree.ParseError, ValueError) as exc:
        raise ImportError_(f"{where}: the sheet cannot be read ({exc}); save the workbook again as "
                           f".xlsx; nothing was imported") from None

    def read(table: Table) -> Iterator[tuple[pl.DataFrame, list[int]]]:
        wb = _open_workbook(path)
        try:
            ws = wb[chosen]
            ws.reset_dimensions()
            fill = _Merges(list(merges))
            sorter = RowSorter(header)
            rows: list[list[str | None]] = []
            numbers: list[int] = []
            for number, raw in enumerate(ws.iter_rows(values_only=True), start=1):
                cells = fill.fill(number, [cell_text(v, zone) for v in raw])
                if number <= row:
                    continue
                why = sorter.why_skipped(cells)
                if why is not None:
                    table.skip(number, why)
                    continue
                rows.append(cells)
                numbers.append(number)
                if len(rows) >= CHUNK_ROWS:
                    yield frame_of(names_, rows), numbers
                    rows, numbers = [], []
            if rows:
                yield frame_of(names_, rows), numbers
        finally:
            wb.close()

    return Table(path, chosen, row, columns, headers, read)


# -- CSV -----------------------------------------------------------------------------------
def utf8_path(path: Path) -> tuple[Path, Callable[[], None]]:
    """CSV exported by Chinese office software is often GB18030: transcode it, streaming."""
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    try:
        head.decode("utf-8")
        return path, lambda: None
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a character cut by the sample boundary
            return path, lambda: None
    tmp = tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False)
    decoder = codecs.getincrementaldecoder("gb18030")()
    with path.open("rb") as src, tmp:
        while block := src.read(1 << 20):
            tmp.write(decoder.decode(block).encode("utf-8"))
        tmp.write(decoder.decode(b"", final=True).encode("utf-8"))
    out = Path(tmp.name)
    return out, out.unlink


def open_csv(path: Path, stream: Stream) -> Table:
    """The table of a CSV file: its header the first line (of the first 20) that holds the
    stream's headers, title lines above it skipped."""
    real, cleanup = utf8_path(path)
    try:
        with real.open(encoding="utf-8-sig", newline="", errors="replace") as fh:
            reader = csv.reader(fh)
            before, found = 0, None
            for number, cells in enumerate(reader, start=1):
                if number > HEADER_SCAN:
                    break
                if is_header([c.strip() or None for c in cells], stream):
                    found = (before + 1, [c.strip() or None for c in cells], reader.line_num)
                    break
                before = reader.line_num
    except (OSError, csv.Error) as exc:
        cleanup()
        raise ImportError_(f"{path}: cannot read it as CSV ({exc}); nothing was imported") from None
    if found is None:
        cleanup()
        raise no_header(str(path), stream, HEADER_SCAN)
    row, header, skip = found
    try:
        names, columns, headers = plan_columns(str(path), row, header, stream, letters=False)
    except ImportError_:
        cleanup()
        raise

    def read(table: Table) -> Iterator[tuple[pl.DataFrame, list[int]]]:
        sorter = RowSorter(header)
        width = len(names)
        seen = 0
        try:
            lf = pl.scan_csv(real, has_header=False, skip_lines=skip, infer_schema=False,
                             encoding="utf8", schema={f"c{i}": pl.String for i in range(width)},
                             truncate_ragged_lines=True)
            for batch in lf.collect_batches(chunk_size=CHUNK_ROWS):
                numbers = list(range(row + 1 + seen, row + 1 + seen + batch.height))
                seen += batch.height
                batch = batch.with_columns(pl.all().str.strip_chars().replace("", None))
                keep = _sort_rows(batch, sorter, table, numbers)
                frame = batch.filter(pl.Series(keep)) if not all(keep) else batch
                frame = frame.select([pl.col(f"c{i}").alias(n) for i, n in enumerate(names) if n is not None])
                yield frame, [n for n, k in zip(numbers, keep, strict=True) if k]
        except pl.exceptions.PolarsError as exc:
            raise ImportError_(f"{path}: cannot read it as CSV ({str(exc).splitlines()[0]}); it needs "
                               f"a header row of field names, comma-separated") from None

    return Table(path, None, row, columns, headers, read, cleanup=cleanup)


def _sort_rows(batch: pl.DataFrame, sorter: RowSorter, table: Table, numbers: list[int]) -> list[bool]:
    """Which rows of a CSV chunk are data: the few that could be a total, a note, blank or
    the header again (found with one vectorised test) are looked at one by one."""
    from ingest.sheet import NOTE, TOTAL

    cols = [pl.col(c) for c in batch.columns]
    squeezed = [c.str.replace_all(r"\s", "") for c in cols]
    suspect = batch.select(
        pl.any_horizontal(*(c.str.contains(TOTAL) for c in squeezed)).fill_null(False)
        | pl.coalesce(*squeezed).str.contains(NOTE).fill_null(False)
        | (pl.sum_horizontal(*(c.is_not_null() for c in cols)) <= 1)
        | pl.lit(sorter.in_notes)
    ).to_series()
    keep = [True] * batch.height
    for i in suspect.arg_true().to_list():
        why = sorter.why_skipped(list(batch.row(i)))
        if why is not None:
            table.skip(numbers[i], why)
            keep[i] = False
    return keep
