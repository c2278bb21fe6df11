"""Admissions cockpit (招生录取驾驶舱): the season at a glance on the wall, for the admissions
office and the leaders who walk past it.

Where the admitted come from (a province map of plan completion and the provinces with the
most admitted), how each batch and category fills its plan, the majors that admit most, the
scores by province, the season against last year, and the September check-in funnel.

Numbers are bound to snapshot paths and written by the browser; the charts and boards are
built from the snapshot at layout time; they are the page's live parts (``layouts.parts``),
redrawn only when the snapshot paths they are drawn from change (only data arrays, colours and
rows travel). Enrollment streams are
seasonal, so the tiles show no data age: silence out of season is normal, not staleness.

Scores follow the small-cell rule (``IOC_MIN_CELL``): the snapshot has no score for a
province of fewer admitted, and the page says why under the chart and on the map
("少于3人，不显示"). The admissions role gets two more links: the exact file and
``/enrollment/exact``, a desk page that computes the exact figures from the store when it is
opened (audited), registered here because it belongs to this domain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
from dash import Patch, html

from ioc_app import read
from layouts import ids
from layouts.charts import copy_values, funnel, lines, progress, ranges
from layouts.china_map import china_map, china_map_patch, hidden_reason, legend_stops
from layouts.drill import per_bucket, points, season_href
from layouts.i18n import CATALOGUE, t
from layouts.live import bound, frame, graph, kpi, options, tile
from layouts.parts import Part, View, live_parts, under
from layouts.ranking import RankRow, ranking, ranking_rows
from layouts.table import table
from pages._enrollment import tiles

dash.register_page(__name__, path="/enrollment", name="enrollment", order=3, title="IOC")

PAGE = "enrollment"
STEPS = ("arrived", "paid", "dorm", "registered")
TOP_MAJORS = 10
TOP_PROVINCES = 8
#: each chart or board of the page and the part of the enrollment section it is drawn from
SOURCES = {"map": "by_province", "batch": "by_batch", "category": "by_category", "scores": "by_province",
           "season": "admitted_by_day", "checkin": "checkin", "checkin_days": "checkin_by_day",
           "provinces": "by_province", "majors": "by_major"}
BOARDS = ("provinces", "majors")
#: the admissions breakdown as a file (GET /api/v1/export/enrollment, a stable route)
EXPORT_URL = "/api/v1/export/enrollment"
#: the same file with every score (permission ``exact_cells``)
EXACT_EXPORT_URL = "/api/v1/export/enrollment/exact"
#: the admissions office's exact figures (permission ``exact_cells``; never on a wall)
EXACT_PATH = "/enrollment/exact"
SCORES_NOTE = f"{PAGE}-scores-note"


#: what a province, batch or category leads to: its plan, admitted and completion
FILL = ("completion", "admitted", "planned")


def section(snap: dict[str, Any] | None) -> dict[str, Any]:
    """The snapshot's enrollment section ({} before the first snapshot)."""
    return (snap or {}).get("enrollment") or {}


def link(snap: dict[str, Any] | None, measures: str | tuple[str, ...], lang: str,
         **filters: str) -> str | None:
    """An enrollment figure's breakdown in /explore: the season on screen (``layouts.drill``),
    filtered; None where the viewer follows no links (a paired wall screen) or before a season."""
    if not read.may_drill():
        return None
    return season_href(measures, section(snap).get("year"), lang=lang, filters=filters,
                       as_of=(snap or {}).get("generated_at"))


def codes_links(snap: dict[str, Any] | None, key: str, dim: str, lang: str) -> list[str | None]:
    """Each row of a breakdown (``by_batch``, ``by_category``) → its breakdown in /explore."""
    return [link(snap, FILL, lang, **{dim: str(r.get(dim))}) for r in section(snap).get(key) or []]


def code_label(prefix: str, code: str, lang: str) -> str:
    """A batch or category code in words; a code the catalogue does not know shows as is."""
    key = f"enroll.{prefix}_{code}"
    return t(key, lang) if key in CATALOGUE else code


