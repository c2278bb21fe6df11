"""Office spreadsheets as they really are: the table inside a sheet found, its header read.

An office's spreadsheet is made to be printed: a title above the table
(``2026年本科招生计划（分省分专业）``, merged across the columns), a blank row, the header row,
the data — a province merged down its rows — then a 合计 row and a note (注：…, 制表人…).
A file is opened here as a :class:`Table`: the header is the first row within the first
:data:`HEADER_SCAN` whose cells are headers of the stream (field names or their Chinese
spellings, ``ingest.headers``), rows above it are skipped; below it, blank rows, 合计 /
总计 / 小计 rows, notes and a repeated header are skipped and counted (never stored, never a
dead letter); a merged cell's value applies to every cell of its range.

Every problem of the file itself — unreadable, no such sheet, several sheets that could be
meant, no header, a required column missing, a column the stream does not have — raises
:class:`ImportError_` when the table is opened, before a row is read, naming the file, the
sheet and the row: the import then stores nothing and keeps no dead letter (it is one
problem of the file, not one per row).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ingest.contracts import Stream
from ingest.headers import HEADER_ALIASES, IDENTIFIER_HEADERS, PERSON_KEYS

#: the header is looked for in this many rows from the top of a sheet (or lines of a CSV file)
HEADER_SCAN = 20
#: columns of office lists that are not data and are left out (the row number, remarks)
IGNORED_HEADERS = frozenset({"序号", "备注"})
#: a cell that makes its row a total: 合计, 总计, 小计, 共计 (广东小计, 合计：…)
TOTAL = r"^.{0,10}?(合计|总计|小计|共计)[:：]?$"
#: a row whose first cell starts like this is a note below (or above) the table
NOTE = (r"^(注|说明|备注|附注|附件|制表|填表|填报|审核|复核|审批|负责人|联系人|联系电话|单位|日期|"
        r"数据来源|资料来源|以上|本表)")
_TOTAL = re.compile(TOTAL)
_NOTE = re.compile(NOTE)
_UNIT = re.compile(r"[(（][^()（）]*[)）]$")


class ImportError_(ValueError):
    """A file that cannot be imported at all; the message names the file (the sheet, the row)
    and says what to change."""


def compact(text: str) -> str:
    """Text as headers and markers are compared: NFKC (full-width → half-width), no whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).split()).lstrip("\ufeff")


def header_field(cell: str, stream: Stream) -> tuple[str, str | None]:
    """``(name, field)`` of a header cell: the spelling ``ingest.headers`` knows (a unit in
    brackets dropped: 计划数（人） is 计划数) and the field it means, or ``None``."""
    fields = {f.name for f in stream.all_fields}
    person = PERSON_KEYS.get(stream.name)
    key = compact(cell)
    for name in (key, _UNIT.sub("", key)):
        target = HEADER_ALIASES.get(name, name)
        if target in fields:
            return name, target
        if name in IDENTIFIER_HEADERS and person is not None:
            return name, person
    return key, None


def is_header(cells: list[str | None], stream: Stream) -> bool:
    """A header row: two or more different fields of the stream, and the known headers at
    least half of the row's filled cells (a title or a data row has none or one)."""
    filled = [c for c in cells if c]
    found = {header_field(c, stream)[1] for c in filled} - {None}
    known = sum(1 for c in filled if header_field(c, stream)[1] or compact(c) in IGNORED_HEADERS)
    return len(found) >= min(2, len(stream.all_fields)) and 2 * known >= len(filled)


class RowSorter:
    """Tells which rows below the header are not data: blank, a total, a note (and the
    one-cell lines that continue a note), the header again."""

    def __init__(self, header: list[str | None]) -> None:
        self.header = [compact(h) if h else "" for h in header]
        self.in_notes = False

    def why_skipped(self, cells: list[str | None]) -> str | None:
        filled = [c for c in cells if c]
        if not filled:
            return "blank"
        texts = [compact(c) for c in filled]
        if any(_TOTAL.match(t) for t in texts):
            return "total"
        if _NOTE.match(texts[0]) or (self.in_notes and len(set(texts)) == 1):
            self.in_notes = True
            return "note"
        if [compact(c) if c else "" for c in cells[: len(self.header)]] == self.header:
            return "header"
        return None


