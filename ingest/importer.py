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
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from ingest.contracts import Stream
from ingest.import_read import Chunk, FileSummary, Opened, chunks, open_files
from ingest.sheet import ImportError_
from ingest.site_codes import SiteCodes

__all__ = ["FileSummary", "ImportError_", "Sink", "import_files"]


class Sink(Protocol):
    """Where the rows go: ``__call__`` submits a chunk (validated, deduplicated, buffered);
    ``reject`` keeps rows refused before submission (a name the catalogue does not know)."""

    def __call__(self, stream: Stream, chunk: list[Any] | pl.DataFrame, source: str) -> Any: ...

    def reject(self, stream: Stream, events: list[Any], errors: list[dict[str, Any]],
               source: str) -> None: ...


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
