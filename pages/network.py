"""Network cockpit (校园网络): egress links against their capacity, who is online and how,
IPv6 adoption, and the security incidents with how far their handling has got.

Numbers are bound to snapshot paths and written by the browser (per link, per access type,
per severity: list elements picked by key). Charts are built from the snapshot at layout
time; they are the page's live parts (``layouts.parts``), redrawn only when the snapshot paths
they are drawn from change, with only data arrays sent.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Patch, html

from ioc_app import read
from layouts import ids
from layouts.charts import PALETTE, bar_h, bars, lines
from layouts.drill import explore_href, per_bucket, points
from layouts.drill import link as linked
from layouts.i18n import t
from layouts.live import bound, frame, graph, kpi, options, tile
from layouts.multiples import Panel, small_multiples, trace_index
from layouts.parts import Part, Trace, View, chart, live_parts, path, under

dash.register_page(__name__, path="/network", name="network", order=2, title="IOC")

PAGE = "network"
ACCESS = ("wired", "wireless", "vpn")
SEVERITIES = ("critical", "high", "medium", "low", "info")
STATUSES = ("open", "handled", "false_positive")
CATEGORIES = ("weak_password", "compromised_host", "intrusion", "ddos", "malware", "phishing",
              "vulnerability", "other")
STATUS_COLORS = ["#e01e5a", "#2eb67d", "#94a3b8"]
#: series per link panel: in, out, and the capacity line
PER_PANEL = 3
LINKS, ONLINE, SECURITY = "network.link", "network.online", "network.security"
#: the charts the browser draws by itself from the snapshot it holds: the IPv6 share per hour
#: over 7 days, and the incidents per day over 30 by how far their handling has got
IPV6 = Trace(path("network", "ipv6_7d"), "hour", ("ipv6_share",), x_fmt="local")
HANDLING = tuple(Trace(path("network", "security_30d"), "date", (s,), default=0) for s in STATUSES)


def incidents(lang: str, at: str | None, **filters: str) -> str | None:
    """Today's security incidents (those filtered) in /explore — the figures of the security
    tiles; link states (online users, utilisation, open incidents) have no answer there and no
    link. None where the viewer follows no links (a paired wall screen)."""
    if not read.may_drill():
        return None
    return explore_href("network", "incidents", "day", preset="today", filters=filters, at=at, lang=lang)


def _net(snap: dict[str, Any] | None) -> dict[str, Any]:
    return (snap or {}).get("network") or {}


def _name(kind: str, code: str, lang: str) -> str:
    """A link's or campus's catalogue name in the page's language (unknown codes marked)."""
    return read.names().label(kind, code, lang)


def _catalogue_order(codes: Any, kind: str) -> list[str]:
    """``codes`` in the order of the site catalogue (the order the site chose to show them),
    codes it does not know last: both the figure and its patches follow it."""
    known = [x.code for x in getattr(read.site(), kind)]
    present = set(codes)
    return [c for c in known if c in present] + sorted(present - set(known))


def _local(iso: str) -> str:
    """Local RFC 3339 → ``YYYY-MM-DD HH:MM`` (the wall time; Plotly would shift an offset)."""
    return iso[:10] + " " + iso[11:16]


def rate(bps: float | None) -> str:
    """A short link rate for a bar or a title, three digits at most: ``7.5Gbps``, ``927Mbps``;
    ``—`` without a sample."""
    if bps is None:
        return "—"
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(bps) >= scale * 0.9995:  # 999.6 M reads 1 G, never "1e+03 M"
            return f"{bps / scale:.3g}{prefix}bps"
    return f"{bps:.0f}bps"


# ---- links over the last hour: one panel per link, in / out against capacity ----

LinkSeries = tuple[str, list[Any], list[Any], Any]


