"""One chart look for the whole product: the dark wall and the light tablet templates, and
small builders that return plain figure dicts (cheaper to build and send than ``go.Figure``).

Fonts come from the system CJK stack, never a web font; nothing here refers to another host.
"""

from __future__ import annotations

from typing import Any

FONT = '"Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "Source Han Sans SC", Arial, sans-serif'
PALETTE = ("#36c5f0", "#2eb67d", "#ecb22e", "#e01e5a", "#8b7cf6", "#4fd1c5", "#f97316", "#94a3b8")
THEME = {
    "dark": {"text": "#e6edf7", "muted": "#8aa0c2", "grid": "#1f3560"},
    "light": {"text": "#14213d", "muted": "#55657f", "grid": "#d5dce8"},
}


def base_layout(theme: str = "dark", **extra: Any) -> dict[str, Any]:
    """The shared layout: transparent backgrounds, the system CJK font, quiet grid lines."""
    c = THEME.get(theme, THEME["dark"])
    layout: dict[str, Any] = {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": FONT, "color": c["text"], "size": 15},
        "colorway": list(PALETTE),
        "margin": {"l": 60, "r": 16, "t": 10, "b": 36},
        "xaxis": {"gridcolor": c["grid"], "zerolinecolor": c["grid"], "color": c["muted"]},
        "yaxis": {"gridcolor": c["grid"], "zerolinecolor": c["grid"], "color": c["muted"]},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": 13}},
        "showlegend": False,
        "uirevision": "keep",  # patched data never resets what the viewer did
        "transition": {"duration": 300},
    }
    layout.update(extra)
    return layout


def bar_h(labels: list[str], values: list[float], *, theme: str = "dark", ratio: bool = False,
          max_value: float | None = None, title: str = "") -> dict[str, Any]:
    """Horizontal bars (a ranking): the first label on top; ratios shown as percent."""
    trace: dict[str, Any] = {
        "type": "bar", "orientation": "h", "x": values, "y": labels, "name": title,
        "marker": {"color": PALETTE[0]},
        "texttemplate": "%{x:.0%}" if ratio else "%{x:,}", "textposition": "auto",
        "hovertemplate": "%{y}: %{x:.1%}<extra></extra>" if ratio else "%{y}: %{x:,}<extra></extra>",
    }
    xaxis: dict[str, Any] = {"tickformat": ".0%" if ratio else ",d"}
    if max_value is not None:
        xaxis["range"] = [0, max_value]
    layout = base_layout(theme)
    layout["xaxis"] = {**layout["xaxis"], **xaxis}
    layout["yaxis"] = {**layout["yaxis"], "autorange": "reversed", "automargin": True}
    return {"data": [trace], "layout": layout}


def lines(x: list[Any], series: dict[str, list[Any]], *, theme: str = "dark",
          area: bool = False) -> dict[str, Any]:
    """Time series sharing one x axis; ``series`` maps a (translated) name to its values."""
    data = [{"type": "scatter", "mode": "lines", "x": x, "y": ys, "name": name,
             "line": {"width": 3, "shape": "spline", "smoothing": 0.6},
             **({"fill": "tozeroy"} if area and i == 0 else {})}
            for i, (name, ys) in enumerate(series.items())]
    return {"data": data, "layout": base_layout(theme, showlegend=len(series) > 1)}



def count_tile(fig: dict[str, Any], x_axis: dict[str, Any] | None = None) -> dict[str, Any]:
    """``fig`` (a :func:`lines` chart of counts) styled for a tile's trend, as the overview's
    last hour and a board's trend share it: the axis from zero with SI ticks (never a range
    that makes one event a cliff), the legend over the top right, thin margins; ``x_axis``
    is merged into the x axis (a date axis and its tick format)."""
    layout = fig["layout"]
    if x_axis:
        layout["xaxis"] = {**layout["xaxis"], **x_axis}
    layout["yaxis"] = {**layout["yaxis"], "rangemode": "tozero", "tickformat": "~s",
                       "autorangeoptions": {"include": [0, 5]}}
    layout["legend"] = {**layout.get("legend", {}), "x": 1, "xanchor": "right", "y": 1.12,
                        "orientation": "h"}
    layout["margin"] = {"l": 40, "r": 8, "t": 24, "b": 24}
    return fig

