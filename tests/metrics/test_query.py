"""Analyst queries against the real engine, checked against plain Polars over the same events.

Three days of random events of every counted and sampled stream are validated and stored
once per module; each query's answer is compared with an independent computation of the
same definition (bucket by ``ts``, filter, group, aggregate, fill empty buckets) over the
validated rows. Parsing is checked for every kind of bad parameter, the docs against the
whitelist, and the whitelist against the schema and the event contracts.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ingest.contracts import Stream
from ingest.registry import BY_NAME
from ingest.validate import validate
from ioc_app.migrate import migrate
from ioc_app.schema import ROLLUP_1M_TTL_DAYS
from ioc_app.storage import Store
from metrics import query as q
from metrics.query import DOMAINS, QueryError, QuerySpec, parse_spec, run
from tests.ingest.strategies import random_events

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")
KOLKATA = ZoneInfo("Asia/Kolkata")  # +05:30: hours start at :30 local
NEW_YORK = ZoneInfo("America/New_York")
#: the test's "now": a whole minute an hour ago, so events are never in the future
NOW = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
DAYS = 3
STREAMS = ("gate.pass", "network.link", "network.online", "network.security", "service.workflow",
           "service.print", "service.call")


@dataclass(frozen=True)
class Data:
    store: Store
    frames: dict[str, pl.DataFrame]  # stream → the validated rows that were stored


def ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def make_events(stream: Stream, n: int, seed: int) -> list[dict]:
    """Random valid events spread over the ``DAYS`` days before ``NOW``, with few codes per
    field so groups repeat, and some fixed edge cases around local midnights."""
    rng = random.Random(seed)
    events = random_events(stream, n, seed, NOW)
    span = DAYS * 86_400_000
    for ev in events:
        ev["ts"] = ms(NOW) - 1 - rng.randrange(span)
        for f in stream.fields:
            if f.kind == "code" and f.name in ev:
                ev[f.name] = f"{f.name[:2]}{rng.randrange(4)}"
        if stream.name == "service.call":
            ev["queue"] = rng.choice(["it", "教务", "=cmd"])
    if stream.name == "gate.pass":
        # nothing random in the first half hour of the Kolkata day after the edge day: the
        # edge events then make its whole-hour days differ from local-midnight days whatever
        # the time the test runs (random events there could make up for them exactly)
        local = (NOW - timedelta(days=1)).astimezone(KOLKATA)
        after = datetime(local.year, local.month, local.day, tzinfo=KOLKATA) + timedelta(days=1)
        for ev in events:
            if ms(after) <= ev["ts"] < ms(after + timedelta(minutes=30)):
                ev["ts"] -= 3_600_000
        base = dict(events[0], result="pass", direction="in")
        base.pop("deny_reason", None)
        for zone in (SHANGHAI, KOLKATA, NEW_YORK):
            local = (NOW - timedelta(days=1)).astimezone(zone)
            midnight = datetime(local.year, local.month, local.day, tzinfo=zone)
            for k, delta in enumerate((timedelta(0), timedelta(milliseconds=-1), timedelta(minutes=10),
                                       timedelta(minutes=-10))):
                eid = f"edge-{zone.key.replace('/', '.')}-{k}"
                events.append({**base, "event_id": eid, "ts": ms(midnight + delta)})
    return events


@pytest.fixture(scope="module")
def data(engine_path: Path) -> Iterator[Data]:
    name = "t_query_" + uuid.uuid4().hex[:8]
    store = Store(f"chdb://{engine_path}", database=name)
    migrate(store)
    frames = {}
    for i, stream_name in enumerate(STREAMS):
        stream = BY_NAME[stream_name]
        result = validate(stream, make_events(stream, 4000, 100 + i), source="t",
                          now=NOW + timedelta(minutes=1))
        assert result.errors == []
        store.insert(stream.table, result.frame)
        frames[stream_name] = result.frame
    yield Data(store, frames)
    store.command(f"DROP DATABASE IF EXISTS {name} SYNC")
    store.close()


# --------------------------------------------------------------- the independent computation

def _rate(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num / den).otherwise(None)


def _count(cond: pl.Expr) -> pl.Expr:
    return cond.fill_null(False).cast(pl.Int64).sum()


# measure → (stream, aggregation over the rows of one group). Sampled streams are averaged
# per series first (below); their expressions see columns named after the per-series means.
PLAIN: dict[str, tuple[str, pl.Expr]] = {
    "attempts": ("gate.pass", pl.len()),
    "in": ("gate.pass", _count((pl.col("result") == "pass") & (pl.col("direction") == "in"))),
    "out": ("gate.pass", _count((pl.col("result") == "pass") & (pl.col("direction") == "out"))),
    "net_inflow": ("gate.pass", _count((pl.col("result") == "pass") & (pl.col("direction") == "in"))
                   - _count((pl.col("result") == "pass") & (pl.col("direction") == "out"))),
    "denied": ("gate.pass", _count(pl.col("result") == "deny")),
    "passes": ("gate.pass", _count(pl.col("result") == "pass")),
    "deny_rate": ("gate.pass", _rate(_count(pl.col("result") == "deny"), pl.len())),
    "fever": ("gate.pass", _count(pl.col("temperature_c") >= 37.3)),
    "findings": ("network.security", pl.len()),
    "incidents": ("network.security", pl.col("incident_key").n_unique()),
    "ipv6_share": ("network.online", _rate(pl.col("ipv6_users").sum(), pl.col("users").sum())),
    "case_events": ("service.workflow", pl.len()),
    **{a: ("service.workflow", _count(pl.col("action") == a)) for a in
       ("submitted", "approved", "rejected", "returned", "completed", "withdrawn")},
    "print_jobs": ("service.print", pl.len()),
    "print_pages": ("service.print", pl.col("pages").sum()),
    "print_failed": ("service.print", _count(pl.col("result") == "failed")),
    "calls": ("service.call", pl.len()),
    "calls_answered": ("service.call", _count(pl.col("outcome") == "answered")),
    "calls_abandoned": ("service.call", _count(pl.col("outcome") == "abandoned")),
    "answer_rate": ("service.call", _rate(_count(pl.col("outcome") == "answered"), pl.len())),
    "wait_s_avg": ("service.call", pl.col("wait_s").mean()),
    "wait_s_max": ("service.call", pl.col("wait_s").max()),
    "talk_s_avg": ("service.call", pl.col("talk_s").mean()),
}
# sampled measures: (stream, series keys, per-series expression, how series combine)
SAMPLED: dict[str, tuple[str, tuple[str, ...], pl.Expr, str]] = {
    "in_bps_avg": ("network.link", ("link_id",), pl.col("in_bps").mean(), "sum"),
    "out_bps_avg": ("network.link", ("link_id",), pl.col("out_bps").mean(), "sum"),
    "in_bps_max": ("network.link", ("link_id",), pl.col("in_bps").max(), "max"),
    "out_bps_max": ("network.link", ("link_id",), pl.col("out_bps").max(), "max"),
    "users_avg": ("network.online", ("campus", "access"), pl.col("users").mean(), "sum"),
}
COLUMN = {"deny_reason": "deny_reason", "print_result": "result"}


def expected(d: Data, spec: QuerySpec, zone: ZoneInfo) -> pl.DataFrame:
    """The answer to ``spec`` computed from the stored rows without the rollups or SQL."""
    domain = DOMAINS[spec.domain]
    utc_bucket = "1m" if spec.grain == "minute" else "1h"
    keys = ["b", *spec.group_by]
    parts = []
    for stream in dict.fromkeys(domain.measure(m).source for m in spec.measures):
        rows = d.frames[stream].with_columns(pl.col("ts").dt.truncate(utc_bucket).alias("rollup_bucket"))
        rows = rows.filter(pl.col("rollup_bucket") >= spec.start, pl.col("rollup_bucket") < spec.end)
        for name, values in spec.filters:
            rows = rows.filter(pl.col(COLUMN.get(name, name)).cast(pl.String).is_in(list(values)))
        b = (pl.col("rollup_bucket").dt.convert_time_zone(zone.key).dt.date() if spec.grain == "day"
             else pl.col("rollup_bucket"))
        rows = rows.with_columns(b.alias("b"), *(pl.col(COLUMN.get(g, g)).cast(pl.String).alias(g)
                                                for g in spec.group_by))
        mine = [m for m in spec.measures if domain.measure(m).source == stream]
        plain = [PLAIN[m][1].alias(m) for m in mine if m in PLAIN]
        frame = rows.group_by(keys).agg(plain) if plain else rows.select(keys).unique()
        for m in (m for m in mine if m in SAMPLED):
            _, series, per_series, combine = SAMPLED[m]
            inner = rows.group_by([*keys, *(s for s in series if s not in keys)]).agg(per_series.alias(m))
            outer = inner.group_by(keys).agg(getattr(pl.col(m), combine)())
            frame = frame.join(outer, on=keys, how="left", nulls_equal=True)
        parts.append(frame)
    merged = parts[0]
    for p in parts[1:]:
        merged = merged.join(p, on=keys, how="full", coalesce=True, nulls_equal=True)
    if spec.grain == "day":
        first, last = spec.start.astimezone(zone).date(), spec.end.astimezone(zone).date()
        grid = pl.DataFrame({"b": pl.date_range(first, last, "1d", closed="left", eager=True)})
    else:
        step = "1m" if spec.grain == "minute" else "1h"
        grid = pl.DataFrame({"b": pl.datetime_range(spec.start, spec.end, step, closed="left",
                                                    time_zone="UTC", time_unit="ms", eager=True)})
    if spec.group_by:
        grid = grid.join(merged.select(spec.group_by).unique(), how="cross")
    out = grid.join(merged.with_columns(pl.col("b").cast(grid["b"].dtype)), on=keys, how="left",
                    nulls_equal=True)
    counts = [m.name for m in domain.measures if m.kind == "count"]
    out = out.with_columns(pl.col(m).fill_null(0) for m in spec.measures if m in counts)
    if spec.grain != "day":
        out = out.with_columns(pl.col("b").dt.convert_time_zone(zone.key))
    return out.sort(keys, nulls_last=False).rename({"b": spec.grain}).select(
        spec.grain, *spec.group_by, *spec.measures)


def comparable(frame: pl.DataFrame, spec: QuerySpec) -> pl.DataFrame:
    domain = DOMAINS[spec.domain]
    floats = {m.name for m in domain.measures if m.kind in ("mean", "ratio")}
    cols = [pl.col(m).cast(pl.Float64 if m in floats else pl.Int64) for m in spec.measures]
    if spec.grain != "day":
        cols.append(pl.col(spec.grain).dt.cast_time_unit("ms"))
    return frame.with_columns(cols)


def check(d: Data, args: dict[str, list[str]], domain: str, zone: ZoneInfo = SHANGHAI) -> pl.DataFrame:
    spec = parse_spec(domain, args, zone, NOW)
    got = run(d.store, spec, zone)
    want = expected(d, spec, zone)
    assert got.columns == [spec.grain, *spec.group_by, *spec.measures]
    assert_frame_equal(comparable(got, spec), comparable(want, spec), check_exact=False, rel_tol=1e-9)
    return got


def window(grain: str) -> dict[str, list[str]]:
    span = {"minute": timedelta(hours=3), "hour": timedelta(days=2), "day": timedelta(days=DAYS)}
    to = NOW - timedelta(hours=5, minutes=17)  # inside the data: events after it must not count
    return {"grain": [grain], "from": [(to - span[grain]).isoformat()], "to": [to.isoformat()]}


# --------------------------------------------------------------------------------- results

@pytest.mark.parametrize("grain", ["minute", "hour", "day"])
@pytest.mark.parametrize("domain", ["gate", "network", "service"])
def test_every_measure_at_every_grain_matches_polars(data: Data, domain: str, grain: str) -> None:
    got = check(data, window(grain), domain)  # no measures named: every one of the domain
    assert set(got.columns) >= set(DOMAINS[domain].measure_names)
    counts = [m.name for m in DOMAINS[domain].measures if m.kind == "count" and m.name != "net_inflow"]
    assert got.select(pl.sum_horizontal(counts).sum()).item() > 0, "the window holds events"


@pytest.mark.parametrize(("domain", "args"), [
    ("gate", {"grain": ["minute"], "group_by": ["gate_id,direction"]}),
    ("gate", {"grain": ["minute"], "group_by": ["result"], "gate_id": ["ga1", "ga2"]}),
    ("gate", {"grain": ["hour"], "group_by": ["person_type,deny_reason"], "result": ["deny"]}),
    ("gate", {"grain": ["hour"], "group_by": ["deny_reason"], "measures": ["attempts,deny_rate,in"]}),
    ("gate", {"grain": ["day"], "group_by": ["campus,method"], "direction": ["out"]}),
    # these two read the narrow rollup gate_pass_gates_1h
    ("gate", {"grain": ["day"], "group_by": ["gate_id"], "result": ["pass"]}),
    ("gate", {"grain": ["hour"], "group_by": ["campus,gate_id"], "direction": ["in"]}),
    ("network", {"grain": ["minute"], "group_by": ["link_id"]}),
    ("network", {"grain": ["hour"], "group_by": ["campus"], "access": ["wired", "vpn"]}),
    ("network", {"grain": ["hour"], "group_by": ["access"], "measures": ["users_avg,ipv6_share"]}),
    ("network", {"grain": ["day"], "group_by": ["severity,status"]}),
    ("network", {"grain": ["hour"], "measures": ["in_bps_avg,users_avg,incidents"]}),
    ("service", {"grain": ["minute"], "group_by": ["action"]}),
    ("service", {"grain": ["hour"], "group_by": ["department"], "channel": ["web", "wechat"]}),
    ("service", {"grain": ["day"], "group_by": ["queue"], "outcome": ["answered"]}),
    ("service", {"grain": ["day"], "group_by": ["print_result,document"]}),
    ("service", {"grain": ["hour"], "group_by": ["terminal_id"], "print_result": ["failed"],
                 "measures": ["print_jobs,print_pages"]}),
])
def test_group_by_and_filters_match_polars(data: Data, domain: str, args: dict) -> None:
    span = window(args["grain"][0])
    got = check(data, {**span, **args}, domain)
    assert got.height > 0


@pytest.mark.parametrize("zone", [SHANGHAI, KOLKATA, NEW_YORK], ids=lambda z: z.key)
def test_days_are_local_dates_in_the_site_zone(data: Data, zone: ZoneInfo) -> None:
    got = check(data, {**window("day"), "measures": ["attempts,in"]}, "gate", zone)
    check(data, {**window("hour"), "measures": ["attempts"]}, "gate", zone)
    assert got["day"].dtype == pl.Date
    # one day of the range starts exactly at its local midnight
    spec = parse_spec("gate", window("day"), zone, NOW)
    assert spec.start.astimezone(zone).time().isoformat() == "00:00:00"


def test_local_midnight_edges_in_whole_and_half_hour_zones(data: Data) -> None:
    """Shanghai splits days exactly at local midnight. Kolkata (+05:30) counts each UTC hour
    in the local day it starts, so a day runs from 00:30 to 00:30 local and an event at 00:10
    lands in the previous day (the documented limitation)."""
    ts = data.frames["gate.pass"]["ts"]

    def between(lo: datetime, hi: datetime) -> int:
        return ts.filter((ts >= lo.astimezone(UTC)) & (ts < hi.astimezone(UTC))).len()

    for zone, shift in ((SHANGHAI, timedelta(0)), (KOLKATA, timedelta(minutes=30))):
        day = (NOW - timedelta(days=1)).astimezone(zone).date()
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        args = {"grain": ["day"], "measures": ["attempts"], "from": [str(day - timedelta(days=1))],
                "to": [str(day + timedelta(days=1))]}
        got = dict(run(data.store, parse_spec("gate", args, zone, NOW), zone).iter_rows())
        assert list(got) == [day - timedelta(days=1), day]
        for d, start in ((day - timedelta(days=1), midnight - timedelta(days=1)), (day, midnight)):
            assert got[d] == between(start + shift, start + timedelta(days=1) + shift), (zone.key, d)
        # the edge events at 00:00 and 00:10 local make the two rules differ
        if shift:
            assert got[day] != between(midnight, midnight + timedelta(days=1))


def test_empty_buckets_are_zero_counts_and_null_means(data: Data) -> None:
    quiet = (NOW - timedelta(days=DAYS + 5)).replace(minute=0)  # before any stored event
    args = {"grain": ["hour"], "from": [quiet.isoformat()],
            "to": [(quiet + timedelta(hours=6)).isoformat()]}
    got = run(data.store, parse_spec("service", args, SHANGHAI, NOW), SHANGHAI)
    assert got.height == 6
    assert got["calls"].to_list() == [0] * 6 and got["wait_s_avg"].to_list() == [None] * 6
    grouped = run(data.store, parse_spec("service", {**args, "group_by": ["queue"]}, SHANGHAI, NOW),
                  SHANGHAI)
    assert grouped.height == 0  # no group was seen, so there is nothing to fill


def test_minute_and_hour_buckets_are_local_aware_times(data: Data) -> None:
    got = check(data, window("minute"), "gate", KOLKATA)
    assert got["minute"].dtype == pl.Datetime("us", "Asia/Kolkata")
    assert got["minute"].is_sorted() and got["minute"].null_count() == 0
    assert got.height == 180  # 3 h of whole minutes, every one present


# ------------------------------------------------------------------------ range and defaults

def test_range_rounded_out_to_whole_buckets_and_cut_at_now() -> None:
    now = datetime(2026, 9, 1, 10, 17, 42, tzinfo=UTC)
    spec = parse_spec("gate", {"grain": ["hour"], "from": ["2026-09-01T08:20:00+08:00"],
                               "to": ["2026-09-01T09:05:00Z"]}, SHANGHAI, now)
    assert spec.start == datetime(2026, 9, 1, 0, tzinfo=UTC)
    assert spec.end == datetime(2026, 9, 1, 10, tzinfo=UTC)
    future = parse_spec("gate", {"grain": ["minute"], "from": ["2026-09-01T10:00:00Z"],
                                 "to": ["2026-09-03T00:00:00Z"]}, SHANGHAI, now)
    assert future.end == datetime(2026, 9, 1, 10, 18, tzinfo=UTC)  # the end of the current minute
    day = parse_spec("gate", {"grain": ["day"], "from": ["2026-08-30"], "to": ["2026-09-01T00:30:00+08:00"]},
                     SHANGHAI, now)
    assert day.start == datetime(2026, 8, 29, 16, tzinfo=UTC)  # local midnight of 30 Aug
    assert day.end == datetime(2026, 9, 1, 16, tzinfo=UTC)  # the end of 1 Sep, local


@pytest.mark.parametrize(("grain", "span"), [("minute", timedelta(hours=1)), ("hour", timedelta(hours=24)),
                                              ("day", timedelta(days=30))])
def test_default_range_per_grain(grain: str, span: timedelta) -> None:
    now = datetime(2026, 9, 1, 10, 17, 42, tzinfo=UTC)
    spec = parse_spec("gate", {"grain": [grain]}, SHANGHAI, now)
    assert spec.start == q.floor_bucket(now - span, grain, SHANGHAI)  # type: ignore[arg-type]
    assert spec.end == q.next_bucket(q.floor_bucket(now, grain, SHANGHAI), grain, SHANGHAI)  # type: ignore[arg-type]
    assert parse_spec("gate", {}, SHANGHAI, now).grain == "hour"


def test_same_question_same_spec_and_key() -> None:
    now = datetime(2026, 9, 1, 10, 17, 42, tzinfo=UTC)
    a = parse_spec("gate", {"grain": ["hour"], "gate_id": ["b", "a", "b"], "direction": ["in"],
                            "group_by": ["gate_id"], "measures": ["in,out"]}, SHANGHAI, now)
    b = parse_spec("gate", {"direction": ["in"], "measures": ["in, out,in"], "gate_id": ["a", "b"],
                            "group_by": ["gate_id"], "grain": ["hour"]}, SHANGHAI,
                   now + timedelta(seconds=5))
    assert a == b and a.cache_key(SHANGHAI) == b.cache_key(SHANGHAI)
    assert a.filters == (("direction", ("in",)), ("gate_id", ("a", "b")))
    assert a.cache_key(SHANGHAI) != a.cache_key(KOLKATA)
    c = parse_spec("gate", {"grain": ["hour"], "gate_id": ["a"], "direction": ["in"],
                            "group_by": ["gate_id"], "measures": ["in,out"]}, SHANGHAI, now)
    assert c.cache_key(SHANGHAI) != a.cache_key(SHANGHAI)


# --------------------------------------------------------------------------------- refusals

NOW_FIXED = datetime(2026, 9, 1, 10, 17, 42, tzinfo=UTC)


@pytest.mark.parametrize(("domain", "args", "needles"), [
    ("gate", {"frm": ["2026-09-01"]},
     ["unknown parameter 'frm'", "from, to, grain, measures, group_by", "campus, gate_id"]),
    ("gate", {"grain": ["week"]}, ["grain='week'", "minute, hour, day"]),
    ("gate", {"grain": ["hour", "day"]}, ["grain is given 2 times"]),
    ("gate", {"measures": ["in,inn"]}, ["unknown measure 'inn'", "attempts, in, out, net_inflow"]),
    ("gate", {"measures": [" , "]}, ["measures is empty"]),
    ("gate", {"group_by": ["gate"]}, ["cannot group by 'gate'", "campus, gate_id, direction"]),
    ("gate", {"direction": ["sideways"]}, ["direction='sideways'", "use one of: in, out"]),
    ("gate", {"gate_id": ["x" * 65]}, ["1–64 printable characters"]),
    ("gate", {"gate_id": ["a\x00b"]}, ["printable"]),
    ("gate", {"grain": ["minute"], "group_by": ["person_type"]},
     ["person_type is not kept per minute", "grain=hour or grain=day"]),
    ("gate", {"grain": ["minute"], "method": ["face"]}, ["filter method is not kept per minute"]),
    ("service", {"measures": ["print_jobs"], "group_by": ["queue"]},
     ["queue does not apply to measure print_jobs", "service.print", "terminal_id, document",
      "measures it applies to: calls, calls_answered"]),
    ("service", {"group_by": ["queue,action"]}, ["no measure of service can be split by queue, action"]),
    ("network", {"measures": ["in_bps_avg"], "campus": ["main"]},
     ["campus does not apply to measure in_bps_avg"]),
    ("gate", {"from": ["yesterday"]}, ["from='yesterday' is not an RFC 3339 time"]),
    ("gate", {"to": ["2026-09-01T08:00:61"]}, ["not an RFC 3339 time", "site's zone, Asia/Shanghai"]),
    ("gate", {"from": ["2026-13-01"]}, ["not an RFC 3339 time"]),
    ("gate", {"from": ["2026-09-01T08:00:00Z"], "to": ["2026-09-01T08:00:00Z"]}, ["must be before to"]),
    ("gate", {"from": ["2026-09-02T08:00:00Z"], "to": ["2026-09-03T08:00:00Z"]}, ["is in the future"]),
    ("gate", {"grain": ["minute"], "from": ["2026-08-29T00:00:00Z"]},
     ["too long for grain=minute", "at most 2 days", "grain=hour"]),
    ("gate", {"grain": ["hour"], "from": ["2026-05-01T00:00:00Z"]}, ["at most 92 days", "grain=day"]),
    ("gate", {"grain": ["day"], "from": ["2024-01-01"]}, ["at most 800 days"]),
    ("gate", {"grain": ["minute"], "from": ["2026-06-01T00:00:00Z"], "to": ["2026-06-02T00:00:00Z"]},
     ["kept 63 days", "grain=hour"]),
])
def test_bad_parameters_are_refused_naming_what_is_allowed(domain: str, args: dict,
                                                           needles: list[str]) -> None:
    with pytest.raises(QueryError) as err:
        parse_spec(domain, args, SHANGHAI, NOW_FIXED, extra=("format",))
    assert err.value.code == "bad_parameter"
    for needle in needles:
        assert needle in err.value.message, err.value.message


def test_unknown_domain_names_the_domains() -> None:
    with pytest.raises(QueryError) as err:
        parse_spec("admissions", {}, SHANGHAI, NOW_FIXED)
    assert err.value.code == "unknown_domain"
    assert all(d in err.value.message for d in DOMAINS) and "enrollment" in err.value.message


def test_extra_parameters_are_named_as_allowed() -> None:
    with pytest.raises(QueryError) as err:
        parse_spec("gate", {"fmt": ["csv"]}, SHANGHAI, NOW_FIXED, extra=("format",))
    assert "format" in err.value.message
    assert parse_spec("gate", {"format": ["csv"]}, SHANGHAI, NOW_FIXED, extra=("format",)).domain == "gate"


def test_too_many_rows_is_refused(data: Data, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(q.sql, "MAX_ROWS", 100)  # where run() reads it
    spec = parse_spec("gate", {**window("hour"), "group_by": ["gate_id"]}, SHANGHAI, NOW)
    with pytest.raises(QueryError) as err:
        run(data.store, spec, SHANGHAI)
    assert err.value.code == "too_many_rows" and "narrow the range" in err.value.message


# ------------------------------------------------------------------------------- injection

INJECTIONS = ["ga1' OR 1=1 --", "ga1'); DROP TABLE gate_pass; --", "{start:String}", "\\' OR \\'1\\'=\\'1",
              "ga1` , `x", "' UNION SELECT * FROM system.tables --"]


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_in_filter_values_is_only_data(data: Data, value: str) -> None:
    spec = parse_spec("gate", {**window("hour"), "gate_id": [value], "measures": ["attempts"]}, SHANGHAI, NOW)
    sql, params = q._source_sql(DOMAINS["gate"], DOMAINS["gate"].sources[0],
                                [DOMAINS["gate"].measure("attempts")], spec, SHANGHAI)
    assert value not in sql and value in params.values()
    got = run(data.store, spec, SHANGHAI)
    assert got["attempts"].sum() == 0  # no gate has that code; nothing else matched
    total = data.store.rows("SELECT count() FROM gate_pass")[0][0]
    assert total == data.frames["gate.pass"].height  # and the table is still whole


@pytest.mark.parametrize("args", [
    {"group_by": ["gate_id; DROP TABLE gate_pass"]},
    {"group_by": ["gate_id`, (SELECT 1) AS `x"]},
    {"measures": ["sum(attempts)"]},
    {"measures": ["attempts) FROM system.tables --"]},
    {"grain": ["hour'); DROP TABLE gate_pass; --"]},
    {"gate_id) OR (1": ["1"]},
])
def test_injection_in_names_is_refused(data: Data, args: dict) -> None:
    with pytest.raises(QueryError):
        parse_spec("gate", args, SHANGHAI, NOW)
    assert data.store.rows("SELECT count() FROM gate_pass")[0][0] == data.frames["gate.pass"].height


def test_sql_is_built_only_from_whitelisted_identifiers() -> None:
    for domain in DOMAINS.values():
        if domain.answers is not None:  # latest states: tests/metrics/test_enrollment_query.py
            continue
        for grain in domain.grains:
            for source in domain.sources:
                measures = [m for m in domain.measures if m.source == source.stream]
                dims = source.dims(grain)
                spec = QuerySpec(domain.name, tuple(m.name for m in measures), dims,
                                 tuple((d, ("v",)) for d in dims), NOW - timedelta(hours=1), NOW, grain)
                sql, params = q._source_sql(domain, source, measures, spec, SHANGHAI)
                assert "'v'" not in sql and set(params) >= {"start", "end"}
                literals = set(re.findall(r"'([^']*)'", sql)) - {"UTC", ""}
                allowed = {v for d in domain.dimensions for v in d.values}
                assert literals <= allowed, literals  # only the whitelist's own enum literals


# ------------------------------------------------------------------- whitelist consistency

def test_whitelist_matches_the_schema(data: Data) -> None:
    columns: dict[str, set[str]] = {}
    for table, name in data.store.rows(
            "SELECT table, name FROM system.columns WHERE database = {db:String}",
            {"db": data.store.database}):
        columns.setdefault(table, set()).add(name)
    for domain in DOMAINS.values():
        if domain.answers is not None:  # no rollups: its sources are raw tables
            for source in domain.sources:
                assert source.table in columns, source.table
            continue
        for source in domain.sources:
            for rollup, dims in (("1m", source.minute), ("1h", source.hour)):
                table = f"{source.table}_{rollup}"
                assert table in columns, table
                for name in dims:
                    assert domain.dimension(name).col in columns[table], (table, name)
            assert set(source.minute) <= set(source.hour), source.stream
            assert set(source.series) <= set(source.minute), source.stream
        for dim in domain.dimensions:
            assert any(dim.name in s.hour for s in domain.sources), dim.name
    assert q.MINUTE_KEPT == timedelta(days=ROLLUP_1M_TTL_DAYS)


def test_enumerations_match_the_event_contracts() -> None:
    for domain in DOMAINS.values():
        for dim in domain.dimensions:
            streams = [BY_NAME[s.stream] for s in domain.sources if dim.name in s.hour]
            field = dim.name if dim.name != "print_result" else "result"
            for stream in streams:
                if any(f.name == field for f in stream.all_fields):  # a plan row names no college
                    assert stream.field(field).values == dim.values, (domain.name, dim.name)


def test_docs_list_the_whitelist() -> None:
    doc = (ROOT / "docs" / "api.md").read_text()
    block = doc.split("<!-- query-whitelist:start -->\n", 1)[1].split("<!-- query-whitelist:end -->", 1)[0]
    assert block == q.whitelist_markdown(), "regenerate the table in docs/api.md from metrics.query"
    assert "`GET /api/v1/query/<domain>" in doc


def test_describe_lists_every_measure_and_dimension() -> None:
    described = q.describe()
    for name, domain in DOMAINS.items():
        entry = described[name]
        assert [m["name"] for m in entry["measures"]] == list(domain.measure_names)  # type: ignore[index]
        assert [d["name"] for d in entry["dimensions"]] == list(domain.dimension_names)  # type: ignore[index]


def test_date_only_parameters_are_local_midnight() -> None:
    assert q.parse_time("from", "2026-09-01", SHANGHAI) == datetime(2026, 8, 31, 16, tzinfo=UTC)
    assert q.parse_time("to", "2026-09-01T00:00:00Z", SHANGHAI) == datetime(2026, 9, 1, tzinfo=UTC)
    assert date(2026, 9, 1) == q.parse_time("from", "2026-09-01", KOLKATA).astimezone(KOLKATA).date()


def test_a_time_without_offset_is_in_the_sites_zone() -> None:
    assert q.parse_time("to", "2026-09-01T08:00:00", SHANGHAI) == datetime(2026, 9, 1, tzinfo=UTC)
    assert q.parse_time("to", "2026-09-01 05:30", KOLKATA) == datetime(2026, 9, 1, tzinfo=UTC)
