"""A simulated week stored through the real ingest path, with the simulator's truth beside it.

Metrics are checked against an independent computation of the same definition in plain
Polars over the truth export (every event the simulator sent), so a wrong SQL filter, a
double count or a time-zone slip shows up as a difference. The week is built once per
session in its own database and only read by the tests.

The week ends *yesterday* at 10:30 local time: recent enough for the 63-day minute rollups'
TTL, and a fixed time of day, so the tests do not depend on when they run.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from ingest.pipeline import Pipeline
from ingest.registry import get_stream
from ingest.sim import World
from ingest.sim.backfill import backfill
from ingest.site import Site, load_site, store_reference
from ingest.wal import WriteAheadLog
from ingest.writer import Writer
from ioc_app.migrate import migrate
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store

ZONE = ZoneInfo("Asia/Shanghai")
SCALE = 0.3
DAYS = 7


@dataclass(frozen=True)
class Week:
    """A stored simulated week: query ``store`` as of ``now``; ``truth[stream]`` holds every
    event sent (``ts`` as epoch ms), including retries the ingest path dropped."""

    store: Store
    site: Site
    zone: ZoneInfo
    now: datetime
    truth: dict[str, pl.DataFrame]

    def events(self, stream: str) -> pl.DataFrame:
        """The truth of a stream, one row per event id (the first sent wins, as in ingest),
        with ``ts`` as an aware UTC datetime and ``local`` in the site's zone."""
        frame = self.truth.get(stream)
        if frame is None:
            return pl.DataFrame()
        keys = get_stream(stream).derive_id_from
        if keys:  # samples without an id get the one ingest derives: keys + ts
            derived = pl.concat_str([*(pl.col(k) for k in keys), pl.col("ts").cast(pl.String)],
                                    separator=":")
            frame = frame.with_columns(pl.coalesce("event_id", derived).alias("event_id"))
        return frame.unique("event_id", keep="first", maintain_order=True).with_columns(
            pl.from_epoch("ts", time_unit="ms").dt.replace_time_zone("UTC").alias("ts"),
        ).with_columns(pl.col("ts").dt.convert_time_zone(self.zone.key).alias("local"))


#: The end of the 2025 season (local midnight, October 1); the season store holds both seasons.
SEASON_NOW = datetime(2025, 10, 1, tzinfo=ZONE).astimezone(UTC)
SEASON_FROM = datetime(2024, 6, 30, tzinfo=ZONE).astimezone(UTC)


def week_end(zone: ZoneInfo, today: datetime | None = None) -> datetime:
    """Yesterday at 10:30:20 local time, as aware UTC."""
    local = (today or datetime.now(UTC)).astimezone(zone) - timedelta(days=1)
    return datetime(local.year, local.month, local.day, 10, 30, 20, tzinfo=zone).astimezone(UTC)


def store_week(store: Store, site: Site, wal_dir: Path, truth_dir: Path, now: datetime,
               domains: tuple[str, ...], *, days: int = DAYS,
               scale: float = SCALE) -> dict[str, pl.DataFrame]:
    """Send ``days`` of simulated events ending at ``now`` through the embedded ingest path
    and write them to the store; returns the truth per stream."""
    wal = WriteAheadLog(wal_dir)
    pipeline = Pipeline(store, wal)
    writer = Writer(store, wal)
    end_ms = int(now.timestamp() * 1000)
    start_ms = end_ms - days * 86_400_000
    world = World(site, ZONE, seed=11, scale=scale)

    def submit(stream, events):
        receipt = pipeline.submit(stream, events, source="sim", now=now)
        writer.flush_once()
        return receipt

    try:
        backfill(submit, world, start_ms, end_ms, truth=truth_dir, progress=False, only=domains)
        writer.flush_once(force=True)
    finally:
        wal.close()
    return {p.stem: pl.read_parquet(p) for p in sorted(truth_dir.glob("*.parquet"))}


@pytest.fixture(scope="session")
def week(engine_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Week]:
    """Gates, network and service hall: a simulated week on the real engine."""
    site = load_site(DEFAULT_SITE)
    name = "t_week_" + uuid.uuid4().hex[:8]
    store = Store(f"chdb://{engine_path}", database=name)
    migrate(store)
    store_reference(store, site)
    tmp = tmp_path_factory.mktemp("week")
    now = week_end(ZONE)
    truth = store_week(store, site, tmp / "wal", tmp / "truth", now, ("gate", "network", "service"))
    yield Week(store, site, ZONE, now, truth)
    store.command(f"DROP DATABASE IF EXISTS {name} SYNC")
    store.close()


@pytest.fixture(scope="session")
def season(engine_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Week]:
    """Two admission seasons with check-in, simulated and stored through the ingest path."""
    site = load_site(DEFAULT_SITE)
    name = "t_season_" + uuid.uuid4().hex[:8]
    store = Store(f"chdb://{engine_path}", database=name)
    migrate(store)
    store_reference(store, site)
    tmp = tmp_path_factory.mktemp("season")
    days = (SEASON_NOW - SEASON_FROM).days
    truth = store_week(store, site, tmp / "wal", tmp / "truth", SEASON_NOW, ("enrollment",), days=days)
    yield Week(store, site, ZONE, SEASON_NOW, truth)
    store.command(f"DROP DATABASE IF EXISTS {name} SYNC")
    store.close()
