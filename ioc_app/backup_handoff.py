"""``backup`` while the server runs on the embedded store: the server takes it.

The embedded engine is opened by one process only, so a ``backup`` command started beside
the running server cannot open the store. It leaves a request in ``<var>/backup-requests``
(one JSON file, written whole under a hidden name and renamed into place, like the audit
spool); the server looks every second, takes a request by renaming it (so only one process
ever takes it), runs the backup with its own store, and answers in ``<id>.done``. The
command waits for the answer and prints it; a server that takes no request within
``TAKE_WITHIN_S`` is reported (it may be an older version), and the request withdrawn.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import uuid
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import orjson

from ioc_app.backup_manifest import BackupError, Manifest, read_manifest
from ioc_app.settings import Settings

log = logging.getLogger("ioc.backup")

DIR = "backup-requests"
TAKE_WITHIN_S = 30.0
#: the longest a backup may take before the command stops waiting (the server carries on)
ANSWER_WITHIN_S = 6 * 3600.0
EVERY_S = 1.0


def requests_dir(settings: Settings) -> Path:
    return settings.var_dir / DIR


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, orjson.dumps(data))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def ask_server(settings: Settings, dest: Path, base: Path | None,
               take_within_s: float = TAKE_WITHIN_S) -> Manifest:
    """Have the server that owns the embedded store take the backup; its manifest."""
    folder = requests_dir(settings)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    rid = uuid.uuid4().hex
    request, taken, done = folder / f"{rid}.json", folder / f"{rid}.taken", folder / f"{rid}.done"
    _write(request, {"dest": str(dest), "base": str(base) if base else None})
    started = time.monotonic()
    while not done.exists():
        if request.exists() and time.monotonic() - started > take_within_s:
            try:
                request.unlink()  # withdrawn, unless the server takes it this very moment
            except FileNotFoundError:
                continue
            raise BackupError(f"the server owns the embedded store but took no backup request within "
                              f"{take_within_s:.0f} s: check that it runs this IOC version, or stop it "
                              f"and run backup again")
        if taken.exists() and not _owned(settings):
            taken.unlink(missing_ok=True)
            raise BackupError("the server stopped before it finished the backup: run backup again (with "
                              "the server stopped, the command takes it itself)")
        if time.monotonic() - started > ANSWER_WITHIN_S:
            raise BackupError(f"the server has not finished the backup after {ANSWER_WITHIN_S:.0f} s: "
                              f"see its log ({taken.name})")
        time.sleep(0.2)
    answer = orjson.loads(done.read_bytes())
    for path in (taken, done):
        path.unlink(missing_ok=True)
    if not answer.get("ok"):
        raise BackupError(str(answer.get("error") or "the server could not take the backup: see its log"))
    return read_manifest(Path(answer["path"]))


def _owned(settings: Settings) -> bool:
    """Whether a process still holds the embedded store's owner lock."""
    from ioc_app.storage import OWNER_FILE

    lock = Path(settings.clickhouse_url[len("chdb://"):]).expanduser().resolve() / OWNER_FILE
    try:
        fd = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock this test took
    return False


class BackupRequests:
    """The server's side: takes requests and runs them with its own store."""

    def __init__(self, settings: Settings, store: Any, audit: Any = None, writer: Any = None) -> None:
        self.settings = settings
        self.store = store
        self.audit = audit
        #: the process's writer, paused while the backup copies the tables: ``BACKUP`` copies
        #: table after table, and a batch landing between a raw table and its rollups would be
        #: restored in one and not the other (ingest goes on acknowledging into the buffer)
        self.writer = writer
        self.dir = requests_dir(settings)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def drain(self) -> int:
        """Take every request waiting now; returns how many were answered."""
        from ioc_app.backup import take_backup
        from ioc_app.backup_schedule import BackupBusy, exclusive

        answered = 0
        for request in sorted(self.dir.glob("*.json")) if self.dir.is_dir() else []:
            taken = request.with_suffix(".taken")
            try:
                os.rename(request, taken)  # only one process takes it
            except FileNotFoundError:
                continue
            try:
                data = orjson.loads(taken.read_bytes())
                dest = Path(data["dest"])
                # one backup at a time (the scheduled one takes the same lock), tables standing still
                base = Path(data["base"]) if data.get("base") else None
                still = self.writer.paused() if self.writer is not None else nullcontext()
                with exclusive(dest.parent), still:
                    m = take_backup(self.settings, dest, base=base, store=self.store, audit=self.audit)
                answer: dict[str, Any] = {"ok": True, "path": str(m.path)}
            except (BackupError, BackupBusy) as exc:
                answer = {"ok": False, "error": str(exc)}
            except Exception as exc:  # answered, so the command does not wait forever
                log.exception("event=backup.request_failed")
                answer = {"ok": False, "error": f"the server could not take the backup ({str(exc)[:200]}): "
                                                f"see its log"}
            _write(request.with_suffix(".done"), answer)
            answered += 1
        return answered

    def start(self) -> BackupRequests:
        self._thread = threading.Thread(target=self._run, name="ioc-backup-requests", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(EVERY_S):
            try:
                self.drain()
            except Exception:  # never let the intake die; the requests wait
                log.exception("event=backup.requests_failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)


def serve_requests(settings: Settings, store: Any, audit: Any, background: bool,
                   writer: Any = None) -> BackupRequests | None:
    """In the process that owns the embedded store, answer the ``backup`` command's requests
    (with ``writer`` paused while the tables are copied)."""
    if not (settings.embedded and background):
        return None
    return BackupRequests(settings, store, audit, writer).start()
