"""The Redis buffer: one Redis Stream per table, drained by a consumer group.

- A batch is one stream entry (an Arrow IPC blob and its row count), not one entry per
  event, so Redis moves megabytes of events per second.
- Entries are acknowledged (``XACK``) and then deleted (``XDEL``) only after ClickHouse has
  confirmed the insert; nothing ever trims the stream by length, so an entry that was not
  written cannot be dropped (Redis 7.0 has no ``XTRIM … ACKED``).
- A consumer reads its own pending entries first (after a restart under the same name),
  and claims entries of a consumer that has died (``XAUTOCLAIM``) once they have been idle
  longer than any legitimate batch takes.
- A batch is reserved before its insert, atomically and exclusively (a Lua script): each
  entry id maps to its batch and the batch to its entry ids. An entry that belongs to a
  batch can never go into another one; whoever meets it later — this process after a
  restart, a consumer that claimed part of it, this process after Redis lost a reply —
  fetches the whole batch (claiming what it does not hold) and inserts exactly those
  entries again, under the token their ids make, so ClickHouse drops the repeat. A batch
  whose insert was never begun may be formed anew; one that was begun never is.
- Releasing a batch (``XACK``, ``XDEL``, forgetting the reservation, lowering the depth by
  the rows it deleted) is one script too, so a release repeated after a lost reply or by
  two consumers changes nothing the second time; after any failed call the consumer checks
  that what it queued still exists before forming a batch.

The seen-set of event ids is in ``ingest.redis_seen``; opening Redis and checking that it keeps
what it acknowledged ("accepted means durable") in ``ingest.redis_client``.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
from collections import deque
from typing import Any, cast

import polars as pl
import redis
from redis.typing import StreamIdT

from ingest.faults import reach
from ingest.redis_client import PREFIX, buffer_key, depth_key, guard
from ingest.wal import Record, decode, encode

log = logging.getLogger("ioc.redis_buffer")

GROUP = "writers"
CLAIM_IDLE_MS = 60_000
READ_COUNT = 64


_RESERVE_LUA = """
-- KEYS: the buffer stream, its member hash (entry id -> batch id), its intent hash
-- (batch id -> entry ids).  ARGV: batch id, entry ids...
-- Reserve the entries for one insert, atomically and exclusively: an entry that already
-- belongs to a batch keeps it (whoever holds it must insert that very batch), and an entry
-- that is gone has been written and released already.
for i = 2, #ARGV do
  local owner = redis.call('HGET', KEYS[2], ARGV[i])
  if owner then return {2, i - 2, owner} end
  if #redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i]) == 0 then return {3, i - 2} end
end
local ids = {}
for i = 2, #ARGV do
  ids[#ids + 1] = ARGV[i]
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[1])
end
redis.call('HSET', KEYS[3], ARGV[1], table.concat(ids, ','))
return {1}
"""

_RELEASE_LUA = """
-- KEYS: the buffer stream, member hash, intent hash, depth counter.
-- ARGV: group, batch id, then entry id and its rows, pairwise.
-- Acknowledge, delete and forget a written batch; the depth drops by the rows of the
-- entries this call deleted, so releasing the same batch twice (a reply lost with Redis,
-- or two consumers finishing one batch) never counts it twice.
local rows = 0
for i = 3, #ARGV, 2 do
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
  if redis.call('XDEL', KEYS[1], ARGV[i]) == 1 then rows = rows + tonumber(ARGV[i + 1]) end
  redis.call('HDEL', KEYS[2], ARGV[i])
