"""The site catalogue's entries as the product holds them once read and checked.

Kept apart from the reading (``ingest/site_check.py``) so the checker, the diff and the
spreadsheet builder share one description of what an entry is; ``ingest.site`` re-exports
everything here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl


class SiteError(ValueError):
    """The catalogue cannot be used; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class Named:
    """One catalogue entry; ``aliases`` are other names the offices write for it (names→codes)."""

    code: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...] = field(default=(), kw_only=True)


@dataclass(frozen=True)
class Gate(Named):
    campus: str
    lanes: int
    weight: float


@dataclass(frozen=True)
class Link(Named):
    capacity_bps: int


@dataclass(frozen=True)
class Terminal(Named):
    campus: str


@dataclass(frozen=True)
class Service(Named):
    department: str
    printable: bool
    weight: float


@dataclass(frozen=True)
class Major(Named):
    college: str


@dataclass(frozen=True)
class Site:
    path: str
    name_zh: str
    name_en: str
    timezone: str
    campuses: tuple[Named, ...]
    gates: tuple[Gate, ...]
    links: tuple[Link, ...]
    terminals: tuple[Terminal, ...]
    departments: tuple[Named, ...]
    services: tuple[Service, ...]
    colleges: tuple[Named, ...]
    majors: tuple[Major, ...]
    provinces: tuple[Named, ...]
    #: sha256 of the file's bytes (the catalogue's version: what /health names, what the
    #: stored history is keyed by)
    digest: str = ""

    def counts(self) -> dict[str, int]:
        """Entries per kind, in the catalogue's order."""
        return {kind: len(self.entries(kind)) for kind in ENTRY_SECTIONS}

    def entries(self, kind: str) -> tuple[Named, ...]:
        """The entries of one kind (the ``kind`` of the reference rows), for name→code lookups."""
        try:
            section = ENTRY_SECTIONS[kind]
        except KeyError:
            raise ValueError(f"unknown catalogue kind {kind!r}; one of {', '.join(ENTRY_SECTIONS)}") from None
        entries: tuple[Named, ...] = getattr(self, section)
        return entries

    def reference_frame(self, loaded_at: datetime | None = None) -> pl.DataFrame:
        """Every reference row as ``(kind, code, name_zh, name_en, parent, value, flag)``."""
        loaded_at = loaded_at or datetime.now(UTC)
        rows: list[tuple[str, Named, str, float, bool]] = []
        rows += [("campus", c, "", 0, False) for c in self.campuses]
        rows += [("gate", g, g.campus, g.lanes, False) for g in self.gates]
        rows += [("link", lk, "", lk.capacity_bps, False) for lk in self.links]
        rows += [("terminal", t, t.campus, 0, False) for t in self.terminals]
        rows += [("department", d, "", 0, False) for d in self.departments]
        rows += [("service", s, s.department, s.weight, s.printable) for s in self.services]
        rows += [("college", c, "", 0, False) for c in self.colleges]
        rows += [("major", m, m.college, 0, False) for m in self.majors]
        rows += [("province", p, "", 0, False) for p in self.provinces]
        return pl.DataFrame(
            {
                "kind": [r[0] for r in rows],
                "code": [r[1].code for r in rows],
                "name_zh": [r[1].name_zh for r in rows],
                "name_en": [r[1].name_en for r in rows],
                "parent": [r[2] for r in rows],
                "value": [float(r[3]) for r in rows],
                "flag": [r[4] for r in rows],
                "loaded_at": [loaded_at] * len(rows),
            },
            schema_overrides={"loaded_at": pl.Datetime("ms", "UTC"), "flag": pl.Boolean},
        )


ENTRY_SECTIONS = {
    "campus": "campuses", "gate": "gates", "link": "links", "terminal": "terminals",
    "department": "departments", "service": "services", "college": "colleges", "major": "majors",
    "province": "provinces",
}
