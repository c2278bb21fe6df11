"""The simulated week itself: what the metric checks stand on."""

from __future__ import annotations

import polars as pl

from tests.metrics.conftest import Week


def test_week_is_stored_exactly_once(week: Week) -> None:
    for stream in ("gate.pass", "network.link", "network.online", "service.workflow"):
        truth = week.events(stream)
        assert truth.height > 0, stream
        table = stream.replace(".", "_")
        stored = week.store.rows(f"SELECT count(), uniqExact(event_id) FROM {table}")[0]
        assert stored == (truth.height, truth.height), stream
        newest = week.store.rows(f"SELECT max(ts) FROM {table}")[0][0]
        assert newest.replace(tzinfo=None) <= week.now.replace(tzinfo=None)
    assert week.events("gate.pass").select(pl.col("local").dt.date().n_unique()).item() >= 7
