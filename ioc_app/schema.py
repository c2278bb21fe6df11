"""DDL for one server or a cluster, from the tables a migration describes.

Migrations describe *what* a domain stores (its columns as they were when the migration
shipped, order keys, rollup keys and measures); this module knows *how* to say it to
ClickHouse: ``MergeTree`` on one node, or ``ReplicatedMergeTree`` tables ``ON CLUSTER`` with
``Distributed`` tables over them. The text is deterministic so the DDL of every migration
can be checked against golden files.

Nothing here reads the event contracts (``ingest/``): a migration's DDL is frozen when it
ships, and a contract that changes afterwards needs a new migration (see the README,
"Changing the schema"; ``tests/ioc_app/test_migration_drift.py`` says which).
"""

from __future__ import annotations

from dataclasses import dataclass

from ioc_app.storage import cluster_name, on_cluster

#: Same window on raw tables and rollups: a re-inserted batch (same deduplication token)
#: must be dropped by the rollups too, or the materialized views would count it twice.
DEDUP_WINDOW = 10_000
ROLLUP_1M_TTL_DAYS = 63  # nine weeks: anomaly rules compare with the same minute of past weeks


@dataclass(frozen=True)
class Col:
    """A rollup column: its name, ClickHouse type and the SELECT expression that fills it."""

    name: str
    type: str
    expr: str


Columns = tuple[tuple[str, str], ...]
"""Column names and ClickHouse types, in table order."""


@dataclass(frozen=True)
class Source:
    """A stream's table as the migration that created it saw the contract: name, every column
    (received_at / imported_at included) and the retention. Written out in the migration,
    never derived from ``ingest/``, so the DDL a shipped migration runs never changes."""

    table: str
    columns: Columns
    retention_days: int

    def type_of(self, column: str) -> str:
        for name, kind in self.columns:
            if name == column:
                return kind
        raise KeyError(f"{self.table} has no column {column!r}")


def enum8(*values: str) -> str:
    """``Enum8('a' = 1, 'b' = 2, …)``: the values numbered from 1 in the order given."""
    return "Enum8(" + ", ".join(f"'{v}' = {i + 1}" for i, v in enumerate(values)) + ")"


@dataclass(frozen=True)
class Rollup:
    """An AggregatingMergeTree rollup of a raw table, filled by a materialized view."""

    grain: str  # "1m" | "1h"
    dims: tuple[str | Col, ...]
    measures: tuple[Col, ...]
    #: empty: ``<table>_<grain>``; else a narrow rollup ``<table>_<name>_<grain>``
    name: str = ""
    #: a narrow rollup folded from the stream's general rollup of the same grain (its view
    #: reads the blocks that rollup's view writes, a fraction of the raw rows) instead of
    #: from the raw table; its dimensions must be columns of that rollup
    folds: bool = False

    def table(self, source: str) -> str:
        return f"{source}_{self.name}_{self.grain}" if self.name else f"{source}_{self.grain}"

    @property
    def bucket(self) -> Col:
        if self.grain == "1m":
            return Col("minute", "DateTime('UTC')", "toStartOfMinute(ts)")
        return Col("hour", "DateTime('UTC')", "toStartOfHour(ts)")


def count(name: str = "n") -> Col:
    return Col(name, "SimpleAggregateFunction(sum, UInt64)", "count()")


def _fold(measure: Col) -> str:
    """The function that folds partial values of a ``SimpleAggregateFunction`` column."""
    if not measure.type.startswith("SimpleAggregateFunction("):
        raise ValueError(f"measure {measure.name} of type {measure.type} cannot be folded again by a "
                         "narrow rollup; give it a SimpleAggregateFunction type")
    return measure.type[len("SimpleAggregateFunction("):].split(",", 1)[0].strip()


def total(name: str, expr: str, kind: str = "UInt64") -> Col:
    return Col(name, f"SimpleAggregateFunction(sum, {kind})", f"sum({expr})")


def maximum(name: str, expr: str, kind: str = "UInt64") -> Col:
    return Col(name, f"SimpleAggregateFunction(max, {kind})", f"max({expr})")


def distinct(name: str, expr: str, kind: str = "String") -> Col:
    return Col(name, f"AggregateFunction(uniqExact, {kind})", f"uniqExactState({expr})")


