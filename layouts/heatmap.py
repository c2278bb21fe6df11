"""Heat map figures (e.g. gate × hour) in the shared chart look.

A heat map on a wall is read as "where and when is it busy": rows are the items in a fixed,
meaningful order (the first on top), columns are time, cells are gapped so neighbouring
values stay distinct from across the room, and the colour scale runs from the panel colour
(quiet) to a warm highlight (busy) in both themes. Pages patch ``z`` (and ``x``/``y`` when
hours or rows are added) on each new snapshot; the layout stays in the browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from layouts.charts import base_layout

SCALES = {
    "dark": [[0.0, "#12233f"], [0.25, "#15507a"], [0.55, "#1f9bc4"], [0.8, "#8fd16a"], [1.0, "#ffd166"]],
    "light": [[0.0, "#eef3fa"], [0.3, "#b9d7f0"], [0.6, "#4f9fdc"], [0.85, "#1565b0"], [1.0, "#0b3470"]],
}


def grid_values(rows: Sequence[str], cols: Sequence[str], cells: dict[tuple[str, str], float]
                ) -> list[list[float]]:
    """The ``z`` matrix of ``cells`` keyed by (row, column), zeros where a cell is missing."""
    return [[cells.get((r, c), 0) for c in cols] for r in rows]


def heatmap(x: Sequence[Any], y: Sequence[str], z: Sequence[Sequence[float | None]], *,
            theme: str = "dark", unit: str = "", zmax: float | None = None,
            show_scale: bool = True) -> dict[str, Any]:
    """A heat map with the row named ``y[0]`` on top; ``unit`` is named in the hover text."""
    trace: dict[str, Any] = {
        "type": "heatmap", "x": list(x), "y": list(y), "z": [list(r) for r in z],
        "colorscale": SCALES.get(theme, SCALES["dark"]), "xgap": 2, "ygap": 2,
        "zmin": 0, "showscale": show_scale,
        "hovertemplate": "%{y} · %{x}: %{z:,}" + (f" {unit}" if unit else "") + "<extra></extra>",
        "colorbar": {"thickness": 10, "outlinewidth": 0, "len": 1, "y": 0.5, "tickformat": "~s",
                     "tickfont": {"size": 12}, "xpad": 6},
    }
    if zmax is not None:
        trace["zmax"] = zmax
    layout = base_layout(theme, margin={"l": 8, "r": 8, "t": 6, "b": 30})
    layout["xaxis"] = {**layout["xaxis"], "type": "category", "showgrid": False, "ticks": "",
                       "tickfont": {"size": 13}}
    layout["yaxis"] = {**layout["yaxis"], "type": "category", "autorange": "reversed", "showgrid": False,
                       "automargin": True, "ticks": "", "tickfont": {"size": 13}}
    return {"data": [trace], "layout": layout}
