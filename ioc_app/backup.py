"""Backups and restores of a whole installation: store, durable buffer, keys, tokens, people.

The store is backed up by ClickHouse itself (``BACKUP DATABASE … TO File(…)``, incremental
with ``SETTINGS base_backup = File(…)``): the embedded engine writes into its work directory
beside the store (the only one it may write to, see ``ioc_app.storage.backup_work_dir``),
and every file is then encrypted into the backup's folder (``ioc_app.backup_crypto``) and
the plaintext removed. The buffer and the installation's files come along
(``ioc_app.backup_files``) and ``manifest.json``, sealed, is written last
(``ioc_app.backup_manifest``). A backup is built under a hidden name and renamed into place
whole, so an interrupted one is never mistaken for a backup.

A restore checks everything first — the manifest's seal and key, the installation it
belongs to, every file's size and SHA-256, every base of an incremental — and refuses with
one line before touching anything. It then rebuilds the store in a fresh directory beside
the old one, and only once that has worked swaps it in (the old store, buffer and files are
kept aside, never deleted), so a failure half-way leaves the installation as it was.

With a ClickHouse server (``http(s)://``) the store lives on the server and is backed up
there (``BACKUP … TO Disk/S3``, docs/backup.md); IOC's backup then carries the buffer and
the files, and says so in its manifest (``store = "server"``).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import logging
import os
import re
import shutil
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ioc_app.backup_crypto import decrypt_file, encrypt_file, load_keys, mac
from ioc_app.backup_files import (
    REDIS_DUMP,
    WAL,
    dump_redis,
    load_redis,
    reconcile_wal,
    replace_file,
    snapshot_var,
    snapshot_wal,
    target_of,
)
from ioc_app.backup_manifest import NAME, BackupError, Manifest, complete, read_manifest
from ioc_app.settings import Settings

__all__ = ["BackupError", "Manifest", "list_backups", "new_backup_dir", "restore_backup", "take_backup",
           "verify_backup"]

log = logging.getLogger("ioc.backup")

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def site_fingerprint(site_key: bytes) -> str:
    """Names the installation without revealing its site key."""
    return hashlib.sha256(b"ioc installation\0" + site_key).hexdigest()[:16]


def _local_site(settings: Settings) -> str | None:
    """This installation's fingerprint, or None when it has no site key yet (a new machine)."""
    from ioc_app.secret import SITE_KEY_FILE

    path = settings.var_dir / SITE_KEY_FILE
    if not path.is_file():
        return None
    try:
        return site_fingerprint(bytes.fromhex(path.read_text().strip()))
    except ValueError:
        return None


def _store_path(settings: Settings) -> Path:
    return Path(settings.clickhouse_url[len("chdb://"):]).expanduser().resolve()


