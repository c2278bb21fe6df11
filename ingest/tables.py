"""What a domain declares on the ingest side: its streams, their current tables and rollups,
and how file import reads its spreadsheets.

Each domain module of this package (``ingest/gate.py`` …) ends with ``DOMAIN =
IngestDomain(...)``; the registry (``ingest/registry.py``) finds it there. The query
measures, anomaly measures, catalogue references and staleness of the same domain are
declared in ``metrics/<name>.py``, its labels in ``layouts/i18n/<name>.py``;
``ioc_app/domains.py`` joins the halves by name and checks they agree.

Shipped migrations keep their own DDL, frozen when they shipped; the tables declared here are
the tables as they are *now*, and ``tests/ioc_app/test_domain_tables.py`` requires the
migrations to build exactly them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ingest.contracts import Stream


@dataclass(frozen=True)
class Col:
    """A rollup column: its name, ClickHouse type and the expression that fills it per bucket."""

    name: str
    type: str
    expr: str


@dataclass(frozen=True)
class Rollup:
    """An aggregating rollup of a stream's raw table (``<table>_1m`` or ``<table>_1h``): a
    dimension named by a string keeps its raw column's type."""

    grain: Literal["1m", "1h"]
    dims: tuple[str | Col, ...]
    measures: tuple[Col, ...]

    def dim_names(self) -> tuple[str, ...]:
        """The rollup's dimension columns by name (what queries may group by)."""
        return tuple(d.name if isinstance(d, Col) else d for d in self.dims)


@dataclass(frozen=True)
class Table:
    """A stream's current tables: the raw table (columns from the contract, ordered by
    ``order_by``; a plan's by its key) and its rollups."""

    stream: str
    order_by: tuple[str, ...] = ()
    rollups: tuple[Rollup, ...] = ()


def count(name: str = "n") -> Col:
    """Rows per bucket."""
    return Col(name, "SimpleAggregateFunction(sum, UInt64)", "count()")


def total(name: str, expr: str, kind: str = "UInt64") -> Col:
    """A sum per bucket."""
    return Col(name, f"SimpleAggregateFunction(sum, {kind})", f"sum({expr})")


def maximum(name: str, expr: str, kind: str = "UInt64") -> Col:
    """A maximum per bucket."""
    return Col(name, f"SimpleAggregateFunction(max, {kind})", f"max({expr})")


def distinct(name: str, expr: str, kind: str = "String") -> Col:
    """Distinct values per bucket (merged with ``uniqExactMerge``)."""
    return Col(name, f"AggregateFunction(uniqExact, {kind})", f"uniqExactState({expr})")


@dataclass(frozen=True)
class IngestDomain:
    """One domain as the ingest path sees it (see the module docstring).

    ``order`` places it among the others (the stream list, the simulator, the snapshot's
    sections); ``header_aliases`` and ``value_aliases`` are the Chinese spreadsheet headers
    (→ field) and cell values (field → value → code) file import understands for its
    streams; ``person_keys`` the pseudonymous person key of each stream that has one (where
    file import puts a pseudonymised identifier column); ``simulator`` the module whose
    ``hour_events(world, hour)`` and ``MAX_DELAY_H`` make its demo traffic (usually
    ``ingest.sim.<name>``; None: no demo traffic).
    """

    name: str
    order: int
    streams: tuple[Stream, ...]
    tables: tuple[Table, ...] = ()
    header_aliases: Mapping[str, str] = field(default_factory=dict)
    value_aliases: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    person_keys: Mapping[str, str] = field(default_factory=dict)
    simulator: str | None = None

    def __post_init__(self) -> None:
        where = f"the ingest declaration of domain {self.name!r}"
        for s in self.streams:
            if s.domain != self.name:
                raise ValueError(f"stream {s.name} says domain={s.domain!r} but is declared by "
                                 f"{where}; make them agree")
        by_name = {s.name: s for s in self.streams}
        for t in self.tables:
            if t.stream not in by_name:
                raise ValueError(f"{where} declares tables for {t.stream}, which is not one of its "
                                 f"streams ({', '.join(sorted(by_name))})")
        for stream, key in self.person_keys.items():
            if stream not in by_name or key not in {f.name for f in by_name[stream].all_fields}:
                raise ValueError(f"{where}: person key {stream}.{key} is not a field of one of "
                                 f"its streams")

    @property
    def event_streams(self) -> tuple[str, ...]:
        """Its streams of events (not plans), by name."""
        return tuple(s.name for s in self.streams if s.kind == "event")

    def rollup(self, table: str) -> tuple[Stream, Rollup] | None:
        """The stream and rollup of a rollup table name (``gate_pass_1m``), if declared here."""
        by_name = {s.name: s for s in self.streams}
        for t in self.tables:
            stream = by_name[t.stream]
            for r in t.rollups:
                if f"{stream.table}_{r.grain}" == table:
                    return stream, r
        return None
