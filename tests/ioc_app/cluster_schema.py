"""Checks the cluster DDL with ClickHouse itself, as far as one embedded engine allows.

No cluster runs here: no Keeper, no remote shards. So the cluster statements are

1. parsed by the engine (``formatQuery``), which also gives their normalised text;
2. checked for their cluster shape: ``ON CLUSTER`` everywhere it belongs, every data table
   a ``Replicated*`` engine on a shard-local ``*_local`` table with a ``Distributed`` table
   over it, materialized views reading and writing shard-local tables;
3. run, with exactly the parts one engine cannot run replaced by their single-node
   equivalents (no ``ON CLUSTER``; ``ReplicatedXMergeTree(path, replica, args)`` becomes
   ``XMergeTree(args)``; a ``Distributed`` table becomes a ``Buffer`` over the same local
   table, which keeps its own column list like ``Distributed`` does, and its sharding key is
   evaluated against the local table);
4. compared with the single-node schema, from the catalogue (``system.tables``,
   ``system.columns``) of both databases and statement by statement (the cluster's
   normalised text minus its cluster parts must be the single node's).

Every function returns the problems found as sentences; an empty list means the cluster DDL
is the single-node DDL plus replication and distribution, and nothing else.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable

from ioc_app.migrate import TABLE as LEDGER
from ioc_app.migrate import ledger_statement
from ioc_app.migrations import MIGRATIONS
from ioc_app.schema import Dialect
from ioc_app.storage import Store, StoreQueryError, cluster_name

Statements = list[tuple[str, str]]
"""(where it comes from, statement) pairs: ``0002_gate#3`` is migration 2's fourth statement."""

SHARD_PATH = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"
ALL_PATH = "'/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}'"


def emitted(d: Dialect) -> Statements:
    """Every statement the migrations send to ClickHouse for this dialect, ledger first."""
    out: Statements = [("ledger", ledger_statement(d))]
    for m in MIGRATIONS:
        out += [(f"{m.VERSION:04d}_{m.NAME}#{i}", s) for i, s in enumerate(m.statements(d))]
    return out


def formatted(store: Store, statements: Statements) -> tuple[Statements, list[str]]:
    """The engine's own normalised text of each statement, and one problem per statement
    its parser rejects."""
    out: Statements = []
    problems: list[str] = []
    for label, sql in statements:
        try:
            out.append((label, str(store.rows("SELECT formatQuery({q:String})", {"q": sql})[0][0])))
        except StoreQueryError as exc:
            problems.append(f"{label}: ClickHouse does not parse it: {exc.server_message}")
    return out, problems


def _head(sql: str) -> str:
    return sql.split("\n", 1)[0]


def _engine(sql: str) -> tuple[str, str] | None:
    found = re.search(r"^ENGINE = (\w+)(?:\((.*)\))?$", sql, re.M)
    return (found.group(1), found.group(2) or "") if found else None


def _name(sql: str, db: str) -> str:
    found = re.search(rf"\b{db}\.(\w+)", _head(sql))
    return found.group(1) if found else "?"


def structure(statements: Statements, db: str, cluster: str) -> list[str]:
    """The cluster shape of the (formatted) cluster statements."""
    problems: list[str] = []
    local: dict[str, str] = {}
    distributed: dict[str, str] = {}
    for label, sql in statements:
        head, name = _head(sql), _name(sql, db)
        on = f" ON CLUSTER {cluster}" in head
        if sql.startswith("INSERT"):
            continue
        if not on:
            problems.append(f"{label}: {head!r} does not run ON CLUSTER {cluster}")
        if sql.startswith("CREATE MATERIALIZED VIEW"):
            targets = re.findall(rf"\bTO {db}\.(\w+)", head)
            sources = re.findall(rf"\b(?:FROM|JOIN) {db}\.(\w+)", sql)
            for t in [*targets, *sources]:
                if not t.endswith("_local"):
                    problems.append(f"{label}: view {name} reads or writes {t}, not a shard-local table")
            continue
        engine = _engine(sql)
        if not sql.startswith("CREATE TABLE") or engine is None:
            continue
        kind, args = engine
        if kind == "Distributed":
            parts = [a.strip() for a in args.split(",", 3)]
            want = [cluster, db, f"{name}_local"]
            if parts[:3] != want or f" AS {db}.{name}_local" not in head:
                problems.append(f"{label}: Distributed table {name} must be AS {db}.{name}_local over "
                                f"Distributed({', '.join(want)}, key), not ({args})")
            distributed[name] = label
        elif not kind.startswith("Replicated"):
            problems.append(f"{label}: table {name} has engine {kind}, not a Replicated one")
        elif name == LEDGER:
            if not args.startswith(ALL_PATH):
                problems.append(f"{label}: {LEDGER} must be one table across all shards ({ALL_PATH})")
        elif not args.startswith(SHARD_PATH) or not name.endswith("_local"):
            problems.append(f"{label}: {name} must be a shard-local *_local table on {SHARD_PATH}")
        else:
            local[name.removesuffix("_local")] = label
    for base, label in local.items():
        if base not in distributed:
            problems.append(f"{label}: {base}_local has no Distributed table {base} over it")
    for base, label in distributed.items():
        if base not in local:
            problems.append(f"{label}: Distributed table {base} has no shard-local {base}_local")
    return problems


