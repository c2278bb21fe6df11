"""Shipped migrations are frozen; the contracts are not. This module catches the gap.

A migration states its tables' columns itself (``ioc_app/migrations/``), so editing a
contract in ``ingest/`` never rewrites the DDL a shipped migration runs. The price is that a
contract change — a new field, a new enumeration value, another retention, a new stream —
needs a new migration. Here the tables that a fresh ``migrate`` builds on the real engine are
compared with what the current contracts need, and every difference is reported as the
migration to add.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import types
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest.contracts import Field, Stream, ch_type
from ingest.registry import STREAMS
from ioc_app.migrate import migrate
from ioc_app.migrations import MIGRATIONS, m0002_gate, m0004_enrollment
from ioc_app.schema import Dialect
from ioc_app.storage import Store

ROOT = Path(__file__).resolve().parents[2]
#: columns the product adds to a stream's table beside the contract's fields
ADDED = {"event": "received_at", "plan": "imported_at"}
#: folds that keep a field's value (a ``sum`` makes another quantity: not compared)
KEEPING = ("min", "max", "any", "anyLast")


@dataclass
class Schema:
    """What the migrations built: columns per table, each table's DDL, and the materialized
    views reading each table (view, target)."""

    store: Store
    columns: dict[str, dict[str, str]]
    ddl: dict[str, str]
    views: dict[str, list[tuple[str, str]]]

    def canonical(self, kind: str) -> str:
        """A ClickHouse type as the engine writes it (spacing, quoting), to compare with
        ``system.columns``."""
        return self.store.rows("SELECT toTypeName(defaultValueOfTypeName({t:String}))", {"t": kind})[0][0]


@pytest.fixture(scope="module")
def schema(engine_path: Path) -> Iterator[Schema]:
    """One freshly migrated database for the module (read only)."""
    name = "t_" + uuid.uuid4().hex[:12]
    store = Store(f"chdb://{engine_path}", database=name)
    migrate(store)
    yield read_schema(store)
    store.command(f"DROP DATABASE IF EXISTS {name} SYNC")
    store.close()


def read_schema(store: Store) -> Schema:
    columns: dict[str, dict[str, str]] = {}
    for table, column, kind in store.rows(
            "SELECT table, name, type FROM system.columns WHERE database = currentDatabase() "
            "ORDER BY table, position"):
        columns.setdefault(table, {})[column] = kind
    tables = store.rows("SELECT name, create_table_query, dependencies_table FROM system.tables "
                        "WHERE database = currentDatabase()")
    ddl = {table: query for table, query, _ in tables}
    views: dict[str, list[tuple[str, str]]] = {}
    for table, _, readers in tables:
        for view in readers:
            target = re.search(r"\bTO \S+?\.(\w+)", ddl[view])
            assert target, f"view {view} has no TO table: {ddl[view]}"
            views.setdefault(table, []).append((view, target.group(1)))
    return Schema(store, columns, ddl, views)


def next_migration() -> str:
    return f"m{max(m.VERSION for m in MIGRATIONS) + 1:04d}_…"


def add(what: str) -> str:
    return (f"add a new migration ioc_app/migrations/{next_migration()}.py that {what} (never edit "
            f"a shipped migration; README, 'Changing the schema')")


def drift(streams: tuple[Stream, ...], schema: Schema) -> list[str]:
    """Every difference between what ``streams`` need and what the migrations built, each as
    the migration that would close it."""
    problems: list[str] = []
    for s in streams:
        table = schema.columns.get(s.table)
        if table is None:
            parts = ["its raw table"] + (["its 1m and 1h rollups"] if s.counting else []) + (
                ["its freshness view (Dialect.freshness)"] if s.kind == "event" else [])
            problems.append(f"{s.name}: no table {s.table} — " + add(
                f"creates {', '.join(parts)} from the contract"))
            continue
        want = {f.name: schema.canonical(ch_type(f)) for f in s.all_fields}
        for name, kind in want.items():
            if name not in table:
                problems.append(f"{s.name}: the contract has field `{name}`, table {s.table} has no "
                                f"such column — " + add(f"ALTERs table {s.table} (column {name}: "
                                                        f"ADD COLUMN `{name}` {kind})"))
            elif table[name] != kind:
                problems.append(f"{s.name}: field `{name}` is {kind} in the contract, {table[name]} in "
                                f"table {s.table} — " + add(f"ALTERs table {s.table} (column {name}: "
                                                            f"MODIFY COLUMN `{name}` {kind})"))
        for name in table:
            if name not in want and name != ADDED[s.kind]:
                problems.append(f"{s.name}: table {s.table} has column `{name}`, the contract has no "
                                f"such field — " + add(f"ALTERs table {s.table} (column {name}: DROP COLUMN "
                                                  f"`{name}`), or keep the field in the contract"))
        if s.kind == "event":
            ttl = f"TTL toDateTime(ts) + toIntervalDay({s.retention_days})"
            if ttl not in schema.ddl[s.table]:
                problems.append(f"{s.name}: retention is {s.retention_days} days in the contract, "
                                f"not in table {s.table}'s TTL — " + add(
                                    f"ALTERs table {s.table} (MODIFY TTL toDateTime(ts) + INTERVAL "
                                    f"{s.retention_days} DAY) and the TTL of the tables filled from it"))
            if f"ioc_freshness_mv_{s.table}" not in schema.ddl:
                problems.append(f"{s.name}: no freshness view — " + add(
                    f"creates it with Dialect.freshness('{s.name}', '{s.table}')"))
        if s.counting:
            for grain in ("1m", "1h"):
                if f"{s.table}_{grain}" not in schema.columns:
                    problems.append(f"{s.name}: no {grain} rollup — " + add(
                        f"creates the rollup {s.table}_{grain} with Dialect.rollup"))
        problems += _derived(s, want, schema)
    return problems


def _derived(s: Stream, want: dict[str, str], schema: Schema) -> list[str]:
    """Columns of the tables that views fill from the stream's table (rollup dimensions,
    state tables), or from such a table in turn (a narrow rollup folded from a rollup), that
    carry a field's value: same type, or folded by min/max/any."""
    problems = []
    filled, seen = [], {s.table}
    pending = [s.table]
    while pending:
        for view, target in schema.views.get(pending.pop(), []):
            filled.append((view, target))
            if target not in seen:
                seen.add(target)
                pending.append(target)
    for view, target in filled:
        for name, actual in schema.columns.get(target, {}).items():
            if name not in want:
                continue
            fold = re.fullmatch(r"SimpleAggregateFunction\((\w+), (.*)\)", actual)
            if fold and fold.group(1) not in KEEPING:
                continue  # a sum of the field: another quantity, its own type
            expected = f"SimpleAggregateFunction({fold.group(1)}, {want[name]})" if fold else want[name]
            if actual != expected:
                problems.append(
                    f"{s.name}: field `{name}` is {want[name]} in the contract, {actual} in table "
                    f"{target} (filled from {s.table} by {view}) — " + add(
                        f"ALTERs table {target} (column {name}: MODIFY COLUMN `{name}` {expected})"))
    return problems


