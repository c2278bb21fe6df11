"""Freshness per stream, kept by materialized views instead of scans of the raw tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ingest.gate import GATE_PASS
from ingest.network import NETWORK_LINK
from ingest.registry import STREAMS
from ingest.validate import validate
from ioc_app.migrate import migrate
from ioc_app.migrations import MIGRATIONS
from ioc_app.storage import Store
from metrics.freshness import STALE_AFTER_S, freshness
from tests.ingest.strategies import random_events


def test_every_event_stream_has_a_staleness_rule() -> None:
    assert set(STALE_AFTER_S) == {s.name for s in STREAMS if s.kind == "event"}


def _insert(store: Store, stream, events, received: datetime) -> None:
    result = validate(stream, events, source="t", now=received)
    assert result.errors == []
    store.insert(stream.table, result.frame)


def test_newest_event_its_arrival_and_staleness(migrated: Store) -> None:
    now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    events = random_events(GATE_PASS, 200, 3, now - timedelta(minutes=30))
    newest = max(e["ts"] for e in events)
    _insert(migrated, GATE_PASS, events, received=now - timedelta(minutes=20))
    # a late backlog arrives afterwards: older ts, so neither newest ts nor its arrival change
    late = [{**e, "event_id": "late-" + e["event_id"], "ts": e["ts"] - 3_600_000} for e in events[:50]]
    _insert(migrated, GATE_PASS, late, received=now - timedelta(minutes=1))
    got = freshness(migrated, now)
    gate = got["gate.pass"]
    assert gate["last_event_ts"] == datetime.fromtimestamp(newest / 1000, UTC).isoformat(
        timespec="milliseconds")
    assert gate["lag_s"] == 20 * 60
    age = (now - datetime.fromtimestamp(newest / 1000, UTC)).total_seconds()
    assert gate["stale"] is (age > STALE_AFTER_S["gate.pass"])
    assert got["network.link"] == {"last_event_ts": None, "lag_s": None, "stale": True,
                                   "stale_after_s": STALE_AFTER_S["network.link"]}
    assert got["enrollment.admission"]["stale"] is False  # seasonal: silence is normal
    # ten minutes later with no new sample the gates are stale
    assert freshness(migrated, now + timedelta(minutes=40))["gate.pass"]["stale"] is True


def test_link_sample_just_inside_and_outside_its_window(migrated: Store) -> None:
    now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    ts = int((now - timedelta(seconds=STALE_AFTER_S["network.link"])).timestamp() * 1000)
    _insert(migrated, NETWORK_LINK, [{"link_id": "cernet", "ts": ts, "in_bps": 1, "out_bps": 2}],
            received=now)
    assert freshness(migrated, now)["network.link"]["stale"] is False
    assert freshness(migrated, now + timedelta(milliseconds=1))["network.link"]["stale"] is True


def test_events_stored_before_the_migration_are_counted(store: Store) -> None:
    older = tuple(m for m in MIGRATIONS if m.VERSION < 9)
    migrate(store, older)
    now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    events = random_events(GATE_PASS, 50, 4, now)
    _insert(store, GATE_PASS, events, received=now)
    migrate(store)
    got = freshness(store, now)["gate.pass"]
    newest = datetime.fromtimestamp(max(e["ts"] for e in events) / 1000, UTC)
    assert got["last_event_ts"] == newest.isoformat(timespec="milliseconds")
    assert got["lag_s"] == 0