def name_of(row: dict[str, Any], lang: str) -> str:
    """A province's or major's name in the page's language (the code when unnamed)."""
    key = "name" if lang == "zh" else "name_en"
    return str(row.get(key) or row.get("name") or row.get("province") or row.get("major") or "")


def pct(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio * 100:.1f}%"


def progress_data(rows: list[dict[str, Any]], dim: str, lang: str
                  ) -> tuple[list[str], list[float | None], list[str]]:
    """Labels, completion ratios and "admitted / plan · ratio" texts of a breakdown."""
    prefix = "batch" if dim == "batch" else "cat"
    labels = [code_label(prefix, str(r.get(dim)), lang) for r in rows]
    ratios = [r.get("completion") for r in rows]
    texts = [f"{r.get('admitted', 0):,} / {r.get('plan', 0):,} · {pct(r.get('completion'))}" for r in rows]
    return labels, ratios, texts


PROGRESS_SLOTS = {"by_batch": 4, "by_category": 5}
PROGRESS_AXES = (("yaxis", "ticktext"), ("yaxis", "tickvals"), ("yaxis", "range"), ("yaxis2", "ticktext"),
                 ("yaxis2", "tickvals"), ("yaxis2", "range"), ("xaxis", "range"))


def progress_figure(snap: dict[str, Any] | None, key: str, dim: str, theme: str, lang: str,
                    color: str = "#36c5f0") -> dict[str, Any]:
    labels, ratios, texts = progress_data(section(snap).get(key) or [], dim, lang)
    fig = progress(labels, ratios, texts, theme=theme, color=color, slots=PROGRESS_SLOTS[key])
    fig["data"][1].update(points(codes_links(snap, key, dim, lang)))  # the bar, over its track
    return fig


def score_data(snap: dict[str, Any] | None, lang: str) -> tuple[list[str], list[Any], list[Any], list[Any]]:
    """Provinces with admitted candidates, in code order: names, lowest, average, highest."""
    rows = [r for r in section(snap).get("by_province") or [] if r.get("admitted")]
    return ([name_of(r, lang) for r in rows], [r.get("min_score") for r in rows],
            [None if r.get("avg_score") is None else round(r["avg_score"], 1) for r in rows],
            [r.get("max_score") for r in rows])


def scores_note(snap: dict[str, Any] | None, lang: str, min_cell: int) -> str:
    """Under the scores chart: each province with admitted candidates but no score, and why
    ("湖北：少于3人，不显示"); empty when every one shows its scores."""
    sep, colon = ("；", "：") if lang == "zh" else ("; ", ": ")
    return sep.join(f"{name_of(r, lang)}{colon}{hidden_reason(r, lang, min_cell)}"
                    for r in section(snap).get("by_province") or []
                    if r.get("admitted") and r.get("avg_score") is None)


SCORES = ("score_min", "score_avg", "score_max")


def scores_figure(snap: dict[str, Any] | None, theme: str, lang: str) -> dict[str, Any]:
    """Lowest, average and highest score by province; a province's span and marker lead to its
    scores in /explore (the same small-cell rule hides the same ones there)."""
    names = (t("enroll.score_min", lang), t("enroll.score_avg", lang), t("enroll.score_max", lang))
    fig = ranges(*score_data(snap, lang), names=names, theme=theme)
    hrefs = [link(snap, SCORES, lang, province=str(r.get("province")))
             for r in section(snap).get("by_province") or [] if r.get("admitted")]
    for trace in fig["data"]:
        trace.update(points(hrefs))
    layout = fig["layout"]  # every province named under its span, none skipped
    layout.update(margin={**layout["margin"], "t": 22})
    layout["legend"] = {**layout["legend"], "font": {"size": 12}}
    layout["yaxis"]["nticks"] = 4
    tiles.province_axis(layout, score_data(snap, lang)[0], lang, theme)
    return fig


def season_data(snap: dict[str, Any] | None) -> tuple[list[str], list[Any], list[Any]]:
    """Days of this season (July 1 – Sept 30): admitted so far this year (null ahead of
    today) and last year on the same day, both cumulative."""
    rows = section(snap).get("admitted_by_day") or []
    return [r["date"] for r in rows], [r.get("admitted") for r in rows], [r.get("last_year") for r in rows]


