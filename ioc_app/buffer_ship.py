"""Shipping the ingest buffer off the machine: every ``IOC_BACKUP_SHIP_S`` seconds the bytes
the write-ahead log gained since the last shipment — whole records only, acknowledged or
about to be — are written, encrypted, to ``<backup dir>/buffer/<stream>/``. A backup holds
the events acknowledged before its cut-off; the shipped buffer holds those after it. When the
server's disk is lost, restoring = the newest backup, then :func:`replay_shipped` puts the
shipped records past the restored log's end back into the log, and the writer stores them
at start (each batch once: the log's offsets name its deduplication tokens).

A shipped chunk is named by the byte range of the stream's log it holds
(``<start>-<end>.chunk``; the log's offsets run on across its segments) and sealed with
AES-256-GCM under a key derived from the current backup key (``IOC_BACKUP_KEY_FILE``, named
in the chunk by its public id), the range as associated data: a chunk moved, cut or sealed
with a key the key file does not hold is refused. The log keeps every segment until it is
shipped (``StreamLog.ship_floor``), so a segment closed and confirmed between two
shipments is never lost to them.

With Redis the buffer is Redis itself: it is kept on another host by Redis replication
(a replica, ``appendonly yes`` there), not by this module (``docs/operations-backup-rpo.md``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest.wal import WriteAheadLog, fsync_dir, records
from ioc_app.settings import Settings

log = logging.getLogger("ioc.backup")

SHIP_DIR = "buffer"
CHUNK = re.compile(r"(\d{20})-(\d{20})\.chunk")
SEAL = b"IOCB1"
NONCE = 12
#: at most this much of one stream in one chunk
MAX_CHUNK = 64 * 1024 * 1024


class ShipError(RuntimeError):
    """A shipped chunk that cannot be read back; the message says which and why."""


def ship_dir(settings: Settings, root: Path | None = None) -> Path:
    return (root or settings.backup_root) / SHIP_DIR


def _subkey(key: bytes) -> bytes:
    """The shipping key of a backup key: never the backup key itself."""
    return hashlib.sha256(b"ioc buffer shipping\0" + key).digest()


@dataclass(frozen=True)
class Sealer:
    """Seals with the current backup key (``IOC_BACKUP_KEY_FILE``); opens with any key of the
    ring, so chunks shipped before a key rotation still open."""

    ring: Any  # ioc_app.backup_crypto.KeyRing

    @classmethod
    def of(cls, settings: Settings, create: bool = True) -> Sealer:
        from ioc_app.backup_crypto import load_keys
        from ioc_app.backup_manifest import BackupError

        try:
            return cls(load_keys(settings, create=create))
        except BackupError as exc:
            raise ShipError(str(exc)) from None

    def seal(self, data: bytes, aad: bytes) -> bytes:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(NONCE)
        kid = self.ring.current_id.encode()
        return SEAL + bytes([len(kid)]) + kid + nonce + AESGCM(_subkey(self.ring.current)).encrypt(
            nonce, data, aad)

    def unseal(self, blob: bytes, aad: bytes, where: Path) -> bytes:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        n = blob[len(SEAL)] if len(blob) > len(SEAL) else 0
        head = len(SEAL) + 1 + n
        if not blob.startswith(SEAL) or not n or len(blob) < head + NONCE + 16:
            raise ShipError(f"{where} is not a shipped buffer chunk (cut short or foreign); move it "
                            f"away and restore without it, accepting the loss of its events")
        kid = blob[len(SEAL) + 1:head].decode("ascii", "replace")
        key = self.ring.find(kid)
        if key is None:
            raise ShipError(f"{where} was sealed with backup key {kid}, which {self.ring.path} does not "
                            f"hold: set IOC_BACKUP_KEY_FILE to the key file kept for these backups")
        try:
            return AESGCM(_subkey(key)).decrypt(blob[head:head + NONCE], blob[head + NONCE:], aad)
        except InvalidTag:
            raise ShipError(f"{where} is damaged or was moved (it does not open with backup key "
                            f"{kid}): restore without it, accepting the loss of its events") from None


def whole_records(data: bytes) -> int:
    """How many leading bytes of ``data`` are whole, intact log records."""
    return max((stop for _, stop, _ in records(data)), default=0)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def chunks(stream_dir: Path) -> list[tuple[int, int, Path]]:
    out = []
    for p in stream_dir.glob("*.chunk") if stream_dir.is_dir() else []:
        m = CHUNK.fullmatch(p.name)
        if m:
            out.append((int(m[1]), int(m[2]), p))
    return sorted(out)


@dataclass
class ShipStats:
    shipments: int = 0
    bytes: int = 0
    failures: int = 0
    last_at: float = 0.0  # time.time() of the last shipment that completed (nothing left behind)


class Shipper:
    """Ships one write-ahead log's new records to ``dest`` (``<backup dir>/buffer``)."""

    def __init__(self, wal: WriteAheadLog, dest: Path, sealer: Sealer, keep_days: int = 14) -> None:
        self.wal = wal
        self.dest = dest
        self.sealer = sealer
        self.keep_days = keep_days
        self.stats = ShipStats(last_at=time.time())  # the backlog's age counts from the start
        self._shipped: dict[str, int] = {}
        self._lock = threading.Lock()
        wal.shipped = True
        for name in wal.names():  # keep every segment until it is shipped
            done = chunks(dest / name)
            self._shipped[name] = done[-1][1] if done else 0
            wal.log(name).ship_floor = self._shipped[name]

    def ship_once(self) -> int:
        """Ship what every stream's log gained; returns the bytes shipped."""
        if not self._lock.acquire(blocking=False):
            return 0
        try:
            total = sum(self._ship(name) for name in self.wal.names())
        except OSError as exc:
            self.stats.failures += 1
            log.warning("event=ship.failed error=%r", str(exc)[:300])
            return 0
        finally:
            self._lock.release()
        self.stats.shipments += 1
        self.stats.bytes += total
        self.stats.last_at = time.time()
        return total

    def _ship(self, name: str) -> int:
        stream = self.wal.log(name)
        out = self.dest / name
        segs = sorted((int(p.stem), p) for p in stream.dir.glob("*.seg"))
        if not segs:
            return 0
        start = self._shipped.get(name)
        if start is None:
            done = chunks(out)
            start = done[-1][1] if done else 0
        local_end = segs[-1][0] + segs[-1][1].stat().st_size
        if start > local_end:  # a new log (a fresh buffer): keep the old chunks apart, start again
            out.rename(out.with_name(f"{name}~{int(time.time())}"))
            log.warning("event=ship.restarted stream=%s shipped=%d log_end=%d", name, start, local_end)
            start = 0
        if start < segs[0][0]:
            if start:
                log.warning("event=ship.gap stream=%s from=%d to=%d", name, start, segs[0][0])
            start = segs[0][0]
        parts: list[bytes] = []
        at = start
        for base, path in segs:
            size = path.stat().st_size
            if base + size <= at or at - start >= MAX_CHUNK:
                continue
            if base > at:  # a gap between segments cannot be in a log: stop at it
                break
            with open(path, "rb") as fh:
                fh.seek(at - base)
                data = fh.read(min(size - (at - base), MAX_CHUNK))
            whole = whole_records(data)
            parts.append(data[:whole])
            at += whole
            if whole < len(data):
                break  # a record being written: the rest next time
        if at == start:
            return 0
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
        blob = self.sealer.seal(b"".join(parts), f"{name}:{start}:{at}".encode())
        _write_atomic(out / f"{start:020d}-{at:020d}.chunk", blob)
        self._shipped[name] = at
        stream.ship_floor = at
        return at - start

    def prune(self, now: datetime | None = None) -> int:
        """Delete chunks older than the backups' retention; returns how many."""
        horizon = (now or datetime.now(UTC)) - timedelta(days=self.keep_days)
        gone = 0
        for name in self.wal.names():
            for _s, _e, path in chunks(self.dest / name)[:-1]:
                if datetime.fromtimestamp(path.stat().st_mtime, UTC) < horizon:
                    path.unlink()
                    gone += 1
        return gone


