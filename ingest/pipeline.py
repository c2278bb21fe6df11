"""The ingest path: validate → dead letters → dedup → durable buffer → (writer) → ClickHouse.

Every producer uses it: the HTTP API, file import, dead-letter replay and the demo
simulators, so they all get the same validation, dedup, dead letters and guarantees.
``submit`` returns only when the accepted events (and the dead letters of the rejected ones)
are durable.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import numpy as np
import orjson
import polars as pl

from ingest.audit import TABLE as AUDIT_TABLE
from ingest.buffer import Buffer, R, SeenSet
from ingest.contracts import Stream
from ingest.deadletter import TABLE as DEADLETTER_TABLE
from ingest.deadletter import dead_letter_frame
from ingest.dedup import WINDOW_DAYS, MemorySeenSet, id_hashes
from ingest.faults import reach
from ingest.registry import STREAMS
from ingest.validate import Prepared, ValidationResult, prepare, validate_frame, validate_prepared
from ingest.wal import WriteAheadLog
from ioc_app.storage import SqlStore, StoreError

if TYPE_CHECKING:
    from ingest.writer import Writer
    from ioc_app.settings import RedisTLS

log = logging.getLogger("ioc.ingest")

MAX_ERRORS = 100
#: a batch as a producer hands it in: parsed JSON events (untyped until validated), or a table
Events = Sequence[Any] | pl.DataFrame


class Backpressure(Exception):
    """The buffer cannot take more now: 429 (busy, retry soon) or 503 (store unreachable)."""

    def __init__(self, status: int, retry_after: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.message = message


@dataclass
class Receipt:
    """What happened to a batch: ``accepted + duplicates + rejected`` = events sent."""

    accepted: int
    duplicates: int
    rejected: int
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: input positions of the rejected events (not part of the response body)
    rejected_index: list[int] = field(default_factory=list, repr=False)

    def body(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "rejected": self.rejected, "errors": self.errors[:MAX_ERRORS]}


class Counters:
    """Per-stream outcome counters (for /metrics and the health page)."""

    def __init__(self) -> None:
        self._c: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def add(self, stream: str, outcome: str, n: int) -> None:
        if n:
            with self._lock:
                self._c[(stream, outcome)] += n

    def snapshot(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._c)


class Pipeline(Generic[R]):
    """The ingest path over a durable buffer (write-ahead log or Redis) and a seen-set.

    ``store`` is where the in-process seen-set is rebuilt from at start-up; a producer-only
    helper over Redis (``ingest.offload``) has none and needs none."""

    def __init__(self, store: SqlStore | None, buffer: Buffer[R], seen: SeenSet[R] | None = None, *,
                 high_water_rows: int = 2_000_000, site_key: bytes | None = None) -> None:
        self.store = store
        #: the key of the dead letters' redaction hashes (the site key; without one, a key of
        #: this process only: hashes are then comparable only within its lifetime)
        self.site_key = site_key or secrets.token_bytes(32)
        self.buffer = buffer
        self.seen: SeenSet[R] = seen or MemorySeenSet()
        self.high_water_rows = high_water_rows
        self.counters = Counters()
        self.store_down_since: float | None = None
        self._validating: dict[str, _Stage[_Job[Events]]] = {}
        self._stages_lock = threading.Lock()
        if isinstance(self.seen, MemorySeenSet):
            self._rebuild_seen(self.seen)

    # ---- start-up ---------------------------------------------------------------------
    def _rebuild_seen(self, seen: MemorySeenSet) -> None:
        """Ids of the last 7 days: those stored, then those still in the log."""
        if self.store is None:
            raise ValueError("the in-process seen-set is rebuilt from the store: give the "
                             "pipeline a store, or use the Redis seen-set")
        started = time.perf_counter()
        total = 0
        for s in STREAMS:
            if s.kind != "event":
                continue
            try:
                frame = self.store.recent_keys(s.table, "event_id", "received_at", WINDOW_DAYS)
            except StoreError as exc:
                log.warning("event=ingest.seen_rebuild_failed stream=%s error=%r", s.name, str(exc)[:200])
                frame = pl.DataFrame({"key": [], "day": []}, schema={"key": pl.String, "day": pl.Date})
            for (day,), part in frame.group_by(["day"]):
                seen.add(s.name, id_hashes(part["key"]).tolist(), day)
                total += part.height
            for rec in self.buffer.log(s.table).pending_records():
                day = datetime.fromtimestamp(rec.appended_at, UTC).date()
                seen.add(s.name, id_hashes(rec.frame["event_id"]).tolist(), day)
                total += rec.rows
        log.info("event=ingest.seen_rebuilt ids=%d ms=%.0f", total, (time.perf_counter() - started) * 1000)

    def set_store_down(self, down: bool) -> None:
        """Told by the writer when inserts start failing and when they succeed again."""
        self.store_down_since = time.time() if down else None

    # ---- submit -----------------------------------------------------------------------
    def check_capacity(self) -> None:
        try:
            depth = self.buffer.depth
        except OSError as exc:
            raise Backpressure(503, 10, f"the ingest buffer is unavailable ({exc}); nothing was "
                                        f"accepted — retry later") from exc
        if depth < self.high_water_rows:
            return
        if self.store_down_since is not None:
            raise Backpressure(503, 30, (
                f"the store has been unreachable for {time.time() - self.store_down_since:.0f}s and "
                f"the buffer is full ({depth} events waiting); nothing was accepted — retry later"))
        raise Backpressure(429, 2, (
            f"the buffer holds {depth} events waiting to be written (limit "
            f"{self.high_water_rows}); nothing was accepted — retry after the Retry-After delay"))

    def submit(self, stream: Stream, events: Events, *, source: str,
               now: datetime | None = None, letters: bool = True) -> Receipt:
        """Validate, dedup and buffer a batch; returns when what was accepted is durable.

        Rejected events become dead letters (unless ``letters`` is off: a replay updates the
        letters it already has instead of writing new ones).

        Small batches of one stream are coalesced (see ``_Stage``): the requests that
        queued up while the previous group was being validated are validated in one go,
        then deduplicated and logged in one go (one fsync), and each request gets its own
        receipt. Under load this amortises the fixed cost of a validation over many
        requests; alone, a request is processed at once.
        """
        self.check_capacity()
        if isinstance(events, pl.DataFrame) or not letters or len(events) >= COALESCE_ROWS:
            return self.accept_group(stream, [_Job(events, source, now)],
                                     now or datetime.now(UTC), letters)[0]
        job: _Job[Events] = _Job(events, source, now)
        job.prepared = prepare(stream, events)  # in this request's thread, beside the others
        with self._stages_lock:
            stage = self._validating.get(stream.name)
            if stage is None:
                store = _Stage(f"ioc-buffer-{stream.name}", self._buffer_groups, BUFFER_WORKERS)
                stage = self._validating[stream.name] = _Stage(
                    f"ioc-validate-{stream.name}", partial(self._validate_groups, stream, store=store))
        stage.put(job)
        return job.outcome()

    def _validate_groups(self, stream: Stream, jobs: list[_Job[Events]], store: _Stage[_Validated]) -> None:
        """Validate queued requests together (those of one receipt time), pass them on."""
        for group in _runs(jobs):
            now = group[0].now or datetime.now(UTC)
            try:
                result = self._validate(stream, group, now, True)
            except BaseException as exc:  # every waiting request learns of the failure
                _settle(group, error=exc)
                continue
            store.put((stream, group, result, now))

    def _buffer_groups(self, items: list[_Validated]) -> None:
        for stream, group, result, now in items:
            try:
                _settle(group, receipts=self._buffer(stream, group, result, now))
            except BaseException as exc:
                _settle(group, error=exc)

    def accept_group(self, stream: Stream, jobs: list[_Job[Events]], now: datetime,
                     letters: bool = True) -> list[Receipt]:
        """Validate, dedup and buffer requests already gathered (a large or tabular batch,
        or a helper's group), all as of one ``now``."""
        return self._buffer(stream, jobs, self._validate(stream, jobs, now, letters), now)

    def _validate(self, stream: Stream, jobs: list[_Job[Events]], now: datetime | None,
                  letters: bool) -> ValidationResult:
        """Validate the jobs' events as one batch and keep the dead letters of the rejected."""
        now = now or datetime.now(UTC)
        first = jobs[0].events
        if isinstance(first, pl.DataFrame):
            result = validate_frame(stream, first, source=jobs[0].source, now=now)
            raw: Sequence[Any] = _RowsOf(first)
            sources: str | list[str] = jobs[0].source
        else:
            sources = jobs[0].source if len(jobs) == 1 else [
                j.source for j in jobs for _ in range(len(j.events))]
            # a table is always alone in its group (``submit``): these jobs carry event lists
            events = cast("list[Sequence[Any]]", [j.events for j in jobs])
            result = validate_prepared(stream, [j.prepared or prepare(stream, ev)
                                                for j, ev in zip(jobs, events, strict=True)],
                                       source=sources, now=now)
            raw = [e for ev in events for e in ev] if len(jobs) > 1 else events[0]
        if result.rejected and letters:
            self.buffer.log(DEADLETTER_TABLE).append(
                dead_letter_frame(stream.name, raw, result, sources, now, key=self.site_key))
        return result

    def _buffer(self, stream: Stream, jobs: list[_Job[Events]], result: ValidationResult,
                now: datetime | None) -> list[Receipt]:
        """Dedup and buffer the valid events; split the outcome back into the requests."""
        now = now or datetime.now(UTC)
        try:
            new = self._dedup_and_buffer(stream, result, now)
            reach("ingest.buffered")
        except OSError as exc:
            raise Backpressure(503, 10, f"the ingest buffer could not keep the events ({exc}); "
                                        f"nothing was accepted — retry later") from exc
        bounds = np.cumsum([0] + [len(j.events) for j in jobs])
        job_of_row = np.searchsorted(bounds, np.asarray(result.index, dtype=np.int64), side="right") - 1
        accepted = np.bincount(job_of_row[new], minlength=len(jobs))
        duplicates = np.bincount(job_of_row[~new], minlength=len(jobs))
        receipts = [Receipt(int(accepted[k]), int(duplicates[k]), 0) for k in range(len(jobs))]
        for err in result.errors:
            k = int(np.searchsorted(bounds, err["index"], side="right") - 1)
            local = {**err, "index": err["index"] - int(bounds[k])}
            receipts[k].errors.append(local)
        for i in result.rejected:
            k = int(np.searchsorted(bounds, i, side="right") - 1)
            receipts[k].rejected += 1
            receipts[k].rejected_index.append(i - int(bounds[k]))
        self.counters.add(stream.name, "accepted", int(new.sum()))
        self.counters.add(stream.name, "duplicate", int((~new).sum()))
        self.counters.add(stream.name, "rejected", len(result.rejected))
        return receipts

    def replay(self, letters: pl.DataFrame, fixes: dict[str, Any] | None = None,
               now: datetime | None = None) -> dict[str, int]:
        """Re-validate dead letters (as stored, or as fixed by the caller): the events that now
        pass go in, the letters of those still bad stay open with their new reason.

        A letter that lost part of its payload when it was kept (personal data redacted, a
        blob dropped, the payload cut) is not replayed as stored — the placeholders would be
        stored as values; it stays open (reason ``redacted``) until a fix supplies the whole
        corrected event. Every letter keeps its original source: the events are submitted as
        that source's, so an event naming another source is still refused."""
        from ingest.deadletter import letter_updates
        from ingest.pii import has_markers
        from ingest.registry import get_stream

        now = now or datetime.now(UTC)
        fixes = fixes or {}
        totals = Counter[str]()
        for (stream_name,), group in letters.group_by(["stream"], maintain_order=True):
            stream = get_stream(str(stream_name))
            for (source,), part in group.group_by(["source"], maintain_order=True):
                ids = part["id"].to_list()
                events = [fixes.get(i, None) if i in fixes else orjson.loads(raw)
                          for i, raw in zip(ids, part["raw"].to_list(), strict=True)]
                lost = [k for k, ev in enumerate(events) if has_markers(ev)]
                errors: dict[int, list[dict[str, Any]]] = {
                    k: [{"index": k, "field": part["field"][k], "reason": "redacted",
                         "message": _REDACTED_MESSAGE}] for k in lost}
                todo = [k for k in range(len(events)) if k not in errors]
                receipt = Receipt(0, 0, 0)
                if todo:
                    receipt = self.submit(stream, [events[k] for k in todo], source=str(source),
                                          now=now, letters=False)
                for e in receipt.errors:
                    k = todo[e["index"]]
                    errors.setdefault(k, []).append({**e, "index": k})
                self.buffer.log(DEADLETTER_TABLE).append(
                    letter_updates(part, events, errors, now, key=self.site_key))
                totals["replayed"] += len(todo) - receipt.rejected
                totals["accepted"] += receipt.accepted
                totals["duplicates"] += receipt.duplicates
                totals["still_rejected"] += receipt.rejected + len(lost)
        return {k: totals[k] for k in ("replayed", "accepted", "duplicates", "still_rejected")}

    def _dedup_and_buffer(self, stream: Stream, result: ValidationResult, now: datetime
                          ) -> np.ndarray:
        """Drop duplicates and buffer the rest; returns the new/duplicate mask over the valid
        rows. Claiming ids and buffering their events must not come apart:
        with Redis both are one atomic script; in-process, a crash loses the claims with them."""
        frame = result.frame
        log = self.buffer.log(stream.table)
        if stream.kind != "event" or frame.height == 0:
            if frame.height:
                log.append(frame)
            return np.ones(frame.height, dtype=bool)
        return self.seen.append_unique(stream.name, log, frame, now)


COALESCE_ROWS = 20_000
_REDACTED_MESSAGE = ("personal data, a binary blob or part of this letter's payload was removed "
                     "when it was kept; replay it with fixes giving the whole corrected event "
                     "(with a pseudonymous key in place of the personal data)")
#: groups of one stream being made durable at once
BUFFER_WORKERS = 2


#: every buffer the writer drains: the campus streams', the dead letters' and the audit trail's
#: (internal streams: no ingest token can write them)
BUFFER_NAMES = [s.table for s in STREAMS] + [DEADLETTER_TABLE, AUDIT_TABLE]


def build_ingest(store: SqlStore, *, wal_dir: str | os.PathLike[str] | None = None, redis_url: str = "",
                 redis_relaxed: bool = False, consumer: str | None = None,
                 claim_idle_ms: int | None = None, redis_tls: RedisTLS | None = None,
                 site_key: bytes | None = None, batch_age_s: float = 0.0
                 ) -> tuple[Pipeline[Any], Writer[Any]]:
    """The ingest path and its (not started) writer: over Redis when a URL is given, else
    over the write-ahead log in ``wal_dir`` (owned by this process). ``site_key`` keys the
    dead letters' redaction hashes; ``batch_age_s`` > 0 is the writer's previous batching
    policy (``ingest.writer``). (Which buffer, and so which record type, is known only
    at run time: hence ``Any`` for it.)"""
    from ingest.writer import Writer

    if redis_url:
        from ingest import redis_buffer as rb
        from ingest.redis_client import check_durability, connect
        from ingest.redis_seen import RedisSeenSet

        client = connect(redis_url, redis_tls)
        check_durability(client, relaxed=redis_relaxed)
        buffer = rb.RedisBuffer(client, BUFFER_NAMES, consumer, claim_idle_ms or rb.CLAIM_IDLE_MS)
        from ingest.commits import RedisCommits

        over_redis = Pipeline(store, buffer, RedisSeenSet(client), site_key=site_key)
        writer = Writer(store, buffer, on_store_state=over_redis.set_store_down,
                        batch_age_s=batch_age_s)
        writer.add_listener(RedisCommits(client))  # the core may run in another process
        return over_redis, writer
    if wal_dir is None:
        raise ValueError("the ingest path needs IOC_REDIS_URL or a write-ahead log directory")
    wal = WriteAheadLog(wal_dir)
    pipeline = Pipeline(store, wal, MemorySeenSet(), site_key=site_key)
    return pipeline, Writer(store, wal, on_store_state=pipeline.set_store_down, batch_age_s=batch_age_s)


#: what a job carries: a batch of events here, a request's body in ``ingest.offload``
E = TypeVar("E")


class _Job(Generic[E]):
    """One request's batch waiting to be processed, and its outcome."""

    __slots__ = ("done", "error", "events", "now", "prepared", "receipt", "source")

    def __init__(self, events: E, source: str, now: datetime | None) -> None:
        self.events = events
        self.source = source
        self.now = now
        self.prepared: Prepared | None = None
        self.receipt: Receipt | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()

    def outcome(self) -> Receipt:
        """Wait until a stage has settled the job: its receipt, or the error it met."""
        self.done.wait()
        if self.error is not None:
            raise self.error
        assert self.receipt is not None
        return self.receipt


def _settle(jobs: list[_Job[E]], *, receipts: list[Receipt] | None = None,
            error: BaseException | None = None) -> None:
    for k, j in enumerate(jobs):
        j.receipt = receipts[k] if receipts is not None else None
        j.error = error
        j.done.set()


def _runs(jobs: list[_Job[E]]) -> list[list[_Job[E]]]:
    """Consecutive jobs with the same receipt time (callers rarely set one) go together."""
    runs: list[list[_Job[E]]] = []
    for j in jobs:
        if runs and runs[-1][0].now == j.now:
            runs[-1].append(j)
        else:
            runs.append([j])
    return runs


#: a group of requests validated together, on its way to the buffer
_Validated = tuple[Stream, list[_Job[Events]], ValidationResult, datetime]
#: what a stage's threads take in batches
T = TypeVar("T")


class _Stage(Generic[T]):
    """Threads that each take everything queued while they were busy, as one batch.

    This is what coalesces concurrent requests: while the validation of one group runs,
    the next requests queue up and are validated together, and while a group waits for
    its write to be durable, the next is already being validated. With ``workers`` > 1
    that many batches are in flight at once (writes waiting on the disk or on Redis
    overlap). A thread ends after ``IDLE_S`` without work and the next ``put`` starts
    another, so an idle pipeline holds no thread.
    """

    IDLE_S = 5.0

    def __init__(self, name: str, work: Callable[[list[T]], None], workers: int = 1) -> None:
        self.name = name
        self.work = work
        self.workers = workers
        self._items: list[T] = []
        self._cond = threading.Condition()
        self._running = 0
        self._waiting = 0

    def put(self, item: T) -> None:
        with self._cond:
            self._items.append(item)
            if self._waiting:
                self._cond.notify()
            elif self._running < self.workers:
                self._running += 1
                threading.Thread(target=self._run, name=self.name, daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._items:
                    self._waiting += 1
                    self._cond.wait(self.IDLE_S)
                    self._waiting -= 1
                if not self._items:
                    self._running -= 1
                    return
                batch, self._items = self._items, []
            try:
                self.work(batch)
            except BaseException:  # work settles its own jobs; never let the stage die
                log.exception("event=ingest.stage_failed stage=%s", self.name)


class _RowsOf(Sequence[Any]):
    """Rows of a tabular batch as dicts, built only for the few that are dead-lettered."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame

    def __len__(self) -> int:
        return self.frame.height

    # by index only (the dead letters are built row by row, never sliced): narrower than
    # Sequence.__getitem__, which also takes a slice
    def __getitem__(self, i: int) -> Any:  # type: ignore[override]
        return self.frame.row(i, named=True)
