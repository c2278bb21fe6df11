"""The DDL of the tables a domain declares *now* (``ingest/<name>.py``, ``IngestDomain.tables``).

Shipped migrations keep their own DDL, frozen when they shipped (``ioc_app/migrations``);
the domains declare their current tables. This module says those declarations in the same
dialect, so that ``tests/ioc_app/test_domain_tables.py`` can build both on the real engine
and require the same tables, and so that the migration of a new domain can be checked
against its declaration before it ships. Nothing here is run by ``migrate``: a migration
never reads a declaration (its DDL would follow every later change of it).
"""

from __future__ import annotations

from ingest.contracts import Stream, ch_type
from ingest.tables import Col, IngestDomain, Table
from ioc_app import schema
from ioc_app.schema import Dialect

TS = "DateTime64(3, 'UTC')"
#: the column the product adds to a stream's table beside the contract's fields
ADDED = {"event": "received_at", "plan": "imported_at"}


def source(stream: Stream) -> schema.Source:
    """A stream's raw table as its contract describes it today."""
    columns = (*((f.name, ch_type(f)) for f in stream.all_fields), (ADDED[stream.kind], TS))
    return schema.Source(stream.table, columns, stream.retention_days)


def _col(c: str | Col) -> str | schema.Col:
    return c if isinstance(c, str) else schema.Col(c.name, c.type, c.expr)


def table_names(domain: IngestDomain) -> tuple[str, ...]:
    """Every table the domain declares: raw tables and rollups."""
    by_name = {s.name: s for s in domain.streams}
    return tuple(name for t in domain.tables
                 for name in (by_name[t.stream].table,
                              *(f"{by_name[t.stream].table}_{r.grain}" for r in t.rollups)))


def table_statements(stream: Stream, table: Table, d: Dialect) -> list[str]:
    """CREATE statements of one stream's raw table and its rollups (with their views)."""
    src = source(stream)
    out = (d.plan_table(src, stream.key) if stream.kind == "plan"
           else d.raw_table(src, table.order_by))
    for r in table.rollups:
        out += d.rollup(src, schema.Rollup(r.grain, tuple(_col(c) for c in r.dims),
                                           tuple(schema.Col(c.name, c.type, c.expr) for c in r.measures)))
    return out


def statements(domain: IngestDomain, d: Dialect, *, freshness: bool = False) -> list[str]:
    """CREATE statements of every table the domain declares; with ``freshness``, also the
    view that keeps ``ioc_freshness`` current for each of its event streams (that table
    must exist: the core migrations create it)."""
    by_name = {s.name: s for s in domain.streams}
    out: list[str] = []
    for table in domain.tables:
        stream = by_name[table.stream]
        out += table_statements(stream, table, d)
        if freshness and stream.kind == "event":
            out += d.freshness(stream.name, stream.table)
    return out