def donut(labels: list[str], values: list[float], *, theme: str = "dark", center: str = "",
          colors: list[str] | None = None) -> dict[str, Any]:
    """A share of a whole (e.g. who passes the gates): a ring with percentages written on it,
    so nothing needs a hover to be read; ``center`` is a short text in the hole."""
    c = THEME.get(theme, THEME["dark"])
    trace: dict[str, Any] = {
        "type": "pie", "labels": labels, "values": values, "hole": 0.58, "sort": False,
        "direction": "clockwise", "textinfo": "percent", "textposition": "inside",
        "insidetextorientation": "horizontal", "texttemplate": "%{percent:.0%}",
        "marker": {"colors": colors or list(PALETTE), "line": {"width": 0}},
        "hovertemplate": "%{label}: %{value:,} (%{percent:.1%})<extra></extra>",
    }
    layout = base_layout(theme, showlegend=True, margin={"l": 4, "r": 4, "t": 4, "b": 4},
                         legend={"orientation": "v", "x": 1.0, "xanchor": "left", "y": 0.5,
                                 "yanchor": "middle", "font": {"size": 14}})
    if center:
        layout["annotations"] = [{"text": center, "showarrow": False, "x": 0.5, "y": 0.5, "xref": "paper",
                                  "yref": "paper", "font": {"size": 16, "color": c["muted"]}}]
    return {"data": [trace], "layout": layout}


def bars(categories: list[Any], series: dict[str, list[float]], *, theme: str = "dark",
         stacked: bool = True, horizontal: bool = False, colors: list[str] | None = None,
         tickformat: str = ",d") -> dict[str, Any]:
    """Bars of several series over shared categories (stacked or side by side); horizontal
    bars list the first category on top. ``series`` maps a (translated) name to its values."""
    palette = colors or list(PALETTE)
    data = []
    for i, (name, values) in enumerate(series.items()):
        trace: dict[str, Any] = {"type": "bar", "name": name, "marker": {"color": palette[i % len(palette)]}}
        if horizontal:
            trace.update(orientation="h", x=values, y=categories,
                         hovertemplate="%{y} · " + name + ": %{x:,}<extra></extra>")
        else:
            trace.update(x=categories, y=values, hovertemplate="%{x} · " + name + ": %{y:,}<extra></extra>")
        data.append(trace)
    layout = base_layout(theme, barmode="stack" if stacked else "group", bargap=0.25,
                         showlegend=len(series) > 1)
    value_axis, category_axis = ("xaxis", "yaxis") if horizontal else ("yaxis", "xaxis")
    layout[value_axis] = {**layout[value_axis], "tickformat": tickformat}
    layout[category_axis] = {**layout[category_axis], "automargin": True, "showgrid": False}
    if horizontal:
        layout["yaxis"]["autorange"] = "reversed"
    return {"data": data, "layout": layout}


def progress(labels: list[str], ratios: list[float | None], texts: list[str], *, theme: str = "dark",
             color: str = PALETTE[0], slots: int = 0) -> dict[str, Any]:
    """Progress towards a plan, one bar per label (first on top): a full-width track behind a
    bar of the ratio. ``texts`` (e.g. "1,234 / 1,300 · 95%") are the right axis' labels, so
    they get their own margin and are never clipped, whatever the width. With ``slots`` a
    short list keeps bars of the same thickness, centred, as a longer one would have."""
    c = THEME.get(theme, THEME["dark"])
    n = len(labels)
    pos = list(range(n))
    values = [r or 0 for r in ratios]
    pad = max(0, slots - n) / 2
    span = [n - 0.5 + pad, -0.5 - pad]  # reversed: the first label on top
    track = {"type": "bar", "orientation": "h", "y": pos, "x": [1.0] * n, "hoverinfo": "skip",
             "marker": {"color": c["grid"], "line": {"width": 0}}, "showlegend": False}
    bar = {"type": "bar", "orientation": "h", "y": pos, "x": values, "customdata": texts,
           "marker": {"color": color, "line": {"width": 0}}, "showlegend": False,
           "hovertemplate": "%{customdata}<extra></extra>"}
    anchor = {"type": "scatter", "mode": "markers", "y": pos, "x": [0] * n, "yaxis": "y2",
              "marker": {"opacity": 0}, "hoverinfo": "skip", "showlegend": False}
    ticks = {"tickmode": "array", "tickvals": pos, "range": span, "automargin": True, "showgrid": False,
             "zeroline": False, "ticks": "", "fixedrange": True}
    layout = base_layout(theme, barmode="overlay", bargap=0.42, margin={"l": 8, "r": 8, "t": 4, "b": 4})
    layout["xaxis"] = {**layout["xaxis"], "visible": False, "range": [0, max([1.0, *values])],
                       "fixedrange": True}
    layout["yaxis"] = {**layout["yaxis"], **ticks, "ticktext": labels,
                       "tickfont": {"size": 16, "color": c["text"]}}
    layout["yaxis2"] = {**ticks, "ticktext": texts, "overlaying": "y", "side": "right",
                        "tickfont": {"size": 15, "color": c["text"]}}
    return {"data": [track, bar, anchor], "layout": layout}


