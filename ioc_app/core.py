"""The aggregation core: one snapshot of every live figure, computed by one leader and read
by every screen.

Screens are many and ClickHouse work must not grow with them, so reading never computes:
the core computes the snapshot, serialises it once and publishes the bytes — into the
process (embedded mode) and, when Redis is configured, to a Redis key plus a pub/sub message
that every web worker listens to. What makes it compute is ``IOC_CORE_TRIGGER``: ``commit``
(the default, ``ioc_app.trigger``) recomputes the domains a committed table feeds as soon as
the writer confirms the insert, and otherwise only what time itself changes; ``tick`` (the
previous behaviour) recomputes everything every ``IOC_TICK_S``. Slow figures (30-day
trends, last year's comparison) and the anomaly baselines of the alert rules refresh less
often and are merged into the snapshot.

When the store fails, the last snapshot keeps being served, republished once with
``stale: true`` so screens can say so. A tick that overruns is skipped, never queued.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from ioc_app import domains as registry
from ioc_app.backup_schedule import BACKUPS_OFF, SHIPPING_OFF
from ioc_app.feed import SNAPSHOT_CHANNEL, SNAPSHOT_KEY, LocalFeed, Published, aged
from ioc_app.feed import RedisFeed as RedisFeed  # where web workers read it; kept importable here
from ioc_app.leader import RedisLeader, SoleLeader
from ioc_app.storage import Store
from ioc_app.trigger import CommitTrigger
from metrics import alerts as alert_rules
from metrics import history
from metrics.enrollment_notices import DEFAULT_DAYS, NoticeDays
from metrics.freshness import freshness
from metrics.small_cells import MIN_CELL

log = logging.getLogger("ioc.core")

VERSION_KEY = "ioc:snapshot:version"
SLOW_EVERY_S = 30.0
NEXT_VERSION = """
local v = math.max(tonumber(redis.call('GET', KEYS[1]) or '0') + 1, tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%d', v))
return v
"""
BASELINES_EVERY_S = 60.0

Section = Callable[[Store, ZoneInfo, datetime], dict[str, Any]]


@dataclass(frozen=True)
class Domain:
    """One domain's part of the snapshot: its live figures and slow ones, the raw tables
    whose commits change them (``ioc_app/domains.py``), and how long after a commit its live
    figures keep changing with time alone at second resolution (``ages_within_s``)."""

    name: str
    live: Section
    slow: Section
    tables: frozenset[str] = frozenset()
    ages_within_s: float = 0.0


def domains(min_cell: int = MIN_CELL, notice_days: NoticeDays = DEFAULT_DAYS) -> tuple[Domain, ...]:
    """The snapshot's sections: one per registered domain (``ioc_app/domains.py``, whose
    halves must agree), in the domains' order, computed by its metrics half (``live``,
    ``slow``). The settings a domain's ``live`` takes (``figure_options``) are passed to it:
    ``min_cell`` (``IOC_MIN_CELL``) is the smallest group of admitted candidates whose score
    statistics the shared snapshot shows; ``notice_days`` (``IOC_NOTICE_UNDELIVERED_DAYS``,
    ``IOC_NOTICE_UNPRINTED_DAYS``) when an admission notice counts as undelivered or unprinted."""
    options: dict[str, Any] = {"min_cell": min_cell, "notice_days": notice_days}
    out = []
    for d in registry.registered():
        m = d.metrics
        live = partial(m.live, **{k: options[k] for k in m.figure_options}) if m.figure_options else m.live
        out.append(Domain(d.name, live, m.slow, d.tables, m.ages_within_s))
    return tuple(out)


DOMAINS: tuple[Domain, ...] = domains()


VOLATILE = ("version", "generated_at", "compute_ms")


def content_digest(snapshot: dict[str, Any]) -> bytes:
    """What the screens would show, without what changes on every tick (the time, the lag of
    each stream, the age of each link's sample — computed when read, ``ioc_app.feed``): a tick
    whose figures equal the last ones publishes no new version, so a screen repaints only when
    something it shows changed."""
    stable = {k: v for k, v in snapshot.items() if k not in VOLATILE}
    stable["freshness"] = {name: {k: v for k, v in f.items() if k != "lag_s"}
                           for name, f in snapshot.get("freshness", {}).items()}
    for part in ("backup", "shipping"):  # their ages
        if isinstance(snapshot.get(part), dict):
            stable[part] = {k: v for k, v in snapshot[part].items() if k != "lag_s"}
    network = snapshot.get("network")
    if isinstance(network, dict) and isinstance(network.get("links"), list):
        stable["network"] = {**network, "links": [{k: v for k, v in link.items() if k != "age_s"}
                                                  for link in network["links"]]}
    return hashlib.blake2b(orjson.dumps(stable, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()




@dataclass
class CoreStats:
    """What ``/metrics`` and ``/readyz`` report about the core."""

    ticks: int = 0
    failures: int = 0
    skipped: int = 0
    last_compute_s: float = 0.0
    last_tick_at: float = 0.0  # time.time() of the last completed tick
    compute_seconds: list[float] = field(default_factory=list)  # drained by the metrics collector
    #: live computations per domain (and of ``freshness``), slow ones per domain
    computed: Counter[str] = field(default_factory=Counter)
    slow_computed: Counter[str] = field(default_factory=Counter)


class SnapshotCore:
    """Computes, publishes and records the snapshot; run by a scheduler (``schedule``)."""

    def __init__(self, store: Store, zone: ZoneInfo, *, tick_s: float = 1.0,
                 feed: LocalFeed | None = None, redis: Any = None,
                 rules: tuple[Any, ...] = (), domains: tuple[Domain, ...] = DOMAINS,
                 keep_history: bool = True, trigger: str = "commit",
                 namer: alert_rules.Namer | None = None) -> None:
        self.store = store
        self.zone = zone
        self.tick_s = tick_s
        self.feed = feed or LocalFeed()
        self.redis = redis
        self.domains = domains
        self.rules = rules
        self.book = alert_rules.AlertBook(rules, zone, namer)
        #: told each evaluation's active alerts (``deliver_changes(alerts, now)``; contact points)
        self.notifier: Any = None
        self.keep_history = keep_history
        self.leader: RedisLeader | SoleLeader = (
            RedisLeader(redis, ttl_s=max(5.0, 5 * tick_s)) if redis is not None else SoleLeader())
        self.stats = CoreStats()
        self._version_script = redis.register_script(NEXT_VERSION) if redis is not None else None
        self._slow: dict[str, dict[str, Any]] = {}
        self._baselines: Mapping[str, Any] = {}
        self._version = 0
        self._recorded_minute: str | None = None
        self._recorded_alerts: tuple[str, ...] | None = None
        self._stale = False
        self._digest = b""
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=len(domains) + 1, thread_name_prefix="ioc-core")
        self._live: dict[str, dict[str, Any]] = {}  # each domain's last live section
        self._fresh: dict[str, dict[str, Any]] | None = None  # the last freshness
        self._computed_at: dict[str, datetime] = {}  # when each of them was computed
        #: committed table → the domain it feeds
        self.fed = {table: d.name for d in domains for table in d.tables}
        if trigger not in ("commit", "tick"):
            raise ValueError(f"trigger must be 'commit' or 'tick', not {trigger!r}")
        self.trigger = CommitTrigger(self) if trigger == "commit" else None
        #: scheduled backups (``ioc_app.backup_schedule``): run by the leader, shown as ``backup``
        self.backups: Any = None

    @property
    def freshness_section(self) -> dict[str, dict[str, Any]] | None:
        """The freshness of the last computation (None before the first)."""
        return self._fresh

    @staticmethod
    def _as_core(fn: Callable[..., Any], *args: Any) -> Any:
        with Store.origin("core"):
            return fn(*args)

    # -- versions ---------------------------------------------------------------------
    def _next_version(self) -> int:
        """Greater than every version before, across restarts and leader changes: the last
        one + 1, and at least the clock in milliseconds (a restarted process does not know
        the versions it published but did not store)."""
        floor = int(time.time() * 1000)
        if self._version_script is not None:  # in Redis: shared by every leader there will ever be
            return int(self._version_script(keys=[VERSION_KEY], args=[floor]))
        if self._version == 0:
            self._version = history.last_version(self.store)
        self._version = max(self._version + 1, floor)
        return self._version

    # -- jobs -------------------------------------------------------------------------
    def slow_tick(self, now: datetime | None = None, names: Collection[str] | None = None) -> None:
        """Recompute the slow figures of the domains ``names`` (every domain when None; kept
        until the next success)."""
        if not self.leader.held and not self.leader.hold():
            return
        with Store.origin("core-slow"):
            self._slow_tick(now or datetime.now(UTC), names)

    def _slow_tick(self, now: datetime, names: Collection[str] | None) -> None:
        for d in self.domains:
            if names is not None and d.name not in names:
                continue
            self.stats.slow_computed[d.name] += 1
            started = time.perf_counter()
            try:
                self._slow[d.name] = d.slow(self.store, self.zone, now)
            except Exception as exc:
                log.warning("event=core.slow_failed domain=%s error=%r", d.name, str(exc)[:300])
                continue
            log.debug("event=core.slow domain=%s ms=%.1f", d.name, (time.perf_counter() - started) * 1e3)

    def baseline_tick(self, now: datetime | None = None) -> None:
        """Refresh the alert rules' anomaly baselines (same minutes of previous weeks)."""
        if not self.rules or (not self.leader.held and not self.leader.hold()):
            return
        try:
            with Store.origin("core-slow"):
                self._baselines = alert_rules.anomaly_baselines(self.store, self.zone,
                                                            now or datetime.now(UTC), self.rules)
        except Exception as exc:
            log.warning("event=core.baselines_failed error=%r", str(exc)[:300])

    def tick(self, now: datetime | None = None) -> Published | None:
        """Compute every figure and publish the snapshot (if this process leads); returns it."""
        return self.refresh(now)

    def committed(self, tables: str | Iterable[str]) -> None:
        """The writer confirmed inserts into ``tables`` (one name, or several): with the
        commit trigger, recompute what they feed soon (the other trigger ignores it)."""
        if self.trigger is not None:
            self.trigger.committed((tables,) if isinstance(tables, str) else tables)

    def refresh(self, now: datetime | None = None, names: Collection[str] | None = None,
                fresh: bool = True) -> Published | None:
        """Recompute the live figures of the domains ``names`` (every one when None) and,
        with ``fresh``, the freshness; reuse the other domains' last sections, evaluate the
        alerts and publish when anything shown changed (if this process leads)."""
        if not self.leader.hold():
            return None
        with self._lock, Store.origin("core"):
            now = now or datetime.now(UTC)
            started = time.perf_counter()
            try:
                snapshot = self._compute(now, names, fresh)
            except Exception as exc:  # the store (or a figure) failed: keep serving the last
                self.stats.failures += 1
                log.warning("event=core.compute_failed error=%r", str(exc)[:300])
                return self._mark_stale(now, exc)
            elapsed = time.perf_counter() - started
            self.stats.ticks += 1
            self.stats.last_compute_s = elapsed
            self.stats.last_tick_at = time.time()
            self.stats.compute_seconds.append(elapsed)
            del self.stats.compute_seconds[:-1000]
            digest = content_digest(snapshot)
            current = self.feed.current()
            if digest == self._digest and current is not None and not self._stale:
                self._record(now, current)  # same figures: screens keep their version
                return current
            snapshot["version"] = self._next_version()
            snapshot["compute_ms"] = round(elapsed * 1000, 1)
            published = Published.of(snapshot)
            self._publish(published)
            self._digest, self._stale = digest, False
            self._record(now, published)
            log.debug("event=core.tick version=%d ms=%.1f", published.version, elapsed * 1000)
            return published

    def compute(self, now: datetime) -> dict[str, Any]:
        """The whole snapshot as of ``now``, without its version (raises when the store fails)."""
        return self._compute(now, None, True)

    def _compute(self, now: datetime, names: Collection[str] | None, fresh: bool) -> dict[str, Any]:
        """The snapshot with the live figures of ``names`` (all when None; and of any domain
        not computed yet) and, with ``fresh``, the freshness computed anew as of ``now``."""
        # the domains' queries run side by side: the engine works outside the GIL
        wanted = [d for d in self.domains if names is None or d.name in names or d.name not in self._live]
        job = (self._pool.submit(self._as_core, freshness, self.store, now)
               if fresh or self._fresh is None else None)
        parts = {d.name: self._pool.submit(self._as_core, d.live, self.store, self.zone, now)
                 for d in wanted}
        for name, part in parts.items():
            self._live[name] = part.result()
            self._computed_at[name] = now
            self.stats.computed[name] += 1
        if job is not None:
            self._fresh = job.result()
            self._computed_at["freshness"] = now
            self.stats.computed["freshness"] += 1
        assert self._fresh is not None
        # a section kept from an earlier computation has its figures that only age (lag_s,
        # age_s) advanced to ``now``: the snapshot says how old the data is as of generated_at
        kept = {"freshness": self._fresh, **self._live}
        kept = {k: aged({k: v}, max((now - self._computed_at[k]).total_seconds(), 0.0))[k]
                for k, v in kept.items()}
        sections = {d.name: {**kept[d.name], **self._slow.get(d.name, {})} for d in self.domains}
        snapshot: dict[str, Any] = {
            "version": 0,
            "generated_at": now.astimezone(self.zone).isoformat(timespec="milliseconds"),
            "stale": False,
            "freshness": kept["freshness"],
            **sections,
        }
        snapshot["backup"] = self.backups.section(now) if self.backups is not None else {**BACKUPS_OFF}
        snapshot["shipping"] = (self.backups.shipping_section(now) if self.backups is not None
                                else {**SHIPPING_OFF})
        snapshot["alerts"] = self.book.evaluate(snapshot, now, self._baselines)
        if self.notifier is not None:  # cheap: it notes the changes, its own job sends them
            self.notifier.deliver_changes(snapshot["alerts"], now)
        return snapshot

    # -- publishing -------------------------------------------------------------------
    def _publish(self, published: Published) -> None:
        self.feed.put(published)
        if self.redis is not None:
            try:
                pipe = self.redis.pipeline(transaction=False)
                pipe.set(SNAPSHOT_KEY, published.body)
                pipe.publish(SNAPSHOT_CHANNEL, published.body)
                pipe.execute()
            except Exception as exc:  # screens of this process still get it
                log.warning("event=core.publish_failed version=%d error=%r", published.version,
                            str(exc)[:200])

    def _mark_stale(self, now: datetime, exc: Exception) -> Published | None:
        last = self.feed.current()
        if last is None or self._stale:
            return last
        try:
            version = self._next_version()
        except Exception:  # no store and no Redis: keep the version, still say it is stale
            version = last.version
        data = {**last.data, "version": version, "stale": True,
                "stale_since": now.astimezone(self.zone).isoformat(timespec="seconds"),
                "store_error": str(exc)[:300]}
        published = Published.of(data)
        self._publish(published)
        self._stale = True
        return published

    def _record(self, now: datetime, published: Published) -> None:
        """Keep the first snapshot of each minute, and every one whose alerts changed."""
        if not self.keep_history:
            return
        minute = now.strftime("%Y-%m-%dT%H:%M")
        active = tuple(sorted(a["id"] for a in published.data.get("alerts", ())))
        reason = ("minute" if minute != self._recorded_minute
                  else "alerts" if active != self._recorded_alerts else None)
        if reason is None:
            return
        try:
            history.record(self.store, now, published.version, reason, len(active), published.body)
        except Exception as exc:
            log.warning("event=core.history_failed error=%r", str(exc)[:200])
            return
        self._recorded_minute, self._recorded_alerts = minute, active

    # -- scheduling -------------------------------------------------------------------
    def schedule(self, scheduler: Any) -> None:
        """Start the core's work: with the commit trigger its own thread (which stops when
        ``scheduler`` shuts down, if one is given); with the tick trigger, jobs of an
        APScheduler scheduler (before or after it starts).

        ``max_instances=1`` with ``coalesce``: a run that is still busy when the next is due
        makes APScheduler skip that one (counted in ``stats.skipped``), so ticks never queue.
        """
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES

        if self.backups is not None and scheduler is not None:
            self.backups.schedule(scheduler)
        if self.notifier is not None:
            self.notifier.schedule(scheduler)
        if self.trigger is not None:
            trigger = self.trigger.start()
            if scheduler is not None:  # the trigger stops with the scheduler, like the jobs would
                from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN

                scheduler.add_listener(lambda _event: trigger.stop(), EVENT_SCHEDULER_SHUTDOWN)
            return

        def skipped(event: Any) -> None:
            self.stats.skipped += 1
            log.info("event=core.tick_skipped job=%s", event.job_id)

        logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        scheduler.add_listener(skipped, EVENT_JOB_MAX_INSTANCES)
        common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        scheduler.add_job(self.tick, "interval", seconds=self.tick_s, id="core-tick", **common)
        scheduler.add_job(self.slow_tick, "interval", seconds=SLOW_EVERY_S, id="core-slow", **common)
        scheduler.add_job(self.baseline_tick, "interval", seconds=BASELINES_EVERY_S,
                          id="core-baselines", **common)

    def warm(self) -> Published | None:
        """Everything once, synchronously: the first page served already has figures."""
        if self.trigger is not None:
            self.trigger.step(datetime.now(UTC))
            return self.feed.current()
        self.baseline_tick()
        self.slow_tick()
        return self.tick()

    def close(self) -> None:
        if self.trigger is not None:
            self.trigger.stop()
        self.leader.release()
        self._pool.shutdown(wait=False)
