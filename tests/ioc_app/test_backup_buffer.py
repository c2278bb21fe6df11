"""Backups of the durable buffer: the cut-off under concurrent writes, the buffer's batches
the restored store already holds, and the Redis buffer (a real ``redis-server``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingest.gate import GATE_PASS
from ioc_app.backup import take_backup
from ioc_app.backup_manifest import BackupError
from ioc_app.settings import Settings, load_settings
from ioc_app.storage import Store
from tests.conftest import ROOT, run_cli
from tests.ingest.strategies import random_events
from tests.ioc_app.backup_support import fresh, ok

NOW = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)  # events' own times: fixed, whatever the clock says


def test_backup_while_events_are_written_restores_every_acknowledged_event(
        engine_path: Path, tmp_path: Path) -> None:
    """A writer thread submits events through the ingest path while the backup runs; every
    event acknowledged before the cut-off is in the restored installation (store or buffer),
    and none twice."""
    from ioc_app.app import ingest_for

    home = tmp_path / "live"
    home.mkdir()
    settings = Settings(clickhouse_url=f"chdb://{engine_path}", demo=False,
                        tokens_file=str(home / "tokens.toml"), roles_file=str(home / "roles.toml"),
                        backup_key_file=str(home / "backup.key"))
    shutil.rmtree(settings.wal_dir, ignore_errors=True)
    store = Store(f"chdb://{engine_path}", database="b_" + os.urandom(4).hex())
    from ioc_app.migrate import migrate

    migrate(store)
    pipeline, writer = ingest_for(settings, store)
    writer.start()
    acked: list[tuple[float, list[str]]] = []
    stop = threading.Event()

    def produce() -> None:
        seed = 0
        while not stop.is_set():
            events = random_events(GATE_PASS, 50, 1000 + seed, NOW)
            receipt = pipeline.submit(GATE_PASS, events, source="t", now=NOW)
            assert receipt.errors == []
            acked.append((time.time(), [e["event_id"] for e in events]))
            seed += 1

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        deadline = time.monotonic() + 60
        while len(acked) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        m = take_backup(settings, home / "backups" / "b1", store=store)
        during = len(acked)
    finally:
        stop.set()
        producer.join(60)
        writer.stop(drain=True)
        pipeline.buffer.close()
        store.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")
        store.close()
        shutil.rmtree(settings.wal_dir, ignore_errors=True)
    before = {i for at, ids in acked if at < m.cutoff.timestamp() for i in ids}
    assert len(before) >= 250 and during > 5
    env = fresh(tmp_path / "restored", {"IOC_BACKUP_KEY_FILE": str(home / "backup.key")})
    ok(run_cli(env, "restore", "--from", str(home / "backups" / "b1")))
    drained = subprocess.run([sys.executable, "-c", DRAIN], env=env, cwd=ROOT, capture_output=True,
                             text=True, timeout=300)
    assert drained.returncode == 0, drained.stderr[-3000:]
    ids = json.loads(drained.stdout.strip().splitlines()[-1])
    assert len(ids) == len(set(ids)), "an event was written twice"
    assert before <= set(ids)


#: start the restored installation's writer, let it write the restored buffer, list the ids
DRAIN = r"""
import json
from ioc_app.app import ingest_for
from ioc_app.settings import load_settings
from ioc_app.storage import Store
settings = load_settings(dotenv=None)
store = Store(settings.clickhouse_url)
pipeline, writer = ingest_for(settings, store)
writer.start()
writer.stop(drain=True, timeout=240)
assert pipeline.buffer.depth == 0, pipeline.buffer.depth
print(json.dumps([r[0] for r in store.rows("SELECT event_id FROM gate_pass")]))
"""


def test_redis_buffer_entries_come_back_without_those_already_stored(migrated: Store, redis_server: Any,
                                                                     tmp_path: Path) -> None:
    """In Redis mode the buffer's entries (not Redis' files) are dumped; on restore each goes
    back unless the restored store already holds its rows."""
    import polars as pl
    import redis

    from ingest.redis_client import buffer_key, depth_key
    from ingest.wal import encode
    from ioc_app.backup_files import dump_redis, load_redis

    client = redis.Redis.from_url(redis_server.url)
    frames = [pl.DataFrame({"event_id": [f"e{i}-{j}" for j in range(3)]}) for i in range(3)]
    for f in frames:
        client.xadd(buffer_key("gate_pass"), {"f": encode(f), "n": f.height})
        client.incrby(depth_key("gate_pass"), f.height)
    settings = load_settings({"IOC_REDIS_URL": redis_server.url}, dotenv=None)
    assert settings.redis_url
    dump = dump_redis(client, tmp_path)["buffer/redis.jsonl"]
    assert len(dump.read_bytes().splitlines()) == 3
    with pytest.raises(BackupError, match="already buffers"):
        load_redis(client, migrated, dump)
    client.flushall()
    # the first batch reached the store before the backup: it must not be written twice
    # (times within the table's retention, or its TTL drops the rows at once)
    migrated.command("INSERT INTO gate_pass (event_id, ts, received_at) "
                     "SELECT concat('e0-', toString(number)), now64(3), now64(3) FROM numbers(3)")
    assert load_redis(client, migrated, dump) == 2
    back = client.xrange(buffer_key("gate_pass"))
    assert [int(f[b"n"]) for _, f in back] == [3, 3]
    assert int(client.get(depth_key("gate_pass"))) == 6
    client.close()


def test_restored_log_drops_the_batches_the_restored_store_already_holds(migrated: Store,
                                                                        tmp_path: Path) -> None:
    """A batch written between the buffer's copy and the store's backup is in both: the
    restore confirms it in the log, so the writer does not insert it a second time."""
    import polars as pl

    from ingest.wal import WriteAheadLog
    from ioc_app.backup_files import reconcile_wal

    wal = WriteAheadLog(tmp_path / "wal")
    for i in range(3):
        wal.log("gate_pass").append(pl.DataFrame({"event_id": [f"w{i}-{j}" for j in range(4)]}))
    wal.close()
    migrated.command("INSERT INTO gate_pass (event_id, ts, received_at) "
                     "SELECT concat('w', toString(intDiv(number, 4)), '-', toString(number % 4)), now64(3), "
                     "now64(3) FROM numbers(8)")  # the first two batches
    assert reconcile_wal(migrated, tmp_path / "wal") == 2
    again = WriteAheadLog(tmp_path / "wal")
    pending = again.log("gate_pass").pending_records()
    assert [r.frame["event_id"].to_list() for r in pending] == [[f"w2-{j}" for j in range(4)]]
    again.close()


def test_redis_buffer_travels_with_the_backup_into_a_new_redis(migrated: Store, engine_path: Path,
                                                               redis_server: Any, tmp_path: Path) -> None:
    """Redis mode: the backup holds the buffer's entries; ``restore`` puts them into another
    (empty) Redis, without the batch the store already held."""
    import polars as pl
    import redis

    from ingest.redis_client import buffer_key
    from ingest.wal import encode
    from tests.conftest import RedisServer

    client = redis.Redis.from_url(redis_server.url)
    for i in range(3):
        f = pl.DataFrame({"event_id": [f"q{i}-{j}" for j in range(2)]})
        client.xadd(buffer_key("gate_pass"), {"f": encode(f), "n": f.height})
    migrated.command("INSERT INTO gate_pass (event_id, ts, received_at) "
                     "SELECT concat('q0-', toString(number)), now64(3), now64(3) FROM numbers(2)")
    home = tmp_path / "src"
    home.mkdir()
    settings = Settings(clickhouse_url=f"chdb://{engine_path}", demo=False, redis_url=redis_server.url,
                        tokens_file=str(home / "tokens.toml"), roles_file=str(home / "roles.toml"),
                        backup_key_file=str(home / "backup.key"))
    m = take_backup(settings, home / "backups" / "r1", store=migrated)
    assert m.buffer == "redis" and "buffer/redis.jsonl" in m.files
    other = RedisServer(tmp_path / "redis-new")
    try:
        env = fresh(tmp_path / "dst", {"IOC_BACKUP_KEY_FILE": str(home / "backup.key")})
        env["IOC_REDIS_URL"] = other.url
        ok(run_cli(env, "restore", "--from", str(home / "backups" / "r1")))
        back = redis.Redis.from_url(other.url).xrange(buffer_key("gate_pass"))
        assert [decode_ids(f[b"f"]) for _, f in back] == [["q1-0", "q1-1"], ["q2-0", "q2-1"]]
        # a Redis that already buffers events is not overwritten
        done = run_cli(env, "restore", "--from", str(home / "backups" / "r1"))
        assert done.returncode == 1 and "already buffers" in done.stderr
    finally:
        other.stop()
        client.close()


def decode_ids(blob: bytes) -> list[str]:
    from ingest.wal import decode

    return [str(x) for x in decode(blob)["event_id"].to_list()]
