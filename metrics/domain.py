"""What a domain declares on the metrics side: the rollups its figures read (with the SQL that
fills each column), what the query API and anomaly rules may ask of it, which fields hold
catalogue codes, how long its streams may stay silent, and the functions that compute its
snapshot section.

Each domain module of this package (``metrics/gate.py`` …) holds its live and slow figures
and ends with ``DOMAIN = MetricsDomain(...)``; the registry (``metrics/registry.py``) finds
it there. The shared machinery (the query API, the alert rules, data quality, freshness, the
snapshot core) iterates over the registered domains and names none of them. The contracts
and raw tables of the same domain are declared in ``ingest/<name>.py``: metrics may not
import ingest, so ``ioc_app/domains.py`` joins the two halves by name and checks that every
stream, raw column and enumeration named here is one the ingest half declares, and that the
query sources and watched figures read rollups declared here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Grain = Literal["minute", "hour", "day", "season"]
Kind = Literal["count", "mean", "min", "max", "ratio"]
Figures = Callable[..., dict[str, Any]]
"""``live(store, zone, now, **options)`` or ``slow(store, zone, now)``: a snapshot section."""


# --------------------------------------------------------------------------- rollups


@dataclass(frozen=True)
class Col:
    """A rollup column: its name, ClickHouse type and the expression that fills it per bucket."""

    name: str
    type: str
    expr: str


@dataclass(frozen=True)
class Rollup:
    """An aggregating rollup of a stream's raw table (``<table>_1m`` or ``<table>_1h``), as the
    domain's figures read it: a dimension named by a string is a raw column and keeps its
    type; the measures say how each bucket is aggregated.

    ``ioc_app/declared.py`` turns it into its table and view (the shipped migrations must
    build the same, ``tests/ioc_app/test_domain_tables.py``).
    """

    stream: str
    grain: Literal["1m", "1h"]
    dims: tuple[str | Col, ...]
    measures: tuple[Col, ...]
    #: empty for the stream's general rollup (``<table>_<grain>``, what the query API reads);
    #: a name for a narrow one that answers a figure directly (``<table>_<name>_<grain>``)
    name: str = ""
    #: a narrow rollup folded from the general rollup of its grain (see ``ioc_app.schema.Rollup``)
    folds: bool = False

    def table(self, raw_table: str) -> str:
        """The rollup's table, beside the stream's raw table ``raw_table``."""
        return f"{raw_table}_{self.name}_{self.grain}" if self.name else f"{raw_table}_{self.grain}"

    def dim_names(self) -> tuple[str, ...]:
        """The rollup's dimension columns by name (what queries may group by)."""
        return tuple(d.name if isinstance(d, Col) else d for d in self.dims)


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


def both_grains(stream: str, dims: tuple[str | Col, ...], measures: tuple[Col, ...],
                name: str = "") -> tuple[Rollup, ...]:
    """The minute and the hour rollup of a stream, when both keep the same columns."""
    return tuple(Rollup(stream, grain, dims, measures, name) for grain in ("1m", "1h"))


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
    #: narrow hour rollups of the stream (``<table>_<name>_1h``, declared in the domain's
    #: ``rollups=`` with the general hour rollup's measures), each with the dimensions it keeps:
    #: an hour or day question that splits and filters only by those dimensions (and whose
    #: parts read only those columns) reads the first that fits — a fraction of the general
    #: rollup's rows, which carries every dimension
    narrow: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def dims(self, grain: Grain) -> tuple[str, ...]:
        return self.minute if grain == "minute" else self.hour

    def hour_table(self, used: tuple[str, ...]) -> str:
        """The hour rollup that answers a question using the dimensions ``used``: the first
        narrow one keeping them all, else the general ``<table>_1h``."""
        for name, kept in self.narrow:
            if set(used) <= set(kept):
                return f"{self.table}_{name}_1h"
        return f"{self.table}_1h"


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
class Comparer:
    """How a domain lines up a comparison period (``compare=previous|last_year``) when the
    calendar's rule of ``metrics/query/compare.py`` does not fit it — enrollment compares the
    same day of the previous admission season. A callable left None takes the calendar's rule.

    - ``period(kind, start, end, grain, zone)``: the comparison range (aware UTC, ``end``
      exclusive) of the asked range;
    - ``align(kind, bucket, start, cmp_start, grain, zone)``: the comparison bucket a bucket of
      the answer lines up with, both as the answer's ``<grain>`` column holds them (None: none);
    - ``earliest(store, tables, grain)``: the first moment the store holds data for the
      domain's asked measures (None: no data); a comparison period before it is refused;
    - ``continuous``: whether a whole day without any of the domain's events is missing data
      (gates, the network, the service hall: every day has some) or just a quiet day (a
      season's events come in months), which a comparison period may then cover.
    """

    period: Callable[..., tuple[Any, Any]] | None = None
    align: Callable[..., Any] | None = None
    earliest: Callable[..., Any] | None = None
    continuous: bool = True


