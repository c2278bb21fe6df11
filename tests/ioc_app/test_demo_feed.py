"""Demo traffic: deterministic, valid, and resumed after a restart without repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ingest import demo
from ingest.gate import GATE_PASS
from ingest.site import load_site
from ingest.validate import validate
from ioc_app.demo_feed import DemoFeed
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store

ZONE = ZoneInfo("Asia/Shanghai")


def test_slices_are_deterministic_and_valid() -> None:
    gates = load_site(DEFAULT_SITE).gates
    n = int(datetime(2026, 9, 1, 0, 0, tzinfo=UTC).timestamp()) // demo.SLICE_S  # 08:00 local
    a = demo.gate_events(n, n + 30, gates, ZONE)
    assert a == demo.gate_events(n, n + 30, gates, ZONE)
    assert len(a) > 100
    assert validate(GATE_PASS, a, now=datetime(2026, 9, 1, 0, 10, tzinfo=UTC)).errors == []
    assert len({e["event_id"] for e in a}) == len(a)


def test_feed_goes_through_the_ingest_path_and_resumes_without_repeating(pipeline) -> None:
    store: Store = pipeline.store
    now = datetime.now(UTC)
    feed = DemoFeed(pipeline, load_site(DEFAULT_SITE), ZONE)
    first = feed.tick(now)
    pipeline.writer.flush_once(force=True)
    again = DemoFeed(pipeline, load_site(DEFAULT_SITE), ZONE)  # a restart
    assert again.tick(now) == 0
    later = now + timedelta(seconds=35)
    more = again.tick(later)
    pipeline.writer.flush_once(force=True)
    total, distinct = store.rows("SELECT count(), uniqExact(event_id) FROM gate_pass")[0]
    assert total == distinct == first + more