def season_figure(snap: dict[str, Any] | None, theme: str, lang: str) -> dict[str, Any]:
    """Admitted so far, day by day, this season and last; a day of this season leads to the
    admitted as of that day."""
    x, now, last = season_data(snap)
    fig = lines(x, {t("enroll.this_year", lang): now, t("enroll.last_year", lang): last}, theme=theme,
                area=True)
    year = section(snap).get("year")
    if year and read.may_drill():
        fig["data"][0].update(per_bucket("enrollment", "admitted", "day", lang=lang,
                                         filters={"year": str(year)}))
    fig["data"][1]["line"] = {**fig["data"][1]["line"], "dash": "dot", "width": 2}
    layout = fig["layout"]
    layout["xaxis"] = {**layout["xaxis"], "type": "date", "tickformat": "%m-%d", "nticks": 5,
                       "fixedrange": True}
    layout["yaxis"] = {**layout["yaxis"], "rangemode": "tozero", "tickformat": "~s", "fixedrange": True}
    layout["legend"] = {**layout["legend"], "x": 0, "y": 1.0, "yanchor": "bottom"}
    layout["margin"] = {"l": 48, "r": 12, "t": 30, "b": 30}
    return fig


def funnel_values(snap: dict[str, Any] | None) -> list[int]:
    """Students who reached at least each step (the snapshot counts each at its furthest)."""
    furthest = section(snap).get("checkin") or {}
    counts = [int(furthest.get(s) or 0) for s in STEPS]
    return [sum(counts[i:]) for i in range(len(STEPS))]


def checkin_figure(snap: dict[str, Any] | None, theme: str, lang: str) -> dict[str, Any]:
    return funnel([t(f"enroll.step_{s}", lang) for s in STEPS], funnel_values(snap), theme=theme)


def checkin_days_figure(snap: dict[str, Any] | None, theme: str, lang: str) -> dict[str, Any]:
    """Students who had reached arrival and registration by each day of September."""
    rows = section(snap).get("checkin_by_day") or []
    fig = lines([r["date"] for r in rows],
                {t(f"enroll.step_{s}", lang): [r.get(s) for r in rows] for s in ("arrived", "registered")},
                theme=theme)
    layout = fig["layout"]
    layout["xaxis"] = {**layout["xaxis"], "type": "date", "tickformat": "%m-%d", "nticks": 4,
                       "fixedrange": True}
    layout["yaxis"] = {**layout["yaxis"], "rangemode": "tozero", "tickformat": "~s", "nticks": 4,
                       "fixedrange": True}
    layout["legend"] = {**layout["legend"], "x": 0, "y": 1.0, "yanchor": "bottom", "font": {"size": 12}}
    layout["margin"] = {"l": 40, "r": 8, "t": 26, "b": 26}
    return fig


def major_rows(snap: dict[str, Any] | None, lang: str) -> list[RankRow]:
    return [RankRow(str(r.get("major")), name_of(r, lang), r.get("admitted") or 0,
                    href=link(snap, "admitted", lang, major=str(r.get("major"))))
            for r in section(snap).get("by_major") or [] if r.get("admitted")]


def province_rows(snap: dict[str, Any] | None, lang: str) -> list[RankRow]:
    return [RankRow(str(r.get("province")), name_of(r, lang), r.get("admitted") or 0,
                    href=link(snap, "admitted", lang, province=str(r.get("province"))))
            for r in section(snap).get("by_province") or [] if r.get("admitted")]


def province_links(snap: dict[str, Any] | None, lang: str) -> dict[str, str | None]:
    """Each province with a plan → its plan, admitted and completion in /explore."""
    return {str(r.get("province")): link(snap, FILL, lang, province=str(r.get("province")))
            for r in section(snap).get("by_province") or []}


