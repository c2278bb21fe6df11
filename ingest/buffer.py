"""The seams between accepting events and writing them: a durable buffer of batches, and the
seen-set that lets an event id in once.

Two buffers keep the same promise — ``append`` returns only when the batch is durable — and
the writer drains either through the same four calls:

- ``ingest.wal.WriteAheadLog``: files with group commit, for the embedded one-process mode;
- ``ingest.redis_buffer.RedisBuffer``: Redis Streams with a consumer group, so several web
  processes accept and several ingest processes write.

Two seen-sets pair with them: ``ingest.dedup.MemorySeenSet`` (in the process that owns the
write-ahead log) and ``ingest.redis_buffer.RedisSeenSet`` (shared by every process, claiming
ids and appending the batch in one Redis script).

A buffer's records say where they sit in it (a byte offset in a log file, a Redis entry id):
the protocols are generic in the record type, so a batch handed out by one buffer can only be
begun and confirmed on a log of the same kind. The ingest path and the writer
(``ingest.pipeline``, ``ingest.writer``) are written against these protocols only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

import numpy as np
import polars as pl


@runtime_checkable
class Buffered(Protocol):
    """One appended batch, as the writer and a restart's rebuild of the seen-set read it."""

    @property
    def frame(self) -> pl.DataFrame: ...

    @property
    def rows(self) -> int: ...

    @property
    def appended_at(self) -> float:
        """When the batch was appended (seconds since the epoch)."""
        ...


R = TypeVar("R", bound=Buffered)


@runtime_checkable
class BatchLog(Protocol[R]):
    """One stream's buffer."""

    @property
    def name(self) -> str:
        """The table the log's batches are written into."""
        ...

    def append(self, frame: pl.DataFrame) -> object:
        """Make the batch durable; returns only once it is (what it returns names the batch
        in the log, for diagnostics)."""
        ...

    def next_batch(self, max_rows: int, max_age_s: float, force: bool = False) -> list[R]:
        """The records of the next insert ([] when not yet due); after a crash, exactly the
        batch whose insert was begun. A buffer shared by several writers (Redis) reserves
        the batch here, so no other writer can put its records into another batch."""
        ...

    def begin(self, batch: list[R]) -> str:
        """Record the intent to insert ``batch`` (unless ``next_batch`` already reserved it);
        returns its deduplication token, the same whenever the same batch is inserted."""
        ...

    def confirm(self, batch: list[R]) -> None:
        """The store has the batch: release it from the buffer."""
        ...

    def pending_records(self) -> list[R]: ...

    def replayed(self) -> bool:
        """Whether what this log held when the process began has been written."""
        ...

    def oldest_age(self) -> float: ...


@runtime_checkable
class Buffer(Protocol[R]):
    """Every stream's buffer, in one place (a directory of logs, one Redis)."""

    def log(self, name: str) -> BatchLog[R]: ...

    def names(self) -> list[str]: ...

    @property
    def depth(self) -> int:
        """Events accepted and not yet confirmed by the store, across streams."""
        ...

    def replayed(self) -> bool:
        """Whether every batch buffered before this process began has been written (a
        restart's replay of the write-ahead log or of the pending stream entries)."""
        ...

    def wait(self, timeout: float) -> bool:
        """Block until a batch may have been appended since the last ``wait`` returned (or
        ``timeout`` seconds, or ``wake``); True when one may have been. An append made while
        the writer was looking at the logs makes the next ``wait`` return at once, so the
        writer never sleeps through it."""
        ...

    def wake(self) -> None:
        """End a ``wait`` now (the writer is stopping)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class SeenSet(Protocol[R]):
    """The event ids of the deduplication window (``ingest.dedup.WINDOW_DAYS``), per stream."""

    def append_unique(self, stream: str, log: BatchLog[R], frame: pl.DataFrame,
                      now: datetime) -> np.ndarray:
        """Append to ``log`` the events of ``frame`` whose ids were not seen within the window,
        claiming those ids; returns the mask of new events over the frame's rows. Ids are
        claimed only for events that were made durable: a failed append leaves none behind."""
        ...
