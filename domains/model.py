"""What a domain declares, once: the record every layer reads instead of naming the domain.

A domain (gate, network, service, enrollment …) is one :class:`Domain` in its own module of
this package. It holds the domain's event contracts, its current tables and rollups, the
measures and dimensions of the query API, the measures anomaly rules may watch, the fields
that hold catalogue codes, how long each stream may stay silent, the labels its figures are
shown with, and where its live figures and its simulator are. The shared machinery (the
ingest registry, the snapshot core, the query API, the alert rules, data quality, the
catalogue of UI text, the simulator, the schema drift check) iterates over the registered
domains; none of it names one.

The record is plain data and imports nothing of the product, so ``ingest``, ``metrics``,
``ioc_app`` and ``layouts`` may all read it without reaching each other. The two places
that live in another layer — the snapshot figures (``metrics``) and the simulator
(``ingest``) — are named by module path and imported by the layer that runs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from domains.contracts import Stream

Text = dict[str, str]
"""One label: the text per language code (``zh``, ``en``)."""

Grain = Literal["minute", "hour", "day"]
Kind = Literal["count", "mean", "max", "ratio"]


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Col:
    """A rollup column: its name, ClickHouse type and the SELECT expression that fills it."""

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
        return tuple(d.name if isinstance(d, Col) else d for d in self.dims)


@dataclass(frozen=True)
class Table:
    """A stream's current tables: the raw table (columns from the contract, ordered by
    ``order_by``; a plan's by its key) and its rollups. Shipped migrations keep their own
    DDL; a test checks that they build what these declarations describe."""

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


# --------------------------------------------------------------------------- query API


@dataclass(frozen=True)
class Dimension:
    """A rollup column analysts may group or filter by.

    ``values`` is the closed set of an enumeration (a filter value outside it is refused
    naming the set); empty for codes, which are stored as sent (reference data may lag).
    ``select`` is the SQL that shows the column (``{c}`` = the column).
    """

    name: str
    doc: str
    values: tuple[str, ...] = ()
    column: str = ""
    select: str = "toString({c})"

    @property
    def col(self) -> str:
        return self.column or self.name


@dataclass(frozen=True)
class Source:
    """One stream's rollups as seen by the measures over them.

    ``parts`` are aggregates over the rollup columns, computed per bucket, group and
    ``series`` (the dimensions that identify one sampled series, e.g. a link); measures
    combine the parts across series. For counted events ``series`` is empty and a measure
    is a plain sum; for samples (link rates, users online) a mean is taken per series and
    then summed over series, so "users_avg" for a campus is the users online there on
    average, not the average size of one access-type sample.
    """

    stream: str
    table: str
    minute: tuple[str, ...]
    hour: tuple[str, ...]
    parts: tuple[tuple[str, str], ...]
    series: tuple[str, ...] = ()

    def dims(self, grain: Grain) -> tuple[str, ...]:
        return self.minute if grain == "minute" else self.hour


@dataclass(frozen=True)
class Measure:
    """A figure a request may ask for: ``sql`` aggregates the source's parts (``p_*``)."""

    name: str
    source: str
    sql: str
    kind: Kind
    doc: str


def count_of(name: str, source: str, part: str, doc: str) -> Measure:
    """A count measure: the sum of one part."""
    return Measure(name, source, f"sum(p_{part})", "count", doc)


def ratio_of(name: str, source: str, num: str, den: str, doc: str, kind: Kind = "ratio") -> Measure:
    """One part over another, null where the denominator is 0."""
    return Measure(name, source, f"if(sum(p_{den}) = 0, NULL, sum(p_{num}) / sum(p_{den}))", kind, doc)


@dataclass(frozen=True)
class Queryable:
    """What ``GET /api/v1/query/<domain>`` and ``/explore`` may ask of a domain."""

    name: str
    dimensions: tuple[Dimension, ...]
    sources: tuple[Source, ...]
    measures: tuple[Measure, ...]

    def dimension(self, name: str) -> Dimension:
        return next(d for d in self.dimensions if d.name == name)

    def source(self, stream: str) -> Source:
        return next(s for s in self.sources if s.stream == stream)

    def measure(self, name: str) -> Measure:
        return next(m for m in self.measures if m.name == name)

    @property
    def measure_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.measures)

    @property
    def dimension_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)


