"""File import: CSV, NDJSON, Parquet and XLSX, streamed in chunks through the ingest path.

Files are read a chunk at a time (memory stays flat however large the file), mapped from
Chinese headers and values (``ingest.headers``), and submitted like any other batch: the
same validation, dedup and dead letters. A line that is not JSON becomes a dead letter
too, with its text as the raw payload — nothing in a file is silently skipped.
"""

from __future__ import annotations

import codecs
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

import orjson
import polars as pl

from ingest.contracts import Stream
from ingest.headers import map_headers, pseudonymise_frame, pseudonymise_rows

CHUNK_ROWS = 50_000
FORMATS = {".csv": "csv", ".txt": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson",
           ".json": "ndjson", ".parquet": "parquet", ".xlsx": "xlsx", ".xlsm": "xlsx"}


class ImportError_(ValueError):
    """A file that cannot be imported at all; the message says what to change."""


class Sink(Protocol):
    def __call__(self, stream: Stream, chunk: list[Any] | pl.DataFrame, source: str) -> Any: ...


@dataclass
class FileSummary:
    path: str
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    first_errors: list[dict[str, Any]] = field(default_factory=list)


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImportError_(f"{path}: unknown file type {path.suffix!r}; use .csv, .ndjson/.jsonl, "
                           f".parquet or .xlsx")
    return fmt


def _utf8_path(path: Path) -> tuple[Path, Callable[[], None]]:
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


def read_csv(path: Path) -> Iterator[pl.DataFrame]:
    real, cleanup = _utf8_path(path)
    try:
        lf = pl.scan_csv(real, infer_schema=False, encoding="utf8")
        yield from lf.collect_batches(chunk_size=CHUNK_ROWS)
    except pl.exceptions.PolarsError as exc:
        raise ImportError_(f"{path}: cannot read it as CSV ({str(exc).splitlines()[0]}); it needs a "
                           f"header row of field names, comma-separated") from None
    finally:
        cleanup()


def read_ndjson(path: Path) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    with path.open("rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                chunk.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                chunk.append(line.decode("utf-8", "replace").rstrip("\n"))  # dead-lettered as text
            if len(chunk) >= CHUNK_ROWS:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def read_parquet(path: Path) -> Iterator[pl.DataFrame]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several kinds for a bad file
        raise ImportError_(f"{path}: not a readable Parquet file ({exc})") from None
    for batch in pf.iter_batches(batch_size=CHUNK_ROWS):
        yield cast("pl.DataFrame", pl.from_arrow(batch))  # a record batch: a frame, never a Series


def _cell_text(value: Any, zone: ZoneInfo) -> str | None:
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


def read_xlsx(path: Path, zone: ZoneInfo, sheet: str | None = None) -> Iterator[pl.DataFrame]:
    """Rows of the first (or named) sheet; spreadsheet times without a zone are site time."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a bad file
        raise ImportError_(f"{path}: not a readable .xlsx workbook ({exc})") from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise ImportError_(f"{path}: no sheet {sheet!r}; sheets: {', '.join(wb.sheetnames)}")
        ws = wb[sheet] if sheet else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header: list[str] | None = None
        chunk: list[list[str | None]] = []
        for row in rows:
            cells = [_cell_text(v, zone) for v in row]
            if header is None:
                if any(cells):
                    header = [c or f"column_{i + 1}" for i, c in enumerate(cells)]
                continue
            if not any(cells):
                continue
            chunk.append(cells[: len(header)] + [None] * (len(header) - len(cells)))
            if len(chunk) >= CHUNK_ROWS:
                yield _frame(header, chunk)
                chunk = []
        if header is None:
            raise ImportError_(f"{path}: the sheet is empty; put field names in the first row")
        if chunk:
            yield _frame(header, chunk)
    finally:
        wb.close()


def _frame(header: list[str], rows: list[list[str | None]]) -> pl.DataFrame:
    columns: list[Sequence[str | None]] = list(zip(*rows, strict=True)) if rows else [[] for _ in header]
    return pl.DataFrame({h: pl.Series(h, list(col), dtype=pl.String)
                         for h, col in zip(header, columns, strict=True)})


def chunks(path: Path, stream: Stream, zone: ZoneInfo, site_key: bytes
           ) -> Iterator[list[Any] | pl.DataFrame]:
    """The file's rows a chunk at a time, identifier columns already pseudonymised (with
    ``site_key``): a chunk leaves here only without raw 考生号 / ID numbers."""
    fmt = file_format(path)
    if not path.is_file():
        raise ImportError_(f"{path}: no such file")
    if fmt == "ndjson":
        for rows in read_ndjson(path):
            yield pseudonymise_rows(rows, stream, site_key)
        return
    reader = {"csv": read_csv, "parquet": read_parquet}.get(fmt)
    frames = reader(path) if reader else read_xlsx(path, zone)
    for frame in frames:
        frame = pseudonymise_frame(frame, stream, site_key)
        yield map_headers(frame, stream) if fmt in ("csv", "xlsx") else frame


def import_files(sink: Sink, stream: Stream, paths: list[Path], *, source: str, zone: ZoneInfo,
                 site_key: bytes, progress: bool = True) -> list[FileSummary]:
    """Import every file, one chunk at a time; a progress bar per file on stderr. Identifier
    columns become keyed pseudonyms (``site_key``) before a chunk goes to the sink."""
    from tqdm import tqdm

    summaries = []
    for path in paths:
        summary = FileSummary(str(path))
        started = time.monotonic()
        bar = tqdm(total=None, unit=" events", desc=path.name, disable=not progress,
                   dynamic_ncols=True, leave=True)
        try:
            for chunk in chunks(path, stream, zone, site_key):
                n = chunk.height if isinstance(chunk, pl.DataFrame) else len(chunk)
                receipt = sink(stream, chunk, source)
                for e in receipt.errors:
                    if len(summary.first_errors) < 10:
                        summary.first_errors.append({**e, "index": e["index"] + summary.rows})
                summary.rows += n
                summary.accepted += receipt.accepted
                summary.duplicates += receipt.duplicates
                summary.rejected += receipt.rejected
                bar.update(n)
                elapsed = max(time.monotonic() - started, 1e-6)
                bar.set_postfix(accepted=summary.accepted, rejected=summary.rejected,
                                rate=f"{summary.rows / elapsed:,.0f}/s")
        finally:
            bar.close()
        summaries.append(summary)
    return summaries
