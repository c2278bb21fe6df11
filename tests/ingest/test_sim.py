"""Simulators: deterministic, valid against the contracts, and shaped like a campus."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from ingest.registry import get_stream
from ingest.sim import HOUR_MS, Simulator, World
from ingest.sim import gate as gate_sim
from ingest.sim.enrollment import season
from ingest.site import load_site
from ingest.validate import validate
from ioc_app.settings import DEFAULT_SITE

ZONE = ZoneInfo("Asia/Shanghai")
SITE = load_site(DEFAULT_SITE)
WORLD = World(SITE, ZONE)
MONDAY = datetime(2026, 9, 7, tzinfo=ZONE)  # a teaching week, in check-in's aftermath


def ms(d: datetime) -> int:
    return int(d.timestamp() * 1000)


@pytest.fixture(scope="module")
def monday() -> dict[str, list[dict]]:
    return Simulator(WORLD).sent_between(ms(MONDAY), ms(MONDAY + timedelta(days=1)))


def test_same_seed_same_events_other_seed_other_events() -> None:
    a = Simulator(WORLD).sent_between(ms(MONDAY + timedelta(hours=8)), ms(MONDAY + timedelta(hours=9)))
    b = Simulator(WORLD).sent_between(ms(MONDAY + timedelta(hours=8)), ms(MONDAY + timedelta(hours=9)))
    c = Simulator(World(SITE, ZONE, seed=8)).sent_between(
        ms(MONDAY + timedelta(hours=8)), ms(MONDAY + timedelta(hours=9)))
    assert a == b and a["gate.pass"] != c["gate.pass"]


def test_windows_partition_the_stream() -> None:
    sim = Simulator(WORLD)
    t0, t1, t2 = ms(MONDAY), ms(MONDAY + timedelta(hours=3, minutes=17)), ms(MONDAY + timedelta(hours=6))
    whole = sim.sent_between(t0, t2)
    parts = [sim.sent_between(t0, t1), sim.sent_between(t1, t2)]
    for stream, events in whole.items():
        joined = parts[0].get(stream, []) + parts[1].get(stream, [])
        assert sorted(map(str, joined)) == sorted(map(str, events)), stream


def test_every_event_passes_validation(monday) -> None:
    now = MONDAY + timedelta(days=1)
    assert set(monday) >= {"gate.pass", "network.link", "network.online", "network.security",
                           "service.workflow", "service.print", "service.call"}
    for stream, events in monday.items():
        result = validate(get_stream(stream), events, source="sim", now=now)
        assert result.errors == [], (stream, result.errors[:3])
        if "event_id" in result.frame.columns:
            assert result.frame["event_id"].n_unique() == result.frame.height, stream


def test_admission_season_is_valid_and_fills_the_plan() -> None:
    by_hour = season(WORLD, 2026)
    events = [e for evs in by_hour.values() for e in evs]
    streams = Counter(s for _, s, _ in events)
    assert streams["enrollment.plan"] > 100 and streams["enrollment.checkin"] > 1000
    now = datetime(2026, 10, 1, tzinfo=ZONE)
    for name in ("enrollment.admission", "enrollment.plan", "enrollment.checkin"):
        evs = [e for _, s, e in events if s == name]
        assert validate(get_stream(name), evs, source="sim", now=now).errors == [], name
    plan = sum(e["planned"] for _, s, e in events if s == "enrollment.plan")
    admitted = sum(1 for _, s, e in events if s == "enrollment.admission" and e["status"] == "admitted")
    assert 0.97 <= admitted / plan <= 1.0
    provinces = {e["province"] for _, s, e in events if s == "enrollment.admission"}
    assert len(provinces) == 34
    first = min(t for t, s, _ in events if s == "enrollment.admission")
    assert datetime.fromtimestamp(first / 1000, ZONE).month == 7


def _gate_frame(events: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(events, infer_schema_length=None).with_columns(
        pl.from_epoch("ts", time_unit="ms").dt.replace_time_zone("UTC").dt.convert_time_zone(ZONE.key)
        .alias("local"))


def test_gate_rhythm_class_change_peak_and_weekend(monday) -> None:
    df = _gate_frame(monday["gate.pass"])
    minutes = df.group_by(pl.col("local").dt.truncate("1m")).len()

    def around(h: int, m: int) -> int:
        at = MONDAY.replace(hour=h, minute=m)
        near = pl.col("local").is_between(at - timedelta(minutes=3), at + timedelta(minutes=3))
        return minutes.filter(near)["len"].sum()

    assert around(9, 45) > 1.4 * around(9, 15)  # the class change
    assert df.filter(pl.col("local").dt.hour() < 10)["direction"].eq("in").mean() > 0.65  # mornings in
    evening = df.filter(pl.col("local").dt.hour().is_between(17, 18))
    assert evening["direction"].eq("out").mean() > 0.6  # evenings out
    saturday = Simulator(WORLD).sent_between(ms(MONDAY + timedelta(days=5)), ms(MONDAY + timedelta(days=6)))
    ratio = len(saturday["gate.pass"]) / df.height
    assert 0.45 <= ratio <= 0.7
    deny = df["result"].eq("deny").mean()
    assert 0.01 <= deny <= 0.03
    assert 80_000 <= df.height <= 150_000


def test_backlog_of_an_offline_controller_is_sent_late() -> None:
    day = next(d for d in range(ms(MONDAY) // HOUR_MS // 24, 10**6) if gate_sim.outage(WORLD, d))
    gate, off, on = gate_sim.outage(WORLD, day)
    sim = Simulator(WORLD)
    before = sim.sent_between(off, on)["gate.pass"]
    assert not [e for e in before if e["gate_id"] == gate]  # silent while offline
    after = sim.sent_between(on, on + 3 * 60_000)["gate.pass"]
    late = [e for e in after if e["gate_id"] == gate and e["ts"] < on]
    assert late and min(e["ts"] for e in late) < off + 30 * 60_000


def test_service_hall_shape(monday) -> None:
    wf = pl.DataFrame(monday["service.workflow"])
    submitted = wf.filter(pl.col("action") == "submitted")
    top = submitted.group_by("service_id").len().sort("len", descending=True)
    assert top["service_id"][0] == "visitor-registration"
    assert 500 <= submitted["case_id"].n_unique() <= 1100
    assert wf["node"].max() <= 4
    calls = pl.DataFrame(monday["service.call"])
    assert 10 <= calls.height <= 60 and calls["outcome"].eq("answered").mean() > 0.6


def test_network_shape(monday) -> None:
    links = pl.DataFrame(monday["network.link"])
    assert links.height == 4 * 8640
    caps = {lk.code: lk.capacity_bps for lk in SITE.links}
    util = links.with_columns((pl.col("in_bps") / pl.col("link_id").replace_strict(caps)).alias("u"))
    assert util["u"].max() <= 1.0 and util["u"].max() > 0.9  # the daily saturation spell
    online = pl.DataFrame(monday["network.online"])
    assert (online["ipv6_users"] <= online["users"]).all()
    security = pl.DataFrame(monday["network.security"])
    cats = security.filter(pl.col("status") == "open")["category"].value_counts(sort=True)
    assert cats["category"][0] == "weak_password"


def test_scale_multiplies_volumes() -> None:
    one = Simulator(WORLD).sent_between(ms(MONDAY + timedelta(hours=10)), ms(MONDAY + timedelta(hours=11)))
    ten = Simulator(World(SITE, ZONE, scale=10)).sent_between(
        ms(MONDAY + timedelta(hours=10)), ms(MONDAY + timedelta(hours=11)))
    assert 8 <= len(ten["gate.pass"]) / len(one["gate.pass"]) <= 12
    assert datetime.now(UTC)  # the simulators never look at the wall clock


def test_backlog_lands_in_the_minutes_it_happened(pipeline) -> None:
    from datetime import UTC

    now = datetime.now(UTC)
    day = next(d for d in range(int(now.timestamp()) // 86_400 - 6, 10**6) if gate_sim.outage(WORLD, d))
    gate, off, on = gate_sim.outage(WORLD, day)
    if on + 180_000 > now.timestamp() * 1000:
        day = next(d for d in range(day - 30, day) if gate_sim.outage(WORLD, d))
        gate, off, on = gate_sim.outage(WORLD, day)
    sim = Simulator(WORLD)
    events = sim.sent_between(off - 600_000, on + 180_000)["gate.pass"]
    pipeline.submit(get_stream("gate.pass"), events, source="sim")
    pipeline.writer.flush_once(force=True)
    expected = (pl.DataFrame([e for e in events if e["gate_id"] == gate])
                .with_columns((pl.col("ts") // 60_000 * 60).alias("minute"))
                .group_by("minute").len().sort("minute"))
    stored = pipeline.store.query(
        "SELECT toUnixTimestamp(minute) AS minute, sum(attempts) AS n FROM gate_pass_1m "
        "WHERE gate_id = {g:String} GROUP BY minute ORDER BY minute", {"g": gate})
    assert stored["minute"].to_list() == expected["minute"].to_list()
    assert stored["n"].to_list() == expected["len"].to_list()
    inside = expected.filter(pl.col("minute").is_between(off // 1000, on // 1000 - 60))
    assert inside.height > 30  # the outage's minutes are filled by the late upload
