"""Network KPIs against the definitions in metrics.md, computed independently in Polars."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from ingest.network import NETWORK_LINK, NETWORK_ONLINE, NETWORK_SECURITY
from ingest.site import load_site, store_reference
from ingest.validate import validate
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store
from metrics import network
from metrics.network import links_now, online_now, peak_utilization
from tests.metrics.conftest import Week, week_end
from tests.metrics.test_gate import assert_same

NOW = datetime.now(UTC).replace(microsecond=0)
ZONE = ZoneInfo("Asia/Shanghai")
ACCESS = NETWORK_ONLINE.field("access").values
SEVERITIES = NETWORK_SECURITY.field("severity").values
STATUSES = NETWORK_SECURITY.field("status").values


def ms(d: datetime) -> int:
    return int(d.timestamp() * 1000)


def insert(store: Store, stream, events) -> None:
    r = validate(stream, events, source="t")
    assert r.errors == []
    store.insert(stream.table, r.frame)


def test_links_latest_sample_capacity_and_staleness(migrated: Store) -> None:
    store_reference(migrated, load_site(DEFAULT_SITE))  # capacities: cernet/telecom 10G, unicom/mobile 5G
    insert(migrated, NETWORK_LINK, [
        {"ts": ms(NOW - timedelta(seconds=70)), "link_id": "cernet", "in_bps": 9 * 10**9, "out_bps": 1},
        {"ts": ms(NOW - timedelta(seconds=10)), "link_id": "cernet", "in_bps": 2 * 10**9,
         "out_bps": 4 * 10**9},  # the latest wins, max(in, out) counts
        {"ts": ms(NOW - timedelta(minutes=7)), "link_id": "unicom", "in_bps": 10**9, "out_bps": 0},
        {"ts": ms(NOW - timedelta(seconds=5)), "link_id": "lab-x", "in_bps": 5, "out_bps": 5,
         "capacity_bps": 10},  # not in the catalogue, capacity sent with the sample
    ])
    got = {r["link_id"]: r for r in links_now(migrated, NOW).to_dicts()}
    assert set(got) == {"cernet", "telecom", "unicom", "mobile", "lab-x"}
    assert got["cernet"]["utilization"] == 0.4 and not got["cernet"]["stale"]
    assert got["cernet"]["age_s"] == 10.0
    assert got["unicom"]["utilization"] == 0.2 and got["unicom"]["stale"]  # older than 5 min
    assert got["telecom"]["in_bps"] is None and got["telecom"]["stale"]  # no sample at all
    assert got["telecom"]["age_s"] is None
    assert got["lab-x"]["utilization"] == 0.5
    assert peak_utilization(links_now(migrated, NOW)) == 0.5
    section = network.live(migrated, ZONE, NOW)
    assert section["links"] == links_now(migrated, NOW).to_dicts()
    assert section["peak_utilization"] == 0.5  # the stale unicom sample does not count


def test_online_users_sum_latest_samples_within_ten_minutes(migrated: Store) -> None:
    events = []
    for minutes_ago, users in ((12, 9999), (4, 100), (1, 300)):
        for campus in ("main", "east"):
            for access in ("wired", "vpn"):
                events.append({"ts": ms(NOW - timedelta(minutes=minutes_ago)), "campus": campus,
                               "access": access, "users": users, "ipv6_users": users // 4})
    events.append({"ts": ms(NOW - timedelta(minutes=11)), "campus": "south", "access": "wired",
                   "users": 5000, "ipv6_users": 5000})  # only an old sample: not online now
    insert(migrated, NETWORK_ONLINE, events)
    frame = pl.DataFrame(events).filter(pl.col("ts") >= ms(NOW - timedelta(minutes=10)))
    latest = frame.sort("ts").group_by("campus", "access").last()
    expected_users = int(latest["users"].sum())
    got = online_now(migrated, NOW)
    assert got == {"users": expected_users, "ipv6_share": latest["ipv6_users"].sum() / expected_users}
    assert got["users"] == 4 * 300
    online = network.live(migrated, ZONE, NOW)["online"]
    assert online["by_campus"] == [{"campus": "east", "wired": 300, "wireless": 0, "vpn": 300},
                                   {"campus": "main", "wired": 300, "wireless": 0, "vpn": 300}]
    assert online["by_access"] == [{"access": "wired", "users": 600, "ipv6_share": 0.25},
                                   {"access": "wireless", "users": 0, "ipv6_share": None},
                                   {"access": "vpn", "users": 600, "ipv6_share": 0.25}]


def test_nobody_online_has_no_share(migrated: Store) -> None:
    assert online_now(migrated, NOW) == {"users": 0, "ipv6_share": None}


# ---------------------------------------------------------------------------------------------
# The independent computation: events (one row per event id, ``ts`` aware UTC) → the section


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def iso(t: datetime, zone: ZoneInfo) -> str:
    return t.astimezone(zone).isoformat()


def expected_links(links: pl.DataFrame, catalogue: dict[str, int], now: datetime) -> list[dict[str, Any]]:
    recent = links.filter(pl.col("ts") >= now - timedelta(hours=1), pl.col("ts") <= now)
    out = []
    for link in sorted(set(catalogue) | set(recent["link_id"].to_list())):
        samples = recent.filter(pl.col("link_id") == link).sort("ts")
        if samples.height == 0:
            out.append({"link_id": link, "in_bps": None, "out_bps": None, "capacity_bps": catalogue[link],
                        "utilization": None, "stale": True, "age_s": None})
            continue
        last = samples.row(-1, named=True)
        capacity = last["capacity_bps"] or catalogue.get(link)
        out.append({"link_id": link, "in_bps": last["in_bps"], "out_bps": last["out_bps"],
                    "capacity_bps": capacity,
                    "utilization": max(last["in_bps"], last["out_bps"]) / capacity if capacity else None,
                    "stale": now - last["ts"] > timedelta(minutes=5),
                    "age_s": (now - last["ts"]).total_seconds()})
    return out


def expected_online(online: pl.DataFrame, now: datetime) -> dict[str, Any]:
    recent = online.filter(pl.col("ts") >= now - timedelta(minutes=10), pl.col("ts") <= now)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in recent.sort("ts").iter_rows(named=True):
        latest[(row["campus"], row["access"])] = row  # the later sample replaces the earlier
    users = sum(r["users"] for r in latest.values())
    ipv6 = sum(r["ipv6_users"] for r in latest.values())
    campuses = sorted({c for c, _ in latest})
    by_access = []
    for a in ACCESS:
        n = sum(r["users"] for (_, acc), r in latest.items() if acc == a)
        v = sum(r["ipv6_users"] for (_, acc), r in latest.items() if acc == a)
        by_access.append({"access": a, "users": n, "ipv6_share": v / n if n else None})
    return {"users": users, "ipv6_share": ipv6 / users if users else None,
            "by_campus": [{"campus": c, **{a: latest[(c, a)]["users"] if (c, a) in latest else 0
                                           for a in ACCESS}} for c in campuses],
            "by_access": by_access}


def incidents(security: pl.DataFrame, now: datetime) -> list[dict[str, Any]]:
    """Each incident's first_seen and its latest finding (latest ts; ties: later arrival)."""
    out = []
    seen = security.filter(pl.col("ts") <= now)
    order = ["ts", "received_at"] if "received_at" in seen.columns else ["ts"]
    for (_key,), findings in seen.partition_by("incident_key", as_dict=True).items():
        last = findings.sort(order).row(-1, named=True)
        out.append({"first_seen": findings["ts"].min(), "status": last["status"],
                    "severity": last["severity"], "category": last["category"]})
    return out


