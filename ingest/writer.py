"""The batch writer: drains the durable buffer into ClickHouse and never drops a batch.

Adaptive flushing: an idle writer inserts what arrives at once, so a lone event is queryable
within tens of milliseconds; under load — a table written less than ``LINGER_S`` ago — the
next batch waits until its oldest rows are ``LINGER_S`` old, so what accumulates meanwhile
goes into it: the batch grows with the backlog (up to ``BATCH_ROWS``), a busy table gets at
most a few inserts a second, and 100 k events/s still arrive as large inserts (large parts
are cheap for ClickHouse; many small ones are not). With nothing to write the writer blocks
on the buffer (``Buffer.wait``: a condition in process, a blocking ``XREADGROUP`` in Redis)
instead of polling. ``batch_age_s`` > 0 brings back the previous policy — wait for a batch to
age that long, poll every 20 ms — which the benches measure beside the adaptive one
(``IOC_CORE_TRIGGER=tick``).

Each insert carries a deduplication token derived from its position in the buffer, so an
insert repeated after a crash is dropped by ClickHouse and by every rollup. When the store
fails, the same batch is retried with backoff until it lands. After each confirmed insert
the writer tells its listeners which table it committed (the aggregation core recomputes
what that table feeds).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic

import polars as pl

from ingest.buffer import Buffer, R
from ingest.faults import reach
from ioc_app.storage import SqlStore, Store, StoreError

log = logging.getLogger("ioc.writer")

BATCH_ROWS = 100_000
#: the previous policy's batch age (``batch_age_s``); the adaptive writer uses 0
BATCH_AGE_S = 0.5
#: how long the previous policy sleeps when nothing is due
POLL_S = 0.02
#: under load, how old a table's next batch may grow before it is inserted (see above)
LINGER_S = 0.4
#: how long an idle adaptive writer blocks before it looks at every log again (claims of
#: dead consumers in Redis, the end of a restart's replay)
IDLE_WAIT_S = 2.0
BACKOFF_MAX_S = 15.0
#: a repeated insert is dropped by the raw table *and* each rollup on its own: if a kill
#: left the raw rows in but a rollup's part out, the repeat still fills the rollup
#: (the default since ClickHouse 24.x; said explicitly for older servers)
INSERT_SETTINGS = {"insert_deduplicate": 1, "deduplicate_blocks_in_dependent_materialized_views": 1}


class Replay:
    """A restart's replay of what the buffer held when the writer started: until it is
    complete, figures can still be missing events that were acknowledged before."""

    def __init__(self, rows: int = 0) -> None:
        self.rows = rows  # rows waiting at start (in Redis: across every producer)
        self.started_at = time.time()
        self.seconds: float | None = None

    @property
    def complete(self) -> bool:
        return self.seconds is not None

    def done(self, written: int) -> None:
        self.seconds = time.time() - self.started_at
        log.info("event=ingest.replay_complete rows_at_start=%d rows_written=%d seconds=%.2f",
                 self.rows, written, self.seconds)

    def state(self) -> dict[str, object]:
        return {"complete": self.complete, "rows_at_start": self.rows,
                "seconds": None if self.seconds is None else round(self.seconds, 3)}


class Writer(Generic[R]):
    """One thread writing every stream's log, oldest-first."""

    def __init__(self, store: SqlStore, buffer: Buffer[R], *, batch_rows: int = BATCH_ROWS,
                 batch_age_s: float = 0.0,
                 on_store_state: Callable[[bool], None] | None = None) -> None:
        self.store = store
        self.buffer = buffer
        self.batch_rows = batch_rows
        #: 0: adaptive (insert at once when idle, block on the buffer); > 0: wait for a batch
        #: to age this long and poll (the previous policy)
        self.batch_age_s = batch_age_s
        self.on_store_state = on_store_state  # callable(down: bool) or None
        #: told the table of every confirmed insert (after the buffer released the batch)
        self.listeners: list[Callable[[str], None]] = []
        self.inserted_rows = 0
        self.inserts = 0
        self._last_insert: dict[str, float] = {}  # table → monotonic time of its last insert
        self._linger_due: float | None = None  # when a lingering batch is due (time.time())
        self.failures = 0
        self.replay = Replay()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: held around each insert and its confirmation; ``paused`` holds it
        self._gate = threading.Lock()

    def start(self) -> Writer[R]:
        try:
            waiting = self.buffer.depth
        except OSError:  # Redis away at start: the replay is still tracked, its size unknown
            waiting = 0
        self.replay = Replay(rows=waiting)
        self._thread = threading.Thread(target=self._run, name="ioc-writer", daemon=True)
        self._thread.start()
        return self

    def stop(self, drain: bool = True, timeout: float = 30) -> None:
        if drain:
            deadline = time.monotonic() + timeout
            while self.buffer.depth and time.monotonic() < deadline and not self.failures:
                time.sleep(0.05)
        self._stop.set()
        self.buffer.wake()
        if self._thread:
            self._thread.join(timeout)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No insert runs inside the block (one running finishes first): the store's tables
        stand still, as a consistent backup needs — ``BACKUP`` copies table after table, and
        a batch landing in between would be in a raw table and not in its rollups. Ingest
        goes on meanwhile: accepted events wait in the buffer."""
        with self._gate:
            yield

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def lag_s(self) -> float:
        """Age of the oldest event waiting to be written."""
        return max((self.buffer.log(n).oldest_age() for n in self.buffer.names()), default=0.0)

    def flush_once(self, force: bool = False) -> int:
        """Write every batch that is due; returns rows written (raises on store failure)."""
        written = 0
        self._linger_due = None
        for name in self.buffer.names():
            stream_log = self.buffer.log(name)
            while True:
                age = self.batch_age_s
                if not age and time.monotonic() - self._last_insert.get(name, -LINGER_S) < LINGER_S:
                    age = LINGER_S  # written a moment ago: under load, let the batch grow
                batch = stream_log.next_batch(self.batch_rows, age, force=force)
                if not batch:
                    if age and not self.batch_age_s:
                        self._lingers(stream_log.pending_records())
                    break
                frame = pl.concat([r.frame for r in batch], how="vertical")
                with self._gate:
                    token = stream_log.begin(batch)
                    started = time.perf_counter()
                    self.store.insert(name, frame, settings={**INSERT_SETTINGS,
                                                             "insert_deduplication_token": token})
                    reach("writer.inserted")
                    stream_log.confirm(batch)
                written += frame.height
                self.inserted_rows += frame.height
                self.inserts += 1
                self._last_insert[name] = time.monotonic()
                log.debug("event=writer.inserted table=%s rows=%d ms=%.0f", name, frame.height,
                          (time.perf_counter() - started) * 1000)
                self._committed(name)
        return written

    def _lingers(self, pending: list[R]) -> None:
        """A batch was held back to grow: note when its oldest rows are due."""
        if pending:
            due = min(r.appended_at for r in pending) + LINGER_S
            self._linger_due = due if self._linger_due is None else min(self._linger_due, due)

    def add_listener(self, listener: Callable[[str], None]) -> None:
        """Tell ``listener(table)`` of every confirmed insert from now on."""
        self.listeners.append(listener)

    def _committed(self, table: str) -> None:
        for listener in self.listeners:
            try:
                listener(table)
            except Exception:  # a listener's failure must not stop the writing
                log.exception("event=writer.listener_failed table=%s", table)

    def _run(self) -> None:
        with Store.origin("writer"):
            self._loop()

    def _loop(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                written = self.flush_once()
                if not self.replay.complete and self.buffer.replayed():
                    self.replay.done(self.inserted_rows)
                if self.failures:
                    log.info("event=writer.recovered after_failures=%d", self.failures)
                    self.failures = 0
                    self._state(False)
                backoff = 0.5
                if not written:
                    self._idle()
            except StoreError as exc:
                self.failures += 1
                if self.failures == 1:
                    self._state(True)
                log.warning("event=writer.insert_failed attempt=%d retry_in_s=%.1f error=%r",
                            self.failures, backoff, str(exc)[:300])
                self._stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
            except OSError as exc:  # the buffer (Redis) is unreachable: wait for it
                log.warning("event=writer.buffer_unavailable retry_in_s=%.1f error=%r", backoff,
                            str(exc)[:300])
                self._stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
            except Exception:  # never let the writer thread die silently
                self.failures += 1
                log.exception("event=writer.unexpected_error")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _idle(self) -> None:
        """Nothing was due: poll soon (the previous policy) or block until something is
        appended. The buffer's wake-up is armed before the logs are looked at again, so an
        append between the look and the wait is never slept through."""
        if self.batch_age_s > 0:
            self._stop.wait(POLL_S)
        elif self._linger_due is not None:  # a batch is growing: insert it when due
            self._stop.wait(min(max(self._linger_due - time.time(), 0.005), LINGER_S))
        else:
            self.buffer.wait(IDLE_WAIT_S)

    def _state(self, down: bool) -> None:
        if callable(self.on_store_state):
            self.on_store_state(down)