# --------------------------------------------------------------------------- alerts, quality


@dataclass(frozen=True)
class Watched:
    """A figure anomaly rules may watch (``measure = "<domain>.<name>"``): ``numerator``
    (over ``denominator`` for a rate) of a minute rollup, optionally split by one of
    ``dims``. SQL fragments are fixed here, never taken from the rules file."""

    table: str
    numerator: str
    denominator: str | None
    dims: tuple[str, ...]
    doc: str

    @property
    def is_rate(self) -> bool:
        return self.denominator is not None


@dataclass(frozen=True)
class Referenced:
    """A field of a stream that holds a catalogue code, and the narrowest table that has it.

    ``table`` holds the column ``field``, a time column ``time`` (the hour bucket of a rollup,
    ``ts`` of a raw table, ``imported_at`` of a plan) and ``rows`` counts the events behind a
    row (a rollup's count measure, 1 for raw rows). A test keeps these in step with the
    contracts' ``reference=`` declarations.
    """

    stream: str
    field: str
    kind: str
    table: str
    time: str
    rows: str


# --------------------------------------------------------------------------- the record


@dataclass(frozen=True)
class Domain:
    """One domain, declared once (see the module docstring).

    ``order`` places it among the others (snapshot sections, the query API's list, the
    simulator); ``stale_after_s`` gives every event stream the silence after which it is
    stale (None: it comes in seasons and is never stale); ``figures`` is the module whose
    ``live(store, zone, now)`` and ``slow(store, zone, now)`` compute the domain's snapshot
    section (``figure_options`` names the settings ``live`` also takes, e.g. ``min_cell``);
    ``simulator`` the module whose ``hour_events(world, hour)`` and ``MAX_DELAY_H`` make its
    demo traffic; ``labels`` the UI text keys its figures are shown with (the query API's
    ``explore.domain.<d>``, ``explore.m.<d>.<measure>``, ``explore.d.<dim>``,
    ``explore.v.<dim>.<value>``, ``health.stream.<stream>`` …) that no shared area declares;
    ``header_aliases`` and ``value_aliases`` the Chinese spreadsheet headers (→ field) and cell
    values (field → value → code) file import understands for its streams, ``person_keys``
    the pseudonymous person key of each stream that has one (where file import puts a
    pseudonymised identifier column).
    """

    name: str
    order: int
    streams: tuple[Stream, ...]
    tables: tuple[Table, ...] = ()
    query: Queryable | None = None
    watched: Mapping[str, Watched] = field(default_factory=dict)
    references: tuple[Referenced, ...] = ()
    stale_after_s: Mapping[str, int | None] = field(default_factory=dict)
    labels: Mapping[str, Text] = field(default_factory=dict)
    header_aliases: Mapping[str, str] = field(default_factory=dict)
    value_aliases: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    person_keys: Mapping[str, str] = field(default_factory=dict)
    figures: str | None = None
    figure_options: tuple[str, ...] = ()
    simulator: str | None = None

    def __post_init__(self) -> None:
        for s in self.streams:
            if s.domain != self.name:
                raise ValueError(f"stream {s.name} says domain={s.domain!r} but is declared by "
                                 f"domain {self.name!r}; make them agree")
        names = {s.name for s in self.streams}
        for t in self.tables:
            if t.stream not in names:
                raise ValueError(f"domain {self.name} declares tables for {t.stream}, which is not "
                                 f"one of its streams ({', '.join(sorted(names))})")
        events = {s.name for s in self.streams if s.kind == "event"}
        if set(self.stale_after_s) != events:
            raise ValueError(f"domain {self.name}: stale_after_s must name exactly its event streams "
                             f"({', '.join(sorted(events))}), got {', '.join(sorted(self.stale_after_s))}")
        for stream, key in self.person_keys.items():
            if stream not in names or key not in {f.name for s in self.streams if s.name == stream
                                                  for f in s.all_fields}:
                raise ValueError(f"domain {self.name}: person key {stream}.{key} is not a field of "
                                 f"one of its streams")
        if self.query is not None and self.query.name != self.name:
            raise ValueError(f"domain {self.name}: its query whitelist is named {self.query.name!r}")
