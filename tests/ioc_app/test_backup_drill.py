"""The disaster drill: a day of demo traffic in the store, a full and an incremental backup
taken while a client keeps sending through the real ingest API, the write-ahead log shipped
to the backup directory as it grows — then the store and the buffer are destroyed and the
installation is restored from the newest backup plus the shipped buffer.

Every event acknowledged before the last backup's cut-off comes back from the backup alone;
with the shipped buffer, every acknowledged event comes back, each once, and the store's
counts and the snapshot (computed for one fixed moment) equal those before the loss.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ingest.gate import GATE_PASS
from tests.conftest import ROOT, Server, free_port, product_env, run_cli
from tests.ingest.strategies import random_events

DAY_MS = 86_400_000
SCALE = 0.2  # a campus day at a fifth of its traffic: ~58 k events
BATCH = 5_000
LIMIT_S = 600.0  # generous: the machine may be shared

#: runs in a process of its own (the embedded engine opens one store per process): the
#: number of rows of every event table, the drill's own ids, and the snapshot at argv[1]
MEASURE = """
import json, sys
from datetime import datetime
from ingest.registry import STREAMS
from ioc_app.app import core_for
from ioc_app.settings import load_settings
from ioc_app.storage import Store

settings = load_settings(dotenv=None)
store = Store(settings.clickhouse_url)
counts = {s.table: store.rows(f"SELECT count() FROM {s.table}")[0][0] for s in STREAMS}
drill = [r[0] for r in store.rows(
    "SELECT event_id FROM gate_pass WHERE event_id LIKE 'drill-%' ORDER BY event_id")]
# the gate rollups against the raw rows they are fed from (a materialized view each)
rollup = store.rows("SELECT (SELECT count() FROM gate_pass), (SELECT sum(attempts) FROM gate_pass_1m), "
                    "(SELECT sum(attempts) FROM gate_pass_1h), "
                    "(SELECT sum(attempts) FROM gate_pass_people_1h)")[0]
snap = core_for(settings, store, None).compute(datetime.fromisoformat(sys.argv[1]))
for key in ("generated_at", "compute_ms", "version", "backup"):
    snap.pop(key, None)
for entry in snap["freshness"].values():
    entry.pop("lag_s", None)
print(json.dumps({"counts": counts, "drill": drill, "rollup": list(rollup), "snapshot": snap},
                 default=str, sort_keys=True))
"""


def measure(env: dict[str, str], at: datetime) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", MEASURE, at.isoformat()], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=LIMIT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def post(port: int, token: str, stream: str, events: list[dict[str, Any]]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", f"/api/v1/ingest/{stream}", body=orjson.dumps(events),
                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        conn.close()


def send_until_accepted(port: int, token: str, stream: str, events: list[dict[str, Any]]) -> None:
    deadline = time.monotonic() + LIMIT_S
    while (status := post(port, token, stream, events)) != 200:
        assert status in (0, 429, 503) and time.monotonic() < deadline, (stream, status)
        time.sleep(0.2)


def demo_day(end: datetime) -> dict[str, list[dict[str, Any]]]:
    """The demo campus's last day as its systems send it (``ingest.sim``, as the demo fills
    its past), times in RFC 3339."""
    from zoneinfo import ZoneInfo

    from ingest.sim import Simulator, World
    from ingest.site import load_site
    from ioc_app.settings import DEFAULT_SITE

    world = World(load_site(DEFAULT_SITE), ZoneInfo("Asia/Shanghai"), seed=11, scale=SCALE)
    end_ms = int(end.timestamp() * 1000)
    day = Simulator(world).sent_between(end_ms - DAY_MS, end_ms)
    return {stream: [{**e, "ts": datetime.fromtimestamp(e["ts"] / 1000, UTC).isoformat()} for e in events]
            for stream, events in day.items()}


class Client(threading.Thread):
    """Keeps sending gate passes with the drill's own ids; remembers which were acknowledged
    (200) and when."""

    def __init__(self, port: int, token: str, now: datetime) -> None:
        super().__init__(daemon=True)
        self.port, self.token = port, token
        self.template = random_events(GATE_PASS, 40, 5, now)
        self.acked: list[tuple[float, list[str]]] = []  # (time.time() of the answer, ids)
        self.stopping = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        n = 0
        while not self.stopping.is_set():
            events = [{**e, "event_id": f"drill-{n:05d}-{i:02d}"} for i, e in enumerate(self.template)]
            status = post(self.port, self.token, "gate.pass", events)
            if status == 200:
                self.acked.append((time.time(), [e["event_id"] for e in events]))
                n += 1
            elif status not in (0, 429, 503):
                self.error = f"status {status}"
                return
            time.sleep(0.05)

    def wait_for(self, batches: int) -> None:
        deadline = time.monotonic() + LIMIT_S
        while len(self.acked) < batches:
            assert self.error is None and self.is_alive(), self.error
            assert time.monotonic() < deadline, f"only {len(self.acked)} batches acknowledged"
            time.sleep(0.1)

    def ids_before(self, moment: datetime) -> list[str]:
        return sorted(i for at, ids in self.acked if at < moment.timestamp() for i in ids)


def wait_shipped(wal_dir: Path, shipped: Path) -> None:
    """Until every stream's log is shipped to its end (no ingest runs by then)."""
    from ioc_app.buffer_ship import chunks

    deadline = time.monotonic() + LIMIT_S
    while True:
        behind = []
        for stream in (p for p in wal_dir.iterdir() if p.is_dir()):
            segs = sorted((int(p.stem), p) for p in stream.glob("*.seg"))
            end = segs[-1][0] + segs[-1][1].stat().st_size if segs else 0
            done = chunks(shipped / stream.name)
            if segs and end > (done[-1][1] if done else 0):
                behind.append(stream.name)
        if not behind:
            return
        assert time.monotonic() < deadline, f"not shipped: {behind}"
        time.sleep(0.2)


