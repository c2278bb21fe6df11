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
