"""Gate cockpit (校园门禁): who comes and goes, where, when, and what is refused.

Numbers (today's totals, the same-time comparison with other days) are bound to snapshot
paths and written by the browser. Charts and the gate ranking are built from the snapshot
at layout time; they are the page's live parts (``layouts.parts``), redrawn only when the
snapshot paths they are drawn from change: only data arrays travel, the figures' layout stays
in the browser.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Patch, html

from ioc_app import read
from layouts import ids
from layouts.charts import PALETTE, bar_h, donut, lines
from layouts.drill import bucket, explore_href, per_bucket, points
from layouts.heatmap import grid_values, heatmap
from layouts.i18n import t
from layouts.live import bound, frame, graph, kpi, options, tile
from layouts.parts import Part, Trace, View, chart, live_parts, path, under
from layouts.ranking import RankRow, ranking, ranking_rows

dash.register_page(__name__, path="/gates", name="gates", order=1, title="IOC")

PAGE = "gates"
PERIODS = ("today", "yesterday", "last_week", "last_year")
DENY_REASONS = ("unauthorized", "expired", "temperature", "blacklist", "unrecognized", "other")
PERSON_TYPES = ("student", "staff", "resident", "visitor", "contractor", "other")
STREAM = "gate.pass"
#: the curves of two days are drawn over one day so they overlay: times of day on a fixed date
DAY = "2000-01-01"
LABEL_MAX = 14
#: a count axis: from zero, whole numbers (a quiet hour must not read "200m" people)
COUNT_AXIS = {"rangemode": "tozero", "tickformat": "~s", "autorangeoptions": {"include": [0, 5]}}
#: the charts the browser draws by itself from the snapshot it holds: the last hour's entries
#: and exits, and today's passes per 10-minute slot over yesterday's
LAST_HOUR = tuple(Trace(path("gate", "last_60m"), "minute", (key,), x_fmt="local", drop_last=True)
                  for key in ("in", "out"))
CURVE = (Trace(path("gate", "today_curve"), "slot", ("in", "out"), x_fmt="time", x_prefix=f"{DAY} ",
               drop_last=True),
         Trace(path("gate", "yesterday_curve"), "slot", ("in", "out"), x_fmt="time", x_prefix=f"{DAY} "))


def link(measures: str, lang: str, at: str | None, grain: str = "day", **question: Any) -> str | None:
    """The breakdown of a gate figure in /explore (``layouts.drill``): today's unless a bucket
    is given; None where the viewer follows no links (a paired wall screen)."""
    if not read.may_drill():
        return None
    return explore_href("gate", measures, grain, at=at, lang=lang, **question)


def _gate(snap: dict[str, Any] | None) -> dict[str, Any]:
    return (snap or {}).get("gate") or {}


def _today(snap: dict[str, Any] | None) -> dict[str, Any]:
    return _gate(snap).get("today") or {}


def gate_name(code: str, lang: str) -> str:
    """A gate's catalogue name in the page's language (a code the catalogue lacks, marked)."""
    return read.names().label("gate", code, lang)


def short(label: str, limit: int = LABEL_MAX) -> str:
    """A chart axis label cut to fit: axes cannot ellipsise by themselves."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def last_hour_series(snap: dict[str, Any] | None) -> tuple[list[str], list[int], list[int]]:
    """The 60 whole minutes: the current minute is left out, its partial count would draw a
    dip at the right edge that reads as traffic collapsing."""
    (x, ins), (_x, outs) = (trace.series(snap) for trace in LAST_HOUR)
    return x, ins, outs


def last_hour_figure(snap: dict[str, Any] | None, theme: str, lang: str,
                     at: str | None = None) -> dict[str, Any]:
    """Entries and exits per minute over the last hour; each point leads to its minute."""
    x, ins, outs = last_hour_series(snap)
    fig = lines(x, {t("gates.in", lang): ins, t("gates.out", lang): outs}, theme=theme, area=True)
    if read.may_drill():
        for trace, measure in zip(fig["data"], ("in", "out"), strict=True):
            trace.update(per_bucket("gate", measure, "minute", lang=lang, at=at))
    fig["layout"]["xaxis"] = {**fig["layout"]["xaxis"], "type": "date", "tickformat": "%H:%M", "nticks": 7}
    fig["layout"]["yaxis"] = {**fig["layout"]["yaxis"], **COUNT_AXIS}
    fig["layout"]["legend"] = {**fig["layout"]["legend"], "x": 1, "xanchor": "right"}
    fig["layout"]["margin"] = {"l": 48, "r": 12, "t": 30, "b": 30}
    return fig


