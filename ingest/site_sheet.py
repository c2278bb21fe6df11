"""Reading an office's list (.xlsx or .csv) as rows of known columns, for ``site init``.

Office spreadsheets are made for people: a title row above the header (often merged across
the columns), a blank row, the header, the data, then a 合计 row and a note. This reader
finds the header row (the first of the first 20 rows holding every required column), fills
merged cells from their top-left cell (a 校区 written once beside several gates), and skips
blank, total and note rows. A problem of the file itself — no header, a required column
missing — is one :class:`SheetProblem` naming the file, the sheet and the row.

:func:`read_table` is the one entry point the catalogue builder uses, so a general reader of
office spreadsheets can take its place without touching the builder.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HEADER_ROWS = 20
_TOTAL = re.compile(r"^\s*(合\s*计|总\s*计|小\s*计|total)\b", re.IGNORECASE)
_NOTE = re.compile(r"^\s*(注|备注|说明|填表|制表|审核|note)", re.IGNORECASE)
_UNIT = re.compile(r"[(（]([^)）]*)[)）]\s*$")


@dataclass(frozen=True)
class SheetProblem:
    file: str
    sheet: str
    row: int  # 1-based as the spreadsheet shows it; 0 for the file as a whole
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: sheet {self.sheet!r}" if self.sheet else self.file
        return f"{where}: row {self.row}: {self.message}" if self.row else f"{where}: {self.message}"


class SheetError(Exception):
    """One or more problems that stop the catalogue from being built (nothing is written)."""

    def __init__(self, problems: list[SheetProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class Table:
    file: str
    sheet: str
    header_row: int
    headers: dict[str, str]  # field → the header as written (with its unit, e.g. 带宽（Mbps）)
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)

    def unit(self, name: str) -> str:
        """The unit written in a column's header, e.g. ``Mbps`` of ``带宽（Mbps）``."""
        match = _UNIT.search(self.headers.get(name, ""))
        return match.group(1).strip() if match else ""

    def problem(self, row: int, message: str) -> SheetProblem:
        return SheetProblem(self.file, self.sheet, row, message)


def fold(header: str) -> str:
    """A header as compared: no unit in brackets, no spaces, ``_`` or ``-``, case folded."""
    return re.sub(r"[\s_\-]+", "", _UNIT.sub("", str(header))).casefold()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _grids(path: Path) -> list[tuple[str, list[list[str]]]]:
    """Every sheet as rows of cell texts (merged cells filled from their top-left cell)."""
    if path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        return [("", [[c.strip() for c in row] for row in csv.reader(text.splitlines())])]
    from openpyxl import load_workbook

    book = load_workbook(path, data_only=True)
    out = []
    for ws in book.worksheets:
        grid = [[_text(c) for c in row] for row in ws.iter_rows(values_only=True)]
        for rng in ws.merged_cells.ranges:
            top = grid[rng.min_row - 1][rng.min_col - 1] if rng.min_row <= len(grid) else ""
            for r in range(rng.min_row, min(rng.max_row, len(grid)) + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    if c <= len(grid[r - 1]):
                        grid[r - 1][c - 1] = top
        out.append((ws.title, grid))
    return out


def _header(row: list[str], fields: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    """field → column for the known headers of one row (the first column of a field wins)."""
    found: dict[str, int] = {}
    for col, cell in enumerate(row):
        key = fold(cell)
        if not key:
            continue
        for name, synonyms in fields.items():
            if name not in found and key in {fold(s) for s in synonyms}:
                found[name] = col
                break
    return found


def read_table(path: Path, fields: Mapping[str, tuple[str, ...]], required: tuple[str, ...]) -> Table:
    """The rows of the one sheet of ``path`` that has a header with every ``required`` field."""
    name = str(path)
    try:
        grids = _grids(path)
    except Exception as exc:  # openpyxl raises its own kinds for an old .xls, a broken zip…
        raise SheetError([SheetProblem(name, "", 0, f"cannot read it as .xlsx or .csv ({exc}); save it "
                                                    "from the spreadsheet program as .xlsx")]) from None
    found: list[Table] = []
    partial: list[SheetProblem] = []
    for sheet, grid in grids:
        for i, row in enumerate(grid[:HEADER_ROWS], 1):
            cols = _header(row, fields)
            if all(r in cols for r in required):
                found.append(_rows(name, sheet, i, grid, cols))
                break
            if len(cols) >= 2:  # a header, but a required column is missing
                missing = [fields[r][0] for r in required if r not in cols]
                partial.append(SheetProblem(name, sheet, i, f"the header lacks {', '.join(missing)} "
                                                            f"(accepted: {_accepted(fields, required)})"))
                break
    if len(found) > 1:
        raise SheetError([SheetProblem(name, "", 0, "several sheets have a header ("
                                       + ", ".join(t.sheet for t in found) + "); keep the list in one")])
    if found:
        return found[0]
    if partial:
        raise SheetError(partial[:1])
    raise SheetError([SheetProblem(name, grids[0][0] if grids else "", 0,
                                   f"no header row in the first {HEADER_ROWS} rows; expected columns "
                                   f"{_accepted(fields, required)}")])


def _accepted(fields: Mapping[str, tuple[str, ...]], required: tuple[str, ...]) -> str:
    return "; ".join(f"{r}: {' / '.join(fields[r][:4])}" for r in required)


def _rows(name: str, sheet: str, header_row: int, grid: list[list[str]], cols: dict[str, int]) -> Table:
    table = Table(name, sheet, header_row, {f: grid[header_row - 1][c] for f, c in cols.items()})
    for i, row in enumerate(grid[header_row:], header_row + 1):
        cells = [c for c in row if c]
        if not cells or any(_TOTAL.match(c) for c in cells[:2]):
            continue
        values = {f: (row[c] if c < len(row) else "") for f, c in cols.items()}
        if not any(values.values()) or (_NOTE.match(cells[0]) and len(set(cells)) == 1):
            continue  # a note below the table, or a row of columns this builder does not read
        table.rows.append((i, values))
    return table
