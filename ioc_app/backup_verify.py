"""Checking a backup before it is trusted: its key, its seal, whose it is, every byte.

Used by ``verify`` and, first of all, by every restore (``ioc_app.backup_restore``) and every
incremental backup (its base). Each refusal is one line that says what to do.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

from ioc_app.backup_crypto import load_keys, mac
from ioc_app.backup_manifest import NAME, BackupError, Manifest, complete, read_manifest
from ioc_app.settings import Settings


def record(settings: Settings, audit: Any, action: str, obj: str, result: str,
           detail: dict[str, Any]) -> None:
    """One audit row for a backup or restore: on ``audit`` (the server's trail), else into the
    commands' spool, which the server takes up."""
    if audit is None:
        from ioc_app.audit import command_audit

        audit = command_audit(settings)
    audit.record(action, object=obj, result=result, actor="cli", actor_kind="system", detail=detail)


def site_fingerprint(site_key: bytes) -> str:
    """Names the installation without revealing its site key."""
    return hashlib.sha256(b"ioc installation\0" + site_key).hexdigest()[:16]


def local_site(settings: Settings) -> str | None:
    """This installation's fingerprint, or None when it has no site key yet (a new machine)."""
    from ioc_app.secret import SITE_KEY_FILE

    path = settings.var_dir / SITE_KEY_FILE
    if not path.is_file():
        return None
    try:
        return site_fingerprint(bytes.fromhex(path.read_text().strip()))
    except ValueError:
        return None


def key_of(ring: Any, m: Manifest) -> bytes:
    key = ring.find(m.key_id)
    if key is None:
        raise BackupError(
            f"backup {m.id} was encrypted with backup key {m.key_id}, and {ring.path} holds "
            f"{', '.join(ring.ids())}: the wrong key. Set IOC_BACKUP_KEY_FILE to the key file kept for "
            f"this installation's backups (older keys go on its later lines)")
    return bytes(key)


def check(settings: Settings, src: Path, ring: Any, hashes: bool = False) -> Manifest:
    """The backup's manifest once its key, seal, owner and files check out."""
    m = read_manifest(src)
    key = key_of(ring, m)
    if not hmac.compare_digest(mac(key, m.body()), m.seal):
        raise BackupError(f"{src / NAME} has been altered or damaged (its seal does not match): "
                          f"restore from another backup")
    local = local_site(settings)
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


def chain_of(settings: Settings, src: Path, ring: Any) -> list[Manifest]:
    """The backup and every base it builds on, fully checked; the full one first."""
    chain: list[Manifest] = []
    here = src
    while True:
        m = check(settings, here, ring, hashes=True)
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
    return chain_of(settings, src, load_keys(settings, create=False))[-1]


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