class Dialect:
    """Emits DDL for a database, optionally on a cluster."""

    def __init__(self, database: str, cluster: str = "") -> None:
        self.db = database
        self.cluster = cluster

    @property
    def on_cluster(self) -> str:
        return on_cluster(self.cluster)

    def _local(self, table: str) -> str:
        """Name of the table holding the data (a shard-local table on a cluster)."""
        return f"{table}_local" if self.cluster else table

    def _engine(self, engine: str, args: str = "") -> str:
        if not self.cluster:
            return f"{engine}({args})" if args else engine
        path = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"
        return f"Replicated{engine}({path}{', ' + args if args else ''})"

    def _settings(self) -> str:
        key = "replicated" if self.cluster else "non_replicated"
        return f"SETTINGS {key}_deduplication_window = {DEDUP_WINDOW}"

    def _distributed(self, table: str, shard_key: str) -> list[str]:
        if not self.cluster:
            return []
        return [
            f"CREATE TABLE IF NOT EXISTS {self.db}.{table}{self.on_cluster}\n"
            f"AS {self.db}.{self._local(table)}\n"
            f"ENGINE = Distributed({cluster_name(self.cluster)}, {self.db}, {self._local(table)}, "
            f"{shard_key})"
        ]

    @staticmethod
    def _columns(cols: list[tuple[str, str]]) -> str:
        return ",\n".join(f"    `{n}` {t}" for n, t in cols)

    def table(
        self,
        name: str,
        columns: list[tuple[str, str]],
        *,
        engine: str,
        order_by: str,
        partition_by: str | None = None,
        ttl: str | None = None,
        shard_key: str = "rand()",
        engine_args: str = "",
    ) -> list[str]:
        """CREATE TABLE (plus its Distributed table on a cluster)."""
        parts = [
            f"CREATE TABLE IF NOT EXISTS {self.db}.{self._local(name)}{self.on_cluster}\n"
            f"(\n{self._columns(columns)}\n)",
            f"ENGINE = {self._engine(engine, engine_args)}",
        ]
        if partition_by:
            parts.append(f"PARTITION BY {partition_by}")
        parts.append(f"ORDER BY {order_by}")
        if ttl:
            parts.append(f"TTL {ttl}")
        parts.append(self._settings())
        return ["\n".join(parts), *self._distributed(name, shard_key)]

    def ledger(self, table: str, columns: str, order_by: str) -> str:
        """A small bookkeeping table every node keeps whole (the migrations applied): on a
        cluster one replicated table across all shards, not one per shard, so whichever node
        a process connects to knows what has run. Replica names then include the shard, as a
        shard's ``{replica}`` macro need only be unique within its shard."""
        engine = "MergeTree"
        if self.cluster:
            engine = "ReplicatedMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}')"
        return (f"CREATE TABLE IF NOT EXISTS {self.db}.{table}{self.on_cluster}\n"
                f"({columns})\nENGINE = {engine} ORDER BY {order_by}")

    def alter(self, table: str, clause: str) -> list[str]:
        """ALTER TABLE for what the data part holds (``MODIFY TTL``, settings): on a cluster,
        the shard-local tables."""
        return [f"ALTER TABLE {self.db}.{self._local(table)}{self.on_cluster}\n{clause}"]

    def alter_columns(self, table: str, clause: str) -> list[str]:
        """ALTER TABLE for columns (``ADD COLUMN IF NOT EXISTS``, ``MODIFY COLUMN`` …): on a
        cluster the shard-local tables and the ``Distributed`` table over them, which keeps
        its own column list."""
        if not self.cluster:
            return self.alter(table, clause)
        return [*self.alter(table, clause), f"ALTER TABLE {self.db}.{table}{self.on_cluster}\n{clause}"]

    def raw_table(self, source: Source, order_by: tuple[str, ...]) -> list[str]:
        """The raw events of a stream: monthly partitions, TTL = the stream's retention.

        On a cluster the rows are sharded by a hash of their event id, so a batch sent again
        splits into the same blocks on the same shards and is deduplicated there. A
        ``Distributed`` table refuses a key that may be NULL ("Sharding expression has type
        Nullable(UInt64)"), so where the id is optional the rows without one are hashed by
        their order key instead (still the same shard for the same row)."""
        key = "cityHash64(event_id)"
        if source.type_of("event_id").startswith("Nullable("):
            key = f"cityHash64(ifNull(event_id, ''), {', '.join(order_by)})"
        return self.table(
            source.table,
            list(source.columns),
            engine="MergeTree",
            partition_by="toYYYYMM(ts)",
            order_by="(" + ", ".join(order_by) + ")",
            ttl=f"toDateTime(ts) + INTERVAL {source.retention_days} DAY",
            shard_key=key,
        )

    def plan_table(self, source: Source, key: tuple[str, ...]) -> list[str]:
        """An upserted reference table: the latest import of a key wins."""
        keys = ", ".join(key)
        return self.table(
            source.table,
            list(source.columns),
            engine="ReplacingMergeTree",
            engine_args="imported_at",
            order_by=f"({keys})",
            shard_key=f"cityHash64({keys})",
        )

    def materialized_view(self, target: str, source: str, select: str, suffix: str = "") -> str:
        """A materialized view from ``source`` into ``target`` (shard-local on a cluster, so
        every shard aggregates the rows inserted into it); ``{source}`` in ``select`` names
        the source table. Several views into one target differ by ``suffix``."""
        return (
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {self.db}.{self._local(target)}_mv{suffix}"
            f"{self.on_cluster}\n"
            f"TO {self.db}.{self._local(target)}\n"
            f"AS {select.replace('{source}', f'{self.db}.{self._local(source)}')}"
        )

    def freshness(self, stream: str, table: str) -> list[str]:
        """The materialized view that keeps ``ioc_freshness`` current for one event stream
        (``stream`` is its contract name, ``table`` its raw table), then the one-off fill from
        the events stored so far (an empty table yields no row: ``GROUP BY``). Every new event
        stream needs it, in the migration that creates the stream's table."""
        select = (
            f"SELECT '{stream}' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,\n"
            f"    argMaxState(received_at, ts) AS arrival\nFROM {{source}}\nGROUP BY stream"
        )
        return [
            self.materialized_view("ioc_freshness", table, select, f"_{table}"),
            f"INSERT INTO {self.db}.ioc_freshness\n" + select.replace("{source}", f"{self.db}.{table}"),
        ]

    def rollup(self, source: Source, rollup: Rollup) -> list[str]:
        """An AggregatingMergeTree rollup and the materialized view that fills it; a dimension
        named by a string keeps its raw column's type."""
        name = rollup.table(source.table)
        dims = [d if isinstance(d, Col) else Col(d, source.type_of(d), d) for d in rollup.dims]
        bucket = rollup.bucket
        keys = [bucket, *dims]
        ttl_days = ROLLUP_1M_TTL_DAYS if rollup.grain == "1m" else source.retention_days
        ddl = self.table(
            name,
            [(c.name, c.type) for c in (*keys, *rollup.measures)],
            engine="AggregatingMergeTree",
            partition_by=f"toYYYYMM({bucket.name})",
            order_by="(" + ", ".join(c.name for c in keys) + ")",
            ttl=f"{bucket.name} + INTERVAL {ttl_days} DAY",
        )
        read = f"{source.table}_{rollup.grain}" if rollup.folds else source.table
        ddl.append(self.materialized_view(name, read, self._rollup_select(source, rollup)))
        return ddl

    @staticmethod
    def _rollup_select(source: Source, rollup: Rollup, where: str = "") -> str:
        """The SELECT that aggregates rows of ``{source}`` into rows of ``rollup``: raw rows,
        or the general rollup's rows for a rollup that ``folds`` it (its columns by name, each
        measure folded again by its own function)."""
        dims = [d if isinstance(d, Col) else Col(d, source.type_of(d), d) for d in rollup.dims]
        keys = [rollup.bucket, *dims]
        if rollup.folds:
            keys = [Col(c.name, c.type, f"`{c.name}`") for c in keys]
            measures = [Col(c.name, c.type, f"{_fold(c)}(`{c.name}`)") for c in rollup.measures]
        else:
            measures = list(rollup.measures)
        select = ",\n    ".join(f"{c.expr} AS `{c.name}`" for c in (*keys, *measures))
        return (f"SELECT\n    {select}\nFROM {{source}}\n" + (f"WHERE {where}\n" if where else "")
                + "GROUP BY " + ", ".join(f"`{c.name}`" for c in keys))

    def rollup_backfill(self, source: Source, rollup: Rollup) -> list[str]:
        """Fill a rollup added after its stream from the rows stored so far, exactly once:
        empty it, then aggregate the raw table (or the general rollup it ``folds``) into it
        (a minute rollup only over the days its TTL keeps). Its view must exist already and
        nothing may be written meanwhile (migrations run before the processes start, README
        "A ClickHouse server, Redis and the scaled mode"): each row is then either stored
        before the fill, which counts it, or after it, which the view counts. Run again after
        an interruption, it starts over, so nothing is counted twice. The fill is not
        deduplicated: a block of it that happens to equal an earlier one (say of an
        interrupted fill) must not be dropped; on a cluster it is inserted before the
        statement returns."""
        name = rollup.table(source.table)
        read = f"{source.table}_{rollup.grain}" if rollup.folds else source.table
        time = rollup.bucket.name if rollup.folds else "ts"
        where = f"{time} >= now() - INTERVAL {ROLLUP_1M_TTL_DAYS} DAY" if rollup.grain == "1m" else ""
        select = self._rollup_select(source, rollup, where).replace("{source}", f"{self.db}.{read}")
        settings = "insert_deduplicate = 0" + (", insert_distributed_sync = 1" if self.cluster else "")
        return [
            f"TRUNCATE TABLE IF EXISTS {self.db}.{self._local(name)}{self.on_cluster}",
            f"INSERT INTO {self.db}.{name}\nSETTINGS {settings}\n{select}",
        ]
