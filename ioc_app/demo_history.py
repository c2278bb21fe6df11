"""Demo mode's past, filled in the background while the server already serves.

The simulators of every campus system are deterministic, so the demo campus can have lived
the last weeks, the same week last year and the previous admission seasons
(``ingest.sim.history.plan``). A generator process at the lowest CPU priority produces those
events; a thread of the server, itself at the lowest priority, puts them through the real
ingest path — ``Pipeline.submit``: validation, dead letters, exactly-once dedup, the
write-ahead log and the writer into the raw tables and rollups, as events from campus systems
go. Pages come first: the thread waits while web requests are being answered (up to
``YIELD_MAX_S`` a batch) and while the buffer holds more than ``MAX_BACKLOG`` events, so live
events never queue behind history.

Restarts do not double the past. A marker file beside the store records each part once it is
durable, and the spans of sending time the live feed has sent; a restart fills only what is
missing. What a crash interrupted is sent again, and the ingest path drops what it already
took (event ids are the simulators', the same every time; the seen-set covers 7 days).

When the fill ends the core recomputes the slow figures (comparisons, trends) and the anomaly
baselines at once, so every comparison shows the filled past without waiting for its clock.
Progress: :meth:`Progress.state` (``/health``, ``/readyz``) and ``event=demo.history`` log lines.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ingest.pipeline import Backpressure, Pipeline
from ingest.registry import get_stream
from ingest.sim.history import SEASON_DOMAIN, Part, job, read_message

if TYPE_CHECKING:
    from ingest.site import Site
    from ioc_app.core import SnapshotCore
    from ioc_app.runtime import InFlight
    from ioc_app.settings import Settings
    from ioc_app.storage import Store

log = logging.getLogger("ioc.demo")

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "demo"
#: the fill waits while the ingest buffer holds more events than this (live ones go first)
MAX_BACKLOG = 150_000
#: a batch waits at most this long for the web requests in flight before it goes in anyway
YIELD_MAX_S = 0.5
LOG_EVERY_S = 5.0
#: the writer's backlog of the fill's last batches is written within this long, or the end is
#: announced anyway (the figures catch up when the writer does)
DRAIN_S = 300.0
#: expected events per hour of sending time, before the fill has measured its own (scale 1):
#: a campus day ~110 k, an admission season ~45 k over its 92 days
EXPECTED_PER_H = {"day": 4_500.0, "season": 20.0}


def marker_path(wal_dir: Path) -> Path:
    """The marker lives beside the store and its write-ahead log (``var/clickhouse-demo-history.json``)."""
    return wal_dir.with_name(wal_dir.name.removesuffix("-wal") + "-demo-history.json")


class Marker:
    """What of the past the store already holds: the parts filled (with their events) and
    the spans ``[start_ms, end_ms)`` of sending time the live feed sent, one per run.

    A JSON file, replaced whole on each change; it names the store's identity
    (``Store.identity``), so a wiped store is filled again."""

    def __init__(self, path: Path, identity: str) -> None:
        self.path = path
        self.identity = identity
        self._lock = threading.Lock()
        data = self._read()
        self.parts: dict[str, int] = {str(k): int(v) for k, v in data.get("parts", {}).items()}
        self.live: list[list[int]] = [[int(a), int(b)] for a, b in data.get("live", [])]

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("event=demo.history_marker_unreadable path=%s error=%r", self.path, str(exc)[:200])
            return {}
        if not isinstance(data, dict) or data.get("store") != self.identity:
            log.info("event=demo.history_marker_reset path=%s reason=another_store", self.path)
            return {}
        return data

    def _save(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"store": self.identity, "parts": self.parts, "live": self.live}))
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def done(self, part: str, events: int) -> None:
        with self._lock:
            self.parts[part] = events
            self._save()

    def sent_live(self, start_ms: int, end_ms: int) -> None:
        """The live feed has sent ``[start_ms, end_ms)`` (a run extends its own span)."""
        with self._lock:
            if self.live and self.live[-1][0] == start_ms:
                if end_ms <= self.live[-1][1]:
                    return
                self.live[-1][1] = end_ms
            else:
                self.live.append([start_ms, end_ms])
                self.live = self.live[-200:]
            self._save()

    def missing(self, part: Part) -> Part | None:
        """What of ``part`` is still to be sent: none when it was filled, else the part from
        the end of the live feed's spans that cover its start (the feed always starts a run at
        a local midnight, so a day is sent by it from its start, if at all)."""
        if part.name in self.parts:
            return None
        start = part.start_ms
        for a, b in sorted(self.live):
            if a <= start < b:
                start = b
        if start >= part.end_ms:
            return None
        return Part(part.name, start, part.end_ms, part.only)


class Progress:
    """The fill's progress, read by ``/health`` and ``/readyz`` while it runs."""

    def __init__(self, scale: float = 1.0) -> None:
        self._lock = threading.Lock()
        self.phase = "waiting"  # waiting, filling, finishing, done, failed
        self.parts_total = self.parts_done = 0
        self.events = self.duplicates = self.rejected = 0
        self.started = self.finished = 0.0
        self.error = ""
        self._scale = scale
        self._todo: list[Part] = []
        self._measured: dict[str, tuple[int, float]] = {}  # kind → (events, hours) of parts done
        self._current = 0  # accepted events of the part under way

    @staticmethod
    def kind(part: Part) -> str:
        return "season" if part.only == (SEASON_DOMAIN,) else "day"

    def _per_h(self, kind: str) -> float:
        events, hours = self._measured.get(kind, (0, 0.0))
        return events / hours if hours > 0 else EXPECTED_PER_H[kind] * self._scale

    def begin(self, todo: list[Part]) -> None:
        with self._lock:
            self.phase, self._todo = "filling", list(todo)
            self.parts_total, self.started = len(todo), time.time()

    def add(self, accepted: int, duplicates: int, rejected: int) -> None:
        with self._lock:
            self.events += accepted
            self.duplicates += duplicates
            self.rejected += rejected
            self._current += accepted + duplicates

    def part_done(self, part: Part) -> int:
        """The part is durable: returns its events (accepted or already there)."""
        with self._lock:
            kind = self.kind(part)
            events, hours = self._measured.get(kind, (0, 0.0))
            self._measured[kind] = (events + self._current, hours + part.hours)
            self._todo = [p for p in self._todo if p.name != part.name]
            self.parts_done += 1
            n, self._current = self._current, 0
            return n

    def end(self, phase: str, error: str = "") -> None:
        with self._lock:
            self.phase, self.error = phase, error
            if phase in ("done", "failed"):
                self.finished = time.time()

    def state(self) -> dict[str, Any]:
        """``{phase, pct, events, total, duplicates, rejected, parts_done, parts_total,
        elapsed_s, rate, eta_s}``: ``total`` is an estimate (the parts still to come at the
        rate of those done, of their kind) until the fill ends."""
        with self._lock:
            ahead = sum(p.hours * self._per_h(self.kind(p)) for p in self._todo)
            handled = self.events + self.duplicates
            remaining = max(ahead - self._current, 0.0) if self.phase == "filling" else 0.0
            total = handled + remaining
            end = self.finished or time.time()
            elapsed = end - self.started if self.started else 0.0
            rate = handled / elapsed if elapsed > 0 else 0.0
            done = self.phase == "done"
            return {
                "phase": self.phase,
                "pct": 100.0 if done else round(100.0 * handled / total, 1) if total else 0.0,
                "events": self.events, "total": int(total), "duplicates": self.duplicates,
                "rejected": self.rejected, "parts_done": self.parts_done, "parts_total": self.parts_total,
                "elapsed_s": round(elapsed, 1), "rate": round(rate),
                "eta_s": 0 if done or self.phase != "filling" else
                (round(remaining / rate) if rate > 0 else None),
                "error": self.error,
            }