Series = tuple[list[str], list[int]]


def curve_series(snap: dict[str, Any] | None) -> tuple[Series, Series]:
    """Today's whole 10-minute slots (the current one is partial: left out, as on the hour
    chart) and all of yesterday's, on the same time-of-day axis."""
    today, yesterday = (trace.series(snap) for trace in CURVE)
    return today, yesterday


def curve_figure(snap: dict[str, Any] | None, theme: str, lang: str) -> dict[str, Any]:
    (tx, ty), (yx, yy) = curve_series(snap)
    fig = lines(tx, {t("gates.today", lang): ty, t("gates.yesterday", lang): yy}, theme=theme, area=True)
    fig["data"][1]["x"] = yx
    fig["data"][1]["line"] = {**fig["data"][1]["line"], "dash": "dot", "width": 2, "color": PALETTE[7]}
    fig["layout"]["xaxis"] = {**fig["layout"]["xaxis"], "type": "date", "tickformat": "%H:%M",
                              "range": [f"{DAY} 00:00", f"{DAY} 23:59"], "dtick": 4 * 3600 * 1000}
    fig["layout"]["yaxis"] = {**fig["layout"]["yaxis"], **COUNT_AXIS}
    fig["layout"]["legend"] = {**fig["layout"]["legend"], "x": 1, "xanchor": "right"}
    fig["layout"]["margin"] = {"l": 48, "r": 12, "t": 30, "b": 30}
    return fig


def gate_rows(snap: dict[str, Any] | None, lang: str, at: str | None = None) -> list[RankRow]:
    """Every gate with an attempt today, ranked by passes (in + out), bar split in / out; each
    row links to its passes today."""
    return [RankRow(g["gate_id"], gate_name(g["gate_id"], lang), g["in"] + g["out"],
                    (g["in"], g["out"]), link("passes", lang, at, filters={"gate_id": g["gate_id"]}))
            for g in _today(snap).get("by_gate") or []]


def deny_series(snap: dict[str, Any] | None, lang: str, at: str | None = None
                ) -> tuple[list[str], list[int], list[str | None]]:
    """Today's denials by reason, the most frequent first: labels, counts, and each bar's link."""
    rows = sorted(_today(snap).get("deny_reasons") or [], key=lambda r: -r["count"])
    return ([_reason(r["deny_reason"], lang) for r in rows], [r["count"] for r in rows],
            [link("denied", lang, at, filters={"deny_reason": r["deny_reason"]})
             if r["deny_reason"] in DENY_REASONS else None for r in rows])


def _reason(code: str | None, lang: str) -> str:
    if code in DENY_REASONS:
        return t(f"gates.reason_{code}", lang)
    return code or t("gates.reason_other", lang)


def deny_figure(snap: dict[str, Any] | None, theme: str, lang: str, at: str | None = None) -> dict[str, Any]:
    labels, values, hrefs = deny_series(snap, lang, at)
    fig = bar_h(labels, values, theme=theme)
    fig["data"][0].update(points(hrefs))
    fig["data"][0]["marker"] = {"color": PALETTE[3]}
    fig["data"][0]["textposition"] = "outside"
    fig["data"][0]["cliponaxis"] = False
    fig["layout"]["xaxis"] = {**fig["layout"]["xaxis"], "visible": False, "rangemode": "tozero"}
    fig["layout"]["margin"] = {"l": 8, "r": 44, "t": 4, "b": 4}
    fig["layout"]["bargap"] = 0.35
    return fig


def person_series(snap: dict[str, Any] | None, lang: str, at: str | None = None
                  ) -> tuple[list[str], list[int], list[str | None]]:
    """Today's passes by who passed: labels, counts, and each slice's link."""
    got = {r["person_type"]: r["in"] + r["out"] for r in _today(snap).get("by_person_type") or []}
    order = [p for p in PERSON_TYPES if p in got] + sorted(p for p in got if p not in PERSON_TYPES)
    return ([t(f"gates.person_{p}", lang) if p in PERSON_TYPES else p for p in order],
            [got[p] for p in order],
            [link("passes", lang, at, filters={"person_type": p}) if p in PERSON_TYPES else None
             for p in order])


def person_figure(snap: dict[str, Any] | None, theme: str, lang: str,
                  at: str | None = None) -> dict[str, Any]:
    labels, values, hrefs = person_series(snap, lang, at)
    fig = donut(labels, values, theme=theme)
    fig["data"][0].update(points(hrefs))
    return fig


