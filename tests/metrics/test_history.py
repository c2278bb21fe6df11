"""The snapshot history: a stored minute comes back byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from ioc_app.storage import Store
from metrics import history


def test_nearest_at_or_before(migrated: Store) -> None:
    t0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert history.last_version(migrated) == 0
    bodies = {}
    for i in range(3):
        body = orjson.dumps({"version": i + 1, "gate": {"today": {"in": i * 10, "name": "东门"}}})
        history.record(migrated, t0 + timedelta(minutes=i), i + 1, "minute", 0, body)
        bodies[i] = body
    assert history.at(migrated, t0 - timedelta(milliseconds=1)) is None
    assert history.at(migrated, t0) == bodies[0]
    assert history.at(migrated, t0 + timedelta(seconds=119)) == bodies[1]
    assert history.at(migrated, t0 + timedelta(days=3)) == bodies[2]
    assert history.last_version(migrated) == 3


def test_retention_follows_the_setting(migrated: Store) -> None:
    def ttl() -> str:
        return migrated.rows("SELECT engine_full FROM system.tables WHERE database = currentDatabase() "
                             "AND name = 'ioc_snapshots'")[0][0]

    assert "toIntervalDay(400)" in ttl()
    assert history.keep_for(migrated, 400) is False  # the default: nothing to change
    assert history.keep_for(migrated, 30) is True
    assert "toIntervalDay(30)" in ttl() and "toIntervalDay(400)" not in ttl()
    assert history.keep_for(migrated, 30) is False
