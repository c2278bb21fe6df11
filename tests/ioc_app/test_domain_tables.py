"""The shipped migrations and the domains' declarations of their current tables agree.

A domain declares its tables as they are now (its raw tables in ``ingest/<name>.py``,
``TABLES``; its rollups in ``metrics/<name>.py``, ``ROLLUPS``); shipped migrations keep their
own, frozen DDL. Both are built here on the real engine — the
migrations into one database, the declarations (``ioc_app.declared``) into another — and
every declared table must come out the same: columns, types, engine, order key, TTL, and the
view that fills a rollup. A declaration edited without a new migration, or a migration that
builds what no domain declares, fails here with the table and the difference.
"""

from __future__ import annotations

import ast
import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from ioc_app import declared, domains
from ioc_app.migrate import migrate
from ioc_app.schema import Dialect
from ioc_app.storage import Store
from metrics.domain import Col, Rollup

ROOT = Path(__file__).resolve().parents[2]


def _tables(store: Store) -> dict[str, str]:
    """Every table and view of the store's database, its DDL with the database name taken out."""
    rows = store.rows("SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase()")
    return {name: query.replace(f"{store.database}.", "") for name, query in rows}


@pytest.fixture(scope="module")
def built(engine_path: Path) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """(what the migrations built, what the declarations build), each in a fresh database."""
    stores = [Store(f"chdb://{engine_path}", database="t_" + uuid.uuid4().hex[:12]) for _ in range(2)]
    migrated, declared_db = stores
    migrate(migrated)
    declared_db.command(f"CREATE DATABASE IF NOT EXISTS {declared_db.database}")
    dialect = Dialect(declared_db.database)
    for d in domains.registered():
        for sql in declared.statements(d, dialect):
            declared_db.command(sql)
    yield _tables(migrated), _tables(declared_db)
    for s in stores:
        s.command(f"DROP DATABASE IF EXISTS {s.database} SYNC")
        s.close()


def differences(names: tuple[str, ...], migrated: dict[str, str], wanted: dict[str, str]) -> list[str]:
    """Each declared table (and rollup view) the migrations build differently, or not at all."""
    out = []
    for name in names:
        for obj in (name, f"{name}_mv"):
            if obj not in wanted:
                continue  # raw tables have no view of their own
            if obj not in migrated:
                out.append(f"{obj}: declared, but no migration creates it")
            elif migrated[obj] != wanted[obj]:
                out.append(f"{obj}: the migrations build\n  {migrated[obj]}\n"
                           f"the declaration says\n  {wanted[obj]}")
    return out


Built = tuple[dict[str, str], dict[str, str]]


def test_every_declared_table_is_built_by_the_migrations(built: Built) -> None:
    migrated, wanted = built
    names = tuple(n for d in domains.registered() for n in declared.table_names(d))
    assert names, "no domain declares a table"
    problems = differences(names, migrated, wanted)
    assert problems == [], ("a declared table differs from what the migrations build: add a migration "
                            "(README, 'Changing the schema') or fix the declaration:\n" + "\n".join(problems))


def test_every_stream_table_the_migrations_build_is_declared(
        built: tuple[dict[str, str], dict[str, str]]) -> None:
    """The other way round: a raw table or rollup of a registered stream that no declaration
    names would be invisible to the query API, quality and the drift check."""
    migrated, _ = built
    declared_names = {n for d in domains.registered() for n in declared.table_names(d)}
    stream_tables = {s.table for d in domains.registered() for s in d.streams}
    # a rollup is <raw table>_<grain>, or <raw table>_<name>_<grain> for a narrow one
    built_for_streams = {n for n in migrated if n in stream_tables
                         or (re.fullmatch(r"(.+)_(1m|1h)", n)
                             and any(n[:-3] == t or n[:-3].startswith(f"{t}_") for t in stream_tables))}
    assert built_for_streams - declared_names == set()
    assert stream_tables <= declared_names, "every stream declares its raw table"


def test_a_declaration_changed_without_a_migration_is_named(
        built: tuple[dict[str, str], dict[str, str]], engine_path: Path) -> None:
    """The check itself: a rollup that gains a measure in the declaration only is reported,
    with the table and both definitions."""
    migrated, _ = built
    gate = domains.get("gate")
    minute, hour, *narrow = gate.metrics.rollups
    wider = replace(hour, measures=(*hour.measures, Col("lanes", "SimpleAggregateFunction(max, UInt8)",
                                                        "max(lane)")))
    changed = replace(gate, metrics=replace(gate.metrics, rollups=(minute, wider, *narrow)))
    store = Store(f"chdb://{engine_path}", database="t_" + uuid.uuid4().hex[:12])
    try:
        store.command(f"CREATE DATABASE IF NOT EXISTS {store.database}")
        for sql in declared.statements(changed, Dialect(store.database)):
            store.command(sql)
        problems = differences(declared.table_names(changed), migrated, _tables(store))
    finally:
        store.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")
        store.close()
    assert [p.split(":")[0] for p in problems] == ["gate_pass_1h", "gate_pass_1h_mv"], problems
    assert "`lanes` SimpleAggregateFunction(max, UInt8)" in problems[0]


def test_declared_rollups_name_only_their_streams_columns() -> None:
    """A rollup dimension named by a string is a column of the stream (it keeps its type)."""
    for d in domains.registered():
        by_name = {s.name: s for s in d.streams}
        for r in d.metrics.rollups:
            assert isinstance(r, Rollup)
            fields = {f.name for f in by_name[r.stream].all_fields}
            strings = {c for c in r.dims if isinstance(c, str)}
            assert strings <= fields, (d.name, r.stream, strings - fields)


def test_migrations_do_not_read_the_declarations() -> None:
    """A shipped migration's DDL never follows a declaration: no migration (nor the DDL
    builder) imports ``ingest`` or ``ioc_app.declared``."""
    files = [*sorted((ROOT / "ioc_app" / "migrations").glob("*.py")), ROOT / "ioc_app" / "schema.py"]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] != "ingest" and name != "ioc_app.declared", (
                    f"{path.relative_to(ROOT)} imports {name}: write the tables out in the migration")
