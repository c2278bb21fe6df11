"""Network KPIs against the definitions in metrics.md, computed independently in Polars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from ingest.network import NETWORK_LINK, NETWORK_ONLINE
from ingest.site import load_site, store_reference
from ingest.validate import validate
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store
from metrics.network import links_now, online_now, peak_utilization

NOW = datetime.now(UTC).replace(microsecond=0)


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
    assert got["unicom"]["utilization"] == 0.2 and got["unicom"]["stale"]  # older than 5 min
    assert got["telecom"]["in_bps"] is None and got["telecom"]["stale"]  # no sample at all
    assert got["lab-x"]["utilization"] == 0.5
    assert peak_utilization(links_now(migrated, NOW)) == 0.5


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


def test_nobody_online_has_no_share(migrated: Store) -> None:
    assert online_now(migrated, NOW) == {"users": 0, "ipv6_share": None}