def expected_security(security: pl.DataFrame, zone: ZoneInfo, now: datetime) -> tuple[dict, list]:
    today = now.astimezone(zone).date()
    dates = [today - timedelta(days=k) for k in range(29, -1, -1)]
    window = [i for i in incidents(security, now) if i["first_seen"].astimezone(zone).date() >= dates[0]]
    new = [i for i in window if i["first_seen"].astimezone(zone).date() == today]
    still_open = [i for i in window if i["status"] == "open"]
    categories: dict[str, int] = {}
    for i in new:
        categories[i["category"]] = categories.get(i["category"], 0) + 1
    live = {
        "today": {s: sum(i["severity"] == s for i in new) for s in SEVERITIES},
        "open": len(still_open),
        "open_by_severity": {s: sum(i["severity"] == s for i in still_open) for s in SEVERITIES},
        "by_status": {s: sum(i["status"] == s for i in window) for s in STATUSES},
        "by_category_today": [{"category": c, "count": n}
                              for c, n in sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))],
    }
    days = []
    for d in dates:
        cohort = [i for i in window if i["first_seen"].astimezone(zone).date() == d]
        days.append({"date": d.isoformat(), "new": len(cohort),
                     **{s: sum(i["status"] == s for i in cohort) for s in STATUSES}})
    return live, days