def link_minutes(snap: dict[str, Any] | None) -> tuple[list[str], list[LinkSeries]]:
    """The minutes, and per link (in snapshot order) its in and out means and capacity."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in _net(snap).get("links_60m") or []:
        grouped.setdefault(row["link_id"], []).append(row)
    x: list[str] = []
    out = []
    for link in _catalogue_order(grouped, "links"):
        rows = grouped[link]
        if not x:
            x = [_local(r["minute"]) for r in rows]
        caps = [r["capacity_bps"] for r in rows if r.get("capacity_bps")]
        ins, outs = [r["in_bps"] for r in rows], [r["out_bps"] for r in rows]
        out.append((link, ins, outs, caps[-1] if caps else None))
    return x, out


def links_figure(snap: dict[str, Any] | None, theme: str, lang: str) -> dict[str, Any]:
    x, links = link_minutes(snap)
    panels = [Panel(f"{_name('link', link, lang)} · {rate(cap)}",
                    {t("net.in", lang): ins, t("net.out", lang): outs}, cap)
              for link, ins, outs, cap in links]
    fig = small_multiples(x, panels, theme=theme, cols=2, ceiling_name=t("net.capacity", lang),
                          ticksuffix="bps")
    for key, axis in fig["layout"].items():
        if key.startswith("xaxis"):
            axis.update(type="date", tickformat="%H:%M")
    return fig


# ---- links now: in / out as a share of capacity, the rate written on the bar ----

def links_now(snap: dict[str, Any] | None, lang: str) -> tuple[list[str], list[list[float]], list[list[str]]]:
    by_code = {r["link_id"]: r for r in _net(snap).get("links") or []}
    rows = [by_code[c] for c in _catalogue_order(by_code, "links")]
    labels = [_name("link", r["link_id"], lang) for r in rows]
    shares, texts = [], []
    for key in ("in_bps", "out_bps"):
        shares.append([(r.get(key) or 0) / r["capacity_bps"] if r.get("capacity_bps") else 0 for r in rows])
        texts.append([rate(r.get(key)) for r in rows])
    return labels, shares, texts


def links_now_figure(snap: dict[str, Any] | None, theme: str, lang: str) -> dict[str, Any]:
    labels, shares, texts = links_now(snap, lang)
    fig = bars(labels, {t("net.in", lang): shares[0], t("net.out", lang): shares[1]}, theme=theme,
               stacked=False, horizontal=True, tickformat=".0%")
    for trace, text in zip(fig["data"], texts, strict=True):
        trace.update(text=text, textposition="outside", cliponaxis=False, textfont={"size": 14})
    fig["layout"]["xaxis"].update(range=[0, 1.32], tickvals=[0, 0.5, 1], showgrid=True)
    fig["layout"]["legend"].update(x=1, xanchor="right")
    fig["layout"]["margin"] = {"l": 8, "r": 8, "t": 30, "b": 28}
    fig["layout"]["bargap"] = 0.3
    return fig


# ---- online users by campus and access ----

def campus_series(snap: dict[str, Any] | None, lang: str) -> tuple[list[str], list[list[int]]]:
    rows = (_net(snap).get("online") or {}).get("by_campus") or []
    got = {r["campus"]: r for r in rows}
    order = _catalogue_order(got, "campuses")
    return ([_name("campus", c, lang) for c in order], [[got[c].get(a, 0) for c in order] for a in ACCESS])


def campus_figure(snap: dict[str, Any] | None, theme: str, lang: str) -> dict[str, Any]:
    labels, values = campus_series(snap, lang)
    fig = bars(labels, {t(f"net.access_{a}", lang): v for a, v in zip(ACCESS, values, strict=True)},
               theme=theme, stacked=True, horizontal=True, tickformat="~s")
    fig["layout"]["legend"].update(x=1, xanchor="right", traceorder="normal")
    fig["layout"]["xaxis"]["autorangeoptions"] = {"include": [0, 5]}
    fig["layout"]["margin"] = {"l": 8, "r": 12, "t": 30, "b": 28}
    fig["layout"]["bargap"] = 0.35
    return fig


# ---- IPv6 share over 7 days ----

def ipv6_series(snap: dict[str, Any] | None) -> tuple[list[str], list[float | None]]:
    return IPV6.series(snap)


def ipv6_figure(snap: dict[str, Any] | None, theme: str, lang: str, at: str | None = None) -> dict[str, Any]:
    """The IPv6 share per hour over 7 days; each point leads to its hour."""
    x, y = ipv6_series(snap)
    fig = lines(x, {t("network.ipv6_share", lang): y}, theme=theme, area=True)
    if read.may_drill():
        fig["data"][0].update(per_bucket("network", "ipv6_share", "hour", lang=lang, at=at))
    fig["data"][0]["line"].update(shape="linear", width=2, color=PALETTE[4])
    fig["data"][0]["fillcolor"] = "rgba(139, 124, 246, 0.22)"
    fig["data"][0]["hovertemplate"] = "%{x}: %{y:.1%}<extra></extra>"
    fig["layout"]["xaxis"].update(type="date", tickformat="%m-%d", nticks=7, tickangle=0)
    fig["layout"]["yaxis"].update(tickformat=".0%", rangemode="tozero")
    fig["layout"]["margin"] = {"l": 48, "r": 12, "t": 8, "b": 28}
    return fig


# ---- security: today's categories, severities, and handling over 30 days ----

def category_series(snap: dict[str, Any] | None, lang: str, at: str | None = None
                    ) -> tuple[list[str], list[int], list[str | None]]:
    """Today's incidents by category: labels, counts, and each bar's link."""
    rows = ((_net(snap).get("security") or {}).get("by_category_today")) or []
    return ([t(f"net.cat_{r['category']}", lang) if r["category"] in CATEGORIES else r["category"]
             for r in rows], [r["count"] for r in rows],
            [incidents(lang, at, category=r["category"]) if r["category"] in CATEGORIES else None
             for r in rows])


def category_figure(snap: dict[str, Any] | None, theme: str, lang: str, at: str | None = None
                    ) -> dict[str, Any]:
    labels, values, hrefs = category_series(snap, lang, at)
    fig = bar_h(labels, values, theme=theme)
    fig["data"][0].update(points(hrefs))
    fig["data"][0].update(marker={"color": PALETTE[6]}, textposition="outside", cliponaxis=False)
    fig["layout"]["xaxis"].update(visible=False, rangemode="tozero")
    fig["layout"]["margin"] = {"l": 8, "r": 40, "t": 4, "b": 4}
    fig["layout"]["bargap"] = 0.35
    fig["layout"]["annotations"] = _none_note(values, lang)
    return fig


def _none_note(values: list[int], lang: str) -> list[dict[str, Any]]:
    """"None today" written in an empty chart, rather than bare axes that look broken."""
    if values:
        return []
    return [{"text": t("net.none_today", lang), "showarrow": False, "xref": "paper", "yref": "paper",
             "x": 0.5, "y": 0.5, "font": {"size": 18}}]


def status_series(snap: dict[str, Any] | None) -> tuple[list[str], list[list[int]]]:
    got = [trace.series(snap) for trace in HANDLING]
    return got[0][0], [y for _x, y in got]


def status_figure(snap: dict[str, Any] | None, theme: str, lang: str) -> dict[str, Any]:
    x, values = status_series(snap)
    fig = bars(x, {t(f"net.status_{s}", lang): v for s, v in zip(STATUSES, values, strict=True)},
               theme=theme, stacked=True, colors=STATUS_COLORS)
    fig["layout"]["xaxis"].update(type="date", tickformat="%m-%d", nticks=5)
    fig["layout"]["yaxis"]["autorangeoptions"] = {"include": [0, 5]}
    fig["layout"]["showlegend"] = False  # the counts above the chart carry the same colours
    fig["layout"]["margin"] = {"l": 36, "r": 8, "t": 6, "b": 28}
    fig["layout"]["bargap"] = 0.2
    return fig


# ---- tiles of bound numbers ----

def access_table(lang: str) -> html.Div:
    head = [html.Span("", className="gn-cmp-h"), html.Span(t("net.col_users", lang), className="gn-cmp-h"),
            html.Span(t("net.col_ipv6", lang), className="gn-cmp-h")]
    cells: list[Any] = []
    for a in ACCESS:
        base = f"network.online.by_access[access={a}]"
        cells += [html.Span(t(f"net.access_{a}", lang), className="gn-cmp-label"),
                  bound(f"{base}.users", cls="gn-cmp-num"),
                  bound(f"{base}.ipv6_share", "ratio", cls="gn-cmp-num")]
    return html.Div(head + cells, className="gn-cmp gn-cmp-3")


def severity_table(lang: str, at: str | None = None) -> html.Div:
    head = [html.Span("", className="gn-cmp-h"), html.Span(t("net.status_open", lang), className="gn-cmp-h"),
            html.Span(t("net.new_today", lang), className="gn-cmp-h")]
    cells: list[Any] = []
    for s in SEVERITIES:
        cells += [html.Span([html.I(className=f"gn-sev-dot gn-sev-{s}"), t(f"severity.{s}", lang)],
                            className="gn-cmp-label"),
                  bound(f"network.security.open_by_severity.{s}", cls="gn-cmp-num"),
                  linked(bound(f"network.security.today.{s}", cls="gn-cmp-num"),
                         incidents(lang, at, severity=s), "gn-cmp-link")]
    return html.Div(head + cells, className="gn-cmp gn-cmp-3 gn-sev")


def status_counts(lang: str) -> html.Div:
    return html.Div([html.Div([html.Div([html.I(className=f"gn-status-dot gn-status-{s}"),
                                         t(f"net.status_{s}", lang)], className="ioc-kpi-label"),
                               bound(f"network.security.by_status.{s}", cls="gn-status-num")],
                              className="gn-status") for s in STATUSES], className="gn-status-row")


def layout(lang: str | None = None, theme: str | None = None, fit: str | None = None,
           at: str | None = None, screen: str | None = None, **_query: Any) -> html.Div:
    lang, theme, fit = options(lang, theme, fit, read.display())
    snap = read.snapshot_for(at)
    persons = t("unit.persons", lang)
    sec = {"stream": SECURITY, "amber_s": 86_400, "red_s": 3 * 86_400, "lang": lang}
    tiles = [
        tile(t("net.now", lang), html.Div([
            kpi(t("network.peak_utilization", lang), "network.peak_utilization", "ratio"),
            kpi(t("network.users", lang), "network.online.users", unit=persons),
            kpi(t("network.ipv6_share", lang), "network.online.ipv6_share", "ratio"),
            kpi(t("net.wireless_users", lang), "network.online.by_access[access=wireless].users",
                unit=persons),
            kpi(t("security.open", lang), "network.security.open"),
            kpi(t("security.today", lang), "network.security.today.high",
                href=incidents(lang, at, severity="high")),
        ], className="gn-band"), stream=LINKS, amber_s=120, red_s=300, cls="ioc-span-9 gn-band-tile",
            lang=lang),
        tile(t("net.by_access", lang), access_table(lang), stream=ONLINE, cls="ioc-span-3", lang=lang),
        tile(t("net.links_60m", lang), graph(PAGE, "links", links_figure(snap, theme, lang)),
             stream=LINKS, amber_s=120, red_s=300, cls="ioc-span-6 gn-wide gn-fill", lang=lang),
        tile(t("net.links_now", lang), graph(PAGE, "links_now", links_now_figure(snap, theme, lang)),
             stream=LINKS, amber_s=120, red_s=300, cls="ioc-span-3", lang=lang),
        tile(t("net.by_campus", lang), graph(PAGE, "campus", campus_figure(snap, theme, lang)),
             stream=ONLINE, cls="ioc-span-3", lang=lang),
        tile(t("net.ipv6_7d", lang), graph(PAGE, "ipv6", ipv6_figure(snap, theme, lang, at)),
             stream=ONLINE, cls="ioc-span-3", lang=lang),
        tile(t("net.categories", lang), graph(PAGE, "categories", category_figure(snap, theme, lang, at)),
             cls="ioc-span-3", **sec),
        tile(t("net.severity", lang), severity_table(lang, at), cls="ioc-span-3", **sec),
        tile(t("net.handling", lang), html.Div([
            status_counts(lang),
            html.Div(graph(PAGE, "status", status_figure(snap, theme, lang)), className="ioc-chart-box"),
        ], className="ioc-stack"), cls="ioc-span-3", **sec),
    ]
    body = html.Div([*tiles, *LIVE.stores(snap, View(lang, theme, at))], className="gn-grid gn-network")
    return frame(PAGE, "net.title", body, lang=lang, theme=theme, fit=fit,
                 at=at, at_valid=read.at_is_valid(at), **read.viewer(),
                 zone=read.settings().zone.key)


def _links_patch(snap: dict[str, Any] | None, _view: View) -> Patch:
    """The link panels are fixed when the page is built (a link added to the catalogue appears
    at the next page load or wall rotation): only their points travel."""
    x, links = link_minutes(snap)
    patch = Patch()
    for p, (_link, ins, outs, cap) in enumerate(links):
        patch["data"][trace_index(p, 0, PER_PANEL)].update({"x": x, "y": ins})
        patch["data"][trace_index(p, 1, PER_PANEL)].update({"x": x, "y": outs})
        patch["data"][trace_index(p, 2, PER_PANEL)].update({"x": x, "y": [cap] * len(x)})
    return patch


def _links_now_patch(snap: dict[str, Any] | None, view: View) -> Patch:
    labels, shares, texts = links_now(snap, view.lang)
    patch = Patch()
    for i in range(2):
        patch["data"][i].update({"y": labels, "x": shares[i], "text": texts[i]})
    return patch


def _campus_patch(snap: dict[str, Any] | None, view: View) -> Patch:
    labels, values = campus_series(snap, view.lang)
    patch = Patch()
    for i, row in enumerate(values):
        patch["data"][i].update({"y": labels, "x": row})
    return patch


def _categories_patch(snap: dict[str, Any] | None, view: View) -> Patch:
    labels, values, hrefs = category_series(snap, view.lang, view.at)
    patch = Patch()
    patch["data"][0].update({"x": values, "y": labels, **points(hrefs)})
    patch["layout"]["annotations"] = _none_note(values, view.lang)
    return patch


#: only what changed travels, and of a figure only its data arrays
LIVE = live_parts(PAGE, [
    Part("links", ids.graph(PAGE, "links"), "figure", under("network", "links_60m"), _links_patch),
    Part("links_now", ids.graph(PAGE, "links_now"), "figure", under("network", "links"), _links_now_patch),
    Part("campus", ids.graph(PAGE, "campus"), "figure", under("network", "online.by_campus"), _campus_patch),
    chart("ipv6", ids.graph(PAGE, "ipv6"), IPV6),
    Part("categories", ids.graph(PAGE, "categories"), "figure",
         under("network.security", "by_category_today"), _categories_patch),
    chart("status", ids.graph(PAGE, "status"), *HANDLING),
], read_snapshot=lambda at: read.snapshot_for(at))
