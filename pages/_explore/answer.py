"""The answer of /explore: asked once through the query API's code, drawn as a chart, a
table a page at a time, and the API links that give the same rows.

The labels come from the catalogue (``explore.m.*``, ``explore.d.*``, ``explore.v.*``) and
codes are shown by their site catalogue names (the code in the tooltip); the figures are
written as the table shows them, so nothing needs a hover to be read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dash import html
from flask import request

from ioc_app import read
from layouts.charts import timeseries
from layouts.i18n import t
from layouts.table import table
from pages._explore.question import Question, api_args, api_url, parse_moment, range_end, time_text

log = logging.getLogger("ioc.pages.explore")
PAGE_ROWS = 50  # table rows per page: a tablet screen and a bit
MAX_ROWS = 20_000  # the most rows the page draws; a longer answer is for the CSV
CHART_GROUPS = 12  # more lines than this are a tangle, not a chart


def measure_label(domain: str, name: str, lang: str) -> str:
    return t(f"explore.m.{domain}.{name}", lang)


def dim_label(name: str, lang: str) -> str:
    return t(f"explore.d.{name}", lang)


def value_label(dim: dict[str, Any], value: Any, lang: str) -> str:
    """A group's value as shown: a catalogue code by its name, an enumeration translated, a
    code the catalogue lacks as the code marked, a free code (a hotline queue) as sent, null as
    "(none)"."""
    if value is None:
        return t("explore.none_value", lang)
    return read.names().value_label(dim["name"], value, lang)


def value_cell(dim: dict[str, Any], value: Any, lang: str) -> Any:
    """A group's value in the table: the name shown, the code in the tooltip (an analyst
    matching a row with a feed or a script still finds the code); an unknown code marked."""
    text = value_label(dim, value, lang)
    if value is None or text == str(value):
        return text
    names = read.names()
    known = names.value(dim["name"], value, lang) is not None
    return html.Span(text, title=str(value), className=None if known else "ex-unknown",
                     **{"data-code": str(value)})


def bucket_text(value: str, grain: str) -> str:
    """A bucket as the table shows it, in the site's local time: ``2026-09-01 08:00``."""
    return value if grain == "day" else value[:16].replace("T", " ")


def diff_text(value: Any, kind: str, lang: str) -> str:
    """A change as the table shows it: signed; a ratio's change in percentage points."""
    if value is None:
        return "—"
    if kind == "ratio":
        return f"{value * 100:+.2f}{t('explore.pp', lang)}"
    if kind == "mean":
        return f"{value:+,.2f}"
    return _carried(value, "+")


def _carried(value: Any, sign: str = "") -> str:
    """A count, lowest or highest with separators and the decimals it carries: a score of
    612.5 is 612.5 (never 612), a count or a peak in bits per second stays whole. Up to six
    places, as the chart's hover writes them, so a float's last-bit noise stays hidden."""
    if float(value).is_integer():
        return f"{int(value):{sign},}"
    return f"{value:{sign},.6f}".rstrip("0").rstrip(".")


def number_text(value: Any, kind: str) -> str:
    """A figure as the table shows it: counts, lowest and highest with separators and the
    decimals they carry (a minimum score of 612.5, not 612), means to two places, ratios as
    percent to two places, no sample as "—" (never a zero)."""
    if value is None:
        return "—"
    if kind == "ratio":
        return f"{value * 100:.2f}%"
    if kind == "mean":
        return f"{value:,.2f}"
    return _carried(value)


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
    compare = (answer.get("compare") or {}).get("kind")
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
            if compare:
                past = [None] * len(xs)
                for r in rows:
                    if tuple(r[g] for g in group_by) == group:
                        past[position[r[grain]]] = r[f"{m}_cmp"]
                series.append({"name": f"{name} · {t(f'explore.compare.{compare}', lang)}", "y": past,
                               "kind": kinds[m], "compare": True})
    x = xs if grain == "day" else [v[:19].replace("T", " ") for v in xs]
    return timeseries(x, series, theme=theme, grain=grain, revision=revision), left_out