def new_backup_dir(root: Path, now: datetime | None = None) -> Path:
    """A new backup's folder under ``root``, named after its time (UTC): its id."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate, n = root / stamp, 1
    while candidate.exists() or candidate.with_name(f".{candidate.name}.partial").exists():
        n += 1
        candidate = root / f"{stamp}-{n}"
    return candidate


def _audit(settings: Settings, audit: Any, action: str, obj: str, result: str,
           detail: dict[str, Any]) -> None:
    if audit is None:
        from ioc_app.audit import command_audit

        audit = command_audit(settings)
    audit.record(action, object=obj, result=result, actor="cli", actor_kind="system", detail=detail)


# --------------------------------------------------------------------------- take


def take_backup(settings: Settings, dest: Path, *, base: Path | None = None, now: datetime | None = None,
                store: Any = None, audit: Any = None) -> Manifest:
    """Back the installation up into ``dest`` (a new folder; its name is the backup's id):
    full when ``base`` is None, else incremental on the backup in ``base``. Works while the
    server runs: in the server's process pass its ``store``; elsewhere the store is opened
    (the embedded one only when no other process owns it). Audited."""
    from ioc_app.secret import site_key

    dest = Path(dest).expanduser().resolve()
    if not _ID.match(dest.name):
        raise BackupError(f"{dest.name!r} cannot name a backup: use letters, digits, '.', '_' or '-'")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} exists and is not empty: give a new folder (or leave --to at its "
                          f"root and let the backup name itself)")
    created = (now or datetime.now(UTC)).astimezone(UTC)
    ring = load_keys(settings)
    site = site_fingerprint(site_key(settings))
    base_m = _check(settings, Path(base).expanduser().resolve(), ring) if base is not None else None
    if base_m is not None and base_m.site != site:
        raise BackupError(f"the base {base} belongs to another installation: take a full backup")
    embedded = settings.embedded
    own_store = None
    if embedded and store is None:
        from ioc_app.storage import Store

        store = own_store = Store(settings.clickhouse_url, cluster=settings.clickhouse_cluster)
    partial = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True, mode=0o700)
    work = _work_dir(settings, store)
    plain = work / f"{dest.name}.files"
    engine_dirs = [work / dest.name] + ([work / base_m.id] if base_m else [])
    try:
        cutoff = datetime.now(UTC)  # the real instant, whatever ``now`` says
        files = _snapshot_buffer(settings, plain)
        files.update(snapshot_var(settings, plain))
        if embedded:
            files.update(_backup_store(store, work, dest.name, base_m, ring))
        hashes, sizes = {}, {}
        for rel, src in sorted(files.items()):
            hashes[rel], sizes[rel] = encrypt_file(ring.current, f"{dest.name}/{rel}", src, partial / rel)
        manifest = Manifest(
            id=dest.name, kind="incremental" if base_m else "full", base_id=base_m.id if base_m else None,
            created_at=created, cutoff=cutoff, files=hashes, sizes=sizes, site=site,
            store="embedded" if embedded else "server", key_id=ring.current_id,
            database=store.database if store is not None else "ioc",
            buffer="redis" if settings.redis_url else "wal")
        manifest = replace(manifest, seal=mac(ring.current, manifest.body()))
        _write_durably(partial / NAME, manifest.to_json())
        for d in partial.rglob("*"):
            if d.is_dir():
                os.chmod(d, 0o700)
        if dest.exists():
            dest.rmdir()
        os.replace(partial, dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(plain, ignore_errors=True)
        for d in engine_dirs:
            shutil.rmtree(d, ignore_errors=True)
        if own_store is not None:
            own_store.close()
    manifest = replace(manifest, path=dest)
    total = sum(sizes.values())
    log.info("event=backup.taken id=%s kind=%s files=%d bytes=%d", manifest.id, manifest.kind,
             len(hashes), total)
    _audit(settings, audit, "backup.take", manifest.id, "ok",
           {"kind": manifest.kind, "base": manifest.base_id, "files": len(hashes), "bytes": total})
    return manifest


def _work_dir(settings: Settings, store: Any) -> Path:
    from ioc_app.storage import backup_work_dir

    if store is not None and getattr(store, "path", None) is not None:
        work = backup_work_dir(store.path)
    else:  # a server store: the buffer and files are staged under var
        work = settings.var_dir / "backup-work"
    work.mkdir(parents=True, exist_ok=True, mode=0o700)
    return work


def _snapshot_buffer(settings: Settings, plain: Path) -> dict[str, Path]:
    if settings.redis_url:
        from ioc_app.runtime import redis_for

        client = redis_for(settings)
        try:
            return dump_redis(client, plain)
        finally:
            client.close()
    return snapshot_wal(settings.wal_dir, plain)


def _backup_store(store: Any, work: Path, ident: str, base: Manifest | None, ring: Any) -> dict[str, Path]:
    """ClickHouse's own BACKUP into the engine's work directory; returns its files."""
    sql = f"BACKUP DATABASE {store.database} TO File('{ident}')"
    if base is not None:
        # creating an incremental reads only the base's own metadata file
        assert base.path is not None
        decrypt_file(_key_of(ring, base), f"{base.id}/store/.backup", base.path / "store/.backup",
                     work / base.id / ".backup")
        sql += f" SETTINGS base_backup = File('{base.id}')"
    rows = store.rows(sql)
    if not rows or rows[0][1] != "BACKUP_CREATED":
        raise BackupError(f"ClickHouse did not create the backup ({rows}): see the log, and try again")
    root = work / ident
    return {f"store/{p.relative_to(root)}": p for p in sorted(root.rglob("*")) if p.is_file()}


def _write_durably(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- verify / list


def _key_of(ring: Any, m: Manifest) -> bytes:
    key = ring.find(m.key_id)
    if key is None:
        raise BackupError(
            f"backup {m.id} was encrypted with backup key {m.key_id}, and {ring.path} holds "
            f"{', '.join(ring.ids())}: the wrong key. Set IOC_BACKUP_KEY_FILE to the key file kept for "
            f"this installation's backups (older keys go on its later lines)")
    return bytes(key)


def _check(settings: Settings, src: Path, ring: Any, hashes: bool = False) -> Manifest:
    """The backup's manifest once its key, seal, owner and files check out."""
    m = read_manifest(src)
    key = _key_of(ring, m)
    if not hmac.compare_digest(mac(key, m.body()), m.seal):
        raise BackupError(f"{src / NAME} has been altered or damaged (its seal does not match): "
                          f"restore from another backup")
    local = _local_site(settings)
    if local is not None and local != m.site:
        raise BackupError(
            f"{src} is a backup of another installation (site {m.site}, this one is {local}): choose a "
            f"backup of this installation, or restore it on a machine without {settings.var_dir}/site_key")
    problem = complete(m)
    if problem:
        raise BackupError(f"backup {m.id} is incomplete: {problem}; copy it again from where it was "
                          f"written, or restore from another backup")
    if hashes:
        for rel, digest in m.files.items():
            if _sha256(src / rel) != digest:
                raise BackupError(f"backup {m.id} is damaged: {rel} does not match its checksum; copy "
                                  f"it again from where it was written, or restore from another backup")
    return m


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _chain(settings: Settings, src: Path, ring: Any) -> list[Manifest]:
    """The backup and every base it builds on, fully checked; the full one first."""
    chain: list[Manifest] = []
    here = src
    while True:
        m = _check(settings, here, ring, hashes=True)
        if chain and m.id != chain[-1].base_id:
            raise BackupError(f"{here} is backup {m.id}, not the base {chain[-1].base_id} that "
                              f"{chain[-1].id} needs: put the right folder there")
        chain.append(m)
        if m.base_id is None:
            return chain[::-1]
        if len(chain) > 1000:
            raise BackupError(f"backup {src.name} builds on a loop of bases: restore another backup")
        here = src.parent / m.base_id
        if not (here / NAME).is_file():
            raise BackupError(f"backup {m.id} is incremental on {m.base_id}, which is not in "
                              f"{src.parent}: copy that backup's folder there (beside it), then retry")


def verify_backup(settings: Settings, src: Path) -> Manifest:
    """Check a backup (and its bases) completely without restoring it: key, seal,
    installation, every file's size and SHA-256. Raises ``BackupError`` saying what is wrong."""
    src = Path(src).expanduser().resolve()
    return _chain(settings, src, load_keys(settings, create=False))[-1]


def list_backups(root: Path) -> list[Manifest]:
    """The complete backups under ``root`` (manifest readable, every file there at its size),
    oldest first; interrupted or damaged folders are left out (``verify`` tells why)."""
    root = Path(root).expanduser()
    found = []
    for d in sorted(root.iterdir()) if root.is_dir() else []:
        if d.name.startswith(".") or not d.is_dir():
            continue
        try:
            m = read_manifest(d)
        except BackupError:
            continue
        if complete(m) is None:
            found.append(m)
    return sorted(found, key=lambda m: (m.created_at, m.id))


# --------------------------------------------------------------------------- restore


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
        chain = _chain(settings, src, ring)
    except BackupError as exc:
        _audit(settings, audit, "backup.restore", src.name, "refused", {"reason": str(exc)[:300]})
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
        _restore(settings, chain, ring, stamp)
    except BackupError as exc:
        _audit(settings, audit, "backup.restore", m.id, "refused", {"reason": str(exc)[:300]})
        raise
    finally:
        for fd in locks:
            if fd is not None:
                os.close(fd)
    _audit(settings, audit, "backup.restore", m.id, "ok",
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
                    decrypt_file(_key_of(ring, c), f"{c.id}/{rel}", c.path / rel, work / c.id / rel[6:])
        assert m.path is not None
        for rel in m.files:
            if not rel.startswith("store/"):
                decrypt_file(_key_of(ring, m), f"{m.id}/{rel}", m.path / rel, plain / rel)
        redis = _redis_ready(settings, m)
        store = None
        if fresh is not None and m.store == "embedded":
            from ioc_app.storage import Store

            store = Store(f"chdb://{fresh}")
            rows = store.rows(f"RESTORE DATABASE {m.database} AS {store.database} FROM File('{m.id}')")
            if not rows or rows[0][1] != "RESTORED":
                raise BackupError(f"ClickHouse did not restore backup {m.id} ({rows}); nothing was "
                                  f"changed: see the log")
        if m.buffer == "wal":  # the backup's log replaces this one's, even when it was empty
            if (plain / WAL).is_dir():
                shutil.copytree(plain / WAL, wal_fresh)
            wal_fresh.mkdir(mode=0o700, exist_ok=True)
            if store is not None:
                reconcile_wal(store, wal_fresh)
        if store is not None:
            store.close()
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
            load_redis(redis, store_for_redis(settings), plain / REDIS_DUMP)
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
    from ingest.redis_client import buffer_key
    from ioc_app.runtime import redis_for

    client = redis_for(settings)
    streams = client.scan_iter(match=buffer_key("*"), _type="stream", count=100)
    if any(client.xlen(key) for key in streams):
        raise BackupError("Redis already buffers events: restore into a Redis whose IOC buffer is "
                          "empty (a new one), or let the writer drain this one first")
    return client


def store_for_redis(settings: Settings) -> Any:
    """The restored store, opened to tell which buffered batches it already holds."""
    from ioc_app.storage import Store

    return Store(settings.clickhouse_url, cluster=settings.clickhouse_cluster)
