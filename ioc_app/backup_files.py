"""What a backup carries beside the store: the durable buffer and the installation's files.

The buffer holds events that were acknowledged and not yet written to the store. Its copy
is taken *after* the cut-off and *before* the store's ``BACKUP``: an event acknowledged
before the cut-off is then either still in the buffer when it is copied, or was written to
the store before the store's backup began — in the backup either way. An event can be in
both (written between the two copies); on restore, :func:`reconcile_wal` and
:func:`load_redis` drop from the buffer every batch whose rows the restored store already
holds (by their ids), so nothing is written twice.

- Embedded: the write-ahead log (``settings.wal_dir``): each stream's checkpoint first, then
  its segments (a segment deleted meanwhile was confirmed: its rows are in the store).
- Redis: the entries of every buffer stream (``ioc:buffer:<table>``), read with ``XRANGE``
  — entries still there are exactly those not yet written — into one JSON-lines file;
  never Redis' own files.
- Files: the tokens, roles, accounts/sessions/screens database (copied with SQLite's backup
  API, consistent while the server writes), the secret and site keys, and audit rows the
  commands spooled and the server has not yet taken up.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import orjson

from ioc_app.accessdb import copy_consistent
from ioc_app.audit import spool_dir
from ioc_app.secret import FILE as SECRET_FILE
from ioc_app.secret import SITE_KEY_FILE
from ioc_app.settings import Settings

log = logging.getLogger("ioc.backup")

REDIS_DUMP = "buffer/redis.jsonl"
WAL = "buffer/wal"


def var_targets(settings: Settings) -> dict[str, Path]:
    """Each installation file's name in a backup → where it lives here."""
    targets = {
        "var/tokens.toml": Path(settings.tokens_file).expanduser().resolve(),
        "var/roles.toml": settings.roles_path.resolve(),
        "var/access.sqlite": settings.access_db,
        f"var/{SECRET_FILE}": settings.var_dir / SECRET_FILE,
        f"var/{SITE_KEY_FILE}": settings.var_dir / SITE_KEY_FILE,
    }
    spool = spool_dir(settings)
    if spool.is_dir():
        for path in sorted(spool.glob("*.jsonl")):
            targets[f"var/audit-spool/{path.name}"] = path
    return targets


def target_of(settings: Settings, rel: str) -> Path:
    """Where a backed-up installation file goes back to."""
    if rel.startswith("var/audit-spool/"):
        return spool_dir(settings) / rel.rsplit("/", 1)[1]
    return var_targets(settings)[rel]


def snapshot_var(settings: Settings, into: Path) -> dict[str, Path]:
    """Copies of the installation files under ``into``: backup name → copy."""
    out: dict[str, Path] = {}
    for rel, src in var_targets(settings).items():
        if not src.is_file():
            continue
        dst = into / rel
        dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if rel == "var/access.sqlite":
            copy_consistent(src, dst)  # consistent even while the server writes
        else:
            try:
                shutil.copyfile(src, dst)
            except FileNotFoundError:  # a spooled row taken up just now: it is in the buffer
                continue
        out[rel] = dst
    return out


def snapshot_wal(wal_dir: Path, into: Path) -> dict[str, Path]:
    """A copy of the write-ahead log: per stream, its checkpoint, then its segments."""
    out: dict[str, Path] = {}
    if not wal_dir.is_dir():
        return out
    for stream in sorted(p for p in wal_dir.iterdir() if p.is_dir()):
        names = ["checkpoint.json", *sorted(p.name for p in stream.glob("*.seg"))]
        for name in names:
            rel = f"{WAL}/{stream.name}/{name}"
            dst = into / rel
            dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                shutil.copyfile(stream / name, dst)
            except FileNotFoundError:  # confirmed and deleted meanwhile: in the store
                continue
            out[rel] = dst
    return out


