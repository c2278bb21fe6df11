"""The notification tile of /health: each contact point's state (a failed delivery shows
here with its error and next retry until it goes through), the acknowledgements and
silences in force with who set them and when, and — for operators — the controls that set
them. The controls' callback belongs to the ``alerts_ack`` permission (its ids start with
``alerts-ack-``), so the gate refuses it to anyone else; the read API checks again and audits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import dash
from dash import Input, Output, State, callback, dcc, html

from ioc_app import read
from layouts import ids
from layouts.i18n import t
from layouts.table import table

PREFIX = "alerts-ack-"
ID = {name: f"{PREFIX}{name}" for name in ("result", "target", "minutes", "ack", "silence", "lift")}
MINUTES = (30, 60, 240, 1440)


def _when(value: datetime | None, zone: ZoneInfo, now: datetime) -> str:
    if value is None:
        return "—"
    local = value.astimezone(zone)
    return local.strftime("%H:%M:%S") if local.date() == now.astimezone(zone).date() \
        else local.strftime("%m-%d %H:%M")


def contacts_table(state: dict[str, Any] | None, lang: str, zone: ZoneInfo, now: datetime) -> html.Div:
    if state is None:
        return html.Div(t("health.notify.unavailable", lang), className="ioc-table-empty hw-warn")
    rows, classes = [], []
    for c in state["contacts"]:
        kind = f"health.notify.kind.{c['kind']}"
        label = t(f"health.notify.state.{c['state']}", lang)
        if c["pending"]:
            label += " · " + t("health.notify.pending", lang).format(n=c["pending"])
        pill = "stale" if c["state"] == "failing" else "ok"
        rows.append([c["name"], t(kind, lang) if c["kind"] else "—",
                     html.Span(label, className="hw-pill hw-pill-" + pill),
                     _when(c["last_sent"], zone, now), c["error"] or "—", _when(c["next_at"], zone, now)])
        classes.append("hw-notify-failing" if c["state"] == "failing" else "")
    head = [t(f"health.notify.col.{k}", lang)
            for k in ("contact", "kind", "state", "last_sent", "error", "retry")]
    return table(head, rows, widths=(16, 10, 18, 14, 28, 14), row_classes=classes, cls="hw-notify-contacts",
                 empty=t("health.notify.none_contacts", lang))


def actions_table(state: dict[str, Any] | None, lang: str, zone: ZoneInfo, now: datetime) -> html.Div:
    if state is None:
        return html.Div()
    rows = [[a.target, t(f"health.notify.action.{a.action}", lang), a.actor or "—", _when(a.at, zone, now),
             _when(a.until, zone, now)] for a in state["actions"]]
    head = [t(f"health.notify.col.{k}", lang) for k in ("alert", "action", "who", "when", "until")]
    return table(head, rows, widths=(34, 16, 16, 17, 17), cls="hw-notify-actions",
                 empty=t("health.notify.none_actions", lang))


def content(lang: str, zone: ZoneInfo) -> list[Any]:
    """The tile's changing part (contact points, then actions)."""
    now = datetime.now(zone)
    state = read.notifications()
    return [contacts_table(state, lang, zone, now), actions_table(state, lang, zone, now)]


def options(snap: dict[str, Any] | None, lang: str) -> list[dict[str, str]]:
    """Active alerts, and the rule of each keyed one (silencing a rule covers every key)."""
    key = "title_zh" if lang == "zh" else "title_en"
    out, rules = [], []
    for a in (snap or {}).get("alerts", []):
        out.append({"label": f"{a['id']} · {a[key]}", "value": a["id"]})
        rule = str(a["id"]).split(":", 1)[0]
        if rule != a["id"] and rule not in rules:
            rules.append(rule)
    return out + [{"label": f"{r} · *", "value": r} for r in rules]


def controls(snap: dict[str, Any] | None, lang: str) -> html.Div:
    """The operator's controls; present for everyone (the page's callback fills the list),
    shown only to those who may use them."""
    minutes = [{"label": (t("health.notify.min", lang).format(n=m) if m < 60
                          else t("health.notify.hours", lang).format(n=m // 60)), "value": m}
               for m in MINUTES]

    def button(name: str) -> html.Button:
        return html.Button(t(f"health.notify.{name}", lang), id=ID[name], n_clicks=0, type="button",
                           className="ex-button")

    return html.Div([
        dcc.Dropdown(id=ID["target"], options=options(snap, lang),
                     placeholder=t("health.notify.target", lang), className="hw-notify-target"),
        button("ack"),
        dcc.Dropdown(id=ID["minutes"], options=minutes, value=60, clearable=False,
                     className="hw-notify-minutes"),
        button("silence"),
        button("lift"),
        html.Div(id=ID["result"], className="hw-notify-result", role="status"),
    ], className="hw-notify-controls", style=None if read.may("alerts_ack") else {"display": "none"})


@callback(
    Output(ID["result"], "children"),
    Input(ID["ack"], "n_clicks"),
    Input(ID["silence"], "n_clicks"),
    Input(ID["lift"], "n_clicks"),
    State(ID["target"], "value"),
    State(ID["minutes"], "value"),
    State(ids.CONFIG, "data"),
    prevent_initial_call=True,
)
def act(_ack: int | None, _silence: int | None, _lift: int | None, target: str | None, minutes: int | None,
        cfg: dict[str, Any] | None) -> str:
    """Acknowledge, silence or lift, as the button says; the answer says what happened."""
    lang = (cfg or {}).get("lang", "zh")
    pressed = dash.ctx.triggered_id
    if not target:
        return t("health.notify.pick", lang)
    try:
        if pressed == ID["ack"]:
            read.acknowledge_alert(target)
            return t("health.notify.done.ack", lang).format(target=target)
        if pressed == ID["silence"]:
            until = read.silence_alerts(target, int(minutes or 60))
            return t("health.notify.done.silence", lang).format(
                target=target, until=until.astimezone(read.settings().zone).strftime("%m-%d %H:%M"))
        read.lift_silence(target)
        return t("health.notify.done.lift", lang).format(target=target)
    except PermissionError:
        return t("health.notify.refused", lang)
    except LookupError:
        return t("health.notify.gone", lang)