def test_the_migrations_build_what_the_contracts_need(schema: Schema) -> None:
    problems = drift(STREAMS, schema)
    assert problems == [], "a contract changed without a migration:\n" + "\n".join(problems)


def _with(stream: Stream, **changes: object) -> Stream:
    return dataclasses.replace(stream, **changes)  # type: ignore[arg-type]


def test_a_contract_change_without_a_migration_names_the_migration_to_add(schema: Schema) -> None:
    """The check itself: contracts changed here (not in ingest/) are reported, each with the
    table, the column and what the new migration must do."""
    by_name = {s.name: s for s in STREAMS}
    gate = by_name["gate.pass"]
    lane_group = Field("lane_group", "code", required=False, max_len=64)
    changed_enum = tuple(
        dataclasses.replace(f, values=(*f.values, "queued")) if f.name == "result" else f
        for f in by_name["service.print"].fields)
    streams = (
        _with(gate, fields=(*gate.fields, lane_group)),
        _with(by_name["service.print"], fields=changed_enum),
        _with(by_name["network.link"], retention_days=800),
        _with(by_name["network.online"], fields=tuple(f for f in by_name["network.online"].fields
                                                      if f.name != "ipv6_users")),
        _with(by_name["service.call"], name="service.chat"),
    )
    known = set(drift(STREAMS, schema))  # empty unless the contracts changed already
    problems = [p for p in drift(streams, schema) if p not in known]
    text = "\n".join(problems)
    mig = f"m{max(m.VERSION for m in MIGRATIONS) + 1:04d}_"
    assert all(f"add a new migration ioc_app/migrations/{mig}" in p for p in problems), text
    assert ("ALTERs table gate_pass (column lane_group: ADD COLUMN `lane_group` "
            "LowCardinality(Nullable(String)))") in text
    result = "Enum8('ok' = 1, 'failed' = 2, 'queued' = 3)"
    assert f"ALTERs table service_print (column result: MODIFY COLUMN `result` {result})" in text
    # the rollups keep the field as a dimension: their views would refuse the new value
    for grain in ("1m", "1h"):
        assert (f"ALTERs table service_print_{grain} (column result: MODIFY COLUMN `result` "
                f"{result})") in text
    assert "ALTERs table network_link (MODIFY TTL toDateTime(ts) + INTERVAL 800 DAY" in text
    assert "ALTERs table network_online (column ipv6_users: DROP COLUMN `ipv6_users`)" in text
    assert "service.chat: no table service_chat" in text and "freshness view" in text
    assert len(problems) == 7, text