def export_link(year: Any, lang: str) -> html.A:
    """The "导出 Excel" link: the breakdown (province, batch, category, college, major) of the
    year on screen, in the page's language, straight from the export route — a plain
    download link, no callback, so it works while the page is busy and costs the wall nothing
    until someone clicks it. A replayed page (``?at=``) links to its year's current figures."""
    query = (f"year={year}&" if year else "") + f"lang={lang}&format=xlsx"
    return html.A(t("export.link", lang), href=f"{EXPORT_URL}?{query}", download="", id=f"{PAGE}-export",
                  className="pes-export", title=t("export.link_title", lang))


def exact_links(year: Any, lang: str) -> list[html.A]:
    """The admissions office's links: the exact file and the exact figures' page."""
    query = (f"year={year}&" if year else "") + f"lang={lang}"
    return [
        html.A(t("export.exact_link", lang), href=f"{EXACT_EXPORT_URL}?{query}&format=xlsx", download="",
               id=f"{PAGE}-export-exact", className="pes-export", title=t("export.exact_link_title", lang)),
        html.A(t("enroll.exact_link", lang), href=f"{EXACT_PATH}?{query}", id=f"{PAGE}-exact",
               className="pes-export", title=t("enroll.exact_link_title", lang)),
    ]


def actions(year: Any, lang: str) -> html.Span | None:
    """The links of the KPI tile's title row that the viewer may follow."""
    links = [export_link(year, lang)] if read.may("export") else []
    if read.may("exact_cells"):
        links += exact_links(year, lang)
    return html.Span(links, className="pes-actions") if links else None


def map_legend(theme: str, lang: str) -> html.Div:
    """The colour scale under the map: what 0 % and 100 % look like, and "no plan"."""
    return html.Div([
        html.Span("0%", className="pes-legend-end"),
        html.Span(className="pes-legend-bar", style={"background": legend_stops(theme)}),
        html.Span("100%", className="pes-legend-end"),
        html.Span(className="pes-legend-none"),
        html.Span(t("enroll.no_plan", lang), className="pes-legend-end"),
    ], className="pes-legend")


def layout(lang: str | None = None, theme: str | None = None, fit: str | None = None,
           at: str | None = None, screen: str | None = None, **_query: Any) -> html.Div:
    lang, theme, fit = options(lang, theme, fit, read.display())
    snap = read.snapshot_for(at)
    enr = section(snap)
    min_cell = read.min_cell()
    people = t("unit.persons", lang)
    empty = t("status.no_data", lang)
    kpis = html.Div([
        kpi(t("enrollment.plan", lang), "enrollment.plan", unit=people, href=link(snap, "planned", lang)),
        kpi(t("enrollment.admitted", lang), "enrollment.admitted", unit=people,
            href=link(snap, "admitted", lang)),
        kpi(t("enrollment.completion", lang), "enrollment.completion", "ratio",
            href=link(snap, "completion", lang)),
        kpi(t("enroll.registered", lang), "enrollment.checkin.registered", unit=people,
            href=link(snap, "registered", lang)),
    ], className="pes-kpi-row", style={"--pes-kpis": "4"})
    kpi_title = [bound("enrollment.year", "plain", initial=str(enr.get("year") or "—"), cls="pes-year"),
                 " ", t("enroll.kpis", lang)]
    map_box = html.Div([
        html.Div([graph(PAGE, "map", china_map(enr.get("by_province"), theme=theme, lang=lang,
                                               min_cell=min_cell, hrefs=province_links(snap, lang))),
                  map_legend(theme, lang)], className="pes-map"),
        html.Div([html.H3(t("enroll.map_top", lang), className="pes-sub-title"),
                  ranking(PAGE, "provinces", province_rows(snap, lang), lang=lang, limit=TOP_PROVINCES,
                          slots=TOP_PROVINCES, empty=empty)], className="pes-map-side"),
    ], className="pes-map-box")
    checkin = html.Div([
        html.Div(graph(PAGE, "checkin", checkin_figure(snap, theme, lang)), className="pes-chart"),
        html.Div(graph(PAGE, "checkin_days", checkin_days_figure(snap, theme, lang)), className="pes-chart"),
    ], className="pes-pair")

    def chart(name: str, figure: dict[str, Any]) -> html.Div:
        return html.Div(graph(PAGE, name, figure), className="pes-chart")

    # in reading order for the tablet, where tiles flow; the wall places each by its class
    body = html.Div([
        tile(kpi_title, kpis, cls="pes-enr-kpis", lang=lang,  # type: ignore[arg-type]  # a title with the year
             action=actions(enr.get("year"), lang)),
        tile(t("enroll.map", lang), map_box, cls="pes-enr-map", lang=lang),
        tile(t("enroll.top_majors", lang),
             ranking(PAGE, "majors", major_rows(snap, lang), lang=lang, limit=TOP_MAJORS, slots=TOP_MAJORS,
                     empty=empty), cls="pes-enr-majors", lang=lang),
        tile(t("enroll.by_batch", lang),
             chart("batch", progress_figure(snap, "by_batch", "batch", theme, lang)),
             cls="pes-enr-batch", lang=lang),
        tile(t("enroll.by_category", lang),
             chart("category", progress_figure(snap, "by_category", "category", theme, lang, "#2eb67d")),
             cls="pes-enr-category", lang=lang),
        tile(t("enroll.season", lang), chart("season", season_figure(snap, theme, lang)),
             cls="pes-enr-season", lang=lang),
        tile(t("enroll.scores", lang),
             [chart("scores", scores_figure(snap, theme, lang)),
              html.Div(scores_note(snap, lang, min_cell), id=SCORES_NOTE, className="pes-note")],
             cls="pes-enr-scores", lang=lang),
        tile(t("enroll.checkin", lang), checkin, cls="pes-enr-checkin", lang=lang),
        tile(t("notices.tile", lang), tiles.notices_tile_body(snap, theme, lang), cls="pes-enr-notices",
             lang=lang, action=tiles.notices_actions(lang)),
        tile(t("margin.tile", lang), tiles.margin_tile_body(snap, lang), cls="pes-enr-margin", lang=lang,
             action=tiles.margin_actions(lang)),
        *LIVE.stores(snap, View(lang, theme, at)),
    ], className="pes-grid pes-enrollment")
    settings = read.settings()
    return frame(PAGE, "enroll.title", body, lang=lang, theme=theme, fit=fit,
                 at=at, at_valid=read.at_is_valid(at), **read.viewer(),
                 zone=settings.zone.key)


