"""Analyst queries (``GET /api/v1/query/<domain>``): aggregate series over the rollups.

Analysts ask free-form questions ("denials per gate per hour last week"), so this module is
the one place where request parameters meet SQL. Everything a request may name comes from a
declarative whitelist per domain: measures (an aggregate over rollup columns), dimensions
(rollup columns to group or filter by) and grains. A request is parsed into a frozen
:class:`QuerySpec` — or refused with a :class:`QueryError` whose message names the allowed
values — and :func:`run` turns the spec into parameterised SQL: identifiers come only from
the whitelist, every value travels as a ``{name:Type}`` parameter.

Time:

- ``minute`` reads the ``_1m`` rollups (kept 63 days, fewer dimensions), ``hour`` and ``day``
  the ``_1h`` rollups. ``day`` is the local date in the site's zone (``toDate(hour, tz)``).
- ``from`` is rounded down to the start of its bucket and ``to`` up to the end of its bucket
  (``to`` is exclusive), so the answer covers whole buckets and says which ones; a ``to``
  later than the current bucket is cut there.
- Hours are UTC hours shown in local time: in a zone whose offset is not a whole number of
  hours (Asia/Kolkata +05:30) an hour bucket starts at :30 local, and a day holds the hours
  that *start* on that local date, so up to the offset's odd minutes (30 or 45) near midnight
  count in the neighbouring day. Whole-hour zones (China, and every DST zone whose offset
  changes by whole hours) are exact.

Empty buckets are filled: every bucket of the range appears for every group seen in the
range, counts as 0 and means, maxima and ratios as null (no sample is not a zero sample). A
time series with gaps would mislead a chart into drawing straight lines over hours nobody
passed a gate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import polars as pl

from ioc_app.storage import SqlStore
from metrics import times

Grain = Literal["minute", "hour", "day"]
Kind = Literal["count", "mean", "max", "ratio"]

GRAINS: tuple[Grain, ...] = ("minute", "hour", "day")
DEFAULT_GRAIN: Grain = "hour"
#: how far back ``from`` reaches when only ``to`` (or nothing) is given
DEFAULT_SPAN: dict[Grain, timedelta] = {
    "minute": timedelta(hours=1), "hour": timedelta(hours=24), "day": timedelta(days=30)}
#: the longest range a request may ask for at each grain (rows grow with the range)
MAX_SPAN: dict[Grain, timedelta] = {
    "minute": timedelta(days=2), "hour": timedelta(days=92), "day": timedelta(days=800)}
#: how long the minute rollups are kept (``ROLLUP_1M_TTL_DAYS`` in the schema; a test keeps
#: them equal): older minutes would read as zeros, so asking for them is refused instead
MINUTE_KEPT = timedelta(days=63)
#: the most rows one answer may have after filling empty buckets
MAX_ROWS = 200_000
#: the parameters every domain takes besides its dimensions
PARAMETERS = ("from", "to", "grain", "measures", "group_by")
MAX_VALUE_LEN = 64

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class QueryError(ValueError):
    """A request the query API cannot answer; ``message`` says what to change."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --------------------------------------------------------------------------- whitelist


@dataclass(frozen=True)
class Dimension:
    """A rollup column analysts may group or filter by.

    ``values`` is the closed set of an enumeration (a filter value outside it is refused
    naming the set); empty for codes, which are stored as sent (reference data may lag).
    ``select`` is the SQL that shows the column (``{c}`` = the column).
    """

    name: str
    doc: str
    values: tuple[str, ...] = ()
    column: str = ""
    select: str = "toString({c})"

    @property
    def col(self) -> str:
        return self.column or self.name


@dataclass(frozen=True)
class Source:
    """One stream's rollups as seen by the measures over them.

    ``parts`` are aggregates over the rollup columns, computed per bucket, group and
    ``series`` (the dimensions that identify one sampled series, e.g. a link); measures
    combine the parts across series. For counted events ``series`` is empty and a measure
    is a plain sum; for samples (link rates, users online) a mean is taken per series and
    then summed over series, so "users_avg" for a campus is the users online there on
    average, not the average size of one access-type sample.
    """

    stream: str
    table: str
    minute: tuple[str, ...]
    hour: tuple[str, ...]
    parts: tuple[tuple[str, str], ...]
    series: tuple[str, ...] = ()

    def dims(self, grain: Grain) -> tuple[str, ...]:
        return self.minute if grain == "minute" else self.hour


