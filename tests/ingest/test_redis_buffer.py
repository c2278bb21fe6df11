"""The Redis buffer against a real redis-server: durability checks, batch entries,
acknowledge-after-insert, own-pending and claimed entries, Redis restarts, and the same
exactly-once guarantees as the embedded log."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
import redis

from ingest.gate import GATE_PASS
from ingest.pipeline import BUFFER_NAMES, Backpressure, Pipeline, build_ingest
from ingest.redis_buffer import RedisBuffer
from ingest.redis_client import RedisDurabilityError, check_durability
from ingest.redis_seen import RedisSeenSet
from ingest.writer import Writer
from ioc_app.storage import Store
from tests.conftest import RedisServer
from tests.ingest.strategies import random_events

NOW = datetime.now(UTC).replace(microsecond=0)


def count(store: Store) -> int:
    return store.rows("SELECT count() FROM gate_pass")[0][0]


def redis_pipeline(store: Store, server: RedisServer, consumer: str = "c1", idle_ms: int = 60_000):
    client = redis.Redis.from_url(server.url)
    buffer = RedisBuffer(client, BUFFER_NAMES, consumer, idle_ms)
    pipeline = Pipeline(store, buffer, RedisSeenSet(client))
    return pipeline, Writer(store, buffer)


def test_durability_is_checked(tmp_path: Path) -> None:
    lax = RedisServer(tmp_path / "lax", durable=False)
    try:
        client = redis.Redis(port=lax.port)
        with pytest.raises(RedisDurabilityError) as err:
            check_durability(client)
        text = str(err.value)
        assert "appendonly yes" in text and "appendfsync always" in text
        assert "IOC_REDIS_DURABILITY=relaxed" in text
        check_durability(client, relaxed=True)  # accepted, with the loss window logged
    finally:
        lax.stop()


def test_batches_are_entries_acknowledged_after_insert(migrated: Store, redis_server) -> None:
    pipeline, writer = redis_pipeline(migrated, redis_server)
    client = redis.Redis.from_url(redis_server.url)
    for seed in range(3):
        pipeline.submit(GATE_PASS, random_events(GATE_PASS, 1000, seed, NOW), source="t", now=NOW)
    assert client.xlen("ioc:buffer:gate_pass") == 3  # one entry per batch, not per event
    assert pipeline.buffer.log("gate_pass").depth == 3000
    writer.flush_once(force=True)
    assert count(migrated) == 3000
    assert client.xlen("ioc:buffer:gate_pass") == 0  # acknowledged, then deleted
    assert client.xpending("ioc:buffer:gate_pass", "writers")["pending"] == 0
    assert pipeline.buffer.log("gate_pass").depth == 0


def test_dedup_is_shared_by_every_process(migrated: Store, redis_server) -> None:
    web1, writer = redis_pipeline(migrated, redis_server, "a")
    web2, _ = redis_pipeline(migrated, redis_server, "b")
    events = random_events(GATE_PASS, 300, 7, NOW)
    assert web1.submit(GATE_PASS, events, source="t", now=NOW).accepted == 300
    again = web2.submit(GATE_PASS, events, source="t", now=NOW)
    assert (again.accepted, again.duplicates) == (0, 300)
    writer.flush_once(force=True)
    assert count(migrated) == 300


def test_restart_reads_own_pending_first(migrated: Store, redis_server) -> None:
    pipeline, _ = redis_pipeline(migrated, redis_server, "stable")
    pipeline.submit(GATE_PASS, random_events(GATE_PASS, 500, 8, NOW), source="t", now=NOW)
    batch = pipeline.buffer.log("gate_pass").next_batch(10**6, 0, force=True)
    assert batch  # read: now pending for "stable", then the process dies
    _, writer2 = redis_pipeline(migrated, redis_server, "stable")
    writer2.flush_once(force=True)
    assert count(migrated) == 500


def test_dead_consumer_batch_is_claimed_and_finished_once(migrated: Store, redis_server) -> None:
    dead, _ = redis_pipeline(migrated, redis_server, "dead", idle_ms=200)
    dead.submit(GATE_PASS, random_events(GATE_PASS, 400, 9, NOW), source="t", now=NOW)
    dead.submit(GATE_PASS, random_events(GATE_PASS, 400, 10, NOW), source="t", now=NOW)
    log = dead.buffer.log("gate_pass")
    batch = log.next_batch(10**6, 0, force=True)
    token = log.begin(batch)
    migrated.insert("gate_pass", pl.concat([r.frame for r in batch]),
                    settings={"insert_deduplication_token": token})
    # … and dies before acknowledging. Another consumer takes over once the entries idle.
    time.sleep(0.5)
    _, live = redis_pipeline(migrated, redis_server, "live", idle_ms=200)
    live.flush_once(force=True)
    assert count(migrated) == 800
    assert migrated.rows("SELECT sum(attempts) FROM gate_pass_1m")[0][0] == 800
    client = redis.Redis.from_url(redis_server.url)
    assert client.xlen("ioc:buffer:gate_pass") == 0


def test_redis_restart_keeps_accepted_events_and_seen_ids(migrated: Store, redis_server) -> None:
    pipeline, _ = redis_pipeline(migrated, redis_server)
    events = random_events(GATE_PASS, 600, 11, NOW)
    pipeline.submit(GATE_PASS, events, source="t", now=NOW)
    redis_server.restart()  # AOF with appendfsync always: everything acknowledged is back
    pipeline2, writer2 = redis_pipeline(migrated, redis_server, "c2")
    assert pipeline2.submit(GATE_PASS, events, source="t", now=NOW).duplicates == 600
    writer2.flush_once(force=True)
    assert count(migrated) == 600


def test_redis_down_means_503_not_200(migrated: Store, redis_server) -> None:
    pipeline, _ = redis_pipeline(migrated, redis_server)
    redis_server.stop()
    with pytest.raises(Backpressure) as err:
        pipeline.submit(GATE_PASS, random_events(GATE_PASS, 10, 12, NOW), source="t", now=NOW)
    assert err.value.status == 503 and "unavailable" in err.value.message


def test_build_ingest_refuses_a_lossy_redis(migrated: Store, tmp_path: Path) -> None:
    lax = RedisServer(tmp_path / "lax2", durable=False)
    try:
        with pytest.raises(RedisDurabilityError):
            build_ingest(migrated, redis_url=lax.url)
    finally:
        lax.stop()


def small_batches(pipeline: Pipeline, n: int, size: int, seed: int) -> None:
    for k in range(n):
        pipeline.submit(GATE_PASS, random_events(GATE_PASS, size, seed * 1000 + k, NOW), source="t",
                        now=NOW)


def stored(store: Store) -> tuple[int, int, int, int]:
    """Rows, distinct ids, and what the minute and hour rollups counted."""
    return (*store.rows("SELECT count(), uniqExact(event_id) FROM gate_pass")[0],
            store.rows("SELECT sum(attempts) FROM gate_pass_1m")[0][0],
            store.rows("SELECT sum(attempts) FROM gate_pass_1h")[0][0])


@pytest.fixture()
def faults(monkeypatch):
    """Arm fault points for this test: ``faults("redis.released=1:redis")``."""
    from ingest import faults as module

    def arm(spec: str) -> None:
        monkeypatch.setenv("IOC_FAULTS", spec)
        module._plan = None

    yield arm
    monkeypatch.delenv("IOC_FAULTS", raising=False)
    module._plan = None


def test_release_whose_reply_was_lost_is_not_written_again(migrated: Store, redis_server,
                                                           faults) -> None:
    """Redis releases a written batch and dies before answering: the writer must not take the
    batch's entries, still in its queue, for unwritten ones (they would go in again under
    another token, with whatever arrived since)."""
    pipeline, writer = redis_pipeline(migrated, redis_server)
    small_batches(pipeline, 2, 500, 1)
    faults("redis.released=1:redis")
    with pytest.raises(OSError):
        writer.flush_once(force=True)  # inserted, released, then redis-server was SIGKILLed
    faults("")
    redis_server.start()  # its AOF has the release
    small_batches(pipeline, 1, 500, 2)
    writer.flush_once(force=True)
    assert stored(migrated) == (1500, 1500, 1500, 1500)
    assert pipeline.buffer.log("gate_pass").depth == 0


def test_a_reserved_batch_is_finished_whole_by_whoever_holds_part_of_it(migrated: Store,
                                                                        redis_server) -> None:
    """A consumer reserves and writes 70 entries, then dies before releasing them; another
    claims them 64 at a time (XAUTOCLAIM's page). It must insert the same 70 under the same
    token, not the first 64 as a new batch."""
    dead, _ = redis_pipeline(migrated, redis_server, "dead", idle_ms=200)
    log = dead.buffer.log("gate_pass")
    small_batches(dead, 60, 10, 3)
    assert log.next_batch(10**6, 3600) == []  # read, not yet due
    small_batches(dead, 10, 10, 4)
    batch = log.next_batch(10**6, 0, force=True)
    assert len(batch) == 70
    migrated.insert("gate_pass", pl.concat([r.frame for r in batch]),
                    settings={"insert_deduplication_token": log.begin(batch)})
    time.sleep(0.5)
    _, live = redis_pipeline(migrated, redis_server, "live", idle_ms=200)
    live.flush_once(force=True)
    assert stored(migrated) == (700, 700, 700, 700)
    assert live.buffer.log("gate_pass").depth == 0
    client = redis.Redis.from_url(redis_server.url)
    assert client.xlen("ioc:buffer:gate_pass") == 0
    assert client.hlen("ioc:member:gate_pass") == 0 and client.hlen("ioc:intent:gate_pass") == 0


def test_two_consumers_holding_one_batch_write_it_once_and_count_it_once(migrated: Store,
                                                                         redis_server) -> None:
    """A slow consumer and one that claimed its entries both finish the same reserved batch:
    same entries, same token, one copy stored, and the buffer depth drops once."""
    slow, slow_writer = redis_pipeline(migrated, redis_server, "slow", idle_ms=100)
    small_batches(slow, 3, 200, 5)
    first = slow.buffer.log("gate_pass").next_batch(10**6, 0, force=True)
    time.sleep(0.3)
    fast, fast_writer = redis_pipeline(migrated, redis_server, "fast", idle_ms=100)
    small_batches(fast, 2, 200, 6)  # newer entries, behind the reserved ones
    second = fast.buffer.log("gate_pass").next_batch(10**6, 0, force=True)
    assert [r.start for r in second] == [r.start for r in first]
    assert fast.buffer.log("gate_pass").begin(second) == slow.buffer.log("gate_pass").begin(first)
    fast_writer.flush_once(force=True)  # the reserved batch, then the newer entries
    slow_writer.flush_once(force=True)  # the same batch again: dropped by its token
    assert stored(migrated) == (1000, 1000, 1000, 1000)
    assert slow.buffer.log("gate_pass").depth == 0


def test_a_restart_says_when_the_entries_it_found_are_written(migrated: Store, redis_server) -> None:
    pipeline, _ = redis_pipeline(migrated, redis_server, "before")
    small_batches(pipeline, 2, 300, 7)
    _, writer = redis_pipeline(migrated, redis_server, "after")
    buffer = writer.buffer
    assert not buffer.replayed()  # not even looked at yet
    writer.flush_once(force=True)
    assert buffer.replayed() and stored(migrated)[0] == 600
    small_batches(pipeline, 1, 300, 8)
    assert buffer.replayed()


def test_an_intent_left_by_the_previous_release_is_finished_whole(migrated: Store, redis_server) -> None:
    """An upgrade can find a batch begun by the previous release: its intent names the batch
    by its first entry only. The new consumer adopts it and inserts exactly those entries."""
    old, _ = redis_pipeline(migrated, redis_server, "old")
    small_batches(old, 3, 100, 9)
    client = redis.Redis.from_url(redis_server.url)
    client.xgroup_create("ioc:buffer:gate_pass", "writers", id="0", mkstream=True)
    read = client.xreadgroup("writers", "old", {"ioc:buffer:gate_pass": ">"}, count=2)[0][1]
    ids = [e[0].decode() for e in read]
    frame = pl.concat([pl.read_ipc_stream(e[1][b"f"]) for e in read])
    token = f"redis:gate_pass:{hashlib.sha1(','.join(ids).encode()).hexdigest()}"
    migrated.insert("gate_pass", frame, settings={"insert_deduplication_token": token})
    client.hset("ioc:intent:gate_pass", ids[0], ",".join(ids))  # the previous release's intent
    _, writer = redis_pipeline(migrated, redis_server, "old")
    writer.flush_once(force=True)
    assert stored(migrated) == (300, 300, 300, 300)
    assert writer.buffer.log("gate_pass").depth == 0
