"""Heat map figures: the matrix, the order of rows, the theme."""

from __future__ import annotations

from layouts.charts import FONT
from layouts.heatmap import SCALES, grid_values, heatmap


def test_grid_values_fill_missing_cells_with_zero() -> None:
    cells = {("north", "08"): 12, ("east", "09"): 3}
    assert grid_values(["north", "east"], ["08", "09"], cells) == [[12, 0], [0, 3]]


def test_heatmap_keeps_the_first_row_on_top_in_the_shared_look() -> None:
    fig = heatmap(["08", "09"], ["North", "East"], [[12, None], [0, 3]], unit="人次")
    trace = fig["data"][0]
    assert trace["type"] == "heatmap" and trace["z"] == [[12, None], [0, 3]]
    assert trace["zmin"] == 0 and "zmax" not in trace
    assert "人次" in trace["hovertemplate"]
    layout = fig["layout"]
    assert layout["yaxis"]["autorange"] == "reversed" and layout["yaxis"]["type"] == "category"
    assert layout["font"]["family"] == FONT and layout["paper_bgcolor"] == "rgba(0,0,0,0)"
    assert trace["colorscale"] == SCALES["dark"]


def test_light_theme_and_fixed_scale() -> None:
    fig = heatmap([], [], [], theme="light", zmax=100, show_scale=False)
    assert fig["data"][0]["colorscale"] == SCALES["light"]
    assert fig["data"][0]["zmax"] == 100 and fig["data"][0]["showscale"] is False
    assert heatmap([], [], [], theme="neon")["data"][0]["colorscale"] == SCALES["dark"]
