"""Small multiples: one panel per item, stable trace indices for patches, ceilings drawn."""

from __future__ import annotations

from layouts.multiples import Panel, small_multiples, trace_index


def test_panels_get_their_own_axes_and_stable_trace_indices() -> None:
    x = ["2026-01-01 08:00", "2026-01-01 08:01"]
    panels = [Panel(f"L{i}", {"in": [i, i + 1], "out": [0, 1]}, ceiling=10.0 * (i + 1)) for i in range(3)]
    fig = small_multiples(x, panels, cols=2, ceiling_name="capacity")
    per_panel = 3
    assert len(fig["data"]) == 3 * per_panel
    for p in range(3):
        ax = "" if p == 0 else str(p + 1)
        assert fig["data"][trace_index(p, 0, per_panel)]["y"] == [p, p + 1]
        assert fig["data"][trace_index(p, 0, per_panel)]["fill"] == "tozeroy"
        assert fig["data"][trace_index(p, 1, per_panel)]["name"] == "out"
        ceiling = fig["data"][trace_index(p, 2, per_panel)]
        assert ceiling["y"] == [10.0 * (p + 1)] * 2 and ceiling["xaxis"] == f"x{ax}"
        assert fig["layout"][f"yaxis{ax}"]["anchor"] == f"x{ax}"
    # the legend names each series once
    assert sum(1 for t in fig["data"] if t["showlegend"]) == 3
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["<b>L0</b>", "<b>L1</b>", "<b>L2</b>"]


def test_panels_do_not_overlap() -> None:
    fig = small_multiples([0, 1], [Panel(str(i), {"v": [1, 2]}) for i in range(4)], cols=2)
    boxes = [(fig["layout"][f"xaxis{a}"]["domain"], fig["layout"][f"yaxis{a}"]["domain"])
             for a in ("", "2", "3", "4")]
    for i, (xa, ya) in enumerate(boxes):
        assert 0 <= xa[0] < xa[1] <= 1 and 0 <= ya[0] < ya[1] <= 1
        for xb, yb in boxes[i + 1:]:
            assert xa[1] <= xb[0] or xb[1] <= xa[0] or ya[1] <= yb[0] or yb[1] <= ya[0]
    # rows are equally tall
    heights = {round(y[1] - y[0], 6) for _, y in boxes}
    assert len(heights) == 1
