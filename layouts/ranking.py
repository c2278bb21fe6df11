"""Ranking board: rows of rank, name, bar and value, the most read widget of a wall.

Plain HTML rather than a Plotly bar chart, because on a wall the names must stay legible at
any length (they are cut with an ellipsis, never shrunk) and the numbers must use the same
big tabular figures as the KPI cards. The board is server-rendered: its order changes with
the data, so the page's callback re-renders the rows (:func:`ranking_rows`) when the
snapshot version changes. Rows carry a React ``key`` (the item's code), so a re-render moves
rows instead of rebuilding them, bar widths glide (CSS transition) and a value span is
re-created — and flips — only when its text changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dash import html

from layouts import ids
from layouts.drill import LINK_CLASS


@dataclass(frozen=True)
class RankRow:
    """One item on the board; ``parts`` optionally splits the bar (e.g. in and out) and
    should sum to ``value``."""

    key: str
    label: str
    value: float | int | None
    parts: tuple[float, ...] = ()
    #: the row's breakdown (``layouts.drill``): the row is then a link to it
    href: str | None = None


def format_number(value: float | int | None, fmt: str = "count", lang: str = "zh") -> str:
    """A number as ``assets/ioc_live.js`` writes it, so server-rendered and browser-written
    figures look the same: 万/亿 for large counts in Chinese, M for millions in English."""
    if value is None:
        return "—"
    if fmt == "ratio":
        return f"{value * 100:.1f}%"
    if fmt == "decimal" or fmt == "minutes":
        return f"{value:.1f}"
    if fmt == "plain":
        return str(value)
    if fmt == "signed":
        sign = "+" if value > 0 else "−" if value < 0 else ""
        return sign + format_number(abs(value), "count", lang)
    absolute = abs(value)
    if lang == "zh":
        if absolute >= 1e8:
            return f"{value / 1e8:.2f}亿"
        if absolute >= 1e5:
            return f"{value / 1e4:.1f}万"
    elif absolute >= 1e6:
        return f"{value / 1e6:.2f}M"
    return f"{round(value):,}"


def rank_order(rows: Iterable[RankRow]) -> list[RankRow]:
    """Largest value first; equal values by label so the order does not flicker."""
    return sorted(rows, key=lambda r: (-(r.value or 0), r.label))


def ranking_rows(rows: Iterable[RankRow], *, lang: str = "zh", fmt: str = "count",
                 limit: int | None = None, max_value: float | None = None,
                 empty: str = "—") -> list[Any]:
    """The rows of a board, ranked; bars are relative to ``max_value`` (default: the top value)."""
    ranked = rank_order(rows)[:limit] if limit else rank_order(rows)
    if not ranked:
        return [html.Div(empty, className="ioc-rank-empty")]
    top = max_value if max_value is not None else max((r.value or 0) for r in ranked)
    out = []
    for i, row in enumerate(ranked, 1):
        value = row.value or 0
        parts = row.parts or (value,)
        segments = [html.I(className=f"ioc-rank-seg ioc-rank-seg-{j}",
                           style={"width": f"{_share(p, top):.2f}%"})
                    for j, p in enumerate(parts)]
        text = format_number(row.value, fmt, lang)
        cls = f"ioc-rank-row ioc-rank-{i}" if i <= 3 else "ioc-rank-row"
        element, extra = (html.A, {"href": row.href}) if row.href else (html.Div, {})
        out.append(element([
            html.Span(str(i), className="ioc-rank-no"),
            html.Span(row.label, className="ioc-rank-name", title=row.label),
            html.Span(text, key=f"{row.key}:{text}", className="ioc-num ioc-rank-value ioc-flip"),
            html.Div(segments, className="ioc-rank-bar"),
        ], key=row.key, className=f"{cls} {LINK_CLASS}" if row.href else cls,
            **extra, **{"data-key": row.key, "data-value": str(row.value)}))
    return out


def ranking(page: str, name: str, rows: Sequence[RankRow], *, lang: str = "zh", fmt: str = "count",
            limit: int | None = None, slots: int | None = None, legend: Sequence[str] = (),
            compact: bool = False, max_value: float | None = None, empty: str = "—") -> html.Div:
    """A ranking board whose rows share the box evenly (``slots`` rows, default ``limit`` or
    the number of rows), so it fills a wall tile without scrolling; ``legend`` names the bar
    parts; ``compact`` puts the bar on the name's line (for long lists such as a top 20)."""
    n = slots or limit or max(len(rows), 1)
    head = (html.Div([html.Span([html.I(className=f"ioc-rank-key ioc-rank-seg-{j}"), label],
                                className="ioc-rank-legend-item")
                      for j, label in enumerate(legend)], className="ioc-rank-legend")
            if legend else None)
    board = html.Div(ranking_rows(rows, lang=lang, fmt=fmt, limit=limit, max_value=max_value, empty=empty),
                     id=ids.ranking(page, name), className="ioc-rank-rows",
                     style={"--ioc-rank-n": str(n)})
    cls = "ioc-ranking ioc-ranking-compact" if compact else "ioc-ranking"
    return html.Div([head, board], className=cls)


def _share(part: float, top: float | None) -> float:
    if not top or top <= 0:
        return 0.0
    return max(0.0, min(100.0, 100.0 * part / top))