def _values(build: Callable[[dict[str, Any] | None, str, str], dict[str, Any]],
            layout_paths: tuple[tuple[str, ...], ...] = ()) -> Callable[[Any, View], Any]:
    """A figure's part: rebuilt with its layout-time builder, only its arrays (and the listed
    layout entries) copied into a Patch."""
    return lambda snap, view: copy_values(Patch(), build(snap, view.theme, view.lang),
                                          layout_paths=layout_paths)


def _map_patch(snap: dict[str, Any] | None, view: View) -> Any:
    return china_map_patch(section(snap).get("by_province"), theme=view.theme, lang=view.lang,
                           min_cell=read.min_cell(), hrefs=province_links(snap, view.lang))


def _board(rows: Callable[[dict[str, Any] | None, str], list[RankRow]],
           limit: int) -> Callable[[Any, View], Any]:
    return lambda snap, view: ranking_rows(rows(snap, view.lang), lang=view.lang, limit=limit,
                                           empty=t("status.no_data", view.lang))


def _part(name: str, render: Callable[[Any, View], Any]) -> Part:
    output = ids.ranking(PAGE, name) if name in BOARDS else ids.graph(PAGE, name)
    return Part(name, output, "children" if name in BOARDS else "figure", (f"enrollment.{SOURCES[name]}",),
                render)