@dataclass(frozen=True)
class Measure:
    """A figure a request may ask for: ``sql`` aggregates the source's parts (``p_*``)."""

    name: str
    source: str
    sql: str
    kind: Kind
    doc: str


@dataclass(frozen=True)
class Domain:
    name: str
    dimensions: tuple[Dimension, ...]
    sources: tuple[Source, ...]
    measures: tuple[Measure, ...]

    def dimension(self, name: str) -> Dimension:
        return next(d for d in self.dimensions if d.name == name)

    def source(self, stream: str) -> Source:
        return next(s for s in self.sources if s.stream == stream)

    def measure(self, name: str) -> Measure:
        return next(m for m in self.measures if m.name == name)

    @property
    def measure_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.measures)

    @property
    def dimension_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)


def _count(name: str, source: str, part: str, doc: str) -> Measure:
    return Measure(name, source, f"sum(p_{part})", "count", doc)


def _ratio(name: str, source: str, num: str, den: str, doc: str, kind: Kind = "ratio") -> Measure:
    return Measure(name, source, f"if(sum(p_{den}) = 0, NULL, sum(p_{num}) / sum(p_{den}))", kind, doc)


GATE = Domain(
    "gate",
    dimensions=(
        Dimension("campus", "campus code"),
        Dimension("gate_id", "gate code"),
        Dimension("direction", "direction of the attempt", ("in", "out")),
        Dimension("result", "outcome of the attempt", ("pass", "deny")),
        Dimension("person_type", "who passed",
                  ("student", "staff", "resident", "visitor", "contractor", "other")),
        Dimension("method", "how they identified", ("face", "card", "qr", "manual")),
        Dimension("deny_reason", "why an attempt was denied (null for passes)",
                  ("unauthorized", "expired", "temperature", "blacklist", "unrecognized", "other"),
                  column="deny", select="nullIf({c}, '')"),
    ),
    sources=(
        Source(
            "gate.pass", "gate_pass",
            minute=("gate_id", "direction", "result"),
            hour=("campus", "gate_id", "direction", "result", "person_type", "method", "deny_reason"),
            parts=(
                ("attempts", "sum(attempts)"),
                ("in", "sumIf(attempts, result = 'pass' AND direction = 'in')"),
                ("out", "sumIf(attempts, result = 'pass' AND direction = 'out')"),
                ("denied", "sumIf(attempts, result = 'deny')"),
                ("fever", "sum(fever)"),
            ),
        ),
    ),
    measures=(
        _count("attempts", "gate.pass", "attempts", "pass attempts, passed or denied"),
        _count("in", "gate.pass", "in", "attempts with result=pass and direction=in"),
        _count("out", "gate.pass", "out", "attempts with result=pass and direction=out"),
        Measure("net_inflow", "gate.pass", "toInt64(sum(p_in)) - toInt64(sum(p_out))", "count",
                "in − out (negative when more left than came)"),
        _count("denied", "gate.pass", "denied", "attempts with result=deny"),
        _ratio("deny_rate", "gate.pass", "denied", "attempts", "denied / attempts; null without attempts"),
        _count("fever", "gate.pass", "fever", "attempts with temperature_c ≥ 37.3"),
    ),
)

