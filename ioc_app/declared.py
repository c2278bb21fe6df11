"""The DDL of the tables a domain declares *now*: its raw tables (``ingest/<name>.py``,
``IngestDomain.tables``) and its rollups (``metrics/<name>.py``, ``MetricsDomain.rollups``).

Shipped migrations keep their own DDL, frozen when they shipped (``ioc_app/migrations``);
the domains declare their current tables. This module says those declarations in the same
dialect, so that ``tests/ioc_app/test_domain_tables.py`` can build both on the real engine
and require the same tables, and so that the migration of a new domain can be checked
against its declaration before it ships. Nothing here is run by ``migrate``: a migration
never reads a declaration (its DDL would follow every later change of it).
"""

from __future__ import annotations

from collections.abc import Iterator

from ingest.contracts import Stream, ch_type
from ingest.tables import Table
from ioc_app import schema
from ioc_app.domains import Domain
from ioc_app.schema import Dialect
from metrics.domain import Col, Rollup

TS = "DateTime64(3, 'UTC')"
#: the column the product adds to a stream's table beside the contract's fields
ADDED = {"event": "received_at", "plan": "imported_at"}


def source(stream: Stream) -> schema.Source:
    """A stream's raw table as its contract describes it today."""
    columns = (*((f.name, ch_type(f)) for f in stream.all_fields), (ADDED[stream.kind], TS))
    return schema.Source(stream.table, columns, stream.retention_days)


def _col(c: str | Col) -> str | schema.Col:
    return c if isinstance(c, str) else schema.Col(c.name, c.type, c.expr)


def _tables(domain: Domain) -> Iterator[tuple[Stream, Table, tuple[Rollup, ...]]]:
    """Each raw table the ingest half declares, its stream and the metrics half's rollups of it."""
    by_name = {s.name: s for s in domain.streams}
    for table in domain.ingest.tables:
        yield (by_name[table.stream], table,
               tuple(r for r in domain.metrics.rollups if r.stream == table.stream))


def table_names(domain: Domain) -> tuple[str, ...]:
    """Every table the domain declares: raw tables and rollups."""
    return tuple(name for stream, _, rollups in _tables(domain)
                 for name in (stream.table, *(r.table(stream.table) for r in rollups)))


def table_statements(stream: Stream, table: Table, rollups: tuple[Rollup, ...], d: Dialect) -> list[str]:
    """CREATE statements of one stream's raw table and its rollups (with their views)."""
    src = source(stream)
    out = (d.plan_table(src, stream.key) if stream.kind == "plan"
           else d.raw_table(src, table.order_by))
    for r in rollups:
        out += d.rollup(src, schema.Rollup(r.grain, tuple(_col(c) for c in r.dims),
                                           tuple(schema.Col(c.name, c.type, c.expr) for c in r.measures),
                                           r.name, r.folds))
    return out


def statements(domain: Domain, d: Dialect, *, freshness: bool = False) -> list[str]:
    """CREATE statements of every table the domain declares; with ``freshness``, also the
    view that keeps ``ioc_freshness`` current for each of its event streams (that table
    must exist: the core migrations create it)."""
    out: list[str] = []
    for stream, table, rollups in _tables(domain):
        out += table_statements(stream, table, rollups, d)
        if freshness and stream.kind == "event":
            out += d.freshness(stream.name, stream.table)
    return out
