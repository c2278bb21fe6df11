"""Restoring a backup over an installation, with the server stopped.

Everything is verified first (``ioc_app.backup_verify``); a refusal changes nothing. The
store is rebuilt by ClickHouse's ``RESTORE`` in a fresh directory beside the old one, the
buffer beside the old buffer; the buffer's batches the restored store already holds are
confirmed (``ioc_app.backup_files``); only then are they swapped in, and the files put
back. What a restore replaces is kept aside (``<name>.before-restore-<time>``), never
deleted, so a failure half-way leaves the installation as it was.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from ioc_app.backup_crypto import decrypt_file, load_keys
from ioc_app.backup_files import (
    REDIS_DUMP,
    WAL,
    push_redis,
    reconcile_wal,
    redis_busy,
    redis_to_load,
    replace_file,
    target_of,
)
from ioc_app.backup_manifest import BackupError, Manifest
from ioc_app.backup_verify import chain_of, key_of, record
from ioc_app.settings import Settings
from ioc_app.storage import StoreError

log = logging.getLogger("ioc.backup")


def _store_path(settings: Settings) -> Path:
    return Path(settings.clickhouse_url[len("chdb://"):]).expanduser().resolve()


def _hold(lock_file: Path, what: str) -> int | None:
    """Hold the owner lock of the store or the buffer, refusing when a process owns it."""
    if not lock_file.exists():
        return None
    fd = os.open(lock_file, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        owner = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "another process"
        os.close(fd)
        raise BackupError(f"{what} is in use by {owner}: stop the server (and every IOC command) "
                          f"first, then run restore again") from None
    return fd


def restore_backup(settings: Settings, src: Path, *, audit: Any = None) -> Manifest:
    """Restore the backup in ``src`` over this installation; the server must be stopped.

    Everything is verified first; a refusal changes nothing. The store is rebuilt beside
    the old one and swapped in at the end; what it replaces is kept aside
    (``<name>.before-restore-<time>``). Run it in a process that has opened no other
    embedded store (the ``restore`` command): the engine opens one path per process."""
    src = Path(src).expanduser().resolve()
    try:
        ring = load_keys(settings, create=False)
        chain = chain_of(settings, src, ring)
    except BackupError as exc:
        record(settings, audit, "backup.restore", src.name, "refused", {"reason": str(exc)[:300]})
        raise
    m = chain[-1]
    locks = []
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    try:
        if settings.embedded:
            target = _store_path(settings)
            locks.append(_hold(target / "ioc-owner.lock", f"the store {target}"))
        locks.append(_hold(settings.wal_dir / "owner.lock", f"the ingest buffer {settings.wal_dir}"))
        if m.store == "embedded" and not settings.embedded:
            raise BackupError(f"backup {m.id} holds an embedded store, and IOC_CLICKHOUSE_URL names a "
                              f"server: restore it with IOC_CLICKHOUSE_URL=chdb://<path>")
        if m.store == "server" and settings.embedded:
            raise BackupError(f"backup {m.id} was taken with a ClickHouse server's store, which is not in "
                              f"it: set IOC_CLICKHOUSE_URL to that server (its store restored there first)")
        _restore(settings, chain, ring, stamp)
    except BackupError as exc:
        record(settings, audit, "backup.restore", m.id, "refused", {"reason": str(exc)[:300]})
        raise
    except StoreError as exc:  # the engine failed before the swap: the old store is intact
        record(settings, audit, "backup.restore", m.id, "failed", {"reason": str(exc)[:300]})
        raise BackupError(f"the restore of {m.id} failed ({exc}); what it would replace is kept, in "
                          f"place or as *.before-restore-*: see the log, and try again") from exc
    finally:
        for fd in locks:
            if fd is not None:
                os.close(fd)
    record(settings, audit, "backup.restore", m.id, "ok",
           {"kind": m.kind, "chain": [c.id for c in chain], "cutoff": m.cutoff.isoformat()})
    log.info("event=backup.restored id=%s kind=%s chain=%d", m.id, m.kind, len(chain))
    return replace(m, path=src)


def _restore(settings: Settings, chain: list[Manifest], ring: Any, stamp: str) -> None:
    from ioc_app.storage import backup_work_dir

    m = chain[-1]
    target = _store_path(settings) if settings.embedded else None
    fresh = target.with_name(f"{target.name}.restoring") if target is not None else None
    work = backup_work_dir(fresh) if fresh is not None else settings.var_dir / "backup-work"
    wal_fresh = settings.wal_dir.with_name(f"{settings.wal_dir.name}.restoring")
    for leftover in (fresh, work, wal_fresh):  # from an attempt that failed half-way
        if leftover is not None:
            shutil.rmtree(leftover, ignore_errors=True)
    plain = work / f"{m.id}.files"
    try:
        for c in chain if m.store == "embedded" else []:
            assert c.path is not None
            for rel in c.files:
                if rel.startswith("store/"):
                    decrypt_file(key_of(ring, c), f"{c.id}/{rel}", c.path / rel, work / c.id / rel[6:])
        assert m.path is not None
        for rel in m.files:
            if not rel.startswith("store/"):
                decrypt_file(key_of(ring, m), f"{m.id}/{rel}", m.path / rel, plain / rel)
        redis = _redis_ready(settings, m)
        store: Any = None
        if fresh is not None and m.store == "embedded":
            from ioc_app.storage import Store

            store = Store(f"chdb://{fresh}")
            store.restore_database(m.id, m.database)
        # the buffer's batches are judged against the restored store (a server's: restored there)
        judge = store
        if judge is None and not settings.embedded:
            from ioc_app.storage import Store

            judge = Store(settings.clickhouse_url, cluster=settings.clickhouse_cluster)
        entries: list[dict[str, Any]] = []
        if redis is not None:
            entries = redis_to_load(judge, plain / REDIS_DUMP)
        if m.buffer == "wal":  # the backup's log replaces this one's, even when it was empty
            if (plain / WAL).is_dir():
                shutil.copytree(plain / WAL, wal_fresh)
            wal_fresh.mkdir(mode=0o700, exist_ok=True)
            if judge is not None:
                reconcile_wal(judge, wal_fresh)
        if judge is not None:
            judge.close()
        # everything is ready: swap it in, keeping what it replaces
        if fresh is not None and target is not None and store is not None:
            if target.exists():
                os.rename(target, target.with_name(f"{target.name}.before-restore-{stamp}"))
            os.rename(fresh, target)
        if wal_fresh.exists():
            if settings.wal_dir.exists():
                os.rename(settings.wal_dir, settings.wal_dir.with_name(
                    f"{settings.wal_dir.name}.before-restore-{stamp}"))
            os.rename(wal_fresh, settings.wal_dir)
        aside = settings.var_dir / f"before-restore-{stamp}"
        for rel in sorted(m.files):
            if rel.startswith("var/"):
                replace_file(target_of(settings, rel), plain / rel, aside / rel[4:].rsplit("/", 1)[0])
        if redis is not None:
            push_redis(redis, entries)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if fresh is not None:
            shutil.rmtree(fresh, ignore_errors=True)  # only still there when the swap did not happen
        shutil.rmtree(wal_fresh, ignore_errors=True)


def _redis_ready(settings: Settings, m: Manifest) -> Any:
    """The Redis client to put the buffer back into, checked to be able to take it (before
    anything is changed), or None when the backup's buffer is not Redis'."""
    if m.buffer != "redis":
        return None
    if not settings.redis_url:
        raise BackupError(f"backup {m.id} holds a Redis buffer: set IOC_REDIS_URL to the (new, empty) "
                          f"Redis to restore it into")
    from ioc_app.runtime import redis_for

    client = redis_for(settings)
    busy = redis_busy(client)
    if busy:
        raise BackupError(f"Redis already buffers events of {busy}: restore into a Redis whose IOC "
                          f"buffer is empty (a new one), or let the writer drain this one first")
    return client


