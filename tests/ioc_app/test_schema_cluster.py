"""The cluster DDL: pinned in golden files (reviewed when they change; regenerate with
UPDATE_GOLDEN=1), parsed by ClickHouse itself, run with only the replication and
distribution parts replaced, and compared table by table with the single-node schema
(``cluster_schema``); and its Distributed tables created by an engine that has loaded the
deploy example's remote_servers (``cluster_engine``, in a process of its own). Broken
cluster statements must make each of these fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ioc_app.migrate import migrate
from ioc_app.migrations import MIGRATIONS
from ioc_app.schema import Dialect
from ioc_app.storage import Store
from tests.ioc_app import cluster_schema
from tests.ioc_app.cluster_schema import SHARD_PATH, Statements

GOLDEN = Path(__file__).parent / "golden"


def render(dialect: Dialect) -> str:
    parts = []
    for m in MIGRATIONS:
        parts.append(f"-- {m.VERSION:04d}_{m.NAME}")
        parts.extend(s + ";" for s in m.statements(dialect))
    return "\n\n".join(parts) + "\n"


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.read_text() == text, f"DDL changed; review and regenerate {path.name}"


def test_cluster_ddl_matches_golden() -> None:
    text = render(Dialect("ioc", "campus_cluster"))
    check("cluster.sql", text)


def test_single_node_ddl_matches_golden() -> None:
    check("single.sql", render(Dialect("ioc")))


def test_cluster_ddl_shape() -> None:
    text = render(Dialect("ioc", "campus_cluster"))
    statements = [s for s in text.split(";\n") if s.strip().startswith("CREATE")]
    assert all(" ON CLUSTER campus_cluster" in s for s in statements)
    assert "ENGINE = MergeTree" not in text and "ENGINE = AggregatingMergeTree" not in text
    replicated = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"
    assert f"ReplicatedAggregatingMergeTree({replicated})" in text
    # every data table has a Distributed table over its shard-local table
    local = {s.split()[5].split(".")[1] for s in statements if "_local" in s.split()[5] and "TABLE" in s}
    for name in local:
        base = name.removesuffix("_local")
        assert f"Distributed(campus_cluster, ioc, {name}," in text, base
    # materialized views read and write shard-local tables
    for s in statements:
        if "MATERIALIZED VIEW" in s:
            assert "TO ioc." in s and "_local\n" in s and "FROM ioc." in s
            assert s.split("FROM ioc.")[1].split()[0].endswith("_local")
    assert "cityHash64(event_id)" in text


CLUSTER = "campus_cluster"


def _database(engine_path: Path) -> Store:
    return Store(f"chdb://{engine_path}", database="t_" + uuid.uuid4().hex[:12])


def _drop(store: Store) -> None:
    store.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")
    store.close()


@pytest.fixture(scope="module")
def single(engine_path: Path) -> Iterator[Store]:
    """The single-node schema, created by the migrations in a real engine."""
    store = _database(engine_path)
    migrate(store)
    yield store
    _drop(store)


@pytest.fixture()
def target(engine_path: Path) -> Iterator[Store]:
    """An empty database for the cluster schema."""
    store = _database(engine_path)
    yield store
    _drop(store)


def test_every_cluster_statement_parses(target: Store) -> None:
    statements = cluster_schema.emitted(Dialect(target.database, CLUSTER))
    text = "\n".join(sql for _, sql in statements)
    # not vacuous: every cluster form is among the statements parsed
    for form in ("ON CLUSTER", "ReplicatedMergeTree(", "ReplicatedAggregatingMergeTree(",
                 "ReplicatedReplacingMergeTree(", "ENGINE = Distributed(", "CREATE MATERIALIZED VIEW",
                 "TRUNCATE TABLE", "ALTER TABLE", "DROP VIEW", "INSERT INTO"):
        assert form in text, form
    normalised, problems = cluster_schema.formatted(target, statements)
    assert problems == []
    assert len(normalised) == len(statements) > 100


@pytest.mark.parametrize("cluster", [CLUSTER, "campus-cluster"])
def test_cluster_schema_equals_single_node_schema(single: Store, target: Store, cluster: str) -> None:
    """Also for a cluster name that is no plain identifier, which remote_servers allows: unquoted,
    every ON CLUSTER statement is a syntax error and Distributed(campus-cluster, …) a subtraction."""
    assert cluster_schema.check(single, target, cluster) == []
    # the comparison saw both schemas whole
    tables = target.rows("SELECT engine, count() FROM system.tables WHERE database = {d:String} "
                         "GROUP BY engine", {"d": target.database})
    assert dict(tables)["Buffer"] > 20 and dict(tables)["MaterializedView"] > 20


def _edit(label_part: str, old: str, new: str) -> Callable[[Statements], Statements]:
    def mutate(statements: Statements) -> Statements:
        out, done = [], False
        for label, sql in statements:
            if not done and old in sql and label_part in sql.split("\n", 1)[0]:
                sql, done = sql.replace(old, new, 1), True
            out.append((label, sql))
        assert done, f"nothing to break: {label_part} / {old}"
        return out
    return mutate


def _without_distributed(name: str) -> Callable[[Statements], Statements]:
    def mutate(statements: Statements) -> Statements:
        def named(sql: str) -> bool:
            return sql.split("\n", 1)[0].split(" ON CLUSTER")[0].endswith(f".{name}")
        return [(label, sql) for label, sql in statements if not (named(sql) and "Distributed" in sql)]
    return mutate


BROKEN = {
    "syntax error": (_edit("gate_pass_local ", "CREATE TABLE", "CREATE TABEL"), "does not parse"),
    "column type": (_edit("gate_pass_local ", "`lane` UInt8", "`lane` UInt16"), "lane"),
    "order key": (_edit("service_call_local ", "ORDER BY (queue, ts)", "ORDER BY (ts, queue)"),
                  "sorting_key"),
    "retention": (_edit("gate_pass_local ", "INTERVAL 400 DAY", "INTERVAL 40 DAY"), "engine_full"),
    "rollup logic": (_edit("gate_pass_1m_local_mv", "toStartOfMinute(ts)", "toStartOfFiveMinutes(ts)"),
                     "gate_pass_1m_mv"),
    "view reads the Distributed table": (_edit("gate_pass_1m_local_mv", "gate_pass_local\n", "gate_pass\n"),
                                         "not a shard-local table"),
    "not replicated": (_edit("gate_pass_1h_local ", f"ReplicatedAggregatingMergeTree({SHARD_PATH})",
                             "AggregatingMergeTree"), "not a Replicated"),
    "other engine family": (_edit("gate_pass_1h_local ", "ReplicatedAggregatingMergeTree",
                                  "ReplicatedSummingMergeTree"), "engine"),
    "sharding key not an integer": (_edit("ioc_deadletter ON", "cityHash64(id)", "id"), "sharding key"),
    "sharding key of no column": (_edit("gate_pass ON", "cityHash64(event_id)", "cityHash64(eventid)"),
                                  "rejects it"),
    "missing ON CLUSTER": (_edit("ioc_deadletter_local ", " ON CLUSTER campus_cluster", ""), "ON CLUSTER"),
    "missing Distributed table": (_without_distributed("service_print"), "has no Distributed table"),
    "column added on the local table only": (
        _edit("enrollment_admission ON CLUSTER", "ADD COLUMN IF NOT EXISTS `first_choice`",
              "ADD COLUMN IF NOT EXISTS `first_choice_x`"), "enrollment_admission (Distributed)"),
    "ledger per shard": (_edit("ioc_migrations", "/tables/all/", "/tables/{shard}/"),
                         "one table across all shards"),
}


@pytest.mark.parametrize("broken", list(BROKEN))
def test_a_broken_cluster_statement_fails_the_check(single: Store, target: Store, broken: str) -> None:
    mutate, expected = BROKEN[broken]
    problems = cluster_schema.check(single, target, CLUSTER, mutate)
    assert problems, broken
    assert any(expected in p for p in problems), problems


def test_rows_change_on_the_shard_local_tables(engine_path: Path, target: Store) -> None:
    """ClickHouse deletes nothing through a Distributed table ("DELETE query is not supported"):
    on a cluster the reference table's older rows are deleted from its shard-local tables on
    every server, in a statement the engine parses."""
    assert target.shard_local("ioc_reference") == "ioc_reference"
    clustered = Store(f"chdb://{engine_path}", database=target.database)
    clustered.cluster = "campus-cluster"  # the database exists: only the statements' target changes
    table = clustered.shard_local("ioc_reference")
    assert table == "ioc_reference_local ON CLUSTER `campus-cluster`"
    sql = f"DELETE FROM {table} WHERE loaded_at < now64(3)"
    assert target.rows("SELECT formatQuery({q:String})", {"q": sql})[0][0] == sql


ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = ROOT / "deploy" / "cluster" / "clickhouse" / "config.d" / "cluster.xml"


def _on_the_example_cluster(tmp_path: Path, broken: str = "") -> dict[str, object]:
    argv = [sys.executable, "-m", "tests.ioc_app.cluster_engine", str(tmp_path / "engine"),
            str(EXAMPLE_CONFIG), "ioc_cluster", *([broken] if broken else [])]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_engine_creates_every_distributed_table_over_the_example_cluster(tmp_path: Path) -> None:
    """With the deploy example's remote_servers loaded, ClickHouse itself creates every
    Distributed table the migrations emit: the cluster's name, the local tables and the type
    of each sharding key are the engine's to judge (only Keeper's part is left out)."""
    result = _on_the_example_cluster(tmp_path)
    statements = cluster_schema.emitted(Dialect("ioc", "ioc_cluster"))
    assert result["problems"] == []
    assert result["distributed"] == sum("ENGINE = Distributed(" in sql for _, sql in statements) > 30


@pytest.mark.parametrize("broken, refusal", [
    ("nullable sharding key", "Sharding expression has type Nullable"),
    ("unknown cluster", "CLUSTER_DOESNT_EXIST"),
])
def test_the_engine_refuses_a_broken_distributed_table(tmp_path: Path, broken: str, refusal: str) -> None:
    problems = _on_the_example_cluster(tmp_path, broken)["problems"]
    assert isinstance(problems, list) and any(refusal in p for p in problems), problems