@dataclass
class Table:
    """The table of one file: where its header is, each column's header and field, and its
    rows a chunk at a time (``chunks``: frames under the normalised headers, with the
    sheet's row number of each row)."""

    path: Path
    sheet: str | None
    header_row: int
    #: each kept column's name in the frames (a normalised header) → the file's own header
    columns: dict[str, str]
    #: field → the file's own header of it
    headers: dict[str, str]
    reader: Callable[[Table], Iterator[tuple[pl.DataFrame, list[int]]]]
    #: rows below the header that are not data: (row, why) — blank rows are only counted
    skipped: list[tuple[int, str]] = field(default_factory=list)
    blank: int = 0
    cleanup: Callable[[], None] = lambda: None

    @property
    def where(self) -> str:
        return f"{self.path}, sheet {self.sheet!r}" if self.sheet is not None else str(self.path)

    def chunks(self) -> Iterator[tuple[pl.DataFrame, list[int]]]:
        yield from self.reader(self)

    def skip(self, row: int, why: str) -> None:
        if why == "blank":
            self.blank += 1
        else:
            self.skipped.append((row, why))


def column_letter(i: int) -> str:
    """The spreadsheet letter of the 0-based column ``i`` (A, B … Z, AA …)."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def plan_columns(where: str, row: int, header: list[str | None], stream: Stream, *, letters: bool
                 ) -> tuple[list[str | None], dict[str, str], dict[str, str]]:
    """The frame name of each column (``None``: left out), and the kept and field headers;
    raises :class:`ImportError_` for a column twice, an unknown column or a required one
    missing — one message for all of them."""
    names: list[str | None] = []
    columns: dict[str, str] = {}
    headers: dict[str, str] = {}
    problems: list[str] = []
    seen: dict[str, str] = {}

    def col(i: int) -> str:
        return f"column {column_letter(i)}" if letters else f"column {i + 1}"

    for i, cell in enumerate(header):
        if not cell or compact(cell) in IGNORED_HEADERS:
            names.append(None if cell else f"column_{i + 1}")
            continue
        name, target = header_field(cell, stream)
        if name in IDENTIFIER_HEADERS and target is not None:
            headers.setdefault(target, cell.strip())  # the first becomes the key, the rest are dropped
        elif target is None:
            problems.append(f"{col(i)} {cell.strip()!r}: {stream.name} has no such field; remove the "
                            f"column or head it with one of: {', '.join(f.name for f in stream.all_fields)}")
        elif target in seen:
            problems.append(f"{col(i)} {cell.strip()!r}: {target} is already {seen[target]}; keep one "
                            f"of the two columns")
        else:
            seen[target] = f"{col(i)} {cell.strip()!r}"
            headers[target] = cell.strip()
        names.append(name)
        columns[name] = cell.strip()
    for f in stream.all_fields:
        if f.required and f.name not in headers:
            spellings = [h for h, t in HEADER_ALIASES.items() if t == f.name][:3]
            problems.append(f"no column for {f.name} (required by {stream.name}); add one headed "
                            + " or ".join([f.name, *spellings]))
    if problems:
        raise ImportError_(f"{where}, row {row}: " + "; ".join(problems) + "; nothing was imported")
    return names, columns, headers


def no_header(where: str, stream: Stream, scanned: int) -> ImportError_:
    examples = [h for h, t in HEADER_ALIASES.items() if t in {f.name for f in stream.all_fields}][:5]
    return ImportError_(f"{where}, rows 1–{max(scanned, 1)}: no row holds the column headers of "
                       f"{stream.name} (e.g. {', '.join(examples)}, or the field names); put them in "
                       f"one row above the data, within the first {HEADER_SCAN} rows; nothing was imported")


def frame_of(names: list[str | None], rows: list[list[str | None]]) -> pl.DataFrame:
    """An all-string frame of the kept columns (``names`` without the left-out ones)."""
    kept = [(i, n) for i, n in enumerate(names) if n is not None]
    return pl.DataFrame({n: pl.Series(n, [r[i] if i < len(r) else None for r in rows], dtype=pl.String)
                         for i, n in kept})