#: only what changed travels (the snapshot's version also moves with the other domains, and
#: admissions change seldom), and only values: province colours, bar lengths and labels,
#: curve points, board rows
LIVE = live_parts(PAGE, [
    _part("map", _map_patch),
    _part("batch", _values(lambda snap, theme, lang: progress_figure(snap, "by_batch", "batch", theme, lang),
                           PROGRESS_AXES)),
    _part("category", _values(lambda snap, theme, lang: progress_figure(snap, "by_category", "category",
                                                                        theme, lang), PROGRESS_AXES)),
    _part("scores", _values(scores_figure, tiles.PROVINCE_AXIS)),
    _part("season", _values(season_figure)),
    _part("checkin", _values(checkin_figure)),
    _part("checkin_days", _values(checkin_days_figure)),
    _part("provinces", _board(province_rows, TOP_PROVINCES)),
    _part("majors", _board(major_rows, TOP_MAJORS)),
    Part("scores_note", SCORES_NOTE, "children", under("enrollment", "by_province"),
         lambda snap, view: scores_note(snap, view.lang, read.min_cell())),
    # the notice funnel and the margin tile (pages/_enrollment/tiles.py)
    Part("notices", ids.graph(PAGE, "notices"), "figure", ("enrollment.notices.funnel",),
         _values(tiles.funnel_figure)),
    Part("notice_provinces", ids.graph(PAGE, "notice_provinces"), "figure",
         ("enrollment.notices.by_province",), _values(tiles.provinces_figure, tiles.PROVINCE_AXIS)),
    Part("margin_rows", tiles.MARGIN_ROWS, "children", under("enrollment", "quality"),
         lambda snap, view: tiles.margin_rows(snap, view.lang)),
], read_snapshot=lambda at: read.snapshot_for(at))


# --------------------------------------------------------------------------- exact figures


def _score(value: Any) -> str:
    return "—" if value is None else f"{value:.1f}"


def exact_table(rows: list[dict[str, Any]], dim: str, lang: str, min_cell: int) -> html.Div:
    """One breakdown with every score, small groups marked (the rows the snapshot hides)."""
    def label(r: dict[str, Any]) -> str:
        if dim in ("batch", "category"):
            return code_label("batch" if dim == "batch" else "cat", str(r.get(dim)), lang)
        if dim in ("province", "major"):
            return f"{name_of(r, lang)} ({r.get(dim)})"
        return str(r.get(dim))

    head = [t("exact.group", lang), t("export.col_plan", lang), t("export.col_admitted", lang),
            t("export.col_min_score", lang), t("export.col_avg_score", lang), t("export.col_max_score", lang),
            t("exact.small", lang)]
    body = [[label(r), f"{r.get('plan') or 0:,}", f"{r.get('admitted') or 0:,}", _score(r.get("min_score")),
             _score(r.get("avg_score")), _score(r.get("max_score")),
             t("exact.small_mark", lang).replace("{n}", str(min_cell))
             if 0 < int(r.get("admitted") or 0) < min_cell else ""]
            for r in rows]
    return table(head, body, widths=[30, 10, 10, 10, 10, 10, 20], numeric=(1, 2, 3, 4, 5),
                 empty=t("status.no_data", lang))


def _year(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and 2000 <= int(raw) <= 2100 else None


def exact_layout(lang: str | None = None, theme: str | None = None, fit: str | None = None,
                 year: str | None = None, **_query: Any) -> html.Div:
    """``/enrollment/exact``: the admissions office's exact figures, computed from the store
    at each opening (one audit row each; nothing on this page polls the store)."""
    lang, theme, fit = options(lang, theme, fit, read.display())
    min_cell = read.min_cell()
    figures = read.exact_enrollment(_year(year)) if read.may("exact_cells") else None
    notice = html.P(t("exact.notice", lang).replace("{n}", str(min_cell)), className="pes-note")
    if figures is None:
        body = html.Div([notice, html.P(t("exact.unavailable", lang))], className="pes-exact")
    else:
        body = html.Div([
            notice,
            html.H2(t("exact.year", lang).replace("{year}", str(figures["year"])), className="pes-sub-title"),
            *(tile(t(f"exact.{key}", lang), exact_table(figures[key], dim, lang, min_cell), lang=lang)
              for key, dim in (("by_province", "province"), ("by_batch", "batch"),
                               ("by_category", "category"), ("by_major", "major"))),
        ], className="pes-exact")
    return frame("enrollment_exact", "exact.title", body, lang=lang, theme=theme, fit=fit, flow=True,
                 **read.viewer(), zone=read.settings().zone.key)


dash.register_page("pages.enrollment_exact", path=EXACT_PATH, name="enrollment_exact", title="IOC",
                   layout=exact_layout, wall=False)
