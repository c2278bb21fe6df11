"""The commit-driven core on the real engine: a commit recomputes only the domains it feeds, a
burst is coalesced, nothing committed recomputes nothing, and what time alone changes — a
minute boundary, a stream going stale and its alert, midnight — is recomputed without any
event (driven with explicit times); across processes, commits arrive through a real Redis."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis

from ingest.commits import COUNTS_KEY, CommitListener
from ingest.gate import GATE_PASS
from ingest.validate import validate
from ioc_app.core import SnapshotCore
from ioc_app.settings import DEFAULT_ALERTS
from ioc_app.storage import Store
from metrics.alerts import load_rules
from tests.conftest import ROOT
from tests.ingest.strategies import random_events

ZONE = ZoneInfo("Asia/Shanghai")
DOMAINS = ("gate", "network", "service", "enrollment")


def core_for(store: Store, **kw: Any) -> SnapshotCore:
    return SnapshotCore(store, ZONE, rules=load_rules(DEFAULT_ALERTS), **kw)


def add_gate_events(store: Store, ts: datetime, n: int, seed: int = 3) -> None:
    """``n`` gate attempts at ``ts``, inserted as the writer would."""
    events = random_events(GATE_PASS, n, seed, ts)
    for k, e in enumerate(events):
        e["event_id"] = f"trig-{int(ts.timestamp() * 1000)}-{k}"
        e["ts"] = int(ts.timestamp() * 1000)
    store.insert("gate_pass", validate(GATE_PASS, events, source="t", now=ts + timedelta(seconds=1)).frame)


def computed(core: SnapshotCore) -> Counter[str]:
    return Counter(core.stats.computed)


def wait_for(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_a_commit_recomputes_only_the_domains_it_feeds(migrated: Store) -> None:
    core = core_for(migrated, keep_history=False)
    trigger = core.trigger
    assert trigger is not None
    t0 = datetime.now(UTC).replace(second=5, microsecond=0)
    first = trigger.step(t0)  # the first step computes everything
    assert first is not None and all(computed(core)[d] == 1 for d in DOMAINS)
    before = computed(core)
    add_gate_events(migrated, t0, 7)
    after = trigger.step(t0 + timedelta(seconds=1), ["gate_pass"])
    assert after is not None and after.version > first.version
    assert after.data["gate"]["today"]["attempts"] == first.data["gate"]["today"]["attempts"] + 7
    moved = computed(core) - before
    assert moved == Counter({"gate": 1, "freshness": 1})  # network, service, enrollment reused
    assert after.data["network"] == first.data["network"]
    # a commit of a table that feeds no section (the audit trail) recomputes no domain
    before = computed(core)
    trigger.step(t0 + timedelta(seconds=2), ["ioc_audit"])
    assert all(computed(core)[d] == before[d] for d in DOMAINS)


def test_nothing_committed_recomputes_nothing_until_time_says(migrated: Store) -> None:
    core = core_for(migrated, keep_history=False)
    trigger = core.trigger
    assert trigger is not None
    t0 = datetime.now(UTC).replace(second=5, microsecond=0)
    trigger.step(t0)
    before, slow_before = computed(core), Counter(core.stats.slow_computed)
    for s in (1, 10, 30, 50):
        assert trigger.step(t0 + timedelta(seconds=s)) is None
    assert computed(core) == before and core.stats.slow_computed == slow_before
    # the next thing due is no earlier than the next minute boundary (or an alert's wait)
    next_minute = t0.replace(second=0) + timedelta(minutes=1)
    change = core.book.next_change()
    assert trigger.next_due() == min(next_minute.timestamp(), *( [change.timestamp()] if change else []))


def test_a_burst_of_commits_is_coalesced(migrated: Store) -> None:
    core = core_for(migrated, keep_history=False)
    core.warm()
    before = computed(core)["gate"]
    core.schedule(None)  # the commit trigger runs its own thread
    try:
        started = time.monotonic()
        for _ in range(500):
            core.committed("gate_pass")
        burst_s = time.monotonic() - started
        wait_for(lambda: computed(core)["gate"] > before)
        # once the burst is taken, nothing more is pending: the count settles
        wait_for(lambda: not core.trigger._pending)
        time.sleep(0.5)
        runs = computed(core)["gate"] - before
    finally:
        core.close()
    # recomputes start at most every 0.1 s: 500 commits make a handful, not 500
    assert 1 <= runs <= 3 + burst_s / 0.1


def test_a_minute_boundary_recomputes_without_any_event(migrated: Store) -> None:
    core = core_for(migrated)
    trigger = core.trigger
    assert trigger is not None
    t0 = datetime.now(UTC).replace(second=40, microsecond=0)
    first = trigger.step(t0)
    assert first is not None
    before = computed(core)
    boundary = t0.replace(second=0) + timedelta(minutes=1)
    assert trigger.next_due() <= boundary.timestamp()
    later = trigger.step(boundary + timedelta(milliseconds=5))
    assert later is not None and later.version > first.version
    assert all(computed(core)[d] == before[d] + 1 for d in DOMAINS)
    # the last-60-minutes window moved by one minute, and the new minute is kept in history
    assert later.data["gate"]["last_60m"][0]["minute"] == first.data["gate"]["last_60m"][1]["minute"]
    kept = migrated.rows("SELECT version, reason FROM ioc_snapshots ORDER BY generated_at")
    assert kept == [(first.version, "minute"), (later.version, "minute")]


def test_a_stream_goes_stale_and_its_alert_fires_without_any_event(migrated: Store) -> None:
    core = core_for(migrated, keep_history=False)
    trigger = core.trigger
    assert trigger is not None
    # on the half minute: the deadline (15 min later) falls inside a minute, not on its boundary
    last = (datetime.now(UTC) - timedelta(seconds=60)).replace(second=30, microsecond=0)
    add_gate_events(migrated, last, 3)
    t0 = last + timedelta(seconds=31)
    first = trigger.step(t0, ["gate_pass"])
    assert core.freshness_section["gate.pass"]["stale"] is False
    # a snapshot that keeps the freshness computed earlier says how old the data is as of
    # its own generated_at (lag_s advanced); what is shown did not change: same version
    lag = first.data["freshness"]["gate.pass"]["lag_s"]
    kept = core._compute(t0 + timedelta(seconds=20), (), False)
    assert kept["freshness"]["gate.pass"]["lag_s"] == round(lag + 20, 3)
    assert core.refresh(t0 + timedelta(seconds=20), names=(), fresh=False).version == first.version
    deadline = (last + timedelta(seconds=15 * 60)).timestamp()
    assert trigger.next_due() <= deadline + 0.01
    # just before the deadline the stream is fresh; just after, stale — no event needed
    trigger.step(datetime.fromtimestamp(deadline - 1, UTC))
    assert core.freshness_section["gate.pass"]["stale"] is False
    stale_at = datetime.fromtimestamp(trigger.next_due(), UTC)
    assert stale_at.timestamp() == deadline + 0.001
    published = trigger.step(stale_at)
    assert published is not None and published.data["freshness"]["gate.pass"]["stale"] is True
    assert "stream_stale:gate.pass" not in {a["id"] for a in published.data["alerts"]}
    # the rule waits for_s = 120 s: the trigger knows when that wait ends and raises it then
    raised_at = core.book.next_change()
    assert raised_at is not None and raised_at == stale_at + timedelta(seconds=120)
    assert trigger.next_due() <= raised_at.timestamp()
    fired = trigger.step(raised_at)
    assert fired is not None
    assert "stream_stale:gate.pass" in {a["id"] for a in fired.data["alerts"]}


def test_midnight_starts_a_new_day_without_any_event(migrated: Store) -> None:
    core = core_for(migrated, keep_history=False)
    trigger = core.trigger
    assert trigger is not None
    day = (datetime.now(UTC).astimezone(ZONE) - timedelta(days=2)).date()
    evening = datetime(day.year, day.month, day.day, 23, 59, 20, tzinfo=ZONE).astimezone(UTC)
    add_gate_events(migrated, evening, 9)
    before = trigger.step(evening + timedelta(seconds=10), ["gate_pass"])
    assert before is not None and before.data["gate"]["today"]["attempts"] == 9
    slow_before = core.stats.slow_computed["gate"]
    midnight = evening + timedelta(seconds=40)
    assert trigger.next_due() <= midnight.timestamp()
    after = trigger.step(midnight + timedelta(milliseconds=5))
    assert after is not None and after.data["gate"]["today"]["attempts"] == 0
    # the day's slow figures start anew too: the 30-day trend has a new day, the last one
    # keeps what it had
    assert core.stats.slow_computed["gate"] == slow_before + 1
    old = {d["date"]: d for d in before.data["gate"]["daily_30d"]}
    new = {d["date"]: d for d in after.data["gate"]["daily_30d"]}
    following = (day + timedelta(days=1)).isoformat()
    assert following not in old and new[following] == {"date": following, "in": 0, "out": 0, "denied": 0}
    assert new[day.isoformat()] == old[day.isoformat()]


def test_commits_reach_the_core_of_another_process_through_redis(migrated: Store,
                                                                  redis_server) -> None:
    core = core_for(migrated, keep_history=False)
    core.warm()
    client = redis.Redis.from_url(redis_server.url)
    listener = CommitListener(client, core.committed, check_s=0.3).start()
    core.schedule(None)
    try:
        wait_for(lambda: listener._counts is not None)  # subscribed and counted
        before = computed(core)["gate"]
        # the ingest process's writer announces a commit (another process, as in production)
        code = ("import redis, sys; from ingest.commits import RedisCommits; "
                "RedisCommits(redis.Redis.from_url(sys.argv[1]))('gate_pass')")
        subprocess.run([sys.executable, "-c", code, redis_server.url], cwd=ROOT, check=True, timeout=60)
        wait_for(lambda: computed(core)["gate"] > before)
        assert listener.received >= 1
        # a commit whose message was lost (counted, never announced) is found by the check
        before = computed(core)["network"]
        client.hincrby(COUNTS_KEY, "network_link", 1)
        wait_for(lambda: computed(core)["network"] > before)
        assert listener.recovered >= 1
    finally:
        listener.close()
        core.close()
        client.close()
