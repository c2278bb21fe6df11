"""The commit trigger (``IOC_CORE_TRIGGER=commit``): the core computes when the writer has
committed rows, and when time alone changes a figure — otherwise it rests.

- A commit (``committed``: the writer's listener in process, ``ingest.commits`` across
  processes) makes the core recompute at once the live figures of the domains the table
  feeds (``Domain.tables``), the freshness and the alerts, reusing the other domains' last
  sections. Commits that arrive while a recompute runs are taken together by the next one,
  and recomputes start at most every ``MIN_INTERVAL_S`` (10 per second) and keep the core
  busy at most an eighth of the time (``BUSY_FACTOR``): a burst costs a bounded number of
  recomputes, and a steady load leaves the cores to the ingest path.
- Time: at every minute boundary every domain is recomputed (their windows end with the
  current minute — today, the last 60 minutes — and a new day starts at a minute boundary)
  together with the anomaly baselines, whose window is the last whole minutes, and the first
  snapshot of each minute is kept in the history. A domain whose figures age at second
  resolution (``ages_within_s``: network links go stale 5 minutes after their last sample)
  is recomputed every ``FINE_STEP_S`` for that long after a commit. The freshness is
  recomputed when a stream's staleness deadline passes (its newest event + its
  ``stale_after_s``), the alerts when a ``for_s``/``clear_for_s`` wait ends.
- Slow figures (trends, comparisons) of a domain: after a commit of its streams, at most
  every ``SLOW_EVERY_S``; with time, at the first minute boundary ``SLOW_EVERY_S`` after the
  last time (their windows move by the minute) and at local midnight.

Figures that only age (a stream's ``lag_s``) do not make the core compute: they are derived
when the snapshot is read. ``step(now, tables)`` does what is due at ``now``; tests drive it
with explicit times.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from metrics.alerts import AnomalyRule

if TYPE_CHECKING:
    from ioc_app.core import Published, SnapshotCore

log = logging.getLogger("ioc.core")

MIN_INTERVAL_S = 0.1
#: a recompute for commits starts no sooner than this many times the last one's duration
#: after it began (and at most ``MAX_WAIT_S`` later): under a steady load the core is busy
#: about an eighth of the time
BUSY_FACTOR = 8.0
MAX_WAIT_S = 1.0
FINE_STEP_S = 5.0
SLOW_EVERY_S = 30.0
RETRY_S = 1.0
#: how often a core with Redis renews (or tries to take) the leadership while idle
LEAD_CHECK_S = 1.5
#: a staleness deadline is passed strictly ("silent longer than"): look just after it
AFTER_S = 0.001


class CommitTrigger:
    """What makes the core compute, and when (see the module docstring)."""

    def __init__(self, core: SnapshotCore, min_interval_s: float = MIN_INTERVAL_S) -> None:
        self.core = core
        self.min_interval_s = min_interval_s
        self.steps = 0  # steps that recomputed something
        self._pending: set[str] = set()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._led = False
        self._last_step = 0.0
        self._anomaly = any(isinstance(r, AnomalyRule) for r in core.rules)
        #: in the thread, slow figures and baselines are computed beside the live ones, so a
        #: commit never waits for them (``step`` called directly computes them in line)
        self._slow_pool: ThreadPoolExecutor | None = None
        self._slow_running = False
        self._slow_done = False  # computed in the background, not yet published
        self._reset()

    def _reset(self) -> None:
        """Forget what was computed when: everything is due (at start, or on becoming the
        leader after another process led)."""
        self._minute: int | None = None  # the epoch minute of the last full recompute
        self._commit_at: dict[str, float] = {}  # domain → its last commit
        self._fine_at: dict[str, float] = {}  # domain → its last live recompute
        self._slow_at: dict[str, tuple[float, date]] = {}  # domain → its last slow recompute
        self._dirty: set[str] = set()  # domains committed since their slow figures
        self._retry: tuple[set[str], bool, bool] | None = None
        self._retry_at = math.inf

    # -- the thread -------------------------------------------------------------------
    def committed(self, tables: Iterable[str]) -> None:
        """The writer confirmed inserts into ``tables``: recompute what they feed soon."""
        with self._cond:
            self._pending.update(tables)
            self._cond.notify()

    def start(self) -> CommitTrigger:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ioc-core-trigger", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 30) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self._slow_pool is not None:
            self._slow_pool.shutdown(wait=False)

    def _run(self) -> None:
        self._slow_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ioc-core-slow")
        started, busy = 0.0, 0.0
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    now = time.time()
                    ready = started + max(self.min_interval_s, min(BUSY_FACTOR * busy, MAX_WAIT_S))
                    wake = min(self.next_due(), ready if self._pending else math.inf)
                    wake = max(wake, ready)
                    if now >= wake:
                        break
                    self._cond.wait(min(wake - now, 3600.0))
                tables, self._pending = self._pending, set()
            started = time.time()
            try:
                self.step(datetime.now(UTC), tables)
            except Exception:  # never let the trigger die: take the tables again later
                log.exception("event=core.step_failed")
                with self._cond:
                    self._pending |= tables
                    self._cond.wait(RETRY_S)
            # only recomputes for commits pace the next ones (a minute's full recompute does not)
            busy = time.time() - started if tables else 0.0

    # -- what is due ------------------------------------------------------------------
    def _stale_due(self) -> float:
        """The next staleness deadline: a stream's newest event + its ``stale_after_s``."""
        due = math.inf
        for entry in (self.core.freshness_section or {}).values():
            limit, last = entry.get("stale_after_s"), entry.get("last_event_ts")
            if limit is None or last is None or entry.get("stale"):
                continue
            due = min(due, datetime.fromisoformat(last).timestamp() + limit + AFTER_S)
        return due

    def next_due(self) -> float:
        """When (epoch seconds) time alone next makes something due."""
        due = [60.0 * (self._minute + 1) if self._minute is not None else 0.0, self._stale_due(),
               self._retry_at]
        for d in self.core.domains:
            until = self._commit_at.get(d.name, -math.inf) + d.ages_within_s
            step = self._fine_at.get(d.name, -math.inf) + FINE_STEP_S
            if d.ages_within_s and step < until:
                due.append(step)
        due += [self._slow_at[d][0] + SLOW_EVERY_S for d in self._dirty if d in self._slow_at]
        if self._slow_done:
            due.append(0.0)
        change = self.core.book.next_change()
        if change is not None:
            due.append(change.timestamp())
        if self.core.redis is not None:
            due.append(self._last_step + LEAD_CHECK_S)
        return min(due)

    def step(self, now: datetime, tables: Iterable[str] = ()) -> Published | None:
        """Do what the commits of ``tables`` and the time ``now`` make due; returns the
        snapshot published, or None when nothing was due (or another process leads)."""
        core = self.core
        t = now.timestamp()
        self._last_step = time.time()
        if not core.leader.hold():
            self._led = False
            return None
        if not self._led:
            self._reset()
            self._led = True
        hit = {core.fed[x] for x in tables if x in core.fed}
        for name in hit:
            self._commit_at[name] = t
            self._dirty.add(name)
        names, fresh = set(hit), bool(hit)
        minute = int(t // 60)
        full = minute != self._minute
        if self._retry is not None and t >= self._retry_at:
            names |= self._retry[0]
            fresh |= self._retry[1]
            full |= self._retry[2]
            self._retry, self._retry_at = None, math.inf
        names |= {d.name for d in core.domains if d.ages_within_s
                  and t < self._commit_at.get(d.name, -math.inf) + d.ages_within_s
                  and t >= self._fine_at.get(d.name, -math.inf) + FINE_STEP_S}
        fresh |= t >= self._stale_due()
        change = core.book.next_change()
        alerts = change is not None and change <= now
        day = now.astimezone(core.zone).date()
        slow = {d.name for d in core.domains if self._slow_due(d.name, t, day, full)}
        baselines = full and self._anomaly
        if self._slow_running:  # the last ones are still being computed: they are due again
            slow, baselines = set(), False
        for name in slow:
            self._slow_at[name] = (t, day)
        self._dirty -= slow
        merged, self._slow_done = self._slow_done, False
        if (slow or baselines) and not self._stopping:
            if self._slow_pool is None:
                self._slow(now, slow, baselines)
                merged = True
            else:
                self._slow_running = True
                self._slow_pool.submit(self._slow, now, slow, baselines)
        if not (full or names or fresh or merged or alerts):
            return None
        failures = core.stats.failures
        published = core.refresh(now, None if full else names, fresh or full)
        self.steps += 1
        if core.stats.failures > failures:  # the store failed: try the same again soon
            self._retry, self._retry_at = (names, fresh, full), t + RETRY_S
            return published
        if full:
            self._minute = minute
        for name in (d.name for d in core.domains) if full else names:
            self._fine_at[name] = t
        return published

    def _slow(self, now: datetime, names: Collection[str], baselines: bool) -> None:
        """The slow figures of ``names`` and, with ``baselines``, the anomaly baselines; in
        the background the next step publishes them."""
        try:
            if baselines:
                self.core.baseline_tick(now)
            if names:
                self.core.slow_tick(now, names)
        finally:
            if self._slow_pool is not None:
                with self._cond:
                    self._slow_running, self._slow_done = False, True
                    self._cond.notify()

    def _slow_due(self, name: str, t: float, day: date, full: bool) -> bool:
        """Slow figures: first thing, on a new local day, at a minute boundary once
        ``SLOW_EVERY_S`` have passed, and after a commit once ``SLOW_EVERY_S`` have passed."""
        last = self._slow_at.get(name)
        if last is None or last[1] != day:
            return True
        return (full or name in self._dirty) and t - last[0] >= SLOW_EVERY_S