def lower_priority() -> None:
    """The calling thread (Linux: a thread is scheduled on its own) at the lowest priority."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (OSError, AttributeError):  # not allowed, or not Linux: keep the priority given
        pass


class HistoryFill:
    """Fills ``parts`` of the past through ``pipeline`` (see the module docstring).

    ``world`` = (site file, zone name, seed, scale) of the generator (``pseudonym_key`` the
    key of its candidates' pseudonyms: the site key); ``busy`` counts the web
    requests in flight; ``on_done`` runs once the fill is written (the core's recompute)."""

    def __init__(self, pipeline: Pipeline[Any], world: tuple[str, str, int, float], parts: list[Part],
                 marker: Marker, *, busy: Callable[[], int] = lambda: 0,
                 on_done: Callable[[], None] | None = None, pseudonym_key: bytes | None = None) -> None:
        self.pipeline = pipeline
        self.world = world
        self.pseudonym_key = pseudonym_key
        self.parts = parts
        self.marker = marker
        self.busy = busy
        self.on_done = on_done
        self.progress = Progress(world[3])
        self._stop = threading.Event()
        self._child: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> HistoryFill:
        self._thread = threading.Thread(target=self.run, name="ioc-demo-history", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        child = self._child
        if child is not None and child.poll() is None:
            child.kill()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Until the fill has ended (done or failed); False on timeout."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def run(self) -> None:
        lower_priority()
        try:
            self._fill()
        except Exception as exc:  # the demo keeps serving; the log and /health say what happened
            if self._stop.is_set():  # the generator was killed mid-message by the stop
                self.progress.end("stopped")
                log.info("event=demo.history phase=stopped parts_done=%d", self.progress.parts_done)
                return
            self.progress.end("failed", str(exc)[:300])
            log.exception("event=demo.history phase=failed")

    def _fill(self) -> None:
        todo = [m for p in self.parts if (m := self.marker.missing(p)) is not None]
        self.progress.begin(todo)
        log.info("event=demo.history phase=start parts=%d filled_before=%d", len(todo),
                 len(self.parts) - len(todo))
        if not todo:
            self.progress.end("done")
            return
        self._generate(todo)
        if self._stop.is_set():
            self.progress.end("stopped")
            log.info("event=demo.history phase=stopped parts_done=%d", self.progress.parts_done)
            return
        self.progress.end("finishing")
        deadline = time.monotonic() + DRAIN_S
        while self.pipeline.buffer.depth > 0 and time.monotonic() < deadline and not self._stop.is_set():
            time.sleep(0.1)
        if self.on_done is not None:
            self.on_done()
        self.progress.end("done")
        s = self.progress.state()
        load = os.getloadavg()
        log.info("event=demo.history phase=done events=%d duplicates=%d rejected=%d seconds=%.1f "
                 "rate=%d load=%.2f,%.2f,%.2f", s["events"], s["duplicates"], s["rejected"],
                 s["elapsed_s"], s["rate"], *load)

    def _generate(self, todo: list[Part]) -> None:
        site, tz, seed, scale = self.world
        from zoneinfo import ZoneInfo

        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
        self._child = child = subprocess.Popen(
            [sys.executable, "-m", "ingest.sim.history"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            cwd=ROOT, env=env)
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(job(site, ZoneInfo(tz), seed, scale, todo, pseudonym_key=self.pseudonym_key))
        child.stdin.close()
        by_name = {p.name: p for p in todo}
        last_log = time.monotonic()
        try:
            while not self._stop.is_set():
                message = read_message(child.stdout)
                if message is None and self._stop.is_set():
                    break  # stopped with the server: the next start goes on from the marker
                if message is None:
                    raise RuntimeError(f"the history generator stopped early (exit {child.wait()})")
                head, payload = message
                if head["kind"] == "end":
                    break
                if head["kind"] == "part":
                    part = by_name[head["part"]]
                    self.marker.done(part.name, self.progress.part_done(part))
                    self._log(part.name)
                    last_log = time.monotonic()
                    continue
                self._submit(head["stream"], pl.read_ipc(payload))
                if time.monotonic() - last_log >= LOG_EVERY_S:
                    self._log(head["part"])
                    last_log = time.monotonic()
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            child.stdout.close()

    def _submit(self, stream: str, frame: pl.DataFrame) -> None:
        """One batch through the ingest path, after the requests in flight and once the
        buffer has room (the live feed's events are never queued behind history)."""
        waited = 0.0
        while self.busy() > 0 and waited < YIELD_MAX_S:
            time.sleep(0.01)
            waited += 0.01
        while self.pipeline.buffer.depth > MAX_BACKLOG and not self._stop.is_set():
            time.sleep(0.05)
        while True:
            try:
                receipt = self.pipeline.submit(get_stream(stream), frame, source=SOURCE)
                break
            except Backpressure as exc:
                if self._stop.wait(exc.retry_after):
                    return
        self.progress.add(receipt.accepted, receipt.duplicates, receipt.rejected)

    def _log(self, part: str) -> None:
        s = self.progress.state()
        log.info("event=demo.history phase=%s part=%s done=%d total=%d pct=%.1f rate=%d eta_s=%s",
                 s["phase"], part, s["events"] + s["duplicates"], s["total"], s["pct"], s["rate"],
                 s["eta_s"])


def recompute(core: Any) -> Callable[[], None]:
    """What the core does once the past is in: the slow figures (comparisons, trends), the
    anomaly baselines and a new snapshot now, not at their next turn."""
    def run() -> None:
        now = datetime.now(UTC)
        core.baseline_tick(now)
        core.slow_tick(now)
        core.refresh(now)
        log.info("event=demo.history phase=recomputed")
    return run


def start_demo(settings: Settings, site: Site, store: Store, pipeline: Pipeline[Any],
               core: SnapshotCore | None, scheduler: Any, in_flight: InFlight) -> HistoryFill | None:
    """Demo mode in the process that owns the store: the live feed on ``scheduler`` (its first
    run sends today so far) and the history fill, which the caller starts once the app is
    built (start-up comes first); the fill stops when the scheduler shuts down."""
    from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN

    from ingest.sim import World
    from ingest.sim.history import plan
    from ioc_app.demo_feed import DemoFeed
    from ioc_app.secret import site_key

    world = World(site, settings.zone, pseudonym_key=site_key(settings))
    marker = Marker(marker_path(settings.wal_dir), store.identity())
    feed = DemoFeed(pipeline, world, marker)
    # the first tick, 5 s after the scheduler starts, sends today so far (a few seconds of work
    # by evening) while the server already answers; the next ticks return at once while it
    # runs (the feed's lock; a second instance is allowed so the scheduler does not warn of a
    # skipped run). No ``next_run_time=None``: APScheduler reads that as "add the job paused"
    scheduler.add_job(feed.tick, "interval", seconds=5, id="demo-feed", max_instances=2, coalesce=True)
    parts = plan(settings.zone, datetime.now(UTC), settings.demo_history_days,
                 settings.demo_history_seasons)
    if not parts:  # IOC_DEMO_HISTORY_DAYS=0: no past, and no row on /health
        return None
    fill = HistoryFill(pipeline, (settings.site, settings.tz, world.seed, world.scale), parts, marker,
                       busy=lambda: in_flight.count,
                       on_done=recompute(core) if core is not None else None,
                       pseudonym_key=world.pseudonym_key)
    scheduler.add_listener(lambda _event: fill.stop(), EVENT_SCHEDULER_SHUTDOWN)
    return fill