def start_shipping(settings: Settings, buffer: Any, scheduler: Any) -> Shipper | None:
    """Ship the local write-ahead log every ``IOC_BACKUP_SHIP_S`` (a no-op with Redis as the
    buffer, or with shipping off)."""
    if not settings.backup_ship_s or not isinstance(buffer, WriteAheadLog):
        return None
    shipper = Shipper(buffer, ship_dir(settings), Sealer.of(settings), settings.backup_keep_days)
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    scheduler.add_job(shipper.ship_once, "interval", seconds=settings.backup_ship_s, id="buffer-ship",
                      **common)
    scheduler.add_job(shipper.prune, "interval", hours=1, id="buffer-ship-prune", **common)
    from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN

    # a planned stop ships what came in since the last shipment: nothing is left behind
    scheduler.add_listener(lambda _event: shipper.ship_once(), EVENT_SCHEDULER_SHUTDOWN)
    log.info("event=ship.started dest=%s every_s=%g", shipper.dest, settings.backup_ship_s)
    return shipper


def replay_shipped(settings: Settings, source: Path | None = None, store: Any = None) -> dict[str, int]:
    """After a restore (server stopped): append the shipped records past the end of each
    stream's restored log to that log, so the writer stores them at start. ``source`` is the
    shipped buffer (default ``<backup dir>/buffer``). Returns the bytes added per stream.
    Raises :class:`ShipError` when a chunk does not open (nothing is added then).

    A backup copies the log before the store, so the restored store may already hold the
    first shipped records: with ``store`` (the restored one), the leading records it holds
    are confirmed in the log and not stored twice (the rollups would count them again)."""
    src = source or ship_dir(settings)
    sealer = Sealer.of(settings, create=False)
    wal_dir = settings.wal_dir
    plans: list[tuple[Path, int, bytes]] = []
    added: dict[str, int] = {}
    for stream_src in sorted(p for p in src.glob("*") if p.is_dir() and "~" not in p.name):
        name = stream_src.name
        local = wal_dir / name
        segs = sorted((int(p.stem), p) for p in local.glob("*.seg")) if local.is_dir() else []
        end = segs[-1][0] + segs[-1][1].stat().st_size if segs else _confirmed(local)
        for start, stop, path in chunks(stream_src):
            if stop <= end:
                continue
            data = sealer.unseal(path.read_bytes(), f"{name}:{start}:{stop}".encode(), path)
            if start > end:
                log.warning("event=ship.gap stream=%s from=%d to=%d", name, end, start)
            cut = max(end - start, 0)
            plans.append((local / f"{start + cut:020d}.seg", start + cut, data[cut:]))
            added[name] = added.get(name, 0) + len(data) - cut
            end = stop
    for path, _base, data in plans:  # every chunk opened: only now is anything written
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_atomic(path, data)
    for name, n in added.items():
        log.info("event=ship.replayed stream=%s bytes=%d", name, n)
    if store is not None and added:
        from ioc_app.backup_files import reconcile_wal

        reconcile_wal(store, wal_dir)
    return added


