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
from ingest.headers import HEADER_ALIASES, map_headers, pseudonymise_frame, pseudonymise_rows

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
    """Rows of the first (or named) sheet under its header (the first row of two or more
    cells: a title above it is skipped); spreadsheet times without a zone are site time."""
    for frame, _ in numbered_xlsx(path, zone, sheet):
        yield frame


def numbered_xlsx(path: Path, zone: ZoneInfo, sheet: str | None = None
                  ) -> Iterator[tuple[pl.DataFrame, list[int]]]:
    """:func:`read_xlsx` with the sheet's row number of each row (blank rows are skipped);
    the first chunk's numbers start with the header's row."""
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
        numbers: list[int] = []
        for number, row in enumerate(rows, start=ws.min_row or 1):
            cells = [_cell_text(v, zone) for v in row]
            if header is None:
                # the first row of two or more cells: a title above the table (one cell,
                # often merged across) is not the header
                if sum(c is not None for c in cells) >= 2:
                    header = [c or f"column_{i + 1}" for i, c in enumerate(cells)]
                    numbers.append(number)  # (the header's row comes first)
                continue
            if not any(cells):
                continue
            chunk.append(cells[: len(header)] + [None] * (len(header) - len(cells)))
            numbers.append(number)
            if len(chunk) >= CHUNK_ROWS:
                yield _frame(header, chunk), numbers
                chunk, numbers = [], []
        if header is None:
            raise ImportError_(f"{path}: the sheet has no header row; put the field names (two or "
                               f"more) in the row above the data")
        if chunk:
            yield _frame(header, chunk), numbers
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
    columns become keyed pseudonyms (``site_key``) before a chunk goes to the sink.

    Reference data (a plan stream: the enrollment plan, the control lines) is imported whole
    or not at all (:func:`import_whole`)."""
    from tqdm import tqdm

    if stream.kind == "plan":
        return import_whole(sink, stream, paths, source=source, zone=zone, site_key=site_key)
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


# -- reference data: whole or not at all -------------------------------------------------
#: problems listed when a file is refused (the rest are counted)
SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class Problem:
    """Why a reference file is refused: where (the file's row as a spreadsheet numbers it,
    the column under the file's own header) and what to change."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


class RefusedFile(ImportError_):
    """A reference file with problems: nothing of it was imported."""

    def __init__(self, path: Path, stream: Stream, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:SHOWN_PROBLEMS])
        more = len(problems) - SHOWN_PROBLEMS
        super().__init__(
            f"{path}: refused, nothing imported ({stream.name} is reference data: a file is imported "
            f"whole or not at all); {len(problems)} problem{'s' if len(problems) > 1 else ''}:\n{shown}"
            + (f"\n  … and {more} more" if more > 0 else ""))


@dataclass
class _Whole:
    """A reference file read whole: its rows (mapped to fields), each row's number in the
    file, the header row's number and the file's header of each field."""

    data: pl.DataFrame | list[Any]
    numbers: list[int]
    header_row: int
    headers: dict[str, str]


def _read_whole(path: Path, stream: Stream, zone: ZoneInfo, site_key: bytes) -> _Whole:
    fmt = file_format(path)
    if not path.is_file():
        raise ImportError_(f"{path}: no such file")
    if fmt == "ndjson":
        rows: list[Any] = []
        numbers: list[int] = []
        with path.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    try:
                        rows.append(orjson.loads(line))
                    except orjson.JSONDecodeError:
                        rows.append(line.decode("utf-8", "replace").rstrip("\n"))
                    numbers.append(number)
        return _Whole(pseudonymise_rows(rows, stream, site_key), numbers, 0, {})
    if fmt == "xlsx":
        parts = list(numbered_xlsx(path, zone))
        frames = [f for f, _ in parts]
        numbers = [n for _, ns in parts for n in ns]
        header_row, numbers = (numbers[0], numbers[1:]) if numbers else (1, [])
    else:
        frames = list(read_csv(path) if fmt == "csv" else read_parquet(path))
        header_row = 1 if fmt == "csv" else 0
        numbers = list(range(header_row + 1, header_row + 1 + sum(f.height for f in frames)))
    if not sum(f.height for f in frames):
        raise ImportError_(f"{path}: no rows under the header; a reference file is imported whole, "
                           f"an empty one would change nothing")
    frame = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    frame = pseudonymise_frame(frame, stream, site_key)
    fields = {f.name for f in stream.all_fields}
    headers = {}
    for col in frame.columns:
        target = HEADER_ALIASES.get(col.strip(), col.strip()) if fmt != "parquet" else col
        if target in fields and target not in headers:
            headers[target] = col
    if fmt != "parquet":
        frame = map_headers(frame, stream)
    return _Whole(frame, numbers, header_row, headers)


