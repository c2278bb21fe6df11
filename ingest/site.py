"""The site catalogue: what a university has (campuses, gates, links, services, colleges…).

One TOML file describes a site (``IOC_SITE``; the shipped demo site is
``ioc_app/sites/demo.toml``). It is loaded and checked at start-up: a broken catalogue stops
the product with the file, the line and what to change, rather than showing wrong names on
a wall for weeks. Simulators generate events from it, and its reference rows are stored in
ClickHouse (``ioc_reference``) so figures can be joined with names.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from ingest.enrollment import PROVINCES
from ioc_app.storage import SqlStore


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


class _Reader:
    """Checks values and, on a problem, finds the line of the entry it belongs to."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def line_of(self, *needles: str) -> int:
        for needle in needles:
            pattern = re.compile(needle)
            for i, line in enumerate(self.lines, 1):
                if pattern.search(line):
                    return i
        return 1

    def fail(self, where: tuple[str, ...], message: str) -> SiteError:
        return SiteError(f"{self.path}: line {self.line_of(*where)}: {message}")

    def text(self, entry: dict[str, Any], key: str, where: tuple[str, ...], label: str) -> str:
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"{label}: '{key}' must be a non-empty string")
        return value.strip()

    def number(self, entry: dict[str, Any], key: str, where: tuple[str, ...], label: str,
               lo: float, hi: float, default: float | None = None) -> float:
        value = entry.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise self.fail(where, f"{label}: '{key}' must be a number from {lo:g} to {hi:g}, "
                                   f"got {value!r}")
        return value


def _id_needles(code: str) -> tuple[str, ...]:
    quoted = re.escape(code)
    return (rf'^\s*(id|code)\s*=\s*"{quoted}"', rf'^\s*"?{quoted}"?\s*=\s*\{{')


