"""The aggregation core: versions, staleness, history, overruns and one leader, on the real
engine and a real redis-server."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
import redis
from apscheduler.schedulers.background import BackgroundScheduler

from ingest.gate import GATE_PASS
from ingest.validate import validate
from ioc_app.core import Domain, RedisFeed, RedisLeader, SnapshotCore
from ioc_app.migrate import migrate
from ioc_app.settings import DEFAULT_ALERTS
from ioc_app.storage import Store
from metrics import history
from metrics.alerts import load_rules
from tests.conftest import RedisServer
from tests.ingest.strategies import random_events

ZONE = ZoneInfo("Asia/Shanghai")
DOC = Path(__file__).resolve().parents[2] / "docs" / "snapshot.md"
STREAMS = ("gate.pass", "network.link", "network.online", "network.security", "service.workflow",
           "service.print", "service.call", "enrollment.admission", "enrollment.checkin",
           "enrollment.notice")


def documented_paths() -> list[str]:
    """Every snapshot path in the contract table of docs/snapshot.md."""
    paths = re.findall(r"^\| `([a-z_0-9.<>/ `]+)` \|", DOC.read_text(), flags=re.M)
    out = []
    for cell in paths:
        for path in (p.strip(" `") for p in cell.split("/")):
            out.append(path)
    return out


def resolve(snapshot: dict[str, Any], path: str, where: str) -> None:
    node: Any = snapshot
    for part in path.split("."):
        if part == "<stream>":
            assert set(node) == set(STREAMS), where
            node = node["gate.pass"]
            continue
        assert isinstance(node, dict) and part in node, f"{where}: {path} missing at {part!r}"
        node = node[part]


def core_for(store: Store, **kw: Any) -> SnapshotCore:
    return SnapshotCore(store, ZONE, rules=load_rules(DEFAULT_ALERTS), **kw)


def test_snapshot_has_every_documented_path(migrated: Store) -> None:
    paths = documented_paths()
    assert len(paths) >= 40
    published = core_for(migrated).warm()
    assert published is not None
    data = orjson.loads(published.body)
    for path in paths:
        resolve(data, path, "empty store")
    assert data["alerts"] == [] or all(a["id"] for a in data["alerts"])
    assert len(data["gate"]["last_60m"]) == 61


def test_versions_increase_across_restarts_and_minutes_are_kept(migrated: Store) -> None:
    t0 = datetime(2026, 11, 20, 8, 0, 5, tzinfo=UTC)
    core = core_for(migrated)
    versions = [core.tick(t0 + timedelta(seconds=s)).version for s in (0, 1, 2, 61)]
    # the same figures keep their version (screens repaint only on change); a new minute
    # changes the last-60-minutes series
    assert versions[0] == versions[1] == versions[2] < versions[3]
    kept = migrated.rows("SELECT version, reason FROM ioc_snapshots ORDER BY generated_at")
    assert kept == [(versions[0], "minute"), (versions[3], "minute")]
    add_gate_events(migrated, t0 + timedelta(seconds=61), 3)
    assert core.tick(t0 + timedelta(seconds=62)).version > versions[3]
    again = core_for(migrated).tick(t0 + timedelta(seconds=63))
    assert again.version > versions[-1] + 1
    stored = history.at(migrated, t0 + timedelta(seconds=30))
    assert orjson.loads(stored)["version"] == versions[0]


def test_store_failure_serves_the_last_snapshot_marked_stale(migrated: Store) -> None:
    core = core_for(migrated, keep_history=False)
    good = core.tick()
    migrated.command(f"DROP DATABASE {migrated.database}")  # every query now fails for real
    stale = core.tick()
    assert stale.version > good.version and stale.data["stale"] is True
    assert stale.data["gate"] == good.data["gate"] and "store_error" in stale.data
    assert core.tick().version == stale.version  # said once, not a new version every tick
    assert core.stats.failures == 2
    migrated.command(f"CREATE DATABASE {migrated.database}")
    migrate(migrated)
    back = core.tick()
    assert back.data["stale"] is False and back.version > stale.version


def add_gate_events(store: Store, now: datetime, n: int, seed: int = 5) -> None:
    events = random_events(GATE_PASS, n, seed, now)
    for e in events:
        e["event_id"] += f"-{int(now.timestamp() * 1000)}"
        e["ts"] = int(now.timestamp() * 1000) - 1000
    store.insert("gate_pass", validate(GATE_PASS, events, source="t", now=now).frame)


def test_new_events_change_the_next_snapshot(migrated: Store) -> None:
    core = core_for(migrated, keep_history=False)
    now = datetime.now(UTC)
    first = core.tick(now)
    before = first.data["gate"]["today"]["attempts"]
    assert core.tick(now).version == first.version  # nothing new: no new version
    add_gate_events(migrated, now, 30)
    after = core.tick(now)
    assert after.data["gate"]["today"]["attempts"] == before + 30
    assert after.version > first.version


def test_an_overrunning_tick_is_skipped_not_queued(migrated: Store) -> None:
    def slow(_s: Store, _z: ZoneInfo, _n: datetime) -> dict[str, Any]:
        time.sleep(0.7)
        return {}

    core = SnapshotCore(migrated, ZONE, tick_s=0.2, keep_history=False, trigger="tick",
                        domains=(Domain("slow", slow, lambda *_: {}),))
    scheduler = BackgroundScheduler()
    core.schedule(scheduler)
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while core.stats.skipped < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
    assert core.stats.skipped >= 3
    # ticks ran back to back at most: skipped runs were dropped, not run later in a burst
    elapsed = 10 - max(deadline - time.monotonic(), 0)
    assert core.stats.ticks <= elapsed / 0.7 + 2


@pytest.fixture()
def clients(redis_server: RedisServer):
    made: list[redis.Redis] = []

    def client() -> redis.Redis:
        made.append(redis.Redis.from_url(redis_server.url))
        return made[-1]

    yield client
    for c in made:
        c.close()


def test_one_leader_computes_and_another_takes_over(migrated: Store, clients) -> None:
    a = core_for(migrated, redis=clients(), keep_history=False)
    b = core_for(migrated, redis=clients(), keep_history=False)
    first = a.tick()
    assert first is not None and b.tick() is None and not b.leader.held
    a.close()  # a graceful stop releases at once
    second = b.tick()
    assert second is not None and second.version > first.version
    # a crashed leader is replaced once its key expires (a lease long enough that a loaded
    # machine cannot let it lapse between b's tick and c's first try)
    c = core_for(migrated, redis=clients(), keep_history=False)
    b.leader = RedisLeader(b.redis, ttl_s=3, me=b.leader.me)
    assert b.tick() is not None
    assert c.tick() is None
    time.sleep(3.2)
    third = c.tick()
    assert third is not None and third.version > second.version


def test_web_workers_read_what_the_core_publishes(migrated: Store, clients, redis_server) -> None:
    core = core_for(migrated, redis=clients(), keep_history=False)
    feed = RedisFeed(clients(), tick_s=0.2)
    try:
        published = core.tick()
        wait_for(lambda: feed.current() is not None and feed.current().version == published.version)
        assert feed.current().body == published.body
        redis_server.restart()  # the AOF keeps the key; the feed reconnects by itself
        assert feed.current().version == published.version
        core.redis = redis.Redis.from_url(redis_server.url)
        core.leader = RedisLeader(core.redis, ttl_s=5, me=core.leader.me)
        add_gate_events(migrated, datetime.now(UTC), 5)
        newer = core.tick()
        assert newer.version > published.version
        wait_for(lambda: feed.current().version == newer.version)
    finally:
        feed.close()


def wait_for(condition: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)
