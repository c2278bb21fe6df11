"""File import: CSV, NDJSON, Parquet and XLSX, streamed in chunks through the ingest path.

Files are read a chunk at a time (memory stays flat however large the file). Office files
(XLSX, CSV) are read as tables (``ingest.sheet``: the header row found below a title, totals
and notes skipped, merged cells filled), their Chinese headers and values mapped
(``ingest.headers``) and the names in coded columns read through the site catalogue
(``ingest.site_codes``); then each chunk is submitted like any other batch: the same
validation, dedup and dead letters. A row whose name the catalogue does not know is refused
with that row (a dead letter saying what to change); a line that is not JSON becomes a dead
letter too, with its text as the raw payload — nothing in a file is silently skipped.

A problem of the file itself (unreadable, no such sheet, no header, a required column
missing) is found when the files are opened, every file before the first row is submitted:
the import stops with one message and stores nothing.

Reference data (the plan, the control lines: streams of kind ``plan``) is checked whole and
imported whole or refused (``ingest.reference_import``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import orjson
import polars as pl

from ingest.contracts import Stream
from ingest.headers import map_headers, pseudonymise_frame, pseudonymise_rows
from ingest.sheet import ImportError_, Table
from ingest.sheet_files import CHUNK_ROWS, open_csv, open_xlsx
from ingest.site_codes import SiteCodes

__all__ = ["Chunk", "FileSummary", "ImportError_", "Sink", "chunks", "import_files", "open_files"]

FORMATS = {".csv": "csv", ".txt": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson",
           ".json": "ndjson", ".parquet": "parquet", ".xlsx": "xlsx", ".xlsm": "xlsx"}


class Sink(Protocol):
    """Where the rows go: ``__call__`` submits a chunk (validated, deduplicated, buffered);
    ``reject`` keeps rows refused before submission (a name the catalogue does not know)."""

    def __call__(self, stream: Stream, chunk: list[Any] | pl.DataFrame, source: str) -> Any: ...

    def reject(self, stream: Stream, events: list[Any], errors: list[dict[str, Any]],
               source: str) -> None: ...


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


def import_files(sink: Sink, stream: Stream, paths: list[Path], *, source: str, zone: Any,
                 site_key: bytes, progress: bool = True, sheet: str | None = None,
                 codes: SiteCodes | None = None) -> list[FileSummary]:
    """Import every file, one chunk at a time; a progress bar per file on stderr. Identifier
    columns become keyed pseudonyms (``site_key``) before a chunk goes to the sink; names
    in office files become codes through the catalogue (``codes``).

    Every file is opened (and its header checked) before anything is submitted. Reference
    data (a plan stream: the enrollment plan, the control lines) is imported whole or not at
    all (``ingest.reference_import``)."""
    from tqdm import tqdm

    opened = open_files(paths, stream, zone, sheet)
    try:
        if stream.kind == "plan":
            from ingest.reference_import import import_whole

            return import_whole(sink, stream, opened, source=source, site_key=site_key, codes=codes)
        summaries = []
        for o in opened:
            summary = _summary(o)
            started = time.monotonic()
            bar = tqdm(total=None, unit=" events", desc=o.path.name, disable=not progress,
                       dynamic_ncols=True, leave=True)
            try:
                for chunk in chunks(o, stream, site_key, codes):
                    _submit(sink, stream, chunk, source, summary)
                    bar.update(chunk.size + len(chunk.refused))
                    elapsed = max(time.monotonic() - started, 1e-6)
                    bar.set_postfix(accepted=summary.accepted, rejected=summary.rejected,
                                    rate=f"{summary.rows / elapsed:,.0f}/s")
            finally:
                bar.close()
            _skipped(o, summary)
            summaries.append(summary)
        return summaries
    finally:
        for o in opened:
            o.close()


def _summary(o: Opened) -> FileSummary:
    t = o.table
    return FileSummary(str(o.path), sheet=t.sheet if t else None, header_row=t.header_row if t else None)


def _skipped(o: Opened, summary: FileSummary) -> None:
    if o.table is not None:
        summary.skipped, summary.blank = list(o.table.skipped), o.table.blank


def _submit(sink: Sink, stream: Stream, chunk: Chunk, source: str, summary: FileSummary) -> None:
    errors: list[dict[str, Any]] = []
    if chunk.size:
        receipt = sink(stream, chunk.data, source)
        errors += [{**e, "row": chunk.numbers[e["index"]]} for e in receipt.errors]
        summary.accepted += receipt.accepted
        summary.duplicates += receipt.duplicates
        summary.rejected += receipt.rejected
    if chunk.refused:
        events = [event for event, _ in chunk.refused.values()]
        errs = [{**e, "index": k, "row": row} for k, (row, (_, es)) in enumerate(chunk.refused.items())
                for e in es]
        sink.reject(stream, events, errs, source)
        errors += errs
        summary.rejected += len(chunk.refused)
    summary.rows += chunk.size + len(chunk.refused)
    errors.sort(key=lambda e: e["row"])
    summary.first_errors += errors[: max(0, 10 - len(summary.first_errors))]
