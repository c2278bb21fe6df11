"""Ingest requests handled by helper processes (Redis mode).

Parsing JSON and picking the values out of it is Python work that holds the interpreter
lock. In the process that also serves the pages, drains the buffer into the store and runs
the aggregation core, it takes turns with all of them, and on a small machine that turn-
taking, not the cores, limits how fast events are accepted. With Redis as the buffer,
accepting a batch needs nothing this process holds: helpers parse, validate, deduplicate
and append groups of requests to Redis, each in its own interpreter, and answer with the
receipts. The web process keeps only the HTTP exchange.

A request is answered only after its helper has made its events durable, exactly as in
process. If a helper dies, the requests it held are answered 503 (their events may or may
not be in: a retry is counted under ``duplicates``) and a new pool takes the next ones.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import polars as pl

from ingest.contracts import Stream
from ingest.faults import reach
from ingest.parse import BodyError, parse_body
from ingest.pipeline import Backpressure, Counters, Events, Pipeline, Receipt, _Job, _settle, _Stage
from ingest.registry import BY_NAME
from ingest.validate import prepare
from ioc_app.settings import RedisTLS

log = logging.getLogger("ioc.ingest")


@dataclass(frozen=True)
class Request:
    """One ingest request as received: the body is parsed by the helper."""

    body: bytes
    content_type: str | None
    content_encoding: str | None
    source: str


#: a helper's answer per request: ("ok", Receipt) | ("body", status, code, message) |
#: ("busy", status, retry_after, message)
Outcome = tuple[Any, ...]


class Offload:
    """Ingest through ``processes`` helper processes, with requests coalesced per stream."""

    def __init__(self, redis_url: str, *, relaxed: bool, processes: int,
                 counters: Counters | None = None, setup: Callable[[], None] | None = None,
                 tls: RedisTLS | None = None, site_key: bytes | None = None) -> None:
        self.redis_url = redis_url
        self.tls = tls
        self.site_key = site_key  # the helpers redact dead letters with the site's key
        self.setup = setup  # run first in each helper (a module-level function: it is pickled)
        self.counters = counters  # this process's view of what its helpers accepted
        self.relaxed = relaxed
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._stages: dict[str, _Stage[_Job[Request]]] = {}

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # spawned, not forked: this process runs threads and an embedded engine
                self._pool = ProcessPoolExecutor(
                    self.processes, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_helper, initargs=(self.redis_url, self.relaxed, self.setup, self.tls,
                                                          self.site_key))
            return self._pool

    def warm(self) -> None:
        """Start the helpers now (each imports the engine libraries, a second or two) rather
        than on the first request, without waiting for them."""
        pool = self._executor()
        for _ in range(self.processes):
            pool.submit(_ready)

    def submit(self, stream: Stream, request: Request) -> Receipt:
        """Returns when the request's accepted events are durable; raises ``BodyError`` for
        a body that cannot be taken and ``Backpressure`` when the buffer cannot take it."""
        job = _Job(request, request.source, None)
        with self._lock:
            stage = self._stages.get(stream.name)
            if stage is None:
                stage = self._stages[stream.name] = _Stage(
                    f"ioc-offload-{stream.name}", partial(self._run, stream.name), self.processes)
        stage.put(job)
        return job.outcome()

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Forget a pool whose helper died; the next request starts a new one."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def _outcomes(self, stream_name: str, jobs: list[_Job[Request]]) -> list[Outcome]:
        """A helper's answers for the group. A pool can be found broken, or already shut down
        by the other stage of the stream that met a dead helper a moment ago: nothing ran
        there, so the group goes to a fresh pool. A helper that dies while it holds the
        group raises ``BrokenProcessPool``."""
        for _ in range(3):
            pool = self._executor()
            try:
                future = pool.submit(_handle, stream_name, [j.events for j in jobs])
            except (BrokenProcessPool, RuntimeError) as exc:  # RuntimeError: shut down
                log.info("event=ingest.pool_renewed error=%r", str(exc)[:200])
                self._discard(pool)
                continue
            try:
                return future.result()
            except BrokenProcessPool:
                self._discard(pool)
                raise
        raise BrokenProcessPool("no ingest helper could be started")

    def _run(self, stream_name: str, jobs: list[_Job[Request]]) -> None:
        try:
            outcomes = self._outcomes(stream_name, jobs)
        except BrokenProcessPool as exc:
            log.warning("event=ingest.helper_died requests=%d error=%r", len(jobs), str(exc)[:200])
            _settle(jobs, error=Backpressure(503, 1, (
                "the ingest helper handling this request stopped; some of its events may have "
                "been kept — send it again (events already kept are counted as duplicates)")))
            return
        except BaseException as exc:
            _settle(jobs, error=exc)
            return
        for job, outcome in zip(jobs, outcomes, strict=True):
            job.receipt, job.error = _unpack(outcome)
            if job.receipt is not None and self.counters is not None:
                self.counters.add(stream_name, "accepted", job.receipt.accepted)
                self.counters.add(stream_name, "duplicate", job.receipt.duplicates)
                self.counters.add(stream_name, "rejected", job.receipt.rejected)
            job.done.set()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=False)


def _unpack(outcome: Outcome) -> tuple[Receipt | None, BaseException | None]:
    kind = outcome[0]
    if kind == "ok":
        return outcome[1], None
    if kind == "body":
        return None, BodyError(outcome[1], outcome[2], outcome[3])
    return None, Backpressure(outcome[1], outcome[2], outcome[3])


# ---- in the helper process ------------------------------------------------------------
_PIPELINE: Pipeline | None = None


def _start_helper(redis_url: str, relaxed: bool, setup: Callable[[], None] | None,
                  tls: RedisTLS | None = None, site_key: bytes | None = None) -> None:
    global _PIPELINE
    from ingest.pipeline import BUFFER_NAMES
    from ingest.redis_buffer import RedisBuffer
    from ingest.redis_client import check_durability, connect
    from ingest.redis_seen import RedisSeenSet

    if setup is not None:
        setup()
    _follow_parent()
    client = connect(redis_url, tls)
    check_durability(client, relaxed=relaxed)
    # producer side only: this helper appends, the web process's writer drains
    _PIPELINE = Pipeline(None, RedisBuffer(client, BUFFER_NAMES), RedisSeenSet(client),
                         site_key=site_key)


def _follow_parent() -> None:
    """End this helper when the web process is gone: a killed parent never tells its
    pool, and a helper left waiting for work would hold its memory and Redis connection."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="ioc-helper-watch", daemon=True).start()


