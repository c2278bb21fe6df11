"""Scheduled backups: the core's leader takes one every ``IOC_BACKUP_EVERY_MIN`` minutes —
a full one every ``IOC_BACKUP_FULL_EVERY_H`` hours, incremental ones on the newest backup in
between — and prunes what is older than ``IOC_BACKUP_KEEP_DAYS``, never a backup that a kept
one builds on (restoring an incremental needs its whole chain down to a full one).

While it runs the process's writer pauses (``Writer.paused``): ClickHouse backs the tables up
one after another, and a batch inserted in between would be in a raw table and missing from
its rollups after a restore. Only one backup runs at a time: the job is skipped while the
previous run is busy (the scheduler's ``max_instances=1``), and a lock file in the backup
directory keeps a second process (another scheduler) from starting one beside it. Only the
leader backs up, so a scaled deployment's several ``scheduler`` processes take one backup.

The newest good backup is shown on ``/health`` and watched by the ``backup_stale`` alert: the
core puts :meth:`BackupSchedule.section` into the snapshot (``backup``), stale when that
backup is older than twice the cadence.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ioc_app.settings import Settings

log = logging.getLogger("ioc.backup")

#: how often the job looks whether a backup is due (the cadence itself is in minutes)
CHECK_EVERY_S = 60.0
LOCK_NAME = ".backup.lock"
#: the snapshot's ``backup`` section where no scheduled backups run
NO_BACKUP: dict[str, Any] = {"id": None, "kind": None, "at": None, "cutoff": None, "size_bytes": None}
#: the ``shipping`` section where the buffer is not shipped (Redis, or ``IOC_BACKUP_SHIP_S=0``)
SHIPPING_OFF: dict[str, Any] = {"enabled": False, "lag_s": None, "stale": False, "stale_after_s": None}
#: a shipment older than this breaks the RPO of one minute: ``buffer_ship_stale``
SHIP_STALE_S = 60
BACKUPS_OFF: dict[str, Any] = {"enabled": False, "last_good": NO_BACKUP, "lag_s": None, "stale": False,
                               "stale_after_s": None, "error": None}


class BackupBusy(RuntimeError):
    """Another backup is running (in this process or another one)."""


@contextmanager
def exclusive(root: Path) -> Iterator[None]:
    """Hold the backup directory's lock, or raise :class:`BackupBusy` at once."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupBusy(f"another backup into {root} is running; wait for it to end") from None
        yield
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Policy:
    """When to back up, and what to keep."""

    every_min: int = 60
    full_every_h: int = 24
    keep_days: int = 14

    @property
    def enabled(self) -> bool:
        return self.every_min > 0

    @property
    def stale_after_s(self) -> int | None:
        """The age past which the newest good backup raises ``backup_stale``: two cadences
        (one missed run is tolerated; two are news)."""
        return 2 * 60 * self.every_min if self.enabled else None

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        return cls(settings.backup_every_min, settings.backup_full_every_h, settings.backup_keep_days)


def plan(manifests: list[Any], now: datetime, policy: Policy) -> tuple[str, Any | None] | None:
    """What to take at ``now``: ``("full", None)``, ``("incremental", base manifest)``, or
    None when the newest backup is younger than the cadence. ``manifests`` newest last."""
    if not manifests:
        return ("full", None)
    newest = manifests[-1]
    if now - newest.created_at < timedelta(minutes=policy.every_min):
        return None
    fulls = [m for m in manifests if m.kind == "full"]
    if not fulls or now - fulls[-1].created_at >= timedelta(hours=policy.full_every_h):
        return ("full", None)
    return ("incremental", newest)


def to_prune(manifests: list[Any], now: datetime, policy: Policy) -> list[Any]:
    """The backups older than the retention, except the newest one (always kept, however
    old) and every backup a kept one builds on, down its chain to the full one."""
    if not manifests:
        return []
    horizon = now - timedelta(days=policy.keep_days)
    kept = [m for m in manifests if m.created_at >= horizon] or [manifests[-1]]
    if manifests[-1] not in kept:
        kept.append(manifests[-1])
    by_id = {m.id: m for m in manifests}
    needed = {m.id for m in kept}
    for m in kept:
        base = m.base_id
        while base and base in by_id and base not in needed:
            needed.add(base)
            base = by_id[base].base_id
        # a base already needed has its own chain marked
    return [m for m in manifests if m.id not in needed]


def where(root: Path, manifest: Any) -> Path:
    """A listed backup's directory."""
    path = getattr(manifest, "path", None)
    return Path(path) if path else root / manifest.id


def size_of(manifest: Any) -> int:
    """The backup's size in bytes, from its manifest."""
    sizes = getattr(manifest, "sizes", None) or {}
    return int(sum(v for v in sizes.values() if isinstance(v, int | float)))


