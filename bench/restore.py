"""How long a restore takes, against the standard's RTO of 15 minutes: a store of N gate
events (10,000,000 by default) is backed up (full, encrypted) and restored with the real
``restore`` command; backup time, backup size and restore time are measured at N and
extrapolated linearly to 100,000,000 events.

The store is filled by plain Arrow inserts of 100,000 rows with the rollups attached (the
writer's path without the buffer), which is also the baseline measured in the same run: a
restore is compared with filling the store again from the events. A second baseline is a plain
copy of the store's directory (the disk's own speed). The restore runs in a process of its
own, as an operator runs it (the embedded engine opens one store per process), so it includes
that process's start.

    .venv/bin/python bench/restore.py [--events 10000000] [--target-events 100000000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from bench.validate import make_events  # noqa: E402
from ingest.gate import GATE_PASS  # noqa: E402
from ingest.validate import validate  # noqa: E402
from ioc_app.backup import take_backup  # noqa: E402
from ioc_app.migrate import migrate  # noqa: E402
from ioc_app.settings import load_settings  # noqa: E402
from ioc_app.storage import Store  # noqa: E402

CHUNK = 100_000
RTO_S = 15 * 60
COUNT = """
from ioc_app.settings import load_settings
from ioc_app.storage import Store
print(Store(load_settings(dotenv=None).clickhouse_url).rows("SELECT count() FROM gate_pass")[0][0])
"""


def environment(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env.update({"IOC_CLICKHOUSE_URL": f"chdb://{work / 'clickhouse'}", "IOC_DEMO": "0",
                "IOC_TOKENS_FILE": str(work / "tokens.toml"), "IOC_BACKUP_DIR": str(work / "backups"),
                "PYTHONPATH": str(ROOT)})
    return env


def fill(store: Store, total: int) -> tuple[float, int]:
    """(seconds, rows): ``total`` distinct gate events over the last hours, inserted directly."""
    now = int(datetime.now(UTC).timestamp() * 1000)
    template = validate(GATE_PASS, make_events(CHUNK, now), source="bench").frame
    started = time.perf_counter()
    for k in range(total // CHUNK):
        store.insert("gate_pass", template.with_columns(
            pl.format("restore-{}-{}", pl.lit(k), pl.int_range(CHUNK)).alias("event_id")))
    return time.perf_counter() - started, total // CHUNK * CHUNK


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def fill_and_back_up(events: int) -> dict[str, float | int | str]:
    """In a process of its own (it keeps the store open until it ends): fill, then back up."""
    settings = load_settings(dotenv=None)
    store = Store(settings.clickhouse_url)
    migrate(store)
    fill_s, rows = fill(store, events)
    started = time.perf_counter()
    manifest = take_backup(settings, settings.backup_root / "full", store=store)
    backup_s = time.perf_counter() - started
    store.close()
    return {"fill_s": fill_s, "rows": rows, "backup_s": backup_s,
            "backup_bytes": sum(manifest.sizes.values()), "path": str(manifest.path)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--target-events", type=int, default=100_000_000)
    parser.add_argument("--fill-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fill_only:
        print(json.dumps(fill_and_back_up(args.events)))
        return 0
    with tempfile.TemporaryDirectory(prefix="ioc-restore-") as tmp:
        work = Path(tmp)
        env = environment(work)
        settings = load_settings(env, dotenv=None)
        done = subprocess.run([sys.executable, __file__, "--fill-only", "--events", str(args.events)],
                              env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"filling or backing up failed: {done.stderr.strip()[-2000:]}", file=sys.stderr)
            return 1
        got = json.loads(done.stdout.strip().splitlines()[-1])
        fill_s, rows, backup_s = float(got["fill_s"]), int(got["rows"]), float(got["backup_s"])
        backup_bytes = int(got["backup_bytes"])
        print(f"baseline: {rows:,} events inserted directly in {fill_s:.1f} s ({rows / fill_s:,.0f} rows/s)")
        store_dir = Path(settings.clickhouse_url[len("chdb://"):])
        store_bytes = size_of(store_dir)
        started = time.perf_counter()
        shutil.copytree(store_dir, work / "copy", ignore=shutil.ignore_patterns("*.lock"))
        copy_s = time.perf_counter() - started
        shutil.rmtree(work / "copy")
        print(f"baseline: the store ({store_bytes / 1e6:,.0f} MB on disk) copied in {copy_s:.1f} s")
        print(f"backup: full, {backup_bytes / 1e6:,.0f} MB ({backup_bytes / store_bytes:.2f}x the store) "
              f"in {backup_s:.1f} s ({backup_s / copy_s:.1f}x the copy)")

        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "ioc_app", "restore", "--from", str(got["path"])],
                              env=env, cwd=ROOT, capture_output=True, text=True)
        restore_s = time.perf_counter() - started
        if done.returncode != 0:
            print(f"restore failed: {done.stderr.strip()[-2000:]}", file=sys.stderr)
            return 1
        counted = subprocess.run([sys.executable, "-c", COUNT], env=env, cwd=ROOT, capture_output=True,
                                 text=True)
        stored = int(counted.stdout.strip().splitlines()[-1]) if counted.returncode == 0 else -1
        print(f"restore: {rows:,} events in {restore_s:.1f} s ({rows / restore_s:,.0f} rows/s; "
              f"{restore_s / fill_s:.2f}x inserting them again, {restore_s / copy_s:.1f}x the copy); "
              f"stored after restore {stored:,}")
        scale = args.target_events / rows
        print(f"at {args.target_events:,} events (linear): backup {backup_s * scale / 60:.1f} min, "
              f"{backup_bytes * scale / 1e9:.1f} GB; restore {restore_s * scale / 60:.1f} min against the "
              f"RTO of {RTO_S // 60} min ({restore_s * scale / RTO_S:.2f}x the RTO: "
              f"{'within' if restore_s * scale <= RTO_S else 'beyond'} it)")
        return 0 if stored == rows else 1


if __name__ == "__main__":
    raise SystemExit(main())
