"""The donut and multi-series bar builders of the shared chart look."""

from __future__ import annotations

from layouts.charts import PALETTE, bars, donut


def test_donut_writes_shares_on_the_ring() -> None:
    fig = donut(["学生", "教职工"], [3, 1], center="人次")
    trace = fig["data"][0]
    assert trace["type"] == "pie" and trace["hole"] > 0.5 and trace["sort"] is False
    assert trace["textinfo"] == "percent" and trace["values"] == [3, 1]
    assert fig["layout"]["showlegend"] is True
    assert fig["layout"]["annotations"][0]["text"] == "人次"
    assert "annotations" not in donut([], [])["layout"]


def test_bars_stacked_horizontal_first_category_on_top() -> None:
    fig = bars(["main", "east"], {"wired": [3, 0], "wireless": [0, 1]}, horizontal=True)
    assert [t["orientation"] for t in fig["data"]] == ["h", "h"]
    assert fig["data"][0]["x"] == [3, 0] and fig["data"][0]["y"] == ["main", "east"]
    assert fig["data"][1]["marker"]["color"] == PALETTE[1]
    assert fig["layout"]["barmode"] == "stack" and fig["layout"]["yaxis"]["autorange"] == "reversed"
    assert fig["layout"]["showlegend"] is True


def test_bars_grouped_vertical_with_own_colours() -> None:
    fig = bars(["d1", "d2"], {"open": [1, 2]}, stacked=False, colors=["#e01e5a"], tickformat=".0%")
    assert fig["data"][0]["x"] == ["d1", "d2"] and fig["data"][0]["y"] == [1, 2]
    assert fig["data"][0]["marker"]["color"] == "#e01e5a"
    assert fig["layout"]["barmode"] == "group" and fig["layout"]["yaxis"]["tickformat"] == ".0%"
    assert fig["layout"]["showlegend"] is False
