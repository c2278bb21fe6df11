"""What a domain declares on the ingest side: its streams, their raw tables as they are now,
and how file import reads its spreadsheets.

Each domain module of this package (``ingest/gate.py`` …) ends with ``DOMAIN =
IngestDomain(...)``; the registry (``ingest/registry.py``) finds it there. The rollups (and
the SQL that fills them), query measures, anomaly measures, catalogue references and
staleness of the same domain are declared in ``metrics/<name>.py`` (all SQL lives in
metrics), its labels in ``layouts/i18n/<name>.py``; ``ioc_app/domains.py`` joins the halves
by name and checks they agree.

Shipped migrations keep their own DDL, frozen when they shipped; the raw tables declared here
(with the metrics half's rollups) are the tables as they are *now*, and
``tests/ioc_app/test_domain_tables.py`` requires the migrations to build exactly them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ingest.contracts import Stream


@dataclass(frozen=True)
class Table:
    """A stream's current raw table: its columns come from the contract, its rows are ordered
    by ``order_by`` (a plan's by its key)."""

    stream: str
    order_by: tuple[str, ...] = ()


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