def test_migrations_do_not_read_the_contracts() -> None:
    """What keeps a shipped migration's DDL fixed: neither the migrations nor the DDL builder
    import ``ingest`` (or anything else that changes with a domain)."""
    files = [*sorted((ROOT / "ioc_app" / "migrations").glob("*.py")), ROOT / "ioc_app" / "schema.py"]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in ("ingest", "metrics", "pages", "layouts"), (
                    f"{path.relative_to(ROOT)} imports {name}: write the columns out in the migration "
                    f"(ioc_app.schema.Source) so its DDL never follows a contract")


def test_frozen_rollup_rules_match_the_contracts() -> None:
    """Values the views compute with, frozen in their migration: a contract that changes one
    needs a new migration that replaces the view."""
    from ingest.enrollment import CHECKIN_STEPS
    from metrics.gate import FEVER_C

    assert m0002_gate.FEVER_C == FEVER_C, (
        f"the fever threshold is {FEVER_C}, the shipped gate rollups count from "
        f"{m0002_gate.FEVER_C} — " + add("replaces the views gate_pass_1m_mv and gate_pass_1h_mv"))
    assert m0004_enrollment.CHECKIN_STEPS == CHECKIN_STEPS, (
        f"the contract's check-in steps are {CHECKIN_STEPS}, the state table was built for "
        f"{m0004_enrollment.CHECKIN_STEPS} — " + add(
            "adds the reached_<step> columns to enrollment_checkin_state and replaces its view"))


def test_a_migration_written_as_documented_closes_the_gap(migrated: Store) -> None:
    """The way the README says to follow a contract change — a new migration of ``ALTER``s
    through the dialect — leaves nothing for the check to report, and runs once."""
    gate = next(s for s in STREAMS if s.name == "gate.pass")
    zone = Field("zone", "code", required=False, max_len=64)
    result = dataclasses.replace(gate.field("result"), values=("pass", "deny", "tailgate"))
    changed = _with(gate, fields=(*(result if f.name == "result" else f for f in gate.fields), zone))
    keeping = ("gate_pass", "gate_pass_1m", "gate_pass_1h", "gate_pass_people_1h", "gate_pass_gates_1h")
    assert len(drift((changed,), read_schema(migrated))) == 1 + len(keeping)  # zone; result in each

    kind = "Enum8('pass' = 1, 'deny' = 2, 'tailgate' = 3)"
    version = MIGRATIONS[-1].VERSION + 1
    new = types.SimpleNamespace(VERSION=version, NAME="gate_zone", statements=lambda d: [
        *d.alter_columns("gate_pass", "ADD COLUMN IF NOT EXISTS `zone` LowCardinality(Nullable(String))"),
        *(s for t in keeping for s in d.alter_columns(t, f"MODIFY COLUMN `result` {kind}")),
    ])
    assert [m.version for m in migrate(migrated, (*MIGRATIONS, new))] == [version]
    assert drift((changed,), read_schema(migrated)) == []
    assert migrate(migrated, (*MIGRATIONS, new)) == []


def test_cluster_alters_reach_the_shards_and_the_distributed_table() -> None:
    """On a cluster a column lives in the shard-local table and in the Distributed table over
    it; a retention only in the shard-local table."""
    d = Dialect("ioc", "campus_cluster")
    assert d.alter_columns("gate_pass", "ADD COLUMN IF NOT EXISTS `zone` String") == [
        "ALTER TABLE ioc.gate_pass_local ON CLUSTER campus_cluster\nADD COLUMN IF NOT EXISTS `zone` String",
        "ALTER TABLE ioc.gate_pass ON CLUSTER campus_cluster\nADD COLUMN IF NOT EXISTS `zone` String",
    ]
    assert d.alter("gate_pass", "MODIFY TTL toDateTime(ts) + INTERVAL 800 DAY") == [
        "ALTER TABLE ioc.gate_pass_local ON CLUSTER campus_cluster\n"
        "MODIFY TTL toDateTime(ts) + INTERVAL 800 DAY"]
    assert Dialect("ioc").alter_columns("gate_pass", "DROP COLUMN `zone`") == [
        "ALTER TABLE ioc.gate_pass\nDROP COLUMN `zone`"]
