"""Migrations on the real engine: idempotent, complete, and rollups that count right."""

from __future__ import annotations

import types
from datetime import UTC, datetime

import polars as pl
import pytest

from ingest.registry import STREAMS
from ingest.validate import validate
from ioc_app.migrate import MigrationError, migrate
from ioc_app.migrations import MIGRATIONS
from ioc_app.storage import Store
from tests.ingest.strategies import random_events


def tables(store: Store) -> set[str]:
    return {r[0] for r in store.rows("SHOW TABLES")}


def test_migrate_twice_changes_nothing(store: Store) -> None:
    first = migrate(store)
    assert [m.version for m in first] == [m.VERSION for m in MIGRATIONS]
    assert [m.version for m in first] == sorted({m.version for m in first})  # increasing, unique
    before = store.rows("SELECT name, create_table_query FROM system.tables "
                        "WHERE database = currentDatabase() ORDER BY name")
    assert migrate(store) == []
    after = store.rows("SELECT name, create_table_query FROM system.tables "
                       "WHERE database = currentDatabase() ORDER BY name")
    assert before == after
    assert store.rows("SELECT count() FROM ioc_migrations")[0][0] == len(MIGRATIONS)


def test_every_stream_has_its_tables(migrated: Store) -> None:
    names = tables(migrated)
    for s in STREAMS:
        assert s.table in names
        if s.counting:
            for grain in ("1m", "1h"):
                assert {f"{s.table}_{grain}", f"{s.table}_{grain}_mv"} <= names, s.name
    assert "ioc_deadletter" in names


def test_raw_tables_follow_the_storage_rules(migrated: Store) -> None:
    for s in STREAMS:
        if s.kind != "event":
            continue
        ddl = migrated.rows(f"SHOW CREATE TABLE {s.table}")[0][0]
        assert "PARTITION BY toYYYYMM(ts)" in ddl
        assert f"TTL toDateTime(ts) + toIntervalDay({s.retention_days})" in ddl
        assert "`ts` DateTime64(3, 'UTC')" in ddl
        assert "non_replicated_deduplication_window" in ddl
        for f in s.fields:
            if f.kind == "code":
                assert f"`{f.name}` LowCardinality(" in ddl, (s.name, f.name)


NOW = datetime.now(UTC).replace(microsecond=0)


def _insert_valid(store: Store, stream, n: int, seed: int) -> pl.DataFrame:
    events = random_events(stream, n, seed, NOW)
    result = validate(stream, events, source="t")
    assert result.errors == []
    store.insert(stream.table, result.frame)
    return result.frame


@pytest.mark.parametrize("stream", [s for s in STREAMS if s.counting], ids=lambda s: s.name)
def test_rollups_equal_direct_counts(migrated: Store, stream) -> None:
    _insert_valid(migrated, stream, 300, 1)
    _insert_valid(migrated, stream, 200, 5)  # a second insert: rollup parts merge by key
    raw_count = migrated.rows(f"SELECT count() FROM {stream.table}")[0][0]
    assert raw_count > 0
    for grain, bucket, fn in (("1m", "minute", "toStartOfMinute"), ("1h", "hour", "toStartOfHour")):
        rollup = f"{stream.table}_{grain}"
        measure = migrated.rows(
            "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String} "
            "AND type LIKE 'SimpleAggregateFunction(sum, UInt64)' ORDER BY position LIMIT 1",
            {"t": rollup},
        )[0][0]
        per_bucket = migrated.query(
            f"SELECT toString({bucket}) AS b, sum({measure}) AS n FROM {rollup} GROUP BY b ORDER BY b"
        )
        direct = migrated.query(
            f"SELECT toString({fn}(ts)) AS b, count() AS n FROM {stream.table} GROUP BY b ORDER BY b"
        )
        assert per_bucket.equals(direct), (stream.name, grain)


def test_gate_rollup_breakdowns_match_raw(migrated: Store) -> None:
    stream = next(s for s in STREAMS if s.name == "gate.pass")
    _insert_valid(migrated, stream, 400, 3)
    by_rollup = migrated.query(
        "SELECT toString(direction) d, toString(result) r, deny, sum(attempts) n, sum(fever) f "
        "FROM gate_pass_1h GROUP BY d, r, deny ORDER BY d, r, deny")
    direct = migrated.query(
        "SELECT toString(direction) d, toString(result) r, ifNull(toString(deny_reason), '') deny, "
        "count() n, countIf(temperature_c >= 37.3) f FROM gate_pass GROUP BY d, r, deny ORDER BY d, r, deny")
    assert by_rollup.equals(direct)


def test_reinserting_a_batch_with_its_token_counts_once(migrated: Store) -> None:
    stream = next(s for s in STREAMS if s.name == "service.print")
    frame = _insert_valid(migrated, stream, 50, 2)
    migrated.command("TRUNCATE TABLE service_print")
    migrated.command("TRUNCATE TABLE service_print_1m")
    for _ in range(2):
        migrated.insert("service_print", frame, settings={"insert_deduplication_token": "batch-7"})
    assert migrated.rows("SELECT count() FROM service_print")[0][0] == 50
    assert migrated.rows("SELECT sum(jobs) FROM service_print_1m")[0][0] == 50


def test_failed_migration_names_statement_and_server_message(migrated: Store) -> None:
    broken = types.SimpleNamespace(
        VERSION=99, NAME="broken",
        statements=lambda d: [f"CREATE TABLE IF NOT EXISTS {d.db}.oops (x NoSuchType) ENGINE = Memory"],
    )
    with pytest.raises(MigrationError) as err:
        migrate(migrated, (broken,))
    text = str(err.value)
    assert "0099_broken" in text and "x NoSuchType" in text and "Server said:" in text
    assert "NoSuchType" in text.split("Server said:")[1]
    assert 99 not in {r[0] for r in migrated.rows("SELECT version FROM ioc_migrations")}
