"""A backup's manifest: what it holds, when it was cut, whose it is, and its seal.

``manifest.json`` is written last, into a directory that is renamed into place only once
whole, so a directory without one is an interrupted backup. It lists every file with the
SHA-256 and size of its bytes on disk (the encrypted bytes: checkable with ``sha256sum``,
without the key), and is sealed with an HMAC under the backup key so that nobody without
the key can change what it promises. It names the installation by the fingerprint of its
site key (a backup of another installation is refused), and the key by its id (a backup
presented with the wrong key is told apart from a damaged one).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NAME = "manifest.json"
FORMAT = 1


class BackupError(Exception):
    """A backup cannot be taken, verified or restored; the message says what to do."""


@dataclass(frozen=True)
class Manifest:
    """What one backup holds.

    ``cutoff``: every event acknowledged before it is in the backup (in the store's backup
    or in the buffer's copy taken after it). ``files``/``sizes``: relative path → SHA-256 /
    size of the stored (encrypted) bytes. ``site``: fingerprint of the installation's site
    key. ``store``: ``embedded`` (the store is in the backup) or ``server`` (the ClickHouse
    server backs its store up itself; see docs/backup.md)."""

    id: str
    kind: str  # "full" | "incremental"
    base_id: str | None
    created_at: datetime
    cutoff: datetime
    files: dict[str, str]
    sizes: dict[str, int]
    site: str
    store: str
    key_id: str = ""
    database: str = "ioc"
    buffer: str = "wal"  # "wal" | "redis"
    format: int = FORMAT
    seal: str = ""
    #: where it was read from (not stored)
    path: Path | None = field(default=None, compare=False)

    def body(self) -> bytes:
        """The canonical bytes the seal covers (everything but the seal and the path)."""
        data = asdict(self)
        data.pop("seal")
        data.pop("path")
        data["created_at"] = self.created_at.isoformat()
        data["cutoff"] = self.cutoff.isoformat()
        return json.dumps(data, sort_keys=True, ensure_ascii=False).encode()

    def to_json(self) -> bytes:
        data = json.loads(self.body())
        data["seal"] = self.seal
        return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False).encode() + b"\n"


def read_manifest(directory: Path) -> Manifest:
    """The manifest of the backup in ``directory``, as written (not yet checked against the
    files or the key): refuses a missing or unreadable one."""
    path = directory / NAME
    if not directory.is_dir():
        raise BackupError(f"{directory} is not a directory: give the folder of one backup "
                          f"(see 'python -m ioc_app backup list')")
    try:
        data: dict[str, Any] = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise BackupError(f"{directory} has no {NAME}: not a complete IOC backup (interrupted, or "
                          f"copied in part); choose another backup or copy it again") from None
    except (ValueError, OSError) as exc:
        raise BackupError(f"{path} is damaged ({str(exc)[:80]}): restore from another backup, or "
                          f"copy this one again from where it was written") from None
    try:
        if int(data.get("format", 0)) > FORMAT:
            raise BackupError(f"{directory} was written by a newer IOC (format {data['format']}): "
                              f"restore it with that version")
        return Manifest(
            id=str(data["id"]), kind=str(data["kind"]), base_id=data.get("base_id"),
            created_at=datetime.fromisoformat(data["created_at"]).astimezone(UTC),
            cutoff=datetime.fromisoformat(data["cutoff"]).astimezone(UTC),
            files={str(k): str(v) for k, v in data["files"].items()},
            sizes={str(k): int(v) for k, v in data["sizes"].items()},
            site=str(data["site"]), store=str(data["store"]), key_id=str(data.get("key_id", "")),
            database=str(data.get("database", "ioc")), buffer=str(data.get("buffer", "wal")),
            format=int(data.get("format", FORMAT)), seal=str(data.get("seal", "")), path=directory)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BackupError(f"{path} is damaged (field {str(exc)[:60]}): restore from another backup, "
                          f"or copy this one again") from None


def complete(manifest: Manifest) -> str | None:
    """What is missing or of the wrong size in the backup's directory, or None: the cheap
    check (no hashing, no key) that lists use."""
    assert manifest.path is not None
    for rel, size in manifest.sizes.items():
        path = manifest.path / rel
        if not path.is_file():
            return f"{rel} is missing"
        if path.stat().st_size != size:
            return f"{rel} has {path.stat().st_size} bytes, not {size} (cut short or damaged)"
    return None
