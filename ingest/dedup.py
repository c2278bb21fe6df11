"""Event-level deduplication: the same ``(stream, event_id)`` within 7 days counts once.

Materialized views count rows at insert time, so a duplicate must never reach an insert:
each batch claims its event ids before it is buffered, and ids already claimed are reported
as ``duplicates``. Ids are kept as 64-bit hashes in per-day buckets, so a week of a busy
stream costs tens of megabytes, and expiry is dropping a whole bucket.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from ingest.buffer import BatchLog, R

WINDOW_DAYS = 7
HASH_SEED = 0x10C


def id_hashes(ids: pl.Series) -> np.ndarray:
    """Stable 64-bit hashes of event ids (the same in every process of one version)."""
    return ids.hash(seed=HASH_SEED).to_numpy()


def first_in_batch(hashes: np.ndarray) -> np.ndarray:
    """True for the first occurrence of each hash in the batch (a batch may repeat an id)."""
    _, first = np.unique(hashes, return_index=True)
    mask = np.zeros(len(hashes), dtype=bool)
    mask[first] = True
    return mask


class MemorySeenSet:
    """The embedded seen-set: per stream, one set of hashes per receipt day.

    It lives in the process that owns the store and the write-ahead log, and is rebuilt at
    start-up from the raw tables (ids received in the last 7 days) and the log.
    """

    def __init__(self) -> None:
        self._days: dict[str, dict[date, set[int]]] = {}
        self._lock = threading.Lock()

    def _buckets(self, stream: str, today: date) -> dict[date, set[int]]:
        days = self._days.setdefault(stream, {})
        for d in [d for d in days if d <= today - timedelta(days=WINDOW_DAYS)]:
            del days[d]
        return days

    def add(self, stream: str, hashes: Iterable[int], day: date) -> None:
        with self._lock:
            self._days.setdefault(stream, {}).setdefault(day, set()).update(hashes)

    def claim(self, stream: str, ids: pl.Series, now: datetime) -> np.ndarray:
        hashes = id_hashes(ids)
        new = first_in_batch(hashes)
        today = now.astimezone(UTC).date()
        candidates = set(hashes[new].tolist())
        with self._lock:
            days = self._buckets(stream, today)
            seen: set[int] = set()
            for bucket in days.values():
                seen |= candidates & bucket  # set operations run in C, over the smaller set
            if seen:
                new &= ~np.isin(hashes, np.fromiter(seen, dtype=np.uint64, count=len(seen)))
            days.setdefault(today, set()).update(hashes[new].tolist())
        return new

    def append_unique(self, stream: str, log: BatchLog[R], frame: pl.DataFrame,
                      now: datetime) -> np.ndarray:
        """Claim the ids, then append the new events; a failed append releases the claims
        (in one process a crash loses the claims together with the events)."""
        new = self.claim(stream, frame["event_id"], now)
        kept = frame if new.all() else frame.filter(pl.Series(new))
        if kept.height:
            try:
                log.append(kept)
            except OSError:
                self.release(stream, kept["event_id"], now)
                raise
        return new

    def release(self, stream: str, ids: pl.Series, now: datetime) -> None:
        """Forget ids claimed by a batch that could not be buffered (so a retry is new)."""
        today = now.astimezone(UTC).date()
        with self._lock:
            bucket = self._days.get(stream, {}).get(today)
            if bucket is not None:
                bucket.difference_update(id_hashes(ids).tolist())
