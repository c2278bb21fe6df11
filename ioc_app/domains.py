"""The domains, joined: each domain's ingest half, metrics half and labels, checked to agree.

A domain is declared once per layer (ARCHITECTURE.md: one module per domain in ``ingest/``
and ``metrics/``): ``ingest/<name>.py`` declares its contracts, raw tables and how file
import reads it; ``metrics/<name>.py`` its rollups (all SQL lives in metrics), its figures,
what the query API and anomaly rules may ask, its catalogue references and its staleness;
``layouts/i18n/<name>.py`` its labels. Metrics may not import ingest, so what the metrics
half names of the ingest half (a stream, a raw column, an enumeration) is written there
again; this module, which may import both, joins the halves by name and refuses them —
naming the file to change — where they disagree. The snapshot core asks :func:`registered`
for the domains, so a product whose halves disagree does not start.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import ingest.registry
import layouts.i18n
import metrics.registry
from ingest.contracts import Stream
from ingest.tables import IngestDomain
from metrics.domain import MetricsDomain, Queryable, Rollup
from metrics.domain import Source as QuerySource


class DomainMismatch(ValueError):
    """The halves of the registered domains disagree; the message lists what to change."""


@dataclass(frozen=True)
class Domain:
    """One registered domain: its ingest half and its metrics half."""

    ingest: IngestDomain
    metrics: MetricsDomain

    @property
    def name(self) -> str:
        return self.ingest.name

    @property
    def streams(self) -> tuple[Stream, ...]:
        return self.ingest.streams

    @property
    def query(self) -> Queryable | None:
        return self.metrics.query

    @property
    def tables(self) -> frozenset[str]:
        """The raw tables the writer commits whose rows feed this domain's figures: its
        streams' (every rollup and state table it reads is filled from them by the store).
        A commit into one of them is what makes the core recompute the domain."""
        return frozenset(s.table for s in self.ingest.streams)


def rollups(i: IngestDomain, m: MetricsDomain) -> dict[str, Rollup]:
    """The metrics half's rollups by table name (``<raw table>_<grain>``), for the streams the
    ingest half declares."""
    streams = {s.name: s for s in i.streams}
    return {r.table(streams[r.stream].table): r for r in m.rollups if r.stream in streams}


def problems(ingest_half: tuple[IngestDomain, ...], metrics_half: tuple[MetricsDomain, ...],
             labelled: bool = True) -> list[str]:
    """Every disagreement between the halves, each saying which file to change (empty when
    they agree); with ``labelled``, also every label the catalogue lacks."""
    out: list[str] = []
    by_name = {m.name: m for m in metrics_half}
    for name in sorted({i.name for i in ingest_half} - set(by_name)):
        out.append(f"domain {name}: ingest/{name}.py declares it but no metrics module does; add "
                   f"metrics/{name}.py ending in DOMAIN = MetricsDomain(...)")
    for name in sorted(set(by_name) - {i.name for i in ingest_half}):
        out.append(f"domain {name}: metrics/{name}.py declares it but no ingest module does; add "
                   f"ingest/{name}.py ending in DOMAIN = IngestDomain(...)")
    for i in ingest_half:
        m = by_name.get(i.name)
        if m is None:
            continue
        out += _disagreements(i, m)
        if labelled:
            out += [f"domain {i.name}: no label {key!r}; add it to layouts/i18n/{i.name}.py (TEXTS)"
                    for key in unlabelled(Domain(i, m))]
    return out


def _disagreements(i: IngestDomain, m: MetricsDomain) -> list[str]:
    """What ``metrics/<name>.py`` names that ``ingest/<name>.py`` does not declare."""
    out: list[str] = []
    where = f"domain {i.name}: metrics/{i.name}.py"
    if i.order != m.order:
        out.append(f"{where} has order {m.order}, ingest/{i.name}.py {i.order}; make them equal")
    if set(m.stale_after_s) != set(i.event_streams):
        out.append(f"{where} stale_after_s must name exactly its event streams "
                   f"({', '.join(i.event_streams)}), not {', '.join(m.stale_after_s) or 'none'}")
    streams = {s.name: s for s in i.streams}
    declared = rollups(i, m)
    out += _rollups(i, m, streams, where)
    if m.query is not None:
        out += _query(i, m.query, streams, declared, where)
    for measure, w in m.watched.items():
        found = declared.get(w.table)
        if found is None or found.grain != "1m":
            out.append(f"{where} watched {measure!r} reads {w.table}, which is no minute rollup "
                       f"its rollups= declare")
        elif not set(w.dims) <= set(found.dim_names()):
            out.append(f"{where} watched {measure!r} splits by {', '.join(w.dims)}, but {w.table} "
                       f"keeps only {', '.join(found.dim_names())}")
    coded = {(s.name, f.name, f.reference) for s in i.streams for f in s.all_fields if f.reference}
    named = {(r.stream, r.field, r.kind) for r in m.references}
    for stream, name, kind in sorted(coded - named):
        out.append(f"{where} references lack {stream}.{name} (reference={kind!r} in its contract): "
                   f"add a Referenced for it")
    for stream, name, kind in sorted(named - coded):
        out.append(f"{where} references name {stream}.{name} as {kind!r}, but its contract in "
                   f"ingest/{i.name}.py has no such field with reference={kind!r}")
    for r in m.references:
        s = streams.get(r.stream)
        kept = declared.get(r.table)
        if s is not None and r.table != s.table and (kept is None or r.field not in kept.dim_names()):
            out.append(f"{where} reads {r.stream}.{r.field} from {r.table}, which is neither its raw "
                       f"table ({s.table}) nor a rollup of it that keeps {r.field}")
    return out


#: words of an expression that are not columns (functions are told by their parenthesis)
_SQL_WORDS = frozenset({"and", "or", "not", "null", "in", "is", "true", "false", "like", "between",
                        "case", "when", "then", "else", "end"})


def _narrow(q: Queryable, source: QuerySource, declared: dict[str, Rollup], where: str) -> list[str]:
    """A source's narrow hour rollups (``Source.narrow``) against the rollups declared: each
    must keep the general hour rollup's measures, the dimensions it claims and every column
    the source's parts read, or a question read from it would miss a figure."""
    out: list[str] = []
    general = declared.get(f"{source.table}_1h")
    for name, kept in source.narrow:
        table = f"{source.table}_{name}_1h"
        found = declared.get(table)
        if found is None or general is None:
            out.append(f"{where} query source {source.stream} reads the narrow rollup {table}, which its "
                       f"rollups= do not declare")
            continue
        has = set(found.dim_names()) | {c.name for c in found.measures}
        needs = {q.dimension(d).col for d in kept if d in q.dimension_names}
        needs |= {c.name for c in general.measures}
        needs |= {c for _, sql in source.parts for c in _columns_read(sql)}
        needs |= {q.dimension(d).col for d in source.series if d in q.dimension_names}
        for column in sorted(needs - has):
            out.append(f"{where} narrow rollup {table} of query source {source.stream} lacks column "
                       f"{column}; keep it there or drop the rollup from Source.narrow")
    return out


