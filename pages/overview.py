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
#: (snapshot key under gate.today, label key, unit key, number kind)
GATE_KPIS = (
    ("in", "gate.in", "unit.people", "count"),
    ("out", "gate.out", "unit.people", "count"),
    ("net_inflow", "gate.net_inflow", "unit.people", "signed"),
    ("denied", "gate.denied", "unit.attempts", "count"),
    ("deny_rate", "gate.deny_rate", "", "ratio"),
    ("fever", "gate.fever", "unit.attempts", "count"),
)


def _gate_today(snap: dict[str, Any] | None) -> dict[str, Any]:
    return (snap or {}).get("gate", {}).get("today", {})


def _status(snap: dict[str, Any] | None, lang: str) -> str:
    if snap is None:
        return t("status.store_down", lang)
    text = f"{t('status.as_of', lang)} {snap['generated_at'][11:19]}"
    return text + (f" · {t('status.store_down', lang)}" if snap.get("stale") else "")


def layout(lang: str | None = None, **_query: Any) -> html.Div:
    lang = normalise_lang(lang)
    snap = read.snapshot()
    today = _gate_today(snap)
    cards = [
        kpi_card(PAGE, key, t(label, lang), today.get(key), t(unit, lang) if unit else "", kind)
        for key, label, unit, kind in GATE_KPIS
    ]
    body = html.Section(
        [html.H2(t("gate.section", lang), className="ioc-section-title"),
         html.Div(cards, className="ioc-kpi-grid")],
        className="ioc-panel",
    )
    status = [html.Span(_status(snap, lang), id="overview-status"),
              dcc.Store(id="overview-lang", data=lang),
              dcc.Interval(id="overview-refresh", interval=REFRESH_MS)]
    return page_shell("overview.title", lang, body, status)


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
    today = _gate_today(snap)
    kinds = {key: kind for key, _, _, kind in GATE_KPIS}
    values = [format_value(today.get(i["name"]), kinds[i["name"]]) for i in value_ids]
    return values, _status(snap, lang)
