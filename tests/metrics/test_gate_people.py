"""The live board's narrow rollup (``gate_pass_people_1h``, migration 13, folded from the hour
rollup's blocks) holds exactly what the raw passes say, whether the passes came through the
ingest path after the migration (a block inserted twice with its deduplication token counts
once, in the hour rollup and in the rollup folded from it) or were stored before it (the
migration fills it from them once, also when it runs again after an interruption).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from ingest.gate import GATE_PASS
from ingest.pipeline import Pipeline
from ingest.wal import WriteAheadLog
from ingest.writer import INSERT_SETTINGS, Writer
from ioc_app.migrate import dialect_for, migrate
from ioc_app.migrations import MIGRATIONS, m0013_gate_people
from ioc_app.storage import Store
from metrics import gate
from tests.ingest.strategies import random_events

ZONE = ZoneInfo("Asia/Shanghai")
#: buckets compared (all the passes below are younger)
KEPT = timedelta(days=90)
RAW = {"1h": "toStartOfHour(ts)"}


def events(n: int, seed: int, now: datetime) -> list[dict[str, Any]]:
    """Valid passes: a third in the last hours, the rest over the last 80 days; every fifth a
    denial."""
    rng = random.Random(seed)
    out = random_events(GATE_PASS, n, seed, now)
    for i, e in enumerate(out):
        if i % 3:
            e["ts"] = int(now.timestamp() * 1000) - rng.randrange(80 * 86400 * 1000)
        if i % 5 == 0:
            e["result"] = "deny"
            e["deny_reason"] = rng.choice(["expired", "blacklist", "other"])
        else:
            e["result"] = "pass"
            e.pop("deny_reason", None)
    return out


def rollup_vs_raw(store: Store, now: datetime) -> dict[str, tuple[list[tuple], list[tuple]]]:
    """Per grain: (the rollup's rows, the same counts from the raw passes), bucket by bucket,
    over the buckets both keep."""
    out = {}
    since = now - KEPT
    for grain, bucket in RAW.items():
        col = "hour"
        got = store.rows(
            f"SELECT {col}, toString(person_type), toString(direction), toString(result), deny, "
            f"sum(attempts) FROM gate_pass_people_{grain} WHERE {col} >= {{since:DateTime('UTC')}} "
            f"GROUP BY ALL HAVING sum(attempts) > 0 ORDER BY ALL", {"since": since})
        want = store.rows(
            f"SELECT {bucket} AS b, toString(person_type), toString(direction), toString(result), "
            f"ifNull(toString(deny_reason), ''), count() FROM gate_pass WHERE b >= {{since:DateTime('UTC')}} "
            f"GROUP BY ALL ORDER BY ALL", {"since": since})
        out[grain] = (got, want)
    return out


def assert_exact(store: Store, now: datetime, stored: int) -> None:
    assert store.rows("SELECT count() FROM gate_pass")[0][0] == stored
    for grain, (got, want) in rollup_vs_raw(store, now).items():
        assert want, f"no raw passes in the compared {grain} buckets: the test compares nothing"
        assert got == want, f"gate_pass_people_{grain} differs from the raw passes"


@pytest.fixture()
def fresh(engine_path: Path) -> Iterator[Store]:
    """An empty database of the real engine (not migrated)."""
    store = Store(f"chdb://{engine_path}", database="t_" + uuid.uuid4().hex[:12])
    yield store
    store.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")
    store.close()


def send(store: Store, wal_dir: Path, batch: list[dict[str, Any]], now: datetime) -> None:
    """Through the real ingest path: validate, write-ahead log, the writer's insert."""
    wal = WriteAheadLog(wal_dir)
    try:
        p = Pipeline(store, wal)
        receipt = p.submit(GATE_PASS, batch, source="t", now=now)
        assert receipt.errors == []
        Writer(store, wal).flush_once(force=True)
    finally:
        wal.close()


def test_rollups_equal_the_raw_passes_and_a_repeated_block_counts_once(
        fresh: Store, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    migrate(fresh)
    send(fresh, tmp_path / "wal", events(3000, 1, now), now)
    assert_exact(fresh, now, 3000)
    # a writer killed after its insert and before its log noted it inserts the same block
    # again, with the same deduplication token: the raw table and every view drop it
    block = fresh.query("SELECT * FROM gate_pass WHERE event_id LIKE 'r1-1%' ORDER BY event_id").with_columns(
        ("again-" + pl.col("event_id")).alias("event_id"))
    assert block.height > 100
    for _ in range(2):
        fresh.insert("gate_pass", block,
                     settings={**INSERT_SETTINGS, "insert_deduplication_token": "replay-1"})
    assert_exact(fresh, now, 3000 + block.height)


def test_the_migration_fills_the_rollups_from_stored_passes_once(fresh: Store, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    before = tuple(m for m in MIGRATIONS if m.VERSION < m0013_gate_people.VERSION)
    migrate(fresh, before)
    send(fresh, tmp_path / "wal", events(3000, 3, now), now)
    assert fresh.rows("EXISTS TABLE gate_pass_people_1h")[0][0] == 0
    migrate(fresh)
    assert_exact(fresh, now, 3000)
    # the migration interrupted and run again (from its first statement: the record is
    # written last): the fill starts over, nothing counts twice
    for sql in m0013_gate_people.statements(dialect_for(fresh)):
        fresh.command(sql)
    assert_exact(fresh, now, 3000)
    # interrupted halfway through the fill, then run again
    statements = m0013_gate_people.statements(dialect_for(fresh))
    for sql in statements[: statements.index(next(s for s in statements if s.startswith("INSERT")))]:
        fresh.command(sql)
    fresh.command("INSERT INTO gate_pass_people_1h SELECT * FROM gate_pass_people_1h LIMIT 5")
    for sql in statements:
        fresh.command(sql)
    assert_exact(fresh, now, 3000)
    # afterwards the views keep them: new passes count once
    send(fresh, tmp_path / "wal2", events(500, 4, now), now)
    assert_exact(fresh, now, 3500)


def test_the_board_reads_the_same_counts_as_the_joint_breakdown(fresh: Store, tmp_path: Path) -> None:
    """``live``'s board (gate rollup by minute, people rollup, raw edges) against the joint breakdown
    of the general rollups and raw edges (``window_counts``), in several zones."""
    now = datetime.now(UTC)
    migrate(fresh)
    send(fresh, tmp_path / "wal", events(3000, 5, now), now)
    for zone in (ZONE, ZoneInfo("Asia/Kathmandu"), ZoneInfo("America/New_York")):
        window = [gate.Window("today", gate.local_midnight(zone, now), gate._minute_end(now))]
        joint = gate.window_counts(fresh, window, ("gate_id", "person_type", "direction", "result",
                                                   "deny_reason"), now)
        assert joint["attempts"].sum() > 0
        want = gate._today(joint, joint)
        assert gate.live(fresh, zone, now)["today"] == want