def _columns_read(expr: str) -> set[str]:
    """The columns a rollup expression reads: its names that are neither functions, quoted
    text nor SQL words (``countIf(temperature_c >= 37.3)`` → ``temperature_c``)."""
    unquoted = re.sub(r"'(?:[^'\\]|\\.)*'", "''", expr)
    return {m.group(1) for m in re.finditer(r"\b([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()", unquoted)
            if m.group(1).lower() not in _SQL_WORDS}


def _rollups(i: IngestDomain, m: MetricsDomain, streams: dict[str, Stream], where: str) -> list[str]:
    """The metrics half's rollups against the raw tables and columns the ingest half declares."""
    out: list[str] = []
    raw = {t.stream for t in i.tables}
    for r in m.rollups:
        s = streams.get(r.stream)
        if s is None or r.stream not in raw:
            out.append(f"{where} declares a {r.grain} rollup of {r.stream}, which has no raw table "
                       f"in ingest/{i.name}.py (TABLES); declare it there or drop the rollup")
            continue
        fields = {f.name for f in s.all_fields}
        wanted = {d for d in r.dims if isinstance(d, str)}
        wanted |= {c for col in (*(d for d in r.dims if not isinstance(d, str)), *r.measures)
                   for c in _columns_read(col.expr)}
        for name in sorted(wanted - fields):
            out.append(f"{where} rollup {r.table(s.table)} reads column {name}, which {s.name} in "
                       f"ingest/{i.name}.py has not; name a field of its contract")
    return out