def _confirmed(stream_dir: Path) -> int:
    import json

    try:
        return int(json.loads((stream_dir / "checkpoint.json").read_text())["confirmed"])
    except (FileNotFoundError, KeyError, ValueError):
        return 0


def cmd_restore_buffer(settings: Settings, args: Any) -> int:
    """``restore-buffer``: after ``restore --from``, put back the events shipped after that
    backup (the server stopped)."""
    import sys

    from ingest.wal import WalBusy

    source = Path(args.from_dir).expanduser() if args.from_dir else ship_dir(settings)
    if not source.is_dir():
        print(f"ioc: no shipped buffer in {source}: give --from <backup dir>/{SHIP_DIR}", file=sys.stderr)
        return 1
    from ioc_app.storage import Store, StoreError

    try:
        WriteAheadLog(settings.wal_dir).close()  # refuses while the server owns the buffer
        store = Store(settings.clickhouse_url, cluster=settings.clickhouse_cluster)
        try:
            added = replay_shipped(settings, source, store)
        finally:
            store.close()
    except (ShipError, WalBusy, StoreError) as exc:
        print(f"ioc: {exc}", file=sys.stderr)
        return 1
    total = sum(added.values())
    print(f"added {total:,} bytes of shipped events to the buffer in {settings.wal_dir} "
          f"({len(added)} streams); the server stores them when it starts")
    return 0


def add_parsers(sub: Any) -> None:
    rb = sub.add_parser("restore-buffer", help="after restore: put back the events shipped after that "
                                               "backup (server stopped); see docs/operations-backup-rpo.md")
    rb.add_argument("--from", dest="from_dir", metavar="DIR",
                    help=f"the shipped buffer (default <IOC_BACKUP_DIR>/{SHIP_DIR})")
    rb.set_defaults(func=cmd_restore_buffer)
