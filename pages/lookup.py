"""考生录取状态查询: the admissions office looks one candidate up by the number they give.

A desk or tablet page (never on a wall), for the admissions role only (permission
``admissions_tools``; the gate refuses the page and its callback to everybody else). The
office types the 考生号 as the candidate gave it and presses 查询 (or Enter); the number goes
to the server in the body of this page's one Dash callback — never in a URL — and the input
keeps nothing (no persistence, no autocomplete) and is cleared once the answer is shown.
The server turns the number into the keyed pseudonym import stores, looks that up and
audits the lookup (``read.lookup_candidate``); the answer names the candidate only by the
pseudonym's first characters, and shows the timeline: admission events (batch, category,
track, major, college, score, rank), notice events (carrier and tracking number: the
admissions role's page) and check-in steps, oldest first, on the site's clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from ioc_app import read
from layouts.i18n import CATALOGUE, t
from layouts.live import frame, options, tile

PAGE = "lookup"
PATH = "/enrollment/lookup"
#: the timeline's columns (time: the audit page's word for it)
COLUMNS = ("admin.col.ts", "lookup.col_event", "lookup.col_detail")
ID = {name: f"{PAGE}-{name}" for name in ("number", "go", "result", "opts")}
#: an admission status → its words (the /explore measures' and the cockpit's labels)
ADMISSION_LABEL = {"filed": "explore.m.enrollment.filed", "admitted": "enrollment.admitted",
                   "returned": "explore.m.enrollment.returned", "withdrawn": "explore.m.enrollment.withdrawn"}


def layout(lang: str | None = None, theme: str | None = None, fit: str | None = None,
           **_query: Any) -> html.Div:
    """The form and an empty answer; nothing is looked up until the office asks."""
    lang, theme, fit = options(lang, theme, fit, read.display())
    form = html.Div([
        html.Label(t("lookup.label", lang), htmlFor=ID["number"], className="lku-label"),
        html.Div([
            dcc.Input(id=ID["number"], type="text", value="", debounce=False, persistence=False,
                      autoComplete="off", spellCheck=False, maxLength=read.LOOKUP_MAX_LEN,
                      placeholder=t("lookup.placeholder", lang), className="lku-input", n_submit=0),
            html.Button(t("lookup.go", lang), id=ID["go"], n_clicks=0, className="lku-go", type="button"),
        ], className="lku-row"),
        html.P(t("lookup.notice", lang), className="lku-note"),
        *demo_examples(lang),
    ], className="lku-form")
    body = html.Div([
        tile(t("lookup.title", lang), form, lang=lang),
        html.Div(id=ID["result"], className="lku-result", role="status", **{"aria-live": "polite"}),
        dcc.Store(id=ID["opts"], data={"lang": lang}),
    ], className="lku-page")
    return frame("enrollment_lookup", "lookup.title", body, lang=lang, theme=theme, fit=fit, flow=True,
                 **read.viewer(), zone=read.settings().zone.key)


def demo_examples(lang: str) -> list[html.P]:
    """Demo mode only: made-up 考生号 that the simulated season holds, to try the lookup with."""
    found = read.lookup_examples()
    if not found:
        return []
    items: list[Any] = [t("lookup.examples", lang)]
    for i, (number, story) in enumerate(found):
        items += ["；" if lang == "zh" and i else "; " if i else "",
                  html.Code(number, className="lku-example"), f" ({t(f'lookup.example_{story}', lang)})"]
    return [html.P(items, className="lku-note lku-examples")]


@callback(
    Output(ID["result"], "children"),
    Output(ID["number"], "value"),
    Input(ID["go"], "n_clicks"),
    Input(ID["number"], "n_submit"),
    State(ID["number"], "value"),
    State(ID["opts"], "data"),
    prevent_initial_call=True,
)
def look_up(_clicks: int, _submits: int, number: str | None, opts: dict[str, Any] | None) -> tuple[Any, str]:
    """The answer, and the input emptied (the number is not kept in the page either)."""
    lang = (opts or {}).get("lang", "zh")
    answer = read.lookup_candidate(number)
    del number
    return answer_view(answer, lang), ""


# --------------------------------------------------------------------------- the answer


def answer_view(answer: dict[str, Any], lang: str) -> Any:
    state = answer["state"]
    if state == "empty":
        return html.P(t("lookup.empty", lang), className="lku-msg")
    if state == "too_long":
        return html.P(t("lookup.too_long", lang).replace("{n}", str(answer["max"])), className="lku-msg")
    ref = html.P([html.Span(t("lookup.ref", lang)), html.Code(answer["ref"] + "…", id=f"{PAGE}-ref")],
                 className="lku-ref", title=t("lookup.ref_title", lang))
    if state == "unavailable":
        return html.Div([ref, html.P(t("lookup.unavailable", lang), className="lku-msg")])
    if state == "not_found":
        body = html.Div([ref, not_found(answer, lang)], id=f"{PAGE}-missing")
        return tile(t("lookup.not_found", lang), body, lang=lang, cls="lku-missing")
    return tile(t("lookup.found", lang), html.Div([ref, summary(answer["events"], lang),
                                                   timeline(answer, lang)], id=f"{PAGE}-found"), lang=lang)


def not_found(answer: dict[str, Any], lang: str) -> html.Div:
    years = answer["years"]
    listed = ("、" if lang == "zh" else ", ").join(map(str, years))
    year_check = (t("lookup.check_year", lang).replace("{years}", listed) if years
                  else t("lookup.check_no_year", lang))
    checks = [t("lookup.check_number", lang), year_check,
              t("lookup.check_column", lang)]
    items = [html.Li(c) for c in checks]
    if answer.get("wide"):
        items.insert(0, html.Li(t("lookup.check_wide", lang), className="lku-warn"))
    return html.Div([html.P(t("lookup.not_found_body", lang)), html.Ul(items)], className="lku-checks")


def _code(area: str, prefix: str, code: Any, lang: str) -> str:
    """A code in words (``area.prefix<code>`` in the catalogue); a code it does not know as is."""
    key = f"{area}.{prefix}{code}"
    return t(key, lang) if key in CATALOGUE else str(code)


def _name(names: dict[tuple[str, str], tuple[str, str]], kind: str, code: Any, lang: str) -> str:
    if code in (None, ""):
        return ""
    found = names.get((kind, str(code)))
    if found is None:
        return str(code)
    return f"{found[0] if lang == 'zh' else found[1] or found[0]}"


def event_label(e: dict[str, Any], lang: str) -> str:
    status = e["status"]
    if e["kind"] == "admission":
        what = t(ADMISSION_LABEL[status], lang) if status in ADMISSION_LABEL else status
    elif e["kind"] == "notice":
        what = _code("lookup", "notice_", status, lang)
    else:
        what = _code("enroll", "step_", status, lang)
    return f"{_code('lookup', 'kind_', e['kind'], lang)} · {what}"


def event_detail(e: dict[str, Any], names: dict[tuple[str, str], tuple[str, str]], lang: str) -> str:
    parts: list[str] = [t("lookup.year", lang).replace("{v}", str(e["year"]))]
    if e["kind"] == "admission":
        major = _name(names, "major", e.get("major"), lang)
        parts += [_name(names, "province", e.get("province"), lang),
                  _code("enroll", "batch_", e.get("batch"), lang),
                  _code("enroll", "cat_", e.get("category"), lang),
                  _code("explore", "v.track.", e.get("track"), lang),
                  f"{major} ({e['major']})" if major and major != e.get("major") else major,
                  _name(names, "college", e.get("college"), lang)]
        if e.get("score") is not None:
            parts.append(t("lookup.score", lang).replace("{v}", f"{float(e['score']):g}"))
        if e.get("province_rank") is not None:
            parts.append(t("lookup.rank", lang).replace("{v}", f"{int(e['province_rank']):,}"))
    elif e["kind"] == "notice":
        parts.append(str(e.get("carrier") or ""))
        if e.get("tracking_no"):
            parts.append(t("lookup.tracking", lang).replace("{v}", str(e["tracking_no"])))
    else:
        parts += [_name(names, kind, e.get(kind), lang) for kind in ("campus", "college", "major")]
    return " · ".join(p for p in parts if p)


def _when(ts: datetime, zone: Any) -> str:
    return ts.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def summary(events: list[dict[str, Any]], lang: str) -> html.P:
    """Where the candidate stands now: the latest admission status, notice status, check-in step."""
    def last(kind: str) -> dict[str, Any] | None:
        return next((e for e in reversed(events) if e["kind"] == kind), None)

    parts = [event_label(e, lang) for e in (last("admission"), last("notice"), last("checkin")) if e]
    if last("admission") is not None and last("notice") is None:
        parts.append(t("lookup.no_notice", lang))
    if last("checkin") is None:
        parts.append(t("lookup.no_checkin", lang))
    joined = ("；" if lang == "zh" else "; ").join(parts)
    return html.P([html.Strong(t("lookup.summary", lang)), joined], className="lku-summary",
                  id=f"{PAGE}-summary")


def timeline(answer: dict[str, Any], lang: str) -> html.Div:
    zone, names = answer["zone"], answer["names"]
    rows = [html.Tr([html.Td(_when(e["ts"], zone), className="lku-time"),
                     html.Td(event_label(e, lang), className="lku-event"),
                     html.Td(event_detail(e, names, lang), className="lku-detail")],
                    className=f"lku-{e['kind']} lku-{e['kind']}-{e['status']}")
            for e in answer["events"]]
    return html.Div([
        html.P(t("lookup.zone", lang).replace("{zone}", zone.key), className="lku-note"),
        html.Table([html.Thead(html.Tr([html.Th(t(c, lang)) for c in COLUMNS])),
                    html.Tbody(rows, id=f"{PAGE}-events")], className="lku-table"),
    ])


dash.register_page(__name__, path=PATH, name="enrollment_lookup", title="IOC", layout=layout, wall=False)
