"""生源质量分析 (/enrollment/quality): how good a season's intake is against each province's
control line (省控线), for the admissions office and analysts at a desk or on a tablet.

For the season chosen (the seasons in the store; ``?year=``): the season's figures, a
three-year trend (the season and the two before it: average margin overall and for the
provinces that admit most), the provinces ranked by average margin and by its change on the
season before, and tables per province × batch × category × track (with its control line),
per college, per major and per province — admitted, lowest/average/highest score, margins
(线差), rank percentiles (位次), first-choice rate (一志愿率). Names, never codes: provinces,
colleges and majors from the site catalogue, batches, categories and tracks from the UI's.

The figures are computed from the store when the page opens or the year changes (a view is
audited: ``read.quality_figures``), never polled: the admissions role sees them exact, an
analyst under the small-cell rule — each row whose statistics are not shown says why, and
the admissions office's rows that the shared figures would hide are marked. Every table has
its XLSX and CSV file (``GET /api/v1/export/enrollment/quality``), the whole page one
workbook. A flowing page (``flow``), never on a wall.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from ioc_app import read
from layouts.charts import lines
from layouts.i18n import t
from layouts.live import frame, graph, options, tile
from layouts.quality_tables import code_field, marker, page_columns, rows_of, shown
from layouts.table import table

PATH = "/enrollment/quality"
dash.register_page(__name__, path="/enrollment/quality", name="quality", order=35, title="IOC", wall=False)

PAGE = "quality"
EXPORT_URL = "/api/v1/export/enrollment/quality"
YEAR = f"{PAGE}-year"
BODY = f"{PAGE}-body"
URL = f"{PAGE}-url"
VIEW = f"{PAGE}-view"
#: provinces drawn beside the whole season in the trend: those that admitted most this season
TREND_PROVINCES = 5
#: where each table sits on the page, after the season's figures and the trend
ORDER = ("by_margin", "by_change", "provinces", "cells", "colleges", "majors", "trend", "trend_provinces")


def _year(raw: Any) -> int | None:
    text = str(raw or "")
    return int(text) if text.isascii() and text.isdigit() and 2000 <= int(text) <= 2100 else None


def export_href(year: int, lang: str, name: str | None = None, fmt: str = "xlsx") -> str:
    table_part = f"&table={name}" if name else ""
    return f"{EXPORT_URL}?year={year}{table_part}&format={fmt}&lang={lang}"


def _exports(year: int, lang: str, name: str) -> html.Span:
    """A table's two file links (plain downloads: no callback, audited by the route)."""
    return html.Span([
        html.A(t(f"quality.export_{fmt}", lang), href=export_href(year, lang, name, fmt), download="",
               id=f"{PAGE}-export-{name}-{fmt}", className="pqa-export",
               title=t("quality.export_title", lang))
        for fmt in ("xlsx", "csv")], className="pqa-exports")


def data_table(figures: dict[str, Any], name: str, lang: str, min_cell: int) -> html.Div:
    """One table of the page: the export's columns, values as the page shows them, a row whose
    statistics are hidden (or exact where the shared figures hide them) marked."""
    rows = rows_of(figures, name, lang)
    columns = page_columns(name)
    head = [t(key, lang) for _, key, _ in columns]

    def cell(r: dict[str, Any], field: str, kind: str) -> Any:
        text = shown(r, field, kind, lang, min_cell)
        code = code_field(name, field)
        return html.Span(text, title=str(r[code])) if code and r.get(code) is not None else text

    body = [[cell(r, field, kind) for field, _, kind in columns] for r in rows]
    numeric = [i for i, (_, _, kind) in enumerate(columns)
               if kind not in ("text", "small") and not kind.startswith("label:")]
    classes = ["pqa-small" if marker(r, lang, min_cell) else "" for r in rows]
    return html.Div(table(head, body, numeric=numeric, row_classes=classes, empty=t("status.no_data", lang)),
                    id=f"{PAGE}-table-{name}", className="pqa-table", **{"data-rows": str(len(rows))})


def trend_figure(figures: dict[str, Any], theme: str, lang: str) -> dict[str, Any]:
    """Average margin per season: the whole season and the provinces that admitted most."""
    seasons = figures.get("seasons") or []
    x = [str(y) for y in seasons]
    overall = {r["year"]: r.get("avg_margin") for r in figures.get("trend") or []}
    series: dict[str, list[Any]] = {t("quality.t_season", lang): [overall.get(y) for y in seasons]}
    top = sorted(figures.get("provinces") or [], key=lambda r: (-r["admitted"], r["province"]))
    by_year = {(r["province"], r["year"]): r.get("avg_margin") for r in figures.get("trend_provinces") or []}
    for r in top[:TREND_PROVINCES]:
        name = r["province_name_en"] if lang == "en" else r["province_name"]
        series[name] = [by_year.get((r["province"], y)) for y in seasons]
    fig = lines(x, series, theme=theme)
    for trace in fig["data"]:
        trace["mode"] = "lines+markers"
        trace["line"] = {**trace["line"], "shape": "linear"}
        trace["connectgaps"] = False
    layout = fig["layout"]
    layout["showlegend"] = True
    layout["xaxis"] = {**layout.get("xaxis", {}), "type": "category", "fixedrange": True}
    layout["yaxis"] = {**layout.get("yaxis", {}), "title": {"text": t("quality.chart_margin", lang)},
                       "fixedrange": True}
    layout["legend"] = {**layout.get("legend", {}), "orientation": "h", "x": 0, "y": 1.02,
                        "yanchor": "bottom"}
    layout["margin"] = {"l": 64, "r": 16, "t": 40, "b": 36}
    return fig


