"""Reading a site catalogue and checking it, every problem with its file and line.

One pass reads the whole file and notes each problem instead of stopping at the first, so
``site check`` can list them all and a person fixes the file in one go; the server's start-up
(:func:`ingest.site.load_site`) uses the same pass and stops on the first error. Warnings
(two entries of one kind sharing a name) do not stop anything: the names→codes mapping of
imports then needs the code or an alias, which the warning says.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ingest.site_lines import Lines
from ingest.site_model import Gate, Link, Major, Named, Service, Site, Terminal
from ingest.site_provinces import PROVINCES

CODE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
NAMES = ("name_zh", "name_en", "aliases")
#: the keys each kind of entry may have (a misspelt key is an error, not silently ignored)
KEYS: dict[str, frozenset[str]] = {
    "site": frozenset({"name_zh", "name_en", "timezone"}),
    "campuses": frozenset({"code", *NAMES}),
    "gates": frozenset({"id", "campus", "lanes", "weight", *NAMES}),
    "links": frozenset({"id", "capacity_bps", *NAMES}),
    "terminals": frozenset({"id", "campus", *NAMES}),
    "departments": frozenset(NAMES),
    "services": frozenset({"department", "printable", "weight", *NAMES}),
    "colleges": frozenset({"majors", *NAMES}),
    "majors": frozenset({"code", *NAMES}),
    "provinces": frozenset(NAMES),
}
MAX_LANES = 32
MAX_BPS = 1e15


def _kw(names: tuple[Any, ...]) -> dict[str, Any]:
    code, zh, en, aliases = names
    return {"code": code, "name_zh": zh, "name_en": en, "aliases": aliases}


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.path}: line {self.line}: {'warning: ' if self.warning else ''}{self.message}"


def read_site(path: str | Path) -> tuple[Site | None, list[Problem]]:
    """The catalogue (None when it has errors) and every problem found, in file order."""
    p = Path(path)
    try:
        raw = p.read_bytes()
        text = raw.decode("utf-8")
    except OSError as exc:
        return None, [Problem(str(p), 1, f"cannot read the site catalogue ({exc.strerror or exc}); "
                                         "give the path of a readable file (IOC_SITE)")]
    except UnicodeDecodeError:
        return None, [Problem(str(p), 1, "the file is not UTF-8 text; save it as UTF-8")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"at line (\d+)", str(exc))
        return None, [Problem(str(p), int(at.group(1)) if at else 1, f"not valid TOML: {exc}")]
    check = _Check(str(p), Lines(text), data)
    site = check.run(hashlib.sha256(raw).hexdigest())
    problems = sorted(check.problems, key=lambda pr: pr.line)
    return (None if any(not pr.warning for pr in problems) else site), problems


class _Check:
    def __init__(self, path: str, at: Lines, data: dict[str, Any]) -> None:
        self.path, self.at, self.data = path, at, data
        self.problems: list[Problem] = []
        self.lines: dict[tuple[str, str], int] = {}  # (kind, code) → line of the entry

    def bad(self, line: int, message: str, warning: bool = False) -> None:
        self.problems.append(Problem(self.path, line, message, warning))

    # values -----------------------------------------------------------------------------
    def keys(self, entry: dict[str, Any], kind: str, line: int, label: str) -> None:
        for key in entry:
            if key not in KEYS[kind]:
                self.bad(self.at.field(line, key), f"{label}: unknown key {key!r}; "
                                                   f"the keys are {', '.join(sorted(KEYS[kind]))}")

    def text(self, entry: dict[str, Any], key: str, line: int, label: str) -> str | None:
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.bad(self.at.field(line, key), f"{label}: '{key}' must be a non-empty string"
                 + (" (the pages show it in that language)" if key.startswith("name_") else ""))
        return None

    def number(self, entry: dict[str, Any], key: str, line: int, label: str, lo: float, hi: float,
               default: float | None = None, whole: bool = False) -> float | None:
        value = entry.get(key, default)
        ok = not isinstance(value, bool) and isinstance(value, int if whole else (int, float))
        if ok and isinstance(value, (int, float)) and lo <= value <= hi:
            return float(value)
        kind = "a whole number" if whole else "a number"
        self.bad(self.at.field(line, key),
                 f"{label}: '{key}' must be {kind} from {lo:g} to {hi:g}, got {value!r}")
        return None

    def code(self, section: str, code: Any, line: int) -> bool:
        if isinstance(code, str) and CODE.fullmatch(code):
            return True
        self.bad(line, f"[{section}]: the code must be 1–64 of A-Z a-z 0-9 . _ : -, got {code!r}")
        return False

    def named(self, entry: dict[str, Any], code: str, line: int,
              label: str) -> tuple[str, str, str, tuple[str, ...]] | None:
        """Names and aliases of an entry, or None (noted) when a name is missing."""
        zh, en = self.text(entry, "name_zh", line, label), self.text(entry, "name_en", line, label)
        aliases = entry.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            self.bad(self.at.field(line, "aliases"),
                     f"{label}: 'aliases' must be a list of non-empty names, e.g. [\"计科\"]")
            aliases = []
        if zh is None or en is None:
            return None
        return code, zh, en, tuple(a.strip() for a in aliases)

    def codes(self, kind: str) -> set[str]:
        """Every well-formed code of a kind, named or not (so one bad entry does not make every
        reference to it an error too)."""
        return {code for k, code in self.lines if k == kind}

    # sections ---------------------------------------------------------------------------
    def array(self, section: str, required: bool = True) -> list[tuple[int, dict[str, Any]]]:
        items = self.data.get(section)
        if items is None and not required:
            return []
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            self.bad(self.at.section(section), f"at least one [[{section}]] entry is required "
                                               f"(each written under its own [[{section}]] line)")
            return []
        out = []
        for i, entry in enumerate(items):
            head = self.at.item(section, i)
            out.append((self.at.field(head, "code" if section == "campuses" else "id"), entry))
        return out

    def table(self, section: str, required: bool = True) -> list[tuple[int, str, dict[str, Any]]]:
        items = self.data.get(section)
        if items is None and not required:
            return []
        if not isinstance(items, dict) or not items:
            self.bad(self.at.section(section), f"a [{section}] table of entries (code = {{ … }}) is required")
            return []
        out = []
        for code, entry in items.items():
            line = self.at.entry(section, code)
            if isinstance(entry, dict):
                out.append((line, code, entry))
            else:
                self.bad(line, f"[{section}] {code!r} must be an inline table {{ name_zh = …, name_en = … }}")
        return out

    def unique(self, kind: str, section: str, code: str, line: int) -> bool:
        first = self.lines.get((kind, code))
        if first is not None:
            self.bad(line, f"[{section}]: code {code!r} appears twice (first on line {first}); "
                           f"give each {kind} its own code")
            return False
        self.lines[(kind, code)] = line
        return True

    def run(self, digest: str) -> Site | None:
        for key in self.data:
            if key not in KEYS or key == "majors":
                self.bad(self.at.section(key), f"unknown section [{key}]; the sections are "
                                               f"{', '.join(k for k in KEYS if k != 'majors')}")
        site = self.data.get("site")
        if not isinstance(site, dict):
            self.bad(self.at.section("site"), "a [site] table with name_zh, name_en and timezone is required")
            site = {}
        line = self.at.section("site")
        self.keys(site, "site", line, "[site]")
        name_zh = self.text(site, "name_zh", line, "[site]")
        name_en = self.text(site, "name_en", line, "[site]")
        tz = self.text(site, "timezone", line, "[site]")
        if tz is not None:
            try:
                ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError):
                self.bad(self.at.field(line, "timezone"),
                         f"timezone {tz!r} is not an IANA zone (e.g. Asia/Shanghai)")

        campuses = self.entries_of("campus", "campuses", self.array("campuses"),
                                   lambda e, n, ln, lb: Named(**_kw(n)))
        campus_codes = self.codes("campus")

        def on_campus(e: dict[str, Any], ln: int, lb: str) -> str | None:
            campus = self.text(e, "campus", ln, lb)
            if campus is not None and campus not in campus_codes:
                self.bad(self.at.field(ln, "campus"), f"{lb}: campus {campus!r} is not in [[campuses]] "
                                                      f"({', '.join(sorted(campus_codes)) or 'none'})")
                return None
            return campus

        def gate(e: dict[str, Any], n: tuple[Any, ...], ln: int, lb: str) -> Gate | None:
            campus = on_campus(e, ln, lb)
            lanes = self.number(e, "lanes", ln, lb, 1, MAX_LANES, whole=True)
            weight = self.number(e, "weight", ln, lb, 0, 1e6, default=1.0)
            if campus is None or lanes is None or weight is None:
                return None
            return Gate(**_kw(n), campus=campus, lanes=int(lanes), weight=weight)

        def link(e: dict[str, Any], n: tuple[Any, ...], ln: int, lb: str) -> Link | None:
            cap = self.number(e, "capacity_bps", ln, lb, 1, MAX_BPS, whole=True)
            return None if cap is None else Link(**_kw(n), capacity_bps=int(cap))

        def terminal(e: dict[str, Any], n: tuple[Any, ...], ln: int, lb: str) -> Terminal | None:
            campus = on_campus(e, ln, lb)
            return None if campus is None else Terminal(**_kw(n), campus=campus)

        gates = self.entries_of("gate", "gates", self.array("gates"), gate)
        links = self.entries_of("link", "links", self.array("links"), link)
        terminals = self.entries_of("terminal", "terminals", self.array("terminals", required=False),
                                    terminal)
        departments = self.entries_of("department", "departments", self.keyed(self.table("departments")),
                                      lambda e, n, ln, lb: Named(**_kw(n)))
        dept_codes = self.codes("department")

        def service(e: dict[str, Any], n: tuple[Any, ...], ln: int, lb: str) -> Service | None:
            dept = self.text(e, "department", ln, lb)
            if dept is not None and dept not in dept_codes:
                self.bad(ln, f"{lb}: department {dept!r} is not in [departments]")
                dept = None
            printable = e.get("printable", False)
            if not isinstance(printable, bool):
                self.bad(ln, f"{lb}: 'printable' must be true or false")
            weight = self.number(e, "weight", ln, lb, 0, 1e6, default=1.0)
            if dept is None or weight is None or not isinstance(printable, bool):
                return None
            return Service(**_kw(n), department=dept, printable=printable, weight=weight)

        services = self.entries_of("service", "services", self.keyed(self.table("services")), service)
        colleges, majors = self.colleges()
        provinces = self.provinces()
        self.clashes({"campus": campuses, "gate": gates, "link": links, "terminal": terminals,
                      "department": departments, "service": services, "college": colleges,
                      "major": majors})
        if name_zh is None or name_en is None or tz is None:
            return None
        return Site(self.path, name_zh, name_en, tz, tuple(campuses), tuple(gates), tuple(links),
                    tuple(terminals), tuple(departments), tuple(services), tuple(colleges),
                    tuple(majors), tuple(provinces), digest)

    @staticmethod
    def keyed(items: list[tuple[int, str, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
        return [(line, {"code": code, **entry}) for line, code, entry in items]

    def entries_of(self, kind: str, section: str, items: list[tuple[int, dict[str, Any]]],
                   build: Callable[[dict[str, Any], tuple[Any, ...], int, str], Any]) -> list[Any]:
        out = []
        code_key = "id" if section in ("gates", "links", "terminals") else "code"
        for line, raw in items:
            entry = {k: v for k, v in raw.items() if k != "code"} if code_key == "code" else raw
            code: Any = raw.get(code_key)
            label = f"{kind} {code!r}"
            self.keys(entry, section, line, label)
            if not self.code(section, code, line) or not self.unique(kind, section, code, line):
                continue
            names = self.named(entry, code, line, label)
            if names is None:
                continue
            item = build(entry, names, line, label)
            if item is not None:
                out.append(item)
        return out

    def colleges(self) -> tuple[list[Named], list[Major]]:
        colleges: list[Named] = []
        majors: list[Major] = []
        for line, code, entry in self.table("colleges"):
            label = f"college {code!r}"
            self.keys(entry, "colleges", line, label)
            if self.code("colleges", code, line) and self.unique("college", "colleges", code, line):
                names = self.named(entry, code, line, label)
                if names is not None:
                    colleges.append(Named(**_kw(names)))
            items = entry.get("majors")
            if not isinstance(items, list) or not items or not all(isinstance(m, dict) for m in items):
                self.bad(line, f"{label}: 'majors' must list at least one major "
                               "{ code = …, name_zh = …, name_en = … }")
                continue
            for m in items:
                mline = self.at.find(line, f'"{m.get("code")}"')
                mlabel = f"major {m.get('code')!r} of college {code!r}"
                self.keys(m, "majors", mline, mlabel)
                mcode: Any = m.get("code")
                if self.code("majors", mcode, mline) and self.unique("major", "colleges", mcode, mline):
                    mnames = self.named(m, mcode, mline, mlabel)
                    if mnames is not None:
                        majors.append(Major(**_kw(mnames), college=code))
        return colleges, majors

    def provinces(self) -> list[Named]:
        if "provinces" not in self.data:  # the standard list (GB/T 2260)
            return [Named(code, zh, en) for code, (zh, en) in PROVINCES.items()]
        out = self.entries_of("province", "provinces", self.keyed(self.table("provinces")),
                              lambda e, n, ln, lb: Named(**_kw(n)))
        codes = {pv.code for pv in out}
        missing, extra = sorted(set(PROVINCES) - codes), sorted(codes - set(PROVINCES))
        if out and (missing or extra):
            self.bad(self.at.section("provinces"),
                     f"[provinces] must hold exactly the 34 GB/T 2260 codes (or be left out: they are "
                     f"built in); missing {missing or 'none'}, unknown {extra or 'none'}")
        return out

    def clashes(self, kinds: dict[str, list[Any]]) -> None:
        """An alias must name one entry only: not another entry's code or name, nor another's
        alias. Two entries sharing a name is allowed but warned about."""
        for kind, entries in kinds.items():
            owner: dict[str, tuple[str, str]] = {}  # folded label → (code, what it is)
            for e in entries:
                for what, label in (("code", e.code), ("name_zh", e.name_zh), ("name_en", e.name_en)):
                    key = label.casefold()
                    other = owner.get(key)
                    if other is not None and other[0] != e.code and what != "code":
                        self.bad(self.lines[(kind, e.code)],
                                 f"{kind} {e.code!r}: {what} {label!r} is also the {other[1]} of {kind} "
                                 f"{other[0]!r}; names→codes will need the code or an alias", warning=True)
                    owner.setdefault(key, (e.code, what))
            for e in entries:
                for alias in e.aliases:
                    other = owner.get(alias.casefold())
                    if other is not None and other[0] != e.code:
                        self.bad(self.at.field(self.lines[(kind, e.code)], "aliases"),
                                 f"{kind} {e.code!r}: alias {alias!r} is already the {other[1]} of {kind} "
                                 f"{other[0]!r}; an alias must name one {kind} only")
                    else:
                        owner[alias.casefold()] = (e.code, "alias")