NETWORK = Domain(
    "network",
    dimensions=(
        Dimension("link_id", "egress link code"),
        Dimension("campus", "campus code"),
        Dimension("access", "access type", ("wired", "wireless", "vpn")),
        Dimension("severity", "security finding severity", ("info", "low", "medium", "high", "critical")),
        Dimension("category", "security finding category",
                  ("weak_password", "compromised_host", "intrusion", "ddos", "malware", "phishing",
                   "vulnerability", "other")),
        Dimension("status", "security finding status", ("open", "handled", "false_positive")),
    ),
    sources=(
        Source(
            "network.link", "network_link",
            minute=("link_id",), hour=("link_id",), series=("link_id",),
            parts=(("samples", "sum(samples)"), ("in_sum", "sum(in_bps_sum)"),
                   ("out_sum", "sum(out_bps_sum)"), ("in_max", "max(in_bps_max)"),
                   ("out_max", "max(out_bps_max)")),
        ),
        Source(
            "network.online", "network_online",
            minute=("campus", "access"), hour=("campus", "access"), series=("campus", "access"),
            parts=(("samples", "sum(samples)"), ("users_sum", "sum(users_sum)"),
                   ("ipv6_sum", "sum(ipv6_users_sum)")),
        ),
        Source(
            "network.security", "network_security",
            minute=("severity", "category", "status"), hour=("severity", "category", "status"),
            parts=(("findings", "sum(findings)"), ("incidents", "uniqExactMerge(incidents)")),
        ),
    ),
    measures=(
        Measure("in_bps_avg", "network.link", "sum(p_in_sum / p_samples)", "mean",
                "inbound bits/s: each link's mean sample, summed over links"),
        Measure("out_bps_avg", "network.link", "sum(p_out_sum / p_samples)", "mean",
                "outbound bits/s: each link's mean sample, summed over links"),
        Measure("in_bps_max", "network.link", "max(p_in_max)", "max",
                "highest inbound sample of any one link"),
        Measure("out_bps_max", "network.link", "max(p_out_max)", "max",
                "highest outbound sample of any one link"),
        Measure("users_avg", "network.online", "sum(p_users_sum / p_samples)", "mean",
                "users online: each campus × access type's mean sample, summed"),
        _ratio("ipv6_share", "network.online", "ipv6_sum", "users_sum",
               "ipv6_users / users over the samples; null without users"),
        _count("findings", "network.security", "findings", "security finding events (updates included)"),
        _count("incidents", "network.security", "incidents",
               "distinct incident keys with an event in the bucket"),
    ),
)

_ACTIONS = ("submitted", "approved", "rejected", "returned", "completed", "withdrawn")

SERVICE = Domain(
    "service",
    dimensions=(
        Dimension("service_id", "online service code"),
        Dimension("department", "department code"),
        Dimension("applicant_type", "who applied", ("student", "staff", "alumni", "external")),
        Dimension("channel", "where they applied", ("web", "mobile", "wechat", "kiosk")),
        Dimension("action", "case event action", _ACTIONS),
        Dimension("terminal_id", "print terminal code"),
        Dimension("document", "printed document",
                  ("enrollment_certificate", "transcript_zh", "transcript_en", "other")),
        Dimension("print_result", "print job result", ("ok", "failed"), column="result"),
        Dimension("queue", "hotline queue"),
        Dimension("outcome", "call outcome", ("answered", "abandoned", "callback")),
    ),
    sources=(
        Source(
            "service.workflow", "service_workflow",
            minute=("service_id", "action"),
            hour=("service_id", "department", "applicant_type", "channel", "action"),
            parts=(("events", "sum(events)"),
                   *((a, f"sumIf(events, action = '{a}')") for a in _ACTIONS)),
        ),
        Source(
            "service.print", "service_print",
            minute=("terminal_id", "document", "print_result"),
            hour=("terminal_id", "document", "print_result"),
            parts=(("jobs", "sum(jobs)"), ("pages", "sum(pages)"),
                   ("failed", "sumIf(jobs, result = 'failed')")),
        ),
        Source(
            "service.call", "service_call",
            minute=("queue", "outcome"), hour=("queue", "outcome"),
            parts=(("calls", "sum(calls)"), ("answered", "sumIf(calls, outcome = 'answered')"),
                   ("abandoned", "sumIf(calls, outcome = 'abandoned')"), ("wait", "sum(wait_s_sum)"),
                   ("talk", "sum(talk_s_sum)"), ("wait_max", "max(wait_s_max)")),
        ),
    ),
    measures=(
        _count("case_events", "service.workflow", "events", "case events of any action"),
        *(_count(a, "service.workflow", a, f"case events with action={a}") for a in _ACTIONS),
        _count("print_jobs", "service.print", "jobs", "print jobs"),
        _count("print_pages", "service.print", "pages", "pages printed (failed jobs included)"),
        _count("print_failed", "service.print", "failed", "print jobs with result=failed"),
        _count("calls", "service.call", "calls", "hotline calls"),
        _count("calls_answered", "service.call", "answered", "calls with outcome=answered"),
        _count("calls_abandoned", "service.call", "abandoned", "calls with outcome=abandoned"),
        _ratio("answer_rate", "service.call", "answered", "calls", "answered / calls; null without calls"),
        _ratio("wait_s_avg", "service.call", "wait", "calls", "mean wait in seconds; null without calls",
               "mean"),
        Measure("wait_s_max", "service.call", "max(p_wait_max)", "max", "longest wait in seconds"),
        _ratio("talk_s_avg", "service.call", "talk", "calls",
               "mean talk time in seconds; null without calls", "mean"),
    ),
)

