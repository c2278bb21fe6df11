"""Demo mode: feed generated campus events into the store as time passes."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from ingest import demo
from ingest.gate import GATE_PASS
from ingest.pipeline import Pipeline
from ingest.site import Site
from metrics.gate import local_midnight

log = logging.getLogger("ioc.demo")
SOURCE = "demo"


class DemoFeed:
    """Writes whole 10-second slices of demo gate traffic up to the present.

    On start it resumes after the newest demo event already stored (or from local midnight
    on a fresh store), so today's figures are complete at once. Slices are deterministic, so
    one written again after a restart is dropped as duplicates by the ingest path.
    """

    def __init__(self, pipeline: Pipeline, site: Site, zone: ZoneInfo, seed: int = 7) -> None:
        self.pipeline = pipeline
        self.store = pipeline.store
        self.zone = zone
        self.seed = seed
        self.gates = site.gates
        self._next: int | None = None
        self._lock = threading.Lock()

    def _resume_slice(self, now: datetime) -> int:
        start = int(local_midnight(self.zone, now).timestamp()) // demo.SLICE_S
        newest = self.store.rows(
            "SELECT toUnixTimestamp(max(ts)) FROM gate_pass WHERE source = {s:String} AND ts >= "
            "{start:DateTime64(3, 'UTC')}",
            {"s": SOURCE, "start": local_midnight(self.zone, now)},
        )[0][0]
        return max(start, int(newest) // demo.SLICE_S + 1) if newest else start

    def tick(self, now: datetime | None = None) -> int:
        """Write every slice that has fully elapsed; returns the number of events written."""
        if not self._lock.acquire(blocking=False):
            return 0  # the previous tick is still writing: skip, don't queue
        try:
            now = now or datetime.now(UTC)
            if self._next is None:
                self._next = self._resume_slice(now)
            last = int(now.timestamp()) // demo.SLICE_S
            written = 0
            while self._next < last:
                upto = min(last, self._next + 360)  # at most an hour of slices per insert
                t0 = time.perf_counter()
                events = demo.gate_events(self._next, upto, self.gates, self.zone, self.seed)
                receipt = self.pipeline.submit(GATE_PASS, events, source=SOURCE, now=now)
                written += receipt.accepted
                self._next = upto
                log.debug("event=demo.slices upto=%d events=%d ms=%.0f", upto, len(events),
                          (time.perf_counter() - t0) * 1000)
            return written
        finally:
            self._lock.release()