def ranges(labels: list[str], low: list[float | None], mid: list[float | None], high: list[float | None],
           *, names: tuple[str, str, str] = ("min", "avg", "max"), theme: str = "dark") -> dict[str, Any]:
    """A span from ``low`` to ``high`` per label with a marker at ``mid`` (e.g. lowest, average
    and highest admission score by province); labels without figures leave a gap."""
    c = THEME.get(theme, THEME["dark"])
    span = [None if lo is None or hi is None else hi - lo for lo, hi in zip(low, high, strict=True)]
    bar = {"type": "bar", "x": labels, "y": span, "base": low, "name": f"{names[0]} – {names[2]}",
           "marker": {"color": PALETTE[0], "opacity": 0.45, "line": {"width": 0}}, "customdata": high,
           "hovertemplate": (f"%{{x}}<br>{names[0]} %{{base:.0f}} · {names[2]} %{{customdata:.0f}}"
                             "<extra></extra>")}
    dots = {"type": "scatter", "mode": "markers", "x": labels, "y": mid, "name": names[1],
            "marker": {"color": PALETTE[2], "size": 9, "symbol": "diamond", "line": {"width": 0}},
            "hovertemplate": f"%{{x}}<br>{names[1]} %{{y:.1f}}<extra></extra>"}
    layout = base_layout(theme, bargap=0.35, showlegend=True, margin={"l": 44, "r": 8, "t": 28, "b": 8})
    layout["legend"] = {**layout["legend"], "x": 1, "xanchor": "right", "y": 1.0, "yanchor": "bottom"}
    layout["xaxis"] = {**layout["xaxis"], "automargin": True, "showgrid": False, "tickangle": -90,
                       "tickfont": {"size": 13, "color": c["text"]}, "fixedrange": True}
    layout["yaxis"] = {**layout["yaxis"], "tickformat": ",d", "nticks": 5, "fixedrange": True}
    return {"data": [bar, dots], "layout": layout}


def funnel(labels: list[str], values: list[int], *, theme: str = "dark") -> dict[str, Any]:
    """Steps that narrow (e.g. arrived → paid → moved in → registered), each with its count
    and its share of the first step written on the bar."""
    c = THEME.get(theme, THEME["dark"])
    share = " · %{percentInitial:.0%}" if values and values[0] else ""  # no share of nobody
    trace = {"type": "funnel", "y": labels, "x": values, "textinfo": "value+percent initial",
             "texttemplate": "%{value:,}" + share, "textposition": "inside",
             "insidetextfont": {"size": 15, "color": "#ffffff"}, "constraintext": "none",
             "marker": {"color": [PALETTE[i % len(PALETTE)] for i in range(len(labels))]},
             "connector": {"fillcolor": c["grid"], "line": {"width": 0}},
             "hovertemplate": "%{y}: %{x:,}<extra></extra>"}
    layout = base_layout(theme, margin={"l": 8, "r": 8, "t": 4, "b": 4})
    layout["yaxis"] = {**layout["yaxis"], "automargin": True, "ticks": "", "fixedrange": True,
                       "tickfont": {"size": 15, "color": c["text"]}}
    layout["xaxis"] = {**layout["xaxis"], "visible": False, "fixedrange": True}
    return {"data": [trace], "layout": layout}