DOMAINS: dict[str, Domain] = {d.name: d for d in (GATE, NETWORK, SERVICE)}


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

    def cache_key(self, zone: ZoneInfo) -> str:
        """A canonical text of the spec (and the zone that shapes its buckets)."""
        filters = ";".join(f"{k}={','.join(v)}" for k, v in self.filters)
        return (f"query/v1|{self.domain}|{self.grain}|{zone.key}|{self.start.isoformat()}|"
                f"{self.end.isoformat()}|m={','.join(self.measures)}|g={','.join(self.group_by)}|"
                f"f={filters}")


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
    days start at local midnight."""
    t = t.astimezone(UTC)
    if grain == "minute":
        return t.replace(second=0, microsecond=0)
    if grain == "hour":
        return t.replace(minute=0, second=0, microsecond=0)
    local = t.astimezone(zone)
    return _midnight(local.date(), zone)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def next_bucket(start: datetime, grain: Grain, zone: ZoneInfo) -> datetime:
    """Start of the bucket after the one starting at ``start``."""
    if grain == "minute":
        return start + timedelta(minutes=1)
    if grain == "hour":
        return start + timedelta(hours=1)
    return _midnight(start.astimezone(zone).date() + timedelta(days=1), zone)


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
    grain: Grain = DEFAULT_GRAIN
    if grain_raw is not None:
        if grain_raw not in GRAINS:
            raise QueryError("bad_parameter", f"grain={grain_raw!r}: use one of: {_allowed(GRAINS)}")
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

    start, end = _range(args, grain, zone, now)
    return QuerySpec(domain.name, measures, group_by, tuple(sorted(filters.items())), start, end, grain)


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
    else:
        too_long = end - start > MAX_SPAN[grain]
    if too_long:
        wider = {"minute": " or use grain=hour", "hour": " or use grain=day", "day": ""}[grain]
        raise QueryError("bad_parameter", (
            f"the range from {start.isoformat()} to {end.isoformat()} is too long for grain={grain}: "
            f"at most {_span_text(MAX_SPAN[grain])}; narrow it{wider}"))
    if grain == "minute" and start < floor_bucket(now - MINUTE_KEPT, "minute", zone):
        raise QueryError("bad_parameter", (
            f"minute buckets are kept {MINUTE_KEPT.days} days and from={start.isoformat()} is older; "
            f"use grain=hour or grain=day"))
    return start, end


def _span_text(span: timedelta) -> str:
    if span.days > 1 and not span.seconds:
        return f"{span.days} days"
    hours = span.total_seconds() / 3600
    return f"{hours:g} hour{'' if hours == 1 else 's'}"


# --------------------------------------------------------------------------- running it


def _ident(name: str) -> str:
    """Whitelist names only, and checked again before they reach SQL."""
    if not _IDENT.fullmatch(name):
        raise ValueError(f"not a plain identifier: {name!r}")  # the whitelist is broken
    return name


def _source_sql(domain: Domain, source: Source, measures: Sequence[Measure], spec: QuerySpec,
                zone: ZoneInfo) -> tuple[str, dict[str, object]]:
    """The SQL for one source's measures, with its parameters."""
    rollup = "1m" if spec.grain == "minute" else "1h"
    col = "minute" if rollup == "1m" else "hour"
    bucket = {
        "minute": "toUnixTimestamp(minute)",
        "hour": "toUnixTimestamp(hour)",
        "day": "toDate(hour, {tz:String})",
    }[spec.grain]
    inner_dims = tuple(dict.fromkeys((*spec.group_by, *source.series)))
    inner_select = [f"{bucket} AS b"]
    for name in inner_dims:
        dim = domain.dimension(name)
        inner_select.append(f"{dim.select.format(c=_ident(dim.col))} AS d_{_ident(name)}")
    inner_select += [f"{sql} AS p_{_ident(part)}" for part, sql in source.parts]
    where = [f"{col} >= {{start:DateTime('UTC')}}", f"{col} < {{end:DateTime('UTC')}}"]
    params: dict[str, object] = {"start": spec.start, "end": spec.end}
    if spec.grain == "day":
        params["tz"] = zone.key
    for i, (name, values) in enumerate(spec.filters):
        dim = domain.dimension(name)
        holders = []
        for j, value in enumerate(values):
            params[f"f{i}_{j}"] = value
            holders.append(f"{{f{i}_{j}:String}}")
        where.append(f"toString({_ident(dim.col)}) IN ({', '.join(holders)})")
    group = ", ".join(["b", *(f"d_{n}" for n in inner_dims)])
    outer_select = ["b", *(f"d_{n} AS `{n}`" for n in spec.group_by)]
    outer_select += [f"{m.sql} AS `{_ident(m.name)}`" for m in measures]
    outer_group = ", ".join(["b", *(f"d_{n}" for n in spec.group_by)])
    sql = (
        f"SELECT {', '.join(outer_select)}\n"
        f"FROM (\n    SELECT {', '.join(inner_select)}\n"
        f"    FROM {_ident(source.table)}_{rollup}\n"
        f"    WHERE {' AND '.join(where)}\n"
        f"    GROUP BY {group}\n)\n"
        f"GROUP BY {outer_group}"
    )
    return sql, params


