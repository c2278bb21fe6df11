"""The analyst's time-series chart and the flowing frame: building blocks of /explore."""

from __future__ import annotations

from layouts.charts import timeseries
from layouts.live import frame

HOURS = ["2026-09-01 08:00:00", "2026-09-01 09:00:00", "2026-09-01 10:00:00"]


def test_counts_and_ratios_get_an_axis_each_and_gaps_stay_gaps() -> None:
    fig = timeseries(HOURS, [{"name": "in", "y": [3, None, 5], "kind": "count"},
                             {"name": "rate", "y": [0.1, None, 0.2], "kind": "ratio"}], theme="light")
    count, ratio = fig["data"]
    assert count["type"] == "scatter" and count["connectgaps"] is False and count["y"] == [3, None, 5]
    assert ratio["yaxis"] == "y2" and fig["layout"]["yaxis2"]["tickformat"] == ".0%"
    assert "yaxis" not in count and fig["layout"]["showlegend"]
    assert fig["layout"]["yaxis"]["autorangeoptions"] == {"include": [0, 5]}  # no fractional counts
    assert "transition" not in fig["layout"]
    assert fig["layout"]["xaxis"]["tickvals"] == HOURS  # a short series: every bucket, none between
    assert fig["layout"]["xaxis"]["tickformat"] == "%m-%d %H:%M"


def test_ratios_alone_use_one_percent_axis_and_means_may_be_fractions() -> None:
    fig = timeseries(HOURS, [{"name": "rate", "y": [0.1, 0.2, 0.3], "kind": "ratio"}])
    assert "yaxis2" not in fig["layout"] and fig["layout"]["yaxis"]["tickformat"] == ".0%"
    assert not fig["layout"]["showlegend"]
    mean = timeseries(HOURS, [{"name": "wait", "y": [1.5, 2.5, 0.5], "kind": "mean"}])
    assert "autorangeoptions" not in mean["layout"]["yaxis"]


def test_days_are_bars_and_long_series_have_automatic_ticks() -> None:
    days = timeseries(["2026-09-01", "2026-09-02"], [{"name": "in", "y": [1, 2], "kind": "count"}],
                      grain="day")
    assert days["data"][0]["type"] == "bar" and days["layout"]["xaxis"]["tickformat"] == "%Y-%m-%d"
    minutes = [f"2026-09-01 08:{m:02d}:00" for m in range(60)]
    fig = timeseries(minutes, [{"name": "in", "y": [1] * 60, "kind": "count"}], grain="minute",
                     revision="q")
    assert "tickvals" not in fig["layout"]["xaxis"] and fig["layout"]["xaxis"]["tickformatstops"]
    assert fig["data"][0]["mode"] == "lines" and fig["layout"]["uirevision"] == "q"


def test_a_flowing_frame_flows_in_the_dark_theme_too() -> None:
    wall = frame("p", "app.title", [], lang="zh", theme="dark", fit="contain")
    desk = frame("p", "app.title", [], lang="zh", theme="dark", fit="contain", flow=True)
    assert wall.children.className == "ioc-canvas" and "ioc-screen-flow" not in wall.className
    assert desk.children.className == "ioc-flow" and "ioc-screen-flow" in desk.className
    assert "ioc-theme-dark" in desk.className


def test_a_comparison_is_dashed_in_its_series_colour() -> None:
    """Each series' comparison period reads as its pair: the same colour, dashed, also over
    a day's bars (a line, so the bars stay the answer)."""
    x = ["2026-09-01", "2026-09-02"]
    series = [{"name": "in", "y": [1, 2], "kind": "count"},
              {"name": "in · last year", "y": [3, None], "kind": "count", "compare": True},
              {"name": "out", "y": [4, 5], "kind": "count"},
              {"name": "out · last year", "y": [6, 7], "kind": "count", "compare": True}]
    for grain in ("hour", "day"):
        data = timeseries(x, series, theme="light", grain=grain)["data"]
        base_in, cmp_in, base_out, cmp_out = data
        assert cmp_in["line"]["color"] == base_in["marker"]["color"] != base_out["marker"]["color"]
        assert cmp_out["line"]["color"] == base_out["marker"]["color"]
        assert cmp_in["line"]["dash"] == cmp_out["line"]["dash"] == "dash"
        assert cmp_in["type"] == "scatter" and cmp_in["y"] == [3, None] and cmp_in["connectgaps"] is False
        assert base_in["type"] == ("bar" if grain == "day" else "scatter")
        assert "dash" not in base_in.get("line", {})
