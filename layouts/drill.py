"""Tap-through: the one place a cockpit figure's breakdown link is made.

Every figure, bar, slice, heat-map cell, map province and ranking row that has an answer in
the query API links to ``/explore`` asking that very question — the same domain, measure,
filters and time range — so the analysis page opens on the number the tile showed, and the
link can be opened in a new tab or sent to a colleague. Tiles carry the link as a real
``<a href>``; a chart's trace carries its points' links in ``ioc_href`` (a list like its
values, a list of rows for a heat map, one string for a trace whose points all lead to one
place such as a map province) — a key of IOC's own, so it never clashes with a trace's
``customdata`` hover texts — which ``assets/ioc_drill.js`` follows on a click or tap. A time
series the browser redraws by itself carries one link with the bucket left open
(:func:`per_bucket`); the browser fills in the tapped point's.

The URL's parameters are ``/explore``'s (docs/api.md): ``domain``, ``grain``, ``measures``,
``group_by``, ``range`` (``today``, ``1h``, …) or ``range=custom`` with ``from``/``to``, and
one parameter per filtered dimension. Figures without an answer in the query API (states
such as the open backlog, or link utilisation) get no link rather than one to another number.
Paired wall screens get none at all: nobody taps a wall (the page asks ``read`` whether the
viewer may follow links).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from dash import html

EXPLORE = "/explore"
#: the step of each grain, for a bucket's ``to`` from its ``from``
STEPS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
#: the class of every tap-through link (a test finds them by it; the wall must have none)
LINK_CLASS = "ioc-drill"


def explore_href(domain: str, measures: str | Sequence[str], grain: str = "day", *,
                 preset: str | None = None, start: str | None = None, end: str | None = None,
                 filters: Mapping[str, str | Sequence[str]] | None = None,
                 group_by: str | Sequence[str] = (), at: str | None = None,
                 lang: str | None = None) -> str:
    """The ``/explore`` URL asking ``measures`` of ``domain`` at ``grain`` over ``preset`` (its
    ``range``: ``today``, ``1h``, ``24h``, ``7d``, ``30d``) or ``start``/``end`` (RFC 3339, a
    local ``YYYY-MM-DD HH:MM`` or a date, as ``/explore`` reads them), with one parameter per
    filter (a list repeats it). ``at`` keeps a replayed page's moment (presets count back
    from it); ``lang`` keeps the page's language. Commas and colons stay readable."""
    names = [measures] if isinstance(measures, str) else list(measures)
    groups = [group_by] if isinstance(group_by, str) else list(group_by)
    pairs: list[tuple[str, str]] = [("domain", domain), ("grain", grain), ("measures", ",".join(names))]
    if groups:
        pairs.append(("group_by", ",".join(groups)))
    for name, values in (filters or {}).items():
        pairs += [(name, str(v)) for v in ([values] if isinstance(values, str | int) else values)]
    if start is not None or end is not None:
        pairs.append(("range", "custom"))
        pairs += [(k, v) for k, v in (("from", start), ("to", end)) if v]
    else:
        pairs.append(("range", preset or "today"))
    if lang:
        pairs.append(("lang", lang))
    if at:
        pairs.append(("at", at))
    return f"{EXPLORE}?{urlencode(pairs, safe=',:', quote_via=quote)}"


def season_href(measures: str | Sequence[str], year: Any, *, lang: str | None = None,
                filters: Mapping[str, str | Sequence[str]] | None = None,
                as_of: str | None = None) -> str | None:
    """An enrollment figure's breakdown: the ``enrollment`` domain at grain ``season`` (one
    bucket per admission year, January 1 to December 31) for the admission year shown
    (``year=``), from its January 1 — up to now for the season under way, which is what the
    cockpit shows, or to the next January 1 for a past one (its final figures). ``as_of`` is
    the snapshot's time (RFC 3339), which says whether the season is past. None without a year
    (before the first season)."""
    if not year:
        return None
    y = int(year)
    past = bool(as_of) and str(as_of)[:4].isdigit() and int(str(as_of)[:4]) > y
    return explore_href("enrollment", measures, "season", start=f"{y}-01-01",
                        end=f"{y + 1}-01-01" if past else None, lang=lang,
                        filters={"year": str(y), **(filters or {})})


def bucket(local: str, grain: str) -> tuple[str, str]:
    """``(from, to)`` of the bucket starting at ``local`` (``YYYY-MM-DD HH:MM``, the site's
    wall time as the charts' axes carry it, or an ISO time with an offset): one ``grain``."""
    moment = datetime.fromisoformat(local.replace(" ", "T"))
    fmt = "%Y-%m-%d %H:%M" if moment.tzinfo is None else None
    end = moment + STEPS[grain]
    if fmt is None:
        return moment.isoformat(timespec="minutes"), end.isoformat(timespec="minutes")
    return moment.strftime(fmt), end.strftime(fmt)


def link(child: Any, href: str | None, cls: str = "") -> Any:
    """``child`` inside a tap-through link to ``href``; ``child`` itself without one."""
    if not href:
        return child
    return html.A(child, href=href, className=f"{LINK_CLASS} {cls}".strip())


#: the trace key holding the points' links
TRACE_KEY = "ioc_href"
#: the trace key of a time series whose points each lead to their own bucket
BUCKET_KEY = "ioc_bucket"
#: what ``assets/ioc_drill.js`` puts a point's bucket in place of
FROM, TO = "IOC_FROM", "IOC_TO"


def points(hrefs: Sequence[Any] | str | None) -> dict[str, Any]:
    """The trace keys that make a chart's points follow their links (``assets/ioc_drill.js``):
    a list (per point; ``None`` for a point without one), a list of rows (a heat map), or one
    string for the whole trace. Nothing when there are none (a wall, or no answerable figure)."""
    if isinstance(hrefs, str):
        return {TRACE_KEY: hrefs}
    cells = [c for h in hrefs or () for c in (h if isinstance(h, list | tuple) else [h])]
    return {TRACE_KEY: list(hrefs or ())} if any(cells) else {}


def per_bucket(domain: str, measures: str | Sequence[str], grain: str, *, lang: str | None = None,
               filters: Mapping[str, str | Sequence[str]] | None = None,
               at: str | None = None) -> dict[str, Any]:
    """The trace keys that make each point of a time series (``x``: the bucket's start as the
    axis carries it, ``YYYY-MM-DD HH:MM`` or a date) lead to its own bucket in /explore. The
    link is made here, with :data:`FROM` and :data:`TO` where the bucket goes; the browser puts
    the tapped point's bucket there — so a chart the browser redraws every minute by itself
    (``layouts.parts``, its ``x`` moving on) needs no new links from the server."""
    href = explore_href(domain, measures, grain, start=FROM, end=TO, lang=lang, filters=filters, at=at)
    return {BUCKET_KEY: {"href": href, "grain": grain}}
