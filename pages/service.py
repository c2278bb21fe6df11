"""Service hall cockpit (网上办事大厅运行): what the hall handles today, how fast, and what waits.

The day's top 20 services, cases by hour against a typical day (the same weekday of the four
weeks before), the backlog and where it sits, handling times, the self-service printers and
the hotline. Numbers are bound to snapshot paths and written by the browser; the boards and
charts are built from the snapshot at layout time; they are the page's live parts
(``layouts.parts``), redrawn only when the snapshot paths they are drawn from change.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Patch, html

from ioc_app import read
from layouts import ids
from layouts.charts import combo, copy_values
from layouts.drill import LINK_CLASS, bucket, explore_href, points
from layouts.i18n import t
from layouts.live import bound, frame, graph, kpi, options, tile
from layouts.parts import Part, View, live_parts, under
from layouts.ranking import RankRow, ranking, ranking_rows

dash.register_page(__name__, path="/service", name="service", order=4, title="IOC")

PAGE = "service"
#: the hall's streams, for each tile's data age
STREAMS = {part: f"service.{part}" for part in ("workflow", "print", "call")}
TOP = 20
#: today's bars, then the typical day's dotted lines in a tint of the same hue that stands out on the theme
HOURLY_COLORS = {"dark": ("#36c5f0", "#2eb67d", "#a5eaff", "#9af0c4"),
                 "light": ("#36c5f0", "#2eb67d", "#075985", "#166534")}
DEPARTMENTS = 8


def link(measure: str, lang: str, at: str | None, grain: str = "day", **question: Any) -> str | None:
    """A hall figure's breakdown in /explore (``layouts.drill``): today's unless a bucket is
    given; None where the viewer follows no links (a paired wall screen). The backlog and the
    handling times are states of the cases, not counts of events: they have no link."""
    if not read.may_drill():
        return None
    return explore_href("service", measure, grain, at=at, lang=lang, **question)


def section(snap: dict[str, Any] | None) -> dict[str, Any]:
    """The snapshot's service section ({} before the first snapshot)."""
    return (snap or {}).get("service") or {}


def top_rows(snap: dict[str, Any] | None, lang: str, at: str | None = None) -> list[RankRow]:
    """Today's most requested services; each row links to its submissions today."""
    key = "name" if lang == "zh" else "name_en"
    return [RankRow(str(r["service_id"]), str(r.get(key) or r.get("name") or r["service_id"]),
                    r.get("submitted") or 0,
                    href=link("submitted", lang, at, filters={"service_id": str(r["service_id"])}))
            for r in section(snap).get("top_services") or []]


def department_rows(snap: dict[str, Any] | None, lang: str, at: str | None = None) -> list[RankRow]:
    """Departments by open backlog (a state of the cases: no breakdown in /explore)."""
    key = "name" if lang == "zh" else "name_en"
    return [RankRow(str(r["department"]), str(r.get(key) or r.get("name") or r["department"]),
                    r.get("backlog") or 0) for r in section(snap).get("backlog_by_department") or []]


def hourly(snap: dict[str, Any] | None) -> list[dict[str, Any]]:
    return section(snap).get("hourly") or []


def hour_labels(rows: list[dict[str, Any]]) -> list[str]:
    """``2026-03-01T08:00:00+08:00`` → ``08:00``: the wall clock hour, as a category."""
    return [str(r["hour"])[11:16] for r in rows]


def hour_links(rows: list[dict[str, Any]], measure: str, lang: str, at: str | None) -> list[str | None]:
    """Each hour's bar of ``measure`` → that hour in /explore (hours still to come: none)."""
    def one(row: dict[str, Any]) -> str | None:
        if row.get(measure) is None:
            return None
        start, end = bucket(str(row["hour"]), "hour")
        return link(measure, lang, at, "hour", start=start, end=end)
    return [one(r) for r in rows]