def _kpi(label: str, value: str, name: str) -> html.Div:
    return html.Div([html.Div(label, className="ioc-kpi-label"),
                     html.Div(html.Span(value, className="ioc-kpi-value", id=f"{PAGE}-kpi-{name}"),
                              className="ioc-kpi-body")], className="ioc-kpi")


def season_kpis(figures: dict[str, Any], lang: str, min_cell: int) -> html.Div:
    row = (rows_of(figures, "season") or [{}])[0]
    return html.Div([
        _kpi(t("quality.kpi_admitted", lang), shown(row, "admitted", "count", lang, min_cell), "admitted"),
        _kpi(t("quality.kpi_margin", lang), shown(row, "avg_margin", "margin", lang, min_cell), "avg_margin"),
        _kpi(t("quality.kpi_rank", lang), shown(row, "rank_p50", "rank", lang, min_cell), "rank_p50"),
        _kpi(t("quality.kpi_first_choice", lang), shown(row, "first_choice_rate", "ratio", lang, min_cell),
             "first_choice_rate"),
    ], className="ioc-kpi-row pqa-kpis")


def content(year: int, lang: str, theme: str) -> list[Any]:
    """The figures of ``year``: the season, the trend and every table (computed now)."""
    rule = read.min_cell()
    figures = read.quality_figures(year) if read.may("quality") else None
    exact = read.quality_exact()
    notice = t("quality.notice_exact" if exact else "quality.notice_rule", lang).replace("{n}", str(rule))
    head = [html.P(notice, className="pqa-note", id=f"{PAGE}-notice"),
            html.P(t("quality.definitions", lang), className="pqa-note")]
    if figures is None:
        return [*head, html.P(t("quality.unavailable", lang), className="pqa-note")]
    if figures.get("season") is None:
        head.append(html.P(t("quality.no_season", lang), className="pqa-note", id=f"{PAGE}-empty"))

    def section(name: str, children: Any) -> html.Section:
        return tile(t(f"quality.t_{name}", lang), children, cls=f"pqa-tile pqa-{name}", lang=lang,
                    action=_exports(year, lang, name))

    return [
        *head,
        section("season", [season_kpis(figures, lang, rule), data_table(figures, "season", lang, rule)]),
        tile(t("quality.t_trend", lang),
             html.Div(graph(PAGE, "trend", trend_figure(figures, theme, lang)), className="pqa-chart"),
             cls="pqa-tile pqa-chart-tile", lang=lang),
        *(section(name, data_table(figures, name, lang, rule)) for name in ORDER),
    ]


def controls(year: int, seasons: list[int], lang: str) -> html.Div:
    years = sorted({*seasons, year}, reverse=True)
    return html.Div([
        html.Label(t("quality.year", lang), htmlFor=YEAR, className="pqa-label"),
        dcc.Dropdown(id=YEAR, options=[{"label": str(y), "value": y} for y in years], value=year,
                     clearable=False, searchable=False, className="pqa-year"),
        html.A(t("quality.export_all", lang), href=export_href(year, lang), download="",
               id=f"{PAGE}-export-all", className="pqa-export", title=t("quality.export_title", lang)),
    ], className="pqa-controls")


def layout(lang: str | None = None, theme: str | None = None, fit: str | None = None,
           year: str | None = None, **_query: Any) -> html.Div:
    lang, theme, fit = options(lang, theme, fit, read.display())
    seasons = read.quality_seasons() or []
    chosen = _year(year) or (seasons[0] if seasons else read.quality_default_year())
    body = html.Div([
        dcc.Location(id=URL, refresh=False),
        dcc.Store(id=VIEW, data={"lang": lang, "theme": theme}),
        controls(chosen, seasons, lang),
        dcc.Loading(html.Div(content(chosen, lang, theme), id=BODY, className="pqa-body"), type="dot"),
    ], className="pqa-page")
    return frame(PAGE, "quality.title", body, lang=lang, theme=theme, fit=fit, flow=True, **read.viewer(),
                 zone=read.settings().zone.key)


@callback(
    Output(BODY, "children"),
    Output(f"{PAGE}-export-all", "href"),
    Output(URL, "search"),
    Input(YEAR, "value"),
    State(VIEW, "data"),
    prevent_initial_call=True,
)
def choose_year(value: Any, view: dict[str, Any] | None) -> tuple[list[Any], str, str]:
    """Another season: its figures (computed and audited now), its file, its address."""
    view = view or {}
    lang, theme = str(view.get("lang") or "zh"), str(view.get("theme") or "dark")
    year = _year(value) or read.quality_default_year()
    return content(year, lang, theme), export_href(year, lang), f"?year={year}&lang={lang}&theme={theme}"
