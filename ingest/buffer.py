"""The seam between accepting events and writing them: a durable buffer of batches.

Two implementations keep the same promise — ``append`` returns only when the batch is
durable — and the writer drains either through the same four calls:

- ``ingest.wal.WriteAheadLog``: files with group commit, for the embedded one-process mode;
- ``ingest.redis_buffer.RedisBuffer``: Redis Streams with a consumer group, so several web
  processes accept and several ingest processes write.
"""

from __future__ import annotations

from typing import Any, Protocol

import polars as pl


class BatchLog(Protocol):
    """One stream's buffer."""

    def append(self, frame: pl.DataFrame) -> Any: ...

    def next_batch(self, max_rows: int, max_age_s: float, force: bool = False) -> list[Any]:
        """The records of the next insert ([] when not yet due); after a crash, exactly the
        batch whose insert was begun. A buffer shared by several writers (Redis) reserves
        the batch here, so no other writer can put its records into another batch."""
        ...

    def begin(self, batch: list[Any]) -> str:
        """Record the intent to insert ``batch`` (unless ``next_batch`` already reserved it);
        returns its deduplication token, the same whenever the same batch is inserted."""
        ...

    def confirm(self, batch: list[Any]) -> None:
        """The store has the batch: release it from the buffer."""
        ...

    def pending_records(self) -> list[Any]: ...

    def replayed(self) -> bool:
        """Whether what this log held when the process began has been written."""
        ...

    def oldest_age(self) -> float: ...


class Buffer(Protocol):
    def log(self, name: str) -> BatchLog: ...

    def names(self) -> list[str]: ...

    @property
    def depth(self) -> int:
        """Events accepted and not yet confirmed by the store, across streams."""
        ...

    def replayed(self) -> bool:
        """Whether every batch buffered before this process began has been written (a
        restart's replay of the write-ahead log or of the pending stream entries)."""
        ...

    def close(self) -> None: ...
