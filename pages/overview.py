"""Overview cockpit (运营总览) as a Python page, at ``/overview/classic``: ``/`` shows the same
cockpit written as a board (``boards/overview.toml``, ``pages/boards.py``); this page is kept
beside it, out of the navigation, as the reference the board is compared with figure by figure,
and for the figures' links into /explore that the board does not draw.

Numbers are bound to snapshot paths and written by the browser; the last hour's gate curve,
the link chart and the alert ticker are the page's live parts (``layouts.parts``): redrawn
only when the snapshot paths they are drawn from change, and only their values travel.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Patch, html

from ioc_app import read
from layouts import ids
from layouts.charts import bar_h, count_tile, lines
from layouts.drill import explore_href, per_bucket, season_href
from layouts.i18n import t
from layouts.live import frame, graph, kpi, options, tile
from layouts.parts import Part, Trace, View, chart, live_parts, path, under

dash.register_page(__name__, path="/overview/classic", name="overview_classic", order=90, title="IOC")

PAGE = "overview"
SEVERITIES = ("critical", "high", "medium", "low")
ALERTS = f"{PAGE}-alerts"
#: the last hour's entries and exits, drawn by the browser from the snapshot it holds
LAST_HOUR = tuple(Trace(path("gate", "last_60m"), "minute", (key,), x_fmt="local", drop_last=True)
                  for key in ("in", "out"))


def link(domain: str, measures: str, lang: str, at: str | None, **question: Any) -> str | None:
    """A figure's breakdown in /explore (``layouts.drill``): today's, or the ``question``'s;
    None where the viewer follows no links (a paired wall screen)."""
    if not read.may_drill():
        return None
    return explore_href(domain, measures, question.pop("grain", "day"), at=at, lang=lang, **question)


def link_bars(snap: dict[str, Any] | None, lang: str) -> tuple[list[str], list[float]]:
    """Each egress link by its catalogue name (a leader reads 中国教育网, not ``cernet``)."""
    names = read.names()
    links = (snap or {}).get("network", {}).get("links", [])
    return ([names.label("link", lk["link_id"], lang) for lk in links],
            [lk.get("utilization") or 0 for lk in links])


def links_figure(snap: dict[str, Any] | None, theme: str, lang: str) -> dict[str, Any]:
    labels, values = link_bars(snap, lang)
    fig = bar_h(labels, values, theme=theme, ratio=True, max_value=1.0, title=t("network.utilization", lang))
    fig["layout"]["yaxis"] = {**fig["layout"].get("yaxis", {}), "automargin": True}
    return fig


def last_hour(snap: dict[str, Any] | None) -> tuple[list[str], list[int], list[int]]:
    """The last 60 whole minutes of entries and exits, in wall time (the current, partial minute
    is left out: it would draw a dip that reads as traffic collapsing)."""
    (x, ins), (_x, outs) = (trace.series(snap) for trace in LAST_HOUR)
    return x, ins, outs


def last_hour_figure(snap: dict[str, Any] | None, theme: str, lang: str,
                     at: str | None = None) -> dict[str, Any]:
    """Entries and exits per minute over the last hour; each point leads to its minute."""
    x, ins, outs = last_hour(snap)
    fig = lines(x, {t("gates.in", lang): ins, t("gates.out", lang): outs}, theme=theme, area=True)
    if read.may_drill():
        for trace, measure in zip(fig["data"], ("in", "out"), strict=True):
            trace.update(per_bucket("gate", measure, "minute", lang=lang, at=at))
    return count_tile(fig, {"type": "date", "tickformat": "%H:%M", "nticks": 5})


def alert_items(snap: dict[str, Any] | None, lang: str) -> list[Any]:
    alerts = (snap or {}).get("alerts", [])
    if not alerts:
        return [html.Li(t("alerts.none", lang), className="ioc-alert ioc-alert-none")]
    key = "title_zh" if lang == "zh" else "title_en"
    return [html.Li([html.Span(t(f"severity.{a['severity']}", lang), className="ioc-alert-sev"),
                     html.Span(a[key], className="ioc-alert-title"),
                     html.Span(str(a.get("since", ""))[11:16], className="ioc-alert-since")],
                    className=f"ioc-alert ioc-alert-{a['severity']}") for a in alerts[:8]]


def layout(lang: str | None = None, theme: str | None = None, fit: str | None = None,
           at: str | None = None, screen: str | None = None, **_query: Any) -> html.Div:
    lang, theme, fit = options(lang, theme, fit, read.display())
    snap = read.snapshot_for(at)
    year = ((snap or {}).get("enrollment") or {}).get("year")

    def gate(measure: str) -> str | None:
        return link("gate", measure, lang, at)

    def service(measure: str) -> str | None:
        return link("service", measure, lang, at)

    def season(measure: str) -> str | None:
        return (season_href(measure, year, lang=lang, as_of=(snap or {}).get("generated_at"))
                if read.may_drill() else None)

    body = [
        tile(t("gate.section", lang), html.Div([html.Div([
            kpi(t("gate.in", lang), "gate.today.in", unit=t("unit.people", lang), href=gate("in")),
            kpi(t("gate.out", lang), "gate.today.out", unit=t("unit.people", lang), href=gate("out")),
            kpi(t("gate.net_inflow", lang), "gate.today.net_inflow", "signed", t("unit.people", lang),
                href=gate("net_inflow")),
            kpi(t("gate.denied", lang), "gate.today.denied", unit=t("unit.attempts", lang),
                href=gate("denied")),
            kpi(t("gate.deny_rate", lang), "gate.today.deny_rate", "ratio", href=gate("deny_rate")),
            kpi(t("gate.fever", lang), "gate.today.fever", unit=t("unit.attempts", lang), href=gate("fever")),
        ], className="ioc-kpi-grid"),
            html.Div(graph(PAGE, "last-hour", last_hour_figure(snap, theme, lang, at)),
                     className="ioc-chart-box", title=t("gates.last_hour", lang)),
        ], className="ioc-stack"), stream="gate.pass", cls="ioc-span-4", lang=lang),
        tile(t("network.section", lang), html.Div([
            html.Div([
                kpi(t("network.peak_utilization", lang), "network.peak_utilization", "ratio"),
                kpi(t("network.users", lang), "network.online.users", unit=t("unit.persons", lang)),
                kpi(t("network.ipv6_share", lang), "network.online.ipv6_share", "ratio"),
            ], className="ioc-kpi-row"),
            html.Div(graph(PAGE, "links", links_figure(snap, theme, lang)), className="ioc-chart-box"),
        ], className="ioc-stack"), stream="network.link", amber_s=120, red_s=300,
            cls="ioc-span-4", lang=lang),
        tile(t("security.section", lang), html.Div(
            [kpi(t(f"severity.{s}", lang), f"network.security.open_by_severity.{s}") for s in SEVERITIES]
            + [kpi(t("security.open", lang), "network.security.open"),
               kpi(t("security.today", lang), "network.security.today.high",
                   href=link("network", "incidents", lang, at, filters={"severity": "high"}))],
            className="ioc-kpi-grid"), stream="network.security", amber_s=86_400, red_s=3 * 86_400,
            cls="ioc-span-4", lang=lang),
        tile(t("service.section", lang), html.Div([
            kpi(t("service.submitted", lang), "service.today.submitted", unit=t("unit.cases", lang),
                href=service("submitted")),
            kpi(t("service.completed", lang), "service.today.completed", unit=t("unit.cases", lang),
                href=service("completed")),
            kpi(t("service.backlog", lang), "service.backlog", unit=t("unit.cases", lang)),
            kpi(t("service.calls_answer_rate", lang), "service.calls.today.answer_rate", "ratio",
                href=service("answer_rate")),
        ], className="ioc-kpi-grid"), stream="service.workflow", amber_s=3600, red_s=6 * 3600,
            cls="ioc-span-4", lang=lang),
        tile(t("enrollment.section", lang), html.Div([
            kpi(t("enrollment.year", lang), "enrollment.year", "plain"),
            kpi(t("enrollment.plan", lang), "enrollment.plan", unit=t("unit.persons", lang),
                href=season("planned")),
            kpi(t("enrollment.admitted", lang), "enrollment.admitted", unit=t("unit.persons", lang),
                href=season("admitted")),
            kpi(t("enrollment.completion", lang), "enrollment.completion", "ratio",
                href=season("completion")),
        ], className="ioc-kpi-grid"), cls="ioc-span-4", lang=lang),
        tile(t("alerts.section", lang), html.Ul(alert_items(snap, lang), id=ALERTS,
                                                 className="ioc-alerts"), cls="ioc-span-4", lang=lang),
        *LIVE.stores(snap, View(lang, theme, at)),
    ]
    settings = read.settings()
    return frame(PAGE, "overview.title", body, lang=lang, theme=theme, fit=fit,
                 at=at, at_valid=read.at_is_valid(at), **read.viewer(),
                 zone=settings.zone.key)


def links_patch(snap: dict[str, Any] | None, view: View) -> Patch:
    labels, values = link_bars(snap, view.lang)
    bars = Patch()
    bars["data"][0]["y"] = labels
    bars["data"][0]["x"] = values
    return bars


LIVE = live_parts(PAGE, [
    chart("last_hour", ids.graph(PAGE, "last-hour"), *LAST_HOUR),
    Part("links", ids.graph(PAGE, "links"), "figure", under("network", "links"), links_patch),
    Part("alerts", ALERTS, "children", ("alerts",), lambda snap, view: alert_items(snap, view.lang)),
], read_snapshot=lambda at: read.snapshot_for(at))
