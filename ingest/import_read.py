"""Opening import files and reading them a chunk at a time, as ``ingest.importer`` imports
them and ``ingest.import_preview`` shows them.

Every file is opened — and an office file's table found and its header checked — before a
row is read (:func:`open_files`); :func:`chunks` then gives its rows ready to submit:
identifier columns pseudonymised, Chinese headers and values mapped, names read through the
catalogue, with the file's own row number of each row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import orjson
import polars as pl

from ingest.contracts import Stream
from ingest.headers import map_headers, pseudonymise_frame, pseudonymise_rows
from ingest.sheet import ImportError_, Table
from ingest.sheet_files import CHUNK_ROWS, open_csv, open_xlsx
from ingest.site_codes import SiteCodes

FORMATS = {".csv": "csv", ".txt": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson",
           ".json": "ndjson", ".parquet": "parquet", ".xlsx": "xlsx", ".xlsm": "xlsx"}


@dataclass
class FileSummary:
    path: str
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    #: the first errors, each with the file's ``row`` (as the sheet or the file numbers it)
    first_errors: list[dict[str, Any]] = field(default_factory=list)
    sheet: str | None = None
    header_row: int | None = None
    #: rows below the header that are not data (a total, a note, the header again): (row, why)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    blank: int = 0


@dataclass
class Opened:
    """A file ready to be read: its format and, for an office file, its table."""

    path: Path
    fmt: str
    table: Table | None = None

    def close(self) -> None:
        if self.table is not None:
            self.table.cleanup()


@dataclass
class Chunk:
    """Rows of a file ready to submit (``data``, with the file's row number of each), and the
    rows refused before submission with their errors (``refused``: row → (event, errors))."""

    data: list[Any] | pl.DataFrame
    numbers: list[int]
    refused: dict[int, tuple[dict[str, Any], list[dict[str, Any]]]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.data.height if isinstance(self.data, pl.DataFrame) else len(self.data)


def file_format(path: Path) -> str:
    if path.suffix.lower() == ".xls":
        raise ImportError_(f"{path}: an old-style Excel workbook (.xls); open it in the office program "
                           f"and save it as an Excel workbook (.xlsx); nothing was imported")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImportError_(f"{path}: unknown file type {path.suffix!r}; use .csv, .ndjson/.jsonl, "
                           f".parquet or .xlsx")
    return fmt


def open_file(path: Path, stream: Stream, zone: Any, sheet: str | None = None) -> Opened:
    """Open one file, with every check of the file itself (raises :class:`ImportError_`)."""
    fmt = file_format(path)
    if not path.is_file():
        raise ImportError_(f"{path}: no such file")
    if fmt == "xlsx":
        return Opened(path, fmt, open_xlsx(path, stream, zone, sheet))
    if fmt == "csv":
        return Opened(path, fmt, open_csv(path, stream))
    if fmt == "parquet":
        _check_parquet(path, stream)
    return Opened(path, fmt)


def open_files(paths: list[Path], stream: Stream, zone: Any, sheet: str | None = None) -> list[Opened]:
    """Open every file before any row is read: a problem of one file stops the import with
    nothing of any file stored."""
    opened: list[Opened] = []
    try:
        for path in paths:
            opened.append(open_file(path, stream, zone, sheet))
    except BaseException:
        for o in opened:
            o.close()
        raise
    return opened


def _check_parquet(path: Path, stream: Stream) -> None:
    import pyarrow.parquet as pq

    try:
        names = pq.ParquetFile(path).schema_arrow.names
    except Exception as exc:  # pyarrow raises several kinds for a bad file
        raise ImportError_(f"{path}: not a readable Parquet file ({exc})") from None
    missing = [f.name for f in stream.all_fields if f.required and f.name not in names]
    if missing:
        raise ImportError_(f"{path}: no column {', '.join(missing)} (required by {stream.name}); add "
                           f"{'it' if len(missing) == 1 else 'them'}; nothing was imported")


def read_ndjson(path: Path) -> Iterator[tuple[list[Any], list[int]]]:
    """Objects a chunk at a time with their line numbers; a line that is not JSON is kept as
    its text (it becomes a dead letter)."""
    chunk: list[Any] = []
    numbers: list[int] = []
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                chunk.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                chunk.append(line.decode("utf-8", "replace").rstrip("\n"))  # dead-lettered as text
            numbers.append(number)
            if len(chunk) >= CHUNK_ROWS:
                yield chunk, numbers
                chunk, numbers = [], []
    if chunk:
        yield chunk, numbers


def read_parquet(path: Path) -> Iterator[tuple[pl.DataFrame, list[int]]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several kinds for a bad file
        raise ImportError_(f"{path}: not a readable Parquet file ({exc})") from None
    seen = 0
    for batch in pf.iter_batches(batch_size=CHUNK_ROWS):
        frame = cast("pl.DataFrame", pl.from_arrow(batch))  # a record batch: a frame, never a Series
        yield frame, list(range(seen + 1, seen + 1 + frame.height))
        seen += frame.height


def chunks(opened: Opened, stream: Stream, site_key: bytes, codes: SiteCodes | None = None
           ) -> Iterator[Chunk]:
    """The file's rows a chunk at a time, identifier columns already pseudonymised (with
    ``site_key``): a chunk leaves here only without raw 考生号 / ID numbers. In an office
    file, names in coded columns become codes (``codes``); a row with a name the catalogue
    does not know is refused here, with its errors."""
    if opened.fmt == "ndjson":
        for rows, numbers in read_ndjson(opened.path):
            yield Chunk(pseudonymise_rows(rows, stream, site_key), numbers)
        return
    if opened.table is None:
        for frame, numbers in read_parquet(opened.path):
            yield Chunk(frame, numbers)
        return
    table = opened.table
    for frame, numbers in table.chunks():
        frame = map_headers(pseudonymise_frame(frame, stream, site_key), stream)
        if codes is None:
            yield Chunk(frame, numbers)
            continue
        frame, errors = codes.resolve(stream, frame, table.headers)
        if not errors:
            yield Chunk(frame, numbers)
            continue
        bad = sorted({e["index"] for e in errors})
        refused: dict[int, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
        for e in errors:
            i = e["index"]
            if numbers[i] not in refused:
                row = {k: v for k, v in frame.row(i, named=True).items() if v is not None}
                refused[numbers[i]] = (row, [])
            refused[numbers[i]][1].append(e)
        keep = pl.Series([True] * frame.height).scatter(bad, False)
        yield Chunk(frame.filter(keep), [n for n, k in zip(numbers, keep, strict=True) if k], refused)
