"""Two tiles of the admissions cockpit: where the admission notices are (录取通知书寄送) and how
good the intake is against the provinces' control lines (线差).

- **Notices** (``enrollment.notices``, ``metrics/enrollment_notices.py``): the season's funnel
  admitted → printed → mailed → delivered, beside one stacked bar per province whose parts add
  up to its admitted candidates — delivered, in transit (mailed, neither delivered nor
  returned), returned, printed but not mailed, not printed — so each province's printed,
  mailed and delivered counts read as the tops of its parts; under the funnel the three
  exception counts (returned, overdue for delivery, not printed in time), written by the
  browser from the snapshot.
- **Margin** (``enrollment.quality``, ``metrics/enrollment_quality.py``): the season's average
  margin over the control line, with the provinces of the highest and the lowest average
  margin (provinces of at least ``IOC_MIN_CELL`` admitted).

A figure /explore can answer leads there (``layouts.drill``; never on a paired wall screen):
the funnel's admitted step, and a province's bar (its admitted candidates). Notice stages and
margins have no question in /explore and no link; the admissions role gets a link to
``/enrollment/notices``, admissions and analysts one to ``/enrollment/quality``.
"""

from __future__ import annotations

from typing import Any

from dash import html

from ioc_app import read
from layouts.charts import PALETTE, THEME, base_layout, funnel
from layouts.drill import points, season_href
from layouts.i18n import t
from layouts.live import bound, graph

PAGE = "enrollment"
NOTICES_PATH = "/enrollment/notices"
QUALITY_PATH = "/enrollment/quality"
FUNNEL = ("admitted", "printed", "mailed", "delivered")
#: the parts of a province's bar, bottom up: (label key, colour)
SEGMENTS = (("notices.stage_delivered", PALETTE[1]), ("notices.seg_transit", PALETTE[0]),
            ("notices.stage_returned", PALETTE[3]), ("notices.seg_printed", PALETTE[2]),
            ("notices.seg_unprinted", PALETTE[7]))
EXCEPTIONS = ("returned", "undelivered", "unprinted")
MARGIN_ROWS = f"{PAGE}-margin-rows"


def notices(snap: dict[str, Any] | None) -> dict[str, Any]:
    """The snapshot's ``enrollment.notices`` part ({} before one exists)."""
    return ((snap or {}).get("enrollment") or {}).get("notices") or {}


def quality(snap: dict[str, Any] | None) -> dict[str, Any]:
    """The snapshot's ``enrollment.quality`` part ({} before one exists)."""
    return ((snap or {}).get("enrollment") or {}).get("quality") or {}


def _link(snap: dict[str, Any] | None, lang: str, **filters: str) -> str | None:
    """The admitted of the season on screen in /explore (filtered), for whoever may drill."""
    if not read.may_drill():
        return None
    enr = (snap or {}).get("enrollment") or {}
    return season_href("admitted", enr.get("year"), lang=lang, filters=filters,
                       as_of=(snap or {}).get("generated_at"))


def _name(row: dict[str, Any], lang: str) -> str:
    return str(row.get("name" if lang == "zh" else "name_en") or row.get("name") or row.get("province") or "")


def funnel_figure(snap: dict[str, Any] | None, theme: str, lang: str) -> dict[str, Any]:
    """Admitted → printed → mailed → delivered; the admitted step leads to its breakdown."""
    counts = notices(snap).get("funnel") or {}
    fig = funnel([t(f"notices.stage_{s}", lang) for s in FUNNEL], [int(counts.get(s) or 0) for s in FUNNEL],
                 theme=theme)
    fig["data"][0]["insidetextfont"] = {"size": 14, "color": "#ffffff"}
    fig["layout"]["yaxis"]["tickfont"] = {**fig["layout"]["yaxis"]["tickfont"], "size": 14}
    fig["data"][0].update(points([_link(snap, lang), None, None, None]))
    return fig


def segments(row: dict[str, Any]) -> list[int]:
    """A province's bar, bottom up (:data:`SEGMENTS`): its parts sum to its admitted."""
    stages = ("admitted", "printed", "mailed", "delivered", "returned")
    admitted, printed, mailed, delivered, returned = (int(row.get(s) or 0) for s in stages)
    return [delivered, mailed - delivered - returned, returned, printed - mailed, admitted - printed]


def provinces_figure(snap: dict[str, Any] | None, theme: str, lang: str) -> dict[str, Any]:
    """One stacked bar per province with admitted candidates, in code order, as shares of its
    admitted (``barnorm``; the traces' values are the counts); a bar leads to the province's
    admitted in /explore."""
    rows = [r for r in notices(snap).get("by_province") or [] if r.get("admitted")]
    names = [_name(r, lang) for r in rows]
    parts = [segments(r) for r in rows]
    hrefs = points([_link(snap, lang, province=str(r.get("province"))) for r in rows])
    data = []
    for j, (key, colour) in enumerate(SEGMENTS):
        label = t(key, lang)
        counts = [p[j] for p in parts]
        data.append({"type": "bar", "x": names, "y": counts, "customdata": counts, "name": label,
                     "marker": {"color": colour, "line": {"width": 0}},
                     "hovertemplate": "%{x} · " + label + ": %{customdata:,}<extra></extra>", **hrefs})
    # each bar is drawn as shares of the province's admitted, so a small province's progress
    # reads as well as the home province's (the counts are the values, shown on hover)
    layout = base_layout(theme, barmode="stack", barnorm="percent", bargap=0.3, showlegend=True,
                         margin={"l": 44, "r": 4, "t": 24, "b": 4})
    layout["legend"] = {**layout["legend"], "x": 0, "y": 1.0, "yanchor": "bottom", "font": {"size": 12},
                        "traceorder": "normal"}
    layout["xaxis"] = {**layout["xaxis"], "showgrid": False, "fixedrange": True}
    province_axis(layout, names, lang, theme)
    layout["yaxis"] = {**layout["yaxis"], "ticksuffix": "%", "tickvals": [0, 50, 100], "range": [0, 100],
                       "fixedrange": True}
    return {"data": data, "layout": layout}


