"""Demo mode: the simulators feed the real ingest path; a restart repeats nothing."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest.sim import World
from ingest.site import load_site
from ioc_app import read
from ioc_app.app import create_app
from ioc_app.demo_feed import DemoFeed
from ioc_app.secret import site_key
from ioc_app.settings import DEFAULT_SITE, Settings
from ioc_app.storage import Store
from metrics.gate import local_midnight

ZONE = ZoneInfo("Asia/Shanghai")
TABLES = ("gate_pass", "network_link", "network_online", "network_security", "service_workflow",
          "service_print", "service_call", "enrollment_admission", "enrollment_notice", "enrollment_checkin")
#: reference tables: the latest row of each key counts
REFERENCE = ("enrollment_plan", "enrollment_control_line")


def counts(store: Store) -> dict[str, int]:
    out = {t: store.rows(f"SELECT count() FROM {t}")[0][0] for t in TABLES}
    out |= {t: store.rows(f"SELECT count() FROM {t} FINAL")[0][0] for t in REFERENCE}
    return out


def test_feed_goes_through_the_ingest_path_and_resumes_without_repeating(pipeline) -> None:
    store: Store = pipeline.store
    world = World(load_site(DEFAULT_SITE), ZONE)
    # yesterday 09:30 local: a busy morning, whatever time of day the test runs
    now = local_midnight(ZONE, datetime.now(UTC) - timedelta(days=1)) + timedelta(hours=9, minutes=30)
    feed = DemoFeed(pipeline, world)
    first = feed.tick(now)
    assert first > 0 and feed.sent["gate.pass"] > 0 and feed.sent["network.link"] > 0
    pipeline.writer.flush_once(force=True)
    stored = counts(store)
    assert sum(stored.values()) == first
    assert stored == {t: feed.sent[t.replace("_", ".", 1)] for t in stored}

    again = DemoFeed(pipeline, world)  # a restart: today is sent again, all duplicates
    plan_rows = feed.sent["enrollment.plan"]  # (plan rows are upserts: sending them again is a no-op)
    assert again.tick(now) == plan_rows
    later = again.tick(now + timedelta(seconds=40))
    pipeline.writer.flush_once(force=True)
    total, distinct = store.rows("SELECT count(), uniqExact(event_id) FROM gate_pass")[0]
    assert total == distinct
    assert sum(counts(store).values()) == first + later



def test_the_running_app_keeps_feeding(migrated: Store, tmp_path: Path) -> None:
    """The product started with demo data keeps sending: the feed's job runs after the start."""
    settings = Settings(clickhouse_url=f"chdb://{tmp_path / 'store'}", demo=True,
                        demo_history_days=0, demo_history_seasons=0,
                        tokens_file=str(tmp_path / "tokens.toml"))
    app = create_app(settings, store=migrated, background=True)
    runtime = app.server.extensions[read.EXTENSION]
    try:
        job = runtime.scheduler.get_job("demo-feed")
        assert job is not None and job.next_run_time is not None, "the demo feed is scheduled, not paused"
        feed = job.func.__self__
        # its candidates are pseudonyms of made-up 考生号 under this site's key (the lookup finds them)
        assert feed.sim.world.pseudonym_key == site_key(settings)
        reached = feed._next  # None until the first tick (5 s after the start) sends today
        deadline = time.monotonic() + 60
        while feed._next == reached and time.monotonic() < deadline:
            time.sleep(0.2)
        assert feed._next is not None and (reached is None or feed._next > reached), \
            "the feed's job ran after the start"
    finally:
        runtime.scheduler.shutdown(wait=True)
        runtime.writer.stop()
        runtime.pipeline.buffer.close()
