"""Demo mode: the simulators feed the campus into the real ingest path as time passes.

Today is sent at start; the past (the last weeks, the same week last year, the admission
seasons) is filled in the background by ``ioc_app.demo_history``, which learns from the
marker what this feed has already sent."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ingest.pipeline import Pipeline
from ingest.registry import get_stream
from ingest.sim import Simulator, World
from metrics.gate import local_midnight

if TYPE_CHECKING:
    from ioc_app.demo_history import Marker

log = logging.getLogger("ioc.demo")
SOURCE = "demo"
CHUNK_MS = 3_600_000  # catch up an hour at a time


class DemoFeed:
    """Sends every simulated event whose sending time has come, through ``Pipeline.submit``.

    Its first tick sends today's events so far, so the screens are complete within seconds. The
    simulators are deterministic, so what a restart sends again is dropped by the ingest path
    as duplicates. With a ``marker``, each tick records the span sent (from the local
    midnight of the start), so the history fill never sends it a second time.
    """

    def __init__(self, pipeline: Pipeline, world: World, marker: Marker | None = None) -> None:
        self.pipeline = pipeline
        self.sim = Simulator(world)
        self.zone = world.zone
        self.marker = marker
        self._next: int | None = None
        self._first: int | None = None
        self._lock = threading.Lock()
        self.sent: Counter[str] = Counter()

    def send(self, start_ms: int, end_ms: int) -> int:
        """Send the events of ``[start_ms, end_ms)``; returns how many were accepted."""
        accepted = 0
        for t in range(start_ms, end_ms, CHUNK_MS):
            for stream, events in self.sim.sent_between(t, min(end_ms, t + CHUNK_MS)).items():
                receipt = self.pipeline.submit(get_stream(stream), events, source=SOURCE)
                accepted += receipt.accepted
                self.sent[stream] += receipt.accepted
        return accepted

    def tick(self, now: datetime | None = None) -> int:
        """Send what has come due since the last tick (skipped if the last one still runs)."""
        if not self._lock.acquire(blocking=False):
            return 0
        try:
            now = now or datetime.now(UTC)
            now_ms = int(now.timestamp() * 1000)
            written = 0
            if self._next is None:
                started = time.perf_counter()
                self._first = self._next = int(local_midnight(self.zone, now).timestamp() * 1000)
                written += self.send(self._next, now_ms)
                log.info("event=demo.caught_up events=%d ms=%.0f", written,
                         (time.perf_counter() - started) * 1000)
            elif now_ms > self._next:
                written += self.send(self._next, now_ms)
            self._next = max(self._next, now_ms)
            if self.marker is not None and self._first is not None:
                self.marker.sent_live(self._first, self._next)
            return written
        finally:
            self._lock.release()
