"""Analyst drill-down (数据分析): any measure of the query whitelist over any range, split and
filtered by its dimensions, as a chart, a table of the rows and the API URL that gives the
same answer.

Why the page asks in-process, through the query API's cache: the callback calls
``read.query``, which runs the very code behind ``GET /api/v1/query/<domain>`` on the
runtime's store and shares that route's cache. The figures on the screen and the file behind
the "download CSV" link are one question with one cache entry: what the analyst saw is what
the file holds, a question asked again (a page of the table, the same bookmark on another
laptop, the CSV right after) costs ClickHouse once, and a refusal is the API's own message.
Going over HTTP to our own server would add a request per callback and nothing else.

Why the question lives in the URL: a drill-down is shared by sending its link. The query
string holds the API's own parameters (``domain``, ``grain``, ``measures``, ``group_by`` and
one parameter per filtered dimension, repeated for several values, and ``compare=previous``
or ``last_year``), ``range`` (a preset: 1h, 24h, today, 7d, 30d, or ``custom`` with
``from``/``to``, which the date picker sets) and ``lang``/``theme``/``at``. A link the page
cannot read — an unknown domain, measure, dimension, value, grain, compare kind or parameter
— shows a message saying what to change, never a broken page or a silently different answer.
Every change pushes a history entry, so Back returns to the previous question. A preset is
resolved on each visit, relative to now or to ``?at=`` (a bookmarked "last 7 days" is the
last 7 days); the API link carries the answer's explicit bucket bounds, so it fetches the
same rows whenever it is opened. An empty ``measures=`` asks for every applicable measure,
as the API does without the parameter.

Why the controls are read from the whitelist (``read.query_whitelist``), never listed here:
a measure added to ``metrics/query.py`` appears in the form with nothing else to change but
its label in the catalogue (a test keeps the two in step).

Why light by default: analysts read this at a desk or on a tablet with a form to fill in;
``?theme=dark`` gives the same flowing page in the wall's colours, never the scaled canvas.
The chart's values are all in the table (nothing needs a hover to be read); the chart draws
at most ``CHART_GROUPS`` groups, the table pages through every row, and an answer longer
than ``MAX_ROWS`` is left to the CSV with a message saying so.

The page itself (this module) is its layout and its callbacks; its parts live beside it in
``pages/_explore/`` (a folder Dash does not load as pages, imported by this page alone): the
question and its URLs (``question``), the answer as chart and table (``answer``), and the form
and result panels with the ids the callbacks address (``form``).
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, dcc, html

from ioc_app import read
from layouts.live import frame, options
from pages._explore.answer import result
from pages._explore.dates import picked_range
from pages._explore.form import (
    FILTER,
    FILTER_TEXT,
    ID,
    PAGE,
    controls,
    filter_count,
    filter_fields,
    grain_hint,
    grain_options,
    group_options,
    measure_options,
    results,
    shown,
)
from pages._explore.question import (
    for_domain,
    page_search,
    question_from_form,
    question_from_query,
)

dash.register_page(__name__, path="/explore", name="explore", order=60, title="IOC")


def layout(lang: str | None = None, theme: str | None = None, fit: str | None = None,
           at: str | None = None, screen: str | None = None, **query: Any) -> html.Div:
    """The page for the question in the URL, answered before it is sent: a shared link opens
    on its figures, with no empty first paint and no extra round trip."""
    lang, _, fit = options(lang, theme, fit)
    theme = theme if theme in ("dark", "light") else "light"
    whitelist = read.query_whitelist()
    q = question_from_query(query, whitelist)
    out = result(q, lang, theme, at)
    body = html.Div([
        controls(q, whitelist, lang, out["start_text"], out["end_text"], out["dates"]),
        results(out, lang),
        dcc.Location(id=ID["url"], refresh=False),
        dcc.Store(id=ID["page"], data=out["page"]),
        dcc.Store(id=ID["opts"], data={"lang": lang, "theme": theme, "at": at}),
    ], className=f"ex-grid ex-{theme}")
    # ``at`` stays out of the live frame: here it ends a range, the summary says which, and
    # the header's clock and badge keep telling the snapshot's state as on every page
    return frame(PAGE, "explore.title", body, lang=lang, theme=theme, fit=fit, **read.viewer(),
                 zone=read.settings().zone.key, flow=True)


# --------------------------------------------------------------------------- callbacks


@callback(
    Output(ID["url"], "search"),
    Output(ID["measures"], "options"),
    Output(ID["measures"], "value"),
    Output(ID["group-by"], "options"),
    Output(ID["group-by"], "value"),
    Output(ID["filters"], "children"),
    Output(ID["filter-count"], "children"),
    Output(ID["grain-hint"], "children"),
    Output(ID["from"], "value"),
    Output(ID["to"], "value"),
    Output(ID["from"], "disabled"),
    Output(ID["to"], "disabled"),
    Output(ID["summary"], "children"),
    Output(ID["error"], "children"),
    Output(ID["chart"], "figure"),
    Output(ID["chart-box"], "style"),
    Output(ID["chart-note"], "children"),
    Output(ID["rows"], "style"),
    Output(ID["table"], "children"),
    Output(ID["pager"], "children"),
    Output(ID["prev"], "disabled"),
    Output(ID["next"], "disabled"),
    Output(ID["page"], "data"),
    Output(ID["api-url"], "value"),
    Output(ID["json"], "href"),
    Output(ID["csv"], "href"),
    Output(ID["xlsx"], "href"),
    Output(ID["dates"], "start_date"),
    Output(ID["dates"], "end_date"),
    Output(ID["preset"], "value"),
    Output(ID["grain"], "options"),
    Output(ID["grain"], "value"),
    Input(ID["domain"], "value"),
    Input(ID["grain"], "value"),
    Input(ID["measures"], "value"),
    Input(ID["group-by"], "value"),
    Input(ID["preset"], "value"),
    Input(ID["from"], "value"),
    Input(ID["to"], "value"),
    Input({"type": FILTER, "dim": ALL}, "value"),
    Input({"type": FILTER_TEXT, "dim": ALL}, "value"),
    Input(ID["prev"], "n_clicks"),
    Input(ID["next"], "n_clicks"),
    Input(ID["compare"], "value"),
    Input(ID["dates"], "start_date"),
    Input(ID["dates"], "end_date"),
    State(ID["page"], "data"),
    State(ID["opts"], "data"),
    prevent_initial_call=True,
)
def update(domain: str, grain: str, measures: list[str] | None, group_by: list[str] | None, preset: str,
           start: str | None, end: str | None, picked: list[list[str] | None], typed: list[str | None],
           _prev: int, _next: int, compare: str | None, first_day: str | None, last_day: str | None,
           page: int | None, cfg: dict[str, Any]) -> tuple[Any, ...]:
    """Any control changed: the question is rebuilt from the form, asked, and every part of
    the page follows; the URL gets a new history entry. A new domain starts from its own
    default measures and no grouping or filter, offers only its own grains, and takes its
    default grain and that grain's range when it does not answer the one chosen; a page flip
    asks the same question again (from the cache) and redraws only the table; days picked on
    the calendar make the range custom, from the first day's midnight to the midnight after
    the last."""
    nu = dash.no_update
    lang, theme, at = cfg["lang"], cfg["theme"], cfg.get("at")
    whitelist = read.query_whitelist()
    zone = read.settings().zone
    trigger = ctx.triggered_id
    new_domain = trigger == ID["domain"]
    days = picked_range(first_day, last_day) if trigger == ID["dates"] else None
    if days is not None:
        preset, (start, end) = "custom", days
    if new_domain:
        q = for_domain(question_from_form(domain, grain, (), (), preset, start, end, {}, zone, compare),
                       domain, whitelist)
    else:
        filters: dict[str, list[str]] = {}
        for item, values in zip(ctx.inputs_list[7], picked, strict=True):
            filters[item["id"]["dim"]] = list(values or [])
        for item, text in zip(ctx.inputs_list[8], typed, strict=True):
            filters[item["id"]["dim"]] = [v.strip() for v in (text or "").split(",") if v.strip()]
        q = question_from_form(domain, grain, measures, group_by, preset, start, end, filters, zone, compare)
    flip = trigger in (ID["prev"], ID["next"])
    wanted = ((page or 0) + (1 if trigger == ID["next"] else -1)) if flip else 0
    out = result(q, lang, theme, at, wanted)
    custom = q.preset == "custom"
    typed_times = custom and days is None  # what was typed stays as typed
    regrained = new_domain and q.grain != grain  # the domain does not take the grain: its own
    return (
        page_search(q, lang, theme, at) if not flip else nu,
        measure_options(whitelist, domain, lang) if new_domain else nu,
        list(q.measures) if new_domain else nu,
        group_options(whitelist, domain, lang) if new_domain else nu,
        [] if new_domain else nu,
        filter_fields(q, whitelist, lang) if new_domain else nu,
        filter_count(q),
        grain_hint(whitelist, q.grain, lang),
        nu if typed_times else out["start_text"],
        nu if typed_times else out["end_text"],
        not custom,
        not custom,
        out["summary"],
        out["error"],
        nu if flip else (out["figure"] or {"data": [], "layout": {}}),
        shown(out["figure"] is not None),
        out["note"],
        shown(out["table"] is not None),
        out["table"],
        out["pager"],
        not out["has_prev"],
        not out["has_next"],
        out["page"],
        out["api"],
        out["json"],
        out["csv"],
        out["xlsx"],
        out["dates"][0],
        out["dates"][1],
        q.preset if days is not None or regrained else nu,
        grain_options(whitelist, domain, lang) if new_domain else nu,
        q.grain if regrained else nu,
    )


clientside_callback(
    ClientsideFunction(namespace="ioc", function_name="exploreCopy"),
    Output(ID["copy"], "children"),
    Input(ID["copy"], "n_clicks"),
    State(ID["api-url"], "value"),
    prevent_initial_call=True,
)