def hourly_figure(snap: dict[str, Any] | None, theme: str, lang: str,
                  at: str | None = None) -> dict[str, Any]:
    """Today's submissions and completions per hour as bars (the current hour's bar grows, it
    does not read as a collapse) under the typical day's dotted lines; a bar links to its hour."""
    rows = hourly(snap)

    def series(*names: str) -> dict[str, list[Any]]:
        return {t(f"svc.{s}", lang): [r.get(s) for r in rows] for s in names}

    fig = combo(hour_labels(rows), series("submitted", "completed"),
                series("typical_submitted", "typical_completed"), theme=theme,
                colors=list(HOURLY_COLORS.get(theme, HOURLY_COLORS["dark"])), dash="dot", tick_every=3)
    for trace, measure in zip(fig["data"], ("submitted", "completed"), strict=False):
        trace.update(points(hour_links(rows, measure, lang, at)))
    return fig


def calls_figure(snap: dict[str, Any] | None, theme: str, lang: str, at: str | None = None) -> dict[str, Any]:
    """Calls per hour and the share answered (right axis); a bar links to its hour's calls."""
    rows = hourly(snap)
    fig = combo(hour_labels(rows), {t("svc.calls", lang): [r.get("calls") for r in rows]},
                {t("svc.answer_rate", lang): [r.get("answer_rate") for r in rows]}, theme=theme,
                colors=["#36c5f0", "#ecb22e"], right_axis=True, line_format=".0%", line_range=[0, 1.12],
                line_ticks=[0, 0.5, 1], tick_every=4)
    fig["data"][0].update(points(hour_links(rows, "calls", lang, at)))
    return fig


def figure(label: str, path: str, fmt: str = "count", unit: str = "", cls: str = "",
           href: str | None = None) -> Any:
    """A labelled bound number, smaller than a KPI card, for tiles that hold several; with
    ``href`` the whole figure links to its breakdown."""
    children = [
        html.Div(label, className="pes-figure-label"),
        html.Div([bound(path, fmt, cls="pes-figure-value"),
                  html.Span(unit, className="pes-figure-unit") if unit else None]),
    ]
    if href:
        return html.A(children, href=href, className=f"pes-figure {LINK_CLASS} {cls}".strip())
    return html.Div(children, className=f"pes-figure {cls}".strip())


