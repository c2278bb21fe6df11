"""KPI card: a label, a big number with tabular figures, and a unit."""

from __future__ import annotations

from dash import html

from layouts import ids


def format_value(value: float | int | None, kind: str = "count", lang: str = "zh") -> str:
    """Numbers as a wall shows them: thousands separators, ratios as percent, — for none."""
    if value is None:
        return "—"
    if kind == "ratio":
        return f"{value * 100:.1f}%"
    if kind == "signed":
        return f"{value:+,}"
    return f"{value:,}"


def kpi_card(page: str, name: str, label: str, value: float | int | None, unit: str = "",
             kind: str = "count") -> html.Div:
    return html.Div(
        className="ioc-kpi",
        children=[
            html.Div(label, className="ioc-kpi-label"),
            html.Div(
                [
                    html.Span(format_value(value, kind), id=ids.kpi(page, name),
                              className="ioc-kpi-value", **{"data-kind": kind}),
                    html.Span(unit, className="ioc-kpi-unit") if unit else None,
                ],
                className="ioc-kpi-body",
            ),
        ],
    )