def _ready() -> bool:
    return _PIPELINE is not None


def _handle(stream_name: str, requests: list[Request]) -> list[Outcome]:
    """Parse every request, then validate, deduplicate and append them as one group."""
    assert _PIPELINE is not None, "the helper was not started"
    pipeline = _PIPELINE
    stream = BY_NAME[stream_name]
    outcomes: list[Outcome | None] = [None] * len(requests)
    group: list[_Job[Events]] = []
    at: list[int] = []
    for k, req in enumerate(requests):
        try:
            events = parse_body(req.body, req.content_type, req.content_encoding)
        except BodyError as exc:
            outcomes[k] = ("body", exc.status, exc.code, exc.message)
            continue
        if isinstance(events, pl.DataFrame):  # CSV: tabular, validated on its own
            outcomes[k] = _guarded(partial(pipeline.submit, stream, events, source=req.source))
            continue
        job: _Job[Events] = _Job(events, req.source, None)
        job.prepared = prepare(stream, events)
        group.append(job)
        at.append(k)
    if group:
        now = datetime.now(UTC)

        result = _guarded(lambda: pipeline.accept_group(stream, group, now))
        for n, k in enumerate(at):
            outcomes[k] = ("ok", result[1][n]) if result[0] == "ok" else result
        reach("helper.appended")
    answered = [o for o in outcomes if o is not None]
    assert len(answered) == len(requests), "every request is answered: parsed, refused or in the group"
    return answered


def _guarded(fn: Callable[[], object]) -> Outcome:
    try:
        return ("ok", fn())
    except Backpressure as exc:
        return ("busy", exc.status, exc.retry_after, exc.message)
    except OSError as exc:  # Redis unreachable
        return ("busy", 503, 10, f"the ingest buffer is unavailable ({exc}); nothing was "
                                 f"accepted — retry later")
