"""A tile's data as rows and series, whether it comes from the snapshot or from an answer of
the query API: one shape (labels down, one list of values per series) every tile kind draws
from, so a kind never cares where its figures came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from layouts.parts import walk

#: a code → its name in the viewer's language (gate, link … from the site catalogue)
Namer = Callable[[str], str]


@dataclass(frozen=True)
class Series:
    """What a tile draws: ``keys`` (codes or buckets), their shown ``labels``, and per series
    name its values in the same order."""

    keys: list[str]
    labels: list[str]
    values: dict[str, list[Any]]


def _text(tile: Any, value: str, i: int, lang: str) -> str:
    return tile.names[i].get(lang) if i < len(tile.names) else value


def snapshot_series(tile: Any, snap: dict[str, Any] | None, lang: str, namer: Namer) -> Series:
    """A snapshot tile's rows: the list at ``path`` (``label`` and ``values`` its keys), or for
    a funnel the record at ``path`` (``values`` its steps, in order)."""
    node = walk(snap, tile.path) if tile.path else None
    if isinstance(node, dict):  # one record: its keys are the steps
        names = [_text(tile, v, i, lang) for i, v in enumerate(tile.values)]
        return Series(list(tile.values), names, {"": [node.get(v) for v in tile.values]})
    rows = [r for r in (node or []) if isinstance(r, dict)]
    if tile.complete:
        rows = rows[:-1]
    keys = [str(r.get(tile.label, "")) for r in rows]
    return Series(keys, [namer(k) for k in keys],
                  {_text(tile, v, i, lang): [r.get(v) for r in rows] for i, v in enumerate(tile.values)})


def answer_series(tile: Any, body: dict[str, Any] | None, lang: str, namer: Namer) -> Series:
    """A question's rows: labelled by its first group, or by its buckets when it has none. A
    tile comparing groups (bar, ranking, donut, map) shows the last bucket's groups."""
    q = tile.query
    rows = list((body or {}).get("rows") or [])
    grain = (body or {}).get("grain") or q.grain or "hour"
    label = q.group_by[0] if q.group_by else grain
    if q.group_by and tile.kind in ("bar", "ranking", "donut", "china_map", "table", "progress", "funnel"):
        last = max((str(r.get(grain)) for r in rows), default=None)
        rows = [r for r in rows if str(r.get(grain)) == last]
    if tile.kind == "heatmap":  # groups down, buckets across
        keys = [str(r.get(label, "")) for r in rows]
        return Series(keys, [namer(k) for k in keys], {"": [str(r.get(grain)) for r in rows],
                                                       q.measures[0]: [r.get(q.measures[0]) for r in rows]})
    if tile.complete:
        rows = rows[:-1]
    keys = [str(r.get(label, "")) for r in rows]
    labels = keys if not q.group_by else [namer(k) for k in keys]
    return Series(keys, labels, {_text(tile, m, i, lang): [r.get(m) for r in rows]
                                 for i, m in enumerate(q.measures)})


def answer_number(tile: Any, body: dict[str, Any] | None) -> tuple[Any, Any]:
    """A number tile's question: the first measure of its last bucket, and the compared
    period's figure (``<measure>_cmp``) when the question compares."""
    rows = list((body or {}).get("rows") or [])
    if not rows:
        return None, None
    measure = tile.query.measures[0]
    last = rows[-1]
    return last.get(measure), last.get(f"{measure}_cmp")