HOURS = tuple(f"{h:02d}" for h in range(24))


def heat_series(snap: dict[str, Any] | None, lang: str, at: str | None = None
                ) -> tuple[list[str], list[str], list[list[Any]], list[list[str | None]]]:
    """Gates (catalogue order, then unknown codes) × the 24 local hours, passes per cell; hours
    still to come are empty (None), so the map always spans the day and its cells keep their size.
    Each cell with passes links to that gate's passes in that hour."""
    rows = _gate(snap).get("by_hour_today") or []
    catalogue = read.names().codes("gate")
    present = {r["gate_id"] for r in rows}
    gates = [g for g in catalogue if g in present] + sorted(present - set(catalogue))
    seen = {r["hour"][11:13] for r in rows}
    cells = {(r["gate_id"], r["hour"][11:13]): r["in"] + r["out"] for r in rows}
    z = grid_values(gates, HOURS, cells)
    last = max(seen) if seen else "-1"
    z = [[v if h <= last else None for h, v in zip(HOURS, row, strict=True)] for row in z]
    labels = [short(gate_name(g, lang)) for g in gates]
    starts = {(r["gate_id"], r["hour"][11:13]): r["hour"] for r in rows}
    hrefs = [[_hour_link(g, starts.get((g, h)), lang, at) for h in HOURS] for g in gates]
    return list(HOURS), labels, z, hrefs


def _hour_link(gate: str, hour: str | None, lang: str, at: str | None) -> str | None:
    if hour is None:
        return None
    start, end = bucket(hour, "hour")
    return link("passes", lang, at, "hour", start=start, end=end, filters={"gate_id": gate})


def heat_figure(snap: dict[str, Any] | None, theme: str, lang: str, at: str | None = None) -> dict[str, Any]:
    x, y, z, hrefs = heat_series(snap, lang, at)
    fig = heatmap(x, y, z, theme=theme, unit=t("unit.people", lang))
    fig["data"][0].update(points(hrefs))
    return fig


def delta_text(snap: dict[str, Any] | None, period: str) -> tuple[str, str]:
    """Today's passes against the same time of ``period``, and a class for its colour."""
    compare = _gate(snap).get("compare") or {}
    now, then = compare.get("today") or {}, compare.get(period) or {}
    if not now or not then:
        return "—", "gn-delta"
    base = then.get("in", 0) + then.get("out", 0)
    if not base:
        return "—", "gn-delta"
    change = (now.get("in", 0) + now.get("out", 0)) / base - 1
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    return f"{sign}{abs(change) * 100:.1f}%", "gn-delta gn-up" if change > 0 else "gn-delta gn-down"


def _delta(text: str, cls: str) -> html.Span:
    return html.Span(text, className=f"ioc-num {cls}")


def compare_table(snap: dict[str, Any] | None, lang: str) -> html.Div:
    columns = ("gates.in", "gates.out", "gates.vs_today")
    head = [html.Span("", className="gn-cmp-h"),
            *(html.Span(t(k, lang), className="gn-cmp-h") for k in columns)]
    cells: list[Any] = []
    for period in PERIODS:
        cells += [
            html.Span(t(f"gates.period_{period}", lang), className="gn-cmp-label"),
            bound(f"gate.compare.{period}.in", cls="gn-cmp-num"),
            bound(f"gate.compare.{period}.out", cls="gn-cmp-num"),
            html.Span(_delta(*delta_text(snap, period)) if period != "today" else "",
                      id=f"{PAGE}-delta-{period}", className="gn-cmp-delta"),
        ]
    return html.Div(head + cells, className="gn-cmp")


