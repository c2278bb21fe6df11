"""The typed seams hold at run time: each real implementation satisfies its protocol
(``ingest.buffer``: buffer, batch log, seen-set; ``ioc_app.storage.SqlStore``), and code
written against a protocol alone works on every implementation — the write-ahead log with
the in-process seen-set, Redis with its seen-set, and the real engine. mypy checks the same
statically (``./dev lint``)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import redis

from ingest.buffer import BatchLog, Buffer, Buffered, R, SeenSet
from ingest.dedup import MemorySeenSet
from ingest.redis_buffer import RedisBuffer
from ingest.redis_seen import RedisSeenSet
from ingest.wal import WriteAheadLog
from ioc_app.storage import SqlStore, Store
from tests.conftest import RedisServer

NOW = datetime(2026, 9, 1, 8, 30, tzinfo=UTC)
TABLE = "gate_pass"


def events(*ids: str) -> pl.DataFrame:
    return pl.DataFrame({"event_id": list(ids), "gate_id": ["G1"] * len(ids)})


def depth_becomes(buffer: Buffer[R], rows: int) -> bool:
    """The buffer's depth reaches ``rows`` (Redis reads it at most every 200 ms)."""
    deadline = time.monotonic() + 2
    while buffer.depth != rows and time.monotonic() < deadline:
        time.sleep(0.05)
    return buffer.depth == rows


def through_the_seams(buffer: Buffer[R], seen: SeenSet[R]) -> list[str]:
    """Accept, deduplicate, drain and release a batch using nothing but the protocols;
    returns the ids the drain saw, in order."""
    log = buffer.log(TABLE)
    new = seen.append_unique("gate", log, events("a", "b", "a", "c"), NOW)
    assert new.tolist() == [True, True, False, True]  # a repeat inside the batch counts once
    again = seen.append_unique("gate", log, events("c", "d"), NOW)
    assert again.tolist() == [False, True]  # c was claimed by the first batch
    assert depth_becomes(buffer, 4)
    batch = log.next_batch(max_rows=100, max_age_s=0, force=True)
    assert batch and all(isinstance(r, Buffered) for r in batch)
    token = log.begin(batch)
    assert token == log.begin(batch)  # the same batch always gets the same token
    drained = [i for r in batch for i in r.frame["event_id"].to_list()]
    assert sum(r.rows for r in batch) == len(drained)
    log.confirm(batch)
    assert depth_becomes(buffer, 0) and log.pending_records() == []
    assert log.next_batch(max_rows=100, max_age_s=0, force=True) == []
    return drained


def test_the_write_ahead_log_and_the_memory_seen_set(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path / "wal")
    try:
        seen = MemorySeenSet()
        assert isinstance(wal, Buffer) and isinstance(wal.log(TABLE), BatchLog)
        assert isinstance(seen, SeenSet)
        assert through_the_seams(wal, seen) == ["a", "b", "c", "d"]
        assert wal.replayed()
    finally:
        wal.close()


def test_redis_and_its_seen_set(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    buffer = RedisBuffer(client, [TABLE], consumer="seams")
    try:
        seen = RedisSeenSet(client)
        assert isinstance(buffer, Buffer) and isinstance(buffer.log(TABLE), BatchLog)
        assert isinstance(seen, SeenSet)
        assert through_the_seams(buffer, seen) == ["a", "b", "c", "d"]
        assert buffer.replayed()
    finally:
        buffer.close()


def through_the_store(store: SqlStore) -> None:
    """Every call of the store protocol, on one small table."""
    store.command("CREATE TABLE seams (k String, received DateTime64(3, 'UTC'), loaded DateTime64(3, 'UTC')) "
                  "ENGINE = MergeTree ORDER BY k")
    received = datetime.now(UTC).replace(microsecond=0)
    old = received - timedelta(days=1)
    frame = pl.DataFrame({"k": ["x", "y"], "received": [received, received - timedelta(days=30)],
                          "loaded": [old, old]})
    assert store.insert("seams", frame) == 2
    assert store.rows("SELECT count() FROM seams") == [(2,)]
    assert store.query("SELECT k FROM seams WHERE k = {k:String}", {"k": "x"})["k"].to_list() == ["x"]
    assert store.recent_keys("seams", "k", "received", 7)["key"].to_list() == ["x"]
    newer = pl.DataFrame({"k": ["z"], "received": [received], "loaded": [received]})
    assert store.replace_versioned("seams", newer, "loaded") == 1
    assert store.rows("SELECT k FROM seams ORDER BY k") == [("z",)]
    assert store.cluster == "" and store.database


def test_the_store(store: Store) -> None:
    assert isinstance(store, SqlStore)
    through_the_store(store)
