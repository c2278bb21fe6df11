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
one parameter per filtered dimension, repeated for several values), ``range`` (a preset:
1h, 24h, today, 7d, 30d, or ``custom`` with ``from``/``to``) and ``lang``/``theme``/``at``.
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
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, dcc, html
from flask import request

from ioc_app import read
from layouts.charts import timeseries
from layouts.i18n import CATALOGUE, t
from layouts.live import frame, options
from layouts.table import table

dash.register_page(__name__, path="/explore", name="explore", order=60, title="IOC")

log = logging.getLogger("ioc.pages.explore")
PAGE = "explore"
PRESETS = ("1h", "24h", "today", "7d", "30d", "custom")
DEFAULT_PRESET = "24h"
DEFAULT_GRAIN = "hour"
PRESET_SPAN = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7),
               "30d": timedelta(days=30)}
PAGE_ROWS = 50  # table rows per page: a tablet screen and a bit
MAX_ROWS = 20_000  # the most rows the page draws; a longer answer is for the CSV
CHART_GROUPS = 12  # more lines than this are a tangle, not a chart
API_PATH = "/api/v1/query/"
#: code dimensions whose values the site catalogue names (the rest are typed in)
CATALOGUE_CODES = {"campus": "campuses", "gate_id": "gates", "link_id": "links",
                   "terminal_id": "terminals", "department": "departments", "service_id": "services"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

ID = {name: f"{PAGE}-{name}" for name in (
    "url", "domain", "grain", "grain-hint", "preset", "from", "to", "measures", "group-by", "filters",
    "filter-count", "summary", "error", "chart-box", "chart", "chart-note", "table", "pager", "prev",
    "next", "page", "opts", "rows", "api-url", "copy", "json", "csv", "result")}
FILTER = f"{PAGE}-filter"  # pattern ids: {"type": FILTER, "dim": name} (a dropdown)
FILTER_TEXT = f"{PAGE}-filter-text"  # {"type": FILTER_TEXT, "dim": name} (codes typed in)


# --------------------------------------------------------------------------- the question


class Question(NamedTuple):
    """What the analyst asks, as the URL and the controls hold it (immutable: a tuple, since
    Dash loads page modules outside ``sys.modules``, where a dataclass cannot be built).

    ``measures`` empty means every applicable measure (the API's default); ``start`` and
    ``end`` are used only with the ``custom`` preset, as given (RFC 3339 or a date).
    """

    domain: str
    grain: str = DEFAULT_GRAIN
    measures: tuple[str, ...] = ()
    group_by: tuple[str, ...] = ()
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    preset: str = DEFAULT_PRESET
    start: str | None = None
    end: str | None = None


def _values(query: Mapping[str, Any], name: str) -> list[str]:
    """A parameter's values whether the router gave one string or a list of them."""
    raw = query.get(name)
    if raw is None:
        return []
    return [str(v) for v in (raw if isinstance(raw, list | tuple) else [raw])]


def _names(query: Mapping[str, Any], name: str) -> list[str]:
    return list(dict.fromkeys(n.strip() for v in _values(query, name) for n in v.split(",") if n.strip()))


def default_measures(domain: dict[str, Any]) -> tuple[str, ...]:
    """The domain's first measure and the next of the same stream and kind (entries and
    exits, inbound and outbound): a chart that reads at once, on one axis."""
    measures = domain["measures"]
    first = measures[0]
    same = [m["name"] for m in measures if m["stream"] == first["stream"] and m["kind"] == first["kind"]]
    return tuple(same[:2])


def question_from_query(query: Mapping[str, Any], whitelist: Mapping[str, Any]) -> Question:
    """The question a URL asks. Names the whitelist does not know are dropped (a bookmark
    outlives a renamed measure); combinations it refuses are kept, for the API to explain."""
    domains = whitelist["domains"]
    domain_name = next((d for d in _values(query, "domain") if d in domains), next(iter(domains)))
    domain = domains[domain_name]
    grain = next((g for g in _values(query, "grain") if g in whitelist["grains"]), DEFAULT_GRAIN)
    known_measures = [m["name"] for m in domain["measures"]]
    if "measures" in query:
        measures = tuple(m for m in _names(query, "measures") if m in known_measures)
    else:
        measures = default_measures(domain)
    dims = {d["name"]: d for d in domain["dimensions"]}
    group_by = tuple(g for g in _names(query, "group_by") if g in dims)
    filters = []
    for name, dim in dims.items():
        values = [v.strip() for v in _values(query, name) if v.strip()]
        if dim["values"]:
            values = [v for v in values if v in dim["values"]]
        if values:
            filters.append((name, tuple(sorted(set(values)))))
    preset = next((p for p in _values(query, "range") if p in PRESETS), None)
    start, end = (_values(query, "from") or [None])[0], (_values(query, "to") or [None])[0]
    if preset is None:
        preset = "custom" if start or end else DEFAULT_PRESET
    if preset != "custom":
        start = end = None
    return Question(domain_name, grain, measures, group_by, tuple(sorted(filters)), preset, start or None,
                    end or None)


def _iso(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


def parse_moment(text: str | None, zone: ZoneInfo) -> datetime | None:
    """A time as typed or bookmarked (RFC 3339, ``2026-09-01 08:00`` in the site's zone, or a
    date = local midnight), aware; None when it is not one — read as every route reads it."""
    return read.read_time(text, zone)


def time_param(text: str | None, zone: ZoneInfo) -> str | None:
    """What the analyst typed, as the API's ``from``/``to``: a date stays a date (local
    midnight), a local time gets the site's offset. Anything else is passed on as typed, so
    the API's message says what is wrong with it."""
    if not text or not text.strip():
        return None
    s = text.strip()
    if _DATE.fullmatch(s):
        return s
    moment = parse_moment(s, zone)
    return _iso(moment, zone) if moment is not None else s


def time_text(param: str | None, zone: ZoneInfo) -> str:
    """A ``from``/``to`` as the form shows it: the site's local time, to the minute."""
    if not param:
        return ""
    if _DATE.fullmatch(param):
        return param
    moment = parse_moment(param, zone)
    if moment is None:
        return param
    local = moment.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M" if local.second == 0 else "%Y-%m-%d %H:%M:%S")


def range_params(q: Question, end: datetime, zone: ZoneInfo) -> tuple[str | None, str | None]:
    """``(from, to)`` for the API: a preset resolved against ``end`` (now, or ``?at=``)."""
    if q.preset == "custom":
        return time_param(q.start, zone), time_param(q.end, zone)
    if q.preset == "today":
        local = end.astimezone(zone)
        midnight = datetime(local.year, local.month, local.day, tzinfo=zone)
        return _iso(midnight, zone), _iso(end, zone)
    return _iso(end - PRESET_SPAN[q.preset], zone), _iso(end, zone)


def api_args(q: Question, end: datetime, zone: ZoneInfo) -> dict[str, list[str]]:
    """The query API's parameters for ``q`` (each name → its values)."""
    start, stop = range_params(q, end, zone)
    args: dict[str, list[str]] = {}
    if start:
        args["from"] = [start]
    if stop:
        args["to"] = [stop]
    args["grain"] = [q.grain]
    if q.measures:
        args["measures"] = [",".join(q.measures)]
    if q.group_by:
        args["group_by"] = [",".join(q.group_by)]
    for name, values in q.filters:
        args[name] = list(values)
    return args


def _encode(pairs: Sequence[tuple[str, str]]) -> str:
    """A query string that keeps commas and colons readable ("+" of an offset is escaped:
    in a query string it would read as a space)."""
    return urlencode(pairs, safe=",:", quote_via=quote)


def api_url(domain: str, args: Mapping[str, Sequence[str]], fmt: str = "json") -> str:
    """The API URL asking ``args`` (path and query; the format only when not JSON)."""
    pairs = [(k, v) for k, values in args.items() for v in values]
    if fmt != "json":
        pairs.append(("format", fmt))
    return f"{API_PATH}{domain}?{_encode(pairs)}"


def page_search(q: Question, lang: str, theme: str, at: str | None) -> str:
    """The page's own query string for ``q``: what a bookmark or a shared link holds."""
    pairs: list[tuple[str, str]] = [("domain", q.domain), ("grain", q.grain),
                                    ("measures", ",".join(q.measures))]
    if q.group_by:
        pairs.append(("group_by", ",".join(q.group_by)))
    pairs += [(name, v) for name, values in q.filters for v in values]
    pairs.append(("range", q.preset))
    if q.preset == "custom":
        pairs += [(k, v) for k, v in (("from", q.start), ("to", q.end)) if v]
    pairs += [("lang", lang), ("theme", theme)]
    if at:
        pairs.append(("at", at))
    return "?" + _encode(pairs)


# --------------------------------------------------------------------------- labels and figures


def measure_label(domain: str, name: str, lang: str) -> str:
    return t(f"explore.m.{domain}.{name}", lang)


def dim_label(name: str, lang: str) -> str:
    return t(f"explore.d.{name}", lang)


def value_label(dim: dict[str, Any], value: Any, lang: str) -> str:
    """A group's value as shown: enumerations translated, codes as sent, null as "(none)"."""
    if value is None:
        return t("explore.none_value", lang)
    key = f"explore.v.{dim['name']}.{value}"
    return t(key, lang) if dim["values"] and key in CATALOGUE else str(value)


def bucket_text(value: str, grain: str) -> str:
    """A bucket as the table shows it, in the site's local time: ``2026-09-01 08:00``."""
    return value if grain == "day" else value[:16].replace("T", " ")


def number_text(value: Any, kind: str) -> str:
    """A figure as the table shows it: counts whole with separators, means to two places,
    ratios as percent to two places, no sample as "—" (never a zero)."""
    if value is None:
        return "—"
    if kind == "ratio":
        return f"{value * 100:.2f}%"
    if kind == "mean":
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _dims(whitelist: Mapping[str, Any], domain: str) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in whitelist["domains"][domain]["dimensions"]}


def _kinds(whitelist: Mapping[str, Any], domain: str) -> dict[str, str]:
    return {m["name"]: m["kind"] for m in whitelist["domains"][domain]["measures"]}


def figure(answer: Mapping[str, Any], whitelist: Mapping[str, Any], lang: str, theme: str,
           revision: str = "") -> tuple[dict[str, Any], int]:
    """The chart of an answer, and how many groups it left out (the largest by the first
    measure's total are drawn)."""
    grain, domain = answer["grain"], answer["domain"]
    measures, group_by, rows = answer["measures"], answer["group_by"], answer["rows"] or []
    dims, kinds = _dims(whitelist, domain), _kinds(whitelist, domain)
    xs = list(dict.fromkeys(r[grain] for r in rows))
    groups = list(dict.fromkeys(tuple(r[g] for g in group_by) for r in rows))
    left_out = 0
    if len(groups) > CHART_GROUPS:
        totals = dict.fromkeys(groups, 0.0)
        for r in rows:
            totals[tuple(r[g] for g in group_by)] += abs(r[measures[0]] or 0)
        kept = set(sorted(groups, key=lambda g: -totals[g])[:CHART_GROUPS])
        left_out = len(groups) - len(kept)
        groups = [g for g in groups if g in kept]
    position = {x: i for i, x in enumerate(xs)}
    series = []
    for group in groups:
        values = {m: [None] * len(xs) for m in measures}
        for r in rows:
            if tuple(r[g] for g in group_by) == group:
                for m in measures:
                    values[m][position[r[grain]]] = r[m]
        prefix = " · ".join(value_label(dims[g], v, lang) for g, v in zip(group_by, group, strict=True))
        for m in measures:
            label = measure_label(domain, m, lang)
            name = (f"{prefix} · {label}" if len(measures) > 1 else prefix) if group_by else label
            series.append({"name": name, "y": values[m], "kind": kinds[m]})
    x = xs if grain == "day" else [v[:19].replace("T", " ") for v in xs]
    return timeseries(x, series, theme=theme, grain=grain, revision=revision), left_out


def table_part(answer: Mapping[str, Any], whitelist: Mapping[str, Any], lang: str,
               page: int) -> tuple[Any, str, int]:
    """One page of the answer's rows as a table, the "rows a–b of n" line, and the page
    actually shown (clamped to the pages there are)."""
    grain, domain = answer["grain"], answer["domain"]
    measures, group_by, rows = answer["measures"], answer["group_by"], answer["rows"] or []
    dims, kinds = _dims(whitelist, domain), _kinds(whitelist, domain)
    pages = max(1, -(-len(rows) // PAGE_ROWS))
    page = min(max(page, 0), pages - 1)
    shown = rows[page * PAGE_ROWS:(page + 1) * PAGE_ROWS]
    head = ([t(f"explore.col.{grain}", lang)] + [dim_label(g, lang) for g in group_by]
            + [measure_label(domain, m, lang) for m in measures])
    body = [[bucket_text(r[grain], grain)] + [value_label(dims[g], r[g], lang) for g in group_by]
            + [number_text(r[m], kinds[m]) for m in measures] for r in shown]
    first = 1 + len(group_by)
    box = table(head, body, numeric=range(first, first + len(measures)), empty=t("explore.no_rows", lang),
                cls="ex-table")
    line = (t("explore.page_of", lang).format(a=f"{page * PAGE_ROWS + 1:,}",
                                             b=f"{page * PAGE_ROWS + len(shown):,}", n=f"{len(rows):,}")
            if rows else "")
    return box, line, page


# --------------------------------------------------------------------------- the form


def _options_of(dim: dict[str, Any], chosen: Sequence[str], lang: str) -> list[dict[str, str]]:
    """A filter's choices: an enumeration's values, or the codes the site catalogue names
    (with their names), plus any value the URL already holds."""
    if dim["values"]:
        return [{"label": value_label(dim, v, lang), "value": v} for v in dim["values"]]
    site = read.site()
    named = getattr(site, CATALOGUE_CODES[dim["name"]])
    options = [{"label": f"{n.name_zh if lang == 'zh' else n.name_en} · {n.code}", "value": n.code}
               for n in named]
    known = {o["value"] for o in options}
    return options + [{"label": v, "value": v} for v in chosen if v not in known]


def filter_fields(q: Question, whitelist: Mapping[str, Any], lang: str) -> list[Any]:
    """One field per dimension of the domain; a dimension the minute rollups lack says so."""
    chosen = dict(q.filters)
    fields = []
    for dim in whitelist["domains"][q.domain]["dimensions"]:
        name = dim["name"]
        label: list[Any] = [dim_label(name, lang)]
        if not dim["minute"]:
            label.append(html.Span(t("explore.not_per_minute", lang), className="ex-note"))
        values = list(chosen.get(name, ()))
        if dim["values"] or name in CATALOGUE_CODES:
            control: Any = _dropdown({"type": FILTER, "dim": name}, _options_of(dim, values, lang), values,
                                     t("explore.filter_any", lang), lang)
        else:
            control = dcc.Input(id={"type": FILTER_TEXT, "dim": name}, value=",".join(values), type="text",
                                debounce=True, placeholder=t("explore.filter_codes", lang),
                                className="ex-input")
        fields.append(html.Div([html.Label(label, className="ex-label"), control], className="ex-field"))
    return fields


def _radio(id_: str, options: list[dict[str, str]], value: str) -> dcc.RadioItems:
    return dcc.RadioItems(id=id_, options=options, value=value, inline=True, className="ex-segments")


DROPDOWN_LABELS = ("select_all", "deselect_all", "selected_count", "search", "clear_search",
                   "clear_selection", "no_options_found")


def _dropdown(id_: Any, options: list[dict[str, str]], value: list[str], placeholder: str,
              lang: str) -> dcc.Dropdown:
    """A multiple choice that speaks the page's language (its own words included)."""
    return dcc.Dropdown(id=id_, options=options, value=value, multi=True, placeholder=placeholder,
                        labels={k: t(f"explore.dd.{k}", lang) for k in DROPDOWN_LABELS},
                        maxHeight=340, className="ex-dropdown")


def measure_options(whitelist: Mapping[str, Any], domain: str, lang: str) -> list[dict[str, str]]:
    """The domain's measures in the whitelist's order (which groups them by stream)."""
    return [{"label": measure_label(domain, m["name"], lang), "value": m["name"]}
            for m in whitelist["domains"][domain]["measures"]]


def group_options(whitelist: Mapping[str, Any], domain: str, lang: str) -> list[dict[str, str]]:
    """Every dimension of the domain: one the grain or the measures do not keep is refused by
    the API, with a message naming what does, rather than silently missing here."""
    return [{"label": dim_label(d["name"], lang), "value": d["name"]}
            for d in whitelist["domains"][domain]["dimensions"]]


def grain_hint(whitelist: Mapping[str, Any], grain: str, lang: str) -> str:
    """The grain's limits in words, before a question runs into them."""
    limits = whitelist["grains"][grain]

    def span(seconds: int) -> str:
        if seconds % 86_400 == 0:
            return t("explore.days", lang).format(n=seconds // 86_400)
        return t("health.dur.h", lang).format(n=seconds // 3600)

    parts = [t("explore.limit", lang).format(max=span(limits["max_s"]))]
    if limits["kept_s"]:
        parts.append(t("explore.kept", lang).format(kept=span(limits["kept_s"])))
    return " · ".join(parts)


def _field(label_key: str, control: Any, lang: str, cls: str = "") -> html.Div:
    return html.Div([html.Label(t(label_key, lang), className="ex-label"), control],
                    className=f"ex-field {cls}".strip())


def controls(q: Question, whitelist: Mapping[str, Any], lang: str, start_text: str, end_text: str) -> Any:
    """The form. Few, fixed choices are buttons (one tap, all visible); long lists are
    searchable dropdowns; times are typed (a date, or a date and time in the site's zone) and
    editable only for a custom range, showing a preset's bounds otherwise."""
    custom = q.preset == "custom"
    domains = [{"label": t(f"explore.domain.{d}", lang), "value": d} for d in whitelist["domains"]]
    grains = [{"label": t(f"explore.grain.{g}", lang), "value": g} for g in whitelist["grains"]]
    presets = [{"label": t(f"explore.preset.{p}", lang), "value": p} for p in PRESETS]
    return html.Section([
        html.H2(t("explore.query", lang), className="ex-panel-title"),
        html.Div([
            _field("explore.domain", _radio(ID["domain"], domains, q.domain), lang, "ex-wide"),
            _field("explore.grain", html.Div([
                _radio(ID["grain"], grains, q.grain),
                html.Div(grain_hint(whitelist, q.grain, lang), id=ID["grain-hint"], className="ex-hint"),
            ]), lang, "ex-wide"),
            _field("explore.range", html.Div([
                _radio(ID["preset"], presets, q.preset),
                html.Div([
                    html.Label([html.Span(t("explore.from", lang), className="ex-sub"),
                                dcc.Input(id=ID["from"], value=start_text, type="text", debounce=True,
                                          disabled=not custom, placeholder="2026-09-01 08:00",
                                          className="ex-input")], className="ex-time"),
                    html.Label([html.Span(t("explore.to", lang), className="ex-sub"),
                                dcc.Input(id=ID["to"], value=end_text, type="text", debounce=True,
                                          disabled=not custom, placeholder="2026-09-02 00:00",
                                          className="ex-input")], className="ex-time"),
                ], className="ex-times"),
            ]), lang, "ex-wide"),
            _field("explore.measures", _dropdown(
                ID["measures"], measure_options(whitelist, q.domain, lang), list(q.measures),
                t("explore.measures_all", lang), lang), lang),
            _field("explore.group_by", _dropdown(
                ID["group-by"], group_options(whitelist, q.domain, lang), list(q.group_by),
                t("explore.group_none", lang), lang), lang),
        ], className="ex-fields"),
        html.Details([
            html.Summary([t("explore.filters", lang), " ",
                          html.Span(_filter_count(q), id=ID["filter-count"], className="ex-count")]),
            html.Div(filter_fields(q, whitelist, lang), id=ID["filters"], className="ex-fields ex-filters"),
        ], open=bool(q.filters), className="ex-details"),
    ], className="ex-panel ex-controls")


def _filter_count(q: Question) -> str:
    return f"({len(q.filters)})" if q.filters else ""


# --------------------------------------------------------------------------- answering


def range_end(at: str | None, zone: ZoneInfo) -> datetime:
    """What presets count back from: ``?at=`` when it is a time, else now."""
    return parse_moment(at, zone) or datetime.now(zone)


def _absolute(path: str) -> str:
    try:
        return request.host_url.rstrip("/") + path
    except RuntimeError:  # outside a request (a unit test): the path alone
        return path


def result(q: Question, lang: str, theme: str, at: str | None, page: int = 0) -> dict[str, Any]:
    """Everything the page shows for ``q``: asked once through the query API's code."""
    whitelist = read.query_whitelist()
    zone = read.settings().zone
    args = api_args(q, range_end(at, zone), zone)
    answer = read.query(q.domain, args, MAX_ROWS)
    out: dict[str, Any] = {
        "error": None, "figure": None, "note": "", "table": None, "pager": "", "page": 0, "has_prev": False,
        "has_next": False, "summary": "", "start_text": time_text(args.get("from", [None])[0], zone),
        "end_text": time_text(args.get("to", [None])[0], zone)}
    link_args = dict(args)
    if "error" in answer:
        kind = "unavailable" if answer["error"] == "unavailable" else "refused"
        out["error"] = error_box(answer["message"], kind, lang)
        log.info("event=explore.refused domain=%s code=%s", q.domain, answer["error"])
    else:
        link_args = {**args, "from": [answer["from"]], "to": [answer["to"]]}
        out["start_text"], out["end_text"] = time_text(answer["from"], zone), time_text(answer["to"], zone)
        out["summary"] = summary(answer, lang, zone)
        if answer["rows"] is None:
            out["error"] = error_box(t("explore.too_many", lang).format(
                n=f"{answer['row_count']:,}", max=f"{MAX_ROWS:,}"), "too_many", lang)
        else:
            out["figure"], left_out = figure(answer, whitelist, lang, theme,
                                             revision=api_url(q.domain, link_args))
            if left_out:
                groups = len({tuple(r[g] for g in answer["group_by"]) for r in answer["rows"]})
                out["note"] = t("explore.chart_top", lang).format(k=CHART_GROUPS, n=groups)
            out["table"], out["pager"], out["page"] = table_part(answer, whitelist, lang, page)
            out["has_prev"] = out["page"] > 0
            out["has_next"] = (out["page"] + 1) * PAGE_ROWS < len(answer["rows"])
    out["api"] = _absolute(api_url(q.domain, link_args))
    out["json"] = api_url(q.domain, link_args)
    out["csv"] = api_url(q.domain, link_args, "csv")
    return out


def summary(answer: Mapping[str, Any], lang: str, zone: ZoneInfo) -> str:
    """One line saying what the answer covers: domain, grain, buckets, zone and rows."""
    return " · ".join([
        t(f"explore.domain.{answer['domain']}", lang), t(f"explore.grain.{answer['grain']}", lang),
        f"{time_text(answer['from'], zone)} – {time_text(answer['to'], zone)} ({answer['zone']})",
        t("explore.row_count", lang).format(n=f"{answer['row_count']:,}"),
    ])


def error_box(message: str, kind: str, lang: str) -> html.Div:
    """The refusal in the page (never a Dash error): translated framing, the API's message,
    and the advice to change the question as it says."""
    if kind == "unavailable":
        return html.Div([html.Strong(t("explore.unavailable", lang)),
                         html.Div(t("error.reference", lang).format(id=message), className="ex-msg")],
                        className="ex-error", role="alert", **{"data-kind": kind})
    if kind == "too_many":
        return html.Div([html.Strong(t("explore.error", lang)), html.Div(message, className="ex-msg")],
                        className="ex-error", role="alert", **{"data-kind": kind})
    return html.Div([html.Strong(t("explore.error", lang)), html.Div(message, className="ex-msg", lang="en"),
                     html.Div(t("explore.error_hint", lang), className="ex-hint")],
                    className="ex-error", role="alert", **{"data-kind": kind})


def _shown(visible: bool) -> dict[str, str]:
    return {} if visible else {"display": "none"}


def results(out: dict[str, Any], lang: str) -> Any:
    """The answer: summary, refusal or chart, the rows a page at a time, and the API URL with
    its JSON and CSV links (the CSV is the analyst's copy of exactly these rows)."""
    return html.Div([
        html.Section([
            html.Div([html.H2(t("explore.result", lang), className="ex-panel-title"),
                      html.Div(out["summary"], id=ID["summary"], className="ex-summary")],
                     className="ex-panel-head"),
            html.Div(out["error"], id=ID["error"]),
            html.Div(dcc.Graph(id=ID["chart"], figure=out["figure"] or {"data": [], "layout": {}},
                               config={"displayModeBar": False, "responsive": True}, className="ex-graph"),
                     id=ID["chart-box"], className="ex-chart", style=_shown(out["figure"] is not None)),
            html.Div(out["note"], id=ID["chart-note"], className="ex-hint"),
        ], className="ex-panel"),
        html.Section(id=ID["rows"], className="ex-panel", style=_shown(out["table"] is not None), children=[
            html.Div([html.H2(t("explore.rows", lang), className="ex-panel-title"),
                      html.Div([
                          html.Button(t("explore.prev", lang), id=ID["prev"], n_clicks=0,
                                      disabled=not out["has_prev"], className="ex-button"),
                          html.Span(out["pager"], id=ID["pager"], className="ex-pager-text"),
                          html.Button(t("explore.next", lang), id=ID["next"], n_clicks=0,
                                      disabled=not out["has_next"], className="ex-button"),
                      ], className="ex-pager")], className="ex-panel-head"),
            html.Div(out["table"], id=ID["table"]),
        ]),
        # the API URL and the downloads are the analyst's (a leader drilling down sees figures)
        html.Section(style=_shown(read.may("query")), className="ex-panel", children=[
            html.H2(t("explore.api", lang), className="ex-panel-title"),
            html.Div([
                dcc.Input(id=ID["api-url"], value=out["api"], readOnly=True, type="text",
                          className="ex-input ex-api-url"),
                html.Button(t("explore.copy", lang), id=ID["copy"], n_clicks=0, className="ex-button",
                            **{"data-done": t("explore.copied", lang)}),
                html.A(t("explore.json", lang), id=ID["json"], href=out["json"], target="_blank",
                       className="ex-button ex-link"),
                html.A(t("explore.csv", lang), id=ID["csv"], href=out["csv"], download="",
                       className="ex-button ex-link ex-primary"),
            ], className="ex-api"),
        ]),
    ], id=ID["result"], className="ex-results")


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
        controls(q, whitelist, lang, out["start_text"], out["end_text"]),
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


def question_from_form(domain: str, grain: str, measures: Sequence[str] | None,
                       group_by: Sequence[str] | None, preset: str, start: str | None, end: str | None,
                       filters: Mapping[str, Sequence[str]], zone: ZoneInfo) -> Question:
    """The question the controls hold (times as the API takes them, in the site's zone)."""
    chosen = tuple((name, tuple(sorted(set(values)))) for name, values in sorted(filters.items()) if values)
    custom = preset == "custom"
    return Question(domain, grain, tuple(measures or ()), tuple(group_by or ()), chosen, preset,
                    time_param(start, zone) if custom else None, time_param(end, zone) if custom else None)


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
    State(ID["page"], "data"),
    State(ID["opts"], "data"),
    prevent_initial_call=True,
)
def update(domain: str, grain: str, measures: list[str] | None, group_by: list[str] | None, preset: str,
           start: str | None, end: str | None, picked: list[list[str] | None], typed: list[str | None],
           _prev: int, _next: int, page: int | None, cfg: dict[str, Any]) -> tuple[Any, ...]:
    """Any control changed: the question is rebuilt from the form, asked, and every part of
    the page follows; the URL gets a new history entry. A new domain starts from its own
    default measures and no grouping or filter; a page flip asks the same question again
    (from the cache) and redraws only the table."""
    nu = dash.no_update
    lang, theme, at = cfg["lang"], cfg["theme"], cfg.get("at")
    whitelist = read.query_whitelist()
    zone = read.settings().zone
    trigger = ctx.triggered_id
    new_domain = trigger == ID["domain"]
    if new_domain:
        q = Question(domain, grain, default_measures(whitelist["domains"][domain]), (), (), preset,
                     time_param(start, zone) if preset == "custom" else None,
                     time_param(end, zone) if preset == "custom" else None)
    else:
        filters: dict[str, list[str]] = {}
        for item, values in zip(ctx.inputs_list[7], picked, strict=True):
            filters[item["id"]["dim"]] = list(values or [])
        for item, text in zip(ctx.inputs_list[8], typed, strict=True):
            filters[item["id"]["dim"]] = [v.strip() for v in (text or "").split(",") if v.strip()]
        q = question_from_form(domain, grain, measures, group_by, preset, start, end, filters, zone)
    flip = trigger in (ID["prev"], ID["next"])
    wanted = ((page or 0) + (1 if trigger == ID["next"] else -1)) if flip else 0
    out = result(q, lang, theme, at, wanted)
    custom = q.preset == "custom"
    return (
        page_search(q, lang, theme, at) if not flip else nu,
        measure_options(whitelist, domain, lang) if new_domain else nu,
        list(q.measures) if new_domain else nu,
        group_options(whitelist, domain, lang) if new_domain else nu,
        [] if new_domain else nu,
        filter_fields(q, whitelist, lang) if new_domain else nu,
        _filter_count(q),
        grain_hint(whitelist, q.grain, lang),
        nu if custom else out["start_text"],
        nu if custom else out["end_text"],
        not custom,
        not custom,
        out["summary"],
        out["error"],
        nu if flip else (out["figure"] or {"data": [], "layout": {}}),
        _shown(out["figure"] is not None),
        out["note"],
        _shown(out["table"] is not None),
        out["table"],
        out["pager"],
        not out["has_prev"],
        not out["has_next"],
        out["page"],
        out["api"],
        out["json"],
        out["csv"],
    )


clientside_callback(
    ClientsideFunction(namespace="ioc", function_name="exploreCopy"),
    Output(ID["copy"], "children"),
    Input(ID["copy"], "n_clicks"),
    State(ID["api-url"], "value"),
    prevent_initial_call=True,
)
