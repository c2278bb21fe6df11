"""Shipping the write-ahead log to the backup directory (ioc_app/buffer_ship.py): what is
shipped comes back after the disk is lost, encrypted, once, and the log keeps every segment
until it is shipped."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from ingest import wal as wal_mod
from ingest.wal import WriteAheadLog
from ioc_app.buffer_ship import Sealer, ShipError, Shipper, chunks, replay_shipped, ship_dir
from ioc_app.settings import Settings

STREAM = "gate_pass"


def settings_in(tmp: Path) -> Settings:
    return Settings(clickhouse_url=f"chdb://{tmp / 'store'}", demo=False,
                    tokens_file=str(tmp / "tokens.toml"), roles_file=str(tmp / "roles.toml"))


def frame(i: int) -> pl.DataFrame:
    return pl.DataFrame({"event_id": [f"secret-event-{i}-{j}" for j in range(3)], "n": [i, i, i]})


def ids(wal: WriteAheadLog) -> list[str]:
    return [e for r in wal.log(STREAM).pending_records() for e in r.frame["event_id"].to_list()]


def test_what_was_shipped_comes_back_after_the_disk_is_lost(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    wal = WriteAheadLog(settings.wal_dir)
    shipper = Shipper(wal, ship_dir(settings), Sealer.of(settings))
    for i in range(3):
        wal.log(STREAM).append(frame(i))
    assert shipper.ship_once() > 0
    for i in range(3, 5):
        wal.log(STREAM).append(frame(i))
    assert shipper.ship_once() > 0
    assert shipper.ship_once() == 0  # nothing new: no empty chunk
    before = ids(wal)
    wal.close()
    shipped = chunks(ship_dir(settings) / STREAM)
    assert len(shipped) == 2 and shipped[0][1] == shipped[1][0]  # contiguous byte ranges
    assert all(b"secret-event" not in p.read_bytes() for _s, _e, p in shipped)  # encrypted

    shutil.rmtree(settings.wal_dir)  # the server's disk is gone
    added = replay_shipped(settings)
    assert added == {STREAM: shipped[-1][1]}
    restored = WriteAheadLog(settings.wal_dir)
    assert ids(restored) == before == [f"secret-event-{i}-{j}" for i in range(5) for j in range(3)]
    restored.close()


def test_the_replay_adds_only_what_the_restored_log_lacks(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    wal = WriteAheadLog(settings.wal_dir)
    shipper = Shipper(wal, ship_dir(settings), Sealer.of(settings))
    for i in range(2):
        wal.log(STREAM).append(frame(i))
    shipper.ship_once()
    backup = tmp_path / "as-backed-up"
    shutil.copytree(settings.wal_dir, backup, ignore=shutil.ignore_patterns("owner.lock"))
    for i in range(2, 4):
        wal.log(STREAM).append(frame(i))
        shipper.ship_once()
    before = ids(wal)
    wal.close()

    shutil.rmtree(settings.wal_dir)
    shutil.copytree(backup, settings.wal_dir)  # the backup's log, then the shipped tail
    replay_shipped(settings)
    restored = WriteAheadLog(settings.wal_dir)
    assert ids(restored) == before  # every event once
    restored.close()


def test_a_record_being_written_is_shipped_whole_next_time(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    wal = WriteAheadLog(settings.wal_dir)
    shipper = Shipper(wal, ship_dir(settings), Sealer.of(settings))
    wal.log(STREAM).append(frame(0))
    seg = sorted((settings.wal_dir / STREAM).glob("*.seg"))[-1]
    whole = seg.stat().st_size
    with open(seg, "ab") as fh:  # half a record, as a reader may see one mid-write
        fh.write(b"IW\x00\x01")
    assert shipper.ship_once() == whole
    wal.close()


def test_the_log_keeps_segments_until_they_are_shipped(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wal_mod, "SEGMENT_BYTES", 200)  # a segment per record or two

    def fill(wal: WriteAheadLog) -> Path:
        log = wal.log(STREAM)
        for i in range(6):
            log.append(frame(i))
        first = sorted(log.dir.glob("*.seg"))[0]
        log.confirm(log.pending_records())  # the store has everything
        return first

    plain = WriteAheadLog(tmp_path / "plain")
    assert not fill(plain).exists()  # unshipped: confirmed segments go at once
    plain.close()

    settings = settings_in(tmp_path)
    wal = WriteAheadLog(settings.wal_dir)
    shipper = Shipper(wal, ship_dir(settings), Sealer.of(settings))
    first = fill(wal)
    assert first.exists()  # confirmed, not shipped: kept
    shipper.ship_once()
    log = wal.log(STREAM)
    log.append(frame(9))
    log.confirm(log.pending_records())
    assert not first.exists()  # shipped and confirmed: gone
    wal.close()


def test_chunks_under_another_key_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    wal = WriteAheadLog(settings.wal_dir)
    shipper = Shipper(wal, ship_dir(settings), Sealer.of(settings))
    wal.log(STREAM).append(frame(0))
    shipper.ship_once()
    wal.close()
    shutil.rmtree(settings.wal_dir)
    settings.backup_key_path.write_text("ab" * 32 + "\n")  # another installation's key
    with pytest.raises(ShipError, match="IOC_BACKUP_KEY_FILE"):
        replay_shipped(settings)
    assert not settings.wal_dir.exists()
    settings.backup_key_path.unlink()  # no key at all: refused the same way
    with pytest.raises(ShipError, match="IOC_BACKUP_KEY_FILE"):
        replay_shipped(settings)
    assert not settings.wal_dir.exists()


def test_a_damaged_chunk_is_refused(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    wal = WriteAheadLog(settings.wal_dir)
    Shipper(wal, ship_dir(settings), Sealer.of(settings)).ship_once()
    wal.log(STREAM).append(frame(0))
    shipper = Shipper(wal, ship_dir(settings), Sealer.of(settings))
    shipper.ship_once()
    wal.close()
    shutil.rmtree(settings.wal_dir)
    (_s, _e, path), = chunks(ship_dir(settings) / STREAM)
    blob = bytearray(path.read_bytes())
    blob[-5] ^= 1
    path.write_bytes(bytes(blob))
    with pytest.raises(ShipError, match="damaged"):
        replay_shipped(settings)
    assert not settings.wal_dir.exists()


def test_the_server_ships_on_its_schedule_and_once_more_when_it_stops(tmp_path: Path) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from ioc_app.buffer_ship import start_shipping

    settings = settings_in(tmp_path)
    wal = WriteAheadLog(settings.wal_dir)
    scheduler = BackgroundScheduler()
    assert start_shipping(Settings(**{**settings.__dict__, "backup_ship_s": 0.0}), wal, scheduler) is None
    shipper = start_shipping(Settings(**{**settings.__dict__, "backup_ship_s": 60.0}), wal, scheduler)
    assert shipper is not None
    scheduler.start()
    wal.log(STREAM).append(frame(0))  # the next shipment is a minute away
    scheduler.shutdown(wait=True)
    shipped = chunks(ship_dir(settings) / STREAM)
    segment = settings.wal_dir / STREAM / f"{0:020d}.seg"
    assert len(shipped) == 1 and shipped[0][1] == segment.stat().st_size
    wal.close()


def test_restore_buffer_without_a_shipped_buffer_says_where_it_looked(tmp_path: Path) -> None:
    from tests.conftest import product_env, run_cli

    env = product_env(tmp_path, IOC_BACKUP_DIR=str(tmp_path / "offsite"))
    done = run_cli(env, "restore-buffer")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"ioc: no shipped buffer in {tmp_path / 'offsite' / 'buffer'}: give --from <backup dir>/buffer")