def declustered(sql: str, cluster: str, keep_distributed: bool = False) -> tuple[str, str | None]:
    """The statement one engine can run, and the sharding key of a Distributed table (to be
    evaluated against its local table), replacing only what needs Keeper or remote shards
    (``keep_distributed``: an engine that knows the cluster creates Distributed tables itself)."""
    sql = sql.replace(f" ON CLUSTER {cluster}", "")
    paths = "|".join(re.escape(p) for p in (SHARD_PATH, ALL_PATH))
    sql = re.sub(rf"\bReplicated(\w*MergeTree)\((?:{paths})(?:, )?", r"\1(", sql)
    sql = sql.replace("MergeTree()", "MergeTree")
    sql = re.sub(r"\breplicated_deduplication_window", "non_replicated_deduplication_window", sql)
    found = re.search(rf"^ENGINE = Distributed\({re.escape(cluster)}, (\w+), (\w+), (.+)\)$", sql, re.M)
    if not found or keep_distributed:
        return sql, None
    db, table, key = found.groups()
    buffer = f"ENGINE = Buffer({db}, {table}, 1, 0, 0, 0, 0, 0, 0)"
    key_type = f"DESCRIBE TABLE (SELECT {key} FROM {db}.{table})"
    return sql[:found.start()] + buffer + sql[found.end():], key_type


def run_declustered(store: Store, statements: Statements, cluster: str) -> list[str]:
    """Create the cluster schema (cluster parts replaced) in ``store``'s empty database."""
    problems: list[str] = []
    for label, sql in statements:
        plain, key_check = declustered(sql, cluster)
        for leftover in ("ON CLUSTER", "Replicated", "Distributed("):
            if leftover in plain:
                problems.append(f"{label}: an unexpected {leftover} form: {_head(plain)!r}")
        try:
            store.command(plain)
            # Distributed wants an integer sharding key, of the local table's columns
            kind = str(store.rows(key_check)[0][1]) if key_check else "UInt64"
        except StoreQueryError as exc:
            problems.append(f"{label}: ClickHouse rejects it once the cluster parts are replaced: "
                            f"{exc.server_message}")
            continue
        # the engine's rule (checked with a cluster defined in the embedded engine): an integer,
        # LowCardinality of one accepted, Nullable refused
        if not re.fullmatch(r"U?Int\d+|LowCardinality\(U?Int\d+\)", kind):
            problems.append(f"{label}: the sharding key is of type {kind}, not an integer type")
    return problems


def _strip_local(text: str) -> str:
    return re.sub(r"_local(?=\b|_mv)", "", text)


def _catalogue(store: Store) -> tuple[dict[str, dict[str, str]], dict[str, list[tuple[str, ...]]]]:
    db = store.database
    tables = {
        r[0]: {"engine": r[1], "engine_full": r[2].replace(f"{db}.", "DB."), "sorting_key": r[3],
               "partition_key": r[4], "create": r[5].replace(f"{db}.", "DB.")}
        for r in store.rows("SELECT name, engine, engine_full, sorting_key, partition_key, "
                            "create_table_query FROM system.tables WHERE database = {d:String}", {"d": db})
    }
    columns: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for t, *col in store.rows("SELECT table, name, type, default_kind, default_expression FROM "
                              "system.columns WHERE database = {d:String} ORDER BY table, position",
                              {"d": db}):
        columns[t].append(tuple(col))
    return tables, columns


