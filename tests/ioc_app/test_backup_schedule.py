"""Scheduled backups (ioc_app/backup_schedule.py): when a full or an incremental one is due,
what retention deletes (never a base a kept backup needs), the newest good backup in the
snapshot, the backup_stale alert it raises, and how /health shows it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ioc_app.backup_schedule import BackupSchedule, Policy, plan, to_prune
from ioc_app.leader import SoleLeader
from ioc_app.settings import DEFAULT_ALERTS, Settings
from ioc_app.storage import Store
from metrics.alerts import AlertBook, load_rules

NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Listed:
    """What a listing tells of a backup (the fields of ``ioc_app.backup.Manifest`` used here)."""

    id: str
    kind: str
    created_at: datetime
    base_id: str | None = None
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def cutoff(self) -> datetime:
        return self.created_at


def chain(hours: list[tuple[float, str]]) -> list[Listed]:
    """Backups taken ``h`` hours before NOW, each incremental on the one before it."""
    out: list[Listed] = []
    for h, kind in hours:
        base = out[-1].id if kind == "incremental" and out else None
        out.append(Listed(f"b{len(out)}", kind, NOW - timedelta(hours=h), base))
    return out


def test_a_full_backup_first_then_incrementals_until_the_full_one_is_old() -> None:
    policy = Policy(every_min=60, full_every_h=24, keep_days=14)
    assert plan([], NOW, policy) == ("full", None)
    listed = chain([(5, "full"), (3, "incremental")])
    assert plan(listed, NOW, policy) == ("incremental", listed[-1])  # on the newest
    assert plan(chain([(5, "full"), (0.5, "incremental")]), NOW, policy) is None  # not due yet
    assert plan(chain([(25, "full"), (3, "incremental")]), NOW, policy) == ("full", None)


def test_retention_keeps_every_base_a_kept_incremental_needs() -> None:
    policy = Policy(every_min=60, full_every_h=24 * 30, keep_days=14)
    days = 24.0
    listed = chain([(20 * days, "full"), (19 * days, "incremental"), (18 * days, "full"),
                    (17 * days, "incremental"), (13 * days, "incremental"), (1 * days, "incremental")])
    gone = [m.id for m in to_prune(listed, NOW, policy)]
    # b0, b1: a chain no kept backup builds on; b2, b3 are older than 14 days but b4 and b5
    # (kept) are incremental on them
    assert gone == ["b0", "b1"]


def test_the_newest_backup_is_kept_however_old() -> None:
    listed = chain([(900, "full"), (800, "incremental")])
    assert to_prune(listed, NOW, Policy(keep_days=14)) == []


def settings_in(tmp: Path, **kw: object) -> Settings:
    given: dict[str, object] = {"clickhouse_url": f"chdb://{tmp / 'store'}", "demo": False,
                                "tokens_file": str(tmp / "tokens.toml"),
                                "roles_file": str(tmp / "roles.toml"), **kw}
    return Settings(**given)  # type: ignore[arg-type]


def known(schedule: BackupSchedule, newest: Listed | None) -> BackupSchedule:
    """The schedule as after a listing that found ``newest``."""
    schedule._newest = newest
    return schedule


def test_the_section_says_how_old_the_newest_good_backup_is_and_when_it_is_overdue(tmp_path: Path) -> None:
    schedule = BackupSchedule(settings_in(tmp_path), SoleLeader())  # every 60 min: stale after 2 h
    young = Listed("b1", "incremental", NOW - timedelta(minutes=50), "b0", {"a": 1500, "b": 500})
    section = known(schedule, young).section(NOW)
    assert section == {"enabled": True, "stale": False, "stale_after_s": 7200, "lag_s": 3000.0,
                       "error": None, "last_good": {"id": "b1", "kind": "incremental",
                                                    "at": young.created_at.isoformat(),
                                                    "cutoff": young.created_at.isoformat(),
                                                    "size_bytes": 2000}}
    old = Listed("b1", "full", NOW - timedelta(hours=2, seconds=1))
    assert known(schedule, old).section(NOW)["stale"] is True
    schedule.started = NOW.timestamp() - 7201  # none at all, two cadences after the start
    assert known(schedule, None).section(NOW)["stale"] is True
    off = BackupSchedule(settings_in(tmp_path, backup_every_min=0), SoleLeader())
    assert known(off, None).section(NOW) | {"enabled": False} == known(off, None).section(NOW)
    assert known(off, old).section(NOW)["stale"] is False  # scheduling off: no alert


def test_an_overdue_backup_raises_the_backup_stale_alert_through_the_rules_file() -> None:
    book = AlertBook(load_rules(DEFAULT_ALERTS), ZONE)
    fresh = {"freshness": {}, "backup": {"enabled": True, "stale": False, "lag_s": 60.0}}
    overdue = {"freshness": {}, "backup": {"enabled": True, "stale": True, "lag_s": 7300.0}}
    assert book.evaluate(fresh, NOW) == []
    alerts = book.evaluate(overdue, NOW + timedelta(seconds=1))
    assert [(a["id"], a["severity"], a["domain"], a["value"]) for a in alerts] == [
        ("backup_stale", "critical", "pipeline", 7300.0)]
    assert "7300" in alerts[0]["title_zh"] and "备份" in alerts[0]["title_zh"]
    assert book.evaluate(fresh, NOW + timedelta(seconds=2)) == []  # a new backup clears it


def test_health_shows_the_newest_backup_its_kind_size_and_age(tmp_path: Path) -> None:
    from tests.pages.registry import pages_app

    (tmp_path / "no_pages").mkdir()  # the page imported under a throwaway app (dash's registry)
    with pages_app(tmp_path / "no_pages"):
        from pages.health import backup_row

    last = {"id": "b1", "kind": "full", "at": "2026-03-10T03:00:00+00:00",
            "cutoff": "2026-03-10T03:00:00+00:00", "size_bytes": 2_500_000_000}
    snap = {"backup": {"enabled": True, "last_good": last, "lag_s": 3600.0, "stale": False,
                       "stale_after_s": 7200, "error": None}}
    text = str(backup_row(snap, "zh", ZONE, NOW.astimezone(ZONE)))
    assert "最近备份" in text and "11:00:00" in text and "全量" in text and "2.5 GB" in text
    assert "60分钟前" in text and "备份逾期" not in text
    en = str(backup_row({"backup": {**snap["backup"], "stale": True, "error": "disk full"}}, "en",
                        ZONE, NOW.astimezone(ZONE)))
    assert "Last backup" in en and "full" in en and "Overdue" in en and "disk full" in en
    assert backup_row({}, "zh", ZONE, NOW) == []  # no scheduled backups in this process


# ---- the job, with the real engine ------------------------------------------------------------


class Follower:
    """A scheduler process that does not hold the leadership (another one does)."""

    held = False

    def hold(self) -> bool:
        return False


def test_the_job_takes_full_then_incremental_backups_prunes_and_never_runs_twice(
        migrated: Store, engine_path: Path, tmp_path: Path) -> None:
    from ioc_app.backup import list_backups, verify_backup
    from ioc_app.backup_schedule import exclusive

    settings = settings_in(tmp_path, clickhouse_url=f"chdb://{engine_path}")
    root = tmp_path / "backups"
    policy = Policy(every_min=60, full_every_h=24, keep_days=14)
    job = BackupSchedule(settings, SoleLeader(), store=migrated, root=root, policy=policy)
    assert BackupSchedule(settings, Follower(), store=migrated, root=root, policy=policy).run(NOW) is None
    assert not root.exists()  # only the leader backs up

    first = job.run(NOW)
    assert first is not None and first.kind == "full"
    assert job.run(NOW + timedelta(minutes=30)) is None  # not due yet
    second = job.run(NOW + timedelta(minutes=61))
    assert second is not None and (second.kind, second.base_id) == ("incremental", first.id)
    assert verify_backup(settings, second.path).id == second.id  # a chain that restores
    shown = job.section(NOW + timedelta(minutes=62))
    assert shown["last_good"]["id"] == second.id and shown["stale"] is False
    restarted = BackupSchedule(settings, SoleLeader(), store=migrated, root=root, policy=policy)
    assert restarted.section(NOW)["last_good"]["id"] is None  # the snapshot never reads the disk
    restarted.refresh()  # the job's thread does, at the start and every minute
    assert restarted.section(NOW)["last_good"]["id"] == second.id

    with exclusive(root):  # another backup into the same folder is running
        assert job.run(NOW + timedelta(hours=3)) is None
    assert [m.id for m in list_backups(root)] == [first.id, second.id]

    later = NOW + timedelta(days=15)
    third = job.run(later)
    assert third is not None and third.kind == "full"  # the full one is older than a day
    assert [m.id for m in list_backups(root)] == [third.id]  # the old chain is past retention
    from ioc_app.audit import spool_dir

    trail = b"".join(p.read_bytes() for p in spool_dir(settings).rglob("*") if p.is_file())
    assert b"backup.prune" in trail and first.id.encode() in trail  # the deletion is audited


def test_the_core_puts_the_newest_backup_in_the_snapshot_and_raises_the_alert(migrated: Store,
                                                                              tmp_path: Path) -> None:
    from ioc_app.core import SnapshotCore

    core = SnapshotCore(migrated, ZONE, rules=load_rules(DEFAULT_ALERTS), keep_history=False)
    try:
        assert core.compute(NOW)["backup"]["enabled"] is False  # no scheduled backups here
        old = Listed("b1", "full", NOW - timedelta(hours=3), sizes={"store/x": 10})
        core.backups = known(BackupSchedule(settings_in(tmp_path), SoleLeader()), old)
        snap = core.compute(NOW)
        assert snap["backup"]["last_good"]["id"] == "b1" and snap["backup"]["stale"] is True
        assert [a["id"] for a in snap["alerts"] if a["domain"] == "pipeline"] == ["backup_stale"]
    finally:
        core.close()


def test_the_writer_inserts_nothing_while_a_backup_holds_it_paused(pipeline: Any, migrated: Store) -> None:
    """The store's tables stand still during a scheduled backup: what is accepted meanwhile
    waits in the buffer and goes in afterwards."""
    from ingest.gate import GATE_PASS
    from tests.ingest.strategies import random_events

    pipeline.submit(GATE_PASS, random_events(GATE_PASS, 20, 1, NOW), source="test", now=NOW)
    writer = pipeline.writer
    flush = threading.Thread(target=writer.flush_once, kwargs={"force": True})
    with writer.paused():
        flush.start()
        flush.join(0.5)  # a flush that ignored the pause would be done by now
        assert migrated.rows("SELECT count() FROM gate_pass")[0][0] == 0
    flush.join(60)
    assert migrated.rows("SELECT count() FROM gate_pass")[0][0] == 20


def test_a_stalled_buffer_shipment_raises_buffer_ship_stale(tmp_path: Path) -> None:
    from ingest.wal import WriteAheadLog
    from ioc_app.buffer_ship import Sealer, Shipper, ship_dir

    settings = settings_in(tmp_path)
    schedule = BackupSchedule(settings, SoleLeader())
    assert schedule.shipping_section(NOW) == {"enabled": False, "lag_s": None, "stale": False,
                                              "stale_after_s": None}
    wal = WriteAheadLog(settings.wal_dir)
    schedule.shipper = Shipper(wal, ship_dir(settings), Sealer.of(settings))
    schedule.shipper.ship_once()
    shipped = datetime.fromtimestamp(schedule.shipper.stats.last_at, UTC)
    assert schedule.shipping_section(shipped + timedelta(seconds=30)) == {
        "enabled": True, "lag_s": 30.0, "stale": False, "stale_after_s": 60}
    late = schedule.shipping_section(shipped + timedelta(seconds=61))
    assert late["stale"] is True
    wal.close()

    book = AlertBook(load_rules(DEFAULT_ALERTS), ZONE)
    alerts = book.evaluate({"freshness": {}, "shipping": late}, NOW)
    assert [(a["id"], a["severity"]) for a in alerts] == [("buffer_ship_stale", "critical")]
    assert "61" in alerts[0]["title_zh"] and "同步" in alerts[0]["title_zh"]
    assert book.evaluate({"freshness": {}, "shipping": {**late, "stale": False}}, NOW) == []


def test_health_says_when_the_buffer_was_last_shipped(tmp_path: Path) -> None:
    from tests.pages.registry import pages_app

    (tmp_path / "no_pages").mkdir()
    with pages_app(tmp_path / "no_pages"):
        from pages.health import backup_row
    snap = {"backup": {"enabled": True, "last_good": {"id": None}, "lag_s": None, "stale": False,
                       "stale_after_s": 7200, "error": None},
            "shipping": {"enabled": True, "lag_s": 75.0, "stale": True, "stale_after_s": 60}}
    text = str(backup_row(snap, "zh", ZONE, NOW))
    assert "尚无成功的备份" in text and "缓冲区异地同步于75秒前" in text and "同步中断" in text
    en = str(backup_row({**snap, "shipping": {**snap["shipping"], "lag_s": 3.0, "stale": False}}, "en",
                        ZONE, NOW))
    assert "buffer shipped 3 s ago" in en and "Shipping stalled" not in en
