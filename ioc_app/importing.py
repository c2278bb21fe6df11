"""Where ``python -m ioc_app import`` sends its batches: straight into a local ingest path,
or, when the server owns the embedded store, to the server's ingest API."""

from __future__ import annotations

import gzip
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import orjson
import polars as pl

from ingest.contracts import Stream
from ingest.pipeline import Backpressure, Pipeline, Receipt

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


class HttpSink:
    """Submit to a running server's ``/api/v1/ingest``; waits out 429/503 as told."""

    def __init__(self, url: str, token: str, stop: threading.Event | None = None) -> None:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"--url {url!r}: give the server's http(s) address, e.g. https://ioc.example.edu.cn")
        self.url = url.rstrip("/")
        self.token = token
        self.stop = stop or threading.Event()

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
