"""The audit trail: who did what, from where, to what, with which result.

``Audit.record`` builds one row from the request being served (principal, client address)
and hands it to the durable path attached to it (``attach``); the trail is stored
append-only in ClickHouse (``ioc_audit``, migration 0011).

Two ways in, one way down:

- **The server** attaches :class:`PipelineSink`: a row goes into the ingest buffer's internal
  ``ioc_audit`` stream (the write-ahead log, or Redis) and the batch writer inserts it like
  any event — "written through the same durable path as events". When the buffer cannot
  take it (Redis away), the row is spooled instead (below) and taken up later.
- **The commands** (``user``, ``screen``, ``token``) run in another process while the server
  owns the embedded store and its log. They attach :class:`SpoolSink`: each record is one
  file under ``<var>/audit-spool`` (0600, one JSON row per line, written to a hidden name,
  fsync'd, then renamed into place, so a file that is visible is whole). The server's
  :class:`SpoolIntake` looks every second, appends each file's rows to the buffer and deletes
  the file only once the buffer holds them. A file is taken under an exclusive lock, so
  several web processes (scaled mode) never take one twice; a crash between the append and
  the delete repeats the rows with their ids, and the reader shows each id once.

Nothing here stores personal data in ``detail``: callers pass filters, counts and digests.
"""

from __future__ import annotations

import fcntl
import getpass
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from flask import current_app, g, has_app_context, has_request_context

from ingest.wal import fsync_dir

log = logging.getLogger("ioc.audit")

Row = dict[str, Any]
SPOOL = "audit-spool"
SUFFIX = ".jsonl"
#: how often the server looks for files the commands left
INTAKE_EVERY_S = 1.0


class Audit:
    def __init__(self, origin: str = "") -> None:
        self._sinks: list[Callable[[list[Row]], None]] = []
        #: the address of rows recorded outside a request (a command: ``cli:user@host``)
        self.origin = origin

    def attach(self, sink: Callable[[list[Row]], None]) -> None:
        self._sinks.append(sink)

    def record(self, action: str, *, object: str = "", result: str = "ok",
               detail: dict[str, Any] | None = None, actor: str | None = None,
               actor_kind: str | None = None, address: str | None = None) -> Row:
        """One audit row; ``detail`` holds filters, row counts, digests — never personal data.

        Returns once every attached sink has made the row durable; a sink that cannot raises
        (an action whose trail cannot be kept fails rather than going unrecorded)."""
        who = getattr(g, "principal", None) if has_request_context() else None
        row: Row = {
            "id": str(uuid.uuid4()),
            "ts": time.time(),
            "actor_kind": actor_kind or (who.kind if who is not None else "system"),
            "actor": actor if actor is not None else (who.name if who is not None else ""),
            "address": address or (getattr(g, "client_address", "") if has_request_context()
                                   else self.origin),
            "action": action,
            "object": object[:512],
            "result": result,
            "detail": orjson.dumps(detail or {}).decode(),
        }
        for sink in self._sinks:
            sink([row])
        log.info("event=audit action=%s result=%s actor_kind=%s", action, result, row["actor_kind"])
        return row


def current() -> Audit | None:
    """The audit trail of the running app (None outside an app, e.g. a bare test app)."""
    if not has_app_context():
        return None
    access = current_app.extensions.get("ioc_access")
    return access.audit if access is not None else None


def record(action: str, **kwargs: Any) -> Row | None:
    """Record on the running app's trail (for views that hold no ``Access`` of their own)."""
    audit = current()
    return audit.record(action, **kwargs) if audit is not None else None


# --------------------------------------------------------------------------- the spool


def spool_dir(settings: Any) -> Path:
    return Path(settings.var_dir) / SPOOL


