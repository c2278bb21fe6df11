"""The query API's per-gate rollup (``gate_pass_gates_1h``, migration 17, folded from the hour
rollup's blocks) holds exactly what the raw passes say: passes through the ingest path after
the migration (a block inserted twice with its deduplication token counts once) and passes
stored before it (the migration fills it from them once, also when run again)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from ingest.writer import INSERT_SETTINGS
from ioc_app.migrate import dialect_for, migrate
from ioc_app.migrations import MIGRATIONS, m0017_gate_gates
from ioc_app.storage import Store
from metrics.gate import FEVER_C
from tests.metrics.test_gate_people import KEPT, events, fresh, send

__all__ = ["fresh"]  # the fixture, shared with the people rollup's tests


def assert_exact(store: Store, now: datetime, stored: int) -> None:
    since = {"since": now - KEPT}
    assert store.rows("SELECT count() FROM gate_pass")[0][0] == stored
    got = store.rows(
        "SELECT hour, campus, gate_id, toString(direction), toString(result), sum(attempts), sum(fever) "
        "FROM gate_pass_gates_1h WHERE hour >= {since:DateTime('UTC')} GROUP BY ALL HAVING sum(attempts) > 0 "
        "ORDER BY ALL", since)
    want = store.rows(
        "SELECT toStartOfHour(ts) AS b, campus, gate_id, toString(direction), toString(result), count(), "
        f"countIf(temperature_c >= {FEVER_C}) FROM gate_pass WHERE b >= {{since:DateTime('UTC')}} "
        "GROUP BY ALL ORDER BY ALL", since)
    assert want, "no raw passes in the compared hours: the test compares nothing"
    assert got == want, "gate_pass_gates_1h differs from the raw passes"


def test_the_rollup_equals_the_raw_passes_and_a_repeated_block_counts_once(fresh: Store,
                                                                            tmp_path: Path) -> None:
    now = datetime.now(UTC)
    migrate(fresh)
    send(fresh, tmp_path / "wal", events(3000, 5, now), now)
    assert_exact(fresh, now, 3000)
    block = fresh.query("SELECT * FROM gate_pass WHERE event_id LIKE 'r5-1%' ORDER BY event_id").with_columns(
        ("again-" + pl.col("event_id")).alias("event_id"))
    assert block.height > 100
    for _ in range(2):
        fresh.insert("gate_pass", block,
                     settings={**INSERT_SETTINGS, "insert_deduplication_token": "replay-5"})
    assert_exact(fresh, now, 3000 + block.height)


def test_the_migration_fills_it_from_stored_passes_once(fresh: Store, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    migrate(fresh, tuple(m for m in MIGRATIONS if m.VERSION < m0017_gate_gates.VERSION))
    send(fresh, tmp_path / "wal", events(3000, 6, now), now)
    assert fresh.rows("EXISTS TABLE gate_pass_gates_1h")[0][0] == 0
    migrate(fresh)
    assert_exact(fresh, now, 3000)
    for sql in m0017_gate_gates.statements(dialect_for(fresh)):  # run again after an interruption
        fresh.command(sql)
    assert_exact(fresh, now, 3000)
    send(fresh, tmp_path / "wal2", events(500, 7, now), now)
    assert_exact(fresh, now, 3500)