def check_whole(path: Path, stream: Stream, whole: _Whole, source: str) -> list[Problem]:
    """Every problem of a reference file: a missing or unknown column, a row the contract
    refuses, a key that appears twice."""
    from ingest.validate import validate, validate_frame

    fields = {f.name for f in stream.all_fields}
    heading = whole.header_row or 1
    problems: list[Problem] = []
    data = whole.data
    if isinstance(data, pl.DataFrame):
        for f in stream.all_fields:
            if f.required and f.name not in data.columns:
                spellings = [h for h, t in HEADER_ALIASES.items() if t == f.name][:4]
                problems.append(Problem(heading, f.name, "the file has no such column; add it (headed "
                                        + " or ".join([f.name, *spellings]) + ")"))
        unknown = [c for c in data.columns if c not in fields]
        problems += [Problem(heading, c, f"{stream.name} has no such column; remove it or rename it to "
                             f"one of: {', '.join(f.name for f in stream.all_fields)}") for c in unknown]
        if problems:
            return problems
        result = validate_frame(stream, data, source=source)
    else:
        result = validate(stream, data, source=source)
    for e in result.errors:
        problems.append(Problem(whole.numbers[e["index"]], whole.headers.get(e["field"], e["field"] or "-"),
                                e["message"]))
    if result.frame.height:
        seen: dict[tuple[Any, ...], int] = {}
        key = list(stream.key)
        where = ", ".join(whole.headers.get(k, k) for k in key)
        for i, values in zip(result.index, result.frame.select(key).iter_rows(), strict=True):
            first = seen.setdefault(values, whole.numbers[i])
            if first != whole.numbers[i]:
                problems.append(Problem(whole.numbers[i], where, f"the same key ({where}) as row {first}; "
                                        f"a key may appear once in a file"))
    problems.sort(key=lambda p: p.row)
    return problems


def import_whole(sink: Sink, stream: Stream, paths: list[Path], *, source: str, zone: ZoneInfo,
                 site_key: bytes) -> list[FileSummary]:
    """Import reference files whole or not at all.

    A reference table half imported misleads: the figures read it as the whole table (a
    plan with a province missing, a control line from last year's file beside this year's).
    So every file is read and checked first — columns, every row against the contract, a key
    that appears twice — and a file with any problem raises :class:`RefusedFile` naming the
    row and column of each, before anything is submitted: nothing is stored and no dead
    letter is kept (the file itself is the evidence; fix it and import it again). Each file
    that passes is then submitted as one batch."""
    wholes = []
    for path in paths:
        whole = _read_whole(path, stream, zone, site_key)
        problems = check_whole(path, stream, whole, source)
        if problems:
            raise RefusedFile(path, stream, problems)
        wholes.append((path, whole))
    summaries = []
    for path, whole in wholes:
        receipt = sink(stream, whole.data, source)
        rows = whole.data.height if isinstance(whole.data, pl.DataFrame) else len(whole.data)
        errors = [{**e, "index": whole.numbers[e["index"]] - 1} for e in receipt.errors[:10]]
        summaries.append(FileSummary(str(path), rows, receipt.accepted, receipt.duplicates,
                                     receipt.rejected, errors))
    return summaries