def _column_difference(where: str, one: list[tuple[str, ...]], other: list[tuple[str, ...]]) -> list[str]:
    if one == other:
        return []
    for a, b in zip(one, other, strict=False):
        if a != b:
            return [f"{where}: column {b} on the cluster, {a} on one node"]
    return [f"{where}: {len(other)} columns on the cluster, {len(one)} on one node"]


def compare_catalogues(single: Store, clustered: Store) -> list[str]:
    """Table by table: the created cluster schema against the created single-node schema."""
    one, one_cols = _catalogue(single)
    many, many_cols = _catalogue(clustered)
    groups: dict[str, list[str]] = defaultdict(list)
    for name in many:
        groups[_strip_local(name)].append(name)
    problems = [f"{name}: on the cluster only ({', '.join(groups[name])})"
                for name in groups if name not in one]
    for name, info in sorted(one.items()):
        names = sorted(groups.get(name, []))
        if info["engine"] == "MaterializedView" or name == LEDGER:
            if len(names) != 1:
                problems.append(f"{name}: expected one counterpart on the cluster, found {names}")
                continue
            other = many[names[0]]
            if _strip_local(other["create"]) != info["create"]:
                problems.append(f"{name}: differs on the cluster:\n  one node: {info['create']}\n"
                                f"  cluster:  {_strip_local(other['create'])}")
            problems += _column_difference(name, one_cols[name], many_cols[names[0]])
            continue
        if names != [name, f"{name}_local"]:
            problems.append(f"{name}: expected {name}_local and its Distributed {name}, found {names}")
            continue
        data = many[f"{name}_local"]
        for key in ("engine", "engine_full", "sorting_key", "partition_key"):
            if data[key] != info[key]:
                problems.append(f"{name}: {key} is {data[key]!r} on the cluster, {info[key]!r} on one node")
        problems += _column_difference(f"{name}_local", one_cols[name], many_cols[f"{name}_local"])
        problems += _column_difference(f"{name} (Distributed)", one_cols[name], many_cols[name])
    return problems


def _plain(sql: str, db: str, cluster: str) -> str:
    text, _ = declustered(sql, cluster)
    text = text.replace(", insert_distributed_sync = 1", "").replace(f"{db}.", "DB.")
    return _strip_local(text)


def compare_statements(single: Statements, clustered: Statements, dbs: tuple[str, str],
                       cluster: str) -> list[str]:
    """Statement by statement: the cluster's, minus its cluster parts, are the single node's
    (the Distributed tables and the second ALTER of a column change, on them, aside)."""
    ones = [(label, _plain(sql, dbs[0], "")) for label, sql in single]
    manys: Statements = []
    for label, sql in clustered:
        engine = _engine(sql)
        if engine is not None and engine[0] == "Distributed":
            continue
        text = _plain(sql, dbs[1], cluster)
        if manys and manys[-1][1] == text and text.startswith("ALTER"):
            continue
        manys.append((label, text))
    problems: list[str] = []
    for (label, a), (_, b) in zip(ones, manys, strict=False):
        if a != b:
            problems.append(f"{label}: differs on the cluster:\n  one node: {a}\n  cluster:  {b}")
    if len(ones) != len(manys):
        problems.append(f"{len(manys)} statements on the cluster besides the Distributed tables, "
                        f"{len(ones)} on one node")
    return problems


def check(single: Store, target: Store, cluster: str,
          mutate: Callable[[Statements], Statements] = lambda s: s) -> list[str]:
    """Everything above: ``single`` holds the migrated single-node schema, ``target`` is an
    empty database the cluster schema is created in; ``mutate`` may break the cluster
    statements first (to show the check notices)."""
    many, problems = formatted(target, mutate(emitted(Dialect(target.database, cluster))))
    one, _ = formatted(single, emitted(Dialect(single.database)))
    name = cluster_name(cluster)  # as the statements write it (quoted unless a plain identifier)
    problems += structure(many, target.database, name)
    problems += run_declustered(target, many, name)
    problems += compare_catalogues(single, target)
    problems += compare_statements(one, many, (single.database, target.database), name)
    return problems
