"""Each tile kind drawn with the product's building blocks (``layouts``): the same charts,
ranking board, map, heat map, table and number cards as the built-in cockpits, so a board
from a file looks like one of them.

A snapshot tile's numbers are bound to their paths and written by the browser (no request);
its charts and lists are drawn here from the snapshot, again when their path moves. A
question's tile is drawn here from the held answer.
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from layouts.charts import bar_h, bars, count_tile, donut, funnel, lines, progress
from layouts.china_map import china_map
from layouts.heatmap import heatmap
from layouts.i18n import t
from layouts.live import bound
from layouts.ranking import RankRow, format_number, ranking
from layouts.table import table
from pages._boards.data import Series

PAGE = "boards"
#: the kinds drawn as a Plotly figure
FIGURES = ("trend", "bar", "donut", "heatmap", "china_map", "progress", "funnel")


def graph(tile_id: str, figure: dict[str, Any]) -> dcc.Graph:
    """A chart filling its tile (as ``layouts.live.graph``, with an id of the board's tile)."""
    return dcc.Graph(id=f"{PAGE}-graph-{tile_id}", figure=figure, className="ioc-graph",
                     config={"displayModeBar": False, "responsive": True},
                     style={"height": "100%", "width": "100%"})


def figure(tile: Any, s: Series, theme: str) -> dict[str, Any]:
    """The figure of a chart tile from its series."""
    first = next(iter(s.values.values()), [])
    if tile.kind == "trend":
        return trend(s, theme, tile.area)
    if tile.kind == "bar" and len(s.values) == 1:  # one series: the cockpits' bars, figures on them
        ratio = tile.format == "ratio"
        name, values = next(iter(s.values.items()))
        fig = bar_h(s.labels, values, theme=theme, ratio=ratio,
                    max_value=1.0 if ratio else None, title=name)
        fig["layout"]["margin"] = {"l": 8, "r": 12, "t": 24, "b": 24}
        return fig
    if tile.kind == "bar":
        fmt = ".0%" if tile.format == "ratio" else "~s"
        fig = bars(s.labels, s.values, theme=theme, stacked=False, horizontal=True, tickformat=fmt)
        fig["layout"]["margin"] = {"l": 8, "r": 12, "t": 24, "b": 24}
        return fig
    if tile.kind == "donut":
        return donut(s.labels, [v or 0 for v in first], theme=theme)
    if tile.kind == "funnel":
        return funnel(s.labels, [int(v or 0) for v in first], theme=theme)
    if tile.kind == "progress":
        done, plan = [*s.values.values(), [], []][:2]
        ratios = [(d / p if d is not None and p else None) for d, p in zip(done, plan or done, strict=False)]
        texts = [f"{format_number(d)} / {format_number(p)}" for d, p in zip(done, plan or done, strict=False)]
        return progress(s.labels, ratios, texts, theme=theme)
    if tile.kind == "china_map":
        top = max([v for v in first if isinstance(v, int | float)] or [0]) or 1
        rows = [{"province": k, "share": (v or 0) / top, "admitted": v}
                for k, v in zip(s.keys, first, strict=True)]
        return china_map(rows, theme=theme, value="share")
    # heatmap: rows by label, columns by the first value's key, cells the second
    return heat(s, theme)


def wall_time(label: str) -> str | None:
    """``2026-03-01T08:30:00+08:00`` → ``2026-03-01 08:30``: the wall time a date axis reads
    unshifted (as the cockpits draw their minutes); a day ``2026-03-01`` as it is; None for a
    label that is no time."""
    if len(label) >= 10 and label[4] == "-" and label[7] == "-" and label[:4].isdigit():
        if len(label) == 10:
            return label
        if len(label) >= 16 and label[10] == "T" and label[13] == ":":
            return label[:10] + " " + label[11:16]
    return None


def trend(s: Series, theme: str, area: bool) -> dict[str, Any]:
    """Lines over time drawn as the cockpits draw them: times on a date axis in wall time,
    ticks in digits whatever the language (hours and minutes within a day or two, else month and
    day: never an English month name on a Chinese wall), from zero, the legend above the plot."""
    times = [wall_time(label) for label in s.labels]
    dated = bool(times) and all(times)
    fig = lines(times if dated else s.labels, s.values, theme=theme, area=area)
    axis = None
    if dated:
        days = len({str(x)[:10] for x in times})
        hours = any(len(str(x)) > 10 for x in times)
        axis = {"type": "date", "nticks": 5, "tickformat": "%H:%M" if hours and days <= 2 else "%m-%d"}
    return count_tile(fig, axis)


def heat(s: Series, theme: str) -> dict[str, Any]:
    """A heat map of ``label`` (rows) × the first series (columns) → the second series."""
    series = list(s.values.values())
    cols = list(dict.fromkeys(str(c) for c in (series[0] if series else [])))
    rows = list(dict.fromkeys(s.labels))
    cells: dict[tuple[str, str], float] = {}
    values = series[1] if len(series) > 1 else [1] * len(s.labels)
    for label, col, v in zip(s.labels, series[0] if series else [], values, strict=False):
        cells[(label, str(col))] = (cells.get((label, str(col))) or 0) + (v or 0)
    shown = [c[11:16] if len(c) > 16 and c[10] == "T" else c for c in cols]
    return heatmap(shown, rows, [[cells.get((r, c), 0) for c in cols] for r in rows], theme=theme)


def listing(tile: Any, s: Series, lang: str) -> Any:
    """A ranking board or a table from the series."""
    first = next(iter(s.values.values()), [])
    if tile.kind == "ranking":
        rows = [RankRow(k, label, v) for k, label, v in zip(s.keys, s.labels, first, strict=True)]
        return ranking(PAGE, tile.id, rows, lang=lang, fmt=tile.format, limit=tile.limit,
                       empty=t("status.no_data", lang))
    head = [tile.title.get(lang), *s.values]
    rows = [[label, *(format_number(col[i], tile.format, lang) for col in s.values.values())]
            for i, label in enumerate(s.labels)]
    return table(head, rows, numeric=range(1, len(head)), limit=tile.limit, empty=t("status.no_data", lang),
                 more=t("boards.more_rows", lang))


def numbers(tile: Any, lang: str) -> html.Div:
    """A snapshot number tile: each item a card whose number the browser writes from its path
    (thresholds colour the card, :func:`level`), with a compared figure under it."""
    cards = []
    for i, item in enumerate(tile.items):
        body = [html.Div(item.label.get(lang), className="ioc-kpi-label"),
                html.Div([bound(item.path or "", item.format, cls="ioc-kpi-value"),
                          html.Span(item.unit.get(lang), className="ioc-kpi-unit") if item.unit else None],
                         className="ioc-kpi-body")]
        if item.compare:
            body.append(html.Div([html.Span(item.compare_label.get(lang) if item.compare_label else ""),
                                  " ", bound(item.compare, item.format)], className="boards-compare"))
        cards.append(html.Div(body, className="ioc-kpi",
                              id={"type": f"{PAGE}-card", "tile": f"{tile.id}.{i}"}))
    n = columns(len(cards), tile.h) if tile.chart is None else (len(cards) if len(cards) <= 3 else 2)
    return html.Div(cards, className="ioc-kpi-grid boards-kpis",
                    style={"gridTemplateColumns": f"repeat({n}, minmax(0, 1fr))"})


def columns(n: int, height: int) -> int:
    """Columns of a number tile's cards: the fewest that fit its rows (a card per grid row).
    Cards above a chart sit in one row up to three, else in two columns, as on the cockpits."""
    return next((c for c in range(1, 4) if -(-n // c) <= max(height, 1)), 4)


def level(item: Any, value: Any) -> str:
    """``amber``/``red`` when a number reaches one of its item's thresholds (the worst one), else
    empty: the card's class."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    worst = ""
    for th in item.thresholds:
        if (value <= th.at) if th.below else (value >= th.at):
            if th.level == "red" or not worst:
                worst = th.level
    return worst


def answered_number(tile: Any, value: Any, compared: Any, lang: str) -> html.Div:
    """A question's number tile: the figure as the query API answered it, written here."""
    text = format_number(value, tile.format, lang)
    item = tile.items[0] if tile.items else None
    unit = item.unit.get(lang) if item is not None and item.unit else ""
    body: list[Any] = [html.Div(item.label.get(lang) if item else "", className="ioc-kpi-label"),
                       html.Div([html.Span(text, className="ioc-num ioc-kpi-value",
                                           **{"data-value": "" if value is None else str(value)}),
                                 html.Span(unit, className="ioc-kpi-unit") if unit else None],
                                className="ioc-kpi-body")]
    if tile.query.compare:
        change = "—"
        if isinstance(value, int | float) and isinstance(compared, int | float) and compared:
            change = f"{(value - compared) / abs(compared) * 100:+.1f}%"
        body.append(html.Div([t(f"explore.compare.{tile.query.compare}", lang), " ",
                              format_number(compared, tile.format, lang), " · ", change],
                             className="boards-compare"))
    cls = level(item, value) if item is not None else ""
    return html.Div(html.Div(body, className=f"ioc-kpi boards-level-{cls}" if cls else "ioc-kpi"),
                    className="ioc-kpi-grid boards-kpis")


def alert_items(snap: dict[str, Any] | None, lang: str, limit: int) -> html.Ul:
    """The live alerts, most severe first as the core orders them."""
    alerts = (snap or {}).get("alerts") or []
    if not alerts:
        return html.Ul(html.Li(t("alerts.none", lang), className="ioc-alert ioc-alert-none"),
                       className="ioc-alerts")
    key = "title_zh" if lang == "zh" else "title_en"
    return html.Ul([html.Li([html.Span(t(f"severity.{a['severity']}", lang), className="ioc-alert-sev"),
                             html.Span(a[key], className="ioc-alert-title"),
                             html.Span(str(a.get("since", ""))[11:16], className="ioc-alert-since")],
                            className=f"ioc-alert ioc-alert-{a['severity']}") for a in alerts[:limit]],
                   className="ioc-alerts")