def load_site(path: str | Path) -> Site:
    """Load and check a site catalogue; raises :class:`SiteError` naming the line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteError(f"{p}: cannot read the site catalogue ({exc}); check IOC_SITE") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SiteError(f"{p}: not valid TOML: {exc}") from None
    r = _Reader(p, text)

    site = data.get("site")
    if not isinstance(site, dict):
        raise r.fail((r"^\[site\]",), "a [site] table with name_zh, name_en and timezone is required")
    name_zh = r.text(site, "name_zh", (r"^\[site\]",), "[site]")
    name_en = r.text(site, "name_en", (r"^\[site\]",), "[site]")
    tz = r.text(site, "timezone", (r"^\s*timezone",), "[site]")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.fail((r"^\s*timezone",),
                     f"timezone {tz!r} is not an IANA zone (e.g. Asia/Shanghai)") from None

    def named(entry: dict[str, Any], code_key: str, section: str) -> tuple[str, str, str, tuple[str, ...]]:
        code = entry.get(code_key)
        where = (*_id_needles(str(code)), rf"^\[+{section}\]+")
        if not isinstance(code, str) or not re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", code):
            raise r.fail(where, f"[{section}]: '{code_key}' must be 1–64 of A-Z a-z 0-9 . _ : -, "
                                f"got {code!r}")
        label = f"{section} {code!r}"
        return code, r.text(entry, "name_zh", where, label), r.text(entry, "name_en", where, label), where

    def aliases(entry: dict[str, Any], section: str) -> tuple[str, ...]:
        items = entry.get("aliases", [])
        if not isinstance(items, list) or not all(isinstance(a, str) and a.strip() for a in items):
            code = entry.get("code", entry.get("id"))
            raise r.fail((*_id_needles(str(code)), rf"^\[+{section}\]+"),
                         f"{section} {code!r}: 'aliases' must be a list of non-empty names, e.g. [\"计科\"]")
        return tuple(a.strip() for a in items)

    def array(section: str) -> list[dict[str, Any]]:
        items = data.get(section)
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            raise r.fail((rf"^\[+{section}\]+",), f"at least one [[{section}]] entry is required")
        return items

    def table(section: str) -> list[dict[str, Any]]:
        items = data.get(section)
        if not isinstance(items, dict) or not items:
            raise r.fail((rf"^\[{section}\]",), f"a [{section}] table of entries is required")
        out = []
        for code, entry in items.items():
            if not isinstance(entry, dict):
                raise r.fail(_id_needles(code), f"[{section}] {code!r} must be an inline table {{ … }}")
            out.append({"code": code, **entry})
        return out

    def unique(items: Sequence[Named], section: str) -> None:
        seen: set[str] = set()
        for it in items:
            if it.code in seen:
                raise r.fail(_id_needles(it.code), f"[{section}]: {it.code!r} appears twice")
            seen.add(it.code)

    campuses = [Named(*named(e, "code", "campuses")[:3], aliases=aliases(e, "campuses"))
                for e in array("campuses")]
    unique(campuses, "campuses")
    campus_codes = {c.code for c in campuses}

    gates = []
    for e in array("gates"):
        code, zh, en, where = named(e, "id", "gates")
        campus = r.text(e, "campus", where, f"gate {code!r}")
        if campus not in campus_codes:
            raise r.fail(where, f"gate {code!r}: campus {campus!r} is not in [[campuses]] "
                                f"({', '.join(sorted(campus_codes))})")
        lanes = int(r.number(e, "lanes", where, f"gate {code!r}", 1, 32))
        weight = r.number(e, "weight", where, f"gate {code!r}", 0, 1e6, default=1.0)
        gates.append(Gate(code, zh, en, campus, lanes, weight, aliases=aliases(e, "gates")))
    unique(gates, "gates")

    links = []
    for e in array("links"):
        code, zh, en, where = named(e, "id", "links")
        cap = r.number(e, "capacity_bps", where, f"link {code!r}", 1, 1e15)
        links.append(Link(code, zh, en, int(cap), aliases=aliases(e, "links")))
    unique(links, "links")

    terminals = []
    for e in data.get("terminals", []):
        code, zh, en, where = named(e, "id", "terminals")
        campus = r.text(e, "campus", where, f"terminal {code!r}")
        if campus not in campus_codes:
            raise r.fail(where, f"terminal {code!r}: campus {campus!r} is not in [[campuses]]")
        terminals.append(Terminal(code, zh, en, campus, aliases=aliases(e, "terminals")))
    unique(terminals, "terminals")

    departments = [Named(*named(e, "code", "departments")[:3], aliases=aliases(e, "departments"))
                   for e in table("departments")]
    dept_codes = {d.code for d in departments}
    services = []
    for e in table("services"):
        code, zh, en, where = named(e, "code", "services")
        dept = r.text(e, "department", where, f"service {code!r}")
        if dept not in dept_codes:
            raise r.fail(where, f"service {code!r}: department {dept!r} is not in [departments]")
        printable = e.get("printable", False)
        if not isinstance(printable, bool):
            raise r.fail(where, f"service {code!r}: 'printable' must be true or false")
        services.append(Service(code, zh, en, dept, printable,
                                r.number(e, "weight", where, f"service {code!r}", 0, 1e6, default=1.0),
                                aliases=aliases(e, "services")))

    colleges, majors = [], []
    for e in table("colleges"):
        code, zh, en, where = named(e, "code", "colleges")
        colleges.append(Named(code, zh, en, aliases=aliases(e, "colleges")))
        items = e.get("majors")
        if not isinstance(items, list) or not items:
            raise r.fail(where, f"college {code!r}: 'majors' must list at least one major")
        for m in items:
            if not isinstance(m, dict):
                raise r.fail(where, f"college {code!r}: each major is {{ code, name_zh, name_en }}")
            mcode, mzh, men, _ = named(m, "code", "colleges")
            majors.append(Major(mcode, mzh, men, code, aliases=aliases(m, "colleges")))
    unique(majors, "colleges")

    provinces = [Named(*named(e, "code", "provinces")[:3], aliases=aliases(e, "provinces"))
                 for e in table("provinces")]
    missing = sorted(set(PROVINCES) - {pv.code for pv in provinces})
    extra = sorted({pv.code for pv in provinces} - set(PROVINCES))
    if missing or extra:
        raise r.fail((r"^\[provinces\]",), f"[provinces] must hold exactly the 34 GB/T 2260 codes; "
                                           f"missing {missing or 'none'}, unknown {extra or 'none'}")
    return Site(str(p), name_zh, name_en, tz, tuple(campuses), tuple(gates), tuple(links),
                tuple(terminals), tuple(departments), tuple(services), tuple(colleges),
                tuple(majors), tuple(provinces))


REFERENCE_TABLE = "ioc_reference"


def store_reference(store: SqlStore, site: Site) -> int:
    """Replace the stored reference rows with the catalogue's (idempotent)."""
    return store.replace_versioned(REFERENCE_TABLE, site.reference_frame(), "loaded_at")