def buckets(spec: QuerySpec, zone: ZoneInfo) -> pl.Series:
    """Every bucket of the range, as the ``b`` key the SQL returns (epoch seconds, or the
    local date for days)."""
    out: list[object] = []
    t = spec.start
    while t < spec.end:
        out.append(t.astimezone(zone).date() if spec.grain == "day" else int(t.timestamp()))
        t = next_bucket(t, spec.grain, zone)
    return pl.Series("b", out, dtype=pl.Date if spec.grain == "day" else pl.Int64)


def run(store: SqlStore, spec: QuerySpec, zone: ZoneInfo) -> pl.DataFrame:
    """The answer to ``spec``: columns ``<grain>, *group_by, *measures``, one row per bucket
    and group (empty buckets filled), ordered by bucket then groups.

    ``<grain>`` is a local aware datetime for minute/hour, a date for day; group columns are
    strings (``deny_reason`` null for passes); counts Int64, maxima Int64 or null, means and
    ratios Float64 or null.
    """
    domain = DOMAINS[spec.domain]
    measures = [domain.measure(m) for m in spec.measures]
    keys = ["b", *spec.group_by]
    grid = buckets(spec, zone).to_frame()
    merged: pl.DataFrame | None = None
    for source in domain.sources:
        mine = [m for m in measures if m.source == source.stream]
        if not mine:
            continue
        sql, params = _source_sql(domain, source, mine, spec, zone)
        frame = _typed(store.query(sql, params), spec, mine)
        merged = frame if merged is None else merged.join(
            frame, on=keys, how="full", coalesce=True, nulls_equal=True)
    if merged is None:  # parse_spec never makes a spec without measures
        raise QueryError("bad_parameter", "name at least one measure")
    if spec.group_by:
        groups = merged.select(spec.group_by).unique()
        if grid.height * groups.height > MAX_ROWS:
            raise QueryError("too_many_rows", (
                f"the answer would have {grid.height * groups.height:,} rows ({grid.height} buckets × "
                f"{groups.height} groups), more than {MAX_ROWS:,}; narrow the range, filter, or group "
                f"by fewer dimensions"))
        grid = grid.join(groups, how="cross")
    out = grid.join(merged, on=keys, how="left", nulls_equal=True).with_columns(
        pl.col(m.name).fill_null(0) for m in measures if m.kind == "count")
    out = out.sort(keys, nulls_last=False)
    if spec.grain == "day":
        bucket = pl.col("b").alias("day")
    else:
        bucket = (pl.from_epoch("b", time_unit="s").dt.replace_time_zone("UTC")
                  .dt.convert_time_zone(zone.key).alias(spec.grain))
    return out.select(bucket, *spec.group_by, *spec.measures)