class SpoolSink:
    """Rows as one file in the spool directory, durable when the call returns."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)

    def __call__(self, rows: list[Row]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp, final = self.dir / f".{name}.tmp", self.dir / f"{name}{SUFFIX}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"".join(orjson.dumps(r) + b"\n" for r in rows))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)  # visible only once whole
        fsync_dir(self.dir)


def command_audit(settings: Any) -> Audit:
    """The trail of a command run beside the server: rows go to the spool."""
    try:
        user = getpass.getuser()
    except Exception:  # no name for this uid (a container): the uid says it
        user = str(os.getuid())
    audit = Audit(origin=f"cli:{user}@{socket.gethostname()}"[:128])
    audit.attach(SpoolSink(spool_dir(settings)))
    return audit


class SpoolIntake:
    """Takes the spool's files into the ingest buffer (see the module's docstring)."""

    def __init__(self, directory: str | os.PathLike[str], append: Callable[[list[Row]], Any]) -> None:
        self.dir = Path(directory)
        self.append = append
        self.taken = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def drain(self) -> int:
        """Every whole file now in the spool, oldest first; returns the rows taken. A file
        whose rows the buffer did not take stays for the next round."""
        if not self.dir.is_dir():
            return 0
        rows_taken = 0
        for path in sorted(self.dir.glob(f"*{SUFFIX}")):
            try:
                rows_taken += self._take(path)
            except OSError as exc:  # the buffer (or the disk) is away: next round
                log.warning("event=audit.spool_retry file=%s error=%r", path.name, str(exc)[:200])
                break
        self.taken += rows_taken
        return rows_taken

    def _take(self, path: Path) -> int:
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:  # another process took it
            return 0
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # another process is taking it now
                return 0
            if os.fstat(fd).st_nlink == 0:  # taken and deleted while we opened it
                return 0
            with open(fd, "rb", closefd=False) as fh:
                data = fh.read()
            rows: list[Row] = []
            try:
                rows = [orjson.loads(line) for line in data.splitlines() if line.strip()]
                if rows:
                    self.append(rows)  # durable in the buffer when this returns
            except (orjson.JSONDecodeError, ValueError, KeyError, TypeError) as exc:
                # never thrown away: set aside, whole, for a person to read
                log.error("event=audit.spool_unreadable file=%s error=%r", path.name, str(exc)[:200])
                os.replace(path, path.with_suffix(".bad"))
                fsync_dir(self.dir)
                return 0
            path.unlink()
            fsync_dir(self.dir)
            return len(rows)
        finally:
            os.close(fd)

    def start(self, every_s: float = INTAKE_EVERY_S) -> SpoolIntake:
        self._thread = threading.Thread(target=self._run, args=(every_s,), name="ioc-audit-spool",
                                        daemon=True)
        self._thread.start()
        return self

    def _run(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            try:
                self.drain()
            except Exception:  # never let the intake die; the files wait
                log.exception("event=audit.spool_failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)


# --------------------------------------------------------------------------- the server


class PipelineSink:
    """The server's sink: the ingest buffer, else the spool (taken up when the buffer is back)."""

    def __init__(self, buffer: Any, spool: SpoolSink) -> None:
        self.buffer = buffer
        self.spool = spool

    def append(self, rows: list[Row]) -> int:
        from ingest import audit as audit_stream

        return audit_stream.append(self.buffer, rows)

    def __call__(self, rows: list[Row]) -> None:
        try:
            self.append(rows)
        except OSError as exc:
            log.warning("event=audit.buffer_unavailable spooled=%d error=%r", len(rows), str(exc)[:200])
            self.spool(rows)


def attach_server(audit: Audit, settings: Any, pipeline: Any, background: bool) -> SpoolIntake:
    """Give the server's trail the durable path and, with ``background``, take up what the
    commands spool (at once, then every second); returns the intake (``drain`` may be
    called directly)."""
    spool = SpoolSink(spool_dir(settings))
    sink = PipelineSink(pipeline.buffer, spool)
    audit.attach(sink)
    intake = SpoolIntake(spool.dir, sink.append)
    if background:
        try:
            intake.drain()  # what the commands left while the server was down
        except Exception:  # the thread tries again
            log.exception("event=audit.spool_failed")
        intake.start()
    return intake
