"""The embedded durable buffer: one write-ahead log per stream, with group commit.

An ingest request returns 200 only after its batch is on disk (``fsync``). Concurrent
requests share fsyncs: whoever finds no sync running starts one that covers everything
written so far, and the others wait for it (group commit), so the disk sees a few fsyncs a
second however many requests arrive.

The writer drains the log in order and confirms what ClickHouse stored. Before each insert it
records the exact byte range it is about to insert (the *intent*); after a crash the same
range is inserted again with the same deduplication token, so ClickHouse drops it if the
first attempt had landed. Segments wholly before the confirmed offset are deleted (and, when
the log is shipped off the machine, before the shipped offset: ``ioc_app.buffer_ship``).

Record layout: ``b"IW" | u32 length | u32 crc32 | u32 rows | payload`` where the payload is
an Arrow IPC stream (zstd-compressed) of the validated frame.
"""

from __future__ import annotations

import fcntl
import io
import itertools
import json
import logging
import os
import struct
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import polars as pl

from ingest.faults import reach

log = logging.getLogger("ioc.wal")

MAGIC = b"IW"
HEADER = struct.Struct("<2sIII")
SEGMENT_BYTES = 64 * 1024 * 1024



def records(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """``(start, stop, body)`` of each whole, intact record at the head of a segment's bytes;
    it stops at the first torn or damaged one (a crash's tail), whose start is the last stop."""
    pos = 0
    while pos + HEADER.size <= len(data):
        magic, length, crc, _rows = HEADER.unpack_from(data, pos)
        body = data[pos + HEADER.size: pos + HEADER.size + length]
        if magic != MAGIC or len(body) != length or zlib.crc32(body) != crc:
            return
        yield pos, pos + HEADER.size + length, body
        pos += HEADER.size + length

class WalBusy(RuntimeError):
    """Another process owns this write-ahead log."""


#: where a batch sits in its buffer: byte offsets in a log file here, entry ids in Redis
P = TypeVar("P", int, str)


@dataclass(frozen=True)
class Record(Generic[P]):
    """One appended batch: where it sits in its buffer (here: its byte range in the stream's
    log; in Redis: its entry id, twice) and its rows."""

    start: P
    end: P
    frame: pl.DataFrame
    appended_at: float

    @property
    def rows(self) -> int:
        return self.frame.height


def encode(frame: pl.DataFrame) -> bytes:
    """Arrow IPC, zstd-compressed: event batches shrink about twentyfold (ids, enums and
    codes repeat), which is less to write and fsync here and less for Redis to keep and
    append to its own log; encoding compressed is no slower than copying the raw buffers.
    ``decode`` reads compressed and uncompressed records alike."""
    buf = io.BytesIO()
    frame.write_ipc_stream(buf, compression="zstd")
    return buf.getvalue()


def decode(payload: bytes) -> pl.DataFrame:
    return pl.read_ipc_stream(io.BytesIO(payload))


def fsync_dir(path: Path) -> None:
    """Make a file's creation, rename or removal in ``path`` durable (the directory entry)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StreamLog:
    """The write-ahead log of one stream."""

    def __init__(self, directory: Path, appended: threading.Event | None = None) -> None:
        self.dir = directory
        #: set once an appended batch is on disk (and so may be inserted): wakes the writer
        self.appended = appended or threading.Event()
        _owner_only_dir(self.dir)
        self._cond = threading.Condition()
        self._pending: deque[Record[int]] = deque()
        self._pending_rows = 0
        self.confirmed, self.intent = self._read_checkpoint()
        #: with the buffer shipped off the machine: how far it is shipped — no segment past it
        #: is deleted, even when confirmed (None: no shipping, confirmed segments go)
        self.ship_floor: int | None = None
        self._recover()
        self._syncing = False

    @property
    def name(self) -> str:
        """The stream's table: the log's directory is named after it."""
        return self.dir.name

    # ---- checkpoint -------------------------------------------------------------------
    @property
    def _checkpoint_path(self) -> Path:
        return self.dir / "checkpoint.json"

    def _read_checkpoint(self) -> tuple[int, tuple[int, int] | None]:
        try:
            data = json.loads(self._checkpoint_path.read_text())
        except FileNotFoundError:
            return 0, None
        intent = data.get("intent")
        return int(data["confirmed"]), ((int(intent[0]), int(intent[1])) if intent else None)

    def _write_checkpoint(self) -> None:
        tmp = self.dir / "checkpoint.json.tmp"
        data = {"confirmed": self.confirmed, "intent": list(self.intent) if self.intent else None}
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._checkpoint_path)
        fsync_dir(self.dir)

    # ---- segments ---------------------------------------------------------------------
    def _segments(self) -> list[tuple[int, Path]]:
        segs = []
        for p in self.dir.glob("*.seg"):
            segs.append((int(p.stem), p))
        return sorted(segs)

    def _recover(self) -> None:
        """Load every record after the confirmed offset; cut a torn tail left by a crash."""
        segs = self._segments()
        now = time.time()
        end = self.confirmed
        for base, path in segs:
            data = path.read_bytes()
            pos = 0
            for at, pos, body in records(data):
                start, stop = base + at, base + pos
                if start >= self.confirmed:
                    rec = Record(start, stop, decode(body), now)
                    self._pending.append(rec)
                    self._pending_rows += rec.rows
                end = max(end, stop)
            if pos < len(data):
                log.warning("event=wal.torn_tail dir=%s segment=%s kept=%d dropped=%d",
                            self.dir.name, path.name, pos, len(data) - pos)
                with open(path, "r+b") as fh:
                    fh.truncate(pos)
                    os.fsync(fh.fileno())
                end = base + pos
                # a torn record is the last thing ever written: later segments cannot exist
                for later_base, later in segs:
                    if later_base > base:
                        later.unlink()
                break
        self._written = end
        self._synced = end
        self._replay_end = end  # what was buffered before this process began
        self._open_segment(reuse=bool(segs))
        if self._pending:
            log.info("event=wal.recovered dir=%s records=%d rows=%d", self.dir.name,
                     len(self._pending), self._pending_rows)

    def _open_segment(self, reuse: bool) -> None:
        segs = self._segments()
        if reuse and segs and segs[-1][0] + segs[-1][1].stat().st_size == self._written:
            self._seg_base, path = segs[-1]
        else:
            self._seg_base, path = self._written, self.dir / f"{self._written:020d}.seg"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(self._fd, 0o600)  # a segment reused from an older version may be 0644
        fsync_dir(self.dir)

    # ---- append (request threads) -----------------------------------------------------
    def append(self, frame: pl.DataFrame) -> Record[int]:
        """Append a batch and return once it is on disk."""
        payload = encode(frame)
        header = HEADER.pack(MAGIC, len(payload), zlib.crc32(payload), frame.height)
        with self._cond:
            if self._written - self._seg_base >= SEGMENT_BYTES:
                os.fsync(self._fd)
                os.close(self._fd)
                self._synced = self._written
                self._open_segment(reuse=False)
            os.write(self._fd, header + payload)
            start = self._written
            self._written += len(header) + len(payload)
            rec = Record(start, self._written, frame, time.time())
            # queued in log order now; the writer takes only what is already synced
            self._pending.append(rec)
            self._pending_rows += rec.rows
            self._wait_synced(rec.end)
            self._cond.notify_all()
        self.appended.set()
        return rec

    def _wait_synced(self, end: int) -> None:
        """Group commit; called holding the condition's lock."""
        while self._synced < end:
            if self._syncing:
                self._cond.wait()
                continue
            self._syncing = True
            target, fd = self._written, self._fd
            self._cond.release()
            try:
                os.fsync(fd)
            finally:
                self._cond.acquire()
                self._syncing = False
            self._synced = max(self._synced, target)
            self._cond.notify_all()

    # ---- drain (writer thread) ----------------------------------------------------------
    @property
    def depth(self) -> int:
        """Rows appended and not yet confirmed by the store."""
        return self._pending_rows

    def pending_records(self) -> list[Record[int]]:
        with self._cond:
            return list(self._pending)

    def replayed(self) -> bool:
        """Whether everything this log held when the process began has been written."""
        with self._cond:
            return not self._pending or self._pending[0].start >= self._replay_end

    def oldest_age(self) -> float:
        with self._cond:
            return time.time() - self._pending[0].appended_at if self._pending else 0.0

    def next_batch(self, max_rows: int, max_age_s: float, force: bool = False) -> list[Record[int]]:
        """The records of the next insert, or [] when it is not yet time.

        After a crash the first batch is exactly the recorded intent, whatever the limits.
        """
        with self._cond:
            if not self._pending:
                return []
            if self.intent is not None:
                lo, hi = self.intent
                return [r for r in self._pending if lo <= r.start and r.end <= hi]
            rows = 0
            batch: list[Record[int]] = []
            for r in self._pending:
                if r.end > self._synced or (batch and rows + r.rows > max_rows):
                    break
                batch.append(r)
                rows += r.rows
            if not batch:
                return []
            ready = force or rows >= max_rows or len(batch) < len(self._pending) or (
                time.time() - batch[0].appended_at >= max_age_s)
            return batch if ready else []

    def begin(self, batch: list[Record[int]]) -> str:
        """Record the intent to insert ``batch`` and return its deduplication token."""
        self.intent = (batch[0].start, batch[-1].end)
        self._write_checkpoint()
        return f"{self.dir.name}:{batch[0].start}:{batch[-1].end}"

    def confirm(self, batch: list[Record[int]]) -> None:
        """The store has the batch: advance the checkpoint and drop what it covers."""
        with self._cond:
            end = batch[-1].end
            while self._pending and self._pending[0].end <= end:
                self._pending_rows -= self._pending.popleft().rows
            self.confirmed, self.intent = end, None
            self._write_checkpoint()
            reach("wal.confirmed")
            segs = self._segments()
            limit = self.confirmed if self.ship_floor is None else min(self.confirmed, self.ship_floor)
            for (base, path), nxt in itertools.pairwise(segs):
                if nxt[0] <= limit and base != self._seg_base:
                    path.unlink()

    def close(self) -> None:
        with self._cond:
            os.close(self._fd)


def _owner_only_dir(directory: Path) -> None:
    """The log holds events as received (keys, addresses): only the product's own user may
    read it. Files left readable by others by an older version are made owner-only."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)
    for path in directory.iterdir():
        if path.is_file() and path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)


class WriteAheadLog:
    """The logs of all streams under one directory (``<var>/wal``)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        _owner_only_dir(self.dir)
        self._owner = os.open(self.dir / "owner.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._owner)
            raise WalBusy(f"the ingest buffer {self.dir} is in use by another process; only one "
                          f"process may drain it (use Redis to run several)") from None
        self._logs: dict[str, StreamLog] = {}
        #: set while the buffer is shipped: a new stream's log keeps its segments until shipped
        self.shipped = False
        self._lock = threading.Lock()
        self._appended = threading.Event()
        for sub in sorted(self.dir.glob("*")) if self.dir.exists() else []:
            if sub.is_dir():
                self.log(sub.name)

    def log(self, name: str) -> StreamLog:
        with self._lock:
            if name not in self._logs:
                self._logs[name] = StreamLog(self.dir / name, self._appended)
                if self.shipped:
                    self._logs[name].ship_floor = 0
            return self._logs[name]

    def names(self) -> list[str]:
        with self._lock:
            return list(self._logs)

    @property
    def depth(self) -> int:
        return sum(lg.depth for lg in list(self._logs.values()))

    def replayed(self) -> bool:
        return all(lg.replayed() for lg in list(self._logs.values()))

    def wait(self, timeout: float) -> bool:
        """Block until a batch of any stream is on disk (see ``Buffer.wait``)."""
        woken = self._appended.wait(timeout)
        self._appended.clear()
        return woken

    def wake(self) -> None:
        self._appended.set()

    def close(self) -> None:
        for lg in list(self._logs.values()):
            lg.close()
        os.close(self._owner)
