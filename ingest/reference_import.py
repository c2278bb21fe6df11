"""Reference files (the plan, the control lines: streams of kind ``plan``): whole or not at all.

A reference table half imported misleads: the figures read it as the whole table (a plan
with a province missing, a control line from last year's file beside this year's). So every
file is read and checked first — its columns, every row against the contract, every name
against the catalogue, a key that appears twice — and a file with any problem is refused
naming the row and column of each, before anything is submitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ingest.contracts import Stream
from ingest.headers import HEADER_ALIASES
from ingest.import_read import FileSummary, Opened, chunks
from ingest.sheet import ImportError_

if TYPE_CHECKING:
    from ingest.importer import Sink
    from ingest.site_codes import SiteCodes

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

    def __init__(self, where: str, stream: Stream, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:SHOWN_PROBLEMS])
        more = len(problems) - SHOWN_PROBLEMS
        super().__init__(
            f"{where}: refused, nothing imported ({stream.name} is reference data: a file is imported "
            f"whole or not at all); {len(problems)} problem{'s' if len(problems) > 1 else ''}:\n{shown}"
            + (f"\n  … and {more} more" if more > 0 else ""))


@dataclass
class Whole:
    """A reference file read whole: its rows (mapped to fields), each row's number in the
    file, the header row's number, the file's header of each field, and the problems found
    while reading (names the catalogue does not know)."""

    data: pl.DataFrame | list[Any]
    numbers: list[int]
    header_row: int
    headers: dict[str, str]
    problems: list[Problem]
    where: str


def read_whole(opened: Opened, stream: Stream, site_key: bytes, codes: SiteCodes | None) -> Whole:
    parts = list(chunks(opened, stream, site_key, codes))
    table = opened.table
    headers = dict(table.headers) if table else {}
    where = table.where if table else str(opened.path)
    problems = [Problem(row, headers.get(e["field"], e["field"]), e["message"])
                for part in parts for row, (_, errs) in part.refused.items() for e in errs]
    numbers = [n for p in parts for n in p.numbers]
    if not numbers and not problems:
        raise ImportError_(f"{where}: no rows under the header; a reference file is imported whole, "
                           f"an empty one would change nothing")
    if opened.fmt == "ndjson":
        data: pl.DataFrame | list[Any] = [r for p in parts for r in p.data]
        return Whole(data, numbers, 0, headers, problems, where)
    frames = [p.data for p in parts if isinstance(p.data, pl.DataFrame)]
    frame = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    header_row = table.header_row if table else 0
    return Whole(frame, numbers, header_row, headers, problems, where)


def check_whole(stream: Stream, whole: Whole, source: str) -> list[Problem]:
    """Every problem of a reference file: a missing or unknown column, a row the contract
    refuses, a name the catalogue does not know, a key that appears twice."""
    from ingest.validate import validate, validate_frame

    fields = {f.name for f in stream.all_fields}
    heading = whole.header_row or 1
    problems: list[Problem] = list(whole.problems)
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
        if len(problems) > len(whole.problems):
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


def import_whole(sink: Sink, stream: Stream, opened: list[Opened], *, source: str,
                 site_key: bytes, codes: SiteCodes | None = None) -> list[FileSummary]:
    """Import reference files whole or not at all.

    Every file is read and checked first, and a file with any problem raises
    :class:`RefusedFile` naming the row and column of each, before anything is submitted:
    nothing is stored and no dead letter is kept (the file itself is the evidence; fix it and
    import it again). Each file that passes is then submitted as one batch."""
    wholes = []
    for o in opened:
        whole = read_whole(o, stream, site_key, codes)
        problems = check_whole(stream, whole, source)
        if problems:
            raise RefusedFile(whole.where, stream, problems)
        wholes.append((o, whole))
    summaries = []
    for o, whole in wholes:
        receipt = sink(stream, whole.data, source)
        rows = whole.data.height if isinstance(whole.data, pl.DataFrame) else len(whole.data)
        errors = [{**e, "row": whole.numbers[e["index"]]} for e in receipt.errors[:10]]
        t = o.table
        summaries.append(FileSummary(str(Path(o.path)), rows, receipt.accepted, receipt.duplicates,
                                     receipt.rejected, errors, sheet=t.sheet if t else None,
                                     header_row=t.header_row if t else None,
                                     skipped=list(t.skipped) if t else [], blank=t.blank if t else 0))
    return summaries