def layout(lang: str | None = None, theme: str | None = None, fit: str | None = None,
           at: str | None = None, screen: str | None = None, **_query: Any) -> html.Div:
    lang, theme, fit = options(lang, theme, fit, read.display())
    snap = read.snapshot_for(at)
    cases, minutes = t("unit.cases", lang), t("unit.minutes", lang)
    empty = t("status.no_data", lang)

    def today(measure: str) -> str | None:
        return link(measure, lang, at)

    kpis = html.Div([
        kpi(t("svc.submitted", lang), "service.today.submitted", unit=cases, href=today("submitted")),
        kpi(t("svc.completed", lang), "service.today.completed", unit=cases, href=today("completed")),
        kpi(t("svc.rejected", lang), "service.today.rejected", unit=cases, href=today("rejected")),
        kpi(t("service.backlog", lang), "service.backlog", unit=cases),
        kpi(t("service.calls_answer_rate", lang), "service.calls.today.answer_rate", "ratio",
            href=today("answer_rate")),
    ], className="pes-kpi-row")
    handling = html.Div([
        figure(t("svc.handling_avg", lang), "service.handling_minutes.avg", "minutes", minutes),
        figure(t("svc.handling_p90", lang), "service.handling_minutes.p90", "minutes", minutes),
        figure(t("svc.handling_cases", lang), "service.handling_minutes.cases", unit=cases),
    ], className="pes-figures pes-figures-col")
    printing = html.Div([
        figure(t("svc.print_jobs", lang), "service.print.today.jobs", unit=t("unit.jobs", lang),
               href=today("print_jobs")),
        figure(t("svc.print_pages", lang), "service.print.today.pages", unit=t("unit.pages", lang),
               href=today("print_pages")),
        figure(t("svc.print_failed", lang), "service.print.today.failed", unit=t("unit.jobs", lang),
               cls="pes-warn", href=today("print_failed")),
    ], className="pes-figures pes-figures-col")
    hotline = html.Div([
        html.Div([
            figure(t("svc.calls", lang), "service.calls.today.calls", unit=t("unit.calls", lang),
                   href=today("calls")),
            figure(t("svc.answered", lang), "service.calls.today.answered", unit=t("unit.calls", lang),
                   href=today("calls_answered")),
            figure(t("svc.avg_wait", lang), "service.calls.today.avg_wait_s", "decimal",
                   t("unit.seconds", lang), href=today("wait_s_avg")),
        ], className="pes-figures", style={"--pes-cols": "3"}),
        html.Div(graph(PAGE, "calls", calls_figure(snap, theme, lang, at)), className="pes-chart"),
    ], className="pes-stack")
    body = html.Div([  # in reading order for the tablet, where tiles flow; the wall places each by class
        tile(t("svc.kpis", lang), kpis, stream=STREAMS["workflow"], amber_s=3600, red_s=6 * 3600,
             cls="pes-svc-kpis", lang=lang),
        tile(t("svc.hourly", lang), html.Div(graph(PAGE, "hourly", hourly_figure(snap, theme, lang, at)),
                                             className="pes-chart"), cls="pes-svc-hourly", lang=lang),
        tile(t("svc.handling", lang), handling, cls="pes-svc-handling", lang=lang),
        tile(t("svc.print", lang), printing, stream=STREAMS["print"], amber_s=3600, red_s=6 * 3600,
             cls="pes-svc-print", lang=lang),
        tile(t("svc.hotline", lang), hotline, stream=STREAMS["call"], amber_s=1800, red_s=4 * 3600,
             cls="pes-svc-hotline", lang=lang),
        tile(t("svc.top", lang), html.Div(ranking(PAGE, "top", top_rows(snap, lang, at), lang=lang, limit=TOP,
                                                  slots=TOP, empty=empty), className="pes-top"),
             stream=STREAMS["workflow"], amber_s=3600, red_s=6 * 3600, cls="pes-svc-top", lang=lang),
        tile(t("svc.backlog_by_department", lang),
             ranking(PAGE, "departments", department_rows(snap, lang), lang=lang, limit=DEPARTMENTS,
                     slots=DEPARTMENTS, empty=empty), cls="pes-svc-backlog", lang=lang),
        *LIVE.stores(snap, View(lang, theme, at)),
    ], className="pes-grid pes-service")
    settings = read.settings()
    return frame(PAGE, "svc.title", body, lang=lang, theme=theme, fit=fit,
                 at=at, at_valid=read.at_is_valid(at), **read.viewer(),
                 zone=settings.zone.key)


def _rows(rows: Any, limit: int) -> Any:
    return lambda snap, view: ranking_rows(rows(snap, view.lang, view.at), lang=view.lang, limit=limit,
                                           empty=t("status.no_data", view.lang))


def _values(build: Any) -> Any:
    """A figure's part: rebuilt with its layout-time builder, only its arrays copied into a Patch."""
    return lambda snap, view: copy_values(Patch(), build(snap, view.theme, view.lang, view.at))


#: only the parts that changed travel, and of those only board rows and chart points; the
#: figures' layout stays in the browser
LIVE = live_parts(PAGE, [
    Part("top", ids.ranking(PAGE, "top"), "children", under("service", "top_services"), _rows(top_rows, TOP)),
    Part("departments", ids.ranking(PAGE, "departments"), "children",
         under("service", "backlog_by_department"), _rows(department_rows, DEPARTMENTS)),
    Part("hourly", ids.graph(PAGE, "hourly"), "figure", under("service", "hourly"), _values(hourly_figure)),
    Part("calls", ids.graph(PAGE, "calls"), "figure", under("service", "hourly"), _values(calls_figure)),
], read_snapshot=lambda at: read.snapshot_for(at))