def expected_links_60m(links: pl.DataFrame, link_rows: list[dict[str, Any]], zone: ZoneInfo,
                       now: datetime) -> list[dict[str, Any]]:
    current = now.replace(second=0, microsecond=0)
    out = []
    for row in link_rows:
        for k in range(60, -1, -1):
            start = current - timedelta(minutes=k)
            samples = links.filter(pl.col("link_id") == row["link_id"], pl.col("ts") >= start,
                                   pl.col("ts") < start + timedelta(minutes=1))
            n = samples.height
            mean_in = samples["in_bps"].sum() / n if n else None
            mean_out = samples["out_bps"].sum() / n if n else None
            cap = row["capacity_bps"]
            out.append({"link_id": row["link_id"], "minute": iso(start, zone), "in_bps": mean_in,
                        "out_bps": mean_out, "capacity_bps": cap,
                        "utilization": max(mean_in, mean_out) / cap if n and cap else None})
    return out


def expected_ipv6(online: pl.DataFrame, zone: ZoneInfo, now: datetime) -> list[dict[str, Any]]:
    current = now.replace(minute=0, second=0, microsecond=0)
    out = []
    for k in range(167, -1, -1):
        start = current - timedelta(hours=k)
        hour = online.filter(pl.col("ts") >= start, pl.col("ts") < start + timedelta(hours=1))
        means = hour.group_by("campus", "access").agg(pl.col("users").mean())
        total = hour["users"].sum()
        out.append({"hour": iso(start, zone), "users": float(means["users"].sum()),
                    "ipv6_share": hour["ipv6_users"].sum() / total if total else None})
    return out


def expected_network(week: Week, zone: ZoneInfo) -> dict[str, Any]:
    now = week.now
    catalogue = {link.code: link.capacity_bps for link in week.site.links}
    links = week.events("network.link")
    online = week.events("network.online")
    security, security_30d = expected_security(week.events("network.security"), zone, now)
    link_rows = expected_links(links, catalogue, now)
    fresh = [r["utilization"] for r in link_rows if not r["stale"] and r["utilization"] is not None]
    return {
        "live": {"links": link_rows, "peak_utilization": max(fresh) if fresh else None,
                 "online": expected_online(online, now), "security": security},
        "slow": {"links_60m": expected_links_60m(links, link_rows, zone, now),
                 "ipv6_7d": expected_ipv6(online, zone, now), "security_30d": security_30d},
    }