def dump_redis(client: Any, into: Path) -> dict[str, Path]:
    """Every entry of every buffer stream, as JSON lines ``{table, id, n, f}``."""
    from ingest.redis_client import buffer_key

    prefix = buffer_key("")
    dst = into / REDIS_DUMP
    dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    entries = 0
    with open(dst, "wb") as out:
        for key in sorted(client.scan_iter(match=prefix + "*", _type="stream")):
            name = (key.decode() if isinstance(key, bytes) else key)[len(prefix):]
            last = "-"
            while True:
                batch = client.xrange(key, min=last, max="+", count=256)
                batch = [e for e in batch if _text(e[0]) != last]
                if not batch:
                    break
                for entry_id, fields in batch:
                    out.write(orjson.dumps({
                        "table": name, "id": _text(entry_id), "n": int(fields[b"n"]),
                        "f": base64.b64encode(fields[b"f"]).decode()}) + b"\n")
                    entries += 1
                last = _text(batch[-1][0])
    log.info("event=backup.redis_dumped entries=%d", entries)
    return {REDIS_DUMP: dst}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def reconcile_wal(store: Any, wal_dir: Path) -> int:
    """Confirm, in the restored log, the leading batches the restored store already holds;
    returns the batches confirmed. (Batches go into the store in log order, so those it
    holds are a prefix.)"""
    from ingest.wal import WriteAheadLog

    wal = WriteAheadLog(wal_dir)
    confirmed = 0
    try:
        for name in wal.names():
            stream = wal.log(name)
            column = store.id_column(name)
            if column is None:
                continue
            held = []
            for record in stream.pending_records():
                if not store.holds_all(name, column, [str(k) for k in record.frame[column].to_list()]):
                    break
                held.append(record)
            if held:
                stream.confirm(held)
                confirmed += len(held)
    finally:
        wal.close()
    log.info("event=restore.buffer_reconciled batches_already_stored=%d", confirmed)
    return confirmed


def redis_to_load(store: Any, dump: Path) -> list[dict[str, Any]]:
    """The dumped entries the restored store does not already hold (by their rows' ids)."""
    from ingest.wal import decode

    lines = [orjson.loads(line) for line in dump.read_bytes().splitlines() if line.strip()]
    columns: dict[str, str | None] = {}
    keep = []
    for e in lines:
        table = e["table"]
        if table not in columns:
            columns[table] = store.id_column(table)
        column = columns[table]
        if column is not None:
            keys = [str(k) for k in decode(base64.b64decode(e["f"]))[column].to_list()]
            if store.holds_all(table, column, keys):
                continue
        keep.append(e)
    log.info("event=restore.redis_planned entries=%d already_stored=%d", len(keep), len(lines) - len(keep))
    return keep


def redis_busy(client: Any) -> str | None:
    """A table whose buffer stream in this Redis holds entries, or None."""
    from ingest.redis_client import buffer_key

    prefix = buffer_key("")
    for key in client.scan_iter(match=prefix + "*", _type="stream", count=100):
        if client.xlen(key):
            return _text(key)[len(prefix):]
    return None


def push_redis(client: Any, entries: list[dict[str, Any]]) -> int:
    """Append the entries to their buffer streams (the writer takes them from there)."""
    from ingest.redis_client import buffer_key, depth_key

    for e in entries:
        pipe = client.pipeline(transaction=True)
        pipe.xadd(buffer_key(e["table"]), {"f": base64.b64decode(e["f"]), "n": e["n"]})
        pipe.incrby(depth_key(e["table"]), int(e["n"]))
        pipe.execute()
    return len(entries)


def load_redis(client: Any, store: Any, dump: Path) -> int:
    """Put the dumped entries back into an empty Redis buffer, without those whose rows
    ``store`` already holds; returns the entries added."""
    from ioc_app.backup_manifest import BackupError

    busy = redis_busy(client)
    if busy:
        raise BackupError(f"Redis already buffers events of {busy}: restore into a Redis whose IOC "
                          f"buffer is empty (a new one), or let the writer drain this one first")
    return push_redis(client, redis_to_load(store, dump))


def replace_file(target: Path, source: Path, aside: Path) -> None:
    """Put ``source`` at ``target`` atomically, keeping what was there under ``aside``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        aside.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copy2(target, aside / target.name)
    for journal in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        if journal.exists():  # SQLite's log of the file replaced: never to be applied to the copy
            aside.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.replace(journal, aside / journal.name)
    tmp = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(source, tmp)
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
