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