def province_axis(layout: dict[str, Any], names: list[str], lang: str, theme: str) -> None:
    """The provinces' names under a chart of some 30 of them, never colliding: Chinese names
    stand upright one character over the next (竖排, as wide as one character), every one
    shown; English ones are turned upright, and where the bars are narrower than a line of
    text plotly names every other one (the bar's hover names each)."""
    c = THEME.get(theme, THEME["dark"])
    font = {"size": 12 if lang == "zh" else 13, "color": c["text"]}
    if lang == "zh":
        axis = {"tickmode": "array", "tickvals": names, "ticktext": ["<br>".join(n) for n in names],
                "tickangle": 0}
    else:
        axis = {"tickmode": "auto", "tickvals": None, "ticktext": None, "tickangle": -90}
    layout["xaxis"] = {**layout["xaxis"], "automargin": True, "tickfont": font, **axis}
    layout["minreducedheight"] = 40  # the names may take more height than plotly's default leaves


#: the layout entries a province chart's live part sends with its values
PROVINCE_AXIS = (("xaxis", "tickvals"), ("xaxis", "ticktext"))


def notices_actions(lang: str) -> html.A | None:
    """The admissions office's link to the exception lists (tracking numbers: admissions only)."""
    if not read.may("admissions_tools"):
        return None
    return html.A(t("notices.link", lang), href=f"{NOTICES_PATH}?lang={lang}", id=f"{PAGE}-notices-link",
                  className="pes-export", title=t("notices.link_title", lang))


def notices_tile_body(snap: dict[str, Any] | None, theme: str, lang: str) -> html.Div:
    """The funnel with the exception counts under it, beside the provinces' bars."""
    counts = html.Div([
        html.Div([html.Span(t(f"notices.short_{k}", lang), className="pes-figure-label"),
                  bound(f"enrollment.notices.exceptions.{k}", cls="pes-figure-value")],
                 className=f"pes-figure pes-notice-ex{' pes-warn' if k != 'unprinted' else ''}")
        for k in EXCEPTIONS], className="pes-notice-counts")
    return html.Div([
        html.Div([html.Div(graph(PAGE, "notices", funnel_figure(snap, theme, lang)), className="pes-chart"),
                  counts], className="pes-notice-left"),
        html.Div(graph(PAGE, "notice_provinces", provinces_figure(snap, theme, lang)), className="pes-chart"),
    ], className="pes-notice-box")


def _margin(value: Any) -> str:
    return "—" if value is None else f"{value:+.1f}"


def margin_rows(snap: dict[str, Any] | None, lang: str) -> list[Any]:
    """The best and the worst provinces by average margin, as two short lists."""
    q = quality(snap)
    empty = t("status.no_data", lang)

    def column(key: str) -> html.Div:
        rows = q.get(key) or []
        items = [html.Div([html.Span(_name(r, lang), className="pes-margin-name"),
                           html.Span(_margin(r.get("avg_margin")), className="pes-margin-value")],
                          className="pes-margin-row", **{"data-key": str(r.get("province"))})
                 for r in rows] or [html.Div(empty, className="pes-margin-row pes-margin-empty")]
        return html.Div([html.H3(t(f"margin.{key}", lang), className="pes-sub-title"), *items],
                        className=f"pes-margin-list pes-margin-{key}")

    return [column("best"), column("worst")]


def margin_actions(lang: str) -> html.A | None:
    """The link to the intake-quality page, for those who may open it (admissions, analysts)."""
    if not read.may("quality"):
        return None
    return html.A(t("margin.link", lang), href=f"{QUALITY_PATH}?lang={lang}", id=f"{PAGE}-quality-link",
                  className="pes-export", title=t("margin.link_title", lang))


def margin_tile_body(snap: dict[str, Any] | None, lang: str) -> html.Div:
    """The average margin, then the best and worst provinces (a live part)."""
    avg = quality(snap).get("avg_margin")
    return html.Div([
        html.Div([html.Div(t("quality.kpi_margin", lang), className="pes-figure-label"),
                  html.Div([bound("enrollment.quality.avg_margin", "decimal",
                                  initial="—" if avg is None else f"{avg:.1f}", cls="pes-figure-value"),
                            html.Span(t("margin.unit", lang), className="pes-figure-unit")])],
                 className="pes-figure pes-margin-avg"),
        html.Div(margin_rows(snap, lang), id=MARGIN_ROWS, className="pes-margin-lists"),
    ], className="pes-margin-box")