def section(store: Store, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    return {"live": network.live(store, zone, now), "slow": network.slow(store, zone, now)}


# ---------------------------------------------------------------------------------------------
# The simulated week


@pytest.mark.parametrize("zone_name", ["Asia/Shanghai", "Asia/Kolkata"])
def test_week_network_section_matches_independent_computation(week: Week, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    got = section(week.store, zone, week.now)
    assert_same(got, expected_network(week, zone), "network")
    live = got["live"]
    assert len(live["links"]) == 4 and not any(r["stale"] for r in live["links"])
    assert live["online"]["users"] > 1000 and 0 < live["online"]["ipv6_share"] < 1
    assert len(live["online"]["by_campus"]) == 3
    assert live["security"]["open"] > 0 and sum(live["security"]["by_status"].values()) > 20
    assert sum(r["new"] for r in got["slow"]["security_30d"]) == sum(live["security"]["by_status"].values())
    assert sum(r["open"] for r in got["slow"]["security_30d"]) == live["security"]["open"]
    assert sum(r["ipv6_share"] is not None for r in got["slow"]["ipv6_7d"]) >= 160


# ---------------------------------------------------------------------------------------------
# Crafted cases


def finding(key: str, ts: datetime, status: str, severity: str = "medium",
            category: str = "weak_password", event_id: str = "") -> dict[str, Any]:
    return {"event_id": event_id or f"{key}-{status}-{ms(ts)}", "ts": ms(ts), "incident_key": key,
            "severity": severity, "category": category, "target_system": "mail", "status": status}


def test_security_latest_status_wins_whatever_the_arrival_order(pipeline) -> None:
    now = week_end(ZONE)
    local = now.astimezone(ZONE)
    midnight = local_midnight(local.date(), ZONE)
    window_start = local_midnight(local.date() - timedelta(days=29), ZONE)
    hour = timedelta(hours=1)
    batches: list[tuple[datetime, list[dict[str, Any]]]] = [
        (now, [finding("late-open", midnight + 2 * hour, "handled"),  # the newer update arrives first
               finding("reopened", midnight + hour, "open", "high", "intrusion"),
               finding("reopened", midnight + 2 * hour, "handled", "high", "intrusion"),
               finding("reopened", midnight + 3 * hour, "open", "high", "intrusion"),
               finding("raised", midnight + hour, "open", "medium", "malware"),
               finding("raised", midnight + 4 * hour, "open", "critical", "malware"),
               finding("from-yesterday", midnight - hour, "open", "low"),
               finding("from-yesterday", midnight + hour, "open", "high"),
               finding("too-old", window_start - timedelta(days=1), "open"),
               finding("too-old", midnight - 5 * hour, "open"),
               finding("window-start", window_start, "open", "info", "other"),
               finding("tie", midnight + 5 * hour, "handled", event_id="tie-2"),
               finding("after-now", now + timedelta(minutes=2), "open", "critical")]),
        (now + timedelta(seconds=1), [finding("late-open", midnight + hour, "open"),  # older, arrives last
                                      # the same ts, arriving later (and with the smaller id)
                                      finding("tie", midnight + 5 * hour, "open", event_id="tie-1")]),
    ]
    sent = []
    for arrival, events in batches:
        r = pipeline.submit(NETWORK_SECURITY, events, source="t", now=arrival)
        assert r.rejected == 0
        pipeline.writer.flush_once(force=True)
        sent += [{**e, "received_at": ms(arrival)} for e in events]
    truth = pl.DataFrame(sent).with_columns(
        pl.from_epoch(c, time_unit="ms").dt.replace_time_zone("UTC") for c in ("ts", "received_at"))

    got = network.live(pipeline.store, ZONE, now)["security"]
    want, days = expected_security(truth, ZONE, now)
    assert_same(got, want, "security")
    assert_same(network.slow(pipeline.store, ZONE, now)["security_30d"], days, "security_30d")
    # new today: late-open (handled), reopened, raised, tie; by the latest severity
    assert got["today"] == {"info": 0, "low": 0, "medium": 2, "high": 1, "critical": 1}
    assert got["open"] == 5  # reopened, raised, from-yesterday, window-start, tie
    assert got["open_by_severity"] == {"info": 1, "low": 0, "medium": 1, "high": 2, "critical": 1}
    assert got["by_status"] == {"open": 5, "handled": 1, "false_positive": 0}
    assert got["by_category_today"] == [{"category": "weak_password", "count": 2},
                                        {"category": "intrusion", "count": 1},
                                        {"category": "malware", "count": 1}]
    assert days[0] == {"date": (local.date() - timedelta(days=29)).isoformat(), "new": 1, "open": 1,
                       "handled": 0, "false_positive": 0}


def test_links_60m_and_ipv6_trend(migrated: Store) -> None:
    now = week_end(ZONE)
    current = now.replace(second=0)
    insert(migrated, NETWORK_LINK, [
        {"ts": ms(current - timedelta(minutes=3, seconds=-5)), "link_id": "a", "in_bps": 100, "out_bps": 10,
         "capacity_bps": 1000},
        {"ts": ms(current - timedelta(minutes=3, seconds=-15)), "link_id": "a", "in_bps": 201, "out_bps": 10,
         "capacity_bps": 1000},
        {"ts": ms(current - timedelta(minutes=1)), "link_id": "a", "in_bps": 5, "out_bps": 500,
         "capacity_bps": 1000},
    ])
    rows = network.slow(migrated, ZONE, now)["links_60m"]
    assert len(rows) == 61 and {r["link_id"] for r in rows} == {"a"}
    assert rows[57] == {"link_id": "a", "minute": iso(current - timedelta(minutes=3), ZONE),
                        "in_bps": 150.5, "out_bps": 10.0, "capacity_bps": 1000, "utilization": 0.1505}
    assert rows[58]["in_bps"] is None and rows[58]["utilization"] is None  # no sample that minute
    assert rows[59]["utilization"] == 0.5

    hour = now.replace(minute=0, second=0)
    insert(migrated, NETWORK_ONLINE, [
        {"ts": ms(hour - timedelta(minutes=50)), "campus": "main", "access": "wired", "users": 100,
         "ipv6_users": 10},
        {"ts": ms(hour - timedelta(minutes=20)), "campus": "main", "access": "wired", "users": 300,
         "ipv6_users": 90},
        {"ts": ms(hour - timedelta(minutes=20)), "campus": "east", "access": "vpn", "users": 50,
         "ipv6_users": 50},
    ])
    trend = network.slow(migrated, ZONE, now)["ipv6_7d"]
    assert len(trend) == 168 and trend[-1]["hour"] == iso(hour, ZONE)
    assert trend[-2] == {"hour": iso(hour - timedelta(hours=1), ZONE), "users": 250.0,
                         "ipv6_share": 150 / 450}
    assert trend[-1]["users"] == 0.0 and trend[-1]["ipv6_share"] is None


def test_no_data_at_all(migrated: Store) -> None:
    now = week_end(ZONE)
    live = network.live(migrated, ZONE, now)
    zeros = dict.fromkeys(SEVERITIES, 0)
    assert live == {
        "links": [], "peak_utilization": None,
        "online": {"users": 0, "ipv6_share": None, "by_campus": [],
                   "by_access": [{"access": a, "users": 0, "ipv6_share": None} for a in ACCESS]},
        "security": {"today": zeros, "open": 0, "open_by_severity": zeros,
                     "by_status": dict.fromkeys(STATUSES, 0), "by_category_today": []},
    }
    slow = network.slow(migrated, ZONE, now)
    assert slow["links_60m"] == []
    assert len(slow["ipv6_7d"]) == 168 and all(r["users"] == 0.0 and r["ipv6_share"] is None
                                               for r in slow["ipv6_7d"])
    assert [r["new"] for r in slow["security_30d"]] == [0] * 30
    assert slow["security_30d"][-1]["date"] == now.astimezone(ZONE).date().isoformat()


def test_catalogue_links_without_samples_are_stale(migrated: Store) -> None:
    store_reference(migrated, load_site(DEFAULT_SITE))
    now = week_end(ZONE)
    insert(migrated, NETWORK_LINK, [{"ts": ms(now - timedelta(minutes=5, seconds=1)), "link_id": "cernet",
                                     "in_bps": 10**9, "out_bps": 0}])
    live = network.live(migrated, ZONE, now)
    assert [(r["link_id"], r["stale"]) for r in live["links"]] == [
        ("cernet", True), ("mobile", True), ("telecom", True), ("unicom", True)]
    assert live["peak_utilization"] is None
    rows = network.slow(migrated, ZONE, now)["links_60m"]
    assert len(rows) == 4 * 61 and rows[0]["capacity_bps"] == 10 * 10**9
    assert [r["in_bps"] for r in rows if r["in_bps"] is not None] == [10.0**9]
