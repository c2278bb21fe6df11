"""Small multiples: one panel per item (e.g. per egress link), same x axis, own scale.

Four links in one chart with one y axis hide the small links under the big one; one panel
each, with the item's ceiling (capacity) drawn as a dashed line, shows at a glance which
link is close to full. The figure is one plain dict (one ``dcc.Graph``, one patch per
snapshot): trace ``panel * per_panel + series`` is a series' values, the last trace of a
panel its ceiling, so a page patches by :func:`trace_index`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from layouts.charts import PALETTE, THEME, base_layout


@dataclass(frozen=True)
class Panel:
    """One item: its title, its series (translated name → values) and an optional ceiling."""

    title: str
    series: dict[str, list[float | None]] = field(default_factory=dict)
    ceiling: float | None = None


def trace_index(panel: int, series: int, per_panel: int) -> int:
    """Index of a series' trace (``series == per_panel - 1`` is the ceiling line)."""
    return panel * per_panel + series


def small_multiples(x: Sequence[Any], panels: Sequence[Panel], *, theme: str = "dark", cols: int = 2,
                    ceiling_name: str = "", tickformat: str = "~s", ticksuffix: str = "",
                    gap: float = 0.1) -> dict[str, Any]:
    """Panels in a grid of ``cols`` columns, filled row by row; the first series is drawn as
    an area. Every panel has the same number of series, so trace indices are stable."""
    c = THEME.get(theme, THEME["dark"])
    layout = base_layout(theme, showlegend=True, margin={"l": 56, "r": 10, "t": 26, "b": 52})
    rows = max(1, -(-len(panels) // cols))
    data: list[dict[str, Any]] = []
    annotations = []
    for p, panel in enumerate(panels):
        row, col = divmod(p, cols)
        ax = "" if p == 0 else str(p + 1)
        x0 = col / cols + (gap / 2 if col else 0)
        x1 = (col + 1) / cols - (gap / 2 if col < cols - 1 else 0)
        # each row keeps room above for its title (the first row's is in the top margin)
        # and below for its time labels (the last row's are in the bottom margin)
        y1 = 1 - row / rows - (gap if row else 0)
        y0 = 1 - (row + 1) / rows + (gap if row < rows - 1 else 0)
        layout[f"xaxis{ax}"] = {**layout["xaxis"], "domain": [x0, x1], "anchor": f"y{ax}",
                                "showgrid": False, "nticks": 4, "tickfont": {"size": 12},
                                **({"matches": "x"} if p else {})}
        layout[f"yaxis{ax}"] = {**layout["yaxis"], "domain": [y0, y1], "anchor": f"x{ax}",
                                "rangemode": "tozero", "tickformat": tickformat, "ticksuffix": ticksuffix,
                                "nticks": 4, "tickfont": {"size": 12}}
        annotations.append({"text": f"<b>{panel.title}</b>", "showarrow": False, "xref": "paper",
                            "yref": "paper", "x": x0, "y": y1, "xanchor": "left", "yanchor": "bottom",
                            "font": {"size": 15, "color": c["text"]}})
        for s, (name, values) in enumerate(panel.series.items()):
            trace: dict[str, Any] = {
                "type": "scatter", "mode": "lines", "x": list(x), "y": list(values), "name": name,
                "xaxis": f"x{ax}", "yaxis": f"y{ax}", "legendgroup": name, "showlegend": p == 0,
                "line": {"width": 2.5, "color": PALETTE[s % len(PALETTE)]}, "connectgaps": False,
                "hovertemplate": f"{panel.title} · {name}: %{{y:.3s}}{ticksuffix}<extra></extra>",
            }
            if s == 0:
                trace["fill"] = "tozeroy"
            data.append(trace)
        data.append({"type": "scatter", "mode": "lines", "x": list(x), "y": [panel.ceiling] * len(x),
                     "name": ceiling_name, "xaxis": f"x{ax}", "yaxis": f"y{ax}", "legendgroup": "ceiling",
                     "showlegend": p == 0 and bool(ceiling_name), "hoverinfo": "skip",
                     "line": {"width": 1.5, "dash": "dash", "color": c["muted"]}})
    layout["annotations"] = annotations
    # the legend sits under the panels: above them it would cover the panel titles
    layout["legend"] = {**layout["legend"], "x": 0.5, "xanchor": "center", "y": 0, "yanchor": "bottom",
                        "yref": "container"}
    return {"data": data, "layout": layout}