def start(env: dict[str, str]) -> Server:
    server = Server(env, free_port())
    server.wait_ready(LIMIT_S)
    return server


def restore(env: dict[str, str], backup: Path, tmp: Path, lose: list[Path]) -> None:
    """The server's disk is lost: its store and buffer are gone; restore the backup."""
    for path in lose:
        shutil.rmtree(path, ignore_errors=True)
    for aside in tmp.glob("*before-restore*"):
        shutil.rmtree(aside, ignore_errors=True)
    done = run_cli(env, "restore", "--from", str(backup), timeout=LIMIT_S)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_drill_restores_every_acknowledged_event_from_the_backup_and_the_shipped_buffer(
        tmp_path: Path) -> None:
    from ioc_app.backup import list_backups
    from ioc_app.settings import load_settings

    env = product_env(tmp_path, IOC_BACKUP_SHIP_S="1", IOC_BACKUP_EVERY_MIN="0",
                      IOC_BACKUP_DIR=str(tmp_path / "offsite"),
                      IOC_BACKUP_KEY_FILE=str(tmp_path / "keys" / "backup.key"))
    settings = load_settings(env, dotenv=None)
    root = settings.backup_root
    token = run_cli(env, "token", "create", "drill", "--streams", "*").stdout.strip()
    now = datetime.now(UTC)
    day = demo_day(now)

    server = start(env)
    client = Client(server.port, token, now)
    try:
        for stream, events in day.items():  # the day of demo traffic, through the ingest API
            for i in range(0, len(events), BATCH):
                send_until_accepted(server.port, token, stream, events[i:i + BATCH])
        server.wait_drained(LIMIT_S)
        client.start()
        client.wait_for(5)
        full = run_cli(env, "backup", timeout=LIMIT_S)  # the running server takes it
        assert full.returncode == 0, full.stdout + full.stderr
        client.wait_for(len(client.acked) + 5)
        incremental = run_cli(env, "backup", "--incremental", timeout=LIMIT_S)
        assert incremental.returncode == 0, incremental.stdout + incremental.stderr
        client.wait_for(len(client.acked) + 5)  # and more after the last cut-off
        client.stopping.set()
        client.join(60)
        assert client.error is None, client.error
        wait_shipped(settings.wal_dir, root / "buffer")
    finally:
        client.stopping.set()
        server.stop()

    taken = list_backups(root)
    assert [m.kind for m in taken] == ["full", "incremental"] and taken[1].base_id == taken[0].id
    newest = taken[-1]
    everything = client.ids_before(datetime.now(UTC))
    in_backup = client.ids_before(newest.cutoff)
    assert 0 < len(in_backup) < len(everything)
    at = datetime.now(UTC).replace(microsecond=0)
    before = measure(env, at)
    assert before["drill"] == everything
    assert len(set(before["rollup"])) == 1, before["rollup"]  # raw, minute, hour, people agree
    assert sum(before["counts"].values()) >= sum(len(v) for v in day.values()) // 2
    lost = [settings.wal_dir, Path(settings.clickhouse_url[len("chdb://"):])]
    quiet = {**env, "IOC_BACKUP_SHIP_S": "0"}  # nothing shipped over the shipped buffer meanwhile

    # the backup alone: every event acknowledged before its cut-off, each once
    restore(quiet, newest.path, tmp_path, lost)
    server = start(quiet)
    try:
        server.wait_drained(LIMIT_S)
    finally:
        server.stop()
    restored = measure(quiet, at)
    alone = restored["drill"]
    assert set(in_backup) <= set(alone) and len(alone) == len(set(alone))
    assert len(set(restored["rollup"])) == 1, restored["rollup"]  # the backup's tables agree
    assert set(alone) < set(everything)  # what came after the cut-off is not in it

    # the backup and the shipped buffer: everything, each once, counts and snapshot as before
    restore(quiet, newest.path, tmp_path, lost)
    replayed = run_cli(quiet, "restore-buffer", timeout=LIMIT_S)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    server = start(quiet)
    try:
        server.wait_drained(LIMIT_S)
    finally:
        server.stop()
    after = measure(quiet, at)
    assert after["drill"] == everything
    assert after["counts"] == before["counts"]
    assert after["rollup"] == before["rollup"], (after["rollup"], before["rollup"])
    assert after["snapshot"] == before["snapshot"]