def combo(x: list[Any], bar_series: dict[str, list[Any]], line_series: dict[str, list[Any]], *,
          theme: str = "dark", colors: list[str] | None = None, right_axis: bool = False,
          line_format: str = ",d", line_range: list[float] | None = None,
          line_ticks: list[float] | None = None, dash: str = "solid", tick_every: int = 0
          ) -> dict[str, Any]:
    """Bars (grouped) and lines over one x: e.g. today's counts per hour as bars, which read as
    "in progress" for the current hour, under a typical day's dotted lines; or calls as bars
    and their answer rate as a line on a right axis (``right_axis``, ``line_format``,
    ``line_ticks``). ``tick_every`` labels every n-th category only, upright, so a day of 24
    hours never needs rotated or clipped labels."""
    c = THEME.get(theme, THEME["dark"])
    palette = colors or list(PALETTE)
    data: list[dict[str, Any]] = []
    for name, ys in bar_series.items():
        data.append({"type": "bar", "x": x, "y": ys, "name": name,
                     "marker": {"color": palette[len(data) % len(palette)], "line": {"width": 0}},
                     "hovertemplate": "%{x} · " + name + ": %{y:,}<extra></extra>"})
    for name, ys in line_series.items():
        data.append({"type": "scatter", "mode": "lines+markers" if right_axis else "lines", "x": x, "y": ys,
                     "name": name, "connectgaps": False, "marker": {"size": 6},
                     "line": {"color": palette[len(data) % len(palette)], "width": 3 if right_axis else 2,
                              "dash": dash},
                     "hovertemplate": "%{x} · " + name + ": %{y:" + line_format + "}<extra></extra>",
                     **({"yaxis": "y2"} if right_axis else {})})
    layout = base_layout(theme, showlegend=True, barmode="group", bargap=0.25, bargroupgap=0.05,
                         margin={"l": 44, "r": 52 if right_axis else 12, "t": 30, "b": 28})
    layout["xaxis"] = {**layout["xaxis"], "type": "category", "showgrid": False, "fixedrange": True,
                       "automargin": True}
    if tick_every > 1:
        layout["xaxis"].update(tickmode="array", tickvals=x[::tick_every], tickangle=0)
    layout["yaxis"] = {**layout["yaxis"], "tickformat": "~s", "rangemode": "tozero", "nticks": 5,
                       "fixedrange": True}
    if right_axis:
        layout["yaxis2"] = {"overlaying": "y", "side": "right", "tickformat": line_format, "showgrid": False,
                            "color": c["muted"], "fixedrange": True, "zeroline": False,
                            **({"range": line_range} if line_range else {"rangemode": "tozero"}),
                            **({"tickmode": "array", "tickvals": line_ticks} if line_ticks else {})}
    layout["legend"] = {**layout["legend"], "x": 0, "y": 1.0, "yanchor": "bottom", "font": {"size": 13}}
    return {"data": data, "layout": layout}


VALUE_KEYS = ("x", "y", "text", "customdata", "base", "texttemplate", "ioc_href")


def copy_values(target: Any, figure: dict[str, Any], *,
                layout_paths: tuple[tuple[str, ...], ...] = ()) -> Any:
    """Write a freshly built figure's data arrays (and the listed layout entries, e.g. an axis'
    ``ticktext``) into ``target`` — a Dash ``Patch`` — so a page's update sends only values while
    the figure itself is built by the same builder as at layout time."""
    for i, trace in enumerate(figure["data"]):
        for key in VALUE_KEYS:
            if key in trace:
                target["data"][i][key] = trace[key]
    for path in layout_paths:
        node, source = target["layout"], figure["layout"]
        for key in path[:-1]:
            node, source = node[key], source[key]
        node[path[-1]] = source[path[-1]]
    return target


