"""The question of /explore and the URLs that carry it.

A drill-down is shared by sending its link, so the question (domain, grain, measures,
grouping, filters, range) must survive a round trip through the page's own query string,
and turn into the query API's parameters exactly as the API reads them. Times are read as
every route reads them (``read.read_time``); presets are resolved against now or ``?at=``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from ioc_app import read

PRESETS = ("1h", "24h", "today", "7d", "30d", "season", "custom")
COMPARE = ("previous", "last_year")
#: the page's own parameters besides the question's dimensions (anything else is refused)
PAGE_PARAMS = frozenset({"domain", "grain", "measures", "group_by", "range", "from", "to", "compare",
                         "lang", "theme", "fit", "at", "screen"})
DEFAULT_PRESET = "24h"
DEFAULT_GRAIN = "hour"
#: the range a grain starts with (a link without ``range``, a domain switch that changes the
#: grain): as many buckets as read at a glance, as the API's own default spans
GRAIN_PRESET = {"minute": "1h", "hour": "24h", "day": "30d", "season": "season"}
PRESET_SPAN = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7),
               "30d": timedelta(days=30)}
API_PATH = "/api/v1/query/"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Question(NamedTuple):
    """What the analyst asks, as the URL and the controls hold it (an immutable
    tuple: a question read back from its own URL compares equal to it).

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
    #: ``previous`` or ``last_year`` (as given: a kind the API does not know is its to refuse)
    compare: str | None = None
    #: what the link asked that the page cannot (an unknown domain or parameter), as
    #: ``(catalogue key, name)``: shown as the refusal instead of an answer
    problems: tuple[tuple[str, str], ...] = ()


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
    """The question a URL asks. Names the whitelist does not know — a measure, a dimension to
    group by, a filter value, a compare kind, a grain — are kept for the API to refuse with
    its message (a bookmark that outlived a renamed measure says so instead of silently
    answering something else); an unknown domain or parameter is the page's own refusal."""
    domains = whitelist["domains"]
    asked = _values(query, "domain")
    domain_name = next((d for d in asked if d in domains), next(iter(domains)))
    problems = [("explore.bad_domain", d) for d in asked[:1] if d not in domains]
    domain = domains[domain_name]
    grain = next(iter(_values(query, "grain")), domain["default_grain"])
    measures = tuple(_names(query, "measures")) if "measures" in query else default_measures(domain)
    dims = {d["name"]: d for d in domain["dimensions"]}
    group_by = tuple(_names(query, "group_by"))
    problems += [("explore.bad_param", k) for k in sorted(query) if k not in PAGE_PARAMS and k not in dims]
    filters = []
    for name in dims:
        values = [v.strip() for v in _values(query, name) if v.strip()]
        if values:
            filters.append((name, tuple(sorted(set(values)))))
    preset = next((p for p in _values(query, "range") if p in PRESETS), None)
    problems += [("explore.bad_range", p) for p in _values(query, "range")[:1] if p not in PRESETS]
    start, end = (_values(query, "from") or [None])[0], (_values(query, "to") or [None])[0]
    if preset is None:
        preset = "custom" if start or end else GRAIN_PRESET.get(grain, DEFAULT_PRESET)
    if preset != "custom":
        start = end = None
    compare = next(iter(_values(query, "compare")), None) or None
    return Question(domain_name, grain, measures, group_by, tuple(sorted(filters)), preset, start or None,
                    end or None, compare, tuple(problems))


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
    if q.preset in ("today", "season"):
        local = end.astimezone(zone)
        first = (datetime(local.year, 1, 1, tzinfo=zone) if q.preset == "season"  # the admission year
                 else datetime(local.year, local.month, local.day, tzinfo=zone))
        return _iso(first, zone), _iso(end, zone)
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
    if q.compare:
        args["compare"] = [q.compare]
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
    if q.compare:
        pairs.append(("compare", q.compare))
    pairs += [("lang", lang), ("theme", theme)]
    if at:
        pairs.append(("at", at))
    return "?" + _encode(pairs)



def range_end(at: str | None, zone: ZoneInfo) -> datetime:
    """What presets count back from: ``?at=`` when it is a time, else now."""
    return parse_moment(at, zone) or datetime.now(zone)



def for_domain(q: Question, domain: str, whitelist: Mapping[str, Any]) -> Question:
    """The question after the analyst picks ``domain`` in the form: its default measures, no
    grouping or filter; the grain and range kept when the domain answers that grain, else the
    domain's default grain over that grain's default range (enrollment: days over the last 30
    days; a domain without seasons leaves ``season`` for hours over the last 24 hours), so a
    switch never lands on a refusal the analyst did not ask for. A link naming a grain the
    domain refuses is not read through here: it keeps its grain and shows the refusal."""
    entry = whitelist["domains"][domain]
    q = Question(domain, q.grain, default_measures(entry), (), (), q.preset, q.start, q.end, q.compare)
    if q.grain in entry["grains"]:
        return q
    grain = entry["default_grain"]
    return q._replace(grain=grain, preset=GRAIN_PRESET.get(grain, DEFAULT_PRESET), start=None, end=None)


def question_from_form(domain: str, grain: str, measures: Sequence[str] | None,
                       group_by: Sequence[str] | None, preset: str, start: str | None, end: str | None,
                       filters: Mapping[str, Sequence[str]], zone: ZoneInfo,
                       compare: str | None = None) -> Question:
    """The question the controls hold (times as the API takes them, in the site's zone)."""
    chosen = tuple((name, tuple(sorted(set(values)))) for name, values in sorted(filters.items()) if values)
    custom = preset == "custom"
    return Question(domain, grain, tuple(measures or ()), tuple(group_by or ()), chosen, preset,
                    time_param(start, zone) if custom else None, time_param(end, zone) if custom else None,
                    compare if compare in COMPARE else None)

