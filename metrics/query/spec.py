"""The analyst query's request side: the limits, the whitelist as the registered domains
declare it (``metrics/<name>.py``, ``MetricsDomain.query``), and :func:`parse_spec`, which turns request
parameters into a frozen :class:`QuerySpec` or refuses them with a :class:`QueryError` whose
message names the allowed values. How time is bucketed is in the package docstring."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from metrics import times
from metrics.domain import Dimension, Grain, Kind, Measure, Source
from metrics.domain import Queryable as Domain
from metrics.registry import DOMAINS as REGISTERED
from metrics.registry import Live
from metrics.times import local_midnight

__all__ = ["DEFAULT_GRAIN", "DEFAULT_SPAN", "DOMAINS", "GRAINS", "MAX_ROWS", "MAX_SEASONS", "MAX_SPAN",
           "MAX_VALUE_LEN",
           "MINUTE_KEPT", "PARAMETERS", "Dimension", "Domain", "Grain", "Kind", "Measure", "QueryError",
           "QuerySpec", "Source", "ceil_bucket", "floor_bucket", "next_bucket", "parse_spec", "parse_time"]
__all__ += ["COMPARE_KINDS"]

GRAINS: tuple[Grain, ...] = ("minute", "hour", "day", "season")
DEFAULT_GRAIN: Grain = "hour"
#: how far back ``from`` reaches when only ``to`` (or nothing) is given (``season``: the
#: current admission year and the two before it)
DEFAULT_SPAN: dict[Grain, timedelta] = {
    "minute": timedelta(hours=1), "hour": timedelta(hours=24), "day": timedelta(days=30),
    "season": timedelta(days=730)}
#: the longest range a request may ask for at each grain (rows grow with the range);
#: ``season`` counts whole admission years (20)
MAX_SPAN: dict[Grain, timedelta] = {
    "minute": timedelta(days=2), "hour": timedelta(days=92), "day": timedelta(days=800),
    "season": timedelta(days=7305)}
MAX_SEASONS = 20
#: how long the minute rollups are kept (``ROLLUP_1M_TTL_DAYS`` in the schema; a test keeps
#: them equal): older minutes would read as zeros, so asking for them is refused instead
MINUTE_KEPT = timedelta(days=63)
#: the most rows one answer may have after filling empty buckets
MAX_ROWS = 200_000
#: the parameters every domain takes besides its dimensions
PARAMETERS = ("from", "to", "grain", "measures", "group_by", "compare")
#: what ``compare=`` may ask for: the range of the same length just before, or the same
#: calendar dates a year earlier (``metrics/query/compare.py``)
COMPARE_KINDS = ("previous", "last_year")
MAX_VALUE_LEN = 64


class QueryError(ValueError):
    """A request the query API cannot answer; ``message`` says what to change."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message



#: The query whitelist of every registered domain that declares one, by domain name.
DOMAINS: Live[str, Domain] = REGISTERED.live(lambda ds: {d.name: d.query for d in ds if d.query is not None})


# --------------------------------------------------------------------------- the request


@dataclass(frozen=True)
class QuerySpec:
    """One validated, normalised request: every field typed, every name from the whitelist.

    ``start``/``end`` are the ``from``/``to`` of the request as aware UTC datetimes, already
    rounded out to whole buckets (``end`` exclusive); ``filters`` are sorted by dimension
    with sorted, distinct values, so two requests that mean the same thing compare equal and
    share a cache key.
    """

    domain: str
    measures: tuple[str, ...]
    group_by: tuple[str, ...]
    filters: tuple[tuple[str, tuple[str, ...]], ...]
    start: datetime
    end: datetime
    grain: Grain
    #: ``previous`` or ``last_year``: the answer adds the comparison period's figures
    compare: str | None = None

    def cache_key(self, zone: ZoneInfo) -> str:
        """A canonical text of the spec (and the zone that shapes its buckets)."""
        filters = ";".join(f"{k}={','.join(v)}" for k, v in self.filters)
        return (f"query/v1|{self.domain}|{self.grain}|{zone.key}|{self.start.isoformat()}|"
                f"{self.end.isoformat()}|m={','.join(self.measures)}|g={','.join(self.group_by)}|"
                f"f={filters}|c={self.compare or ''}")


def _allowed(names: Iterable[str]) -> str:
    return ", ".join(names)