end
redis.call('HDEL', KEYS[3], ARGV[2])
if rows > 0 then redis.call('DECRBY', KEYS[4], rows) end
return rows
"""


class RedisStreamLog:
    """One table's Redis Stream, with this process's consumer state.

    A batch has one identity for its whole life: the moment the writer is handed a batch,
    its entries are reserved for it in Redis (each entry id maps to the batch, the batch
    to its entry ids), atomically and exclusively. Whoever meets one of those entries
    later — this process after a restart, a consumer that claimed them, this process after
    a reply lost with Redis — inserts exactly that batch again, fetched whole from Redis
    whatever part of it it happened to hold, so ClickHouse recognises its token.
    """

    def __init__(self, client: redis.Redis, name: str, consumer: str, claim_idle_ms: int) -> None:
        self.client = client
        self.name = name
        self.key = buffer_key(name)
        self.depth_key = depth_key(name)
        self.intent_key = f"{PREFIX}:intent:{name}"
        self.member_key = f"{PREFIX}:member:{name}"
        self.consumer = consumer
        self.claim_idle_ms = claim_idle_ms
        self._queue: deque[Record[str]] = deque()
        self._queued_ids: set[str] = set()
        self._lock = threading.Lock()
        self._own_pending_read = False
        self._last_claim = 0.0
        self._group_ready = False
        self._suspect = False  # a call failed: what the queue holds may be stale
        self._reserve = client.register_script(_RESERVE_LUA)
        self._release = client.register_script(_RELEASE_LUA)
        self._replay_mark: str | None = None  # newest entry buffered before this process began
        self._replayed = False

    # ---- producer side ----------------------------------------------------------------
    @guard
    def append(self, frame: pl.DataFrame) -> str:
        """XADD the batch (and count its rows) in one transaction; with appendfsync always
        the reply comes after the write reached disk."""
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(self.key, {"f": encode(frame), "n": frame.height})
        pipe.incrby(self.depth_key, frame.height)
        entry_id, _ = pipe.execute()
        return _text(entry_id)

    @property
    def depth(self) -> int:
        return int(self.client.get(self.depth_key) or 0)

    # ---- consumer side ----------------------------------------------------------------
    def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            self.client.xgroup_create(self.key, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        newest = self.client.xrevrange(self.key, count=1)
        self._replay_mark = _text(newest[0][0]) if newest else None
        self._adopt_old_intents()
        self._group_ready = True

    def _adopt_old_intents(self) -> None:
        """Intents written before entries were mapped to their batch (head id -> ids):
        map their entries now, so they are finished whole like any other."""
        pipe = self.client.pipeline(transaction=False)
        for bid, ids in self.client.hgetall(self.intent_key).items():
            for eid in _text(ids).split(","):
                pipe.hsetnx(self.member_key, eid, _text(bid))
        pipe.execute()

    def _enqueue(self, entries: list[_Entry]) -> int:
        added = 0
        for entry_id, fields in entries:
            eid = _text(entry_id)
            if not fields or eid in self._queued_ids:
                continue  # deleted meanwhile, or already queued
            frame = decode(fields[b"f"])
            ms = int(eid.split("-")[0])
            self._queue.append(Record(eid, eid, frame, ms / 1000))
            self._queued_ids.add(eid)
            added += 1
        return added

    def _drop(self, ids: set[str]) -> None:
        self._queue = deque(r for r in self._queue if r.start not in ids)
        self._queued_ids -= ids

    def _fill(self) -> None:
        """Own pending entries first, then entries of dead consumers, then new ones."""
        self._ensure_group()
        if self._suspect:
            self._verify()
        if not self._own_pending_read:
            start = "0"
            while True:
                got = self.client.xreadgroup(GROUP, self.consumer, {self.key: start}, count=READ_COUNT)
                entries = _entries(got)
                self._enqueue(entries)
                if len(entries) < READ_COUNT:
                    break
                start = _text(entries[-1][0])
            self._own_pending_read = True
        now = time.monotonic()
        if now - self._last_claim > max(self.claim_idle_ms / 4000, 0.5):
            self._last_claim = now
            result = self.client.xautoclaim(self.key, GROUP, self.consumer, self.claim_idle_ms,
                                            start_id="0-0", count=READ_COUNT)
            claimed = result[1] if len(result) > 1 else []
            if claimed:
                reach("redis.claimed", redis_client=self.client)
            if self._enqueue(claimed):
                log.info("event=redis.claimed stream=%s entries=%d", self.name, len(claimed))
        if len(self._queue) < READ_COUNT:
            got = self.client.xreadgroup(GROUP, self.consumer, {self.key: ">"}, count=READ_COUNT)
            self._enqueue(_entries(got))

    def _verify(self) -> None:
        """After a failed call: forget queued entries that are gone (a release whose reply
        was lost did happen) and read this consumer's pending entries again (a read whose
        reply was lost did deliver)."""
        pipe = self.client.pipeline(transaction=False)
        queued = [r.start for r in self._queue]
        for eid in queued:
            pipe.xrange(self.key, eid, eid)
        gone = {eid for eid, found in zip(queued, pipe.execute(), strict=True) if not found}
        if gone:
            log.info("event=redis.released_meanwhile stream=%s entries=%d", self.name, len(gone))
            self._drop(gone)
        self._own_pending_read = False
        self._suspect = False

    def _whole(self, bid: str) -> list[Record[str]] | None:
        """The reserved batch ``bid``, fetched whole: entries this consumer does not hold
        are claimed from whoever does. None when the batch is gone (released meanwhile)."""
        ids = self.client.hget(self.intent_key, bid)
        if ids is None:
            self._suspect = True
            return None
        wanted = _text(ids).split(",")
        missing: list[StreamIdT] = [eid for eid in wanted if eid not in self._queued_ids]
        if missing:
            # XCLAIM (without JUSTID) answers with the claimed entries
            claimed = self.client.xclaim(self.key, GROUP, self.consumer, 0, missing)
            self._enqueue(cast("list[_Entry]", claimed))
            reach("redis.batch_claimed", redis_client=self.client)
        by_id = {r.start: r for r in self._queue}
        if any(eid not in by_id for eid in wanted):
            # an entry of a reserved batch can only be gone if the whole batch was released
            self._suspect = True
            return None
        return [by_id[eid] for eid in wanted]

    @guard
    def next_batch(self, max_rows: int, max_age_s: float, force: bool = False) -> list[Record[str]]:
        """The next batch to insert, already reserved in Redis; [] when none is due."""
        with self._lock:
            try:
                return self._next(max_rows, max_age_s, force)
            except BaseException:
                self._suspect = True
                raise

    def _next(self, max_rows: int, max_age_s: float, force: bool) -> list[Record[str]]:
        for _ in range(8):
            self._fill()
            if not self._queue:
                return []
            ordered = sorted(self._queue, key=_order)
            owners = self.client.hmget(self.member_key, [r.start for r in ordered])
            if owners[0] is not None:
                whole = self._whole(_text(owners[0]))
                if whole is not None:
                    return whole
                continue
            batch: list[Record[str]] = []
            rows = 0
            for r, owner in zip(ordered, owners, strict=True):
                if owner is not None or (batch and rows + r.rows > max_rows):
                    break
                batch.append(r)
                rows += r.rows
            ready = force or rows >= max_rows or len(batch) < len(ordered) or (
                time.time() - batch[0].appended_at >= max_age_s)
            if not ready:
                return []
            ids = [r.start for r in batch]
            outcome = self._reserve(keys=[self.key, self.member_key, self.intent_key],
                                    args=[ids[0], *ids])
            reach("redis.reserved", redis_client=self.client)
            if outcome[0] == 1:
                return batch
            if outcome[0] == 3:  # gone: written and released by another consumer
                self._drop({ids[int(outcome[1])]})
            # 2: taken by another batch meanwhile — look again
        return []

    def begin(self, batch: list[Record[str]]) -> str:
        """The batch was reserved when it was handed out; its token names its entries."""
        ids = ",".join(r.start for r in batch)
        return f"redis:{self.name}:{hashlib.sha1(ids.encode(), usedforsecurity=False).hexdigest()}"

    @guard
    def confirm(self, batch: list[Record[str]]) -> None:
        args: list[Any] = [GROUP, batch[0].start]
        for r in batch:
            args += [r.start, r.rows]
        try:
            self._release(keys=[self.key, self.member_key, self.intent_key, self.depth_key],
                          args=args)
            reach("redis.released", redis_client=self.client)
        except BaseException:
            self._suspect = True
            raise
        with self._lock:
            self._drop({r.start for r in batch})

    def pending_records(self) -> list[Record[str]]:
        with self._lock:
            return list(self._queue)

    def oldest_age(self) -> float:
        with self._lock:
            return time.time() - min((r.appended_at for r in self._queue), default=time.time())

    @guard
    def replayed(self) -> bool:
        """Whether everything buffered before this process began has been written."""
        if self._replayed:
            return True
        if not self._group_ready:
            return False
        mark = self._replay_mark
        self._replayed = mark is None or not self.client.xrange(self.key, "-", mark, count=1)
        return self._replayed


#: a stream entry as Redis returns it: its id and its fields (None: deleted since delivered)
_Entry = tuple["bytes | str", "dict[bytes, bytes] | None"]


def _entries(reply: Any) -> list[_Entry]:
    """The entries of a one-stream ``XREADGROUP`` reply (``[[stream, entries]]``; nothing
    new: an empty reply). Redis replies are untyped: this is where they get a type."""
    return cast("list[_Entry]", reply[0][1]) if reply else []


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _order(r: Record[str]) -> tuple[int, ...]:
    return tuple(map(int, str(r.start).split("-")))


class RedisBuffer:
    """The buffers of every table in one Redis; ``consumer`` names this process's reader."""

    def __init__(self, client: redis.Redis, names: list[str], consumer: str | None = None,
                 claim_idle_ms: int = CLAIM_IDLE_MS) -> None:
        self.client = client
        self.consumer = consumer or f"{socket.gethostname()}-{threading.get_native_id()}"
        self._logs = {n: RedisStreamLog(client, n, self.consumer, claim_idle_ms) for n in names}
        self._by_key = {lg.key: lg for lg in self._logs.values()}
        self._depth_cache = (0.0, 0)

    def log(self, name: str) -> RedisStreamLog:
        return self._logs[name]

    def names(self) -> list[str]:
        return list(self._logs)

    @property
    @guard
    def depth(self) -> int:
        """Rows waiting across tables (read from Redis at most every 200 ms)."""
        at, value = self._depth_cache
        if time.monotonic() - at > 0.2:
            pipe = self.client.pipeline(transaction=False)
            for lg in self._logs.values():
                pipe.get(lg.depth_key)
            value = sum(int(v or 0) for v in pipe.execute())
            self._depth_cache = (time.monotonic(), value)
        return value

    def replayed(self) -> bool:
        return all(lg.replayed() for lg in self._logs.values())

    @guard
    def wait(self, timeout: float) -> bool:
        """Block on every table's stream at once (one ``XREADGROUP … BLOCK``) until a batch
        arrives for this consumer or ``timeout`` passes; what it delivers is queued in its
        log, where the writer's next look finds it (see ``Buffer.wait``). Entries delivered
        here are pending for this consumer like any read, so a crash now loses nothing."""
        for lg in self._logs.values():
            with lg._lock:
                lg._ensure_group()
        reply = self.client.xreadgroup(GROUP, self.consumer, dict.fromkeys(self._by_key, ">"),
                                       count=READ_COUNT, block=max(1, int(timeout * 1000)))
        got = 0
        for key, entries in cast("list[tuple[bytes, list[_Entry]]]", reply or []):
            lg = self._by_key[_text(key)]
            with lg._lock:
                got += lg._enqueue(entries)
        return got > 0

    def wake(self) -> None:
        """A blocking read cannot be cut short; it ends within its timeout."""

    def close(self) -> None:
        self.client.close()