def timeseries(x: list[Any], series: list[dict[str, Any]], *, theme: str = "dark", grain: str = "hour",
               revision: str = "") -> dict[str, Any]:
    """An analyst's series over time: one line per entry of ``series`` (``{"name", "y",
    "kind"}``, names already translated, kinds as the query whitelist has them) over ``x``
    (local ``YYYY-MM-DD HH:MM:SS`` buckets of a ``minute`` or ``hour``), or for ``day`` one
    group of bars per date (``YYYY-MM-DD``): a day is a total, not a point; for ``season`` one
    per admission year (``2025``).

    Ratios get a right-hand percent axis when counts share the chart (an 8 % deny rate
    drawn on an axis of 12,000 passes is a flat line). A null is drawn as a gap, never as a
    zero: no sample is not a zero sample. Lines are straight (a spline invents values between
    buckets) and carry markers while there are few enough points to tell them apart. A zoom
    is kept while ``revision`` (the question) stays the same, and reset when it changes.
    Dates are written as numbers (``12-01 08:00``), the same in every language; a short
    series labels every bucket, never a time between two of them. A series marked
    ``"compare": True`` is the comparison period of the series before it: drawn dashed in
    that series' colour (a dashed line over a day's bars), so the pair reads as one figure.
    """
    days = grain in ("day", "season")  # a day's or a season's figure is a bar, not a point
    c = THEME.get(theme, THEME["dark"])
    ratio = [s["kind"] == "ratio" for s in series]
    mixed = any(ratio) and not all(ratio)
    markers = len(x) <= 48
    data: list[dict[str, Any]] = []
    shade = -1
    for s in series:
        compared = bool(s.get("compare"))
        shade += 0 if compared and shade >= 0 else 1
        color = PALETTE[shade % len(PALETTE)]
        # a mean to two places as the table writes it; a lowest or highest score keeps its
        # decimals (612.5), a count has none to show
        fmt = {"ratio": ".2%", "mean": ",.2f"}.get(s["kind"], ",.6~f")
        trace: dict[str, Any] = {
            "name": s["name"], "x": x, "y": s["y"],
            "hovertemplate": "%{x} · " + s["name"] + ": %{y:" + fmt + "}<extra></extra>",
        }
        if compared:
            trace.update(type="scatter", mode="lines+markers" if markers else "lines", connectgaps=False,
                         line={"color": color, "width": 2, "dash": "dash"},
                         marker={"size": 5, "color": color, "symbol": "circle-open"})
        elif days:
            trace.update(type="bar", marker={"color": color, "line": {"width": 0}})
        else:
            trace.update(type="scatter", mode="lines+markers" if markers else "lines", connectgaps=False,
                         line={"color": color, "width": 2}, marker={"size": 5, "color": color})
        if mixed and s["kind"] == "ratio":
            trace["yaxis"] = "y2"
        data.append(trace)
    layout = base_layout(theme, showlegend=len(series) > 1, barmode="group", bargap=0.2,
                         margin={"l": 64, "r": 64 if mixed else 16, "t": 8, "b": 40})
    layout.pop("transition", None)  # a new question is a new chart, not an animation of the last
    layout["uirevision"] = revision
    layout["legend"] = {**layout["legend"], "y": 1.0, "yanchor": "bottom", "x": 0, "xanchor": "left"}
    if grain == "season":  # an admission year, written ``2025``
        ticks: dict[str, Any] = {"tickformat": "%Y", "hoverformat": "%Y"}
    elif days:
        ticks = {"tickformat": "%Y-%m-%d", "hoverformat": "%Y-%m-%d"}
    elif len(x) <= 12:
        ticks = {"tickmode": "array", "tickvals": x, "hoverformat": "%Y-%m-%d %H:%M",
                 "tickformat": "%H:%M" if grain == "minute" else "%m-%d %H:%M"}
    else:
        ticks = {"hoverformat": "%Y-%m-%d %H:%M", "tickformatstops": [
            {"dtickrange": [None, 3_600_000], "value": "%H:%M"},
            {"dtickrange": [3_600_000, 86_400_000], "value": "%m-%d %H:%M"},
            {"dtickrange": [86_400_000, None], "value": "%Y-%m-%d"}]}
    if days and len(x) <= 12:
        ticks.update(tickmode="array", tickvals=x)
    layout["xaxis"] = {**layout["xaxis"], "type": "date", "automargin": True, "showgrid": False, **ticks}
    only_ratios = bool(series) and all(ratio)
    # a count axis never shows fractions: at least 0–5, so small counts step by whole numbers
    whole = bool(series) and all(s["kind"] in ("count", "max") for s in series if s["kind"] != "ratio")
    layout["yaxis"] = {**layout["yaxis"], "automargin": True, "rangemode": "tozero",
                       "separatethousands": True, **({"tickformat": ".0%"} if only_ratios else {}),
                       **({"autorangeoptions": {"include": [0, 5]}} if whole and not only_ratios else {})}
    if mixed:
        layout["yaxis2"] = {"overlaying": "y", "side": "right", "tickformat": ".0%", "showgrid": False,
                            "rangemode": "tozero", "color": c["muted"], "zeroline": False, "automargin": True}
    return {"data": data, "layout": layout}
