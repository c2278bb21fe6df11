"""The form and the result panels of /explore, and the ids the page's callbacks address.

Few, fixed choices are buttons, long lists searchable dropdowns; every choice is read from
the query whitelist (``read.query_whitelist``), so a measure added to the API appears here
with nothing else to change but its label in the catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dash import dcc, html

from ioc_app import read
from layouts.i18n import CATALOGUE, t
from pages._explore.answer import dim_label, measure_label, value_label
from pages._explore.dates import picker
from pages._explore.question import COMPARE, PRESETS, Question

PAGE = "explore"

ID = {name: f"{PAGE}-{name}" for name in (
    "url", "domain", "grain", "grain-hint", "preset", "from", "to", "measures", "group-by", "filters",
    "filter-count", "summary", "error", "chart-box", "chart", "chart-note", "table", "pager", "prev",
    "next", "page", "opts", "rows", "api-url", "copy", "json", "csv", "result", "compare", "dates",
    "date-words", "xlsx")}
FILTER = f"{PAGE}-filter"  # pattern ids: {"type": FILTER, "dim": name} (a dropdown)
FILTER_TEXT = f"{PAGE}-filter-text"  # {"type": FILTER_TEXT, "dim": name} (codes typed in)


def _options_of(dim: dict[str, Any], chosen: Sequence[str], lang: str) -> list[dict[str, str]]:
    """A filter's choices: an enumeration's values, or the codes the site catalogue names,
    shown by name and searchable by name or code (the code in the tooltip), plus any value the
    URL already holds (a code the catalogue lacks, marked)."""
    if dim["values"]:
        enumerated = [{"label": value_label(dim, v, lang), "value": v, "title": v,
                       "search": f"{value_label(dim, v, 'zh')} {value_label(dim, v, 'en')} {v}"}
                      for v in dim["values"]]
        return _with_unknown(enumerated, chosen)
    names = read.names()
    return names.options(names.kind(dim["name"]) or "", lang, chosen)


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
        if dim["values"] or read.names().kind(name):
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


def _with_unknown(options: list[dict[str, str]], chosen: Sequence[str]) -> list[dict[str, str]]:
    """``options`` plus a choice for each name of the link they lack, shown as given: a
    dropdown drops a value it has no option for, which would silently ask another question
    instead of showing the API's refusal (the analyst removes it with one tap)."""
    known = {o["value"] for o in options}
    return options + [{"label": f"{v} ?", "value": v} for v in chosen if v not in known]


def measure_options(whitelist: Mapping[str, Any], domain: str, lang: str,
                    chosen: Sequence[str] = ()) -> list[dict[str, str]]:
    """The domain's measures in the whitelist's order (which groups them by stream)."""
    return _with_unknown([{"label": measure_label(domain, m["name"], lang), "value": m["name"]}
                          for m in whitelist["domains"][domain]["measures"]], chosen)


def group_options(whitelist: Mapping[str, Any], domain: str, lang: str,
                  chosen: Sequence[str] = ()) -> list[dict[str, str]]:
    """Every dimension of the domain: one the grain or the measures do not keep is refused by
    the API, with a message naming what does, rather than silently missing here."""
    return _with_unknown([{"label": dim_label(d["name"], lang), "value": d["name"]}
                          for d in whitelist["domains"][domain]["dimensions"]], chosen)


def grain_options(whitelist: Mapping[str, Any], domain: str, lang: str,
                  chosen: str | None = None) -> list[dict[str, str]]:
    """The grains the domain answers (enrollment: days and seasons; the streams: minutes, hours
    and days). A link's grain the domain refuses is kept as a choice marked "?", so the radio
    shows what was asked beside the API's refusal instead of silently choosing another."""
    grains = whitelist["domains"][domain]["grains"]
    options = [{"label": t(f"explore.grain.{g}", lang), "value": g} for g in grains]
    if chosen and chosen not in grains:
        key = f"explore.grain.{chosen}"
        options.append({"label": f"{t(key, lang) if key in CATALOGUE else chosen} ?", "value": chosen})
    return options


def grain_hint(whitelist: Mapping[str, Any], grain: str, lang: str) -> str:
    """The grain's limits in words, before a question runs into them (nothing for a grain the
    whitelist does not know: the API's refusal says which it takes)."""
    limits = whitelist["grains"].get(grain)
    if limits is None:
        return ""

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


def controls(q: Question, whitelist: Mapping[str, Any], lang: str, start_text: str, end_text: str,
             dates: tuple[str | None, str | None] = (None, None)) -> Any:
    """The form. Few, fixed choices are buttons (one tap, all visible); long lists are
    searchable dropdowns; days are picked on a calendar in the page's language (which makes
    the range custom), and times can be typed (a date, or a date and time in the site's zone),
    editable for a custom range, showing a preset's bounds otherwise."""
    custom = q.preset == "custom"
    compares = [{"label": t(f"explore.compare.{c}", lang), "value": c} for c in ("none", *COMPARE)]
    domains = [{"label": t(f"explore.domain.{d}", lang), "value": d} for d in whitelist["domains"]]
    presets = [{"label": t(f"explore.preset.{p}", lang), "value": p} for p in PRESETS]
    return html.Section([
        html.H2(t("explore.query", lang), className="ex-panel-title"),
        html.Div([
            _field("explore.domain", _radio(ID["domain"], domains, q.domain), lang, "ex-wide"),
            _field("explore.grain", html.Div([
                _radio(ID["grain"], grain_options(whitelist, q.domain, lang, q.grain), q.grain),
                html.Div(grain_hint(whitelist, q.grain, lang), id=ID["grain-hint"], className="ex-hint"),
            ]), lang, "ex-wide"),
            _field("explore.range", html.Div([
                _radio(ID["preset"], presets, q.preset),
                picker(ID["dates"], ID["date-words"], dates, lang),
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
            _field("explore.compare", _radio(ID["compare"], compares, q.compare or "none"), lang, "ex-wide"),
            _field("explore.measures", _dropdown(
                ID["measures"], measure_options(whitelist, q.domain, lang, q.measures), list(q.measures),
                t("explore.measures_all", lang), lang), lang),
            _field("explore.group_by", _dropdown(
                ID["group-by"], group_options(whitelist, q.domain, lang, q.group_by), list(q.group_by),
                t("explore.group_none", lang), lang), lang),
        ], className="ex-fields"),
        html.Details([
            html.Summary([t("explore.filters", lang), " ",
                          html.Span(filter_count(q), id=ID["filter-count"], className="ex-count")]),
            html.Div(filter_fields(q, whitelist, lang), id=ID["filters"], className="ex-fields ex-filters"),
        ], open=bool(q.filters), className="ex-details"),
    ], className="ex-panel ex-controls")


def filter_count(q: Question) -> str:
    return f"({len(q.filters)})" if q.filters else ""


def shown(visible: bool) -> dict[str, str]:
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
                     id=ID["chart-box"], className="ex-chart", style=shown(out["figure"] is not None)),
            html.Div(out["note"], id=ID["chart-note"], className="ex-hint"),
        ], className="ex-panel"),
        html.Section(id=ID["rows"], className="ex-panel", style=shown(out["table"] is not None), children=[
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
        html.Section(style=shown(read.may("query")), className="ex-panel", children=[
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
                html.A(t("explore.xlsx", lang), id=ID["xlsx"], href=out["xlsx"], download="",
                       className="ex-button ex-link ex-primary"),
            ], className="ex-api"),
        ]),
    ], id=ID["result"], className="ex-results")

