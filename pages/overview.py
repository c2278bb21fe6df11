"""Overview cockpit (运营总览): the figures the ops center watches first."""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, dcc, html

from ioc_app import read
from layouts.i18n import normalise_lang, t
from layouts.kpi import format_value, kpi_card
from layouts.shell import page_shell

dash.register_page(__name__, path="/", name="overview", order=0, title="IOC")

PAGE = "overview"
REFRESH_MS = 5_000
#: sections of (snapshot path, label key, unit key, number kind)
SECTIONS: tuple[tuple[str, tuple[tuple[str, str, str, str], ...]], ...] = (
    ("gate.section", (
        ("gate.today.in", "gate.in", "unit.people", "count"),
        ("gate.today.out", "gate.out", "unit.people", "count"),
        ("gate.today.net_inflow", "gate.net_inflow", "unit.people", "signed"),
        ("gate.today.denied", "gate.denied", "unit.attempts", "count"),
        ("gate.today.deny_rate", "gate.deny_rate", "", "ratio"),
        ("gate.today.fever", "gate.fever", "unit.attempts", "count"),
    )),
    ("network.section", (
        ("network.peak_utilization", "network.peak_utilization", "", "ratio"),
        ("network.online.users", "network.users", "unit.persons", "count"),
        ("network.online.ipv6_share", "network.ipv6_share", "", "ratio"),
    )),
    ("service.section", (
        ("service.today.submitted", "service.submitted", "unit.cases", "count"),
        ("service.today.completed", "service.completed", "unit.cases", "count"),
    )),
    ("enrollment.section", (
        ("enrollment.admitted", "enrollment.admitted", "unit.persons", "count"),
        ("enrollment.completion", "enrollment.completion", "", "ratio"),
    )),
)
KINDS = {path: kind for _, kpis in SECTIONS for path, _, _, kind in kpis}


def lookup(snap: dict[str, Any] | None, path: str) -> Any:
    """The value at a dotted snapshot path, or None when any part is missing."""
    node: Any = snap or {}
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _status(snap: dict[str, Any] | None, lang: str) -> str:
    if snap is None:
        return t("status.store_down", lang)
    text = f"{t('status.as_of', lang)} {snap['generated_at'][11:19]}"
    return text + (f" · {t('status.store_down', lang)}" if snap.get("stale") else "")


def layout(lang: str | None = None, **_query: Any) -> html.Div:
    lang = normalise_lang(lang)
    snap = read.snapshot()
    panels = [
        html.Section(
            [html.H2(t(title, lang), className="ioc-section-title"),
             html.Div([kpi_card(PAGE, path, t(label, lang), lookup(snap, path),
                                t(unit, lang) if unit else "", kind)
                       for path, label, unit, kind in kpis], className="ioc-kpi-grid")],
            className="ioc-panel",
        )
        for title, kpis in SECTIONS
    ]
    status = [html.Span(_status(snap, lang), id="overview-status"),
              dcc.Store(id="overview-lang", data=lang),
              dcc.Interval(id="overview-refresh", interval=REFRESH_MS)]
    return page_shell("overview.title", lang, html.Div(panels, className="ioc-panels"), status)


@callback(
    Output({"type": "kpi-value", "page": PAGE, "name": ALL}, "children"),
    Output("overview-status", "children"),
    Input("overview-refresh", "n_intervals"),
    State({"type": "kpi-value", "page": PAGE, "name": ALL}, "id"),
    State("overview-lang", "data"),
    prevent_initial_call=True,
)
def refresh(_n: int, value_ids: list[dict[str, str]], lang: str) -> tuple[list[str], str]:
    snap = read.snapshot()
    values = [format_value(lookup(snap, i["name"]), KINDS[i["name"]]) for i in value_ids]
    return values, _status(snap, lang)