def by_volume(answer: Mapping[str, Any], label: Callable[[tuple[Any, ...]], str]) -> dict[str, Any]:
    """The answer with its groups largest first — by the first measure's total over the
    range, the way the cockpits' ranking boards order gates or services — within each bucket;
    equal totals by their ``label``, as the boards break ties. A person reading the chart's
    legend or a day's rows finds the busiest gate on top, as on the wall."""
    rows, group_by = answer["rows"] or [], answer["group_by"]
    if not group_by or not rows:
        return dict(answer)
    first, grain = answer["measures"][0], answer["grain"]
    totals: dict[tuple[Any, ...], float] = {}
    for r in rows:
        key = tuple(r[g] for g in group_by)
        totals[key] = totals.get(key, 0.0) + abs(r[first] or 0)
    rank = {key: i for i, key in enumerate(sorted(totals, key=lambda k: (-totals[k], label(k))))}
    buckets = {b: i for i, b in enumerate(dict.fromkeys(r[grain] for r in rows))}
    ordered = sorted(rows, key=lambda r: (buckets[r[grain]], rank[tuple(r[g] for g in group_by)]))
    return {**answer, "rows": ordered}


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
    compare = (answer.get("compare") or {}).get("kind")
    head = [t(f"explore.col.{grain}", lang)] + [dim_label(g, lang) for g in group_by]
    for m in measures:
        label = measure_label(domain, m, lang)
        head += [label] if not compare else [label, t(f"explore.cmp_col.{compare}", lang).format(m=label),
                                             t("explore.diff_col", lang).format(m=label)]
    body = []
    for r in shown:
        cells = [bucket_text(r[grain], grain)] + [value_cell(dims[g], r[g], lang) for g in group_by]
        for m in measures:
            cells.append(number_text(r[m], kinds[m]))
            if compare:
                cells += [number_text(r[f"{m}_cmp"], kinds[m]), diff_text(r[f"{m}_diff"], kinds[m], lang)]
        body.append(cells)
    first = 1 + len(group_by)
    box = table(head, body, numeric=range(first, len(head)), empty=t("explore.no_rows", lang), cls="ex-table")
    line = (t("explore.page_of", lang).format(a=f"{page * PAGE_ROWS + 1:,}",
                                             b=f"{page * PAGE_ROWS + len(shown):,}", n=f"{len(rows):,}")
            if rows else "")
    return box, line, page



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
    answer = _problems(q, whitelist, lang) or read.query(q.domain, args, MAX_ROWS, lang)
    out: dict[str, Any] = {
        "error": None, "figure": None, "note": "", "table": None, "pager": "", "page": 0, "has_prev": False,
        "has_next": False, "summary": "", "start_text": time_text(args.get("from", [None])[0], zone),
        "end_text": time_text(args.get("to", [None])[0], zone)}
    link_args = dict(args)
    if "error" in answer:
        kind = {"unavailable": "unavailable", "bad_link": "link"}.get(answer["error"], "refused")
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
            dims = _dims(whitelist, q.domain)
            answer = by_volume(answer, lambda key: " · ".join(
                value_label(dims[g], v, lang) for g, v in zip(answer["group_by"], key, strict=True)))
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
    out["xlsx"] = api_url(q.domain, {**link_args, "lang": [lang]}, "xlsx")
    out["dates"] = picker_dates(link_args.get("from", [None])[0], link_args.get("to", [None])[0], zone)
    return out


def _problems(q: Question, whitelist: Mapping[str, Any], lang: str) -> dict[str, Any] | None:
    """The page's own refusal of a link it cannot read (an unknown domain or parameter), in
    the shape of the API's: the question is not asked."""
    if not q.problems:
        return None
    dims = ", ".join(d["name"] for d in whitelist["domains"][q.domain]["dimensions"])
    domains = ", ".join(whitelist["domains"])
    messages = [t(key, lang).format(name=name, dims=domains if key == "explore.bad_domain" else dims)
                for key, name in q.problems]
    return {"error": "bad_link", "message": "; ".join(messages)}


def picker_dates(start: str | None, end: str | None, zone: ZoneInfo) -> tuple[str | None, str | None]:
    """The days the date picker shows for a range: its first day and its last day included
    (a ``to`` at midnight ends the day before)."""
    first, last = parse_moment(start, zone), parse_moment(end, zone)
    return (first.astimezone(zone).date().isoformat() if first else None,
            (last.astimezone(zone) - timedelta(microseconds=1)).date().isoformat() if last else None)


def summary(answer: Mapping[str, Any], lang: str, zone: ZoneInfo) -> str:
    """One line saying what the answer covers: domain, grain, buckets, zone, the comparison
    period and rows."""
    compare = answer.get("compare")
    return " · ".join([
        t(f"explore.domain.{answer['domain']}", lang), t(f"explore.grain.{answer['grain']}", lang),
        f"{time_text(answer['from'], zone)} – {time_text(answer['to'], zone)} ({answer['zone']})",
        *([t("explore.compare_span", lang).format(a=time_text(compare["from"], zone),
                                                   b=time_text(compare["to"], zone))] if compare else []),
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
    if kind == "link":  # the page's own words about its link: they say what to change
        return html.Div([html.Strong(t("explore.error", lang)), html.Div(message, className="ex-msg")],
                        className="ex-error", role="alert", **{"data-kind": kind})
    return html.Div([html.Strong(t("explore.error", lang)), html.Div(message, className="ex-msg", lang="en"),
                     html.Div(t("explore.error_hint", lang), className="ex-hint")],
                    className="ex-error", role="alert", **{"data-kind": kind})