def layout(lang: str | None = None, theme: str | None = None, fit: str | None = None,
           at: str | None = None, screen: str | None = None, **_query: Any) -> html.Div:
    lang, theme, fit = options(lang, theme, fit, read.display())
    snap = read.snapshot_for(at)
    people, attempts = t("unit.people", lang), t("unit.attempts", lang)
    tiles = [
        tile(t("gates.today_tile", lang), html.Div([
            kpi(t("gate.in", lang), "gate.today.in", unit=people, href=link("in", lang, at)),
            kpi(t("gate.out", lang), "gate.today.out", unit=people, href=link("out", lang, at)),
            kpi(t("gate.net_inflow", lang), "gate.today.net_inflow", "signed", people,
                href=link("net_inflow", lang, at)),
            kpi(t("gate.denied", lang), "gate.today.denied", unit=attempts, href=link("denied", lang, at)),
            kpi(t("gate.deny_rate", lang), "gate.today.deny_rate", "ratio", href=link("deny_rate", lang, at)),
            kpi(t("gate.fever", lang), "gate.today.fever", unit=attempts, href=link("fever", lang, at)),
        ], className="gn-band"), stream=STREAM, cls="ioc-span-9 gn-band-tile", lang=lang),
        tile(t("gates.compare", lang), compare_table(snap, lang), stream=STREAM, cls="ioc-span-3",
             lang=lang),
        tile(t("gates.last_hour", lang), graph(PAGE, "last_hour", last_hour_figure(snap, theme, lang, at)),
             stream=STREAM, cls="ioc-span-5", lang=lang),
        tile(t("gates.curve", lang), graph(PAGE, "curve", curve_figure(snap, theme, lang)),
             stream=STREAM, cls="ioc-span-4", lang=lang),
        tile(t("gates.ranking", lang), ranking(
            PAGE, "gates", gate_rows(snap, lang, at), lang=lang, slots=max(len(read.site().gates), 1),
            legend=(t("gates.in", lang), t("gates.out", lang)), empty=t("status.no_data", lang)),
            stream=STREAM, cls="ioc-span-3 gn-rows-2", lang=lang),
        tile(t("gates.heatmap", lang), graph(PAGE, "heat", heat_figure(snap, theme, lang, at)),
             stream=STREAM, cls="ioc-span-5 gn-wide gn-fill", lang=lang),
        tile(t("gates.deny_reasons", lang), graph(PAGE, "deny", deny_figure(snap, theme, lang, at)),
             stream=STREAM, cls="ioc-span-2", lang=lang),
        tile(t("gates.person_types", lang), graph(PAGE, "person", person_figure(snap, theme, lang, at)),
             stream=STREAM, cls="ioc-span-2", lang=lang),
    ]
    body = html.Div([*tiles, *LIVE.stores(snap, View(lang, theme, at))], className="gn-grid gn-gates")
    return frame(PAGE, "gates.title", body, lang=lang, theme=theme, fit=fit,
                 at=at, at_valid=read.at_is_valid(at), **read.viewer(),
                 zone=read.settings().zone.key)


def _ranking_rows(snap: dict[str, Any] | None, view: View) -> Any:
    """The ranking's rows are keyed, so React moves them rather than rebuilding them."""
    return ranking_rows(gate_rows(snap, view.lang, view.at), lang=view.lang,
                        empty=t("status.no_data", view.lang))


def _heat_patch(snap: dict[str, Any] | None, view: View) -> Patch:
    hx, hy, hz, hrefs = heat_series(snap, view.lang, view.at)
    patch = Patch()
    patch["data"][0].update({"x": hx, "y": hy, "z": hz, **points(hrefs)})
    return patch


def _deny_patch(snap: dict[str, Any] | None, view: View) -> Patch:
    labels, values, hrefs = deny_series(snap, view.lang, view.at)
    patch = Patch()
    patch["data"][0].update({"x": values, "y": labels, **points(hrefs)})
    return patch


def _person_patch(snap: dict[str, Any] | None, view: View) -> Patch:
    labels, values, hrefs = person_series(snap, view.lang, view.at)
    patch = Patch()
    patch["data"][0].update({"labels": labels, "values": values, **points(hrefs)})
    return patch


def _delta_part(period: str) -> Part:
    return Part(f"delta_{period}", f"{PAGE}-delta-{period}", "children",
                ("gate.compare.today", f"gate.compare.{period}"),
                lambda snap, _view: _delta(*delta_text(snap, period)))


#: only what changed travels, and of a figure only its data arrays
LIVE = live_parts(PAGE, [
    chart("last_hour", ids.graph(PAGE, "last_hour"), *LAST_HOUR),
    chart("curve", ids.graph(PAGE, "curve"), *CURVE),
    Part("ranking", ids.ranking(PAGE, "gates"), "children", under("gate", "today.by_gate"), _ranking_rows),
    Part("heat", ids.graph(PAGE, "heat"), "figure", under("gate", "by_hour_today"), _heat_patch),
    Part("deny", ids.graph(PAGE, "deny"), "figure", under("gate", "today.deny_reasons"), _deny_patch),
    Part("person", ids.graph(PAGE, "person"), "figure", under("gate", "today.by_person_type"), _person_patch),
    *(_delta_part(p) for p in PERIODS[1:]),
], read_snapshot=lambda at: read.snapshot_for(at))
