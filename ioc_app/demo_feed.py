"""Demo mode: the simulators feed the campus into the real ingest path as time passes."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import UTC, datetime

from ingest.pipeline import Pipeline
from ingest.registry import get_stream
from ingest.sim import Simulator, World
from ingest.sim.rhythm import local_time
from metrics.gate import local_midnight

log = logging.getLogger("ioc.demo")
SOURCE = "demo"
CHUNK_MS = 3_600_000  # catch up an hour at a time


class DemoFeed:
    """Sends every simulated event whose sending time has come, through ``Pipeline.submit``.

    On start it sends today's events so far (and, from July on, this year's admission season
    so far), so the screens are complete at once. The simulators are deterministic, so what
    a restart sends again is dropped by the ingest path as duplicates.
    """

    def __init__(self, pipeline: Pipeline, world: World) -> None:
        self.pipeline = pipeline
        self.sim = Simulator(world)
        self.zone = world.zone
        self._next: int | None = None
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

    def _season_start(self, now: datetime) -> int | None:
        local = now.astimezone(self.zone)
        if local.month < 7:
            return None
        return int(datetime(local.year, 7, 1, tzinfo=self.zone).timestamp() * 1000)

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
                midnight = int(local_midnight(self.zone, now).timestamp() * 1000)
                season = self._season_start(now)
                if season is not None and season < midnight:
                    written += self._send_enrollment(season, midnight)
                self._next = midnight
                written += self.send(self._next, now_ms)
                log.info("event=demo.caught_up events=%d ms=%.0f", written,
                         (time.perf_counter() - started) * 1000)
            elif now_ms > self._next:
                written += self.send(self._next, now_ms)
            self._next = max(self._next, now_ms)
            return written
        finally:
            self._lock.release()

    def _send_enrollment(self, start_ms: int, end_ms: int) -> int:
        """Only the admission season's events (the other domains keep to today)."""
        from ingest.sim import enrollment

        accepted = 0
        by_stream: dict[str, list[dict]] = {}
        for hour in range(start_ms // CHUNK_MS, end_ms // CHUNK_MS):
            if local_time(hour, self.zone).month in (7, 8, 9):
                for _, stream, event in enrollment.hour_events(self.sim.world, hour):
                    by_stream.setdefault(stream, []).append(event)
        for stream, events in by_stream.items():
            for off in range(0, len(events), 20_000):
                receipt = self.pipeline.submit(get_stream(stream), events[off:off + 20_000],
                                               source=SOURCE)
                accepted += receipt.accepted
                self.sent[stream] += receipt.accepted
        return accepted