@dataclass(frozen=True)
class Queryable:
    """What ``GET /api/v1/query/<domain>`` and ``/explore`` may ask of a domain.

    ``grains`` are the grains it answers (a request for another is refused naming them).
    Counted and sampled streams are answered from their rollups by the shared SQL. A domain
    whose figures are latest states (a candidate's status, a student's furthest step) has no
    rollups to sum: it gives ``answers``, ``answers(store, spec, zone, min_cell)`` → the
    answer frame, and its sources name its raw tables and, in ``hour``, the dimensions each
    stream's measures may be split by (the same at every grain it answers).
    """

    name: str
    dimensions: tuple[Dimension, ...]
    sources: tuple[Source, ...]
    measures: tuple[Measure, ...]
    grains: tuple[Grain, ...] = ("minute", "hour", "day")
    answers: Callable[..., Any] | None = None
    #: the domain's own way of lining up comparison periods (None: the calendar's)
    compare: Comparer | None = None

    @property
    def default_grain(self) -> Grain:
        """``hour`` where the domain answers it, else its first grain."""
        return "hour" if "hour" in self.grains else self.grains[0]

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
    row (a rollup's count measure, 1 for raw rows). ``ioc_app/domains.py`` keeps these in step
    with the contracts' ``reference=`` declarations.
    """

    stream: str
    field: str
    kind: str
    table: str
    time: str
    rows: str


# --------------------------------------------------------------------------- the record


@dataclass(frozen=True)
class MetricsDomain:
    """One domain as metrics sees it (see the module docstring).

    ``order`` places it among the others (the query API's list, the snapshot's sections; it
    equals the ingest half's); ``live`` and ``slow`` compute its snapshot section
    (``live`` also takes the settings named in ``figure_options``, e.g. ``min_cell``);
    ``stale_after_s`` gives every event stream the silence after which it is stale (None: it
    comes in seasons and is never stale); ``rollups`` are the rollups of its streams (each
    stream and grain once), the tables its figures, query and watched measures read;
    ``query`` is what ``/api/v1/query/<name>`` may ask,
    ``watched`` the figures anomaly rules may watch, ``references`` the fields holding
    catalogue codes; ``ages_within_s`` says how long after a commit of its streams its live
    figures keep changing with time alone at second resolution (windows over sample times: a
    link goes stale 5 minutes after its last sample, users online count the last 10 minutes'
    samples) — the core recomputes them every few seconds for that long; 0 = they change
    with time only at minute boundaries (windows that end with the current minute: today,
    the last 60 minutes), when the core recomputes every domain anyway.
    """

    name: str
    order: int
    live: Figures
    slow: Figures
    stale_after_s: Mapping[str, int | None]
    rollups: tuple[Rollup, ...] = ()
    query: Queryable | None = None
    watched: Mapping[str, Watched] = field(default_factory=dict)
    references: tuple[Referenced, ...] = ()
    figure_options: tuple[str, ...] = ()
    ages_within_s: float = 0.0

    def __post_init__(self) -> None:
        if self.query is not None and self.query.name != self.name:
            raise ValueError(f"the metrics declaration of domain {self.name!r} names its query "
                             f"whitelist {self.query.name!r}; give both the domain's name")
        named = (*self.stale_after_s, *(r.stream for r in self.references), *(r.stream for r in self.rollups))
        for stream in named:
            if stream.split(".", 1)[0] != self.name:
                raise ValueError(f"the metrics declaration of domain {self.name!r} names stream "
                                 f"{stream}, which belongs to another domain")
        seen = [(r.stream, r.grain, r.name) for r in self.rollups]
        for stream, grain, name in sorted({k for k in seen if seen.count(k) > 1}):
            called = f" named {name!r}" if name else ""
            raise ValueError(f"the metrics declaration of domain {self.name!r} declares the {grain} "
                             f"rollup of {stream}{called} twice; keep one")

