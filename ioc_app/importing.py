"""Where ``python -m ioc_app import`` sends its batches — straight into a local ingest path,
or, when the server owns the embedded store, to the server's ingest API — and what it tells
the person importing (a summary per file, or with ``--dry-run`` what would be imported)."""

from __future__ import annotations

import gzip
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any, TextIO

import orjson
import polars as pl

from ingest.contracts import Stream
from ingest.pipeline import Backpressure, Pipeline, Receipt

if TYPE_CHECKING:
    from ingest.import_preview import Preview
    from ingest.importer import FileSummary

log = logging.getLogger("ioc.import")
HTTP_CHUNK = 10_000


class LocalSink:
    """Submit through an ingest path this process owns (the writer runs alongside)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def __call__(self, stream: Stream, chunk: list[Any] | pl.DataFrame, source: str) -> Receipt:
        while True:
            try:
                return self.pipeline.submit(stream, chunk, source=source)
            except Backpressure as exc:
                time.sleep(min(exc.retry_after, 2))  # our own writer is draining the buffer

    def reject(self, stream: Stream, events: list[Any], errors: list[dict[str, Any]], source: str) -> None:
        """Keep rows refused before validation (a name the catalogue does not know) as dead
        letters, made safe to keep as every dead letter is."""
        from ingest.deadletter import TABLE, dead_letter_frame
        from ingest.validate import ValidationResult

        result = ValidationResult(pl.DataFrame(), [], errors, sorted({e["index"] for e in errors}))
        self.pipeline.buffer.log(TABLE).append(
            dead_letter_frame(stream.name, events, result, source, key=self.pipeline.site_key))
        self.pipeline.counters.add(stream.name, "rejected", len(events))


class HttpSink:
    """Submit to a running server's ``/api/v1/ingest``; waits out 429/503 as told."""

    def __init__(self, url: str, token: str, stop: threading.Event | None = None) -> None:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"--url {url!r}: give the server's http(s) address, e.g. https://ioc.example.edu.cn")
        self.url = url.rstrip("/")
        self.token = token
        self.stop = stop or threading.Event()
        #: rows refused before sending (names the catalogue does not know): the server never
        #: saw them, so it keeps no dead letter of them
        self.unsent = 0

    def _post(self, stream: Stream, rows: list[Any]) -> dict[str, Any]:
        body = gzip.compress(orjson.dumps(rows), 5)
        req = urllib.request.Request(
            f"{self.url}/api/v1/ingest/{stream.name}", data=body, method="POST",
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip",
                     "Authorization": f"Bearer {self.token}"})
        while True:
            try:
                # the URL is http(s), checked in __init__
                with urllib.request.urlopen(req, timeout=120) as resp:  # nosec B310
                    return orjson.loads(resp.read())
            except urllib.error.HTTPError as exc:
                detail = orjson.loads(exc.read() or b"{}")
                if exc.code in (429, 503):
                    wait = float(exc.headers.get("Retry-After", "2"))
                    log.info("event=import.backoff status=%d wait_s=%.0f", exc.code, wait)
                    if self.stop.wait(wait):
                        raise
                    continue
                raise RuntimeError(f"the server refused the batch ({exc.code}): "
                                   f"{detail.get('message', detail)}") from None

    def __call__(self, stream: Stream, chunk: list[Any] | pl.DataFrame, source: str) -> Receipt:
        rows = chunk.to_dicts() if isinstance(chunk, pl.DataFrame) else chunk
        total = Receipt(0, 0, 0)
        for off in range(0, len(rows), HTTP_CHUNK):
            got = self._post(stream, rows[off: off + HTTP_CHUNK])
            total.accepted += got["accepted"]
            total.duplicates += got["duplicates"]
            total.rejected += got["rejected"]
            total.errors += [{**e, "index": e["index"] + off} for e in got["errors"]]
        return total

    def reject(self, stream: Stream, events: list[Any], errors: list[dict[str, Any]], source: str) -> None:
        """Rows refused here are not sent (the server would store the name as a code); they are
        listed in the summary instead of being kept as dead letters."""
        self.unsent += len(events)


def report(summaries: list[FileSummary], stream: Stream, out: TextIO) -> int:
    """The summary of each file; returns how many rows were rejected."""
    bad = 0
    for s in summaries:
        print(f"{s.path}: {s.rows} rows — accepted {s.accepted}, duplicates {s.duplicates}, "
              f"rejected {s.rejected}", file=out)
        where = _where(s.sheet, s.header_row, s.skipped, s.blank)
        if where:
            print(f"  {where}", file=out)
        for e in s.first_errors:
            print(f"  row {e['row']}: {e['field'] or '(event)'}: {e['reason']}: {e['message']}", file=out)
        bad += s.rejected
    return bad


def _where(sheet: str | None, header_row: int | None, skipped: list[tuple[int, str]], blank: int) -> str:
    parts = []
    if sheet is not None:
        parts.append(f"sheet {sheet!r}")
    if header_row is not None:
        parts.append(f"header row {header_row}")
    left = [f"row {row} ({why})" for row, why in skipped]
    if blank:
        left.append(f"{blank} blank row{'s' if blank > 1 else ''}")
    if left:
        parts.append("not imported: " + ", ".join(left))
    return "; ".join(parts)


def report_preview(previews: list[Preview], stream: Stream, out: TextIO) -> int:
    """What ``--dry-run`` prints: per file the rows that would be imported (the first as they
    would be stored) and every row that would be refused; returns the import's exit status
    (1 when a reference file would be refused whole)."""
    status = 0
    print(f"dry run: nothing is stored ({stream.name})", file=out)
    total = refused = 0
    for p in previews:
        rows = {r["row"] for r in p.rejected}
        verdict = ("would be refused whole (reference data), nothing imported" if p.refused_whole
                   else f"{p.importable} would be imported, {len(rows)} refused")
        print(f"{p.path}: {p.rows} rows — {verdict}", file=out)
        where = _where(p.sheet, p.header_row, p.skipped, p.blank)
        if where:
            print(f"  {where}", file=out)
        if p.first_rows:
            print("  first rows as they would be stored:", file=out)
            for row in p.first_rows:
                print(f"    {orjson.dumps(row, default=str).decode()}", file=out)
        if p.rejected:
            print("  refused:", file=out)
            for r in p.rejected:
                reason = f"{r['reason']}: " if r["reason"] else ""
                print(f"    row {r['row']}, {r['field']}: {reason}{r['message']}", file=out)
        status = 1 if p.refused_whole else status
        total += p.importable
        refused += len(rows)
    print(f"{stream.name}: {total} rows would be imported, {refused} refused, from "
          f"{len(previews)} file{'s' if len(previews) != 1 else ''}", file=out)
    return status
