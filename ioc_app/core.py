"""The aggregation core's read side: one snapshot of live figures that every screen reads.

Computing a snapshot costs ClickHouse queries; reading one costs nothing. ``latest()``
recomputes at most once per tick however many screens ask, and keeps serving the last good
snapshot (marked stale) when the store fails.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ioc_app.storage import Store, StoreError
from metrics import enrollment, gate, network, service

log = logging.getLogger("ioc.core")


class SnapshotCore:
    def __init__(self, store: Store, zone: ZoneInfo, tick_s: float = 1.0) -> None:
        self.store = store
        self.zone = zone
        self.tick_s = tick_s
        self._snapshot: dict[str, Any] | None = None
        self._computed_at = 0.0
        self._version = 0
        self._lock = threading.Lock()

    def compute(self, now: datetime | None = None) -> dict[str, Any]:
        """Compute a fresh snapshot from the rollups."""
        now = now or datetime.now(UTC)
        started = time.perf_counter()
        today = gate.today_totals(self.store, self.zone, now).row(0, named=True)
        links = network.links_now(self.store, now)
        self._version += 1
        snapshot = {
            "version": self._version,
            "generated_at": now.astimezone(self.zone).isoformat(timespec="seconds"),
            "stale": False,
            "gate": {"today": today},
            "network": {"links": links.to_dicts(), "online": network.online_now(self.store, now),
                        "peak_utilization": network.peak_utilization(links)},
            "service": {"today": service.today_actions(self.store, self.zone, now)},
            "enrollment": enrollment.year_totals(self.store, now.astimezone(self.zone).year),
        }
        log.debug("event=core.computed version=%d ms=%.1f", self._version,
                  (time.perf_counter() - started) * 1000)
        return snapshot

    def latest(self) -> dict[str, Any] | None:
        """The current snapshot, recomputed when older than one tick."""
        with self._lock:
            if self._snapshot is None or time.monotonic() - self._computed_at >= self.tick_s:
                try:
                    self._snapshot = self.compute()
                except StoreError as exc:
                    log.warning("event=core.compute_failed error=%r", str(exc)[:300])
                    if self._snapshot is not None:
                        self._snapshot = {**self._snapshot, "stale": True}
                self._computed_at = time.monotonic()
            return self._snapshot
