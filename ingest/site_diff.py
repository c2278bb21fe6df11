"""What a change of the site catalogue does: entries added, renamed, removed or changed.

A code is an entry's identity: the stored figures are keyed by it. So the same code under a
new name is a *rename* (history shows the new name), a code that disappears is a *removal*
(its events stay stored; its last names stay in the catalogue history), and a new parent or
capacity is a *change*. Reading the diff before replacing the file tells which walls will
look different.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ingest.site_model import ENTRY_SECTIONS, Named, Site

#: fields shown as names, not compared as properties
_NAMING = {"code", "name_zh", "name_en", "aliases"}
_LABELS = {"campus": "campus", "lanes": "lanes", "weight": "weight", "capacity_bps": "capacity",
           "department": "department", "printable": "printable", "college": "college"}


@dataclass(frozen=True)
class Change:
    kind: str
    code: str
    what: str  # added | renamed | removed | changed
    text: str  # one readable line without the sign

    @property
    def sign(self) -> str:
        return {"added": "+", "removed": "-"}.get(self.what, "~")

    def __str__(self) -> str:
        return f"{self.sign} {self.kind} {self.code} {self.what}: {self.text}"


def bps_text(bps: float) -> str:
    """``10G``, ``1000M``, ``2.5G``: link capacities as the network office writes them."""
    for unit, size in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if bps >= size:
            return f"{bps / size:g}{unit}"
    return f"{bps:g}"


def _names(e: Named) -> str:
    return f"{e.name_zh} / {e.name_en}"


def _value(name: str, value: object) -> str:
    if name == "capacity_bps" and isinstance(value, (int, float)):
        return bps_text(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _props(e: Named) -> dict[str, object]:
    return {f.name: getattr(e, f.name) for f in fields(e) if f.name not in _NAMING}


def _described(e: Named) -> str:
    props = ", ".join(f"{_LABELS.get(k, k)} {_value(k, v)}" for k, v in _props(e).items())
    return _names(e) + (f" ({props})" if props else "")


def diff_sites(old: Site, new: Site) -> list[Change]:
    """Every change from ``old`` to ``new``, kind by kind in the catalogue's order."""
    out: list[Change] = []
    for attr, label in (("name_zh", "site name (zh)"), ("name_en", "site name (en)"),
                        ("timezone", "timezone")):
        before, after = getattr(old, attr), getattr(new, attr)
        if before != after:
            out.append(Change("site", attr, "changed", f"{label} {before} → {after}"))
    for kind in ENTRY_SECTIONS:
        before = {e.code: e for e in old.entries(kind)}
        after = {e.code: e for e in new.entries(kind)}
        for code, e in after.items():
            if code not in before:
                out.append(Change(kind, code, "added", _described(e)))
                continue
            was = before[code]
            if (was.name_zh, was.name_en) != (e.name_zh, e.name_en):
                out.append(Change(kind, code, "renamed", f"{_names(was)} → {_names(e)}"))
            if was.aliases != e.aliases:
                out.append(Change(kind, code, "changed", f"aliases {', '.join(was.aliases) or '—'} → "
                                                         f"{', '.join(e.aliases) or '—'}"))
            moved = [f"{_LABELS.get(k, k)} {_value(k, v)} → {_value(k, _props(e)[k])}"
                     for k, v in _props(was).items() if _props(e)[k] != v]
            if moved:
                out.append(Change(kind, code, "changed", "; ".join(moved)))
        for code, e in before.items():
            if code not in after:
                out.append(Change(kind, code, "removed", f"{_names(e)} (its stored events stay; "
                                                         "the catalogue history keeps its name)"))
    return out


def summary(changes: list[Change]) -> str:
    """``2 added, 1 renamed, 1 removed, 3 changed`` (or ``no change``)."""
    counts = {w: sum(c.what == w for c in changes) for w in ("added", "renamed", "removed", "changed")}
    return ", ".join(f"{n} {w}" for w, n in counts.items() if n) or "no change"