def _single(args: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = args.get(name) or []
    if len(values) > 1:
        raise QueryError("bad_parameter", f"{name} is given {len(values)} times; give it once")
    return values[0] if values else None


def _names(raw: str | None, param: str) -> tuple[str, ...] | None:
    if raw is None:
        return None
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    if not names:
        raise QueryError("bad_parameter", f"{param} is empty; name at least one or leave it out")
    return names


def floor_bucket(t: datetime, grain: Grain, zone: ZoneInfo) -> datetime:
    """Start of the bucket holding ``t`` (aware UTC): minutes and hours are UTC buckets,
    days start at local midnight, seasons (admission years) at local midnight of January 1."""
    t = t.astimezone(UTC)
    if grain == "minute":
        return t.replace(second=0, microsecond=0)
    if grain == "hour":
        return t.replace(minute=0, second=0, microsecond=0)
    local = t.astimezone(zone)
    if grain == "season":
        return local_midnight(date(local.year, 1, 1), zone)
    return local_midnight(local.date(), zone)


def next_bucket(start: datetime, grain: Grain, zone: ZoneInfo) -> datetime:
    """Start of the bucket after the one starting at ``start``."""
    if grain == "minute":
        return start + timedelta(minutes=1)
    if grain == "hour":
        return start + timedelta(hours=1)
    if grain == "season":
        return local_midnight(date(start.astimezone(zone).year + 1, 1, 1), zone)
    return local_midnight(start.astimezone(zone).date() + timedelta(days=1), zone)


def ceil_bucket(t: datetime, grain: Grain, zone: ZoneInfo) -> datetime:
    start = floor_bucket(t, grain, zone)
    return start if start == t else next_bucket(start, grain, zone)


def parse_time(name: str, raw: str, zone: ZoneInfo) -> datetime:
    """``from``/``to`` as aware UTC, read by the product's one time reader
    (:func:`metrics.times.parse_time`: a time without offset is in the site's zone, a date
    is local midnight); a time it cannot read is a ``bad_parameter``."""
    try:
        return times.parse_time(name, raw, zone)
    except times.TimeError as exc:
        raise QueryError("bad_parameter", exc.message) from None


def _availability(domain: Domain, dim: str, grain: Grain, role: str) -> None:
    """Refuse a dimension that no rollup of this grain keeps, saying which grain does."""
    if any(dim in s.dims(grain) for s in domain.sources):
        return
    if grain == "minute" and any(dim in s.hour for s in domain.sources):
        raise QueryError("bad_parameter", (
            f"{role} {dim} is not kept per minute (the minute rollups are narrower); use grain=hour "
            f"or grain=day, or drop {dim}"))
    raise QueryError("bad_parameter", f"{role} {dim} is not available in {domain.name}")


def _check_value(domain: Domain, name: str, value: str) -> str:
    dim = domain.dimension(name)
    if dim.values:
        if value not in dim.values:
            raise QueryError("bad_parameter", (
                f"{name}={value!r} is not a {name}; use one of: {_allowed(dim.values)}"))
        return value
    if not value or len(value) > MAX_VALUE_LEN or not value.isprintable():
        raise QueryError("bad_parameter", (
            f"{name}={value[:80]!r}: a {name} is 1–{MAX_VALUE_LEN} printable characters"))
    return value


def parse_spec(domain_name: str, args: Mapping[str, Sequence[str]], zone: ZoneInfo,
               now: datetime | None = None, extra: Sequence[str] = ()) -> QuerySpec:
    """Validate a request's parameters (each name → its values, as a multi-dict gives them).

    ``extra`` names parameters the caller handles itself (``format``), so the message for an
    unknown parameter lists everything the route takes. Raises :class:`QueryError`.
    """
    domain = DOMAINS.get(domain_name)
    if domain is None:
        raise QueryError("unknown_domain", (
            f"there is no query domain {domain_name!r}; use one of: {_allowed(DOMAINS)}"))
    now = (now or datetime.now(UTC)).astimezone(UTC)
    allowed = (*PARAMETERS, *extra)
    unknown = sorted(set(args) - set(allowed) - set(domain.dimension_names))
    if unknown:
        raise QueryError("bad_parameter", (
            f"unknown parameter {unknown[0]!r}; {domain.name} takes {_allowed(allowed)} and the "
            f"dimensions {_allowed(domain.dimension_names)}"))
    for name in allowed:
        _single(args, name)  # every parameter but a filter is given at most once

    grain_raw = _single(args, "grain")
    grain: Grain = domain.default_grain
    if grain_raw is not None:
        if grain_raw not in GRAINS:
            raise QueryError("bad_parameter", f"grain={grain_raw!r}: use one of: {_allowed(domain.grains)}")
        if grain_raw not in domain.grains:
            raise QueryError("bad_parameter", (
                f"grain={grain_raw} is not a grain of {domain.name}; it takes grain "
                f"{_allowed(domain.grains)}"))
        grain = grain_raw

    requested = _names(_single(args, "measures"), "measures")
    for m in requested or ():
        if m not in domain.measure_names:
            raise QueryError("bad_parameter", (
                f"unknown measure {m!r} for {domain.name}; use: {_allowed(domain.measure_names)}"))
    group_by = _names(_single(args, "group_by"), "group_by") or ()
    for g in group_by:
        if g not in domain.dimension_names:
            raise QueryError("bad_parameter", (
                f"cannot group by {g!r} in {domain.name}; use: {_allowed(domain.dimension_names)}"))
    filters: dict[str, tuple[str, ...]] = {}
    for name in domain.dimension_names:
        if name in args:
            values = sorted({_check_value(domain, name, v) for v in args[name]})
            if not values:
                raise QueryError("bad_parameter", f"{name} is given without a value")
            filters[name] = tuple(values)

    used = (*group_by, *(d for d in filters if d not in group_by))
    for dim in used:
        _availability(domain, dim, grain, "group_by" if dim in group_by else "filter")

    def fits(m: Measure) -> bool:
        return all(d in domain.source(m.source).dims(grain) for d in used)

    if requested is None:
        measures = tuple(m.name for m in domain.measures if fits(m))
        if not measures:
            raise QueryError("bad_parameter", (
                f"no measure of {domain.name} can be split by {_allowed(used)} together; "
                f"split by dimensions of one stream"))
    else:
        measures = requested
        for m in measures:
            measure = domain.measure(m)
            source = domain.source(measure.source)
            missing = [d for d in used if d not in source.dims(grain)]
            if missing:
                applies = [x.name for x in domain.measures
                           if missing[0] in domain.source(x.source).dims(grain)]
                raise QueryError("bad_parameter", (
                    f"{missing[0]} does not apply to measure {m} (from {source.stream}, which keeps "
                    f"{_allowed(source.dims(grain))} per {grain}); drop {missing[0]}, or ask for "
                    f"measures it applies to: {_allowed(applies)}"))

    compare = _single(args, "compare")
    if compare is not None and compare not in COMPARE_KINDS:
        raise QueryError("bad_parameter", (
            f"compare={compare[:40]!r}: use one of: {_allowed(COMPARE_KINDS)}, or leave compare out"))
    start, end = _range(args, grain, zone, now)
    return QuerySpec(domain.name, measures, group_by, tuple(sorted(filters.items())), start, end, grain,
                     compare)


def _range(args: Mapping[str, Sequence[str]], grain: Grain, zone: ZoneInfo,
           now: datetime) -> tuple[datetime, datetime]:
    """``from``/``to`` rounded out to whole buckets, ``to`` cut at the end of the current one."""
    raw_from, raw_to = _single(args, "from"), _single(args, "to")
    to = parse_time("to", raw_to, zone) if raw_to is not None else now
    frm = parse_time("from", raw_from, zone) if raw_from is not None else to - DEFAULT_SPAN[grain]
    if frm >= to:
        raise QueryError("bad_parameter", (
            f"from ({frm.isoformat()}) must be before to ({to.isoformat()})"))
    horizon = next_bucket(floor_bucket(now, grain, zone), grain, zone)
    start = floor_bucket(frm, grain, zone)
    end = min(ceil_bucket(to, grain, zone), horizon)
    if start >= end:
        raise QueryError("bad_parameter", (
            f"from ({frm.isoformat()}) is in the future; nothing has happened yet"
            + ("" if raw_from is not None
               else f" (from defaults to to minus {_span_text(DEFAULT_SPAN[grain])})")))
    if grain == "day":
        span_days = (end.astimezone(zone).date() - start.astimezone(zone).date()).days
        too_long = span_days > MAX_SPAN["day"].days
    elif grain == "season":
        too_long = end.astimezone(zone).year - start.astimezone(zone).year > MAX_SEASONS
    else:
        too_long = end - start > MAX_SPAN[grain]
    if too_long:
        wider = {"minute": " or use grain=hour", "hour": " or use grain=day", "day": "",
                 "season": ""}[grain]
        raise QueryError("bad_parameter", (
            f"the range from {start.isoformat()} to {end.isoformat()} is too long for grain={grain}: "
            f"at most {_span_text(MAX_SPAN[grain], grain)}; narrow it{wider}"))
    if grain == "minute" and start < floor_bucket(now - MINUTE_KEPT, "minute", zone):
        raise QueryError("bad_parameter", (
            f"minute buckets are kept {MINUTE_KEPT.days} days and from={start.isoformat()} is older; "
            f"use grain=hour or grain=day"))
    return start, end


def _span_text(span: timedelta, grain: str = "") -> str:
    if grain == "season":
        return f"{MAX_SEASONS if span == MAX_SPAN['season'] else round(span.days / 365.25) + 1} seasons"
    if span.days > 1 and not span.seconds:
        return f"{span.days} days"
    hours = span.total_seconds() / 3600
    return f"{hours:g} hour{'' if hours == 1 else 's'}"
