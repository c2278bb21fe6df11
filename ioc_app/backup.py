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

import logging
import os
import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ioc_app.backup_crypto import decrypt_file, encrypt_file, load_keys, mac
from ioc_app.backup_files import dump_redis, snapshot_var, snapshot_wal
from ioc_app.backup_manifest import NAME, BackupError, Manifest
from ioc_app.backup_restore import restore_backup
from ioc_app.backup_verify import check, key_of, list_backups, record, site_fingerprint, verify_backup
from ioc_app.settings import Settings

__all__ = ["BackupError", "Manifest", "list_backups", "new_backup_dir", "restore_backup", "take_backup",
           "verify_backup"]

log = logging.getLogger("ioc.backup")

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def new_backup_dir(root: Path, now: datetime | None = None) -> Path:
    """A new backup's folder under ``root``, named after its time (UTC): its id."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate, n = root / stamp, 1
    while candidate.exists() or candidate.with_name(f".{candidate.name}.partial").exists():
        n += 1
        candidate = root / f"{stamp}-{n}"
    return candidate


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
    if base is not None and Path(base).expanduser().resolve().parent != dest.parent:
        raise BackupError(f"an incremental backup goes beside its base (restore looks for the base "
                          f"there): put it in {Path(base).expanduser().resolve().parent}, not {dest.parent}")
    base_m = check(settings, Path(base).expanduser().resolve(), ring) if base is not None else None
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
    record(settings, audit, "backup.take", manifest.id, "ok",
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
    if base is not None:
        # creating an incremental reads only the base's own metadata file
        assert base.path is not None
        decrypt_file(key_of(ring, base), f"{base.id}/store/.backup", base.path / "store/.backup",
                     work / base.id / ".backup")
    store.backup_database(ident, base.id if base is not None else None)
    root = work / ident
    return {f"store/{p.relative_to(root)}": p for p in sorted(root.rglob("*")) if p.is_file()}


def _write_durably(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)