def _typed(frame: pl.DataFrame, spec: QuerySpec, measures: Sequence[Measure]) -> pl.DataFrame:
    """Fixed dtypes whatever the engine sent (an empty answer has none to infer from)."""
    dtypes: dict[Kind, pl.DataType] = {"count": pl.Int64(), "max": pl.Int64(), "mean": pl.Float64(),
                                       "ratio": pl.Float64()}
    return frame.select(
        pl.col("b").cast(pl.Date if spec.grain == "day" else pl.Int64),
        *(pl.col(g).cast(pl.String) for g in spec.group_by),
        *(pl.col(m.name).cast(dtypes[m.kind]) for m in measures),
    )


# --------------------------------------------------------------------------- docs


def whitelist_markdown() -> str:
    """The whitelist as the Markdown tables of ``docs/api.md`` (a test keeps them equal)."""
    lines: list[str] = [
        "| grain | rollup | default range | longest range |",
        "|---|---|---|---|",
    ]
    for g in GRAINS:
        rollup = f"`*_1m` (kept {MINUTE_KEPT.days} days)" if g == "minute" else "`*_1h`"
        lines.append(f"| `{g}` | {rollup} | last {_span_text(DEFAULT_SPAN[g])} | "
                     f"{_span_text(MAX_SPAN[g])} |")
    for domain in DOMAINS.values():
        lines += ["", f"#### `{domain.name}`", "", "| measure | kind | stream | meaning |",
                  "|---|---|---|---|"]
        lines += [f"| `{m.name}` | {m.kind} | `{m.source}` | {m.doc} |" for m in domain.measures]
        lines += ["", "| dimension | values | per minute | per hour / day | meaning |",
                  "|---|---|---|---|---|"]
        for d in domain.dimensions:
            values = ", ".join(f"`{v}`" for v in d.values) if d.values else "codes as sent"
            minute = ", ".join(f"`{s.stream}`" for s in domain.sources if d.name in s.minute) or "—"
            hour = ", ".join(f"`{s.stream}`" for s in domain.sources if d.name in s.hour) or "—"
            lines.append(f"| `{d.name}` | {values} | {minute} | {hour} | {d.doc} |")
    return "\n".join(lines) + "\n"


def describe() -> dict[str, object]:
    """The whitelist as plain data (measures, dimensions per grain), e.g. for an explore page.

    ``streams`` says, per rollup width, which streams keep a dimension: a dimension splits or
    filters exactly the measures of those streams, so a form can offer only the combinations
    :func:`parse_spec` accepts instead of learning them from refusals.
    """
    return {
        d.name: {
            "measures": [{"name": m.name, "kind": m.kind, "stream": m.source, "doc": m.doc}
                         for m in d.measures],
            "dimensions": [{"name": x.name, "values": list(x.values), "doc": x.doc,
                            "minute": any(x.name in s.minute for s in d.sources),
                            "streams": {"minute": [s.stream for s in d.sources if x.name in s.minute],
                                        "hour": [s.stream for s in d.sources if x.name in s.hour]}}
                           for x in d.dimensions],
        }
        for d in DOMAINS.values()
    }


def grain_limits() -> dict[str, dict[str, int]]:
    """Per grain, in seconds: the default and the longest range, and how far back its rollup
    reaches (0 = as long as the raw retention), so a form can say the limits before a
    request runs into them."""
    return {g: {"default_s": int(DEFAULT_SPAN[g].total_seconds()),
                "max_s": int(MAX_SPAN[g].total_seconds()),
                "kept_s": int(MINUTE_KEPT.total_seconds()) if g == "minute" else 0}
            for g in GRAINS}
