"""The embedded ingest path on the real engine: durable buffer, dedup, dead letters, replay,
crash recovery of the write-ahead log and backpressure."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.gate import GATE_PASS
from ingest.pipeline import Backpressure, Pipeline
from ingest.wal import WalBusy, WriteAheadLog
from ingest.writer import Writer
from ioc_app.storage import Store, StoreError
from metrics.deadletter import list_dead_letters
from tests.ingest.strategies import random_events

NOW = datetime.now(UTC).replace(microsecond=0)


def count(store: Store, table: str = "gate_pass") -> int:
    return store.rows(f"SELECT count() FROM {table}")[0][0]


def test_accepted_events_reach_the_store_once(pipeline: Pipeline) -> None:
    events = random_events(GATE_PASS, 500, 1, NOW)
    r = pipeline.submit(GATE_PASS, events, source="t", now=NOW)
    assert (r.accepted, r.duplicates, r.rejected) == (500, 0, 0)
    assert pipeline.buffer.depth == 500
    pipeline.writer.flush_once(force=True)
    assert pipeline.buffer.depth == 0
    assert count(pipeline.store) == 500
    assert pipeline.store.rows("SELECT sum(attempts) FROM gate_pass_1m")[0][0] == 500


def test_retries_count_once_and_are_reported(pipeline: Pipeline) -> None:
    events = random_events(GATE_PASS, 200, 2, NOW)
    receipts = [pipeline.submit(GATE_PASS, events, source="t", now=NOW) for _ in range(3)]
    assert [(r.accepted, r.duplicates) for r in receipts] == [(200, 0), (0, 200), (0, 200)]
    twice = events[:10] + events[:10]
    r = pipeline.submit(GATE_PASS, [{**e, "event_id": e["event_id"] + "x"} for e in twice],
                        source="t", now=NOW)
    assert (r.accepted, r.duplicates) == (10, 10)  # repeats inside one batch too
    pipeline.writer.flush_once(force=True)
    assert count(pipeline.store) == 210


def test_rejected_events_become_dead_letters_and_replay(pipeline: Pipeline) -> None:
    good = random_events(GATE_PASS, 3, 3, NOW)
    bad_enum = {**good[0], "event_id": "bad-1", "direction": "sideways"}
    bad_time = {**good[0], "event_id": "bad-2", "ts": "yesterday"}
    r = pipeline.submit(GATE_PASS, [good[1], bad_enum, good[2], bad_time], source="gatesys", now=NOW)
    assert (r.accepted, r.rejected) == (2, 2)
    pipeline.writer.flush_once(force=True)
    letters = list_dead_letters(pipeline.store, "gate.pass")
    assert sorted(letters["reason"].to_list()) == ["bad_enum", "bad_format"]
    assert set(letters["source"].to_list()) == {"gatesys"}
    by_reason = {row["reason"]: row for row in letters.iter_rows(named=True)}
    assert '"direction":"sideways"' in by_reason["bad_enum"]["raw"]

    # replay: one fixed by the caller goes in; the other, replayed as it was, stays open
    fixed = {**bad_enum, "direction": "in"}
    summary = pipeline.replay(letters, {by_reason["bad_enum"]["id"]: fixed}, now=NOW)
    assert summary == {"replayed": 1, "accepted": 1, "duplicates": 0, "still_rejected": 1}
    pipeline.writer.flush_once(force=True)
    open_now = list_dead_letters(pipeline.store, "gate.pass")
    assert open_now["id"].to_list() == [by_reason["bad_format"]["id"]]
    assert pipeline.store.rows("SELECT count() FROM gate_pass WHERE event_id = 'bad-1'")[0][0] == 1
    assert count(pipeline.store) == 3


def test_log_survives_a_crash_before_the_insert(migrated: Store, wal_dir: Path) -> None:
    wal = WriteAheadLog(wal_dir)
    p = Pipeline(migrated, wal)
    p.submit(GATE_PASS, random_events(GATE_PASS, 300, 4, NOW), source="t", now=NOW)
    wal.close()  # the process dies: nothing was written to the store
    assert count(migrated) == 0
    wal = WriteAheadLog(wal_dir)
    p = Pipeline(migrated, wal)
    assert wal.depth == 300
    again = p.submit(GATE_PASS, random_events(GATE_PASS, 300, 4, NOW), source="t", now=NOW)
    assert again.duplicates == 300  # the seen-set was rebuilt from the log
    Writer(migrated, wal).flush_once(force=True)
    assert count(migrated) == 300
    wal.close()


def test_crash_between_insert_and_confirm_does_not_double_count(migrated: Store, wal_dir: Path) -> None:
    wal = WriteAheadLog(wal_dir)
    Pipeline(migrated, wal).submit(GATE_PASS, random_events(GATE_PASS, 250, 5, NOW), source="t", now=NOW)
    log = wal.log("gate_pass")
    import polars as pl

    batch = log.next_batch(10**6, 0, force=True)
    token = log.begin(batch)
    migrated.insert("gate_pass", pl.concat([r.frame for r in batch]),
                    settings={"insert_deduplication_token": token})
    wal.close()  # crash before confirm
    wal = WriteAheadLog(wal_dir)
    assert wal.log("gate_pass").intent is not None
    Writer(migrated, wal).flush_once(force=True)  # redoes exactly the intended batch
    assert count(migrated) == 250
    assert migrated.rows("SELECT sum(attempts) FROM gate_pass_1h")[0][0] == 250
    assert wal.depth == 0
    wal.close()


def test_torn_tail_is_cut_and_earlier_records_kept(migrated: Store, wal_dir: Path) -> None:
    wal = WriteAheadLog(wal_dir)
    Pipeline(migrated, wal).submit(GATE_PASS, random_events(GATE_PASS, 40, 6, NOW), source="t", now=NOW)
    wal.close()
    segment = sorted((wal_dir / "gate_pass").glob("*.seg"))[-1]
    with open(segment, "ab") as fh:
        fh.write(b"IW\x00\x10\x00\x00half-written")
    wal = WriteAheadLog(wal_dir)
    assert wal.depth == 40
    Writer(migrated, wal).flush_once(force=True)
    assert count(migrated) == 40
    wal.close()


def test_one_owner_per_log(wal_dir: Path) -> None:
    first = WriteAheadLog(wal_dir)
    with pytest.raises(WalBusy, match="in use by another process"):
        # a second handle in the same process stands in for a second process: flock is
        # per open file description
        WriteAheadLog(wal_dir)
    first.close()


def test_store_failure_keeps_batches_and_backpressure(pipeline: Pipeline) -> None:
    store = pipeline.store
    store.command("RENAME TABLE gate_pass TO gate_pass_away")
    pipeline.submit(GATE_PASS, random_events(GATE_PASS, 100, 7, NOW), source="t", now=NOW)
    with pytest.raises(StoreError):
        pipeline.writer.flush_once(force=True)
    assert pipeline.buffer.depth == 100  # kept for the retry
    pipeline.high_water_rows = 100
    with pytest.raises(Backpressure) as busy:
        pipeline.submit(GATE_PASS, random_events(GATE_PASS, 1, 8, NOW), source="t", now=NOW)
    assert busy.value.status == 429 and busy.value.retry_after > 0
    pipeline.set_store_down(True)
    with pytest.raises(Backpressure) as down:
        pipeline.submit(GATE_PASS, random_events(GATE_PASS, 1, 8, NOW), source="t", now=NOW)
    assert down.value.status == 503 and "unreachable" in down.value.message
    store.command("RENAME TABLE gate_pass_away TO gate_pass")
    pipeline.writer.flush_once(force=True)
    pipeline.set_store_down(False)
    assert count(store) == 100 and pipeline.buffer.depth == 0


def test_a_restart_says_when_its_replay_of_the_log_is_complete(migrated: Store, wal_dir: Path) -> None:
    """Replay complete means everything the log held at start is in the store — not merely
    that the writer has started; events accepted after the start do not hold it back."""
    wal = WriteAheadLog(wal_dir)
    Pipeline(migrated, wal).submit(GATE_PASS, random_events(GATE_PASS, 400, 21, NOW), source="t", now=NOW)
    wal.close()  # stopped with the batch still buffered
    wal = WriteAheadLog(wal_dir)
    pipeline = Pipeline(migrated, wal)
    writer = Writer(migrated, wal)
    assert not wal.replayed()
    pipeline.submit(GATE_PASS, random_events(GATE_PASS, 100, 22, NOW), source="t", now=NOW)
    writer.flush_once(force=True)
    assert wal.replayed() and count(migrated) == 500
    pipeline.submit(GATE_PASS, random_events(GATE_PASS, 100, 23, NOW), source="t", now=NOW)
    assert wal.replayed()  # new events wait as usual; the replay stays complete
    wal.close()