def _query(i: IngestDomain, q: Queryable, streams: dict[str, Stream], declared: dict[str, Rollup],
           where: str) -> list[str]:
    """The query whitelist against the streams, rollups and enumerations it reads."""
    out: list[str] = []
    used: set[str] = set()
    for source in q.sources:
        s = streams.get(source.stream)
        if s is None or source.table != s.table:
            out.append(f"{where} query source {source.stream} ({source.table}) is not a stream of "
                       f"ingest/{i.name}.py with that table")
            continue
        for grain, dims in (("1m", source.minute), ("1h", source.hour)):
            if q.answers is not None:  # latest states, answered from the raw tables: no rollups
                used.update(dims)
                out += [f"{where} query source {source.stream} names dimension {name!r}, which the "
                        f"whitelist does not declare" for name in dims if name not in q.dimension_names]
                continue
            found = declared.get(f"{s.table}_{grain}")
            if found is None:
                out.append(f"{where} query source {source.stream} needs the rollup {s.table}_{grain}, "
                           f"which its rollups= do not declare")
                continue
            kept = found.dim_names()
            for name in dims:
                used.add(name)
                if name not in q.dimension_names:
                    out.append(f"{where} query source {source.stream} names dimension {name!r}, "
                               f"which the whitelist does not declare")
                elif q.dimension(name).col not in kept:
                    out.append(f"{where} dimension {name!r} reads column {q.dimension(name).col} of "
                               f"{s.table}_{grain}, which keeps only {', '.join(kept)}")
        out += _narrow(q, source, declared, where)
        for d in q.dimensions:
            field = next((f for f in s.all_fields if f.name in (d.col, d.name)), None)
            if d.name in (*source.minute, *source.hour) and field is not None and field.kind == "enum" \
                    and tuple(d.values) != tuple(field.values):
                out.append(f"{where} dimension {d.name!r} lists ({', '.join(d.values)}), but "
                           f"{s.name}.{field.name} in ingest/{i.name}.py allows "
                           f"({', '.join(field.values)}); make them equal, in the contract's order")
    for d in q.dimensions:
        if d.name not in used:
            out.append(f"{where} dimension {d.name!r} is kept by none of its query sources")
    sources = {s.stream for s in q.sources}
    for measure in q.measures:
        if measure.source not in sources:
            out.append(f"{where} measure {measure.name!r} reads {measure.source}, which is not one of "
                       f"its query sources")
    return out


def unlabelled(domain: Domain) -> list[str]:
    """The UI text keys a domain's figures are shown with that the catalogue lacks: its
    streams on /health and, when it may be queried, its name and measures in /explore and
    its dimensions and their values."""
    wanted = [f"health.stream.{s.name}" for s in domain.streams]
    if domain.query is not None:
        wanted.append(f"explore.domain.{domain.name}")
        wanted += [f"explore.m.{domain.name}.{m.name}" for m in domain.query.measures]
        for d in domain.query.dimensions:
            wanted += [f"explore.d.{d.name}", *(f"explore.v.{d.name}.{v}" for v in d.values)]
    return [k for k in wanted if k not in layouts.i18n.CATALOGUE]


_lock = threading.Lock()
_cache: tuple[tuple[int, int, int], tuple[Domain, ...]] | None = None


def registered() -> tuple[Domain, ...]:
    """The registered domains with both halves, in their order; raises
    :class:`DomainMismatch` listing every disagreement (checked again after a registry
    changed)."""
    global _cache
    key = (ingest.registry.DOMAINS.current(), metrics.registry.DOMAINS.current(),
           layouts.i18n.generation())
    with _lock:
        if _cache is not None and _cache[0] == key:
            return _cache[1]
        ingest_half, metrics_half = ingest.registry.registered(), metrics.registry.registered()
        found = problems(ingest_half, metrics_half)
        if found:
            raise DomainMismatch("the declarations of the domains disagree:\n  " + "\n  ".join(found))
        by_name = {m.name: m for m in metrics_half}
        joined = tuple(Domain(i, by_name[i.name]) for i in ingest_half)
        _cache = (key, joined)
        return joined


def get(name: str) -> Domain:
    """One registered domain by name, with an error that lists the registered ones."""
    for d in registered():
        if d.name == name:
            return d
    raise KeyError(f"unknown domain {name!r}; use one of: {', '.join(d.name for d in registered())}")
