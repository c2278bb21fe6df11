"""Codes as people read them: the one place a code becomes its display name.

Campus systems send codes (``main-north``, ``080901``, ``11``); a person reads 北门（学府大道）,
计算机科学与技术, 北京. Every page, legend, table, tooltip, alert text and download asks here,
so the gate cockpit's ranking board and the analyst's drill-down name a gate the same way
and a rename in the site catalogue reaches all of them at once. Enumerations of the stream
contracts (directions, severities, batches, provinces …) come from the i18n catalogue, which
already holds their words in both languages.

A code the catalogue does not know is shown as the code, marked, never silently as if it
were a name: that is how a new gate or a typo in a feed becomes visible to the person who
can add it to the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from ingest.site import Site
from layouts.i18n import CATALOGUE, t

#: catalogue kind → the site's section holding it
SECTIONS: dict[str, str] = {
    "campus": "campuses", "gate": "gates", "link": "links", "terminal": "terminals",
    "department": "departments", "service": "services", "college": "colleges", "major": "majors",
}
#: a query dimension (or export column) holding catalogue codes → the kind it names
DIMENSION_KIND: dict[str, str] = {
    "campus": "campus", "gate_id": "gate", "link_id": "link", "terminal_id": "terminal",
    "department": "department", "service_id": "service", "college": "college", "major": "major",
}
#: how the code of an entry the catalogue lacks is marked where it is shown as text
UNKNOWN_KEY = "names.unknown"


class Names:
    """Display names of one site catalogue's codes, in either language.

    Built once per catalogue (:func:`names_of`); lookups are dictionary reads, cheap enough for
    every cell of a 20 000-row table.
    """

    def __init__(self, site: Site) -> None:
        self.site = site
        self._names: dict[str, dict[str, tuple[str, str]]] = {
            kind: {n.code: (n.name_zh, n.name_en) for n in getattr(site, section)}
            for kind, section in SECTIONS.items()}

    def kinds(self) -> tuple[str, ...]:
        return tuple(SECTIONS)

    def kind(self, dimension: str) -> str | None:
        """The catalogue kind a dimension's codes name (``gate_id`` → ``gate``), or None."""
        return DIMENSION_KIND.get(dimension)

    def codes(self, kind: str) -> dict[str, tuple[str, str]]:
        """``{code: (name_zh, name_en)}`` of one kind, in catalogue order."""
        return self._names.get(kind, {})

    def name(self, kind: str, code: Any, lang: str) -> str | None:
        """The catalogue's name of ``code`` in ``lang`` (zh when ``lang`` is not en), or None
        when the catalogue lacks it."""
        pair = self._names.get(kind, {}).get(str(code)) if code is not None else None
        if pair is None:
            return None
        return pair[1] if lang == "en" and pair[1] else pair[0]

    def known(self, kind: str, code: Any) -> bool:
        return code is not None and str(code) in self._names.get(kind, {})

    def label(self, kind: str, code: Any, lang: str) -> str:
        """The name, or the code marked as one the catalogue lacks."""
        found = self.name(kind, code, lang)
        return found if found is not None else unknown_text(code, lang)

    def value(self, dimension: str, code: Any, lang: str) -> str | None:
        """A dimension's value as a person reads it: a catalogue name, an enumeration's word,
        or None when neither names it (a free code such as a hotline queue)."""
        if code is None:
            return None
        kind = DIMENSION_KIND.get(dimension)
        if kind is not None:
            return self.name(kind, code, lang)
        key = f"health.stream.{code}" if dimension == "stream" else f"explore.v.{dimension}.{code}"
        return t(key, lang) if key in CATALOGUE else None

    def value_label(self, dimension: str, code: Any, lang: str) -> str:
        """:meth:`value`, else the code itself — marked when the dimension is a catalogue kind
        (an unknown gate is news; a free queue code is not)."""
        found = self.value(dimension, code, lang)
        if found is not None:
            return found
        if dimension in DIMENSION_KIND:
            return unknown_text(code, lang)
        return str(code)

    def named(self, dimension: str) -> bool:
        """Whether a dimension's values have names (catalogue codes or an enumeration)."""
        return dimension in DIMENSION_KIND or any(k.startswith(f"explore.v.{dimension}.")
                                                  for k in CATALOGUE)

    def with_names(self, frame: pl.DataFrame, columns: Sequence[str], lang: str) -> pl.DataFrame:
        """``frame`` with a ``<column>_name`` column right after each named code column (the
        code column kept, for scripts and for joining with other files)."""
        added: dict[str, pl.Series] = {}
        for column in columns:
            if column not in frame.columns or not self.named(column):
                continue
            codes = frame.get_column(column).cast(pl.String)
            mapping = {c: self.value_label(column, c, lang) for c in codes.unique().drop_nulls().to_list()}
            added[column] = codes.replace_strict(mapping, default=None, return_dtype=pl.String) \
                .alias(f"{column}_name")
        if not added:
            return frame
        # a new frame (never the caller's: an answer's frame is shared with the cache)
        order = [name for c in frame.columns for name in ((c, f"{c}_name") if c in added else (c,))]
        return frame.with_columns(added.values()).select(order)

    def options(self, kind: str, lang: str, chosen: Iterable[str] = ()) -> list[dict[str, Any]]:
        """Dropdown choices of one kind: the name shown, searchable by name or code, the code
        as value and tooltip; a chosen code the catalogue lacks is kept, marked."""
        options = [{"label": self.label(kind, code, lang), "value": code, "title": code,
                    "search": f"{pair[0]} {pair[1]} {code}"}
                   for code, pair in self.codes(kind).items()]
        known = self.codes(kind)
        options += [{"label": unknown_text(v, lang), "value": v, "title": v, "search": v}
                    for v in chosen if v not in known]
        return options


def unknown_text(code: Any, lang: str) -> str:
    """A code shown as itself, marked as not in the catalogue."""
    return t(UNKNOWN_KEY, lang).format(code=code)


_CACHE: dict[int, Names] = {}


def names_of(site: Site) -> Names:
    """The :class:`Names` of a loaded catalogue, built once (a catalogue is immutable)."""
    found = _CACHE.get(id(site))
    if found is None or found.site is not site:
        found = _CACHE[id(site)] = Names(site)
    return found


def name_map(site: Site, kind: str, lang: str) -> Mapping[str, str]:
    """``{code: name}`` of one kind in ``lang`` (for a chart's category labels)."""
    names = names_of(site)
    return {code: names.label(kind, code, lang) for code in names.codes(kind)}
