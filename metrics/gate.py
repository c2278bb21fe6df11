"""Gate KPIs (门禁): today's entries, exits, denials and fever readings, and the slower figures
of the gate wall (gate × hour heat map, 10-minute curves, comparisons, 30-day trend).

Every attempt is placed by its ``ts``. "Today" is [local midnight, now) in the site's zone,
read at minute resolution: the current minute counts whole. An event cannot be stored before
it happens, so the only events this adds are ones whose source clock runs a few seconds ahead.

No figure reads the whole history. A time window is answered by
- ``gate_pass_1h`` (every dimension) for the whole UTC hours inside it,
- ``gate_pass_1m`` (gate × direction × result, kept 63 days) for the minutes at its edges when
  those dimensions suffice,
- the raw ``gate_pass`` table for the edges otherwise (at most two partial hours a window).
So a day that does not start on a UTC hour (Asia/Kolkata's midnight is 18:30 UTC) is still
counted exactly: the hour rollup only ever answers for hours wholly inside a window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from ioc_app.storage import SqlStore
from metrics.buckets import (
    ceil_hour,
    day_start,
    epoch,
    floor_hour,
    floor_local,
    floor_minute,
    iso,
    local_midnight,
    steps,
    unique,
)
from metrics.domain import (
    Col,
    Dimension,
    Measure,
    MetricsDomain,
    Queryable,
    Referenced,
    Rollup,
    Source,
    Watched,
    count,
    count_of,
    ratio_of,
)

FEVER_C = 37.3  # a reading at or above counts as fever (events.md), in the rollups and raw edges
# the gate.pass contract's enumerations, in contract order (ioc_app/domains.py checks them)
DIRECTIONS = ("in", "out")
RESULTS = ("pass", "deny")
PERSON_TYPES = ("student", "staff", "resident", "visitor", "contractor", "other")
METHODS = ("face", "card", "qr", "manual")
DENY_REASONS = ("unauthorized", "expired", "temperature", "blacklist", "unrecognized", "other")

# The SQL of the gate figures over a rollup of gate_pass, written once: the cockpit, the query
# API and the anomaly rules all count a denial (an entry, an exit) with these.
ATTEMPTS = "sum(attempts)"
ENTRIES = "sumIf(attempts, result = 'pass' AND direction = 'in')"
EXITS = "sumIf(attempts, result = 'pass' AND direction = 'out')"
DENIED = "sumIf(attempts, result = 'deny')"
FEVERS = "sum(fever)"

LAST_MINUTES = 60
SLOT = timedelta(minutes=10)
DAILY_DAYS = 30
MINUTE_ROLLUP_DAYS = 62  # gate_pass_1m keeps 63 days: read it only well inside that
#: comparison periods: the same local time of day this many days back (364 = 52 weeks, so the
#: same weekday last year: campus traffic follows the week, not the calendar date)
COMPARE_DAYS = {"today": 0, "yesterday": 1, "last_week": 7, "last_year": 364}

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)

# dimension → its expression on (gate_pass_1h, gate_pass_1m or None when absent, gate_pass)
_DIMS: dict[str, tuple[str, str | None, str]] = {
    "campus": ("toString(campus)", None, "toString(campus)"),
    "gate_id": ("toString(gate_id)", "toString(gate_id)", "toString(gate_id)"),
    "direction": ("toString(direction)", "toString(direction)", "toString(direction)"),
    "result": ("toString(result)", "toString(result)", "toString(result)"),
    "person_type": ("toString(person_type)", None, "toString(person_type)"),
    "method": ("toString(method)", None, "toString(method)"),
    "deny_reason": ("toString(deny)", None, "ifNull(toString(deny_reason), '')"),
}
# source table → (time column, its parameter type, attempts expression, fever expression)
_SOURCES: dict[str, tuple[str, str, str, str]] = {
    "gate_pass_1h": ("hour", "DateTime('UTC')", "attempts", "fever"),
    "gate_pass_1m": ("minute", "DateTime('UTC')", "attempts", "fever"),
    "gate_pass": ("ts", "DateTime64(3, 'UTC')", "1", "ifNull(temperature_c >= {fever:Float64}, 0)"),
}


@dataclass(frozen=True)
class Window:
    """A labelled half-open interval [start, end) of aware UTC datetimes on minute boundaries."""

    label: str
    start: datetime
    end: datetime


def today_totals(store: SqlStore, zone: ZoneInfo, now: datetime | None = None) -> pl.DataFrame:
    """One row: ``in``/``out`` passes, ``denied``, ``attempts``, ``fever``, ``net_inflow``,
    ``deny_rate`` (null when there was no attempt) for the local day so far."""
    now = now or datetime.now(UTC)
    counts = store.query(
        f"""
        SELECT
            {ENTRIES} AS n_in,
            {EXITS} AS n_out,
            {DENIED} AS n_denied,
            {ATTEMPTS} AS n_attempts,
            {FEVERS} AS n_fever
        FROM gate_pass_1m
        WHERE minute >= {{start:DateTime('UTC')}} AND minute < {{end:DateTime('UTC')}}
        """,
        {"start": local_midnight(zone, now), "end": _minute_end(now)},
    )
    return counts.select(
        pl.col(f"n_{c}").fill_null(0).cast(pl.Int64).alias(c)
        for c in ("in", "out", "denied", "attempts", "fever")
    ).with_columns(
        (pl.col("in") - pl.col("out")).alias("net_inflow"),
        pl.when(pl.col("attempts") > 0)
        .then(pl.col("denied") / pl.col("attempts"))
        .otherwise(None)
        .alias("deny_rate"),
    )


def live(store: SqlStore, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """The ``gate`` section of the live snapshot (1 query, on rollups only).

    - ``today``: ``{in, out, denied, attempts, deny_rate, net_inflow, fever, by_gate,
      by_person_type, deny_reasons}`` for [local midnight, now): ``in``/``out`` count passes,
      ``denied`` denials, ``attempts`` both, ``deny_rate`` = denied / attempts (null without an
      attempt), ``net_inflow`` = in − out, ``fever`` attempts with a temperature ≥ 37.3 °C;
      ``by_gate`` = ``[{gate_id, in, out, denied}]`` for every gate with an attempt today, by
      gate_id; ``by_person_type`` = ``[{person_type, in, out}]`` for every person type with an
      attempt today, in the contract's order (student, staff, resident, visitor, contractor,
      other); ``deny_reasons`` = ``[{deny_reason, count}]`` for every reason given today, the
      most frequent first, ties by name.
    - ``last_60m``: 61 rows ``{minute, in, out}`` (passes), the 60 whole minutes before the
      current one and the current one, oldest first, zeros included; ``minute`` is the local
      RFC 3339 start of the minute.
    """
    gates, people, minutes = _board(store, zone, now)
    return {"today": _today(gates, people), "last_60m": _last_minutes(minutes, zone, now)}


def slow(store: SqlStore, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """Slower gate-wall figures, merged into the ``gate`` section beside ``live`` (3 queries).

    - ``by_hour_today``: ``[{gate_id, hour, in, out, denied}]``, the gate × local hour heat map
      of today: every gate with an attempt today × every local hour from midnight to the
      current one (zeros included), by gate_id then hour; ``hour`` = local RFC 3339 start.
    - ``today_curve`` / ``yesterday_curve``: ``[{slot, in, out}]`` passes per local 10-minute
      slot, oldest first, zeros included: today from midnight to the current slot, yesterday
      the whole local day (144 slots on a day without a clock change).
    - ``compare``: ``{today, yesterday, last_week, last_year}``, each ``{start, end, in, out,
      denied, attempts}`` from that day's local midnight to the same local time of day as now
      (``start``/``end`` local RFC 3339, end exclusive). ``last_week`` is 7 days back,
      ``last_year`` 364 days back: the same weekday a year ago.
    - ``daily_30d``: ``[{date, in, out, denied}]`` per local date, the 29 days before today and
      today so far (``date`` = ``YYYY-MM-DD``), oldest first, zeros included.
    """
    midnight = local_midnight(zone, now)
    end = _minute_end(now)
    local_today = now.astimezone(zone).date()
    yesterday = day_start(local_today - timedelta(days=1), zone)
    slots = _slots(store, zone, yesterday, end)

    periods = {k: _same_time(local_today - timedelta(days=d), zone, now) for k, d in COMPARE_DAYS.items()}
    compared = _by_label(window_counts(store, [Window(k, *se) for k, se in periods.items()],
                                       ("direction", "result"), now))
    days = [local_today - timedelta(days=d) for d in range(DAILY_DAYS - 1, -1, -1)]
    daily = _by_label(window_counts(store, [Window(d.isoformat(), day_start(d, zone),
                                                   min(day_start(d + timedelta(days=1), zone), end))
                                            for d in days], ("direction", "result"), now))
    return {
        "by_hour_today": _by_hour(slots.filter(pl.col("slot") >= epoch(midnight)), zone, midnight, end),
        "today_curve": _curve(slots, zone, midnight, end),
        "yesterday_curve": _curve(slots, zone, yesterday, midnight),
        "compare": {k: {"start": iso(s, zone), "end": iso(e, zone),
                        **_pick(compared.get(k), ("in", "out", "denied", "attempts"))}
                    for k, (s, e) in periods.items()},
        "daily_30d": [{"date": d.isoformat(), **_pick(daily.get(d.isoformat()), ("in", "out", "denied"))}
                      for d in days],
    }


def window_counts(store: SqlStore, windows: Sequence[Window], dims: Sequence[str],
                  now: datetime) -> pl.DataFrame:
    """Attempts and fever readings per window and ``dims`` (names of ``_DIMS``), one query.

    Columns ``label, *dims, attempts, fever``; only combinations with an attempt. Windows must
    not overlap (a row is given to the first window that holds it). ``now`` says which
    edges the minute rollup still holds.
    """
    ranges: dict[str, list[tuple[str, datetime, datetime]]] = {t: [] for t in _SOURCES}
    minute_dims = all(_DIMS[d][1] is not None for d in dims)
    for w in windows:
        hours, edges = _split(w)
        ranges["gate_pass_1h"] += [(w.label, s, e) for s, e in hours]
        edge_table = ("gate_pass_1m" if minute_dims and w.start >= now - timedelta(days=MINUTE_ROLLUP_DAYS)
                      else "gate_pass")
        ranges[edge_table] += [(w.label, s, e) for s, e in edges]
    params: dict[str, Any] = {"fever": FEVER_C}
    parts = []
    for index, (table, (col, typ, n, fever)) in enumerate(_SOURCES.items()):
        if not ranges[table]:
            continue
        conds = []
        for label, start, end in ranges[table]:
            i = len(params)
            params.update({f"s{i}": start, f"e{i}": end, f"l{i}": label})
            conds.append((f"({col} >= {{s{i}:{typ}}} AND {col} < {{e{i}:{typ}}})", f"{{l{i}:String}}"))
        label = "multiIf(" + ", ".join(f"{c}, {lbl}" for c, lbl in conds) + ", '')"
        exprs = "".join(f", {_DIMS[d][index]} AS d_{d}" for d in dims)
        parts.append(f"SELECT {label} AS label{exprs}, toUInt64({n}) AS n, toUInt64({fever}) AS f\n"
                     f"FROM {table} WHERE " + " OR ".join(c for c, _ in conds))
    schema = {"label": pl.String, **{d: pl.String for d in dims}, "attempts": pl.UInt64,
              "fever": pl.UInt64}
    if not parts:
        return pl.DataFrame(schema=schema)
    keys = "".join(f", d_{d} AS {d}" for d in dims)
    frame = store.query(
        f"SELECT label{keys}, sum(n) AS attempts, sum(f) AS fever\n"
        f"FROM (\n" + "\nUNION ALL\n".join(parts) + "\n)\n"
        "GROUP BY label" + "".join(f", {d}" for d in dims),
        params,
    )
    # polars wants a mapping keyed by str, selector or dtype; a dict keyed by str is one, but
    # Mapping is invariant in its key type
    return frame.cast(schema)  # type: ignore[arg-type]


def _split(w: Window) -> tuple[list[tuple[datetime, datetime]], list[tuple[datetime, datetime]]]:
    """(the whole UTC hours, the edges) of a window."""
    if w.start >= w.end:
        return [], []
    first, last = ceil_hour(w.start), floor_hour(w.end)
    if first >= last:
        return [], [(w.start, w.end)]
    return [(first, last)], [(s, e) for s, e in ((w.start, first), (last, w.end)) if s < e]


def _board(store: SqlStore, zone: ZoneInfo, now: datetime
           ) -> tuple[pl.DataFrame, pl.DataFrame, dict[tuple[int, str], int]]:
    """Today's attempts and the passes of the last minutes, in one query: by gate
    (``gate_id, direction, result, attempts, fever``) from the minutes of ``gate_pass_1m``; by
    person (``person_type, direction, result, deny_reason, attempts``) from
    ``gate_pass_people_1h`` for the whole UTC hours and the raw passes of the edges (the
    current hour so far; in a zone whose midnight is not on a UTC hour, also the first
    partial hour); and the passes per (minute epoch, direction) of the 61 minutes of
    ``last_60m``. The board needs no joint breakdown of gate and person type, so the wide hour
    rollup is not read: at most 44 rows a minute (11 gates) and a hundred an hour."""
    start, end = local_midnight(zone, now), _minute_end(now)
    hours, edges = _split(Window("today", start, end))
    current = floor_minute(now)
    params: dict[str, Any] = {"start": start, "end": end, "current": current,
                              "first": current - LAST_MINUTES * MINUTE}
    sources = (  # (the rows, their time column and its type, the ranges read there)
        ("SELECT person_type, direction, result, deny, attempts FROM gate_pass_people_1h",
         "hour", "DateTime('UTC')", hours),
        ("SELECT person_type, direction, result, ifNull(toString(deny_reason), '') AS deny, "
         "toUInt64(1) AS attempts FROM gate_pass", "ts", "DateTime64(3, 'UTC')", edges),
    )
    people = []  # midnight < the end of the current minute: at least one range
    for rows, col, typ, ranges in sources:
        for s, e in ranges:
            i = len(params)
            params.update({f"s{i}": s, f"e{i}": e})
            people.append(f"{rows} WHERE {col} >= {{s{i}:{typ}}} AND {col} < {{e{i}:{typ}}}")
    frame = store.query(
        """
        SELECT 'gate' AS part, toString(gate_id) AS key, toString(direction) AS direction,
               toString(result) AS result, '' AS deny_reason, sum(attempts) AS attempts, sum(fever) AS fever
        FROM gate_pass_1m
        WHERE minute >= {start:DateTime('UTC')} AND minute < {end:DateTime('UTC')}
        GROUP BY gate_id, direction, result
        UNION ALL
        SELECT 'person', toString(person_type), toString(direction), toString(result), toString(deny),
               sum(attempts), toUInt64(0)
        FROM (""" + "\nUNION ALL\n".join(people) + """)
        GROUP BY person_type, direction, result, deny
        UNION ALL
        SELECT 'minute', toString(toUnixTimestamp(minute)), toString(direction), 'pass', '',
               sum(attempts), toUInt64(0)
        FROM gate_pass_1m
        WHERE minute >= {first:DateTime('UTC')} AND minute <= {current:DateTime('UTC')}
          AND result = 'pass'
        GROUP BY minute, direction
        """,
        params,
    ).cast({"attempts": pl.UInt64, "fever": pl.UInt64})
    gates = frame.filter(pl.col("part") == "gate").select(
        pl.col("key").alias("gate_id"), "direction", "result", "attempts", "fever")
    persons = frame.filter(pl.col("part") == "person").select(
        pl.col("key").alias("person_type"), "direction", "result", "deny_reason", "attempts")
    minutes = {(int(m), d): int(n) for m, d, n in
               frame.filter(pl.col("part") == "minute").select("key", "direction", "attempts").iter_rows()}
    return gates, persons, minutes


def _today(gates: pl.DataFrame, people: pl.DataFrame) -> dict[str, Any]:
    """The board from :func:`_board`'s frames: totals and ``by_gate`` from the first,
    ``by_person_type`` and ``deny_reasons`` from the second; each holds every attempt once."""
    totals = _totals(gates)
    n_in, n_out, denied, attempts = (totals[k] for k in ("in", "out", "denied", "attempts"))
    by_gate = gates.group_by("gate_id").agg(**_measures()).sort("gate_id")
    by_type = people.group_by("person_type").agg(**_measures(("in", "out"))).to_dicts()
    by_type.sort(key=lambda r: (_rank(r["person_type"]), r["person_type"]))
    reasons = (people.filter(pl.col("result") == "deny").group_by("deny_reason")
               .agg(pl.col("attempts").sum().alias("count"))
               .sort(["count", "deny_reason"], descending=[True, False]))
    return {
        "in": n_in, "out": n_out, "denied": denied, "attempts": attempts,
        "deny_rate": denied / attempts if attempts else None,
        "net_inflow": n_in - n_out,
        "fever": int(gates["fever"].sum()),
        "by_gate": by_gate.to_dicts(),
        "by_person_type": by_type,
        "deny_reasons": reasons.to_dicts(),
    }


def _measures(keys: Iterable[str] = ("in", "out", "denied")) -> dict[str, pl.Expr]:
    passed = pl.col("result") == "pass"
    exprs = {
        "in": pl.col("attempts").filter(passed & (pl.col("direction") == "in")).sum(),
        "out": pl.col("attempts").filter(passed & (pl.col("direction") == "out")).sum(),
        "denied": pl.col("attempts").filter(pl.col("result") == "deny").sum(),
        "attempts": pl.col("attempts").sum(),
    }
    return {k: exprs[k] for k in keys}


def _totals(counts: pl.DataFrame) -> dict[str, int]:
    return {k: int(v) for k, v in counts.select(**_measures(("in", "out", "denied", "attempts")))
            .row(0, named=True).items()}


def _by_label(counts: pl.DataFrame) -> dict[str, dict[str, int]]:
    return {label: _totals(part) for (label,), part in counts.partition_by("label", as_dict=True).items()}


def _pick(totals: dict[str, int] | None, keys: Iterable[str]) -> dict[str, int]:
    return {k: (totals or {}).get(k, 0) for k in keys}


def _last_minutes(got: dict[tuple[int, str], int], zone: ZoneInfo, now: datetime) -> list[dict[str, Any]]:
    """``last_60m`` from the passes per (minute epoch, direction) of :func:`_board`."""
    current = floor_minute(now)
    first = current - LAST_MINUTES * MINUTE
    out = []
    for t in steps(first, current + MINUTE, MINUTE):
        e = epoch(t)
        out.append({"minute": iso(t, zone), "in": got.get((e, "in"), 0), "out": got.get((e, "out"), 0)})
    return out


def _slots(store: SqlStore, zone: ZoneInfo, start: datetime, end: datetime) -> pl.DataFrame:
    """Attempts per local hour, local 10-minute slot (epoch seconds), gate, direction and
    result in [start, end), from the minute rollup."""
    return store.query(
        """
        SELECT toUnixTimestamp(toStartOfHour(minute, {tz:String})) AS hour,
               toUnixTimestamp(minute) - toMinute(minute, {tz:String}) % 10 * 60 AS slot,
               toString(gate_id) AS gate, toString(direction) AS dir, toString(result) AS res,
               sum(attempts) AS attempts
        FROM gate_pass_1m
        WHERE minute >= {start:DateTime('UTC')} AND minute < {end:DateTime('UTC')}
        GROUP BY hour, slot, gate, dir, res
        """,
        {"tz": zone.key, "start": start, "end": end},
    ).rename({"gate": "gate_id", "dir": "direction", "res": "result"}).cast(
        {"hour": pl.Int64, "slot": pl.Int64, "attempts": pl.UInt64})


def _by_hour(today: pl.DataFrame, zone: ZoneInfo, midnight: datetime, end: datetime) -> list[dict[str, Any]]:
    cells = {(r["gate_id"], r["hour"]): r for r in today.group_by("gate_id", "hour").agg(**_measures())
             .to_dicts()}
    hours = unique(floor_local(t, zone, HOUR) for t in steps(midnight, end, HOUR))
    return [{"gate_id": g, "hour": iso(h, zone), **_pick(cells.get((g, epoch(h))), ("in", "out", "denied"))}
            for g in sorted({g for g, _ in cells}) for h in hours]


def _curve(slots: pl.DataFrame, zone: ZoneInfo, start: datetime, end: datetime) -> list[dict[str, Any]]:
    got = {r["slot"]: r for r in slots.group_by("slot").agg(**_measures(("in", "out"))).to_dicts()}
    return [{"slot": iso(s, zone), **_pick(got.get(epoch(s)), ("in", "out"))}
            for s in unique(floor_local(t, zone, SLOT) for t in steps(start, end, SLOT))]


def _rank(person_type: str) -> int:
    return PERSON_TYPES.index(person_type) if person_type in PERSON_TYPES else len(PERSON_TYPES)


def _minute_end(now: datetime) -> datetime:
    """End of "so far": the current minute counts whole."""
    return floor_minute(now) + MINUTE


def _same_time(day: date, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """[local midnight of ``day``, the local time of day of "so far" on ``day``)."""
    end_local = _minute_end(now).astimezone(zone).replace(tzinfo=None)
    elapsed = end_local - datetime(*now.astimezone(zone).timetuple()[:3])
    start = datetime(day.year, day.month, day.day)
    return start.replace(tzinfo=zone).astimezone(UTC), (start + elapsed).replace(tzinfo=zone).astimezone(UTC)


# --------------------------------------------------------------------------- the declaration

QUERY = Queryable(
    "gate",
    dimensions=(
        Dimension("campus", "campus code"),
        Dimension("gate_id", "gate code"),
        Dimension("direction", "direction of the attempt", DIRECTIONS),
        Dimension("result", "outcome of the attempt", RESULTS),
        Dimension("person_type", "who passed", PERSON_TYPES),
        Dimension("method", "how they identified", METHODS),
        Dimension("deny_reason", "why an attempt was denied (null for passes)", DENY_REASONS,
                  column="deny", select="nullIf({c}, '')"),
    ),
    sources=(
        Source(
            "gate.pass", "gate_pass",
            minute=("gate_id", "direction", "result"),
            hour=("campus", "gate_id", "direction", "result", "person_type", "method", "deny_reason"),
            parts=(("attempts", ATTEMPTS), ("in", ENTRIES), ("out", EXITS), ("denied", DENIED),
                   ("fever", FEVERS)),
            narrow=(("gates", ("campus", "gate_id", "direction", "result")),),
        ),
    ),
    measures=(
        count_of("attempts", "gate.pass", "attempts", "pass attempts, passed or denied"),
        count_of("in", "gate.pass", "in", "attempts with result=pass and direction=in"),
        count_of("out", "gate.pass", "out", "attempts with result=pass and direction=out"),
        Measure("net_inflow", "gate.pass", "toInt64(sum(p_in)) - toInt64(sum(p_out))", "count",
                "in − out (negative when more left than came)"),
        count_of("denied", "gate.pass", "denied", "attempts with result=deny"),
        ratio_of("deny_rate", "gate.pass", "denied", "attempts", "denied / attempts; null without attempts"),
        count_of("fever", "gate.pass", "fever", f"attempts with temperature_c ≥ {FEVER_C}"),
        Measure("passes", "gate.pass", "toInt64(sum(p_in)) + toInt64(sum(p_out))", "count",
                "in + out: passes either way"),
    ),
)

WATCHED = {
    "attempts": Watched("gate_pass_1m", ATTEMPTS, None, ("gate_id",), "pass attempts (passes and denials)"),
    "entries": Watched("gate_pass_1m", ENTRIES, None, ("gate_id",), "passes inwards"),
    "denied": Watched("gate_pass_1m", DENIED, None, ("gate_id",), "denied attempts"),
    "deny_rate": Watched("gate_pass_1m", DENIED, ATTEMPTS, ("gate_id",), "denied / attempts"),
    "fever": Watched("gate_pass_1m", FEVERS, None, ("gate_id",), "fever readings"),
}

REFERENCES = (
    Referenced("gate.pass", "campus", "campus", "gate_pass_1h", "hour", "sum(attempts)"),
    Referenced("gate.pass", "gate_id", "gate", "gate_pass_1h", "hour", "sum(attempts)"),
)

# the rollups of gate_pass the figures above read (ioc_app/declared.py makes their DDL): the
# general minute and hour rollups, the narrow "people" one of the live board (_board) and the
# narrow "gates" one of the query API, both folded from the hour rollup
FEVER = Col("fever", "SimpleAggregateFunction(sum, UInt64)", f"countIf(temperature_c >= {FEVER_C})")
DENY = Col("deny", "LowCardinality(String)", "ifNull(toString(deny_reason), '')")
ROLLUPS = (
    Rollup("gate.pass", "1m", ("gate_id", "direction", "result"), (count("attempts"), FEVER)),
    Rollup("gate.pass", "1h", ("campus", "gate_id", "direction", "result", "person_type", "method", DENY),
           (count("attempts"), FEVER)),
    Rollup("gate.pass", "1h", ("person_type", "direction", "result", DENY), (count("attempts"),), "people",
           folds=True),
    # per gate without person type, method and reason: what the analyst questions per gate or
    # campus read (over 800 days a tenth of the general rollup's rows; migration 17)
    Rollup("gate.pass", "1h", ("campus", "gate_id", "direction", "result"), (count("attempts"), FEVER),
           "gates", folds=True),
)

DOMAIN = MetricsDomain(
    "gate", 10, live, slow,
    stale_after_s={"gate.pass": 15 * 60},
    rollups=ROLLUPS,
    query=QUERY, watched=WATCHED, references=REFERENCES,
)