class BackupSchedule:
    """The scheduled backup job, its retention, and the newest good backup for the snapshot."""

    def __init__(self, settings: Settings, leader: Any, *, store: Any = None, root: Path | None = None,
                 policy: Policy | None = None) -> None:
        self.settings = settings
        self.leader = leader
        self.store = store  # the process's own store (the embedded engine opens once per process)
        #: the process's writer (``ingest.writer.Writer``), paused while a backup runs so the
        #: store's tables stand still; None where no writer runs in this process
        self.writer: Any = None
        #: the buffer's shipper (``ioc_app.buffer_ship.Shipper``) where this process ships it
        self.shipper: Any = None
        self.root = root or settings.backup_root
        self.policy = policy or Policy.of(settings)
        self.started = time.time()
        self.last_error: str | None = None
        self._newest: Any = None
        self._lock = threading.Lock()

    # -- the job ----------------------------------------------------------------------
    def run(self, now: datetime | None = None) -> Any | None:
        """Take the backup due at ``now`` and prune (if this process leads and one is due);
        returns its manifest, or None when nothing was due or another run is busy."""
        if not self.policy.enabled or not (self.leader.held or self.leader.hold()):
            return None
        self.refresh()
        if not self._lock.acquire(blocking=False):
            log.info("event=backup.skipped reason=running")
            return None
        try:
            return self._run(now or datetime.now(UTC))
        finally:
            self._lock.release()

    def _run(self, now: datetime) -> Any | None:
        from ioc_app.backup import BackupError, list_backups, take_backup

        try:
            with exclusive(self.root):
                manifests = list_backups(self.root)
                step = plan(manifests, now, self.policy)
                if step is None:
                    return None
                kind, base = step
                started = time.perf_counter()
                dest = self.root / now.astimezone(UTC).strftime(f"%Y%m%dT%H%M%SZ-{kind}")
                on = None if base is None else where(self.root, base)
                with self.writer.paused() if self.writer is not None else nullcontext():
                    manifest = take_backup(self.settings, dest, base=on, now=now, store=self.store)
                log.info("event=backup.scheduled id=%s kind=%s bytes=%d ms=%.0f", manifest.id, manifest.kind,
                         size_of(manifest), (time.perf_counter() - started) * 1e3)
                self._newest, self.last_error = manifest, None
                self.prune(now)
                return manifest
        except BackupBusy as exc:
            log.info("event=backup.skipped reason=busy detail=%r", str(exc))
            return None
        except (BackupError, OSError) as exc:
            self.last_error = str(exc)[:300]
            log.warning("event=backup.failed error=%r", self.last_error)
            return None

    def prune(self, now: datetime) -> list[str]:
        """Delete the backups the retention no longer keeps; returns their ids."""
        from ioc_app.backup import list_backups

        gone = []
        for m in to_prune(list_backups(self.root), now, self.policy):
            path = where(self.root, m)
            if path.is_dir() and path.resolve().parent == self.root.resolve():
                shutil.rmtree(path)
                gone.append(m.id)
                log.info("event=backup.pruned id=%s kind=%s created_at=%s", m.id, m.kind,
                         m.created_at.isoformat())
        if gone:  # deleting backups is a change to the installation: one audit row per pruning
            from ioc_app.audit import command_audit

            command_audit(self.settings).record(
                "backup.prune", object=gone[-1], result="ok", actor="scheduler", actor_kind="system",
                detail={"deleted": gone, "keep_days": self.policy.keep_days})
        return gone

    def schedule(self, scheduler: Any) -> None:
        """Check every minute whether a backup is due (no-op with the schedule off)."""
        if not self.policy.enabled:
            log.info("event=backup.schedule_off")
            return
        scheduler.add_job(self.refresh, id="backup-status")  # once, at the start
        scheduler.add_job(self.run, "interval", seconds=CHECK_EVERY_S, id="backup",
                          max_instances=1, coalesce=True, misfire_grace_time=None,
                          next_run_time=datetime.now(UTC) + timedelta(seconds=CHECK_EVERY_S))

    # -- the snapshot's ``backup`` section --------------------------------------------
    def refresh(self) -> Any | None:
        """Read the newest good backup from the backup directory (the job does this every
        minute, in its own thread: a slow or hung mount never holds up the snapshot)."""
        try:
            from ioc_app.backup import list_backups

            found = list_backups(self.root) if self.root.is_dir() else []
            self._newest = found[-1] if found else None
        except Exception as exc:  # a backup directory out of reach: say so, keep the last
            log.warning("event=backup.status_unknown error=%r", str(exc)[:200])
        return self._newest

    def newest(self) -> Any | None:
        """The newest good backup as last read (no file is read here: the core calls this)."""
        return self._newest

    def section(self, now: datetime) -> dict[str, Any]:
        """``{enabled, last_good, lag_s, stale, stale_after_s, error}`` as of ``now``:
        ``last_good`` is ``{id, kind, at, cutoff, size_bytes}`` (all None without one), ``lag_s`` its age
        (from its cut-off: what a restore would lose)."""
        newest = self.newest()
        limit = self.policy.stale_after_s
        last = dict(NO_BACKUP)
        lag = None
        if newest is not None:
            cutoff = newest.cutoff
            last = {"id": newest.id, "kind": newest.kind, "at": newest.created_at.isoformat(),
                    "cutoff": cutoff.isoformat(), "size_bytes": size_of(newest)}
            lag = round(max((now - cutoff).total_seconds(), 0.0), 3)
        never_for = now.timestamp() - self.started
        stale = limit is not None and (lag > limit if lag is not None else never_for > limit)
        return {"enabled": self.policy.enabled, "last_good": last, "lag_s": lag, "stale": stale,
                "stale_after_s": limit, "error": self.last_error}

    def shipping_section(self, now: datetime) -> dict[str, Any]:
        """``{enabled, lag_s, stale, stale_after_s}``: seconds since the buffer was last
        shipped whole (or since shipping started), stale past ``SHIP_STALE_S`` — then events
        acknowledged since are on this server's disk only, and the RPO is broken."""
        if self.shipper is None:
            return {**SHIPPING_OFF}
        lag = round(max(now.timestamp() - self.shipper.stats.last_at, 0.0), 3)
        return {"enabled": True, "lag_s": lag, "stale": lag > SHIP_STALE_S, "stale_after_s": SHIP_STALE_S}
