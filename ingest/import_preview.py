"""What an import would do, without doing it (``import --dry-run``).

An office about to load its spreadsheet wants to know before anything is stored: which
sheet and header row were taken, how many rows would go in, what the first of them look
like as stored, every row that would be refused and why, and which rows are skipped as
totals or notes. The files are read exactly as an import reads them (the same table
reading, names, pseudonyms and validation), but no row reaches the buffer, the store or the
dead letters. Duplicates of rows already stored are not looked for (that needs the store).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from ingest.contracts import Stream
from ingest.import_read import chunks, open_files
from ingest.reference_import import check_whole, read_whole
from ingest.site_codes import SiteCodes

#: rows shown as they would be stored
FIRST_ROWS = 5
PERSONAL = "<personal data>"


@dataclass
class Preview:
    """One file's would-be import."""

    path: str
    sheet: str | None = None
    header_row: int | None = None
    rows: int = 0
    importable: int = 0
    first_rows: list[dict[str, Any]] = field(default_factory=list)
    #: every row that would be refused: row, field (the file's header), reason, message
    rejected: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    blank: int = 0
    #: a reference file with any problem is refused whole: nothing of it would be imported
    refused_whole: bool = False


def _shown(stream: Stream, frame: pl.DataFrame, room: int) -> list[dict[str, Any]]:
    personal = {f.name for f in stream.all_fields if f.personal}
    out = []
    for row in frame.drop("received_at", "imported_at", strict=False).head(room).iter_rows(named=True):
        out.append({k: (PERSONAL if k in personal and v is not None else v)
                    for k, v in row.items() if v is not None})
    return out


def preview_files(stream: Stream, paths: list[Path], *, source: str, zone: Any, site_key: bytes,
                  codes: SiteCodes | None = None, sheet: str | None = None,
                  now: datetime | None = None) -> list[Preview]:
    """Read and check every file as an import would; store nothing. A problem of a file
    itself raises ``ImportError_`` as the import does."""
    from ingest.validate import validate, validate_frame

    now = now or datetime.now(UTC)
    opened = open_files(paths, stream, zone, sheet)
    out = []
    try:
        for o in opened:
            t = o.table
            headers = t.headers if t else {}
            p = Preview(str(o.path), t.sheet if t else None, t.header_row if t else None)
            if stream.kind == "plan":
                whole = read_whole(o, stream, site_key, codes)
                problems = check_whole(stream, whole, source)
                p.rows = len(whole.numbers) + len({pr.row for pr in whole.problems})
                p.rejected = [{"row": pr.row, "field": pr.column, "reason": "", "message": pr.message}
                              for pr in problems]
                p.refused_whole = bool(problems)
                if not problems and isinstance(whole.data, pl.DataFrame):
                    checked = validate_frame(stream, whole.data, source=source, now=now)
                    p.importable = checked.accepted
                    p.first_rows = _shown(stream, checked.frame, FIRST_ROWS)
            else:
                for chunk in chunks(o, stream, site_key, codes):
                    p.rows += chunk.size + len(chunk.refused)
                    for row, (_, errs) in chunk.refused.items():
                        p.rejected += [{"row": row, "field": headers.get(e["field"], e["field"]),
                                        "reason": e["reason"], "message": e["message"]} for e in errs]
                    if not chunk.size:
                        continue
                    result = (validate_frame(stream, chunk.data, source=source, now=now)
                              if isinstance(chunk.data, pl.DataFrame)
                              else validate(stream, chunk.data, source=source, now=now))
                    p.rejected += [{"row": chunk.numbers[e["index"]],
                                    "field": headers.get(e["field"], e["field"] or "(event)"),
                                    "reason": e["reason"], "message": e["message"]} for e in result.errors]
                    p.importable += result.accepted
                    p.first_rows += _shown(stream, result.frame, FIRST_ROWS - len(p.first_rows))
                p.rejected.sort(key=lambda r: r["row"])
            if t is not None:
                p.skipped, p.blank = list(t.skipped), t.blank
            out.append(p)
    finally:
        for o in opened:
            o.close()
    return out
