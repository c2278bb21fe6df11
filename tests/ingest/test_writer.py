"""Adaptive flushing on the real engine, over the write-ahead log and a real redis-server: a
lone event is written at once, a backlog goes in large inserts, an idle writer blocks instead
of polling, and every confirmed insert is announced to the writer's listeners."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

from ingest.gate import GATE_PASS
from ingest.pipeline import BUFFER_NAMES, Pipeline
from ingest.redis_buffer import RedisBuffer
from ingest.redis_seen import RedisSeenSet
from ingest.wal import WriteAheadLog
from ingest.writer import Writer
from ioc_app.storage import Store
from tests.ingest.strategies import random_events

NOW = datetime.now(UTC).replace(microsecond=0)


def count(store: Store) -> int:
    return int(store.rows("SELECT count() FROM gate_pass")[0][0])


def wait_for(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


class Looks:
    """Counts how often the writer looks at its logs (each ``flush_once``)."""

    def __init__(self, writer: Writer[Any]) -> None:
        self.n = 0
        original = writer.flush_once

        def counted(force: bool = False) -> int:
            self.n += 1
            return original(force)

        writer.flush_once = counted  # type: ignore[method-assign]


def check_writer(store: Store, pipeline: Pipeline[Any], writer: Writer[Any]) -> None:
    committed: list[str] = []
    writer.add_listener(committed.append)
    looks = Looks(writer)
    writer.start()
    try:
        # a lone event: written at once (no batch age to wait out), and announced
        pipeline.submit(GATE_PASS, random_events(GATE_PASS, 1, 1, NOW), source="t", now=NOW)
        wait_for(lambda: count(store) == 1)
        wait_for(lambda: "gate_pass" in committed)
        assert writer.inserts == 1
        # idle: the writer blocks on the buffer rather than looking every 20 ms
        wait_for(lambda: looks.n >= 1)
        idle_from, at = looks.n, time.monotonic()
        time.sleep(1.0)
        idle_s = time.monotonic() - at
        assert looks.n - idle_from <= 2 + idle_s / 2.0  # one look per 2 s wait at most
        pipeline.submit(GATE_PASS, random_events(GATE_PASS, 2, 2, NOW), source="t", now=NOW)
        wait_for(lambda: count(store) == 3)
    finally:
        writer.stop(drain=True)


def test_wal_writer_inserts_at_once_and_blocks_when_idle(migrated: Store, tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path / "wal")
    try:
        check_writer(migrated, Pipeline(migrated, wal), Writer(migrated, wal))
    finally:
        wal.close()


def test_redis_writer_inserts_at_once_and_blocks_when_idle(migrated: Store, redis_server) -> None:
    client = redis.Redis.from_url(redis_server.url)
    buffer = RedisBuffer(client, BUFFER_NAMES, "w1")
    check_writer(migrated, Pipeline(migrated, buffer, RedisSeenSet(client)), Writer(migrated, buffer))


def test_a_backlog_goes_in_large_inserts(migrated: Store, tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path / "wal")
    try:
        pipeline = Pipeline(migrated, wal)
        for seed in range(40):  # 40 requests of 100 events wait while the writer is busy
            pipeline.submit(GATE_PASS, random_events(GATE_PASS, 100, seed, NOW), source="t", now=NOW)
        sizes: list[int] = []
        writer = Writer(migrated, wal, batch_rows=1_000)
        original = writer.store.insert

        def insert(table: str, frame: Any, **kw: Any) -> Any:
            if table == "gate_pass":
                sizes.append(frame.height)
            return original(table, frame, **kw)

        writer.store = _Spy(migrated, insert)
        writer.start()
        wait_for(lambda: count(migrated) == 4_000)
        writer.stop(drain=True)
        # the batch grew with the backlog up to its cap: 4 inserts, not 40
        assert sizes == [1_000] * 4
    finally:
        wal.close()


class _Spy:
    """The store with its ``insert`` observed (every other call goes to the store)."""

    def __init__(self, store: Store, insert: Any) -> None:
        self._store = store
        self.insert = insert

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_a_stopping_writer_is_not_held_by_its_wait(migrated: Store, tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path / "wal")
    try:
        writer = Writer(migrated, wal).start()
        time.sleep(0.2)
        stopper = threading.Thread(target=writer.stop, kwargs={"drain": False})
        stopper.start()
        stopper.join(30)
        assert not writer.running
    finally:
        wal.close()


def test_a_table_written_a_moment_ago_lets_its_next_batch_grow(migrated: Store, tmp_path: Path,
                                                               monkeypatch) -> None:
    import ingest.writer

    monkeypatch.setattr(ingest.writer, "LINGER_S", 600.0)  # "a moment" as long as the test
    wal = WriteAheadLog(tmp_path / "wal")
    try:
        pipeline, writer = Pipeline(migrated, wal), Writer(migrated, wal)
        pipeline.submit(GATE_PASS, random_events(GATE_PASS, 5, 1, NOW), source="t", now=NOW)
        assert writer.flush_once() == 5  # the table was idle: written at once
        pipeline.submit(GATE_PASS, random_events(GATE_PASS, 7, 2, NOW), source="t", now=NOW)
        pipeline.submit(GATE_PASS, random_events(GATE_PASS, 9, 3, NOW), source="t", now=NOW)
        assert writer.flush_once() == 0  # written a moment ago: the next batch grows
        assert writer._linger_due is not None
        assert writer.flush_once(force=True) == 16 and writer.inserts == 2  # one insert for both
    finally:
        wal.close()
